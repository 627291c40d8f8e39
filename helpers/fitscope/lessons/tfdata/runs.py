"""Running a tf.data pipeline under the instrument: traced reads, maps and train steps, bounds.

:func:`measure_pipeline` measures any pipeline written with the stand-in costs of
:mod:`fitscope.workloads.graph_costs` against its ideal bound; :class:`PipelineRuns` shows
pipelines already measured side by side (the package's own variants are measured by
:mod:`~fitscope.lessons.tfdata.variants`). How a measured run reads is
:mod:`~fitscope.lessons.tfdata.pipeline_runs`' (both classes importable from here too).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fitscope.instrument.bounds import Bounds, Stage, stage_bounds
from fitscope.instrument.errors import FitscopeInputError, check_int
from fitscope.instrument.measure import Live, MeasuredRun, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer
from fitscope.lessons.tfdata.pipeline_runs import PipelineRun, PipelineRuns, times_of, works_ahead
from fitscope.lessons.tfdata.pipelines import (
    PipelineParams,
    default_repeats,
    shape_of,
    stages_of,
    train_cost,
    with_measured_width,
)
from fitscope.show.against import AgainstBounds
from fitscope.workloads.graph_costs import (
    AUTOTUNE,
    graph_ops,
    inject_prefetch_option,
    stage_cost,
)

__all__ = ["PipelineRun", "PipelineRuns", "measure_pipeline", "overlap_share", "passes"]


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


def graph_clock() -> int:
    """``tf.timestamp()``'s clock minus perf_counter_ns, read through TensorFlow itself: the
    tightest of five readings, each bracketed by perf_counter_ns (a few µs apart)."""
    import tensorflow as tf

    readings = []
    for _ in range(5):
        before = time.perf_counter_ns()
        wall_ns = int(float(tf.timestamp()) * 1e9)
        after = time.perf_counter_ns()
        readings.append((after - before, wall_ns - (before + after) // 2))
    return min(readings)[1]


def _graph_spans(tracer: Tracer, kept: Sequence[Any], vectorised: bool) -> None:
    """Turn the in-graph times carried by the elements into spans, each piece of work once
    (elements of one file share its open, of one vectorised batch their map; cached ones repeat
    theirs). Two elements' own maps are two spans even when their times agree to the
    microsecond (``tf.timestamp``'s resolution), as parallel calls sometimes do."""
    seen: set[tuple] = set()
    for row in (e.numpy() for e in kept):
        file, index = row[0], row[1]
        owner = {"open": (file,), "read": (file, index), "map": () if vectorised else (file, index)}
        for k, label in enumerate(("open", "read", "map")):
            start, end = float(row[2 + 2 * k]), float(row[3 + 2 * k])
            key = owner[label] + (label, start, end)
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


def measure_pipeline(
    ds: Any,
    params: PipelineParams | None = None,
    name: str = "pipeline",
    *,
    repeats: int | None = None,
    live: Live | None = None,
    time_budget_s: float | None = None,
    baseline: PipelineRun | None = None,
) -> PipelineRun:
    """Measure a synthetic pipeline (written with the stand-ins of
    :mod:`fitscope.workloads.graph_costs` on workload ``params``) against its ideal bound.

    ``ds`` is the dataset, or a function of no arguments that builds it: then every repeat
    builds its own, so no repeat sees state an earlier one left (a ``cache`` an earlier repeat
    filled). A dataset object whose graph holds a cache is measured once, as it was built: its
    cache would survive into a second repeat. The consumer runs on the calling thread: one train
    step (a sleep of ``train_ms``) per element; tf.data's open, read and map are timed inside the
    graph (their thread is not known: ``tid=None``); per-thread CPU is sampled throughout. The
    bound's stages are read from the dataset's own graph
    (:func:`~fitscope.lessons.tfdata.pipelines.shape_of`). It runs ``repeats`` times
    (:func:`~fitscope.lessons.tfdata.pipelines.default_repeats` by default); the middle run (the
    lower of two) is returned, with its trace, all times in ``facts["repeats_s"]``; readings
    quote their median. ``facts["passes_s"]`` holds each repeat's first pass (the one that fills
    a cache) and its later passes (those that read it), separately. ``baseline``, a run of the
    same workload with nothing that works ahead (the naive pipeline), is what the reading also
    compares this run with: a measured no-overlap time, beside the bound's sum of costs
    measured alone.

    Example:
        >>> p = PipelineParams(files=2, elements=4, epochs=2)                       # doctest: +SKIP
        >>> run = measure_pipeline(lambda: build_pipeline(p, "cache"), p, "cache")  # doctest: +SKIP
        >>> run.facts["passes_s"]                                                   # doctest: +SKIP
        [{'first_s': 0.05, 'later_s': [0.01]}, {'first_s': 0.05, 'later_s': [0.01]}]
    """
    p = params or PipelineParams.default()
    if baseline is not None and (baseline.bounds is None or works_ahead(baseline.facts)):
        raise FitscopeInputError(
            f"the baseline '{baseline.facts.get('variant')}' must be a measured pipeline with "
            "nothing that works ahead (no prefetch written or injected, no parallel stage)."
        )
    build = ds if callable(ds) else None
    repeats = check_int("repeats", default_repeats() if repeats is None else repeats, 1, 100)
    once = build is None and shape_of(ds)["cached"] and repeats > 1
    if once:
        repeats = 1  # a second pass over the same object would read the cache the first filled
    runs: list[PipelineRun] = []
    # the last repeat's dataset and what _consume_once measured, until _result reads it
    pending: tuple[Any, _StageCosts, list[int], int, int] | None = None
    with measured_run(live, time_budget_s) as run:  # one run scaffold, a fresh tracer a repeat
        workers = run.budget.affinity if p.parallel == AUTOTUNE else p.parallel
        for _ in range(repeats):
            if pending is not None:
                runs.append(_result(run, p, name, *pending))
                run.tracer = Tracer()
            fresh = build() if build is not None else ds
            if build is not None and pending is not None and fresh is pending[0]:
                raise FitscopeInputError(
                    f"the function given for '{name}' returned the same dataset twice: it must "
                    "build a new one on each call, so no repeat reads what an earlier one left."
                )
            pending = (fresh, *_consume_once(run, fresh, p, workers))
    if pending is None:
        raise RuntimeError(f"'{name}' ran no repeat, though repeats is at least 1.")
    runs.append(_result(run, p, name, *pending))  # after the live display's last frame
    passes = [r.facts["passes_s"] for r in runs]
    runs.sort(key=lambda r: r.facts["measured_s"])
    chosen = runs[(len(runs) - 1) // 2]
    chosen.facts["repeats_s"] = [r.facts["measured_s"] for r in runs]
    chosen.facts["passes_s"] = passes
    chosen.facts["fresh_per_repeat"] = build is not None
    chosen.facts["cache_kept_to_one_repeat"] = once
    chosen.facts["sequential_s"] = chosen.bounds.sequential_s if chosen.bounds else None
    against = (
        AgainstBounds(
            chosen.facts["repeats_s"], chosen.bounds.overlapped_s, chosen.bounds.sequential_s
        )
        if chosen.bounds
        else None
    )
    chosen.facts["efficiency"] = against.header() if against else "no bound"
    chosen.facts["against_kind"] = against.kind if against else None  # what the readings branch on
    if baseline is not None:
        chosen.facts["baseline"] = {
            "variant": baseline.facts["variant"],
            "repeats_s": times_of(baseline),
            "sequential_s": baseline.bounds.sequential_s if baseline.bounds else None,
        }
    return chosen


def passes(ends: Sequence[int], start: int, per_pass: int) -> dict[str, Any]:
    """A run's first pass over the data (the one that fills a cache) and each later pass (those
    that read it), in seconds, from its step ends (ns) and start.

    Example:
        >>> passes([1, 2, 3, 10, 11, 12, 13], 0, 3)
        {'first_s': 3e-09, 'later_s': [9e-09]}
    """
    cuts = [start, *(ends[i - 1] for i in range(per_pass, len(ends) + 1, per_pass))]
    times = [(b - a) / 1e9 for a, b in zip(cuts, cuts[1:])]
    return {"first_s": times[0] if times else None, "later_s": times[1:]}


def _consume_once(
    run: MeasuredRun, ds: Any, p: PipelineParams, workers: int
) -> tuple[_StageCosts, list[int], int, int]:
    """Iterate ``ds`` once under ``run``, with a span for each piece of in-graph work: its
    costs, the consumer's step ends, its start time and how far the graph clock moved (ns)."""
    shape = shape_of(ds)
    costs = _StageCosts(stages_of(p, shape, workers), p.total_elements, *train_cost(p.train_ms))
    run.expect(p.total_elements + 1, costs)  # +1: every element counts, from the iterator's start
    with run.sampling():
        ends, kept, start = _consume(ds, run, p.train_ms / 1e3, p.per_file * p.files)
    shift_ns = run.tracer.sync_graph_clock(graph_clock())
    _graph_spans(run.tracer, kept, shape["vectorised"])
    source_spans = [(s.start_ns, s.end_ns) for s in run.tracer.spans("tf.data") if s.label != "map"]
    costs.stages = with_measured_width(costs.stages, source_spans)
    return costs, ends, start, shift_ns


def _result(
    run: MeasuredRun,
    p: PipelineParams,
    name: str,
    ds: Any,
    costs: _StageCosts,
    ends: list[int],
    start: int,
    graph_clock_shift_ns: int,
) -> PipelineRun:
    result = PipelineRun(
        **vars(
            run.result(
                f"tf.data {name}",
                {**vars(p), "variant": name},
                steps_done=len(ends),
                throughput=throughput_from_ends(ends, 1, start),
            )
        )
    )
    result.facts.update(
        {
            "variant": name,
            "elements": len(ends),
            "measured_s": result.throughput.elapsed_s,
            "shape": shape_of(ds),
            "stages": [
                dict(name=n, wall_s=t, cpu_s=c, workers=w, only_waits=waits)
                for n, t, c, w, waits in costs.stages
            ],
            "consumer_s": len(ends) * costs.t_c1,
            "graph_ops": dict(graph_ops(ds)),
            "inject_prefetch": inject_prefetch_option(ds),
            "spans_by_label": dict(Counter(s.label for s in result.spans_of("tf.data"))),
            "train_spans_on": sorted(
                {s.tid for s in result.spans_of("train") if s.tid is not None}
            ),
            "overlap_share": overlap_share(result),
            "passes_s": passes(ends, start, p.per_file * p.files),
            # the wall clock's step since the tracer began, taken out of the in-graph spans
            "graph_clock_shift_ms": graph_clock_shift_ns / 1e6,
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
