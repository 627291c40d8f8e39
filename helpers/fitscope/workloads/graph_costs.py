"""Costs that run inside TensorFlow, and what each costs when measured alone on this machine.

A sleep-like cost (TensorFlow's own ``SleepDataset``, standing for I/O: no GIL, no CPU) and a
CPU-bound one (sorting random rows with ``tf.sort``, one thread per call) are the costs of the
synthetic pipeline that notebook 03 writes in its cells (:func:`file_reader`, :func:`timed_map`,
:func:`timed_batch_map` are its stand-ins for opening and reading a file and for decoding) and of
the best tf.data set-up (:mod:`fitscope.best_of_each`). Each is timed inside the graph with
``tf.timestamp()``; its cost per call is measured alone, before a run, for the ideal bound. Also:
which ops a dataset's graph holds (:func:`graph_ops`).

Example:
    >>> ds = timed_sleep(tensorflow().data.Dataset.range(2), 1.0)      # doctest: +SKIP
    >>> [float(t[1] - t[0]) >= 0.001 for _, t in ds.as_numpy_iterator()]  # doctest: +SKIP
    [True, True]
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fitscope.instrument.tracing import graph_timed

__all__ = [
    "AUTOTUNE",
    "FIELDS",
    "tensorflow",
    "slept",
    "timed_sleep",
    "sorting",
    "options",
    "parallel_calls",
    "graph_ops",
    "inject_prefetch_option",
    "stage_cost",
    "file_reader",
    "timed_map",
    "timed_batch_map",
]

AUTOTUNE = 0
"""In fitscope's parameters, 0 means ``tf.data.AUTOTUNE`` (buffer size, parallel calls)."""
_SORT_ROW = 1024  # floats per row sorted by the CPU-bound map
FIELDS = (
    "file",
    "index",
    "open start",
    "open end",
    "read start",
    "read end",
    "map start",
    "map end",
)
"""What the float64 vector of one synthetic-pipeline element holds, in order: the element's file
and index, then the start and end (wall seconds, ``tf.timestamp()``) of its open, read and map."""


def tensorflow() -> Any:
    import tensorflow as tf

    return tf


def slept(ds: Any, ms: float) -> Any:
    """``ds`` with TensorFlow's SleepDataset in front: each GetNext sleeps ``ms`` in C++, on the
    thread that asks (no GIL, no CPU)."""
    tf = tensorflow()
    specs = tf.nest.flatten(ds.element_spec)
    variant = tf.raw_ops.SleepDataset(
        input_dataset=tf.data.experimental.to_variant(ds),
        sleep_microseconds=tf.constant(int(ms * 1000), tf.int64),
        output_types=[s.dtype for s in specs],
        output_shapes=[s.shape for s in specs],
    )
    return tf.data.experimental.from_variant(variant, ds.element_spec)


def timed_sleep(ds: Any, ms: float) -> Any:
    """Elements ``(e, [start_s, end_s])`` of ``ds``, each after a ``ms`` sleep timed in the graph.

    ``zip`` asks its first input (a timestamp) before its second (the sleep), so the span covers
    the sleep; SleepDataset sleeps before it asks its own input.
    """
    tf = tensorflow()
    starts = ds.map(lambda *e: tf.timestamp())
    return tf.data.Dataset.zip(starts, slept(ds, ms)).map(
        lambda t0, e: (e, tf.stack([t0, tf.timestamp()]))
    )


def _sort_rows(rows: int) -> Callable[[Any], Any]:
    """A map cost: generate and sort ``rows`` rows of random floats (stateful, so never folded)."""
    tf = tensorflow()

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
    tf = tensorflow()
    base = tf.data.Dataset.range(calls + 1)
    ds = base.map(_sort_rows(rows)).with_options(options(False))
    empty = base.map(lambda x: x).with_options(options(False))
    _drain_cost(ds, calls + 1)
    cpu = min(_drain_cost(ds, calls + 1)[1] for _ in range(3))
    cpu0 = min(_drain_cost(empty, calls + 1)[1] for _ in range(2))
    return rows / max((cpu - cpu0) * 1e3, 1e-3)


def sorting(ms: float) -> Callable[[Any], Any]:
    """A CPU-bound map cost of about ``ms`` per call, whatever the call holds (0: free)."""
    return _sort_rows(max(1, round(ms * _rows_per_ms())) if ms > 0 else 0)


def options(inject_prefetch: bool | None = None) -> Any:
    tf = tensorflow()
    opts = tf.data.Options()
    opts.threading.max_intra_op_parallelism = (
        1  # a map call uses one thread: parallelism is tf.data's
    )
    if inject_prefetch is not None:
        opts.experimental_optimization.inject_prefetch = inject_prefetch
    return opts


