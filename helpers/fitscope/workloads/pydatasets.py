"""Keras 3's own way to run Python data code in parallel: a ``keras.utils.PyDataset`` with workers.

The class lives in a module, not in a notebook cell, because worker processes started by spawn
or forkserver import it by name. It imports Keras, so import this module after ``fitscope``.

Example:
    >>> data = CostlyBatches(batches=4, batch_size=8, kind="sleep", ms=1.0)
    >>> x, y = data[0]
    >>> x.shape, y.shape
    ((8, 10), (8,))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from fitscope.instrument.errors import check_choice, check_int, check_positive
from fitscope.instrument.tracing import Tracer
from fitscope.workloads.article import WORK_KINDS, batch_work

__all__ = ["CostlyBatches"]


class CostlyBatches(keras.utils.PyDataset):
    """``batches`` random batches, each costing about ``ms`` of ``kind`` work to make.

    ``workers`` and ``use_multiprocessing`` go to Keras: threads when False, processes when
    True. With a ``tracer`` (threads only: spans cannot come back from another process), every
    ``__getitem__`` is recorded as a "generator" span on the thread that ran it.
    """

    def __init__(
        self,
        batches: int,
        batch_size: int = 32,
        features: int = 10,
        kind: str = "sleep",
        ms: float = 2.0,
        *,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
        seed: int = 0,
        tracer: Tracer | None = None,
    ) -> None:
        check_int("batches", batches, 1, 1_000_000)
        check_int("batch size", batch_size, 1, 65_536)
        check_int("features", features, 1, 65_536)
        check_choice("data work", kind, WORK_KINDS)
        if ms != 0:
            check_positive("ms per batch", ms, maximum=10_000)
        check_int("workers", workers, 1, 64)
        if use_multiprocessing and tracer is not None:
            raise ValueError("a tracer cannot follow batches made in other processes")
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        self.batches, self.batch_size, self.features = batches, batch_size, features
        self.kind, self.ms, self.seed, self.tracer = kind, ms, seed, tracer
        self._work: Callable[[], None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_work"] = None  # calibrated again in the worker process
        return state

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self.tracer is None:
            return self._make(index)
        with self.tracer.span("__getitem__", "generator"):
            return self._make(index)

    def _make(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._work is None:
            self._work = batch_work(self.kind, self.ms)
        self._work()
        rng = np.random.default_rng((self.seed, index))
        return (
            rng.random((self.batch_size, self.features), dtype=np.float32),
            rng.integers(0, 2, self.batch_size).astype(np.float32),
        )
