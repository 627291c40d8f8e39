"""Notebook 03's synthetic tf.data pipeline, variant by variant, against its ideal overlap bound.

Every cost a pipeline carries runs inside TensorFlow, so no Python holds the GIL while tf.data
works: a sleep-like "open" and "read" (TensorFlow's own ``SleepDataset``, standing for I/O) and a
CPU-bound "map" (sorting random rows with ``tf.sort``, single-threaded per call). Each cost is timed
inside the graph with ``tf.timestamp()`` and travels with its element to the consumer, which runs on
the calling thread and stands for a training step (a sleep of ``train_ms``).

Costs are fixed up front (the parameters) and measured alone on this machine before a run; each
variant's ideal time is then the overlap bound of :func:`fitscope.budget.bounds` taken per
producer stage (a stage is work that runs on its own threads, with its own number of workers w):
``max(t_stage / min(w, B), t_c, (cpu_p + cpu_c) / B)`` over the stages, where a stage that only
waits (the sleeps) is not capped by B (a waiting worker needs no CPU; the CPU it burns is in the
shared term). Efficiency = bound / measured time. Throughput is measured to the last element
consumed, never to loop exit (deleting an exhausted autotuned iterator can block for seconds).

Example:
    >>> r = tfdata_pipeline("prefetch", elements=16, files=2, epochs=1)   # doctest: +SKIP
    >>> r.facts["graph_ops"]["PrefetchDataset"]                             # doctest: +SKIP
    1
"""


from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .budget import Bounds, bounds
from .display import ShowsItself, Stack, Table
from .environment import quick_mode
from .errors import FitscopeInputError, check_choice, check_int, check_positive
from .graph_costs import (
    AUTOTUNE,
    graph_ops,
    inject_prefetch_option,
    options,
    parallel_calls,
    sorting,
    stage_cost,
    tensorflow,
    timed_sleep,
)
from .invariants import Checks
from .measure import Live, MeasuredRun, cost_per_call, measured_run
from .result import RunResult
from .throughput import throughput_from_ends
from .tracing import Tracer, graph_timed

__all__ = ["VARIANTS", "FIELDS", "PipelineParams", "PipelineRun", "PipelineRuns", "build_pipeline",
           "tfdata_pipeline", "compare_variants", "overlap_share", "peak_concurrency", "stage_bounds",
           "tfdata_panel"]

VARIANTS = ("naive", "prefetch", "parallel interleave", "parallel map", "vectorised map", "cache")
"""Each variant adds one change to the one before it, as the TensorFlow guide's steps do."""

EXAMPLE3_VARIANTS = ("prefetch", "no prefetch", "no prefetch, injection off")
FIELDS = ("file", "index", "open start", "open end", "read start", "read end", "map start", "map end")
"""What the float64 vector of one synthetic-pipeline element holds, in order."""


@dataclass(frozen=True)
class PipelineParams:
    """The synthetic pipeline's workload: costs in ms, sizes, and the tuning knobs.

    ``elements`` per epoch are spread over ``files`` (rounded down to a multiple of it);
    ``buffer`` and ``parallel`` of 0 mean AUTOTUNE.
    """

    open_ms: float = 8.0
    read_ms: float = 1.0
    map_ms: float = 2.0
    train_ms: float = 1.5
    files: int = 8
    elements: int = 512
    epochs: int = 2
    buffer: int = AUTOTUNE
    parallel: int = AUTOTUNE
    cycle_length: int = 4
    vector_batch: int = 16

    def __post_init__(self) -> None:
        for name, value in (("open ms", self.open_ms), ("read ms", self.read_ms),
                            ("map ms", self.map_ms), ("train ms", self.train_ms)):
            if value != 0:
                check_positive(name, value, maximum=1000)
        check_int("files", self.files, 1, 1000)
        check_int("elements", self.elements, 1, 1_000_000)
        check_int("epochs", self.epochs, 1, 100)
        check_int("buffer size (0 = AUTOTUNE)", self.buffer, 0, 10_000)
        check_int("parallel calls (0 = AUTOTUNE)", self.parallel, 0, 256)
        check_int("cycle length", self.cycle_length, 1, 256)
        check_int("vector batch", self.vector_batch, 1, 10_000)
        if self.elements < self.files:
            raise FitscopeInputError(f"elements ({self.elements}) must be at least the number of "
                                     f"files ({self.files}).")

    @classmethod
    def default(cls, **overrides: Any) -> PipelineParams:
        """Defaults sized for the mode: 256 elements an epoch show every variant's shape within
        seconds; quick mode (CI) shrinks them further, never the logic."""
        base = {"elements": 64, "files": 4} if quick_mode() else {"elements": 256}
        return cls(**{**base, **overrides})

    @property
    def per_file(self) -> int:
        return self.elements // self.files

    @property
    def total_elements(self) -> int:
        return self.per_file * self.files * self.epochs


