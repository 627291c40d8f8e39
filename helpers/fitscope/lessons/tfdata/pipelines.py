"""Notebook 03's synthetic tf.data pipeline, variant by variant, against its ideal overlap bound.

Every cost a pipeline carries runs inside TensorFlow, so no Python holds the GIL while tf.data
works: a sleep-like "open" and "read" (TensorFlow's own ``SleepDataset``, standing for I/O) and a
CPU-bound "map" (sorting random rows with ``tf.sort``, single-threaded per call). Each cost is timed
inside the graph with ``tf.timestamp()`` and travels with its element to the consumer, which runs on
the calling thread and stands for a training step (a sleep of ``train_ms``).

Costs are fixed up front (the parameters) and measured alone on this machine before a run; a
pipeline's stages are read from its own graph (:func:`shape_of`), and its ideal time is then the
overlap bound of :func:`fitscope.instrument.bounds.stage_bounds` taken per producer stage (a
stage is work that runs on its own threads, with its own number of workers w):
``max(t_stage / min(w, B), t_c, (cpu_p + cpu_c) / B)`` over the stages, where a stage that only
waits (the sleeps) is not capped by B (a waiting worker needs no CPU; the CPU it burns is in the
shared term). Throughput is measured to the last element
consumed, never to loop exit (deleting an exhausted autotuned iterator can block for seconds).

Example:
    >>> r = tfdata_pipeline("prefetch", elements=16, files=2, epochs=1)   # doctest: +SKIP
    >>> r.facts["graph_ops"]["PrefetchDataset"]                             # doctest: +SKIP
    1
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fitscope.core.estimate import per_call
from fitscope.instrument.bounds import Stage, peak_concurrency
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice, check_int, check_positive
from fitscope.workloads.graph_costs import (
    AUTOTUNE,
    FIELDS,
    file_reader,
    graph_ops,
    options,
    parallel_calls,
    stage_cost,
    tensorflow,
    timed_batch_map,
    timed_map,
)

__all__ = [
    "VARIANTS",
    "FIELDS",
    "PipelineParams",
    "build_pipeline",
    "default_repeats",
    "shape_of",
    "stages_of",
]

VARIANTS = ("naive", "prefetch", "parallel interleave", "parallel map", "vectorised map", "cache")
"""Each variant adds one change to the one before it, as the TensorFlow guide's steps do."""


def default_repeats() -> int:
    """How many times each measurement of the lesson runs: 3 (2 in quick mode, whose readings
    then say more often that they cannot decide). Their median and spread decide comparisons
    (:func:`fitscope.verdicts.compare`)."""
    return 2 if quick_mode() else 3


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
        for name, value in (
            ("open ms", self.open_ms),
            ("read ms", self.read_ms),
            ("map ms", self.map_ms),
            ("train ms", self.train_ms),
        ):
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
            raise FitscopeInputError(
                f"elements ({self.elements}) must be at least the number of files ({self.files})."
            )

    @classmethod
    def default(cls, **overrides: Any) -> PipelineParams:
        """Defaults sized for the mode: 192 elements an epoch show every variant's shape within
        seconds, three repeats included; quick mode (CI) shrinks them further, never the logic."""
        base = {"elements": 64, "files": 4} if quick_mode() else {"elements": 192}
        return cls(**{**base, **overrides})

    @property
    def per_file(self) -> int:
        return self.elements // self.files

    @property
    def total_elements(self) -> int:
        return self.per_file * self.files * self.epochs


