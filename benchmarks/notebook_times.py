"""How long a learner waits: every notebook, run top to bottom, timed cell by cell (`make bench`).

``python benchmarks/notebook_times.py [--modes default,quick] [--cpus all,one] [NAME ...]``

Each notebook runs in a fresh kernel through ``tests/notebook_runner.py`` (the runner the notebook
tests use), in default and quick mode (``FITSCOPE_QUICK``), on all CPUs and confined to one
(``taskset -c 0``). Cell times come from the executed notebook: nbclient records when each cell
started and when its reply came. The table puts each goal beside the measured figure:

- default mode, all CPUs: no cell over 15 s, the notebook under 120 s;
- default mode, one CPU (Binder's shape): the notebook under 180 s;
- quick mode: the notebook under 60 s.

Each executed notebook is also read by ``fitscope.verdicts.consistency`` (every reading follows
from its numbers): the tests do that in quick mode, this is where default mode gets it. With
``--keep DIR`` the executed notebooks are kept there.

A figure, not a test: the machine may be shared and noisy, so read a miss against the load.
Rows also go to ``artefacts/notebook_times.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from fitscope.verdicts import consistency

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "notebook_runner.py"
OUT = ROOT / "artefacts" / "notebook_times.json"
CELL_GOAL_S = 15.0
RUN_LIMIT_S = 1800.0
NOTEBOOK_GOAL_S = {
    ("default", "all"): 120.0,
    ("default", "one"): 180.0,
    ("quick", "all"): 60.0,
    ("quick", "one"): 60.0,
}
CPU_PREFIX = {"all": [], "one": ["taskset", "-c", "0"]}


@dataclass
class Timing:
    """One notebook run: its total, its slowest cell, and the goals beside them."""

    notebook: str
    mode: str
    cpus: str
    total_s: float
    slowest_cell_s: float
    slowest_cell: str
    cells_over_goal: int
    ok: bool
    readings_off: list[str]  # readings that say more than their numbers (consistency check)

    @property
    def notebook_goal_s(self) -> float:
        return NOTEBOOK_GOAL_S[(self.mode, self.cpus)]

    @property
    def met(self) -> bool:
        cells_ok = self.cells_over_goal == 0 or (self.mode, self.cpus) != ("default", "all")
        return (
            self.ok and self.total_s <= self.notebook_goal_s and cells_ok and not self.readings_off
        )


def cell_seconds(cell: nbformat.NotebookNode) -> float | None:
    """Seconds from a cell's start to its reply, from nbclient's timing metadata.

    >>> cell = nbformat.v4.new_code_cell("pass")
    >>> cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000000Z",
    ...                               "shell.execute_reply": "2026-01-01T00:00:02.500000Z"}
    >>> cell_seconds(cell)
    2.5
    """
    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(end) - parse(start)).total_seconds(), 2)


def time_notebook(name: str, mode: str, cpus: str, keep: Path | None = None) -> Timing:
    """Run one notebook under one mode and CPU set; read its cell times and check its
    readings."""
    env = {**os.environ, "FITSCOPE_QUICK": "1" if mode == "quick" else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        # Its own session, so a run past the limit goes with its kernel and every process under it.
        run = subprocess.Popen(
            [
                *CPU_PREFIX[cpus],
                sys.executable,
                str(RUNNER),
                str(ROOT / "notebooks" / name),
                str(out),
                tmp,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            returncode = run.wait(timeout=RUN_LIMIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            return Timing(
                name, mode, cpus, RUN_LIMIT_S, 0.0, "(stopped at the time limit)", 0, False, []
            )
        if not out.exists():
            return Timing(
                name, mode, cpus, 0.0, 0.0, "(the runner wrote no notebook)", 0, False, []
            )
        nb = nbformat.read(out, as_version=4)
        off = [f"{p.where}: {p.what}" for p in consistency.check_notebook(out)]
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, keep / f"{Path(name).stem}-{mode}-{cpus}.ipynb")
    cells = [
        (cell_seconds(c), c.source.splitlines()[0] if c.source else "")
        for c in nb.cells[:-1]
        if c.cell_type == "code"
    ]  # the runner's own KERNEL line is last
    timed = [(s, src) for s, src in cells if s is not None]
    slowest_s, slowest_src = max(timed, default=(0.0, ""))
    return Timing(
        name,
        mode,
        cpus,
        nb.metadata.get("fitscope_run_s", 0.0),
        slowest_s,
        slowest_src[:60],
        sum(s > CELL_GOAL_S for s, _ in timed),
        returncode == 0,
        off,
    )


def table(rows: list[Timing]) -> str:
    """The timing table, goals beside the figures."""
    head = (
        f"{'notebook':<34}{'mode':<9}{'CPUs':<6}{'total s':>9}{'goal':>7}  {'slowest cell s':>14}"
        f"{'> 15 s':>8}{'off':>5}  met  slowest cell"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.notebook:<34}{r.mode:<9}{r.cpus:<6}{r.total_s:>9.1f}{r.notebook_goal_s:>7.0f}  "
            f"{r.slowest_cell_s:>14.1f}{r.cells_over_goal:>8}{len(r.readings_off):>5}  "
            f"{'yes' if r.met else 'NO ':<4} "
            f"{r.slowest_cell}{'' if r.ok else '  (the run failed)'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: all)")
    parser.add_argument("--modes", default="default,quick")
    parser.add_argument("--cpus", default="all,one")
    parser.add_argument("--keep", type=Path, help="keep the executed notebooks in this folder")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    rows = []
    for mode in args.modes.split(","):
        for cpus in args.cpus.split(","):
            for name in names:
                rows.append(time_notebook(name, mode, cpus, args.keep))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    print("\n" + table(rows))
    for r in rows:
        for problem in r.readings_off:
            print(f"reading off ({r.mode}, {r.cpus} CPUs): {problem}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(
        json.dumps(
            [{**asdict(r), "goal_s": r.notebook_goal_s, "met": r.met} for r in rows], indent=2
        )
    )
    print(f"\nwritten to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
