"""The Keras callback that turns ``fit``'s loop into spans (kept apart so tracing never imports
Keras).

Example:
    >>> from fitscope.instrument.tracing import Tracer
    >>> cb = TraceCallback(Tracer())   # pass to model.fit(..., callbacks=[cb])
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from fitscope.instrument.tracing import Tracer

__all__ = ["TraceCallback"]


class TraceCallback(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no stubs
    """Records a "train" span per batch (begin to end callback) and a mark per epoch edge.

    The thread id of every callback is recorded too (category "callback"), so where Keras ran its
    callbacks is measured, not assumed.
    """

    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer
        self.callback_tids: dict[int, int] = {}
        self._batch_start = 0
        self.batch_ends_ns: list[int] = []

    def _seen(self) -> None:
        tid = threading.get_native_id()
        self.callback_tids[tid] = self.callback_tids.get(tid, 0) + 1

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._seen()
        self.tracer.mark(f"epoch {epoch + 1}", "epoch")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._seen()
        self._batch_start = time.perf_counter_ns()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        end = time.perf_counter_ns()
        self._seen()
        self.tracer.record(f"step {batch}", "train", self._batch_start, end)
        self.batch_ends_ns.append(end)
