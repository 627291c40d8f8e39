"""Your own ``model.fit``, traced: which OS thread made each batch, ran each step, burnt what CPU.

Inside ``with traced_fit() as traced:`` the first ``model.fit`` called on a Python generator (or
iterator) or a ``keras.utils.PyDataset`` runs as you wrote it, with every ``next()`` (or
``__getitem__``) and every step recorded on the thread that ran it and each thread's CPU clock
sampled; ``traced.result`` is the :class:`~fitscope.instrument.result.RunResult`, its facts and
reading made by :mod:`fitscope.experiments.traced_facts`. Around it the costs that draw the two
bounds are measured twice, before and after ``fit``: a batch made alone on this thread, and a
step of ``fit`` on one batch held in memory (which trains your model on that batch for a few
more steps). Both are timed by the measurement core (:mod:`fitscope.core`, the clock and
estimator ``diagnose`` uses), the intervals of both measurements read together; a run that beats
the ideal bound beyond their spread is read as beating it.

Example:
    >>> with traced_fit() as traced:                                      # doctest: +SKIP
    ...     model.fit(batches(), steps_per_epoch=30, epochs=2, verbose=0)
    >>> len(traced.result.spans_of("generator"))                         # doctest: +SKIP
    62
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fitscope.core.estimate import median_spread, per_step, timed_calls
from fitscope.experiments.traced_facts import generator_facts, reading
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.measure import Live, MeasuredRun, StepCosts, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.threads import ThreadRoles
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer

__all__ = ["PYDATASET_WORKERS", "Cost", "TracedFit", "traced_fit", "step_alone"]

PYDATASET_WORKERS = "PyDataset worker threads (ran Python)"


@dataclass(frozen=True)
class Cost(ShowsItself):
    """Wall and CPU seconds of one call, measured once or more; ``intervals`` holds every
    measurement's timed intervals, which the core's estimator reads together.
    """

    what: str
    wall_s: list[float]  # each measurement's own estimate
    cpu_s: list[float]
    calls: int
    intervals: list[tuple[int, float]]

    @property
    def estimate_s(self) -> float:
        """Every measurement's intervals read by :func:`fitscope.core.estimate.per_step`: what
        the bounds use (an interruption in one measurement is left out, not averaged in)."""
        return per_step(self.intervals)

    @property
    def spread(self) -> float:
        """How far the measurements lie apart, as a share of their median (0 for one)."""
        return median_spread(self.wall_s)[1]

    @property
    def cpu_estimate_s(self) -> float:
        return median_spread(self.cpu_s)[0]

    def table(self) -> Table:
        each = ", ".join(f"{1e3 * s:.2f}" for s in self.wall_s)
        return Table(
            ("quantity", "measured"),
            [
                (f"{self.what}: wall ms a call over {self.calls} calls, each measurement", each),
                ("CPU ms (median)", f"{1e3 * self.cpu_estimate_s:.2f}"),
            ],
            reading=f"{self.what.capitalize()}: {1e3 * self.estimate_s:.2f} ms wall and "
            f"{1e3 * self.cpu_estimate_s:.2f} ms CPU a call (the {len(self.intervals)} calls "
            f"of {len(self.wall_s)} measurement(s) read together, measurements "
            f"{100 * self.spread:.0f}% apart).",
        )


def _merged(a: Cost, b: Cost | None) -> Cost:
    if b is None:
        return a
    return Cost(a.what, a.wall_s + b.wall_s, a.cpu_s + b.cpu_s, a.calls, a.intervals + b.intervals)


def step_alone(model: Any, batch: Any, steps: int = 12, repeats: int = 1) -> Cost:
    """One step of ``model.fit`` on ``batch`` held in memory, ``repeats`` times, each timed by
    the core (:func:`fitscope.core.alone.step_alone`): wall and process CPU a step.

    It trains ``model`` on ``batch`` for a few more than ``steps`` steps a repeat.

    Example:
        >>> step_alone(model, next(batches()), steps=10).estimate_s < 0.1     # doctest: +SKIP
        True
    """
    from fitscope.core.alone import step_alone as held_fit

    timings = [held_fit(model, batch, steps, fit=_ORIGINAL_FIT) for _ in range(repeats)]
    return Cost(
        "one step of fit, its batch held in memory",
        [t.step_s for t in timings],
        [t.cpu_s for t in timings],
        steps,
        [i for t in timings for i in t.intervals],
    )


def _batch_alone(make: Callable[[], Any], calls: int) -> tuple[Cost, Any]:
    """Time ``calls`` calls of ``make`` on this thread: (its cost, the last batch made)."""
    made: list[Any] = []
    walls, cpus = timed_calls(lambda: made.append(make()), calls)
    cost = Cost("one batch made alone", [per_step(walls)], [sum(cpus) / calls], calls, walls)
    return cost, made[-1]


@dataclass
class TracedFit:
    """What :func:`traced_fit` saw: the run (``result``) and the costs measured around it."""

    live: Live | None = None
    time_budget_s: float | None = None
    name: str | None = None
    result: RunResult | None = None
    producer: Cost | None = None
    step: Cost | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def fit(
        self, fit: Callable[..., Any], model: Any, x: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        """``fit`` as called, traced (the first call only; later calls run untouched)."""
        if self.result is not None:
            return fit(model, x, *args, **kwargs)
        import keras

        source = _Source(x, keras)
        steps = kwargs.get("steps_per_epoch") or source.length()
        epochs = kwargs.get("epochs", 1)
        calls = max(4, min(10, steps // 4))
        self.producer, batch = _batch_alone(source.make_one, calls)
        self.step = step_alone(model, batch, calls)
        with measured_run(self.live, self.time_budget_s) as run:
            from fitscope.core.clock import StepClock

            trace_cb = StepClock(run.tracer)
            costs = self._costs()
            run.expect(steps * epochs, costs, source.workers)
            callbacks = list(kwargs.pop("callbacks", None) or []) + [trace_cb, run.keras_control()]
            data = source.traced(run.tracer)
            try:
                with run.sampling(), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
                    history = fit(model, data, *args, callbacks=callbacks, **kwargs)
            finally:
                source.untraced()
                del data  # tf.data's iterator threads end when it is collected
        self.producer = _merged(self.producer, source.again(calls))
        self.step = _merged(self.step, step_alone(model, batch, calls))
        run.costs = self._costs()
        self.result = self._result(run, trace_cb, source)
        return history

    def finished(self) -> RunResult:
        """The traced run's result; RuntimeError when ``fit`` was never called."""
        if self.result is None:
            raise RuntimeError("fit was not called inside traced_fit, so no run was traced")
        return self.result

    def _measured(self) -> tuple[Cost, Cost]:
        """The producer's and the step's costs, measured before the traced run."""
        if self.producer is None or self.step is None:
            raise RuntimeError("the producer and the step are measured before the traced run")
        return self.producer, self.step

    def _costs(self) -> StepCosts:
        producer, step = self._measured()
        return StepCosts(
            producer.estimate_s, step.estimate_s, producer.cpu_estimate_s, step.cpu_estimate_s
        )

    def _result(self, run: MeasuredRun, trace_cb: Any, source: _Source) -> RunResult:
        from fitscope.core.peek import peeked_batches

        ends = trace_cb.batch_ends_ns
        name = self.name or f"{source.kind} → fit"
        result = run.result(
            name,
            {"batch_size": source.batch_size, **self.extra},
            steps_done=len(ends) - 1,
            tf_data_tids=run.tracer.tids("generator"),
        )
        if len(ends) > 1:
            result.throughput = throughput_from_ends(ends[1:], source.batch_size, ends[0])
        producer, step = self._measured()
        costs = dict(
            t_p1=producer.estimate_s,
            cpu_p1=producer.cpu_estimate_s,
            t_c1=step.estimate_s,
            cpu_c1=step.cpu_estimate_s,
            spread=max(producer.spread, step.spread),
        )
        if source.indexed:  # the threads that ran __getitem__ are Keras's workers, not tf.data's
            for tid in run.tracer.tids("generator") - {run.roles.main}:
                result.roles[tid] = PYDATASET_WORKERS
        result.facts.update(
            generator_facts(
                result,
                run.tracer,
                trace_cb,
                peeked_batches(),
                run.roles.main,
                costs,
            )
        )
        result.reading = reading(result, peeks=not source.indexed)
        return result


