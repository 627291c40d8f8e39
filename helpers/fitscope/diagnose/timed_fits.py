"""One ``fit``, timed: the arms a diagnosis repeats, each a function of its own.

:func:`timed_fit` times ``fit`` for some steps on whatever it is given (the step alone is it on
a batch held in memory); :func:`loaded_fit` the same while the learner's pipeline, or a held
batch, is pulled beside the step (:class:`.fit_parts.Beside`); :func:`traced_fit` runs it inside
fitscope's run scaffold, batches traced and per-thread CPU sampled every ``SAMPLING_S``;
:func:`warm_up` traces or compiles the step before anything is timed. A failure that is the
data's is a :class:`~fitscope.instrument.errors.FitscopeInputError` of one sentence
(:func:`first_line`). :mod:`.measure` alternates them and reads what they timed.

Example:
    >>> first_line(ValueError("Exception encountered when calling X.call().\\n\\nbad shape"))
    'bad shape.'
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fitscope.core.alone import SKIP, FitTiming, held, timing
from fitscope.diagnose.sources import Source, queued
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.measure import StepCosts, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.throughput import Throughput
from fitscope.instrument.tracing import Tracer

if TYPE_CHECKING:  # the clock imports Keras: at run time, only inside functions
    from fitscope.core.clock import Pace

__all__ = [
    "SAMPLING_S",
    "WARM_STEPS",
    "first_line",
    "loaded_fit",
    "timed_fit",
    "traced_fit",
    "warm_up",
]

WARM_STEPS = SKIP + 2
SAMPLING_S = 0.02  # per-thread CPU sampled in every arm at this interval: its cost cancels out


def first_line(e: BaseException) -> str:
    """The line of an error that says what is wrong, as one sentence: Keras's "Exception
    encountered when calling ..." header and its terminal colour codes left out.

    Example:
        >>> first_line(ValueError("Exception encountered when calling X.call().\\n\\n"
        ...     "\\x1b[1mexpected axis -1 to have value 10, but received shape (32, 7)\\x1b[0m"))
        'expected axis -1 to have value 10, but received shape (32, 7).'
    """
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(e).splitlines()]
    said = [line for line in lines if line and not line.startswith("Exception encountered when")]
    text = said[0] if said else type(e).__name__
    text = text if len(text) <= 240 else text[:237] + "..."
    return text if text.endswith((".", "!", "?")) else text + "."


def timed_fit(
    model: Any,
    x: Any,
    steps: int,
    fit_kwargs: dict[str, Any],
    source: Source | None = None,
    pace: Pace | None = None,
    within_s: float | None = None,
) -> FitTiming:
    """``fit`` for ``steps`` steps on ``x``, or fewer once ``within_s`` seconds have passed
    (at least ``SKIP + 3``); data that ends first is a FitscopeInputError.

    A PyDataset with workers fills its queue before the first step: those steps are not timed,
    and as many more are run, so that as many are timed as without a queue. Its steps are the
    mean of the whole window, pauses included: its workers go on making batches through a pause
    of fit's loop, and the steps after it take them from the queue at no cost, so leaving the
    pause out (the estimator's rule for interruptions) would keep the burst and drop the wait.
    ``pace`` (a :class:`fitscope.core.clock.Pace`) is stepped once a step begun.
    """
    from fitscope.core.clock import StepClock

    skip = SKIP
    if queued(x):
        skip += x.max_queue_size
        steps += x.max_queue_size
    steps = max(steps, skip + 3)
    if source is not None and source.available is not None:
        steps = min(steps, source.available)
    start, least = time.perf_counter(), skip + 3
    stopped: list[int] = []  # the step ends seen when fit was asked to stop in time

    def in_time() -> None:
        late = within_s is not None and time.perf_counter() - start > within_s
        if late and len(clock.ends) >= least and not stopped:
            model.stop_training = True
            stopped.append(len(clock.ends))

    clock = StepClock(pace=pace, on_step=in_time)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
        try:
            model.fit(
                x, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[clock], **fit_kwargs
            )
        except Exception:
            if source is None or not source.ended:
                raise
    ends = clock.in_order()
    done = ends[-1][0] + 1 if ends else 0
    if done < (stopped[0] if stopped else steps):
        raise FitscopeInputError(_ended(source, done, steps))
    found = timing(clock, skip)
    if found is None:
        raise FitscopeInputError(
            f"fit reported {len(ends)} step end(s) for {steps} steps: pass "
            "more steps than the model's steps_per_execution times 4."
        )
    return found.whole_window() if queued(x) else found


def _ended(source: Source | None, done: int, steps: int) -> str:
    if source is not None and not source.reiterable:
        return (
            f"The {source.kind} ended after {source.taken} batches in all, during a run of "
            f"{steps} steps: give diagnose more batches, or pass fewer steps."
        )
    return (
        f"The data ran out after {done} of the {steps} steps asked: pass steps={max(done, 1)} "
        "or fewer, or data that repeats."
    )


def loaded_fit(
    model: Any, batch: Any, source: Source | None, steps: int, step_s: float, within_s: float
) -> tuple[FitTiming, int]:
    """The step alone on ``batch`` (about ``step_s``) while ``source``'s pipeline runs beside
    it, for ``steps`` steps or ``within_s`` seconds, whichever ends first: (timing, batches
    the pipeline beside took). With no ``source`` the thread beside pulls ``batch`` held in
    memory, through the same Keras adapter: the pulling's own cost, which ``fit`` does not
    pay, with no data work (the zero of the contention part).
    """
    import keras

    from fitscope.diagnose.fit_parts import Beside

    backend = keras.backend.backend()
    x, kwargs = source.for_fit(Tracer()) if source is not None else (held(batch, backend), {})
    reiterable = source.reiterable if source is not None else True
    with Beside(x, kwargs, steps, reiterable, step_s) as load:
        timing = timed_fit(
            model, held(batch, backend), steps, {}, pace=load.pace, within_s=within_s
        )
    if load.error is not None:
        raise FitscopeInputError(f"Reading your data failed: {first_line(load.error)}")
    return timing, load.pulled


def warm_up(
    model: Any,
    make_x: Callable[[Tracer], tuple[Any, dict[str, Any]]],
    source: Source | None,
    what: str,
) -> FitTiming:
    """A short ``fit`` that traces or compiles the step for this data before anything is timed.

    Buffers that filled while the step compiled would otherwise make the first timed steps
    look free. A failure here is the data's: one sentence says so.
    """
    x, kwargs = make_x(Tracer())
    try:
        return timed_fit(model, x, WARM_STEPS, kwargs, source)
    except FitscopeInputError:
        raise
    except Exception as e:  # Keras's own error names the mismatch
        raise FitscopeInputError(f"Training on {what} failed: {first_line(e)}") from None


def traced_fit(
    model: Any,
    steps: int,
    make_x: Callable[[Tracer], tuple[Any, dict[str, Any]]],
    costs: StepCosts,
    workers: int,
    source: Source,
    name: str,
    data_role: str,
    backend_threads: frozenset[int] = frozenset(),
) -> tuple[FitTiming, RunResult]:
    """``fit`` inside fitscope's run scaffold: batches traced, per-thread CPU sampled, bounds drawn.

    ``make_x`` gets the run's tracer and returns what ``fit`` trains on; the threads other than
    the main one that made batches get ``data_role``, the ``backend_threads`` (started by the
    backend before this run) are named for the backend.
    """
    with measured_run(interval_s=SAMPLING_S, warm_up=False) as run:
        x, kwargs = make_x(run.tracer)
        run.expect(steps, costs, workers)
        with run.sampling():
            timing = timed_fit(model, x, steps, kwargs, source)
        x = None  # tf.data's iterator threads end when it is collected, on the way out
    result = run.result(name, {"steps": steps, "workers": workers}, steps_done=timing.steps)
    import keras

    from fitscope.instrument.backends import LABELS

    backend = LABELS.get(keras.backend.backend(), keras.backend.backend())
    for tid in backend_threads & set(result.roles):
        result.roles[tid] = f"threads {backend} created"
    for tid in run.tracer.tids("generator") - {run.roles.main}:
        result.roles[tid] = data_role
    result.spans = sorted(result.spans + timing.spans, key=lambda s: s.start_ns)
    result.throughput = Throughput(
        steps=timing.steps,
        elapsed_s=timing.steps * timing.step_s,
        samples_per_step=source.batch_size,
    )
    return timing, result
