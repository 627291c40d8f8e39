"""Costs that run inside TensorFlow, and what each costs when measured alone on this machine.

A sleep-like cost (TensorFlow's own ``SleepDataset``, standing for I/O: no GIL, no CPU) and a
CPU-bound one (sorting random rows with ``tf.sort``, one thread per call) are the costs of the
synthetic pipeline (:mod:`fitscope.lessons.tfdata.pipelines`) and of the best tf.data set-up
(:mod:`fitscope.best_of_each`). Each is timed inside the graph with ``tf.timestamp()``; its cost
per call is measured alone, before a run, for the ideal bound. Also: which ops a dataset's graph
holds (:func:`graph_ops`).

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

__all__ = ["AUTOTUNE", "tensorflow", "timed_sleep", "sorting", "options", "parallel_calls",
           "graph_ops", "inject_prefetch_option", "stage_cost"]

AUTOTUNE = 0
"""In fitscope's parameters, 0 means ``tf.data.AUTOTUNE`` (buffer size, parallel calls)."""
_SORT_ROW = 1024  # floats per row sorted by the CPU-bound map


def tensorflow() -> Any:
    import tensorflow as tf

    return tf


def _slept(ds: Any, ms: float) -> Any:
    """``ds`` with TensorFlow's SleepDataset in front: each GetNext sleeps ``ms`` (no GIL, no
    CPU)."""
    tf = tensorflow()
    specs = tf.nest.flatten(ds.element_spec)
    variant = tf.raw_ops.SleepDataset(
        input_dataset=tf.data.experimental.to_variant(ds),
        sleep_microseconds=tf.constant(int(ms * 1000), tf.int64),
        output_types=[s.dtype for s in specs], output_shapes=[s.shape for s in specs])
    return tf.data.experimental.from_variant(variant, ds.element_spec)


def timed_sleep(ds: Any, ms: float) -> Any:
    """Elements ``(e, [start_s, end_s])`` of ``ds``, each after a ``ms`` sleep timed in the graph.

    ``zip`` asks its first input (a timestamp) before its second (the sleep), so the span covers
    the sleep; SleepDataset sleeps before it asks its own input.
    """
    tf = tensorflow()
    starts = ds.map(lambda *e: tf.timestamp())
    return tf.data.Dataset.zip(starts, _slept(ds, ms)).map(
        lambda t0, e: (e, tf.stack([t0, tf.timestamp()])))


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
