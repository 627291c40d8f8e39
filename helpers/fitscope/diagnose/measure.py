"""The measurements behind a diagnosis: the step alone, alone under load, and in ``fit``.

The step alone is ``fit`` on one batch held in memory, so it pays everything a step in ``fit`` pays
except making data. Alone under load is the same while the learner's pipeline runs beside it on a
thread of its own, one batch pulled and dropped a step (:class:`.fit_parts.Beside`): the step slowed
by the data work sharing the CPU, with nothing to wait for; less the same with a batch held in
memory pulled beside it (the pulling's own cost, which ``fit`` does not pay: :func:`under_load`). In
``fit`` is ``fit`` on the learner's data, every batch's thread traced by fitscope's run scaffold. A
repeat runs the step under load first, then the step alone, the fit, and the step alone again: the
repeat's step alone is the mean of its two runs, which bracket the fit, so a machine that slows or
speeds up through the fit moves it as it moves the fit; how far the two runs fall apart, as a share
of the step in fit, is the step-alone noise the verdict reads (:func:`.figures.alone_noise`).
Per-thread CPU is sampled in all the arms alike: the sampler's own cost (a few per cent of a
millisecond step on a busy machine) then cancels. The arms alternate, repeat after repeat, so a
machine whose load changes meets all alike; repeats go on past ``repeats`` while the verdict is
undecided and the time budget allows. A step's time is the core's estimator
(:func:`fitscope.core.estimate.per_step`) of the intervals between step ends from the end of the
third on: their mean, interruptions left out (the first step may trace or compile; a generator's
first two are the batches Keras peeked at, made before fit began); for a queued ``PyDataset`` the
whole window's mean, pauses included, in every arm alike (:func:`.timed_fits.timed_fit` says why).
The first step diagnose trains is on the learner's data, as in their script: the process state (see
:data:`FIRST_STEP`) is then the script's. :class:`ModelState` keeps every variable ``fit`` changes,
so the model is left as it was found. Each arm is one ``fit`` of :mod:`.timed_fits` (its
:func:`timed_fit`, :func:`loaded_fit`, :func:`traced_fit` and :func:`warm_up` are importable from
here too).

Example:
    >>> auto_steps(data_s=0.040, step_s=0.001, quick=False)
    12
    >>> split(alone_s=0.25, loaded_s=0.375, in_fit_s=0.5)
    (0.5, 0.25, 0.25)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fitscope.core.alone import SKIP, FitTiming, held
from fitscope.diagnose.figures import alone_noise
from fitscope.diagnose.sources import DataCost, Source
from fitscope.diagnose.timed_fits import (
    SAMPLING_S,
    first_line,
    loaded_fit,
    timed_fit,
    traced_fit,
    warm_up,
)
from fitscope.instrument.budget import OtherLoad
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.measure import StepCosts
from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import Sampler

__all__ = [
    "FIRST_STEP",
    "MAX_REPEATS",
    "MIN_STEPS",
    "ModelState",
    "Measurement",
    "auto_steps",
    "bracketed",
    "build",
    "split",
    "under_load",
    "timed_fit",
    "loaded_fit",
    "warm_up",
    "traced_fit",
    "measure",
]

MIN_STEPS = SKIP + 3
DATA_CALLS = 4
MAX_REPEATS = 9
FIRST_STEP = "the first step trained on your data, as in your script"


def split(alone_s: float, loaded_s: float, in_fit_s: float) -> tuple[float, float, float]:
    """(input share, waiting, contention) of a step in fit, each a fraction of it, clipped at 0.

    The share is 1 - alone / in fit; waiting is (in fit - alone under load) / in fit, the
    training thread idle for its next batch; contention is (alone under load - alone) / in fit,
    the step slowed by the data work sharing the CPU. The step under load is first held between
    alone and in fit: faster than alone is noise, and slower than in fit means the pipeline
    beside worked harder than in fit, where the step it slowed cannot have been slowed by more
    than the whole share. So the two parts
    always sum to the share.

    Example:
        >>> split(0.25, 0.125, 0.5)
        (0.5, 0.5, 0.0)
        >>> split(0.25, 0.75, 0.5)
        (0.5, 0.0, 0.5)
    """
    share = max(0.0, 1 - alone_s / in_fit_s)
    loaded_s = min(max(loaded_s, alone_s), max(alone_s, in_fit_s))
    return (
        share,
        (in_fit_s - loaded_s) / in_fit_s if share else 0.0,
        (loaded_s - alone_s) / in_fit_s,
    )


def bracketed(alone: list[FitTiming], again: list[FitTiming]) -> list[float]:
    """Per repeat, the step alone: the mean of its runs just before and just after the fit.

    Example:
        >>> t = lambda s: FitTiming(10, s, 0.0, [], (0, 0))
        >>> bracketed([t(0.010), t(0.020)], [t(0.012), t(0.020)])
        [0.011, 0.02]
    """
    return [(a.step_s + b.step_s) / 2 for a, b in zip(alone, again)]


def under_load(alone_s: float, pulled_s: float, loaded_s: float) -> float:
    """The step alone plus what the pipeline's data work added to it: ``loaded_s`` (the step
    with the pipeline pulled beside it) less ``pulled_s`` (the same with a batch held in memory
    pulled instead), at least the step alone. The thread beside pays a Python call a batch that
    ``fit`` does not; measured on free data it slowed a 0.47 ms step by 25 %, which would read
    as contention.

    Example:
        >>> round(under_load(alone_s=0.010, pulled_s=0.012, loaded_s=0.015), 6)
        0.013
        >>> under_load(alone_s=0.010, pulled_s=0.012, loaded_s=0.011)  # inside the pull's cost
        0.01
    """
    return alone_s + max(0.0, loaded_s - pulled_s)


def auto_steps(data_s: float, step_s: float, quick: bool) -> int:
    """Steps per ``fit`` so that one lasts about half a second (a quarter in quick mode)."""
    target = 0.3 if quick else 0.5
    return int(min(100, max(8, target / max(data_s, step_s, 1e-4))))


def build(model: Any, batch: Any) -> None:
    """Create every variable ``fit`` would (layers, metrics, optimizer), changing no value."""
    try:
        model._symbolic_build(data_batch=batch)
    except Exception as e:  # Keras's own error names the mismatch
        raise FitscopeInputError(f"A batch does not fit this model: {first_line(e)}") from None


class ModelState:
    """Every variable ``fit`` changes (weights, optimizer, metrics, seeds) and ``model.history``.

    Example (any built, compiled Keras model):
        >>> state = ModelState(model)        # doctest: +SKIP
        >>> model.fit(x, y, verbose=0)       # doctest: +SKIP
        >>> state.restore()[0]               # doctest: +SKIP
        True
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.variables = _variables(model)
        self.values = [v.numpy().copy() for v in self.variables]
        self.history = getattr(model, "history", None)

    def restore(self) -> tuple[bool, str]:
        """Put every value back and check it: (all equal, a sentence saying what was done)."""
        try:
            for variable, value in zip(self.variables, self.values):
                variable.assign(value)
            self.model.history, self.model.stop_training = self.history, False
            differ = sum(
                v.numpy().tobytes() != value.tobytes()
                for v, value in zip(self.variables, self.values)
            )
            new = len(_variables(self.model)) - len(self.variables)
        except Exception as e:  # a model whose variables cannot be read back
            return False, (
                f"diagnose could not restore the model ({first_line(e)}): reload its weights."
            )
        if differ or new:
            return False, (
                f"diagnose could not restore the model: {differ} of {len(self.values)} "
                f"variables differ and {new} are new; reload its weights."
            )
        return True, (
            f"The model is as diagnose found it: all {len(self.values)} variables "
            "(weights, optimizer, metrics) were put back and checked equal."
        )


