"""Stress check for the reply stall (docs/troubleshooting.md): execute notebooks again and again.

``python benchmarks/stall_stress.py --notebook notebooks/01b_which_backend.ipynb --runs 20
--client fixed`` executes the notebook RUNS times in quick mode with nbclient (what
``jupyter nbconvert --execute`` runs), one run at a time, and prints one JSON line per run: its
seconds, and each stall (a pending cell, no IOPub message for ``--quiet`` s, the kernel and its
children idle), with which side held the message and which nudge woke it. ``--client plain`` is
nbclient as released (no fix; the watch only observes and nudges, so a stall costs ``--quiet``
seconds instead of the cell timeout); ``--client fixed`` adds the fix,
:func:`fitscope.execute.rewake_after_send`. The last line sums it up. Not part of ``make test``:
a run of 01b takes about 35 s.

The JupyterLab path (what a learner and the browser test use) is stressed by the browser test
itself: ``FITSCOPE_BROWSER_REPEAT=10 FITSCOPE_QUICK=1 .venv/bin/python -m pytest
tests/test_browser.py -k "run_all and 00_start"`` runs notebook 00 ten times in a fresh kernel
each, and fails a run as a stall when a cell stays pending with the kernel idle for 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "helpers"))
os.environ.setdefault("FITSCOPE_QUICK", "1")


def one_run(
    notebook: Path, client_kind: str, quiet_s: float, cell_timeout_s: int
) -> dict[str, Any]:
    """Execute ``notebook`` once; return its seconds, stalls and error (if any)."""
    import nbformat

    from fitscope.execute import WatchedClient  # type: ignore[attr-defined]

    nb = nbformat.read(notebook, as_version=4)
    cwd = tempfile.TemporaryDirectory(prefix="stall-stress-")  # what a run writes goes there
    client = WatchedClient(
        nb,
        timeout=cell_timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": cwd.name}},
    )
    client.rewake_sends = client_kind == "fixed"
    client.stall_watch_options = {"quiet_s": quiet_s, "on_stall": "nudge"}
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as e:  # noqa: BLE001 - a failed run is reported, not fatal to the stress
        error = f"{type(e).__name__}: {str(e).splitlines()[-1][:300] if str(e) else ''}"
    cwd.cleanup()
    watch = getattr(client, "stall_watch", None)
    return {
        "notebook": notebook.name,
        "client": client_kind,
        "run_s": round(time.perf_counter() - started, 1),
        "stalls": watch.stalls if watch else [],
        "late_replies_s": watch.late_replies_s if watch else [],
        "error": error,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--client", choices=("plain", "fixed"), default="fixed")
    ap.add_argument("--quiet", type=float, default=10.0, help="seconds of silence that count")
    ap.add_argument("--cell-timeout", type=int, default=120)
    ap.add_argument("--log", type=Path, help="also append the JSON lines to this file")
    args = ap.parse_args(argv)
    runs = []
    for i in range(args.runs):
        r = {
            "run": i + 1,
            **one_run(args.notebook.resolve(), args.client, args.quiet, args.cell_timeout),
        }
        runs.append(r)
        line = json.dumps(r)
        print(line, flush=True)
        if args.log:
            with args.log.open("a") as f:
                f.write(line + "\n")
    stalled = [r for r in runs if r["stalls"]]
    summary = {
        "summary": True,
        "notebook": args.notebook.name,
        "client": args.client,
        "runs": len(runs),
        "runs_with_a_stall": len(stalled),
        "stalls": sum(len(r["stalls"]) for r in runs),
        "runs_with_a_late_reply": sum(bool(r["late_replies_s"]) for r in runs),
        "errors": sum(r["error"] is not None for r in runs),
        "median_run_s": sorted(r["run_s"] for r in runs)[len(runs) // 2] if runs else None,
    }
    print(json.dumps(summary), flush=True)
    if args.log:
        with args.log.open("a") as f:
            f.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
