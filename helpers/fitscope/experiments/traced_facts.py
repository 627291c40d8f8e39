"""What a traced fit says: its facts (who called ``next()``, the stacks, CPU by role) and the one
sentence that reads them, its time read against the ideal bound within the spread of its costs.

:mod:`fitscope.experiments.traced` measures the run; this module reads it.
"""

from __future__ import annotations

import os
from typing import Any

from fitscope.instrument.environment import on_backend
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import RunResult
from fitscope.instrument.tracing import Tracer, keras_frames
from fitscope.show.against import MIN_COST_SPREAD, SLOWER_WHY, run_reading
from fitscope.show.windows import training_windows

__all__ = ["MIN_COST_SPREAD", "SLOWER_WHY", "against_bound", "reading", "generator_facts"]


def against_bound(r: RunResult) -> str:
    """A traced fit's time against its ideal bound, read by its one
    :func:`fitscope.show.against.run_reading`: within the spread of the costs the bound was
    built from (at least ``MIN_COST_SPREAD``), named so (one run has no spread of its own), as
    its comparison's header reads it; a run slower than one after the other says why that can
    happen."""
    reading = run_reading(r)
    if reading is None:
        raise FitscopeInputError(f"'{r.name}' has no bounds to read its time against.")
    return reading.header()


def reading(r: RunResult, peeks: bool = True) -> str:
    """One sentence from a traced fit's own numbers, naming the backend it measured; the time
    against the ideal bound is read by :func:`against_bound`."""
    f = r.facts
    calls = (
        f"after the {f['peeked']} batch(es) Keras peeks at, {f['main_after_peek']} of "
        f"{f['total_after_peek']} next() calls ran on the main thread; "
        if peeks
        else ""
    )
    bound = ", " + against_bound(r) if r.bounds is not None and r.throughput.elapsed_s else ""
    return (
        f"{on_backend(r.environment)}, {calls}training kept {f['cores_busy']:.2f} cores busy "
        f"at {r.throughput.steps_per_s:.1f} steps/s{bound}"
        + (f" (B = {r.budget.cpus:g})." if r.budget else ".")
    )


def generator_facts(
    result: RunResult,
    tracer: Tracer,
    trace_cb: Any,
    peeked: int,
    main: int,
    costs: dict[str, float],
) -> dict[str, Any]:
    """The facts of a traced fit: who called next(), the stacks, callbacks, CPU by role.

    CPU, wall and samples "in training" cover the steps after the first, the window the
    steps/s are read from (the first step traces the graph).
    """
    nexts = sorted(result.spans_of("generator"), key=lambda s: s.start_ns)
    after = nexts[peeked:]
    next_by_role: dict[str, int] = {}
    for s in nexts:
        role = result.roles.get(s.tid, "unknown") if s.tid is not None else "unknown"
        next_by_role[role] = next_by_role.get(role, 0) + 1
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    # The steps after the first, as the steps/s count them: the first traces the graph.
    windows = training_windows(result)
    per_thread = result.cpu.by_thread_s(windows)
    process_cpu = sum(per_thread.values())
    by_role: dict[str, float] = {}
    for tid, seconds in per_thread.items():
        role = result.roles.get(tid, "unknown")
        by_role[role] = by_role.get(role, 0.0) + seconds
    by_role = {role: round(s, 3) for role, s in by_role.items()}  # ms: the sampler's is coarser
    wall = sum(b - a for a, b in windows) / 1e9
    return {
        "peeked": peeked,
        "peeked_on_main": sum(1 for s in nexts[:peeked] if s.tid == main),
        "next_calls_total": len(nexts),
        "next_calls_by_role": next_by_role,
        "main_after_peek": sum(1 for s in after if s.tid == main),
        "total_after_peek": len(after),
        "stacks": {
            result.roles.get(tid, str(tid)) + f" (tid {tid})": keras_frames(stack)
            for tid, stack in tracer.stacks.items()
        },
        "callbacks_on_main": trace_cb.callback_tids.get(main, 0),
        "callbacks_total": sum(trace_cb.callback_tids.values()),
        "steps": len(steps),
        "overlapping_steps": sum(1 for a, b in zip(steps, steps[1:]) if b.start_ns < a.end_ns),
        "train_cpu_s": process_cpu,
        "train_main_cpu_s": per_thread.get(main, 0.0),
        "train_cpu_by_role": by_role,
        "train_wall_s": wall,
        "cores_busy": process_cpu / wall if wall > 0 else 0.0,
        "cpu_samples_in_training": sum(
            1 for t in result.cpu.t_ns if any(a <= t <= b for a, b in windows)
        ),
        "threads_free": os.environ.get("TF_NUM_INTRAOP_THREADS", "") != "1",
        "costs_per_step": costs,
        "measured_s": result.throughput.elapsed_s,
    }
