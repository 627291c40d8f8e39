"""The run scaffold every scenario uses: warm-up, budget, tracer, sampling, bounds, a RunResult.

A measured run always does the same things around the experiment itself: TensorFlow is warmed
up (so its threads are known by id before anything is timed), the CPU budget B is read, a
tracer records spans, per-thread CPU is sampled while the experiment runs (with what other
processes used), the ideal bounds are drawn from per-step costs measured alone, and the live
display is told about every step. After a run stopped early by its time budget, the bounds are
recomputed for the steps that ran. :func:`measured_run` does all of that once; a scenario only
runs its experiment and names what it measured.

Example:
    >>> import time
    >>> with measured_run(warm_up=False) as run:
    ...     bounds = run.expect(3, StepCosts(producer_s=0.001, train_s=0.002))
    ...     with run.sampling():
    ...         for i in range(3):
    ...             with run.tracer.span(f"step {i}", "train"):
    ...                 time.sleep(0.002)
    ...             run.step()
    >>> result = run.result("three sleeps", steps_done=3)
    >>> len(result.spans_of("train")), result.bounds.sequential_s > 0
    (3, True)
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from fitscope.instrument.bounds import Bounds, bounds
from fitscope.instrument.budget import CpuBudget, OtherLoad, cpu_budget
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import Sampler
from fitscope.instrument.threads import ThreadRoles
from fitscope.instrument.tracing import Tracer

__all__ = [
    "Costs",
    "Live",
    "StepCosts",
    "MeasuredRun",
    "measured_run",
    "control_callback",
]


class Live(Protocol):
    """What a live display gets from a running scenario (all calls on the cell's thread)."""

    def start(
        self,
        tracer: Tracer,
        total_steps: int,
        bound_rate: float | None,
        sequential_rate: float | None,
    ) -> None: ...

    def step(self) -> None: ...

    def finish(self) -> None: ...


class Costs(Protocol):
    """What a run's costs give it: the bounds for ``steps`` steps (:class:`StepCosts` per step;
    tf.data's per-stage costs in :mod:`fitscope.lessons.tfdata.runs`)."""

    def bounds(self, steps: int, workers: int, cpus: float) -> Bounds: ...


@dataclass(frozen=True)
class StepCosts:
    """What one step costs when measured alone: making its data and training on it (seconds)."""

    producer_s: float
    train_s: float
    producer_cpu_s: float | None = None
    train_cpu_s: float | None = None

    def bounds(self, steps: int, workers: int, cpus: float) -> Bounds:
        """Both ideal times for ``steps`` steps with ``workers`` producers and B = ``cpus``."""
        cpu_p = None if self.producer_cpu_s is None else steps * self.producer_cpu_s
        cpu_c = None if self.train_cpu_s is None else steps * self.train_cpu_s
        return bounds(steps * self.producer_s, steps * self.train_s, workers, cpus, cpu_p, cpu_c)


def control_callback(live: Live | None, deadline: float | None) -> Any:
    """A Keras callback that tells ``live`` of every step and stops ``fit`` at ``deadline``."""
    import keras

    class Control(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no stubs
        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if live is not None:
                live.step()
            if deadline is not None and time.perf_counter() > deadline:
                self.model.stop_training = True

    return Control()


class MeasuredRun:
    """One run in progress: its tracer, thread roles, budget, costs, deadline and live display.

    Made by :func:`measured_run`; see the module's example.
    """

    def __init__(
        self, live: Live | None, time_budget_s: float | None, interval_s: float, warm_up: bool
    ) -> None:
        self.roles = ThreadRoles.current()
        if warm_up:
            self.roles.warm_up_tensorflow()
        self.budget: CpuBudget = cpu_budget()
        self.tracer = Tracer()
        self.live = live
        self.time_budget_s = time_budget_s
        self.deadline: float | None = None
        self.interval_s = interval_s
        self.costs: Costs | None = None
        self.workers = 1
        self.total_steps = 0
        self.sampler: Sampler | None = None
        self.free_cpus: float | None = None

    def expect(
        self, total_steps: int, costs: Costs | None = None, workers: int = 1
    ) -> Bounds | None:
        """Say how many steps will run and what each costs; starts the live display and the clock.

        The bounds are for the ``total_steps - 1`` steps after the first (the first step also
        traces the train function, so throughput is counted from its end).
        """
        self.total_steps, self.costs, self.workers = total_steps, costs, workers
        b = self.bounds_for(total_steps - 1)
        if self.live is not None:
            n = total_steps - 1
            self.live.start(
                self.tracer,
                total_steps,
                n / b.overlapped_s if b else None,
                n / b.sequential_s if b else None,
            )
        if self.time_budget_s:
            self.deadline = time.perf_counter() + self.time_budget_s
        return b

    def bounds_for(self, steps: int) -> Bounds | None:
        """The ideal times for ``steps`` steps, or None without costs or steps."""
        if self.costs is None or steps <= 0:
            return None
        return self.costs.bounds(steps, self.workers, self.budget.cpus)

    def step(self) -> None:
        """One step ended (for experiments that are not driven by Keras's callbacks)."""
        if self.live is not None:
            self.live.step()

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def keras_control(self) -> Any:
        """The Keras callback that reports steps to the live display and honours the deadline."""
        return control_callback(self.live, self.deadline)

    @contextmanager
    def sampling(self) -> Iterator[Sampler]:
        """Sample per-thread CPU (and other processes' load) while the experiment runs."""
        with Sampler(interval_s=self.interval_s) as sampler, OtherLoad() as load:
            self.sampler = sampler
            yield sampler
        self.free_cpus = load.free_cpus(self.budget.cpus)

    def result(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        steps_done: int | None = None,
        tf_data_tids: Iterable[int] = (),
        **fields: Any,
    ) -> RunResult:
        """The RunResult: spans, CPU samples, roles of every thread seen, B, bounds, environment.

        ``steps_done`` is how many steps the bounds cover (fewer than expected after an early
        stop); ``tf_data_tids`` are the threads a tracer saw inside tf.data (the main thread is
        never one of them); ``fields`` go to the RunResult as they are.
        """
        spans = self.tracer.spans()
        samples = self.sampler.samples if self.sampler is not None else None
        tids = {s.tid for s in spans if s.tid is not None} | set(samples.cpu_ns if samples else ())
        result = RunResult(
            name=name,
            params=params or {},
            spans=spans,
            budget=self.budget,
            bounds=self.bounds_for(steps_done) if steps_done is not None else None,
            roles=self.roles.roles(
                tids,
                set(tf_data_tids) - {self.roles.main},
                samples.sampler_tid if samples else None,
            ),
            environment=environment_facts(),
            **fields,
        )
        if samples is not None:
            result.cpu = samples
        if self.free_cpus is not None:
            result.facts.setdefault("free_cpus", self.free_cpus)
        return result


@contextmanager
def measured_run(
    live: Live | None = None,
    time_budget_s: float | None = None,
    interval_s: float = 0.02,
    warm_up: bool = True,
) -> Iterator[MeasuredRun]:
    """Open a :class:`MeasuredRun`; on the way out the live display gets its last frame (also
    after an error or Kernel › Interrupt) and the experiment's objects are collected, so
    tf.data's iterator threads have ended before the next run starts.
    """
    run = MeasuredRun(live, time_budget_s, interval_s, warm_up)
    try:
        yield run
    finally:
        if live is not None and run.total_steps:
            live.finish()
        gc.collect()