def parallel_calls(parallel: int) -> int:
    return tensorflow().data.AUTOTUNE if parallel == AUTOTUNE else parallel


def graph_ops(ds: Any) -> Counter[str]:
    """How many of each op the dataset's own graph holds (injected prefetches come later, at
    iterator creation, and are not in it)."""
    from tensorflow.core.framework import graph_pb2

    graph = graph_pb2.GraphDef.FromString(ds._as_serialized_graph().numpy())
    ops = Counter(n.op for n in graph.node)
    for fn in graph.library.function:
        ops.update(n.op for n in fn.node_def)
    return ops


def inject_prefetch_option(ds: Any) -> bool | None:
    return ds.options().experimental_optimization.inject_prefetch


def _drain_cost(ds: Any, n: int) -> tuple[float, float]:
    """(wall s, process CPU s) per element of iterating ``ds`` (``n`` elements) alone."""
    it = iter(ds)
    next(it)  # first element: iterator start, left out
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n - 1):
        next(it)
    return (time.perf_counter() - wall0) / (n - 1), (time.process_time() - cpu0) / (n - 1)


@functools.cache
def stage_cost(kind: str, ms: float, calls: int = 12) -> tuple[float, float]:
    """(wall s, CPU s) of one call of a stage when it has a core to itself, measured alone.

    A sleep's wall time is the median of its in-graph spans; a sort's is its CPU time (which a
    busy machine does not inflate). CPU is the process's, less that of iterating a free dataset.
    """
    tf = tensorflow()
    if ms == 0:
        return 0.0, 0.0
    base = tf.data.Dataset.range(calls + 1)
    ds = timed_sleep(base, ms) if kind == "sleep" else base.map(sorting(ms))
    ds = ds.with_options(options(False))
    empty = base.map(lambda x: x).with_options(options(False))
    _drain_cost(ds, calls + 1)  # warm up
    cpu = min(_drain_cost(ds, calls + 1)[1] for _ in range(2))
    cpu0 = min(_drain_cost(empty, calls + 1)[1] for _ in range(2))
    cpu = max(cpu - cpu0, 0.0)
    if kind != "sleep":
        return cpu, cpu
    spans = sorted(float(t[1] - t[0]) for _, t in ds.as_numpy_iterator())
    return spans[len(spans) // 2], cpu


# -- the stand-ins notebook 03's pipelines are written with ------------------------------------
def file_reader(per_file: int, open_ms: float, read_ms: float) -> Callable[[Any], Any]:
    """``read_file(f)``: a dataset of file ``f``'s ``per_file`` elements, for ``flat_map`` or
    ``interleave``. Opening the file sleeps ``open_ms`` once, reading each element ``read_ms``
    (in the graph: no GIL, no CPU); each element is ``[file, index, open start, open end, read
    start, read end]`` (float64, see :data:`FIELDS`).

    Example:
        >>> read_file = file_reader(2, open_ms=0, read_ms=0)                  # doctest: +SKIP
        >>> [e[:2].tolist() for e in read_file(3).as_numpy_iterator()]          # doctest: +SKIP
        [[3.0, 0.0], [3.0, 1.0]]
    """
    tf = tensorflow()

    def read_file(f: Any) -> Any:
        def elements(f: Any, opened: Any) -> Any:
            return timed_sleep(tf.data.Dataset.range(per_file), read_ms).map(
                lambda i, read: tf.concat([tf.cast(tf.stack([f, i]), tf.float64), opened, read], 0)
            )

        return timed_sleep(tf.data.Dataset.from_tensors(f), open_ms).flat_map(elements)

    return read_file


def timed_map(ms: float) -> Callable[[Any], Any]:
    """A map function costing about ``ms`` of CPU a call (:func:`sorting`), which appends its own
    start and end to the element (the last two of :data:`FIELDS`)."""
    cost = graph_timed(sorting(ms))

    def work(e: Any) -> Any:
        out, times = cost(e)
        return tensorflow().concat([out, times], 0)

    return work


def timed_batch_map(ms: float) -> Callable[[Any], Any]:
    """:func:`timed_map` for a batch of elements: one call (one ``ms`` cost) for the whole batch,
    its start and end appended to every element of it (a vectorised map)."""
    cost = graph_timed(sorting(ms))

    def work_on_batch(e: Any) -> Any:
        tf = tensorflow()
        out, times = cost(e)
        return tf.concat([out, tf.tile(times[None], [tf.shape(e)[0], 1])], 1)

    return work_on_batch
