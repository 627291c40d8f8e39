"""The article's workload: its model, its random batches, and the per-batch costs a generator can
carry.

- ``sleep``: waits (stands for I/O); releases the GIL.
- ``python``: pure-Python arithmetic (stands for parsing, augmentation in Python); holds the GIL.
- ``numpy``: sorting arrays in NumPy (stands for vectorised decoding); releases the GIL.

Costs are calibrated on this machine so that one call takes about ``ms`` milliseconds when the
thread has a core to itself.

Example:
    >>> work = batch_work("sleep", 1.0)
    >>> work()
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fitscope.instrument.errors import check_choice, check_int, check_positive

__all__ = ["WORK_KINDS", "FEATURES", "batch_work", "random_batches", "article_model"]

WORK_KINDS = ("sleep", "python", "numpy")
FEATURES = 10  # inputs per sample in the article's examples
_SORT_SIZE = 4096


def _python_loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


@functools.cache
def _python_iterations_per_ms() -> float:
    n = 20_000
    best = min(_timed(lambda: _python_loop(n)) for _ in range(5))
    return n / (best * 1e3)


@functools.cache
def _sorts_per_ms() -> float:
    data = np.random.default_rng(0).random(_SORT_SIZE)
    best = min(_timed(lambda: np.sort(data)) for _ in range(20))
    return 1 / (best * 1e3)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def batch_work(kind: str, ms: float) -> Callable[[], None]:
    """A function costing about ``ms`` milliseconds of the given kind per call (0 ms: free)."""
    check_choice("kind", kind, WORK_KINDS)
    if ms == 0:
        return lambda: None
    ms = check_positive("ms per batch", ms, maximum=10_000)
    if kind == "sleep":
        return functools.partial(time.sleep, ms / 1e3)
    if kind == "python":
        n = max(1, int(ms * _python_iterations_per_ms()))

        def python_work() -> None:
            _python_loop(n)

        return python_work
    data = np.random.default_rng(1).random(_SORT_SIZE)
    sorts = max(1, int(ms * _sorts_per_ms()))

    def numpy_work() -> None:
        for _ in range(sorts):
            np.sort(data)

    return numpy_work


def random_batches(
    batch_size: int, features: int = FEATURES, work: Callable[[], None] | None = None, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The article's generator, in our own code: random inputs and 0/1 labels of shape (batch,)."""
    check_int("batch size", batch_size, 1, 65_536)
    rng = np.random.default_rng(seed)
    while True:
        if work is not None:
            work()
        yield (
            rng.random((batch_size, features), dtype=np.float32),
            rng.integers(0, 2, batch_size).astype(np.float32),
        )


def article_model(width: int) -> Any:
    """The article's model, compiled: ``FEATURES`` inputs, two hidden ``Dense(width)`` layers
    (none when ``width`` is 0) and one sigmoid unit, trained with Adam on binary cross-entropy.
    """
    import keras

    layers: list[Any] = [keras.Input((FEATURES,))]
    if width:
        layers += [
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
        ]
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
