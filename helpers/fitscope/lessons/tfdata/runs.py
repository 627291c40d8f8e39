"""Running a tf.data variant under the instrument: traced reads, maps and train steps, bounds.

:func:`tfdata_pipeline` measures one variant of :mod:`fitscope.lessons.tfdata.pipelines`,
:func:`compare_variants` several one after the other, :func:`tfdata_panel` lets a learner
change the stand-in costs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fitscope.instrument.bounds import Bounds, Stage, stage_bounds
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice
from fitscope.instrument.measure import Live, MeasuredRun, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer
from fitscope.lessons.tfdata.pipelines import (
    VARIANTS,
    PipelineParams,
    build_pipeline,
    train_cost,
    variant_stages,
    with_measured_width,
)
from fitscope.workloads.graph_costs import (
    AUTOTUNE,
    graph_ops,
    inject_prefetch_option,
    stage_cost,
)

__all__ = ["PipelineRun", "PipelineRuns", "compare_variants", "overlap_share", "tfdata_panel",
           "tfdata_pipeline"]


# -- measuring a pipeline --------------------------------------------------------------------
def overlap_share(result: RunResult, consumer: str = "train", producer: str = "tf.data") -> float:
    """Share of the consumer's span time during which some producer span was running (0..1).

    Example:
        >>> from fitscope.instrument.tracing import Span
        >>> r = RunResult("x", spans=[Span("s", "train", 0, 10, 1), Span("r", "tf.data", 5, 20,
        ... None)])
        >>> overlap_share(r)
        0.5
    """
    busy = sorted(
        (s.start_ns, s.end_ns) for s in result.spans_of(producer) if s.end_ns > s.start_ns
    )
    merged: list[list[int]] = []
    for a, b in busy:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    total = covered = 0
    for s in result.spans_of(consumer):
        total += s.end_ns - s.start_ns
        covered += sum(max(0, min(b, s.end_ns) - max(a, s.start_ns)) for a, b in merged)
    return covered / total if total else 0.0


def _consume(
    ds: Any, run: MeasuredRun, train_s: float, per_epoch: int
) -> tuple[list[int], list[Any], int]:
    """Pull every element on this thread, a train span after each; returns ends, times, start."""
    ends: list[int] = []
    kept: list[Any] = []
    it = iter(ds)
    start = time.perf_counter_ns()
    while True:
        t0 = time.perf_counter_ns()
        try:
            element = next(it)
        except StopIteration:
            break
        t1 = time.perf_counter_ns()
        if len(ends) % per_epoch == 0:
            run.tracer.record(f"epoch {len(ends) // per_epoch + 1}", "epoch", t0, t0)
        run.tracer.record("wait for data", "wait", t0, t1)
        if train_s:
            time.sleep(train_s)
        t2 = time.perf_counter_ns()
        run.tracer.record("step", "train", t1, t2)
        ends.append(t2)
        kept.append(element)
        run.step()
        if run.past_deadline():
            break
    return ends, kept, start  # the iterator is deleted here, after the last element was timed


def _graph_spans(tracer: Tracer, kept: Sequence[Any]) -> None:
    """Turn the in-graph times carried by the elements into spans, each piece of work once
    (elements of one file share its open, of one batch their map; cached ones repeat theirs)."""
    seen: set[tuple] = set()
    for row in (e.numpy() for e in kept):
        file, index = row[0], row[1]
        for k, label in enumerate(("open", "read", "map")):
            start, end = float(row[2 + 2 * k]), float(row[3 + 2 * k])
            key = {"open": (file,), "read": (file, index), "map": ()}[label] + (label, start, end)
            if key not in seen:
                seen.add(key)
                tracer.add_graph_span(label, start, end)


@dataclass
class _StageCosts:
    """The pipeline's stages for all its elements, as :class:`fitscope.instrument.measure.StepCosts`
    is for
    steps: ``bounds(n, ...)`` gives the bounds for the first ``n`` elements (their share)."""

    stages: list[Stage]
    total: int
    t_c1: float
    cpu_c1: float

    def bounds(self, steps: int, workers: int, cpus: float) -> Bounds:
        share = steps / self.total
        return stage_bounds(
            [(n, t * share, c * share, w, waits) for n, t, c, w, waits in self.stages],
            steps * self.t_c1,
            steps * self.cpu_c1,
            cpus,
        )


class PipelineRun(RunResult):
    """One variant of the synthetic pipeline: measured time against its bounds, overlap, CPU."""

    def __str__(self) -> str:
        f, b = self.facts, self.bounds
        if b is None:
            return f"{f['variant']}: no element was consumed."
        return (
            f"{f['variant']}: {f['measured_s']:.2f} s measured against an ideal "
            f"{b.overlapped_s:.2f} s "
            f"({100 * f['efficiency']:.0f}% efficient; {b.sequential_s:.2f} s with no overlap); "
            "the "
            f"producer was busy during {100 * f['overlap_share']:.0f}% of the train time."
        )

    def table(self) -> Table:
        f = self.facts
        rows = [
            ("elements", f["elements"]),
            ("measured (s)", f["measured_s"]),
            (
                "ideal bound / no overlap (s)",
                f"{self.bounds.overlapped_s:.2f} / {self.bounds.sequential_s:.2f}"
                if self.bounds
                else "none",
            ),
            ("first element after (s)", f["first_element_s"]),
            ("main thread waited (s)", f["wait_s"]),
            ("producer busy during train time", f"{100 * f['overlap_share']:.0f}%"),
            ("process CPU (s)", f["process_cpu_s"]),
            ("in-graph work done", f["spans_by_label"]),
        ]
        return Table(("quantity", self.name), rows, reading=str(self))


class PipelineRuns(ShowsItself, list):
    """Variants run on one workload: a chart of each against its bound, then one line each."""

    def chart(self) -> Any:
        from fitscope.show.charts import comparison

        return comparison([(r.facts["variant"], r.facts["measured_s"],
                            r.bounds.overlapped_s if r.bounds else None) for r in self],
                          title="The synthetic pipeline: measured time against the ideal bound")

    def table(self) -> Table:
        rows = [
            (
                r.facts["variant"],
                r.facts["measured_s"],
                r.bounds.overlapped_s if r.bounds else None,
                f"{100 * r.facts['efficiency']:.0f}%",
                f"{100 * r.facts['overlap_share']:.0f}%",
                r.facts["process_cpu_s"],
            )
            for r in self
        ]
        fastest = min(self, key=lambda r: r.facts["measured_s"])
        return Table(
            (
                "variant",
                "measured (s)",
                "ideal (s)",
                "efficiency",
                "producer busy in train time",
                "CPU (s)",
            ),
            rows,
            reading=f"Fastest here: {fastest}",
        )

    def _repr_html_(self) -> str:
        return Stack([self.chart(), self.table()])._repr_html_()

    def must_hold(self) -> Checks:
        """With no prefetch and injection off, no producer work runs during a train step."""
        return Checks([("naive: the producer never ran during a train step",
                        self["naive"].facts["overlap_share"] == 0.0)])

    def fastest(self) -> PipelineRun:
        return min(self, key=lambda r: r.facts["measured_s"])

    def __getitem__(self, key: Any) -> Any:
        """A run by position or by variant name."""
        if isinstance(key, str):
            return next(r for r in self if r.facts["variant"] == key)
        return list.__getitem__(self, key)


def tfdata_pipeline(variant: str = "naive", params: PipelineParams | None = None, *,
                    live: Live | None = None, time_budget_s: float | None = None,
                    **overrides: Any) -> PipelineRun:
    """Run one variant of the synthetic pipeline and measure it against its bound.

    The consumer runs on the calling thread; tf.data's open, read and map are timed inside the
    graph (their thread is not known: ``tid=None``), per-thread CPU is sampled throughout.
    """
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    check_choice("variant", variant, VARIANTS)
    p = params or PipelineParams.default(**overrides)
    with measured_run(live, time_budget_s) as run:
        workers = run.budget.affinity if p.parallel == AUTOTUNE else p.parallel
        costs = _StageCosts(
            variant_stages(p, variant, workers), p.total_elements, *train_cost(p.train_ms)
        )
        ds = build_pipeline(p, variant)
        run.expect(
            p.total_elements + 1, costs
        )  # +1: every element counts, from the iterator's start
        with run.sampling():
            ends, kept, start = _consume(ds, run, p.train_ms / 1e3, p.per_file * p.files)
        _graph_spans(run.tracer, kept)
        source_spans = [
            (s.start_ns, s.end_ns) for s in run.tracer.spans("tf.data") if s.label != "map"
        ]
        costs.stages = with_measured_width(costs.stages, source_spans)
    result = PipelineRun(**vars(run.result(  # after the live display's last frame
        f"tf.data {variant}", {**vars(p), "variant": variant}, steps_done=len(ends),
        throughput=throughput_from_ends(ends, 1, start))))
    measured, b = result.throughput.elapsed_s, result.bounds
    result.facts.update(
        {
            "variant": variant,
            "elements": len(ends),
            "measured_s": measured,
            "efficiency": b.efficiency(measured) if b else float("nan"),
            "stages": [
                dict(name=n, wall_s=t, cpu_s=c, workers=w, only_waits=waits)
                for n, t, c, w, waits in costs.stages
            ],
            "consumer_s": len(ends) * costs.t_c1,
            "graph_ops": dict(graph_ops(ds)),
            "inject_prefetch": inject_prefetch_option(ds),
            "spans_by_label": dict(Counter(s.label for s in result.spans_of("tf.data"))),
            "train_spans_on": sorted({s.tid for s in result.spans_of("train")}),
            "overlap_share": overlap_share(result),
            "wait_s": sum(s.duration_s for s in result.spans_of("wait")),
            "first_element_s": (min(s.end_ns for s in result.spans_of("wait")) - start) / 1e9
            if ends
            else None,
            "process_cpu_s": sum(result.cpu.by_thread_s().values()),
            "costs_per_call": {
                "open": stage_cost("sleep", p.open_ms),
                "read": stage_cost("sleep", p.read_ms),
                "map": stage_cost("sort", p.map_ms),
                "train": (costs.t_c1, costs.cpu_c1),
            },
        }
    )
    return result


def compare_variants(params: PipelineParams | None = None,
                     variants: Sequence[str] = VARIANTS) -> PipelineRuns:
    """Every variant on the same workload, in order."""
    from fitscope.show.live import StepCounter

    p = params or PipelineParams.default()
    counter, runs = StepCounter.in_notebook(), PipelineRuns()
    for i, v in enumerate(variants):
        counter.next_run(f"{v} ({i + 1} of {len(variants)})")
        runs.append(tfdata_pipeline(v, p, live=counter))
    return runs


# -- the panel -------------------------------------------------------------------------------
def tfdata_panel(time_budget_s: float | None = None) -> Any:
    """A panel around :func:`tfdata_pipeline`: costs, sizes, buffer, parallel calls, cycle
    length."""
    from fitscope.show.charts import cpu_by_thread, pipeline_timeline
    from fitscope.show.panels import Control, ExperimentPanel

    d = PipelineParams.default()

    def run(live: Live, time_budget_s: float, variant: str, **values: Any) -> PipelineRun:
        return tfdata_pipeline(variant, PipelineParams(**{**vars(d), **values}), live=live,
                               time_budget_s=time_budget_s)

    budget = time_budget_s or (20.0 if quick_mode() else 60.0)
    return ExperimentPanel("A tf.data pipeline against its ideal bound", [
        Control("variant", "variant", "prefetch", "choice", VARIANTS),
        Control("open_ms", "open ms per file", d.open_ms, "float"),
        Control("read_ms", "read ms per element", d.read_ms, "float"),
        Control("map_ms", "map ms per call", d.map_ms, "float"),
        Control("train_ms", "train ms per step", d.train_ms, "float"),
        Control("elements", "elements per epoch", d.elements),
        Control("buffer", "prefetch buffer (0 = AUTOTUNE)", d.buffer),
        Control("parallel", "parallel calls (0 = AUTOTUNE)", d.parallel),
        Control("cycle_length", "cycle length", d.cycle_length),
    ], run, budget, str, charts_after=lambda r: (pipeline_timeline(r), cpu_by_thread(r)))
