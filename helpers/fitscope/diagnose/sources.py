"""What the learner's data is, and how diagnose reads it without losing track of what it took.

:func:`source_of` names the kind of data and wraps it in a :class:`Source`, which times one batch
made alone on the thread that makes it (:meth:`Source.cost`), hands ``fit`` the data as it is
with every batch traced where a span can follow it (:meth:`Source.for_fit`), and counts the
batches taken from a generator or iterator, which cannot be given back.

Example:
    >>> import numpy as np
    >>> src = source_of((np.zeros((64, 10)), np.zeros(64)), batch_size=32)
    >>> src.kind, src.available, src.reiterable
    ('NumPy arrays', 2, True)
"""

from __future__ import annotations

import itertools
import math
import statistics
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from fitscope.core.alone import as_tuples
from fitscope.core.estimate import per_step
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.tracing import Tracer

__all__ = [
    "BUSY",
    "THREAD_CLOCK",
    "GENERATOR",
    "ITERATOR",
    "PYDATASET",
    "TF_DATA",
    "ARRAYS",
    "TORCH",
    "GRAIN",
    "DataCost",
    "Source",
    "queued",
    "source_of",
]

GENERATOR, ITERATOR, PYDATASET = "Python generator", "Python iterator", "keras.utils.PyDataset"
TF_DATA, ARRAYS, TORCH = "tf.data.Dataset", "NumPy arrays", "torch DataLoader"
GRAIN = "Grain dataset"  # a grain.MapDataset, grain.IterDataset or grain.DataLoader
THREAD_CLOCK = "its thread"  # the CPU clock of a batch made on the calling thread
BUSY = 0.3  # CPU / wall at or above which making a batch computes rather than waits
KINDS = (
    f"a {GENERATOR} or iterator, a {PYDATASET}, a {TF_DATA}, {ARRAYS} (x, y), a {TORCH} "
    "or a grain.MapDataset, grain.IterDataset or grain.DataLoader"
)


