"""Notebook 02: the article's multiprocessing trainer, run safely and measured.

The article's example 2, which notebook 02 writes to ``article_trainer.py`` in a ``%%writefile``
cell, runs as a real ``__main__`` script in the sandbox, under each start method, with a watchdog
and a memory cap (with no file given, the cell's text is read from the notebook). Everything said
about a run is read from what the sandbox measured: how each process ended, the counters the script
reported (producer batches and queue backlog, trainer steps, weight checksums of the trainer's
copy and of the parent's model), memory and CPU per process, and what was cleaned up. A run
(:class:`ArticleRun`) and a set of runs (:class:`ArticleRuns`) show themselves as tables with
their reading. This module imports no TensorFlow: the learner's kernel never needs it here.

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
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.errors import check_choice, check_positive
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
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
from fitscope.isolation.watch import MEMORY_MEASURE
from fitscope.verdicts import evidence

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


def _producer_rate(producer: dict[str, Any]) -> str:
    """The producer's rate, or that it made no batch (a rate of 0 would read as measured)."""
    if not producer["batches"]:
        return "made no batch"
    return f"{producer['batches_per_s']:.0f} batches/s"


class ArticleRun(RunResult):
    """One sandboxed run of the article's trainer: a table of what was measured and its reading."""

    def __str__(self) -> str:
        f = self.facts
        t, parent = f["trainer"], f["parent"]
        model = (
            f"parent model checksum {parent['checksum_start'][:12]} → "
            f"{parent['checksum_last'][:12]}"
            if parent["built"]
            else "parent model never built"
        )
        return (
            f"{self.name}: {_ending(f)} after {f['wall_s']:.1f} s; trainer "
            + (f"{t['steps']} steps" if t["started"] else "never started")
            + (f" ({t['error']})" if t["error"] else "")
            + f"; producer {_producer_rate(f['producer'])}; {model}."
        )

    def charts(self) -> Stack:
        """Memory per process against the cap, and CPU by process (:func:`process_charts`)."""
        return Stack(list(process_charts(self)))

    def table(self) -> Table:
        f = self.facts
        t, pr, parent = f["trainer"], f["producer"], f["parent"]
        rows = [
            (p["role"], f"{p['how']} (peak {p['peak_mb']:.0f} MB of PSS)") for p in f["processes"]
        ]
        rows += [("error in a child", e) for e in f["child_errors"]]
        rows += [
            ("trainer", f"{t['steps']} steps" if t["started"] else "never started"),
            (
                "trainer's copy of the weights",
                f"{_short(t['checksum_first'])} before its first step, "
                f"{_short(t['checksum_last'])} at its last report"
                if t["checksum_first"]
                else "none reported",
            ),
            (
                "producer",
                f"{pr['batches']} batches ({pr['batches_per_s']:.0f}/s), {pr['backlog']} left "
                f"in the queue, its memory growing {pr['memory_growth_mb_per_s']:.0f} MB/s at the "
                "end"
                if pr["batches"]
                else "made no batch (no rate, no queue to measure)",
            ),
            (
                "parent's model",
                f"{_short(parent['checksum_start'])} at the start, "
                f"{_short(parent['checksum_last'])} at the end"
                if parent["built"]
                else "never built",
            ),
            ("parent at interpreter exit", _exit(f)),
            (
                "sandbox clean-up",
                f"{len(f['leftovers_removed'])} leftover file(s) removed; "
                f"{len(f['survivors'])} survivor(s)",
            ),
        ]
        return Table(
            ("process or counter", "measured"),
            rows,
            reading=str(self),
            title=(
                f"{self.name} (watchdog {f['timeout_s']:g} s, cap {f['memory_cap_mb']:g} MB of "
                f"{MEMORY_MEASURE} over the whole tree)"
            ),
        )


def _short(checksum: str | None) -> str:
    return checksum[:12] if checksum else "none"


def _ending(f: Mapping[str, Any]) -> str:
    return f"stopped by the {f['stopped_by']}" if f["stopped_by"] else "ended by itself"


