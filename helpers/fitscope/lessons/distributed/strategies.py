"""Notebook 04's distribution strategies, each in sandboxed interpreters of its own.

A distribution strategy and logical devices are fixed per process, so the learner's kernel never
even imports TensorFlow here: each function runs a script that notebook 04 writes in a
``%%writefile`` cell (``multiworker.py``, ``mirrored.py``), given by its path, or with none given,
that cell's text read from the notebook. Every run has a wall-clock watchdog and a memory cap;
its processes are all stopped and checked gone. Each result shows itself as a table with its
reading.

- :func:`multiworker_training`: ``MultiWorkerMirroredStrategy`` with N worker processes on
  localhost (custom loop, or ``model.fit`` to show keras-team/keras#20585 as measured); the
  workers' weight checksums decide claim C9 (:meth:`MultiWorkerRun.verdict`).
- :func:`mirrored_training`: ``MirroredStrategy`` over N logical CPU devices against one device
  (:mod:`~fitscope.lessons.distributed.mirrored`, importable from here).

Example:
    >>> MultiWorkerParams(steps=10).workers
    2
    >>> r = multiworker_training(script="multiworker.py", steps=10)  # doctest: +SKIP
    >>> r.verdict().verdict                              # doctest: +SKIP
    'DOES NOT HOLD'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitscope import verdicts
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import environment_facts, quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice, check_int, check_positive
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Table
from fitscope.isolation import Progress, launcher_outcomes, run_python, sandbox_facts
from fitscope.isolation.scripts import script_file
from fitscope.lessons.distributed.mirrored import NOTEBOOK, MirroredRun, mirrored_training
from fitscope.verdicts import evidence

__all__ = [
    "MultiWorkerParams",
    "MultiWorkerRun",
    "multiworker_training",
    "multiworker_panel",
    "MirroredRun",
    "mirrored_training",
]


class MultiWorkerRun(RunResult):
    """A multi-worker run: the workers' seeds and checksums side by side, and claim C9."""

    def __str__(self) -> str:
        f = self.facts
        if f["error"]:
            return f"{self.name}: the workers failed with {f['error'][:160]}" + (
                f", raised in {' → '.join(f['error_frames'])}." if f["error_frames"] else "."
            )
        if f["stopped_by"]:
            return (
                f"{self.name}: stopped by the {f['stopped_by']} after {f['wall_s']:.1f} s; "
                f"{f['trained']} of {f['started']} workers finished training."
            )
        return (
            f"{self.name}: {f['trained']} of {f['workers']} workers trained in {f['wall_s']:.1f} "
            "s; "
            f"own-seed weights {'differ' if f['seeds_differ'] else 'agree'}, start weights in the "
            f"strategy {'identical' if f['initial_identical'] else 'differ'}, final weights "
            f"{'identical' if f['identical'] else 'differ'}; peak memory of the tree "
            f"{f['peak_memory_bytes'] / 2**20:.0f} MiB."
        )

    def table(self) -> Table:
        rows = [
            (
                w["index"],
                w.get("seed", "?"),
                *(
                    w.get(k, "-")[:12]
                    for k in ("own_seed_checksum", "initial_checksum", "final_checksum")
                ),
                f"{w['last_event']} at {w['last_event_s']:.1f} s",
                w["how"],
            )
            for w in self.facts["per_worker"]
        ]
        return Table(
            (
                "worker",
                "seed",
                "own-seed weights",
                "start (in strategy)",
                "after training",
                "last said",
                "ended",
            ),
            rows,
            reading=str(self),
            title=self.name,
        )

    def must_hold(self) -> Checks:
        """What holds on any machine: no survivor; a missing peer ends at the watchdog with no
        weights; a custom loop ends with byte-identical weights, changed by training."""
        f = self.facts
        checks = [("no process of the run survived", f["survivors"] == [])]
        if f["started"] < f["workers"]:
            checks += [
                ("the watchdog stopped the run", f["stopped_by"] == "watchdog"),
                ("no worker finished training", f["checksums"] == []),
            ]
        elif f["loop"] == "custom":
            checks += [
                ("each worker's own seed gives different weights", f["seeds_differ"]),
                ("the workers' weights are byte-identical after training", f["identical"]),
                ("training changed the weights", f["changed_by_training"]),
            ]
        return Checks(checks)

    def compare(self, other: MultiWorkerRun) -> Table:
        """This run's final weights against another's, worker by worker."""
        rows = [
            (r.name + f", seeds {r.facts['seeds']}", *(c[:12] for c in r.facts["checksums"]))
            for r in (self, other)
        ]
        same = self.facts["checksums"] == other.facts["checksums"]
        return Table(
            ("run", *(f"worker {i} after training" for i in range(len(rows[0]) - 1))),
            rows,
            reading="The two runs ended with "
            + ("identical" if same else "different")
            + " final weights.",
        )

    def verdict(self, keep_as: str | None = None) -> verdicts.Verdict:
        """C9 from the workers' final weight checksums; ``keep_as`` (e.g. "notebook 04") also keeps
        it as this machine's evidence for the scorecard (:mod:`fitscope.verdicts.evidence`)."""
        v = verdicts.c9(self.facts["checksums"])
        if keep_as:
            evidence.keep("distributed", verdicts.Scorecard([v]), keep_as)
        return v