def build_pipeline(p: PipelineParams, variant: str) -> Any:
    """The synthetic pipeline of ``variant`` (see :data:`VARIANTS`), repeated for ``p.epochs``.

    An element is one float64 vector (one tensor is the cheapest thing to hand to Python):
    file, index, then start and end (wall seconds) of its open, read and map, see :data:`FIELDS`.

    Example:
        >>> ds = build_pipeline(PipelineParams(files=2, elements=4, epochs=1, open_ms=0,
        ...                                    read_ms=0, map_ms=0), "naive")
        >>> sorted(int(e[FIELDS.index("index")]) for e in ds)
        [0, 0, 1, 1]
    """
    check_choice("variant", variant, VARIANTS)
    tf = tensorflow()
    step = VARIANTS.index(variant)
    per_file = p.per_file

    def read_file(f: Any) -> Any:
        def elements(f: Any, opened: Any) -> Any:
            return timed_sleep(tf.data.Dataset.range(per_file), p.read_ms).map(
                lambda i, read: tf.concat([tf.cast(tf.stack([f, i]), tf.float64), opened, read], 0))

        return timed_sleep(tf.data.Dataset.from_tensors(f), p.open_ms).flat_map(elements)

    cost = sorting(p.map_ms)

    def transform(e: Any) -> Any:
        out, times = graph_timed(cost)(e)
        return tf.concat([out, times], 0)

    def transform_batch(e: Any) -> Any:
        out, times = graph_timed(cost)(e)
        return tf.concat([out, tf.tile(times[None], [tf.shape(e)[0], 1])], 1)

    files = tf.data.Dataset.range(p.files)
    if step < 2:
        ds = files.flat_map(read_file)
    else:
        ds = files.interleave(read_file, cycle_length=p.cycle_length,
                              num_parallel_calls=parallel_calls(p.parallel), deterministic=False)
    if step < 3:
        ds = ds.map(transform)
    elif step == 3:
        ds = ds.map(transform, num_parallel_calls=parallel_calls(p.parallel), deterministic=False)
    else:
        ds = ds.batch(p.vector_batch).map(transform_batch, num_parallel_calls=parallel_calls(p.parallel),
                                          deterministic=False).unbatch()
    if step == 5:
        ds = ds.cache()
    ds = ds.repeat(p.epochs)
    if step >= 1:
        ds = ds.prefetch(parallel_calls(p.buffer))
    return ds.with_options(options(inject_prefetch=False if step == 0 else None))


@functools.cache
def _train_cost(ms: float, calls: int = 12) -> tuple[float, float]:
    if ms == 0:
        return 0.0, 0.0
    return cost_per_call(functools.partial(time.sleep, ms / 1e3), calls, time.process_time)


Stage = tuple[str, float, float, int, bool]