@dataclass(frozen=True)
class DataCost:
    """One batch made alone: wall seconds (the core's estimator), mean CPU seconds, and the
    clock the CPU was read on."""

    wall_s: float
    cpu_s: float
    clock: str  # "its thread" or "the whole process"
    cpu_share: float = 1.0  # of a CPU, what a Python loop on this thread got meanwhile

    @property
    def busy(self) -> float:
        """CPU / wall: near 1 keeps its thread busy (holds the GIL if Python); near 0 waits."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def computes(self) -> bool:
        """Whether it computes: CPU at least ``BUSY`` of what this thread could get (``busy``
        over ``cpu_share``: a crowded machine lowers a computing batch's CPU and a loop's alike).

        Example:
            >>> DataCost(0.010, 0.002, "its thread", cpu_share=0.5).computes  # 20% of a half
            True
        """
        return self.busy >= BUSY * min(1.0, self.cpu_share)


def cpu_share(for_s: float = 0.01) -> float:
    """The share of a CPU a Python loop on this thread gets for ``for_s`` wall seconds: about 1
    on a quiet machine, less when other threads or processes take turns with it.

    Example:
        >>> 0 < cpu_share(0.005) <= 1.05
        True
    """
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < for_s:
        sum(range(200))
    return (time.thread_time() - cpu0) / (time.perf_counter() - wall0)


class _Counted:
    """An iterator that counts what it gave, notices its end, and lets one thread in at a time."""

    def __init__(self, it: Iterator[Any]) -> None:
        self.it, self.taken, self.ended = it, 0, False
        self._lock = threading.Lock()

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> Any:
        with self._lock:
            try:
                item = next(self.it)
            except StopIteration:
                self.ended = True
                raise
            self.taken += 1
            return item


def queued(x: Any) -> bool:
    """Whether ``fit`` reads ``x`` from a queue its workers fill ahead: a ``PyDataset`` with
    more than one worker thread, or worker processes. Its steps are read over their whole
    window (:meth:`fitscope.core.alone.FitTiming.whole_window`).

    Example:
        >>> queued(iter([]))
        False
    """
    import keras

    return isinstance(x, keras.utils.PyDataset) and (x.workers > 1 or x.use_multiprocessing)


class Source:
    """The learner's data and its kind; see :func:`source_of`."""

    def __init__(self, kind: str, data: Any, batch_size: int) -> None:
        self.kind, self.data, self.batch_size = kind, data, batch_size
        self._it = _Counted(data) if kind in (GENERATOR, ITERATOR) else None
        # Grain: (batches made at once, in processes?), read from the pipeline's own options
        self.grain = _grain_producers(data) if kind == GRAIN else (0, False)

    @property
    def reiterable(self) -> bool:
        return self._it is None

    @property
    def taken(self) -> int:
        """Batches taken from a generator or iterator so far (0 for re-iterable data)."""
        return self._it.taken if self._it is not None else 0

    @property
    def ended(self) -> bool:
        return self._it is not None and self._it.ended

    @property
    def available(self) -> int | None:
        """Batches one pass over the data gives, or None when endless or unknown."""
        if self.kind == ARRAYS:
            return math.ceil(_length(self.data[0]) / self.batch_size)
        try:
            if self.kind == PYDATASET:
                n_batches = self.data.num_batches
                return None if n_batches is None else int(n_batches)
            if self.kind == TF_DATA:
                n = int(self.data.cardinality())
                return n if n >= 0 else None
            if self.kind == TORCH:
                return len(self.data)
            if self.kind == GRAIN and _is_grain(self.data, "MapDataset"):
                n = len(self.data)  # a repeat() without a count is sys.maxsize long
                return n if n < sys.maxsize else None
        except (NotImplementedError, TypeError):
            return None
        return None

    @property
    def workers(self) -> int:
        """How many producers make batches now (PyDataset workers, DataLoader workers, else 1)."""
        if self.kind == PYDATASET:
            return max(1, int(self.data.workers))
        if self.kind == TORCH:
            return max(1, int(self.data.num_workers))
        if self.kind == GRAIN:
            return max(1, self.grain[0])
        return 1

    @property
    def queued(self) -> bool:
        """Whether ``fit`` reads this data from a queue (:func:`queued`)."""
        return self.kind == PYDATASET and queued(self.data)

    @property
    def in_processes(self) -> bool:
        return (
            (self.kind == PYDATASET and self.data.use_multiprocessing and self.data.workers > 0)
            or (self.kind == TORCH and self.data.num_workers > 0)
            or self.grain[1]
        )

    @property
    def traced(self) -> bool:
        """Whether a span can follow each batch to the thread that makes it."""
        python = self.kind in (GENERATOR, ITERATOR)
        return python or (self.kind == PYDATASET and not self.in_processes)

    def where_untraced(self, backend: str) -> tuple[str, str]:
        """("main" or "other", where) for data a span cannot follow, from how Keras feeds it."""
        if self.in_processes:
            return "other", "worker processes"
        if self.kind == GRAIN and self.grain[0] > 0:
            return "other", "Grain's prefetch threads"
        if backend == "tensorflow" or self.kind == TF_DATA:
            return "other", "tf.data's threads"
        return "main", "the main thread (between steps)"

    def cost(self, calls: int, at_most: int = 16, for_s: float = 0.2) -> tuple[DataCost, Any]:
        """Time batches made alone, ``calls`` or more until ``for_s`` passed, ``at_most`` or the
        data's end, after one more that starts the source; and that first batch, as NumPy.

        Python data is timed on this thread's CPU clock; tf.data, DataLoaders and Grain's
        prefetch make batches on threads or processes of their own, so their CPU is this
        process's.
        """
        own = self.kind in (GENERATOR, ITERATOR, PYDATASET, ARRAYS)
        own = own or (self.kind == GRAIN and self.grain == (0, False))
        clock: Callable[[], float] = time.thread_time if own else time.process_time
        batches, first = self._fresh(), None
        share = cpu_share() if own else 1.0
        walls: list[float] = []
        cpus: list[float] = []
        for i in range(at_most + 1):
            if i > calls and sum(walls[1:]) >= for_s:
                break
            wall0, cpu0 = time.perf_counter(), clock()
            try:
                batch = next(batches)
            except StopIteration:
                if i > calls:  # a short pass (a small data set): the batches timed are enough
                    break
                raise FitscopeInputError(
                    f"The data ended after {i} batch(es), before diagnose could time one alone."
                ) from None
            walls.append(time.perf_counter() - wall0)
            cpus.append(clock() - cpu0)
            first = batch if first is None else first
        cost = DataCost(
            per_step([(1, s) for s in walls[1:]]),
            statistics.mean(cpus[1:]),
            THREAD_CLOCK if own else "the whole process",
            (share + cpu_share()) / 2 if own else 1.0,
        )
        return cost, _to_numpy(first)

    def _fresh(self) -> Iterator[Any]:
        if self._it is not None:
            return self._it
        if self.kind == PYDATASET:
            n = self.available
            return (self.data[i] for i in (range(n) if n is not None else itertools.count()))
        if self.kind == ARRAYS:
            n, b = _length(self.data[0]), self.batch_size
            return (tuple(_slice(a, i, i + b) for a in self.data) for i in range(0, n, b))
        return iter(self.data)

    def for_fit(self, tracer: Tracer) -> tuple[Any, dict[str, Any]]:
        """(x, other fit arguments): the data as the learner gave it, traced where it can be."""
        if self._it is not None:
            return tracer.wrap_generator(self._it), {}
        if self.kind == PYDATASET and not self.in_processes:
            return self.threaded(tracer, self.data.workers)
        if self.kind == ARRAYS:
            x, y, *weights = self.data
            return x, {
                "y": y,
                "sample_weight": weights[0] if weights else None,
                "batch_size": self.batch_size,
            }
        return self.data, {}

    def threaded(self, tracer: Tracer, workers: int) -> tuple[Any, dict[str, Any]]:
        """A generator's or PyDataset's batches from ``workers`` Keras worker threads, traced."""
        from fitscope.diagnose.fit_parts import TracedBatches

        if self._it is not None:
            return TracedBatches(self._it, tracer, workers, max_queue_size=2), {"shuffle": False}
        return TracedBatches(self.data, tracer, workers, self.data.max_queue_size), {}

    def stages(self) -> set[str]:
        """The kinds of stage in a tf.data pipeline (e.g. 'Prefetch', 'ParallelMap'), else empty."""
        found: set[str] = set()
        todo = [self.data] if self.kind == TF_DATA else []
        while todo:
            ds = todo.pop()
            found.add(type(ds).__name__.strip("_").removesuffix("Dataset"))
            todo.extend(getattr(ds, "_inputs", list)())
        return found


