"""Measured experiments, each returning a :class:`~fitscope.result.RunResult`.

Foundation scenario: a Python generator passed to ``model.fit`` (the article's example 1), traced
in every ``next()`` and every train step, with per-thread CPU sampled throughout.

Example:
    >>> r = generator_fit(steps=6, epochs=1, width=0)        # doctest: +SKIP
    >>> r.facts["next_calls_total"] >= 6                       # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import claims
from .budget import bounds, cpu_budget
from .environment import environment_facts, quick_mode
from .errors import check_choice, check_int, check_positive
from .result import RunResult
from .sampling import Sampler
from .threads import ThreadRoles
from .throughput import throughput_from_ends
from .tracing import Tracer
from .workloads import WORK_KINDS, batch_work, random_batches

__all__ = ["Live", "GeneratorFitParams", "generator_fit", "generator_fit_verdicts", "keras_frames"]


class Live(Protocol):
    """What a live display gets from a running scenario (all calls on the cell's thread)."""

    def start(self, tracer: Tracer, total_steps: int, bound_rate: float | None,
              sequential_rate: float | None) -> None: ...

    def step(self) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class GeneratorFitParams:
    """The workload of :func:`generator_fit`, validated on construction."""

    kind: str = "sleep"
    ms_per_batch: float = 2.0
    batch_size: int = 32
    width: int = 0
    steps: int = 100
    epochs: int = 2

    def __post_init__(self) -> None:
        check_choice("generator kind", self.kind, WORK_KINDS)
        if self.ms_per_batch != 0:
            check_positive("ms per batch", self.ms_per_batch, maximum=1000)
        check_int("batch size", self.batch_size, 1, 8192)
        check_int("model width", self.width, 0, 4096)
        check_int("steps per epoch", self.steps, 3, 100_000)
        check_int("epochs", self.epochs, 1, 1000)

    @classmethod
    def default(cls, **overrides: Any) -> GeneratorFitParams:
        """Defaults sized for the mode: quick mode (CI) shrinks steps, never the logic."""
        base = {"steps": 30, "epochs": 2} if quick_mode() else {"steps": 100, "epochs": 3}
        return cls(**{**base, **overrides})


def _build_model(width: int, features: int) -> Any:
    import keras

    layers: list[Any] = [keras.Input((features,))]
    if width:
        layers += [keras.layers.Dense(width, activation="relu"),
                   keras.layers.Dense(width, activation="relu")]
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def _control_callback(live: Live | None, deadline: float | None) -> Any:
    import keras

    class Control(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if live is not None:
                live.step()
            if deadline is not None and time.perf_counter() > deadline:
                self.model.stop_training = True

    return Control()


def _cost_per_call(fn: Callable[[], object], calls: int,
                   cpu_clock: Callable[[], float] = time.thread_time) -> tuple[float, float]:
    """(wall s, CPU s on ``cpu_clock``: this thread's by default) per call of ``fn``."""
    wall0, cpu0 = time.perf_counter(), cpu_clock()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - wall0) / calls, (cpu_clock() - cpu0) / calls


def keras_frames(stack: list[Any]) -> list[str]:
    """The Keras and TensorFlow frames of a captured stack, as 'package/file.py:function'."""
    out = []
    for frame in stack:
        path = frame.filename.replace(os.sep, "/")
        for package in ("keras/", "tensorflow/"):
            if f"site-packages/{package}" in path:
                out.append(package + path.split(f"site-packages/{package}", 1)[1] + f":{frame.name}")
    return out


def generator_fit(params: GeneratorFitParams | None = None, *, live: Live | None = None,
                  time_budget_s: float | None = None, features: int = 10,
                  **overrides: Any) -> RunResult:
    """Train the article's model from a traced Python generator and measure who did what.

    Costs are measured up front on this machine (producer alone on one thread, one train step
    alone) to draw the bounds; then ``fit`` runs with every ``next()`` and step traced and
    per-thread CPU sampled. Throughput counts from the end of the first step (so tracing the
    train function is left out) to the end of the last.
    """
    if params is not None and overrides:
        raise ValueError("give either params or keyword overrides, not both")
    p = params or GeneratorFitParams.default(**overrides)
    roles = ThreadRoles.current()
    roles.warm_up_tensorflow()
    from keras.src.trainers.data_adapters import data_adapter_utils

    peeked = data_adapter_utils.NUM_BATCHES_FOR_TENSOR_SPEC
    budget = cpu_budget()
    work = batch_work(p.kind, p.ms_per_batch)

    model = _build_model(p.width, features)
    x, y = next(random_batches(p.batch_size, features))
    model.train_on_batch(x, y)  # builds and traces the train step before anything is timed
    calls = max(3, min(20, p.steps))
    t_p1, cpu_p1 = _cost_per_call(work, calls)
    t_c1, cpu_c1 = _cost_per_call(lambda: model.train_on_batch(x, y), calls, time.process_time)

    tracer = Tracer()
    trace_cb = tracer.keras_callback()
    gen = tracer.wrap_generator(random_batches(p.batch_size, features, work), capture_stacks=True)
    total = p.steps * p.epochs
    n = total - 1
    b = bounds(n * t_p1, n * t_c1, 1, budget.cpus, n * cpu_p1, n * cpu_c1)
    if live is not None:
        live.start(tracer, total, n / b.overlapped_s, n / b.sequential_s)
    deadline = time.perf_counter() + time_budget_s if time_budget_s else None
    with Sampler(interval_s=0.02) as sampler:
        model.fit(gen, steps_per_epoch=p.steps, epochs=p.epochs, verbose=0, shuffle=False,
                  callbacks=[trace_cb, _control_callback(live, deadline)])
    if live is not None:
        live.finish()

    spans = tracer.spans()
    ends = trace_cb.batch_ends_ns
    done = len(ends) - 1
    if done != n:  # stopped early by the time budget: bounds for the steps that ran
        b = bounds(done * t_p1, done * t_c1, 1, budget.cpus, done * cpu_p1, done * cpu_c1)
    tp = throughput_from_ends(ends[1:], p.batch_size, ends[0]) if len(ends) > 1 else None
    gen_tids = tracer.tids("generator")
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(
        name=f"generator → fit ({p.kind}, {p.ms_per_batch:g} ms/batch)",
        params=vars(p), spans=spans, cpu=sampler.samples,
        budget=budget, bounds=b if done > 0 else None,
        roles=roles.roles(tids, gen_tids - {roles.main}, sampler.samples.sampler_tid),
        environment=environment_facts(),
    )
    if tp is not None:
        result.throughput = tp
    result.facts = _generator_facts(result, tracer, trace_cb, peeked, roles.main, p,
                                    dict(t_p1=t_p1, cpu_p1=cpu_p1, t_c1=t_c1, cpu_c1=cpu_c1))
    return result


def _generator_facts(result: RunResult, tracer: Tracer, trace_cb: Any, peeked: int, main: int,
                     p: GeneratorFitParams, costs: dict[str, float]) -> dict[str, Any]:
    nexts = sorted(result.spans_of("generator"), key=lambda s: s.start_ns)
    after = nexts[peeked:]
    by_role: dict[str, int] = {}
    for s in nexts:
        role = result.roles.get(s.tid, "unknown")
        by_role[role] = by_role.get(role, 0) + 1
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    overlapping = sum(1 for a, b in zip(steps, steps[1:]) if b.start_ns < a.end_ns)
    windows = result.windows("train", leave_out="ui")
    per_thread = result.cpu.by_thread_s(windows)
    process_cpu = sum(per_thread.values())
    wall = sum(b - a for a, b in windows) / 1e9
    samples_inside = sum(1 for t in result.cpu.t_ns if any(a <= t <= b for a, b in windows))
    intra = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    return {
        "peeked": peeked,
        "peeked_on_main": sum(1 for s in nexts[:peeked] if s.tid == main),
        "next_calls_total": len(nexts),
        "next_calls_by_role": by_role,
        "main_after_peek": sum(1 for s in after if s.tid == main),
        "total_after_peek": len(after),
        "stacks": {result.roles.get(tid, str(tid)) + f" (tid {tid})": keras_frames(stack)
                   for tid, stack in tracer.stacks.items()},
        "callbacks_on_main": trace_cb.callback_tids.get(main, 0),
        "callbacks_total": sum(trace_cb.callback_tids.values()),
        "steps": len(steps),
        "overlapping_steps": overlapping,
        "train_cpu_s": process_cpu,
        "train_main_cpu_s": per_thread.get(main, 0.0),
        "train_wall_s": wall,
        "cores_busy": process_cpu / wall if wall > 0 else 0.0,
        "cpu_samples_in_training": samples_inside,
        "threads_free": intra not in ("1",),
        "costs_per_step": costs,
        "measured_s": result.throughput.elapsed_s,
    }


def generator_fit_verdicts(result: RunResult) -> claims.Scorecard:
    """C1, C2, C3 and C6 from a :func:`generator_fit` result, by the rules of the claims module."""
    f = result.facts
    budget = result.budget.cpus if result.budget else 1.0
    return claims.Scorecard([
        claims.c1(f["main_after_peek"], f["total_after_peek"], f["peeked"], f["peeked_on_main"], budget),
        claims.c2(f["train_main_cpu_s"], f["train_cpu_s"], f["cpu_samples_in_training"], budget),
        claims.c3(f["cores_busy"], budget, f["threads_free"], 1e3 * f["costs_per_step"]["cpu_c1"]),
        claims.c6(f["callbacks_on_main"], f["callbacks_total"], f["overlapping_steps"], f["steps"], budget),
    ])