def _variables(model: Any) -> list[Any]:
    found: dict[int, Any] = {}
    optimizer = getattr(model, "optimizer", None)
    for v in (
        list(model.trainable_variables)
        + list(model.non_trainable_variables)
        + list(model.metrics_variables)
        + list(optimizer.variables if optimizer else [])
    ):
        found.setdefault(id(v), v)
    return list(found.values())


@dataclass
class Measurement:
    """Everything measured: the data alone; each repeat the step alone, alone under load, in
    fit and alone again; the traced run of the median repeat.
    """

    backend: str
    source: Source
    data: DataCost
    steps: int
    alone: list[FitTiming]
    pulled: list[FitTiming]  # the step alone with a held batch pulled beside it: no data work
    loaded: list[FitTiming]
    together: list[FitTiming]
    again: list[FitTiming]  # the step alone timed again, after the fit
    run: RunResult  # the traced run of the median repeat, together[median]
    median: int
    backend_threads: frozenset[int]
    beside_batches: int  # batches the pipeline beside the step under load took, in all
    others: list[float]  # per repeat, CPUs other processes kept busy meanwhile
    budget_s: float  # the time the repeats were allowed
    spent_s: float  # the time the repeats took

    @property
    def steps_alone_s(self) -> list[float]:
        """Per repeat, the step alone (:func:`bracketed`)."""
        return bracketed(self.alone, self.again)

    @property
    def step_alone_s(self) -> float:
        return statistics.median(self.steps_alone_s)

    @property
    def step_in_fit_s(self) -> float:
        return statistics.median(t.step_s for t in self.together)

    @property
    def alone_noise(self) -> float:
        """How far the step alone's two runs of a repeat fell apart (:func:`alone_noise`)."""
        runs = (self.alone, self.again, self.together)
        return alone_noise(*([t.step_s for t in arm] for arm in runs))

    @property
    def steps_under_load_s(self) -> list[float]:
        """Per repeat, the step under the pipeline's load, its pulling's own cost taken out
        (:func:`under_load`), held between the step alone and in fit as :func:`split` reads it,
        so the table prints the step the two parts were read from."""
        return [
            min(under_load(a, p.step_s, u.step_s), max(a, t.step_s))
            for a, p, u, t in zip(self.steps_alone_s, self.pulled, self.loaded, self.together)
        ]

    @property
    def parts(self) -> list[tuple[float, float, float]]:
        """Per repeat: (input share, waiting, contention), by :func:`split`."""
        return [
            split(a, u, t.step_s)
            for a, u, t in zip(self.steps_alone_s, self.steps_under_load_s, self.together)
        ]

    @property
    def shares(self) -> list[float]:
        """Per repeat: the share of a step in fit not spent on the step itself, floored at 0."""
        return [p[0] for p in self.parts]

    @property
    def waiting_share(self) -> float:
        """The median over repeats of the waiting part."""
        return statistics.median(p[1] for p in self.parts)

    @property
    def contention_share(self) -> float:
        """The median over repeats of the contention part."""
        return statistics.median(p[2] for p in self.parts)

    @property
    def costs(self) -> StepCosts:
        """Per step: the data alone and the step alone, wall and CPU (the bounds' inputs)."""
        return StepCosts(
            self.data.wall_s,
            self.step_alone_s,
            self.data.cpu_s,
            statistics.median((a.cpu_s + b.cpu_s) / 2 for a, b in zip(self.alone, self.again)),
        )


