"""Notebook 02's right ways: worker processes make the data, the main process trains.

Two ways, each a script that notebook 02 writes in a ``%%writefile`` cell and the sandbox runs
with the same producer and train costs: ``fit`` on a Keras ``PyDataset`` with worker processes
(``pydataset_trainer.py``, :func:`pydataset_trainer`), and a bounded ``multiprocessing.Queue`` fed
by worker processes with a clean shutdown (``queue_trainer.py``, :func:`queue_trainer`). With no
file given, a function reads its cell's text from the notebook. Each run is measured against the
ideal overlap bound (:func:`fitscope.instrument.budget.bounds`) from costs measured alone in the
same process. Runs already measured, put together (:class:`RightWays`), show themselves as a
chart against the bound with a table of their numbers.

Example:
    >>> RightWayParams(steps=60).start_method
    'forkserver'
    >>> queue = queue_trainer(script="queue_trainer.py")           # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from fitscope.instrument.bounds import bounds
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import environment_facts, quick_mode
from fitscope.instrument.errors import check_choice, check_int, check_positive
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.isolation import TENSORFLOW, Limits, ProcessRecorder, run_python, sandbox_facts
from fitscope.isolation.scripts import script_file
from fitscope.show.against import run_reading
from fitscope.verdicts.compare import Fastest, fastest
from fitscope.workloads.article import WORK_KINDS

__all__ = [
    "RIGHT_WAY_METHODS",
    "RightWayParams",
    "RightWayRun",
    "RightWays",
    "queue_trainer",
    "pydataset_trainer",
]

RIGHT_WAY_METHODS = ("spawn", "forkserver")  # the right ways never fork a process that runs TF


def _safety_net() -> Limits:
    """A right way ends by itself; its limits are only a safety net, so they are generous (the
    PyDataset way runs three TensorFlow processes: the trainer and two workers)."""
    return Limits.default(timeout_s=60.0, memory_cap_mb=1200.0)


NOTEBOOK = "02_multiprocessing_trainer.ipynb"


@dataclasses.dataclass(frozen=True)
class RightWayParams:
    """A producer cost and a train cost shared by both right ways, validated on construction."""

    kind: str = "python"
    ms_per_batch: float = 2.0
    width: int = 0
    batch_size: int = 32
    steps: int = 200
    workers: int = 2
    start_method: str = "forkserver"

    def __post_init__(self) -> None:
        check_choice("producer work", self.kind, WORK_KINDS)
        if self.ms_per_batch != 0:
            check_positive("ms per batch", self.ms_per_batch, maximum=1000)
        for name, value, low, high in (
            ("model width", self.width, 0, 4096),
            ("batch size", self.batch_size, 1, 8192),
            ("steps", self.steps, 3, 100_000),
            ("workers", self.workers, 1, 8),
        ):
            check_int(name, value, low, high)
        check_choice("start method", self.start_method, RIGHT_WAY_METHODS)

    @classmethod
    def default(cls, **overrides: Any) -> RightWayParams:
        """Sized for the mode: enough steps that the steady state outweighs the start."""
        return cls(**{"steps": 80 if quick_mode() else 200, **overrides})


class RightWayRun(RunResult):
    """One right-way run: steps/s against its bounds, how its workers ended, its tree's memory."""

    def __str__(self) -> str:
        f = self.facts
        memory = (
            "peak memory not measured"
            if f.get("peak_memory_mb") is None
            else f"peak memory (PSS) of its process tree {f['peak_memory_mb']:.0f} MB"
        )
        if self.bound_steps_per_s is None:
            return (
                f"{self.name}: did not finish ({f.get('why_not', 'no steps measured')}); {memory}."
            )
        bound, sequential = self.bound_steps_per_s
        reading = run_reading(self)
        where = f" ({reading.where()})" if reading is not None else ""
        return (
            f"{self.name}: {self.throughput.steps_per_s:.0f} steps/s; ideal bound {bound:.0f}, "
            f"no overlap {sequential:.0f}{where}; {memory}."
        )

    def must_hold(self) -> Checks:
        """What holds on any machine for a bounded-queue run: a clean shutdown, a bounded backlog,
        and weights changed by the process that trains."""
        f = self.facts
        return Checks(
            [
                ("every worker exited with code 0", set(f["worker_exit_codes"]) == {0}),
                ("no process survived the sandbox", f["survivors"] == []),
                ("the backlog never passed the queue's size", f["max_backlog"] <= f["maxsize"]),
                ("the main process's weights changed", f["weights_changed"]),
            ]
        )

    def table(self) -> Table:
        f = self.facts
        rows = [
            ("steps/s", self.throughput.steps_per_s),
            ("ideal bound, no overlap (steps/s)", self.bound_steps_per_s or "not measured"),
        ]
        if "worker_exit_codes" in f:
            rows += [
                ("batches each worker made", f["worker_batches"]),
                ("workers' exit codes", f["worker_exit_codes"]),
                ("largest backlog / queue size", f"{f['max_backlog']} / {f['maxsize']}"),
                (
                    "main process's weights",
                    f"{f['checksum_before'][:12]} → {f['checksum_after'][:12]}",
                ),
            ]
        rows += [
            (
                "left behind / survivors",
                f"{len(f.get('leftovers_removed', []))} / {len(f.get('survivors', []))}",
            )
        ]
        return Table(("measured", self.name), rows, reading=str(self))


