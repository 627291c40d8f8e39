"""What the article trainer's sandboxed runs show: one run (:class:`ArticleRun`) and a set of
runs (:class:`ArticleRuns`) as tables with their reading, their charts, C7's evidence and the
causes C8 reads, all from the facts :mod:`~fitscope.lessons.trainer.article` measured.

A run the watchdog stopped while both children were still starting is undecided: a hang and a
slow start look the same until then, so no cause is read from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fitscope import verdicts
from fitscope.instrument.checks import Checks
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.isolation.watch import MEMORY_MEASURE
from fitscope.verdicts import evidence
from fitscope.verdicts.process_claims import LOST_UPDATES

__all__ = ["ArticleRun", "ArticleRuns", "process_charts"]


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
    if f.get("exit_undecided"):
        return (
            f"still running when the {f['stopped_by']} stopped it, with both children already "
            "ended: what it waited on was not measured (undecided)"
        )
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
                "undecided (children still starting)"
                if _cut_in_start_up(f)
                else "undecided (children had ended)"
                if f.get("exit_undecided")
                else f["hung_at_exit"],
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
            f"{LOST_UPDATES}: the trainer trained its own copy ({f['trainer']['steps']} steps) "
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
