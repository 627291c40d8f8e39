"""The two Keras objects diagnose hands to ``fit``: a step clock and a traced PyDataset.

This module imports Keras: import it inside a function, after Keras is bound to its backend.

- :class:`StepClock` times each step from its begin callback to its end callback. On JAX and
  PyTorch it is ``async_safe``, so Keras runs the end callback once the step's results exist,
  and the clock never makes the loop wait for a step (a plain callback would: Keras reads every
  step's logs for it). On TensorFlow ``fit`` waits for each step anyway.
- :class:`TracedBatches` serves the batches of a PyDataset, or of a generator one at a time,
  from Keras's worker threads, recording every batch made as a span on its OS thread.

Example:
    >>> from fitscope.instrument.tracing import Tracer
    >>> tracer = Tracer()
    >>> data = TracedBatches(iter([(1, 2), (3, 4)]), tracer, workers=1)
    >>> data[0], [s.label for s in tracer.spans()]
    ((1, 2), ['next()'])
"""

from __future__ import annotations

import threading
import time
from typing import Any

import keras

from fitscope.instrument.tracing import Span, Tracer, os_thread_name

__all__ = ["StepClock", "TracedBatches"]


class StepClock(keras.callbacks.Callback):
    """Records (step index, end ns, process CPU s) per step and one "train" span per step.

    The span sits on the thread that began the step (fit's loop), from begin to end callback.
    """

    def __init__(self) -> None:
        super().__init__()
        self.async_safe = keras.backend.backend() != "tensorflow"
        self.begins: dict[int, tuple[int, int]] = {}
        self.ends: list[tuple[int, int, float]] = []  # appends are atomic under the GIL

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.begins[batch] = (time.perf_counter_ns(), threading.get_native_id())

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.ends.append((batch, time.perf_counter_ns(), time.process_time()))

    def spans(self) -> list[Span]:
        """One "train" span per step that both began and ended."""
        out = []
        for batch, end_ns, _ in self.ends:
            if batch in self.begins:
                start_ns, tid = self.begins[batch]
                out.append(
                    Span(
                        f"step {batch}", "train", start_ns, end_ns, tid, os_name=os_thread_name(tid)
                    )
                )
        return out


class TracedBatches(keras.utils.PyDataset):
    """``inner``'s batches as a PyDataset with ``workers`` threads, each batch made traced.

    ``inner`` is a PyDataset (batch ``i`` is ``inner[i]``) or an iterator: a generator cannot run
    in two threads at once, so its batches are taken under a lock, one at a time, in order of
    request; it is then an endless PyDataset whose ``ended`` turns True when ``inner`` runs out.
    """

    def __init__(self, inner: Any, tracer: Tracer, workers: int, max_queue_size: int = 10) -> None:
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        self.inner, self.tracer = inner, tracer
        self.indexed = isinstance(inner, keras.utils.PyDataset)
        self.ended = False
        self._lock = threading.Lock()

    @property
    def num_batches(self) -> int | None:
        return self.inner.num_batches if self.indexed else None

    def __getitem__(self, index: int) -> Any:
        if self.indexed:
            with self.tracer.span("__getitem__", "generator"):
                return self.inner[index]
        with self._lock, self.tracer.span("next()", "generator"):
            try:
                return next(self.inner)
            except StopIteration:
                self.ended = True
                raise IndexError("the generator ended") from None

    def on_epoch_begin(self) -> None:
        if self.indexed:
            self.inner.on_epoch_begin()

    def on_epoch_end(self) -> None:
        if self.indexed:
            self.inner.on_epoch_end()