def source_of(data: Any, batch_size: int = 32) -> Source:
    """Name the kind of ``data``; anything else is a FitscopeInputError in one sentence."""
    import keras

    tf, torch = sys.modules.get("tensorflow"), sys.modules.get("torch")
    if isinstance(data, keras.utils.PyDataset):
        return Source(PYDATASET, data, batch_size)
    if tf is not None and isinstance(data, tf.data.Dataset):
        return Source(TF_DATA, data, batch_size)
    if torch is not None and isinstance(data, torch.utils.data.DataLoader):
        return Source(TORCH, data, batch_size)
    if any(_is_grain(data, name) for name in ("MapDataset", "IterDataset", "DataLoader")):
        return Source(GRAIN, data, batch_size)
    if isinstance(data, (tuple, list)) and 1 <= len(data) <= 3 and _arrays(data):
        if len({_length(a) for a in data if a is not None}) > 1:
            raise FitscopeInputError(
                "The arrays given as data have different lengths: "
                f"{', '.join(str(_length(a)) for a in data)}."
            )
        return Source(ARRAYS, tuple(data), batch_size)
    if isinstance(data, types.GeneratorType):
        return Source(GENERATOR, data, batch_size)
    if isinstance(data, Iterator):
        return Source(ITERATOR, data, batch_size)
    raise FitscopeInputError(
        f"diagnose cannot read data of type {type(data).__name__}: give it {KINDS}."
    )


def _is_grain(data: Any, name: str) -> bool:
    """Whether ``data`` is a ``grain.<name>`` (Grain is looked up only once imported)."""
    grain = sys.modules.get("grain")
    return grain is not None and isinstance(data, getattr(grain, name, ()))


def _grain_producers(data: Any) -> tuple[int, bool]:
    """(batches a Grain pipeline makes at once, whether in processes), from its own options.

    A MapDataset given to ``fit`` is read through ``to_iter_dataset()`` with the default
    ``grain.ReadOptions`` (16 threads); an IterDataset prefetches on the threads its
    ``to_iter_dataset(read_options=...)`` asked for and in the processes of its ``mp_prefetch``;
    a DataLoader in its ``worker_count`` processes. 0 producers: made on the thread that asks.
    """
    import grain

    if isinstance(data, grain.DataLoader):
        workers = int(data._multiprocessing_options.num_workers)
        return (workers, True) if workers > 0 else (0, False)
    if isinstance(data, grain.MapDataset):
        return int(grain.ReadOptions().num_threads), False
    threads, processes, todo = 0, 0, [data]
    while todo:  # the pipeline's stages, through mp_prefetch's per-worker datasets
        ds = todo.pop()
        name = type(ds).__name__
        if name == "ProcessPrefetchIterDataset":
            processes += 1
            continue  # the stages before it run in its worker process
        options = getattr(ds, "_read_options", None)
        if name == "PrefetchIterDataset" and options is not None:
            if int(options.prefetch_buffer_size) > 0:
                threads = max(threads, int(options.num_threads))
        todo.extend(getattr(ds, "parents", ()) or ())
        todo.extend(getattr(ds, "_datasets", ()) or ())
    return (processes, True) if processes else (threads, False)


def _arrays(parts: Any) -> bool:
    import keras

    leaves = [leaf for p in parts if p is not None for leaf in keras.tree.flatten(p)]
    return bool(leaves) and all(hasattr(a, "shape") and len(a.shape) > 0 for a in leaves)


def _length(part: Any) -> int:
    import keras

    return int(keras.tree.flatten(part)[0].shape[0])


def _slice(part: Any, start: int, stop: int) -> Any:
    import keras

    return None if part is None else keras.tree.map_structure(lambda a: a[start:stop], part)


def _to_numpy(batch: Any) -> Any:
    import keras

    return keras.tree.map_structure(lambda a: a if a is None else np.asarray(a), as_tuples(batch))