@dataclass(frozen=True)
class MultiWorkerParams:
    """The workload of :func:`multiworker_training`, validated on construction.

    ``start`` workers are started of the ``workers`` the cluster lists (fewer: a peer is missing).
    ``loop`` is "custom" (a custom training loop) or "fit" (plain Keras ``model.fit``).
    """

    workers: int = 2
    steps: int = 40
    per_worker_batch: int = 32
    seeds: str = "different"
    loop: str = "custom"
    start: int | None = None
    collective_timeout_s: float = 30.0
    timeout_s: float = 90.0
    memory_cap_mb: float = 1800.0

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("workers", self.workers, 2, 3),
            ("steps", self.steps, 1, 100_000),
            ("per-worker batch", self.per_worker_batch, 1, 4096),
        ):
            check_int(name, value, low, high)
        check_choice("seeds", self.seeds, ("different", "same"))
        check_choice("loop", self.loop, ("custom", "fit"))
        if self.start is not None:
            check_int("workers started", self.start, 1, self.workers)
        check_positive("collective timeout (s)", self.collective_timeout_s, maximum=3600)
        check_positive("watchdog timeout (s)", self.timeout_s, maximum=3600)
        check_positive("memory cap (MB)", self.memory_cap_mb, maximum=64_000)

    @classmethod
    def default(cls, **overrides: Any) -> MultiWorkerParams:
        """Defaults sized for the mode: quick mode (CI) shrinks steps, never the logic."""
        return cls(**{"steps": 20 if quick_mode() else 40, **overrides})


