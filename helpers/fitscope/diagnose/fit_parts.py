"""The two Keras objects diagnose hands to ``fit``: a step clock and a traced PyDataset.

This module imports Keras: import it inside a function, after Keras is bound to its backend.

- :class:`StepClock` times each step from its begin callback to its end callback. On JAX and
  PyTorch it is ``async_safe``, so Keras runs the end callback once the step's results exist,
  and the clock never makes the loop wait for a step (a plain callback would: Keras reads every
  step's logs for it). On TensorFlow ``fit`` waits for each step anyway.
- :class:`Beside` runs the learner's pipeline as ``fit`` would build it, on a thread of its own
  beside a step on a held batch, pulling one batch a step begun and dropping it: the step under
  the load the data work puts on the CPU, with nothing to wait for.
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
from collections.abc import Iterable, Iterator
from typing import Any

import keras

from fitscope.instrument.tracing import Span, Tracer, os_thread_name

__all__ = ["Beside", "StepClock", "TracedBatches"]


class StepClock(keras.callbacks.Callback):
    """Records (step index, end ns, process CPU s) per step and one "train" span per step.

    The span sits on the thread that began the step (fit's loop), from begin to end callback.
    ``pace``, if given, is released once a step begun (what :class:`Beside` pulls by).
    """

    def __init__(self, pace: threading.Semaphore | None = None) -> None:
        super().__init__()
        self.async_safe = keras.backend.backend() != "tensorflow"
        self.pace = pace
        self.begins: dict[int, tuple[int, int]] = {}
        self.ends: list[tuple[int, int, float]] = []  # appends are atomic under the GIL

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.begins[batch] = (time.perf_counter_ns(), threading.get_native_id())
        if self.pace is not None:
            self.pace.release()

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


class Beside:
    """The pipeline ``fit`` would build from ``x`` and ``fit_kwargs``, pulled on its own thread.

    A context manager: on entry the thread starts and takes one batch each time ``pace`` is
    released (by :class:`StepClock`, once a step begun), as ``fit`` would, so the pipeline
    works ahead only as far as its own buffers let it; on exit it stops. Data that ends is
    started again when it can be (``reiterable``). ``pulled`` counts the batches taken.

    Example (any Keras data; the step clock of a held fit releases ``pace``):
        >>> with Beside(x, {}, steps=50, reiterable=True) as load:   # doctest: +SKIP
        ...     fit_on_held_batch(callbacks=[StepClock(load.pace)])  # doctest: +SKIP
    """

    def __init__(self, x: Any, fit_kwargs: dict[str, Any], steps: int, reiterable: bool) -> None:
        from keras.src.trainers.data_adapters import get_data_adapter

        self.adapter = get_data_adapter(
            x,
            y=fit_kwargs.get("y"),
            sample_weight=fit_kwargs.get("sample_weight"),
            batch_size=fit_kwargs.get("batch_size"),
            steps_per_epoch=steps,
            shuffle=False,
        )
        self.reiterable, self.pulled, self.ended = reiterable, 0, False
        self.error: Exception | None = None
        self._it: Iterator[Any] = iter(())
        self.pace = threading.Semaphore(0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pull, name="fitscope-beside", daemon=True)

    def _batches(self) -> Iterable[Any]:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            return self.adapter.get_tf_dataset()  # type: ignore[no-any-return]
        if backend == "jax":
            return self.adapter.get_jax_iterator()  # type: ignore[no-any-return]
        if backend == "torch":
            return self.adapter.get_torch_dataloader()  # type: ignore[no-any-return]
        return self.adapter.get_numpy_iterator()  # type: ignore[no-any-return]

    def _next(self) -> bool:
        """Take one batch; False once the data ended (and cannot start again) or failed."""
        try:
            try:
                next(self._it)
            except StopIteration:
                if not self.reiterable:
                    self.ended = True
                    return False
                self.adapter.on_epoch_end()
                self.adapter.on_epoch_begin()
                self._it = iter(self._batches())
                next(self._it)
        except Exception as e:  # the data's own error; fit on the data meets it too
            self.error, self.ended = e, True
            return False
        self.pulled += 1
        return True

    def _pull(self) -> None:
        while self.pace.acquire() and not self._stop.is_set() and self._next():
            pass

    def __enter__(self) -> Beside:
        """Start the pipeline and take its first batch here, so it is running when steps begin."""
        self.adapter.on_epoch_begin()
        self._it = iter(self._batches())
        if self._next():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.pace.release()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.adapter.on_epoch_end()


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
