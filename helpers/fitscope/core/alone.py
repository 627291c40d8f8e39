"""The step alone: ``fit`` on one batch held in memory, timed by the one clock and estimator.

It pays everything a step in ``fit`` pays except making data; every "step alone" in fitscope
(the lessons' bounds, ``diagnose``'s share) is this. :func:`timing` reads any ``fit`` a
:class:`~fitscope.core.clock.StepClock` watched the same way.

This module imports Keras inside its functions, after Keras is bound to its backend.

Example:
    >>> step_alone(model, batch, steps=12).step_s < 0.1   # doctest: +SKIP
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from fitscope.core.estimate import per_step

if TYPE_CHECKING:
    from fitscope.core.clock import Pace, StepClock
    from fitscope.instrument.tracing import Span

__all__ = ["SKIP", "WARM", "FitTiming", "as_tuples", "held", "step_alone", "timing"]

SKIP = 2
"""Steps timed from the end of step ``SKIP``: the first step may trace or compile, and a
generator's first two batches are the ones Keras peeked at, made before ``fit`` began."""

WARM = 5
"""More steps left out of a model's first ``fit``: its first steps after the graph is built
run up to twice as slow as the ones after them (measured: 2.3, 1.5, 1.3, 1.1, 0.9 ms for a
step that settles at 0.5 ms)."""


@dataclass(frozen=True)
class FitTiming:
    """One ``fit``: how many steps were timed, and wall and process CPU seconds per step."""

    steps: int
    step_s: float
    cpu_s: float
    spans: list[Span]
    window_ns: tuple[int, int]  # from the end of the first step timed to the end of the last
    intervals: list[tuple[int, float]] = field(default_factory=list)  # (steps, s) per_step read

    def whole_window(self) -> FitTiming:
        """The same fit with its step the mean of its whole window, pauses included: for a
        queue that fills while fit's loop pauses (a PyDataset's workers), where leaving a pause
        out as an interruption keeps the free burst after it and drops the wait.

        Example:
            >>> t = FitTiming(2, 0.010, 0.0, [], (0, 30_000_000), [(1, 0.010), (1, 0.020)])
            >>> round(t.whole_window().step_s, 3)
            0.015
        """
        start_ns, end_ns = self.window_ns
        return replace(self, step_s=(end_ns - start_ns) / 1e9 / self.steps)


def timing(clock: StepClock, skip: int = SKIP) -> FitTiming | None:
    """The steps ``clock`` saw from the end of step ``skip`` (fewer left: the last three);
    None when fewer than two step ends were seen.

    Example:
        >>> timing(StepClock()) is None   # doctest: +SKIP
        True
    """
    ends = clock.in_order()
    timed = ends[max(0, min(skip, len(ends) - 3)) :]
    if len(timed) < 2:
        return None
    (b0, t0, c0), (b1, t1, c1) = timed[0], timed[-1]
    intervals = [(j - i, (t - s) / 1e9) for (i, s, _), (j, t, _) in zip(timed, timed[1:])]
    cpu_s = (c1 - c0) / (b1 - b0)
    return FitTiming(b1 - b0, per_step(intervals), cpu_s, clock.spans(), (t0, t1), intervals)


def held(batch: Any, backend: str) -> Any:
    """One batch held in memory, repeated for ever: ``fit`` on it times the step with no input."""
    if backend == "tensorflow":
        import tensorflow as tf

        # tf.data reads a list as one tensor to stack; Keras's inputs given as a list are a tuple
        return tf.data.Dataset.from_tensors(as_tuples(batch)).repeat()

    def repeated() -> Iterator[Any]:
        while True:
            yield batch

    return repeated()


def as_tuples(x: Any) -> Any:
    """Lists inside a batch as tuples (a multi-input model's list of arrays), dicts kept.

    Example:
        >>> as_tuples(([1, [2, 3]], {"y": [4]}))
        ((1, (2, 3)), {'y': (4,)})
    """
    if isinstance(x, (list, tuple)):
        return tuple(as_tuples(v) for v in x)
    if isinstance(x, dict):
        return {k: as_tuples(v) for k, v in x.items()}
    return x


def step_alone(
    model: Any,
    batch: Any,
    steps: int,
    pace: Pace | None = None,
    fit: Callable[..., Any] | None = None,
) -> FitTiming:
    """``fit`` on ``batch`` held in memory, ``steps`` steps timed from the end of step ``SKIP``
    (``SKIP + WARM`` in a model's first ``fit``).

    It trains ``model`` on ``batch``. ``pace`` is stepped once a step begun; ``fit`` is the
    unbound ``fit`` to call (default: the model's own).
    """
    import keras

    from fitscope.core.clock import StepClock

    clock = StepClock(pace=pace)
    skip = SKIP + (WARM if getattr(model, "train_function", None) is None else 0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
        (fit or type(model).fit)(
            model,
            held(batch, keras.backend.backend()),
            steps_per_epoch=skip + 1 + max(1, steps),
            epochs=1,
            verbose=0,
            shuffle=False,
            callbacks=[clock],
        )
    found = timing(clock, skip)
    if found is None:
        raise RuntimeError(f"fit on a held batch reported {len(clock.ends)} step end(s)")
    return found