def _stages(p: PipelineParams, variant: str, workers: int) -> list[Stage]:
    """(name, total wall s, total CPU s, workers, only waits) of each producer stage of ``variant``."""
    step = VARIANTS.index(variant)
    epochs = 1 if step == 5 else p.epochs  # a cache pays the producer in the first epoch only
    n_files, n = p.files * epochs, p.per_file * p.files * epochs
    calls = n if step < 4 else -(-p.per_file * p.files // p.vector_batch) * epochs
    (ow, oc), (rw, rc), (mw, mc) = (stage_cost("sleep", p.open_ms), stage_cost("sleep", p.read_ms),
                                    stage_cost("sort", p.map_ms))
    source = ("open + read", n_files * ow + n * rw, n_files * oc + n * rc)
    mapped = ("map", calls * mw, calls * mc)
    if step < 2:
        return [(source[0] + " + map", source[1] + mapped[1], source[2] + mapped[2], 1, False)]
    # AUTOTUNE lets an interleave work on up to cycle_length inputs at once, a map on up to ``workers``
    interleaved = min(p.cycle_length, p.files, p.cycle_length if p.parallel == AUTOTUNE else workers)
    return [(*source, interleaved, True), (*mapped, 1 if step == 2 else workers, False)]


def stage_bounds(stages: Sequence[Stage], t_c: float, cpu_c: float, budget: float) -> Bounds:
    """Sequential sum, and the overlap bound of :func:`fitscope.budget.bounds` per stage.

    A stage that only waits (a sleep standing for I/O) needs no CPU to wait, so B does not cap
    its workers (t / w); the CPU it does burn is in the shared term (cpu_p + cpu_c) / B.
    """
    cpu_p = sum(s[2] for s in stages)
    overlapped = max([bounds(0.0, t_c, 1, budget, cpu_p, cpu_c).overlapped_s] + [
        bounds(t, t_c, w, max(budget, w) if waits else budget).overlapped_s
        for _, t, _, w, waits in stages])
    return Bounds(sum(s[1] for s in stages) + t_c, overlapped)


def peak_concurrency(spans: Sequence[tuple[float, float]]) -> int:
    """Most (start, end) spans open at one instant.

    Example:
        >>> peak_concurrency([(0, 2), (1, 3), (2, 4), (5, 6)])
        2
    """
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    open_now = peak = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak


def _with_measured_width(stages: list[Stage], spans: Sequence[tuple[float, float]]) -> list[Stage]:
    """A waiting stage's workers: as many as tf.data really ran at once, if more than configured.

    A parallel interleave also works ahead on inputs beyond its cycle (TF 2.21 ran up to three
    cycles' worth of sleeps at once); waiting needs no CPU, so the bound must allow them all.
    """
    peak = peak_concurrency(spans)
    return [(n, t, c, max(w, peak) if waits and w > 1 else w, waits) for n, t, c, w, waits in stages]


# -- measuring a pipeline --------------------------------------------------------------------
def overlap_share(result: RunResult, consumer: str = "train", producer: str = "tf.data") -> float:
    """Share of the consumer's span time during which some producer span was running (0..1).

    Example:
        >>> from fitscope.tracing import Span
        >>> r = RunResult("x", spans=[Span("s", "train", 0, 10, 1), Span("r", "tf.data", 5, 20, None)])
        >>> overlap_share(r)
        0.5
    """
    busy = sorted((s.start_ns, s.end_ns) for s in result.spans_of(producer) if s.end_ns > s.start_ns)
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


def _consume(ds: Any, run: MeasuredRun, train_s: float, per_epoch: int) -> tuple[list[int], list[Any], int]:
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
    """The pipeline's stages for all its elements, as :class:`fitscope.measure.StepCosts` is for
    steps: ``bounds(n, ...)`` gives the bounds for the first ``n`` elements (their share)."""

    stages: list[Stage]
    total: int
    t_c1: float
    cpu_c1: float

    def bounds(self, steps: int, workers: int, cpus: float) -> Bounds:
        share = steps / self.total
        return stage_bounds([(n, t * share, c * share, w, waits) for n, t, c, w, waits in self.stages],
                            steps * self.t_c1, steps * self.cpu_c1, cpus)


class PipelineRun(RunResult):
    """One variant of the synthetic pipeline: measured time against its bounds, overlap, CPU."""

    def __str__(self) -> str:
        f, b = self.facts, self.bounds
        if b is None:
            return f"{f['variant']}: no element was consumed."
        return (f"{f['variant']}: {f['measured_s']:.2f} s measured against an ideal {b.overlapped_s:.2f} s "
                f"({100 * f['efficiency']:.0f}% efficient; {b.sequential_s:.2f} s with no overlap); the "
                f"producer was busy during {100 * f['overlap_share']:.0f}% of the train time.")

    def table(self) -> Table:
        f = self.facts
        rows = [("elements", f["elements"]), ("measured (s)", f["measured_s"]),
                ("ideal bound / no overlap (s)", f"{self.bounds.overlapped_s:.2f} / "
                 f"{self.bounds.sequential_s:.2f}" if self.bounds else "none"),
                ("first element after (s)", f["first_element_s"]), ("main thread waited (s)", f["wait_s"]),
                ("producer busy during train time", f"{100 * f['overlap_share']:.0f}%"),
                ("process CPU (s)", f["process_cpu_s"]), ("in-graph work done", f["spans_by_label"])]
        return Table(("quantity", self.name), rows, reading=str(self))


class PipelineRuns(ShowsItself, list):
    """Variants run on one workload: a chart of each against its bound, then one line each."""

    def chart(self) -> Any:
        from .plots import comparison

        return comparison([(r.facts["variant"], r.facts["measured_s"],
                            r.bounds.overlapped_s if r.bounds else None) for r in self],
                          title="The synthetic pipeline: measured time against the ideal bound")

    def table(self) -> Table:
        rows = [(r.facts["variant"], r.facts["measured_s"], r.bounds.overlapped_s if r.bounds else None,
                 f"{100 * r.facts['efficiency']:.0f}%", f"{100 * r.facts['overlap_share']:.0f}%",
                 r.facts["process_cpu_s"]) for r in self]
        fastest = min(self, key=lambda r: r.facts["measured_s"])
        return Table(("variant", "measured (s)", "ideal (s)", "efficiency", "producer busy in train time",
                      "CPU (s)"), rows, reading=f"Fastest here: {fastest}")

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
        costs = _StageCosts(_stages(p, variant, workers), p.total_elements, *_train_cost(p.train_ms))
        ds = build_pipeline(p, variant)
        run.expect(p.total_elements + 1, costs)  # +1: every element counts, from the iterator's start
        with run.sampling():
            ends, kept, start = _consume(ds, run, p.train_ms / 1e3, p.per_file * p.files)
        _graph_spans(run.tracer, kept)
        source_spans = [(s.start_ns, s.end_ns) for s in run.tracer.spans("tf.data") if s.label != "map"]
        costs.stages = _with_measured_width(costs.stages, source_spans)
    result = PipelineRun(**vars(run.result(  # after the live display's last frame
        f"tf.data {variant}", {**vars(p), "variant": variant}, steps_done=len(ends),
        throughput=throughput_from_ends(ends, 1, start))))
    measured, b = result.throughput.elapsed_s, result.bounds
    result.facts.update({
        "variant": variant, "elements": len(ends), "measured_s": measured,
        "efficiency": b.efficiency(measured) if b else float("nan"),
        "stages": [dict(name=n, wall_s=t, cpu_s=c, workers=w, only_waits=waits)
                   for n, t, c, w, waits in costs.stages],
        "consumer_s": len(ends) * costs.t_c1, "graph_ops": dict(graph_ops(ds)),
        "inject_prefetch": inject_prefetch_option(ds),
        "spans_by_label": dict(Counter(s.label for s in result.spans_of("tf.data"))),
        "train_spans_on": sorted({s.tid for s in result.spans_of("train")}),
        "overlap_share": overlap_share(result),
        "wait_s": sum(s.duration_s for s in result.spans_of("wait")),
        "first_element_s": (min(s.end_ns for s in result.spans_of("wait")) - start) / 1e9 if ends else None,
        "process_cpu_s": sum(result.cpu.by_thread_s().values()),
        "costs_per_call": {"open": stage_cost("sleep", p.open_ms), "read": stage_cost("sleep", p.read_ms),
                           "map": stage_cost("sort", p.map_ms), "train": (costs.t_c1, costs.cpu_c1)},
    })
    return result


def compare_variants(params: PipelineParams | None = None,
                     variants: Sequence[str] = VARIANTS) -> PipelineRuns:
    """Every variant on the same workload, in order."""
    from .live import StepCounter

    p = params or PipelineParams.default()
    counter, runs = StepCounter.in_notebook(), PipelineRuns()
    for i, v in enumerate(variants):
        counter.next_run(f"{v} ({i + 1} of {len(variants)})")
        runs.append(tfdata_pipeline(v, p, live=counter))
    return runs


# -- the panel -------------------------------------------------------------------------------
def tfdata_panel(time_budget_s: float | None = None) -> Any:
    """A panel around :func:`tfdata_pipeline`: costs, sizes, buffer, parallel calls, cycle length."""
    from .plots import cpu_by_thread, pipeline_timeline
    from .widgets import Control, ExperimentPanel

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
