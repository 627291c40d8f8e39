"""What diagnose runs beside or around ``fit``: the pipeline beside a step, a traced PyDataset.

This module imports Keras: import it inside a function, after Keras is bound to its backend.
Steps are timed by the core's clock (:class:`fitscope.core.clock.StepClock`).

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
from collections.abc import Iterable, Iterator
from typing import Any

import keras

from fitscope.core.clock import Pace
from fitscope.instrument.tracing import Tracer

__all__ = ["Beside", "TracedBatches"]

WAKE_S = 0.002  # the thread beside wakes about this often: once every few steps under 2 ms


class Beside:
    """The pipeline ``fit`` would build from ``x`` and ``fit_kwargs``, pulled on its own thread.

    A context manager: on entry the thread starts and takes a batch for each step begun
    (``pace``, stepped by the core's step clock), as ``fit`` would, so the pipeline works ahead
    only as far as its own buffers let it; on exit it stops. For steps under ``WAKE_S`` (given
    as ``step_s``) the thread wakes once every few steps, about every ``WAKE_S``, and takes
    them all: waking for each would add turns of the GIL to the load, and more steps a wake
    would bunch the load up where the median step ignores it. (Taking batches inside a
    ``tf.function`` instead holds one of TensorFlow's inter-op threads while the data is
    slow, which slowed the step measured beside it.) Each batch costs a Python call (tens of
    µs) that ``fit`` on TensorFlow, taking batches in its graph, does not pay.
    Data that ends is started again when it can be (``reiterable``; on TensorFlow, its dataset
    repeated). ``pulled`` counts the
    batches taken; ``error`` is the data's own error, if it raised one.

    Example (any Keras data; the step clock of a held fit releases ``pace``):
        >>> with Beside(x, {}, 50, True, step_s=0.01) as load:       # doctest: +SKIP
        ...     fit_on_held_batch(callbacks=[StepClock(pace=load.pace)])  # doctest: +SKIP
    """

    def __init__(
        self, x: Any, fit_kwargs: dict[str, Any], steps: int, reiterable: bool, step_s: float
    ) -> None:
        from keras.src.trainers.data_adapters import get_data_adapter

        self.adapter = get_data_adapter(
            x,
            y=fit_kwargs.get("y"),
            sample_weight=fit_kwargs.get("sample_weight"),
            batch_size=fit_kwargs.get("batch_size"),
            steps_per_epoch=steps,
            shuffle=False,
        )
        self.reiterable, self.pulled = reiterable, 0
        self.error: Exception | None = None
        self._it: Iterator[Any] = iter(())
        self.pace = Pace(max(1, min(16, int(WAKE_S / max(step_s, 1e-6)))))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pull, name="fitscope-beside", daemon=True)

    def _batches(self) -> Iterable[Any]:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            ds = self.adapter.get_tf_dataset()
            # data that can start again runs on, repeated, with no new graph and iterator a pass
            # (fit's timed steps pay none within their epoch; a rebuild a pass, on the thread
            # beside, read as 20-70 % contention for arrays under a 1 ms step)
            return ds.repeat() if self.reiterable else ds  # type: ignore[no-any-return]
        if backend == "jax":
            return self.adapter.get_jax_iterator()  # type: ignore[no-any-return]
        if backend == "torch":
            return self.adapter.get_torch_dataloader()  # type: ignore[no-any-return]
        return self.adapter.get_numpy_iterator()  # type: ignore[no-any-return]

    def _next(self, n: int = 1) -> bool:
        """Take ``n`` batches; False once the data ended (and cannot start again) or failed."""
        try:
            for _ in range(n):
                try:
                    next(self._it)
                except StopIteration:
                    if not self.reiterable:
                        return False
                    self.adapter.on_epoch_end()
                    self.adapter.on_epoch_begin()
                    self._it = iter(self._batches())
                    next(self._it)
                self.pulled += 1
        except Exception as e:  # the data's own error; fit on the data meets it too
            self.error = e
            return False
        return True

    def _pull(self) -> None:
        while self.pace.wait() and not self._stop.is_set() and self._next(self.pace.chunk):
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
        self.pace.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if not self._thread.is_alive():
            self._it = iter(())  # drop the pipeline's iterator: tf.data's threads end with it
        self.adapter.on_epoch_end()


class TracedBatches(keras.utils.PyDataset):  # type: ignore[misc]  # Keras ships no types
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