class _Source:
    """The data passed to ``fit``: a generator or iterator, or a PyDataset; traced for the run."""

    def __init__(self, x: Any, keras: Any) -> None:
        self.x, self.indexed = x, isinstance(x, keras.utils.PyDataset)
        if not self.indexed and not isinstance(x, Iterator):
            raise FitscopeInputError(
                f"traced_fit follows a Python generator or a keras.utils.PyDataset, not "
                f"{type(x).__name__}: fitscope.diagnose measures any data fit takes."
            )
        self.kind = f"{type(x).__name__} (PyDataset)" if self.indexed else "generator"
        self.workers = max(1, getattr(x, "workers", 1)) if self.indexed else 1
        self.processes = self.indexed and bool(getattr(x, "use_multiprocessing", False))
        self.batch_size, self._i = 0, 0

    def length(self) -> int:
        n = getattr(self.x, "num_batches", None) if self.indexed else None
        if not n:
            raise FitscopeInputError("pass steps_per_epoch: this data does not say its length.")
        return n

    def make_one(self) -> Any:
        if self.indexed:
            batch = self.x[self._i % self.length()]
            self._i += 1
        else:
            batch = next(self.x)
        self.batch_size = len(batch[0])
        return batch

    def again(self, calls: int) -> Cost | None:
        """The batch cost measured again after fit, where the data can still give batches."""
        try:
            return _batch_alone(self.make_one, calls)[0]
        except (StopIteration, ValueError):  # a finite generator ended, or one still runs
            return None

    def traced(self, tracer: Tracer) -> Any:
        """The data as fit gets it: every batch made is a "generator" span on its thread."""
        if not self.indexed:
            return tracer.wrap_generator(self.x, capture_stacks=True)
        if not self.processes:  # batches made in other processes cannot be traced from here
            self.x.__class__ = _traced_class(type(self.x), tracer)
        return self.x

    def untraced(self) -> None:
        """Give a PyDataset back its own class."""
        if self.indexed:
            self.x.__class__ = getattr(type(self.x), "_untraced", type(self.x))


