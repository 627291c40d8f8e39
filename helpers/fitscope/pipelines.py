"""Scenario 3: tf.data pipelines, measured against the ideal overlap bound.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import claims
from .budget import Bounds, bounds, cpu_budget
from .environment import environment_facts, quick_mode
from .errors import FitscopeInputError, check_choice, check_int, check_positive
from .result import RunResult
from .sampling import Sampler
from .scenarios import Live, article_model, control_callback, cost_per_call, generator_fit
from .threads import ThreadRoles
from .throughput import throughput_from_ends
from .tracing import Tracer, graph_timed
from .workloads import batch_work

if TYPE_CHECKING:
    from .widgets import ExperimentPanel

__all__ = ["AUTOTUNE", "VARIANTS", "FIELDS", "EXAMPLE3_VARIANTS", "PipelineParams", "Workload",
           "build_pipeline", "graph_ops", "tfdata_pipeline", "describe", "compare_variants",
           "article_example3", "py_function_map", "generator_vs_slices", "tfdata_fit",
           "best_of_each", "sources_report", "overlap_share", "peak_concurrency", "c10_verdict",
           "c11_verdict", "tfdata_panel"]

AUTOTUNE = 0
"""In :class:`PipelineParams`, 0 means ``tf.data.AUTOTUNE`` (buffer size, parallel calls)."""

VARIANTS = ("naive", "prefetch", "parallel interleave", "parallel map", "vectorised map", "cache")
"""Each variant adds one change to the one before it, as the TensorFlow guide's steps do."""

EXAMPLE3_VARIANTS = ("prefetch", "no prefetch", "no prefetch, injection off")
_SORT_ROW = 1024  # floats per row sorted by the CPU-bound map
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
        """Defaults sized for the mode: quick mode (CI) shrinks element counts, never the logic."""
        base = {"elements": 64, "files": 4} if quick_mode() else {}
        return cls(**{**base, **overrides})

    @property
    def per_file(self) -> int:
        return self.elements // self.files

    @property
    def total_elements(self) -> int:
        return self.per_file * self.files * self.epochs


# -- in-graph costs --------------------------------------------------------------------------
def _tf() -> Any:
    import tensorflow as tf

    return tf


def _slept(ds: Any, ms: float) -> Any:
    """``ds`` with TensorFlow's SleepDataset in front: each GetNext sleeps ``ms`` (no GIL, no CPU)."""
    tf = _tf()
    specs = tf.nest.flatten(ds.element_spec)
    variant = tf.raw_ops.SleepDataset(
        input_dataset=tf.data.experimental.to_variant(ds),
        sleep_microseconds=tf.constant(int(ms * 1000), tf.int64),
        output_types=[s.dtype for s in specs], output_shapes=[s.shape for s in specs])
    return tf.data.experimental.from_variant(variant, ds.element_spec)


def _timed_sleep(ds: Any, ms: float) -> Any:
    """Elements ``(e, [start_s, end_s])`` of ``ds``, each after a ``ms`` sleep timed in the graph.

    ``zip`` asks its first input (a timestamp) before its second (the sleep), so the span covers
    the sleep; SleepDataset sleeps before it asks its own input.
    """
    tf = _tf()
    starts = ds.map(lambda *e: tf.timestamp())
    return tf.data.Dataset.zip(starts, _slept(ds, ms)).map(
        lambda t0, e: (e, tf.stack([t0, tf.timestamp()])))


def _sort_rows(rows: int) -> Callable[[Any], Any]:
    """A map cost: generate and sort ``rows`` rows of random floats (stateful, so never folded)."""
    tf = _tf()

    def cost(x: Any) -> Any:
        if rows == 0:
            return x
        lowest = tf.reduce_min(tf.sort(tf.random.uniform([rows, _SORT_ROW]), axis=-1))
        return tf.nest.map_structure(lambda t: t + tf.cast(lowest * 0, t.dtype), x)

    return cost