class RightWays(ShowsItself, dict):
    """Right-way runs by name: a chart of each against its ideal bound, then their numbers."""

    def chart(self) -> Any:
        from fitscope.show.charts import Chart, comparison

        done = [r for r in self.values() if r.throughput.steps and r.bounds]
        chart = comparison(
            [
                (r.name, r.throughput.elapsed_s, r.bounds.overlapped_s, r.bounds.sequential_s)
                for r in done
            ],
            title="Right ways against their bounds",
            readings=[run_reading(r) for r in done],
        )
        if missing := [r.name for r in self.values() if r not in done]:
            chart = Chart(
                chart.figure, chart.summary + " Did not finish: " + "; ".join(missing) + "."
            )
        return chart

    def costs(self) -> dict[str, float]:
        """Each finished run's own cost per step, one after the other (seconds); the ways train
        the same work, so a gap between them says the runs measured it differently (its cause is
        not measured here)."""
        return {
            n: r.bounds.sequential_s / r.throughput.steps
            for n, r in self.items()
            if r.throughput.steps and r.bounds and r.bounds.sequential_s > 0
        }

    def fastest(self) -> Fastest | None:
        """Which way trained fastest (steps/s), by the one rule
        (:func:`~fitscope.verdicts.compare.fastest`, given each run's own cost per step); None
        with fewer than two runs that finished."""
        done = {n: [r.throughput.steps_per_s] for n, r in self.items() if r.throughput.steps}
        if len(done) < 2:
            return None
        return fastest(done, "steps/s", costs=self.costs())

    def table(self) -> Table:
        best = self.fastest()
        return Table(
            ("right way", "measured"),
            [(name, str(r)) for name, r in self.items()],
            reading=self.chart().summary + (f" {best.sentence}." if best else ""),
        )

    def _repr_html_(self) -> str:
        return Stack([self.chart(), self.table()])._repr_html_()


