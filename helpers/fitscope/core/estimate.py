"""The one estimator of a per-step or per-call time, and the order of step ends it reads.

Every step and batch time fitscope prints comes through :func:`per_step`: the mean of the
intervals, those over ``OUTLIER`` times the median left out. A mean, so a pipeline whose cost
comes in bursts costs what it costs; the cut keeps one interruption of a busy machine (the
process descheduled, a collection) from moving it. Repeated measurements of one quantity are
summed up by :func:`median_spread`.

Example:
    >>> per_step([(1, 0.010), (1, 0.030), (1, 0.010), (1, 0.030)])  # bursts count
    0.02
    >>> median_spread([2.0, 2.5, 3.0])
    (2.5, 0.4)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["OUTLIER", "in_order", "median_spread", "per_call", "per_step", "timed_calls"]

OUTLIER = 5.0
"""An interval over this many times the median one is an interruption, not the cost."""


def per_step(intervals: list[tuple[int, float]]) -> float:
    """Seconds a step: the intervals' seconds over their steps, each interval (steps, seconds),
    leaving out those over ``OUTLIER`` times the median per step.

    Example:
        >>> round(per_step([(1, 0.010)] * 9 + [(1, 0.200)]), 6)  # one interruption does not count
        0.01
        >>> per_step([(2, 0.020), (1, 0.010)])
        0.01
        >>> per_step([(1, 0.030), (1, 0.0), (1, 0.0), (1, 0.010)])  # late ends: 0 s each
        0.01
    """
    merged: list[tuple[int, float]] = []  # a late end callback's step reads 0 s (in_order):
    for n, s in intervals:  # it ended within the interval before it, so it joins that one
        if s > 0 or not merged:
            merged.append((n, s))
        else:
            merged[-1] = (merged[-1][0] + n, merged[-1][1])
    merged = [(n, s) for n, s in merged if n > 0]
    median = statistics.median(s / n for n, s in merged)
    kept = [(n, s) for n, s in merged if s / n <= OUTLIER * median]
    return sum(s for _, s in kept) / sum(n for n, _ in kept)


def per_call(
    fn: Callable[[], object], calls: int, cpu_clock: Callable[[], float] = time.thread_time
) -> tuple[float, float]:
    """(wall s, CPU s) a call of ``fn``; see :func:`timed_calls`.

    Example:
        >>> wall, cpu = per_call(lambda: time.sleep(0.001), 3)
        >>> wall >= 0.001 > cpu
        True
    """
    walls, cpus = timed_calls(fn, calls, cpu_clock)
    return per_step(walls), sum(cpus) / len(cpus)


def timed_calls(
    fn: Callable[[], object], calls: int, cpu_clock: Callable[[], float] = time.thread_time
) -> tuple[list[tuple[int, float]], list[float]]:
    """``calls`` calls of ``fn`` timed one by one: (the (1, wall s) intervals :func:`per_step`
    reads, CPU s each on ``cpu_clock``: this thread's by default).

    Example:
        >>> walls, cpus = timed_calls(lambda: None, 2)
        >>> [n for n, _ in walls], len(cpus)
        ([1, 1], 2)
    """
    walls, cpus = [], []
    for _ in range(calls):
        wall0, cpu0 = time.perf_counter(), cpu_clock()
        fn()
        walls.append((1, time.perf_counter() - wall0))
        cpus.append(cpu_clock() - cpu0)
    return walls, cpus


def median_spread(values: list[float]) -> tuple[float, float]:
    """(median, spread) of repeated measurements of one quantity; the spread is how far they lie
    apart, as a share of the median (0 for one).

    Example:
        >>> median_spread([0.02])
        (0.02, 0.0)
    """
    median = statistics.median(values)
    return median, (max(values) - min(values)) / median if median > 0 else 0.0


def in_order(ends: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Step ends (step, end ns, CPU s) by step; an end callback that ran late (on a pool
    thread) moves back to the next step's end: a step's results exist before the next step's.

    Example:
        >>> in_order([(0, 30, 0.0), (1, 20, 0.0), (2, 40, 0.0)])
        [(0, 20, 0.0), (1, 20, 0.0), (2, 40, 0.0)]
    """
    out: list[tuple[int, int, float]] = []
    for step, end_ns, cpu_s in sorted(ends, reverse=True):
        if out and end_ns > out[-1][1]:
            end_ns, cpu_s = out[-1][1], out[-1][2]
        out.append((step, end_ns, cpu_s))
    return out[::-1]