def _cut_in_start_up(f: Mapping[str, Any]) -> bool:
    """Whether the watchdog stopped the run while its children were still starting: neither
    child had reported (no trainer report, no batch made) and none had raised. How such a run
    would have ended is undecided: a hang and a slow start look the same until then."""
    return (
        f["stopped_by"] == "watchdog"
        and not f["trainer"].get("started")
        and not f["producer"].get("batches")
        and not f["child_exceptions"]
    )


def _start_up_cut(f: Mapping[str, Any]) -> str:
    return (
        f"the watchdog stopped the run after {f['wall_s']:.0f} s with both children still "
        "starting (neither had reported): how it would have ended is undecided"
    )


def _exit(f: Mapping[str, Any]) -> str:
    if not f["reached_interpreter_exit"]:
        return "never got there"
    if _cut_in_start_up(f):
        return (
            f"waiting for children still starting when the {f['stopped_by']} stopped it (undecided)"
        )
    if f["hung_at_exit"]:
        return f"hung waiting for its children until the {f['stopped_by']} stopped it"
    return f"waited {f['exit_wait_s']:.1f} s for its children, then exited"


class ArticleRuns(ShowsItself, dict):
    """Article runs by label: one table row each, their verdicts on C7 and C8 (:meth:`verdicts`)."""

    def table(self) -> Table:
        rows = [
            (
                r.name,
                _ending(f := r.facts),
                f"{f['wall_s']:.1f}",
                f["trainer"]["steps"] if f["trainer"]["started"] else "never started",
                "; ".join(f["child_errors"]) or "none",
                f"{f['producer']['batches_per_s']:.0f}" if f["producer"]["batches"] else "none",
                f["producer"]["backlog"],
                "never built"
                if not f["parent"]["built"]
                else "changed"
                if f["parent"]["changed"]
                else "unchanged",
                "undecided (children still starting)" if _cut_in_start_up(f) else f["hung_at_exit"],
                f"{f['peak_memory_mb']:.0f}",
                len(f["leftovers_removed"]),
                len(f["survivors"]),
            )
            for r in self.values()
        ]
        return Table(
            (
                "run",
                "ended",
                "wall (s)",
                "trainer steps",
                "errors in children",
                "producer (batches/s)",
                "queue backlog",
                "parent's model",
                "hung at exit",
                "peak memory (MB)",
                "cleaned up",
                "survivors",
            ),
            rows,
            reading=self.reading(),
        )

    def reading(self) -> str:
        """Whether any step reached the parent's model, and what each run's ending shows: a run
        the watchdog stopped with its children still starting is said to be undecided."""
        unchanged = sum(1 for r in self.values() if not r.facts["parent"]["changed"])
        unbuilt = sum(1 for r in self.values() if not r.facts["parent"]["built"])
        reading = (
            f"In {unchanged} of {len(self)} runs the parent's model ended as it started"
            + (f" ({unbuilt} never built)" if unbuilt else "")
            + (": no step reached the model the script holds." if unchanged == len(self) else ".")
        )
        for r in self.values():
            f = r.facts
            if _cut_in_start_up(f):
                reading += f" {r.name}: {_start_up_cut(f)}."
            elif f["children_died_unpickling"]:
                reading += (
                    f" {r.name}: {f['children_died_unpickling']} child(ren) failed while "
                    "starting, inside multiprocessing (the errors in children column)."
                )
        return reading

    def must_hold(self) -> Checks:
        """What holds on any machine: the sandbox left no process, no step reached the parent's
        model."""
        return Checks(
            [
                (f"{r.name}: no process survived the sandbox", r.facts["survivors"] == [])
                for r in self.values()
            ]
            + [
                (f"{r.name}: the parent's model is unchanged", not r.facts["parent"]["changed"])
                for r in self.values()
            ]
        )

    def evidence(self) -> list[dict[str, Any]]:
        """C7's evidence, one dict per run, from the measured facts."""
        out = []
        for r in self.values():
            f = r.facts
            method = f["start_method"] + (" (labels fixed)" if f["fix_labels"] else "")
            if _cut_in_start_up(f):
                out.append({"method": method, "undecided": _start_up_cut(f)})
                continue
            out.append(
                {
                    "method": method,
                    "useful_updates": (f["trainer"]["steps"] or 0) if f["parent"]["changed"] else 0,
                    "error": (
                        f["trainer"]["error"] or next(iter(f["child_errors"]), None) or _stalled(f)
                    ),
                    "hang": f["hung_at_exit"],
                    "unbounded_growth": f["unbounded_growth"],
                }
            )
        return out

    def causes(self) -> list[str]:
        """The causes measured in the runs, each with the runs it was seen in."""
        seen: dict[str, list[str]] = {}
        for r in self.values():
            label = r.facts["start_method"] + (
                " with labels fixed" if r.facts["fix_labels"] else ""
            )
            for cause in [] if _cut_in_start_up(r.facts) else _causes_of(r.facts):
                seen.setdefault(cause, []).append(label)
        return [f"{cause} ({', '.join(where)})" for cause, where in seen.items()]

    def verdicts(self, keep_as: str | None = None) -> verdicts.Scorecard:
        """C7 and C8, by the rules of the claims module; ``keep_as`` (e.g. "notebook 02") also
        keeps them as this machine's evidence for the scorecard
        (:mod:`fitscope.verdicts.evidence`)."""
        card = verdicts.Scorecard([verdicts.c7(self.evidence()), verdicts.c8(self.causes())])
        return evidence.keep("trainer", card, keep_as) if keep_as else card