@functools.cache
def _rows_per_ms(rows: int = 16, calls: int = 10) -> float:
    """Rows one map call sorts per ms of CPU on this machine, measured inside a tf.data map, alone.

    CPU time, not wall time: on a busy machine a call waits for a core, but burns the same CPU.
    """
    tf = _tf()
    base = tf.data.Dataset.range(calls + 1)
    ds = base.map(_sort_rows(rows)).with_options(_options(False))
    empty = base.map(lambda x: x).with_options(_options(False))
    _drain_cost(ds, calls + 1)
    cpu = min(_drain_cost(ds, calls + 1)[1] for _ in range(3))
    cpu0 = min(_drain_cost(empty, calls + 1)[1] for _ in range(2))
    return rows / max((cpu - cpu0) * 1e3, 1e-3)


def _sorting(ms: float) -> Callable[[Any], Any]:
    """A CPU-bound map cost of about ``ms`` per call, whatever the call holds (0: free)."""
    return _sort_rows(max(1, round(ms * _rows_per_ms())) if ms > 0 else 0)


def _options(inject_prefetch: bool | None = None) -> Any:
    tf = _tf()
    opts = tf.data.Options()
    opts.threading.max_intra_op_parallelism = 1  # a map call uses one thread: parallelism is tf.data's
    if inject_prefetch is not None:
        opts.experimental_optimization.inject_prefetch = inject_prefetch
    return opts


def _calls(parallel: int) -> int:
    return _tf().data.AUTOTUNE if parallel == AUTOTUNE else parallel


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
    tf = _tf()
    step = VARIANTS.index(variant)
    per_file = p.per_file

    def read_file(f: Any) -> Any:
        def elements(f: Any, opened: Any) -> Any:
            return _timed_sleep(tf.data.Dataset.range(per_file), p.read_ms).map(
                lambda i, read: tf.concat([tf.cast(tf.stack([f, i]), tf.float64), opened, read], 0))

        return _timed_sleep(tf.data.Dataset.from_tensors(f), p.open_ms).flat_map(elements)

    cost = _sorting(p.map_ms)

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
                              num_parallel_calls=_calls(p.parallel), deterministic=False)
    if step < 3:
        ds = ds.map(transform)
    elif step == 3:
        ds = ds.map(transform, num_parallel_calls=_calls(p.parallel), deterministic=False)
    else:
        ds = ds.batch(p.vector_batch).map(transform_batch, num_parallel_calls=_calls(p.parallel),
                                          deterministic=False).unbatch()
    if step == 5:
        ds = ds.cache()
    ds = ds.repeat(p.epochs)
    if step >= 1:
        ds = ds.prefetch(_calls(p.buffer))
    return ds.with_options(_options(inject_prefetch=False if step == 0 else None))


def graph_ops(ds: Any) -> Counter[str]:
    """How many of each op the dataset's own graph holds (injected prefetches come later, at
    iterator creation, and are not in it)."""
    from tensorflow.core.framework import graph_pb2

    graph = graph_pb2.GraphDef.FromString(ds._as_serialized_graph().numpy())
    ops = Counter(n.op for n in graph.node)
    for fn in graph.library.function:
        ops.update(n.op for n in fn.node_def)
    return ops


def _inject_prefetch(ds: Any) -> bool | None:
    return ds.options().experimental_optimization.inject_prefetch


# -- costs measured up front -----------------------------------------------------------------
def _drain_cost(ds: Any, n: int) -> tuple[float, float]:
    """(wall s, process CPU s) per element of iterating ``ds`` (``n`` elements) alone."""
    it = iter(ds)
    next(it)  # first element: iterator start, left out
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n - 1):
        next(it)
    return (time.perf_counter() - wall0) / (n - 1), (time.process_time() - cpu0) / (n - 1)


