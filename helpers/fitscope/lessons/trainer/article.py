"""Notebook 02: the article's multiprocessing trainer, run safely and measured.

The article's example 2, which notebook 02 writes to ``article_trainer.py`` in a ``%%writefile``
cell, runs as a real ``__main__`` script in the sandbox, under each start method, with a watchdog
and a memory cap (with no file given, the cell's text is read from the notebook). Everything said
about a run is read from what the sandbox measured: how each process ended, the counters the script
reported (producer batches and queue backlog, trainer steps, weight checksums of the trainer's
copy and of the parent's model), memory and CPU per process, and what was cleaned up. A run
(:class:`ArticleRun`) and a set of runs (:class:`ArticleRuns`) show themselves as tables with
their reading (:mod:`~fitscope.lessons.trainer.article_reading`, importable from here). This
module imports no TensorFlow: the learner's kernel never needs it here.

Example:
    >>> r = article_trainer("spawn", script="article_trainer.py")  # doctest: +SKIP
    >>> r.facts["parent"]["built"]                                  # doctest: +SKIP
    False
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitscope import verdicts
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.errors import check_choice, check_positive
from fitscope.isolation import (
    TENSORFLOW,
    Limits,
    ProcessRecorder,
    SandboxResult,
    exceptions_in,
    growth_per_s,
    run_python,
    sandbox_facts,
)
from fitscope.isolation.scripts import script_file
from fitscope.lessons.trainer.article_reading import ArticleRun, ArticleRuns, process_charts

__all__ = [
    "START_METHODS",
    "LABELS",
    "ArticleRun",
    "ArticleRuns",
    "article_trainer",
    "article_runs",
    "process_charts",
    "trainer_panel",
]

START_METHODS = ("fork", "spawn", "forkserver")
NOTEBOOK, SCRIPT = "02_multiprocessing_trainer.ipynb", "article_trainer.py"
LABELS = ("(32,) as in the article", "(32, 1) fixed")
CHILD_NAMES = {
    "Process-1": "producer",
    "Process-2": "trainer",  # the order the script starts them
    "spawned child": "child while starting",
}


def article_trainer(
    start_method: str = "fork",
    *,
    fix_labels: bool = False,
    build_parent_model: bool = False,
    producer_ms: float = 0.0,
    timeout_s: float | None = None,
    memory_cap_mb: float | None = None,
    live: Any = None,
    script: str | Path | None = None,
) -> ArticleRun:
    """Run the article's example 2 in the sandbox under ``start_method`` and measure what happened.

    ``script`` is the file notebook 02's cell wrote (``article_trainer.py``); with None, that
    cell's text is read from the notebook.
    ``fix_labels`` reshapes the labels to (32, 1) so the child can train; ``build_parent_model``
    builds the parent's model before the children start, so its checksum can be compared with the
    trainer's; ``producer_ms`` slows the producer (0 is the article's: as fast as it can);
    ``live`` is a :class:`~fitscope.show.live.LiveProcesses` (or None).
    """
    check_choice("start method", start_method, START_METHODS)
    if producer_ms != 0:
        check_positive("producer ms per batch", producer_ms, maximum=1000)
    limits = Limits.default(timeout_s=timeout_s, memory_cap_mb=memory_cap_mb)
    args = ["--start-method", start_method, "--producer-ms", str(producer_ms)]
    args += ["--fix-labels"] if fix_labels else []
    args += ["--build-parent-model"] if build_parent_model else []
    name = f"article trainer under {start_method}" + (", labels fixed" if fix_labels else "")
    rec = ProcessRecorder(live)
    if live is not None:
        live.start(name, limits)
    with script_file(script, NOTEBOOK, SCRIPT) as path:
        run = run_python(
            path,
            args=args,
            timeout_s=limits.timeout_s,
            memory_cap_mb=limits.memory_cap_mb,
            poll_s=0.1,
            on_poll=rec,
            preload=TENSORFLOW,
        )
    if live is not None:
        live.finish()
    params = dict(
        start_method=start_method,
        fix_labels=fix_labels,
        build_parent_model=build_parent_model,
        producer_ms=producer_ms,
    )
    return ArticleRun(
        name=name,
        params={**params, **dataclasses.asdict(limits)},
        budget=cpu_budget(),
        environment=environment_facts(),
        outcomes=run.outcomes,
        facts={**params, **sandbox_facts(run, limits, rec), **_article_facts(run, rec)},
    )


def _rate(points: Sequence[tuple[float, float]]) -> float:
    """Mean rate from the first to the last (t, count) point."""
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return 0.0
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


STOPPED = ("killed by watchdog", "killed at memory cap")
"""How the sandbox says it stopped a process that was still alive."""


def _alive_at_stop(run: SandboxResult, children: Mapping[str, int]) -> list[str]:
    """The parent's children (by role, from its end-of-script report) that were still alive when
    the sandbox stopped the run: only then can a parent stopped at interpreter exit be said to
    have hung waiting for them (F-22: both children had ended, yet the row read a hang).

    Example:
        >>> from types import SimpleNamespace as NS
        >>> run = NS(outcomes=[NS(pid=1, how="killed by watchdog"),
        ...                    NS(pid=2, how="ended during the run"),
        ...                    NS(pid=3, how="killed by watchdog")])
        >>> _alive_at_stop(run, {"producer": 2, "trainer": 3}), _alive_at_stop(run, {"producer": 2})
        (['trainer'], [])
    """
    how = {o.pid: o.how for o in run.outcomes}
    return [role for role, pid in children.items() if how.get(pid) in STOPPED]


def _article_facts(run: SandboxResult, rec: ProcessRecorder) -> dict[str, Any]:
    by_role: dict[str, list[dict[str, Any]]] = {}
    for m in run.messages:
        by_role.setdefault(m.get("role", ""), []).append(m)
    parent, trainer, producer = (by_role.get(k, []) for k in ("parent", "trainer", "producer"))
    events = {m.get("event"): m for m in parent}
    errors = [
        (CHILD_NAMES.get(origin, origin), line)
        for origin, line in exceptions_in(run.stderr)
        if origin != "main"
    ]
    parent_sums = [m.get("checksum") for m in parent]
    exit_at = events.get("interpreter exit", {}).get("t")
    root_seen = [t for t, c in run.cpu if run.root.pid in c]
    exit_wait = (
        root_seen[-1] + (rec.epoch_offset or 0) - exit_at
        if exit_at is not None and root_seen
        else None
    )
    backlog = [(m["t"], m["backlog"]) for m in producer if m.get("backlog") is not None]
    made = [(m["t"], m["batches"]) for m in producer]
    producer_pid = (events.get("end of script", {}).get("children") or {}).get("producer")
    producer_points = rec.memory.get(producer_pid, []) if producer_pid is not None else []
    producer_memory = [(t, mb) for t, mb in producer_points if mb > 0]
    trainer_sums = [m.get("checksum") for m in trainer if m.get("checksum")]
    last_backlog = backlog[-1][1] if backlog else 0
    stopped_at_exit = (
        exit_at is not None
        and run.root.how in STOPPED
        and not (run.stopped_by == "watchdog" and not trainer and not made and not errors)
    )
    alive = _alive_at_stop(run, events.get("end of script", {}).get("children") or {})
    return {
        "reached_end_of_script": "end of script" in events,
        "reached_interpreter_exit": exit_at is not None,
        "exit_wait_s": exit_wait,
        "hung_at_exit": stopped_at_exit and bool(alive),
        "exit_undecided": stopped_at_exit and not alive,
        "children_alive_at_stop": alive,
        "parent": {
            "built": any(m.get("built") for m in parent),
            "checksum_start": parent_sums[0] if parent_sums else None,
            "checksum_last": parent_sums[-1] if parent_sums else None,
            "changed": len({s for s in parent_sums if s is not None}) > 1,
            "reports": len(parent),
        },
        "trainer": {
            "started": bool(trainer),
            "steps": max((m["steps"] for m in trainer), default=None),
            "steps_per_s": _rate([(m["t"], m["steps"]) for m in trainer if m["steps"]]),
            "checksum_first": trainer_sums[0] if trainer_sums else None,
            "checksum_last": trainer_sums[-1] if trainer_sums else None,
            "error": next((e for who, e in errors if who == "trainer"), None),
        },
        "producer": {
            "batches": made[-1][1] if made else 0,
            "batches_per_s": _rate(made),
            "backlog": last_backlog,
            "backlog_growth_per_s": growth_per_s(backlog),
            "peak_mb": max((mb for _, mb in producer_memory), default=0.0),
            "memory_growth_mb_per_s": growth_per_s(producer_memory),
            "error": next((e for who, e in errors if who == "producer"), None),
        },
        "child_errors": [f"{who}: {e}" for who, e in errors],
        "child_exceptions": len(errors),
        "children_died_unpickling": sum(
            1
            for who, e in errors
            if who == CHILD_NAMES["spawned child"] and e.startswith("FileNotFoundError")
        ),
        "unbounded_growth": verdicts.unbounded_queue(last_backlog, growth_per_s(backlog)),
    }


def article_runs(methods: Sequence[str] = START_METHODS, **kwargs: Any) -> ArticleRuns:
    """:func:`article_trainer` once per start method (same options for each)."""
    return ArticleRuns({m: article_trainer(m, **kwargs) for m in methods})


def trainer_panel(time_budget_s: float | None = None, script: str | Path | None = None) -> Any:
    """A panel around :func:`article_trainer` of ``script``: start method, seconds, memory cap,
    producer speed.

    Choosing the fixed labels also builds the parent's model first, so both checksums can be
    compared.
    """
    from fitscope.show.live import LiveProcesses
    from fitscope.show.panels import Control, ExperimentPanel

    d = Limits.default()

    def run(
        live: LiveProcesses,
        time_budget_s: float,
        start_method: str,
        seconds: float,
        memory_cap_mb: float,
        producer_ms: float,
        labels: str,
    ) -> ArticleRun:
        check_positive("seconds", seconds, maximum=time_budget_s)
        return article_trainer(
            start_method,
            fix_labels=labels == LABELS[1],
            build_parent_model=labels == LABELS[1],
            producer_ms=producer_ms,
            timeout_s=seconds,
            memory_cap_mb=memory_cap_mb,
            live=live,
            script=script,
        )

    return ExperimentPanel(
        "The article's multiprocessing trainer, in the sandbox",
        [
            Control("start_method", "start method", "fork", "choice", START_METHODS),
            Control("seconds", "seconds (watchdog)", d.timeout_s, "float"),
            Control("memory_cap_mb", "memory cap (MB)", d.memory_cap_mb, "float"),
            Control("producer_ms", "producer ms per batch (0 = flat out)", 0.0, "float"),
            Control("labels", "labels", LABELS[0], "choice", LABELS),
        ],
        run,
        time_budget_s or d.timeout_s,
        str,
        live_display=LiveProcesses,
        charts_after=process_charts,
    )