def queue_trainer(
    params: RightWayParams | None = None,
    *,
    script: str | Path | None = None,
    limits: Limits | None = None,
    maxsize: int = 8,
    **overrides: Any,
) -> RightWayRun:
    """Worker processes fill a bounded queue; the main process trains; a clean shutdown.

    ``script`` is the file notebook 02's cell wrote (``queue_trainer.py``); with None, that cell's
    text is read from the notebook.

    Measured: throughput of the main process's steps against the bound, its weight checksum
    before and after, the workers' exit codes, the largest backlog (never above ``maxsize``),
    what the sandbox had to clean up. Training stops early at 80% of the watchdog.
    """
    p = params or RightWayParams.default(**overrides)
    check_int("queue size", maxsize, 1, 10_000)
    limits = limits or _safety_net()
    args = [
        "--start-method",
        p.start_method,
        "--workers",
        p.workers,
        "--steps",
        p.steps,
        "--batch-size",
        p.batch_size,
        "--kind",
        p.kind,
        "--ms",
        p.ms_per_batch,
        "--width",
        p.width,
        "--maxsize",
        maxsize,
        "--seconds",
        limits.timeout_s * 0.8,
    ]
    rec = ProcessRecorder()
    with script_file(script, NOTEBOOK, "queue_trainer.py") as path:
        run = run_python(
            path,
            args=[str(a) for a in args],
            timeout_s=limits.timeout_s,
            memory_cap_mb=limits.memory_cap_mb,
            on_poll=rec,
            preload=TENSORFLOW,
        )
    costs = next((m for m in run.messages if m.get("event") == "costs"), None)
    done = next((m for m in run.messages if m.get("event") == "done"), None)
    budget = cpu_budget()
    result = RightWayRun(
        name=f"bounded queue, {p.workers} worker process(es) ({p.start_method})",
        params={**dataclasses.asdict(p), "maxsize": maxsize},
        budget=budget,
        outcomes=run.outcomes,
        environment=environment_facts(),
    )
    result.facts = {"way": "bounded queue", **sandbox_facts(run, limits, rec)}
    if done is None or costs is None:
        result.facts.update(
            finished=False, why_not=run.exceptions[-1][1] if run.exceptions else run.root.how
        )
        return result
    ends = done["step_ends_ns"]
    if (n := len(ends) - 1) > 0:
        result.throughput = throughput_from_ends(ends[1:], p.batch_size, ends[0])
        result.bounds = bounds(
            n * costs["t_p1"],
            n * costs["t_c1"],
            p.workers,
            budget.cpus,
            n * costs["cpu_p1"],
            n * costs["cpu_c1"],
        )
    result.facts.update(
        finished=True,
        steps=len(ends),
        checksum_before=done["checksum_before"],
        checksum_after=done["checksum"],
        weights_changed=done["checksum"] != done["checksum_before"],
        worker_exit_codes=done["worker_exit_codes"],
        stopped_early=done["stopped_early"],
        max_backlog=max(
            (m["backlog"] for m in run.messages if m.get("backlog") is not None), default=0
        ),
        maxsize=maxsize,
        worker_batches=[m["batches"] for m in run.messages if m.get("done")],
        costs_per_step={k: costs[k] for k in ("t_p1", "cpu_p1", "t_c1", "cpu_c1")},
        measured_s=result.throughput.elapsed_s,
    )
    return result


def pydataset_trainer(
    params: RightWayParams | None = None,
    *,
    script: str | Path | None = None,
    limits: Limits | None = None,
    **overrides: Any,
) -> RightWayRun:
    """``fit`` on a PyDataset with ``use_multiprocessing=True``, run in the sandbox (the kernel is
    never forked), with the same costs as :func:`queue_trainer`.

    ``script`` is the file notebook 02's cell wrote (``pydataset_trainer.py``; with None, that
    cell's text is read from the notebook): it traces its ``fit`` with
    :func:`~fitscope.experiments.traced.traced_fit` and saves the result where ``--out`` says.

    Example:
        >>> pydataset_trainer(script="pydataset_trainer.py", steps=20)  # doctest: +SKIP
    """
    p = params or RightWayParams.default(**overrides)
    limits = limits or _safety_net()
    name = f"PyDataset, {p.workers} worker process(es) ({p.start_method})"
    rec = ProcessRecorder()
    with (
        tempfile.TemporaryDirectory(prefix="fitscope-pydataset-") as tmp,
        script_file(script, NOTEBOOK, "pydataset_trainer.py") as path,
    ):
        out = os.path.join(tmp, "result.json")
        args = {
            "start-method": p.start_method,
            "workers": p.workers,
            "steps": p.steps,
            "kind": p.kind,
            "ms": p.ms_per_batch,
            "width": p.width,
            "seconds": limits.timeout_s * 0.8,
            "out": out,
        }
        run = run_python(
            path,
            args=[part for k, v in args.items() for part in (f"--{k}", str(v))],
            timeout_s=limits.timeout_s,
            memory_cap_mb=limits.memory_cap_mb,
            on_poll=rec,
            preload=TENSORFLOW,
        )
        facts = {"way": "PyDataset", **sandbox_facts(run, limits, rec)}
        if not os.path.exists(out):  # the sandboxed run ended without a result: say so
            why = run.exceptions[-1][1] if run.exceptions else run.root.how
            return RightWayRun(
                name=name,
                params=dataclasses.asdict(p),
                budget=cpu_budget(),
                outcomes=run.outcomes,
                facts={**facts, "finished": False, "why_not": why},
            )
        with open(out) as f:
            result = RunResult.from_dict(json.load(f))
    return RightWayRun(
        **{
            **vars(result),
            "name": name,
            "params": dataclasses.asdict(p),
            "outcomes": run.outcomes,
            "facts": {**result.facts, **facts, "finished": True},
        }
    )