def _causes_of(f: Mapping[str, Any]) -> list[str]:
    causes = []
    if f["trainer"]["error"]:
        causes.append(f"the trainer raised {f['trainer']['error']}")
    if n := f["children_died_unpickling"]:
        causes.append(
            f"{'both children' if n == 2 else f'{n} child(ren)'} died while starting, "
            "unable to reopen the queue (FileNotFoundError): the parent had already "
            "released the queue's semaphores at interpreter exit"
        )
    if not f["parent"]["built"]:
        causes.append("the parent's model was never built, so there were no weights to update")
    elif not f["parent"]["changed"] and f["trainer"]["steps"]:
        causes.append(
            f"lost updates: the trainer trained its own copy ({f['trainer']['steps']} steps) "
            "while the parent's checksum stayed the same"
        )
    if f["unbounded_growth"]:
        causes.append(
            f"the unbounded queue kept growing ({f['producer']['backlog']} batches waiting, "
            f"the producer's memory growing {f['producer']['memory_growth_mb_per_s']:.0f} MB/s)"
        )
    if f["hung_at_exit"]:
        causes.append(
            "the parent hung at interpreter exit waiting for children nobody stopped "
            f"(ended by the {f['stopped_by']})"
        )
    if stalled := _stalled(f):
        causes.append(stalled)
    return causes


def _stalled(f: Mapping[str, Any]) -> str | None:
    """A run the watchdog ended with no step and no error: stuck in the first step, or not
    started."""
    if f["stopped_by"] != "watchdog" or f["trainer"]["steps"] or f["child_exceptions"]:
        return None
    if f["trainer"]["started"]:
        return (
            f"the trainer started but made no step and raised no error in {f['wall_s']:.0f} s "
            "(stuck in its first step)"
        )
    if _cut_in_start_up(f):
        return None  # undecided: the run says so (:func:`_start_up_cut`), no cause is read
    return (
        f"the trainer had not started when the watchdog stopped the run after {f['wall_s']:.0f} s"
    )


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
    return {
        "reached_end_of_script": "end of script" in events,
        "reached_interpreter_exit": exit_at is not None,
        "exit_wait_s": exit_wait,
        "hung_at_exit": exit_at is not None
        and run.root.how in ("killed by watchdog", "killed at memory cap")
        and not (run.stopped_by == "watchdog" and not trainer and not made and not errors),
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


def process_charts(result: RunResult) -> tuple[Any, Any]:
    """Memory per process and CPU by process (cores busy) of a sandboxed run."""
    from fitscope.show.process_charts import cpu_by_process, memory_by_process

    series = result.facts["series"]
    memory = {k: (s["t"], s["memory_mb"]) for k, s in series.items()}
    cpu = {k: (s["cpu_t"], s["cpu_s"]) for k, s in series.items() if s["cpu_t"]}
    budget = result.budget.cpus if result.budget else None
    return (
        memory_by_process(memory, result.facts["memory_cap_mb"], title=f"Memory: {result.name}"),
        cpu_by_process(cpu, budget, title=f"CPU by process: {result.name}"),
    )


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
