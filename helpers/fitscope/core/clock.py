"""The one Keras callback that times steps: :class:`StepClock`, and the :class:`Pace` it keeps.

This module imports Keras: import it inside a function, after Keras is bound to its backend.

A step is timed from its begin callback to its end callback, on whatever thread ran each. On
JAX and PyTorch the clock is ``async_safe``, so Keras runs the end callback once the step's
results exist, and the clock never makes the loop wait for a step (a plain callback would:
Keras reads every step's logs for it). On TensorFlow ``fit`` waits for each step anyway.

Example (:func:`fitscope.core.alone.timing` reads a clock):
    >>> clock = StepClock()                              # doctest: +SKIP
    >>> model.fit(x, y, epochs=1, callbacks=[clock])     # doctest: +SKIP
    >>> timing(clock).step_s                             # doctest: +SKIP
    0.0123
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import keras

from fitscope.core.estimate import in_order
from fitscope.instrument.tracing import Span, os_thread_name

if TYPE_CHECKING:
    from fitscope.instrument.tracing import Tracer

__all__ = ["Pace", "StepClock"]


class Pace:
    """Counts steps begun and wakes a waiting puller once every ``chunk`` of them.

    Example:
        >>> pace = Pace(2)
        >>> pace.step(); pace.wait(timeout=0)
        False
        >>> pace.step(); pace.wait(timeout=0)
        True
    """

    def __init__(self, chunk: int) -> None:
        self.chunk, self.steps = chunk, 0
        self._ready = threading.Semaphore(0)

    def step(self) -> None:
        self.steps += 1
        if self.steps % self.chunk == 0:
            self._ready.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether ``chunk`` more steps began (or :meth:`wake` was called) before ``timeout``."""
        return self._ready.acquire(timeout=timeout)

    def wake(self) -> None:
        self._ready.release()


class StepClock(keras.callbacks.Callback):  # type: ignore[misc]  # Keras ships no types
    """Records each step's begin (ns, thread) and end (step, ns, process CPU s, thread).

    ``tracer``, if given, gets a "train" span per step as it ends and a mark per epoch;
    ``pace``, if given, is stepped once a step begun; ``on_step`` is called once a step ended.
    ``callback_tids`` counts the step callbacks (begin and end) each thread ran, so where Keras
    ran them is measured, not assumed.
    """

    def __init__(
        self,
        tracer: Tracer | None = None,
        pace: Pace | None = None,
        on_step: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.async_safe = keras.backend.backend() != "tensorflow"
        self.tracer, self.pace, self.on_step = tracer, pace, on_step
        self.begins: dict[int, tuple[int, int]] = {}
        self.ends: list[tuple[int, int, float, int]] = []  # appends are atomic under the GIL
        self.callback_tids: Counter[int] = Counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.tracer is not None:
            self.tracer.mark(f"epoch {epoch + 1}", "epoch")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        tid = threading.get_native_id()
        self.callback_tids[tid] += 1
        self.begins[batch] = (time.perf_counter_ns(), tid)
        if self.pace is not None:
            self.pace.step()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        end, tid = time.perf_counter_ns(), threading.get_native_id()
        self.callback_tids[tid] += 1
        self.ends.append((batch, end, time.process_time(), tid))
        if self.tracer is not None and batch in self.begins:
            self.tracer.record(f"step {batch}", "train", self.begins[batch][0], end)
        if self.on_step is not None:
            self.on_step()

    @property
    def batch_ends_ns(self) -> list[int]:
        """Every step's end, in the order the end callbacks ran."""
        return [end for _, end, _, _ in self.ends]

    def in_order(self) -> list[tuple[int, int, float]]:
        """(step, end ns, process CPU s) by step; see :func:`~fitscope.core.estimate.in_order`."""
        return in_order([(b, end, cpu) for b, end, cpu, _ in self.ends])

    def spans(self) -> list[Span]:
        """One "train" span per step that both began and ended, on the thread that began it."""
        out = []
        for batch, end_ns, _, _ in self.ends:
            if batch in self.begins:
                start_ns, tid = self.begins[batch]
                out.append(
                    Span(
                        f"step {batch}", "train", start_ns, end_ns, tid, os_name=os_thread_name(tid)
                    )
                )
        return out