def build_pipeline(p: PipelineParams, variant: str) -> Any:
    """The synthetic pipeline of ``variant`` (see :data:`VARIANTS`), repeated for ``p.epochs``,
    for the panel, the tests and the scorecard: notebook 03 writes each variant in its own cell
    with the same stand-ins (:func:`~fitscope.workloads.graph_costs.file_reader`,
    :func:`~fitscope.workloads.graph_costs.timed_map`,
    :func:`~fitscope.workloads.graph_costs.timed_batch_map`).

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
    read_file = file_reader(p.per_file, p.open_ms, p.read_ms)
    calls = parallel_calls(p.parallel)
    files = tf.data.Dataset.range(p.files)
    if step < 2:
        ds = files.flat_map(read_file)
    else:
        ds = files.interleave(
            read_file, cycle_length=p.cycle_length, num_parallel_calls=calls, deterministic=False
        )
    if step < 3:
        ds = ds.map(timed_map(p.map_ms))
    elif step == 3:
        ds = ds.map(timed_map(p.map_ms), num_parallel_calls=calls, deterministic=False)
    else:
        ds = (
            ds.batch(p.vector_batch)
            .map(timed_batch_map(p.map_ms), num_parallel_calls=calls, deterministic=False)
            .unbatch()
        )
    if step == 5:
        ds = ds.cache()
    ds = ds.repeat(p.epochs)
    if step >= 1:
        ds = ds.prefetch(parallel_calls(p.buffer))
    return ds.with_options(options(inject_prefetch=False if step == 0 else None))


def shape_of(ds: Any) -> dict[str, bool]:
    """Which of the guide's steps a synthetic pipeline takes, read from its own graph's ops:
    prefetch, parallel interleave, parallel map, vectorised map (batch … unbatch), cache.

    Example:
        >>> shape_of(build_pipeline(PipelineParams(files=2, elements=4), "cache"))["cached"]
        True
    """
    ops = graph_ops(ds)
    return dict(
        prefetched="PrefetchDataset" in ops,
        interleaved="ParallelInterleaveDatasetV4" in ops,
        parallel_map="ParallelMapDatasetV2" in ops,
        vectorised="UnbatchDataset" in ops,
        cached=any(op.startswith("CacheDataset") for op in ops),
    )


@functools.cache
def train_cost(ms: float, calls: int = 12) -> tuple[float, float]:
    if ms == 0:
        return 0.0, 0.0
    return per_call(functools.partial(time.sleep, ms / 1e3), calls, time.process_time)


def stages_of(p: PipelineParams, shape: dict[str, bool], workers: int) -> list[Stage]:
    """(name, total wall s, total CPU s, workers, only waits) of each producer stage of a pipeline
    of this ``shape`` (:func:`shape_of`) on workload ``p``; ``workers`` is a parallel map's."""
    epochs = 1 if shape["cached"] else p.epochs  # a cache pays the producer in the first epoch only
    n_files, n = p.files * epochs, p.per_file * p.files * epochs
    calls = -(-p.per_file * p.files // p.vector_batch) * epochs if shape["vectorised"] else n
    (ow, oc), (rw, rc), (mw, mc) = (
        stage_cost("sleep", p.open_ms),
        stage_cost("sleep", p.read_ms),
        stage_cost("sort", p.map_ms),
    )
    source = ("open + read", n_files * ow + n * rw, n_files * oc + n * rc)
    mapped = ("map", calls * mw, calls * mc)
    if not (shape["interleaved"] or shape["parallel_map"]):
        return [(source[0] + " + map", source[1] + mapped[1], source[2] + mapped[2], 1, False)]
    # AUTOTUNE lets an interleave work on up to cycle_length inputs at once, a map on up to
    # ``workers``
    interleaved = (
        min(p.cycle_length, p.files, p.cycle_length if p.parallel == AUTOTUNE else workers)
        if shape["interleaved"]
        else 1
    )
    return [(*source, interleaved, True), (*mapped, workers if shape["parallel_map"] else 1, False)]


def with_measured_width(stages: list[Stage], spans: Sequence[tuple[float, float]]) -> list[Stage]:
    """A waiting stage's workers: as many as tf.data really ran at once, if more than configured.

    A parallel interleave also works ahead on inputs beyond its cycle (TF 2.21 ran up to three
    cycles' worth of sleeps at once); waiting needs no CPU, so the bound must allow them all.
    """
    peak = peak_concurrency(spans)
    return [
        (n, t, c, max(w, peak) if waits and w > 1 else w, waits) for n, t, c, w, waits in stages
    ]