def multiworker_training(
    params: MultiWorkerParams | None = None,
    *,
    script: str | Path | None = None,
    on_poll: Callable[[Progress], None] | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> MultiWorkerRun:
    """Train one model with MultiWorkerMirroredStrategy in ``workers`` processes on localhost.

    One sandbox runs a launcher that picks free ports, gives each worker its TF_CONFIG (RING
    collectives with ``collective_timeout_s``) and starts it as a child; the watchdog covers the
    whole tree, including a strategy constructor waiting silently for a peer that never comes.
    Facts: per worker its seed, weight checksums (own seed outside the strategy, after creation
    in its scope, after training), losses, error text if training failed; ``checksums`` (final,
    workers that finished) and ``identical``. ``env`` is added to every process's environment
    (e.g. ``{"TF_NUM_INTRAOP_THREADS": "1"}``, read by TensorFlow at import). ``script`` is the
    file notebook 04's cell wrote (``multiworker.py``); with None, that cell's text.
    """
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    p = params or MultiWorkerParams.default(**overrides)
    start = p.workers if p.start is None else p.start
    args = [
        "launch",
        "--workers",
        p.workers,
        "--start",
        start,
        "--steps",
        p.steps,
        "--batch",
        p.per_worker_batch,
        "--seeds",
        p.seeds,
        "--loop",
        p.loop,
        "--collective-timeout",
        p.collective_timeout_s,
    ]
    with script_file(script, NOTEBOOK, "multiworker.py") as path:
        r = run_python(
            path,
            args=[str(a) for a in args],
            env=env,
            timeout_s=p.timeout_s,
            memory_cap_mb=p.memory_cap_mb,
            on_poll=on_poll,
        )
    per_worker: dict[int, dict[str, Any]] = {i: {"index": i, "events": []} for i in range(start)}
    for m in r.messages:
        if "index" in m and m["index"] in per_worker:
            w = per_worker[m["index"]]
            w["events"].append((m["event"], m["t"] - r.started_at))
            w.update({k: v for k, v in m.items() if k not in ("event", "t", "index")})
    outcomes = {o.pid: o for o in launcher_outcomes(r)}  # the sandbox's cause wins over a signal
    ended = {m["name"]: m for m in r.messages if m.get("event") == "child ended"}
    launched: dict[str, Any] = next((m for m in r.messages if m.get("event") == "launched"), {})
    for i, w in per_worker.items():
        w["worker_pid"] = launched.get("child_pids", [None] * start)[i]
        seen = outcomes.get(w["worker_pid"])
        w["how"] = (
            seen.how
            if seen
            else ended.get(f"worker {i}", {}).get(
                "how", f"killed by {r.stopped_by}" if r.stopped_by else "unknown"
            )
        )
        w["last_event"], w["last_event_s"] = w["events"][-1] if w["events"] else ("none", 0.0)
        w.pop("pid", None)
    workers = [per_worker[i] for i in sorted(per_worker)]
    checksums = [w["final_checksum"] for w in workers if "final_checksum" in w]
    errors = [w["error"] for w in workers if "error" in w]
    facts = {
        **sandbox_facts(r),  # first: "started" below is the workers started, not how the run began
        "workers": p.workers,
        "started": start,
        "loop": p.loop,
        "seeds": p.seeds,
        "per_worker": workers,
        "checksums": checksums,
        "identical": len(checksums) == start and len(set(checksums)) == 1,
        "seeds_differ": len({w.get("own_seed_checksum") for w in workers}) == len(workers),
        "initial_identical": len({w.get("initial_checksum") for w in workers}) == 1,
        "changed_by_training": all(
            w.get("final_checksum") not in (None, w.get("initial_checksum")) for w in workers
        ),
        "trained": len(checksums),
        "error": errors[0] if errors else None,
        "error_frames": next((w["keras_frames"] for w in workers if "keras_frames" in w), []),
        "silent_s": (r.wall_s - max((w["last_event_s"] for w in workers), default=0.0)),
    }
    name = (
        f"MultiWorkerMirroredStrategy, {start} of {p.workers} workers, "
        f"{'custom loop' if p.loop == 'custom' else 'model.fit'}"
    )
    return MultiWorkerRun(
        name=name,
        params={**dataclasses.asdict(p), "env": env or {}},
        outcomes=list(outcomes.values()),
        budget=cpu_budget(),
        facts=facts,
        environment=environment_facts(),
    )


def multiworker_panel(time_budget_s: float | None = None, script: str | Path | None = None) -> Any:
    """An ExperimentPanel around :func:`multiworker_training` of ``script``: workers, steps,
    batch, seeds, loop."""
    from fitscope.show.live import WorkerProgress
    from fitscope.show.panels import Control, ExperimentPanel
    from fitscope.show.process_charts import loss_by_worker

    d = MultiWorkerParams.default()

    def run(live: WorkerProgress, time_budget_s: float, **values: Any) -> RunResult:
        return multiworker_training(
            MultiWorkerParams(**values, timeout_s=time_budget_s),
            script=script,
            on_poll=live.on_poll,
        )

    return ExperimentPanel(
        "MultiWorkerMirroredStrategy on localhost",
        [
            Control("workers", "workers (2 or 3)", d.workers),
            Control("steps", "steps", d.steps),
            Control("per_worker_batch", "per-worker batch", d.per_worker_batch),
            Control("seeds", "seeds", d.seeds, "choice", ("different", "same")),
            Control("loop", "training loop", d.loop, "choice", ("custom", "fit")),
        ],
        run,
        time_budget_s or (60.0 if quick_mode() else 120.0),
        str,
        live_display=WorkerProgress,
        charts_after=lambda r: [loss_by_worker(r)],
    )