def measure(
    model: Any,
    source: Source,
    data: DataCost,
    batch: Any,
    steps: int | None,
    repeats: int,
    say: Callable[[str], None],
    data_role: str,
    decided: Callable[[list[float], float], bool],
    budget_s: float,
) -> Measurement:
    """Warm up on the data (the script's first step), then on the held batch; then repeat the
    step under load (a held batch, then the data, pulled beside it), the step alone, the traced
    fit and the step alone again, its two runs bracketing the fit: ``repeats`` times,
    and more (up to ``MAX_REPEATS``) while ``decided(shares, step-alone noise)`` is False and
    another repeat fits in ``budget_s``.
    """
    import keras

    from fitscope.instrument.environment import quick_mode
    from fitscope.instrument.sampling import thread_ids
    from fitscope.instrument.threads import ThreadRoles

    backend = keras.backend.backend()
    say("warm-up: training on your data (its first step, as in your script), then on one batch")
    first = warm_up(model, source.for_fit, source, "your data")
    warm = warm_up(model, lambda tracer: (held(batch, backend), {}), None, "one batch of your data")
    roles = ThreadRoles.current()
    started = frozenset(thread_ids()) - roles.baseline - {roles.main}
    if steps is None:  # an explicit number was checked against the data's length already
        steps = min(auto_steps(data.wall_s, warm.step_s, quick_mode()), source.available or 100)
    # under load, as long a run as in fit, no longer: data work beside can slow the step itself
    # (a Python producer on JAX's fit thread: 1700 steps of 18 ms, not 0.2 ms, 30 s a repeat)
    slower = max(data.wall_s, first.step_s) / max(warm.step_s, 1e-5)
    loaded_steps = int(min(max(steps, 2000), max(steps, steps * slower)))
    loaded_s = 1.5 * steps * max(data.wall_s, first.step_s, warm.step_s)
    arms: list[list[FitTiming]] = [[] for _ in range(5)]
    pulled, loaded, alone, together, again = arms  # in the order a repeat runs them
    runs: list[RunResult] = []
    beside, others = 0, []
    # a queued PyDataset's steps in fit are read over their whole window: so are the others
    alike = FitTiming.whole_window if source.queued else (lambda t: t)
    t0 = time.perf_counter()
    while len(alone) < repeats or (
        len(alone) < MAX_REPEATS
        and not decided(
            [split(a, 0.0, t.step_s)[0] for a, t in zip(bracketed(alone, again), together)],
            alone_noise(
                [t.step_s for t in alone], [t.step_s for t in again], [t.step_s for t in together]
            ),
        )
        and (time.perf_counter() - t0) * (len(alone) + 1) / len(alone) <= budget_s
    ):
        r = len(alone) + 1
        with OtherLoad() as load:
            with Sampler(interval_s=SAMPLING_S):  # as in fit: its cost is in every arm alike
                say(f"step alone with one batch in memory pulled beside it, repeat {r}")
                pulled.append(
                    alike(loaded_fit(model, batch, None, loaded_steps, warm.step_s, loaded_s)[0])
                )
                say(f"step alone with your pipeline running beside it, repeat {r}")
                timing, taken = loaded_fit(
                    model, batch, source, loaded_steps, warm.step_s, loaded_s
                )
                loaded.append(alike(timing))
                beside += taken
                say(f"step alone, repeat {r} ({steps} steps)")
                alone.append(alike(timed_fit(model, held(batch, backend), steps, {})))
            say(f"data and step together, traced, repeat {r}")
            costs = StepCosts(data.wall_s, alone[-1].step_s, data.cpu_s, alone[-1].cpu_s)
            timing, run = traced_fit(
                model,
                steps,
                source.for_fit,
                costs,
                source.workers,
                source,
                f"{source.kind} → fit on {backend}",
                data_role,
                started,
            )
            together.append(timing)
            runs.append(run)
            say(f"step alone again, repeat {r}")
            with Sampler(interval_s=SAMPLING_S):
                again.append(alike(timed_fit(model, held(batch, backend), steps, {})))
        others.append(load.others_cores)
    n = len(alone)
    median = sorted(range(n), key=lambda i: together[i].step_s)[n // 2]
    return Measurement(
        backend,
        source,
        data,
        steps,
        alone,
        pulled,
        loaded,
        together,
        again,
        runs[median],
        median,
        started,
        beside,
        others,
        budget_s,
        time.perf_counter() - t0,
    )