@functools.cache
def _stage_cost(kind: str, ms: float, calls: int = 12) -> tuple[float, float]:
    """(wall s, CPU s) of one call of a stage when it has a core to itself, measured alone.

    A sleep's wall time is the median of its in-graph spans; a sort's is its CPU time (which a
    busy machine does not inflate). CPU is the process's, less that of iterating a free dataset.
    """
    tf = _tf()
    if ms == 0:
        return 0.0, 0.0
    base = tf.data.Dataset.range(calls + 1)
    ds = _timed_sleep(base, ms) if kind == "sleep" else base.map(_sorting(ms))
    ds = ds.with_options(_options(False))
    empty = base.map(lambda x: x).with_options(_options(False))
    _drain_cost(ds, calls + 1)  # warm up
    cpu = min(_drain_cost(ds, calls + 1)[1] for _ in range(2))
    cpu0 = min(_drain_cost(empty, calls + 1)[1] for _ in range(2))
    cpu = max(cpu - cpu0, 0.0)
    if kind != "sleep":
        return cpu, cpu
    spans = sorted(float(t[1] - t[0]) for _, t in ds.as_numpy_iterator())
    return spans[len(spans) // 2], cpu


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
    (ow, oc), (rw, rc), (mw, mc) = (_stage_cost("sleep", p.open_ms), _stage_cost("sleep", p.read_ms),
                                    _stage_cost("sort", p.map_ms))
    source = ("open + read", n_files * ow + n * rw, n_files * oc + n * rc)
    mapped = ("map", calls * mw, calls * mc)
    if step < 2:
        return [(source[0] + " + map", source[1] + mapped[1], source[2] + mapped[2], 1, False)]
    # AUTOTUNE lets an interleave work on up to cycle_length inputs at once, a map on up to ``workers``
    interleaved = min(p.cycle_length, p.files, p.cycle_length if p.parallel == AUTOTUNE else workers)
    return [(*source, interleaved, True), (*mapped, 1 if step == 2 else workers, False)]


def _bounds(stages: Sequence[Stage], t_c: float, cpu_c: float, budget: float) -> Bounds:
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


def _consume(ds: Any, tracer: Tracer, train_s: float, per_epoch: int, live: Live | None,
             deadline: float | None) -> tuple[list[int], list[Any], int]:
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
            tracer.record(f"epoch {len(ends) // per_epoch + 1}", "epoch", t0, t0)
        tracer.record("wait for data", "wait", t0, t1)
        if train_s:
            time.sleep(train_s)
        t2 = time.perf_counter_ns()
        tracer.record("step", "train", t1, t2)
        ends.append(t2)
        kept.append(element)
        if live is not None:
            live.step()
        if deadline is not None and time.perf_counter() > deadline:
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


def tfdata_pipeline(variant: str = "naive", params: PipelineParams | None = None, *,
                    live: Live | None = None, time_budget_s: float | None = None,
                    **overrides: Any) -> RunResult:
    """Run one variant of the synthetic pipeline and measure it against its bound.

    The consumer runs on the calling thread; tf.data's open, read and map are timed inside the
    graph (their thread is not known: ``tid=None``), per-thread CPU is sampled throughout.
    """
    if params is not None and overrides:
        raise ValueError("give either params or keyword overrides, not both")
    check_choice("variant", variant, VARIANTS)
    p = params or PipelineParams.default(**overrides)
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    budget = cpu_budget()
    workers = budget.affinity if p.parallel == AUTOTUNE else p.parallel
    stages = _stages(p, variant, workers)
    t_c1, cpu_c1 = _train_cost(p.train_ms)
    total = p.total_elements
    b = _bounds(stages, total * t_c1, total * cpu_c1, budget.cpus)
    ds = build_pipeline(p, variant)
    ops = graph_ops(ds)

    tracer = Tracer()
    if live is not None:
        live.start(tracer, total, total / b.overlapped_s if b.overlapped_s else None,
                   total / b.sequential_s if b.sequential_s else None)
    deadline = time.perf_counter() + time_budget_s if time_budget_s else None
    with Sampler(interval_s=0.02) as sampler:
        ends, kept, start = _consume(ds, tracer, p.train_ms / 1e3, p.per_file * p.files, live,
                                     deadline)
    if live is not None:
        live.finish()
    _graph_spans(tracer, kept)
    source_spans = [(s.start_ns, s.end_ns) for s in tracer.spans("tf.data") if s.label != "map"]
    stages = _with_measured_width(stages, source_spans)
    b = _bounds(stages, total * t_c1, total * cpu_c1, budget.cpus)
    if len(ends) != total and ends:  # stopped early: bounds for the share that ran
        share = len(ends) / total
        stages = [(n, t * share, c * share, w, waits) for n, t, c, w, waits in stages]
        b = _bounds(stages, len(ends) * t_c1, len(ends) * cpu_c1, budget.cpus)
    spans = tracer.spans()
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(
        name=f"tf.data {variant}", params={**vars(p), "variant": variant}, spans=spans,
        cpu=sampler.samples, throughput=throughput_from_ends(ends, 1, start),
        budget=budget, bounds=b if ends else None,
        roles=roles.roles(tids, (), sampler.samples.sampler_tid), environment=environment_facts(),
    )
    measured = result.throughput.elapsed_s
    result.facts = {
        "variant": variant,
        "elements": len(ends),
        "measured_s": measured,
        "efficiency": b.efficiency(measured) if ends else float("nan"),
        "stages": [dict(name=n, wall_s=t, cpu_s=c, workers=w, only_waits=waits)
                   for n, t, c, w, waits in stages],
        "consumer_s": len(ends) * t_c1,
        "graph_ops": dict(ops),
        "inject_prefetch": _inject_prefetch(ds),
        "spans_by_label": dict(Counter(s.label for s in result.spans_of("tf.data"))),
        "train_spans_on": sorted({s.tid for s in result.spans_of("train")}),
        "overlap_share": overlap_share(result),
        "wait_s": sum(s.duration_s for s in result.spans_of("wait")),
        "first_element_s": (min(s.end_ns for s in result.spans_of("wait")) - start) / 1e9 if ends else None,
        "process_cpu_s": sum(result.cpu.by_thread_s().values()),
        "costs_per_call": {"open": _stage_cost("sleep", p.open_ms), "read": _stage_cost("sleep", p.read_ms),
                           "map": _stage_cost("sort", p.map_ms), "train": (t_c1, cpu_c1)},
    }
    return result


def describe(result: RunResult) -> str:
    """One line for a :func:`tfdata_pipeline` run: measured time against its bounds, overlap, CPU."""
    f, b = result.facts, result.bounds
    if b is None:
        return f"{f['variant']}: no element was consumed."
    return (f"{f['variant']:<20} {f['measured_s']:6.2f} s measured · ideal {b.overlapped_s:5.2f} s "
            f"({100 * f['efficiency']:3.0f}% efficient) · no overlap {b.sequential_s:5.2f} s · "
            f"producer busy during {100 * f['overlap_share']:3.0f}% of train time · "
            f"CPU {f['process_cpu_s']:.2f} s")


def compare_variants(params: PipelineParams | None = None,
                     variants: Sequence[str] = VARIANTS) -> list[RunResult]:
    """Every variant on the same workload, in order."""
    p = params or PipelineParams.default()
    return [tfdata_pipeline(v, p) for v in variants]


# -- the article's example 3 -----------------------------------------------------------------
def _example_arrays(samples: int | None, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Example 3's in-memory data: ``samples`` rows of 10 random features and 0/1 labels."""
    samples = check_int("samples", samples if samples is not None else (3200 if quick_mode() else 10_000),
                        64, 1_000_000)
    rng = np.random.default_rng(seed)
    return (samples, rng.random((samples, 10), dtype=np.float32),
            rng.integers(0, 2, samples).astype(np.float32))


def article_example3(variant: str = "prefetch", samples: int | None = None,
                     epochs: int | None = None, seed: int = 0) -> RunResult:
    """The article's example 3 in our own code: arrays → shuffle → batch 32 → fit of Dense(1).

    ``variant`` is "prefetch" (``.prefetch(AUTOTUNE)``), "no prefetch" (TensorFlow may inject
    one) or "no prefetch, injection off". Steps/s counts from the end of the first step.
    """
    check_choice("variant", variant, EXAMPLE3_VARIANTS)
    samples, data, labels = _example_arrays(samples, seed)
    epochs = check_int("epochs", epochs if epochs is not None else (2 if quick_mode() else 3), 1, 100)
    tf = _tf()
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    ds = tf.data.Dataset.from_tensor_slices((data, labels)).shuffle(1000, seed=seed).batch(32)
    if variant == "prefetch":
        ds = ds.prefetch(tf.data.AUTOTUNE)
    elif variant == "no prefetch, injection off":
        opts = tf.data.Options()
        opts.experimental_optimization.inject_prefetch = False
        ds = ds.with_options(opts)
    model = article_model(0, 10)
    tracer = Tracer()
    trace_cb = tracer.keras_callback()
    with Sampler(interval_s=0.05) as sampler:
        model.fit(ds, epochs=epochs, verbose=0, shuffle=False, callbacks=[trace_cb])
    ends = trace_cb.batch_ends_ns
    spans = tracer.spans()
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(name=f"example 3: {variant}", params=dict(variant=variant, samples=samples,
                                                                 epochs=epochs), spans=spans,
                       cpu=sampler.samples, budget=cpu_budget(),
                       throughput=throughput_from_ends(ends[1:], 32, ends[0]),
                       roles=roles.roles(tids, (), sampler.samples.sampler_tid),
                       environment=environment_facts())
    ops = graph_ops(ds)
    result.facts = {"variant": variant, "steps": len(ends), "steps_per_s": result.throughput.steps_per_s,
                    "prefetch_ops_in_graph": ops.get("PrefetchDataset", 0),
                    "inject_prefetch": _inject_prefetch(ds)}
    return result


# -- the GIL caveat --------------------------------------------------------------------------
def py_function_map(kind: str = "python", ms: float = 4.0, elements: int | None = None,
                    parallel: int = 1) -> RunResult:
    """A map through ``tf.py_function`` doing ``kind`` work (see :func:`fitscope.workloads.batch_work`).

    ``parallel`` is num_parallel_calls (1: a sequential map; 0: AUTOTUNE). Each call is traced
    from inside the Python function, so its span carries the OS thread that ran it.
    """
    check_choice("kind", kind, ("python", "numpy", "sleep"))
    check_positive("ms per element", ms, maximum=1000)
    elements = check_int("elements", elements if elements is not None else (24 if quick_mode() else 60),
                         2, 100_000)
    check_int("parallel calls (0 = AUTOTUNE)", parallel, 0, 256)
    tf = _tf()
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    budget = cpu_budget()
    work = batch_work(kind, ms)
    wall_1, cpu_1 = cost_per_call(work, 5)
    t_1 = wall_1 if kind == "sleep" else cpu_1  # CPU time: what a call takes with a core to itself
    tracer = Tracer()
    traced = tracer.traced(f"{kind} work", "tf.data")(work)

    def call(x: Any) -> Any:
        traced()
        return x

    py = lambda x: tf.py_function(call, [x], tf.int64)  # noqa: E731
    ds = tf.data.Dataset.range(elements)
    ds = ds.map(py) if parallel == 1 else ds.map(py, num_parallel_calls=_calls(parallel),
                                                  deterministic=False)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ends: list[int] = []
    with Sampler(interval_s=0.02) as sampler:
        it = iter(ds)
        start = time.perf_counter_ns()
        for _ in it:
            ends.append(time.perf_counter_ns())
        del it  # after the last element was timed
    workers = 1 if parallel == 1 else budget.affinity if parallel == AUTOTUNE else parallel
    waits = kind == "sleep"
    b = _bounds([(kind, elements * t_1, elements * cpu_1, workers, waits)], 0.0, 0.0, budget.cpus)
    spans = tracer.spans()
    work_tids = tracer.tids("tf.data")
    tids = work_tids | set(sampler.samples.cpu_ns)
    result = RunResult(name=f"py_function map ({kind}, parallel={parallel or 'AUTOTUNE'})",
                       params=dict(kind=kind, ms=ms, elements=elements, parallel=parallel),
                       spans=spans, cpu=sampler.samples, budget=budget, bounds=b,
                       throughput=throughput_from_ends(ends, 1, start),
                       roles=roles.roles(tids, work_tids, sampler.samples.sampler_tid),
                       environment=environment_facts())
    result.facts = {"measured_s": result.throughput.elapsed_s, "threads_that_ran_python": len(work_tids),
                    "calls": len(result.spans_of("tf.data")), "workers": workers,
                    "cost_per_call": (t_1, cpu_1)}
    return result


# -- from_generator against from_tensor_slices ------------------------------------------------
def generator_vs_slices(source: str = "from_generator", samples: int | None = None,
                        epochs: int = 3, batch_size: int = 32, seed: int = 0) -> RunResult:
    """Iterate in-memory arrays in batches, per epoch a new iterator, as ``fit`` does.

    ``source`` is "from_generator" (a Python generator slicing the arrays, + prefetch) or
    "from_tensor_slices" (+ batch + prefetch). Facts: each epoch's iterator start (iter() to first
    batch), batches/s to the last batch, and how long deleting the exhausted iterator took.
    """
    check_choice("source", source, ("from_generator", "from_tensor_slices"))
    samples, data, labels = _example_arrays(samples, seed)
    check_int("epochs", epochs, 1, 100)
    check_int("batch size", batch_size, 1, 8192)
    tf = _tf()
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    tracer = Tracer()
    if source == "from_generator":
        def batches() -> Any:
            for i in range(0, samples, batch_size):
                yield data[i:i + batch_size], labels[i:i + batch_size]

        spec = (tf.TensorSpec((None, 10), tf.float32), tf.TensorSpec((None,), tf.float32))
        ds = tf.data.Dataset.from_generator(lambda: tracer.wrap_generator(batches()),
                                            output_signature=spec)
    else:
        ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    starts, rates, teardowns = [], [], []
    with Sampler(interval_s=0.02) as sampler:
        for epoch in range(epochs):
            tracer.mark(f"epoch {epoch + 1}", "epoch")
            t0 = time.perf_counter_ns()
            it = iter(ds)
            ends = []
            for _ in it:
                ends.append(time.perf_counter_ns())
                tracer.record("batch", "train", ends[-2] if len(ends) > 1 else t0, ends[-1])
            t1 = time.perf_counter_ns()
            del it  # timed apart: deleting an exhausted iterator can block
            teardowns.append((time.perf_counter_ns() - t1) / 1e9)
            starts.append((ends[0] - t0) / 1e9)
            rates.append((len(ends) - 1) / max((ends[-1] - ends[0]) / 1e9, 1e-9))
    spans = tracer.spans()
    gen_tids = tracer.tids("generator")
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(name=f"{source} + prefetch", params=dict(source=source, samples=samples,
                                                                epochs=epochs, batch_size=batch_size),
                       spans=spans, cpu=sampler.samples, budget=cpu_budget(),
                       roles=roles.roles(tids, gen_tids - {roles.main}, sampler.samples.sampler_tid),
                       environment=environment_facts())
    result.facts = {"iterator_start_s": starts, "iterator_delete_s": teardowns, "batches_per_s": rates,
                    "batches_per_epoch": -(-samples // batch_size),
                    "next_calls_on_main": sum(1 for s in result.spans_of("generator") if s.tid == roles.main),
                    "next_calls": len(result.spans_of("generator"))}
    return result


# -- the same workload through fit, for the comparison of scenarios ---------------------------
def sources_report(sources: dict[str, RunResult]) -> str:
    """Lines comparing :func:`generator_vs_slices` runs: per-epoch iterator start, batches/s, deletion."""
    def listed(xs: Sequence[float], scale: float = 1e3) -> str:
        return ", ".join(f"{scale * x:.1f}" for x in xs)

    lines = [f"{source:<19} per epoch: iterator start (ms) {listed(r.facts['iterator_start_s'])} · batches/s "
             f"{listed(r.facts['batches_per_s'], 1)} · deleting the used-up iterator (ms) "
             f"{listed(r.facts['iterator_delete_s'])}" for source, r in sources.items()]
    if "from_generator" in sources:
        lines.append("generator next() calls on the main thread: "
                     f"{sources['from_generator'].facts['next_calls_on_main']}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Workload:
    """One workload for every scenario's best set-up: a sleep-like producer cost per batch and the
    article's Dense(1) model trained by ``fit``."""

    ms_per_batch: float = 4.0
    batch_size: int = 32
    steps: int = 100
    epochs: int = 2

    def __post_init__(self) -> None:
        check_positive("ms per batch", self.ms_per_batch, maximum=1000)
        check_int("batch size", self.batch_size, 1, 8192)
        check_int("steps per epoch", self.steps, 3, 100_000)
        check_int("epochs", self.epochs, 1, 1000)

    @classmethod
    def default(cls, **overrides: Any) -> Workload:
        base = {"steps": 40, "epochs": 2} if quick_mode() else {"steps": 150, "epochs": 2}
        return cls(**{**base, **overrides})


def tfdata_fit(workload: Workload | None = None, cycle_length: int = 4, features: int = 10,
               live: Live | None = None, time_budget_s: float | None = None) -> RunResult:
    """``fit`` fed by the best tf.data set-up for ``workload``: reads interleaved in parallel
    (sleep-like, in the graph), batches made by a parallel map, prefetch."""
    w = workload or Workload.default()
    check_int("cycle length", cycle_length, 1, 256)
    tf = _tf()
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    budget = cpu_budget()
    total = w.steps * w.epochs
    b_size = w.batch_size

    def make_batch(i: Any, read_times: Any) -> Any:
        seed = tf.stack([i, i + 1])
        x = tf.random.stateless_uniform([b_size, features], seed=seed)
        y = tf.cast(tf.random.stateless_uniform([b_size], seed=seed + 7) > 0.5, tf.float32)
        return x, y

    def reads(n: int) -> Any:
        return tf.data.Dataset.range(n).interleave(
            lambda i: _timed_sleep(tf.data.Dataset.from_tensors(i), w.ms_per_batch),
            cycle_length=cycle_length, num_parallel_calls=cycle_length, deterministic=False)

    width = peak_concurrency([tuple(t) for _, t in reads(8 * cycle_length).as_numpy_iterator()])
    ds = reads(total).map(make_batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    tracer = Tracer()

    model = article_model(0, features)
    t_c1, cpu_c1 = _fit_step_cost(model, *next(iter(ds.take(1))))
    t_p1, cpu_p1 = _stage_cost("sleep", w.ms_per_batch)
    trace_cb = tracer.keras_callback()
    n = total - 1
    workers = max(cycle_length, width)  # reads tf.data ran at once, measured up front
    b = _bounds([("read", n * t_p1, n * cpu_p1, workers, True)], n * t_c1, n * cpu_c1, budget.cpus)
    if live is not None:
        live.start(tracer, total, n / b.overlapped_s, n / b.sequential_s)
    deadline = time.perf_counter() + time_budget_s if time_budget_s else None
    with Sampler(interval_s=0.02) as sampler:
        model.fit(ds, steps_per_epoch=w.steps, epochs=w.epochs,
                  verbose=0, shuffle=False, callbacks=[trace_cb, control_callback(live, deadline)])
    if live is not None:
        live.finish()
    ends = trace_cb.batch_ends_ns
    done = len(ends) - 1
    if done != n and done > 0:
        b = _bounds([("read", done * t_p1, done * cpu_p1, workers, True)], done * t_c1,
                    done * cpu_c1, budget.cpus)
    spans = tracer.spans()
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(name=f"tf.data (parallel interleave x{cycle_length}, prefetch) → fit",
                       params={**vars(w), "cycle_length": cycle_length}, spans=spans,
                       cpu=sampler.samples, budget=budget, bounds=b if done > 0 else None,
                       throughput=throughput_from_ends(ends[1:], b_size, ends[0]) if done > 0 else
                       throughput_from_ends([], b_size, 0),
                       roles=roles.roles(tids, (), sampler.samples.sampler_tid),
                       environment=environment_facts())
    result.facts = {"steps": len(ends), "measured_s": result.throughput.elapsed_s,
                    "reads_at_once": width,
                    "costs_per_step": dict(t_p1=t_p1, cpu_p1=cpu_p1, t_c1=t_c1, cpu_c1=cpu_c1)}
    return result


def _fit_step_cost(model: Any, x: Any, y: Any, few: int = 10, many: int = 60) -> tuple[float, float]:
    """(wall s, CPU s) of one more ``fit`` step on a batch that costs nothing to produce.

    The difference between a fit of ``many`` and one of ``few`` steps, so that what every fit pays
    once (its epoch iterator, callbacks) is left out. A first short fit builds and traces the train
    function, which the model keeps for later fits.
    """
    tf = _tf()
    free = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(free, steps_per_epoch=3, epochs=1, verbose=0, shuffle=False)

    def fit(steps: int) -> tuple[float, float]:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        model.fit(free, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
        return time.perf_counter() - wall0, time.process_time() - cpu0

    (wall_few, cpu_few), (wall_many, cpu_many) = fit(few), fit(many)
    return max(wall_many - wall_few, 0.0) / (many - few), max(cpu_many - cpu_few, 0.0) / (many - few)


Row = tuple[str, float, float | None]


def best_of_each(workload: Workload | None = None,
                 extra: Sequence[tuple[str, Callable[[Workload], RunResult]]] = ()
                 ) -> tuple[list[Row], list[RunResult]]:
    """Rows (name, measured s, overlapped bound s) of each scenario's best set-up on one workload.

    Scenario 01 is :func:`fitscope.scenarios.generator_fit` with a sleep-like generator of the
    same cost; scenario 02 the faster of its right ways (:func:`fitscope.mp_trainer.best_right_way`,
    worker processes in a sandbox); scenario 03 is :func:`tfdata_fit`. ``extra`` adds more: (row
    name, a function of the workload returning a RunResult whose ``throughput`` and ``bounds`` are
    measured the same way).
    """
    from .mp_trainer import best_right_way

    w = workload or Workload.default()
    runs: list[tuple[str, Callable[[Workload], RunResult]]] = [
        ("01 Python generator → fit", lambda w: generator_fit(
            kind="sleep", ms_per_batch=w.ms_per_batch, batch_size=w.batch_size, width=0,
            steps=w.steps, epochs=w.epochs)),
        ("02 worker processes → main process's fit", lambda w: best_right_way(
            "sleep", w.ms_per_batch, width=0, batch_size=w.batch_size, steps=w.steps * w.epochs)),
        *extra,
        ("03 tf.data, parallel interleave + prefetch → fit", tfdata_fit),
    ]
    rows, results = [], []
    for name, run in runs:
        r = run(w)
        rows.append((name, r.throughput.elapsed_s, r.bounds.overlapped_s if r.bounds else None))
        results.append(r)
    return rows, results


# -- verdicts --------------------------------------------------------------------------------
def c10_verdict(naive: RunResult, prefetched: RunResult, arrays_off: RunResult,
                arrays_prefetch: RunResult, visible_share: float = 0.25) -> claims.Verdict:
    """C10 from measured runs: the costly producer with injection off vs with prefetch
    (overlap counts as visible when at least ``visible_share`` of the prefetched run's train time
    had producer work running), and example 3 with injection off vs prefetch."""
    costly = naive.throughput.elapsed_s / prefetched.throughput.elapsed_s
    arrays = arrays_prefetch.throughput.steps_per_s / arrays_off.throughput.steps_per_s
    visible = prefetched.facts["overlap_share"] >= visible_share
    budget = prefetched.budget.cpus if prefetched.budget else 1.0
    return claims.c10(costly, visible, arrays, budget)


def c11_verdict(releasing_seq: RunResult, releasing_par: RunResult, python_seq: RunResult,
                python_par: RunResult) -> claims.Verdict:
    """C11 from :func:`py_function_map` runs: speed-up of parallel over sequential for each kind."""
    budget = releasing_par.budget.cpus if releasing_par.budget else 1.0
    return claims.c11(releasing_seq.throughput.elapsed_s / releasing_par.throughput.elapsed_s,
                      python_seq.throughput.elapsed_s / python_par.throughput.elapsed_s, budget)


# -- the panel -------------------------------------------------------------------------------
def tfdata_panel(time_budget_s: float | None = None) -> ExperimentPanel:
    """A panel around :func:`tfdata_pipeline`: costs, sizes, buffer, parallel calls, cycle length."""
    from .plots import cpu_by_thread, pipeline_timeline
    from .widgets import Control, ExperimentPanel

    d = PipelineParams.default()

    def run(live: Live, time_budget_s: float, variant: str, **values: Any) -> RunResult:
        return tfdata_pipeline(variant, PipelineParams(**{**vars(d), **values}), live=live,
                               time_budget_s=time_budget_s)

    def summarise(r: RunResult) -> str:
        f = r.facts
        if r.bounds is None:
            return "no element arrived within the time budget"
        return (f"{f['elements']} elements in {f['measured_s']:.2f} s "
                f"({r.throughput.steps_per_s:.0f} elements/s), {100 * f['efficiency']:.0f}% of the "
                f"ideal bound of {r.bounds.overlapped_s:.2f} s")

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
    ], run, budget, summarise, charts_after=lambda r: (pipeline_timeline(r), cpu_by_thread(r)))