def _traced_class(cls: type[Any], tracer: Tracer) -> type:
    """``cls`` whose ``__getitem__`` records a "generator" span on the thread that runs it."""

    def __getitem__(self: Any, index: int) -> Any:
        with tracer.span("__getitem__", "generator"):
            return cls.__getitem__(self, index)

    return type(
        cls.__name__,
        (cls,),
        {"__getitem__": __getitem__, "_untraced": cls, "__module__": cls.__module__},
    )


_ORIGINAL_FIT: Callable[..., Any] | None = None


@contextmanager
def traced_fit(
    live: Live | None = None,
    time_budget_s: float | None = None,
    name: str | None = None,
    **params: Any,
) -> Iterator[TracedFit]:
    """Trace the first ``model.fit`` called inside the block; see the module's docstring.

    ``live`` gets every step (a panel's display), ``time_budget_s`` stops ``fit`` early,
    ``name`` and ``params`` label the result. A block in which no such ``fit`` ran raises
    :class:`~fitscope.instrument.errors.FitscopeInputError` on the way out.
    """
    global _ORIGINAL_FIT
    ThreadRoles.current().warm_up_tensorflow()  # before Keras: TensorFlow's threads, by id
    import keras

    traced = TracedFit(live, time_budget_s, name, extra=params)
    own = "fit" in vars(keras.Model)
    original = _ORIGINAL_FIT = keras.Model.fit

    def fit(model: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        return traced.fit(original, model, x, *args, **kwargs)

    keras.Model.fit = fit
    try:
        yield traced
    finally:
        if own:
            keras.Model.fit = original
        else:
            del keras.Model.fit
        _ORIGINAL_FIT = None
    if traced.result is None:
        raise FitscopeInputError(
            "no model.fit on a generator or PyDataset ran inside the traced_fit block."
        )
