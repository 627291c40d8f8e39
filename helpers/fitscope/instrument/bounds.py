"""The bounds model: how fast a producer and a consumer can go, one after the other or overlapped.

Example:
    >>> b = bounds(t_p=1.0, t_c=2.0)
    >>> b.sequential_s, b.overlapped_s
    (3.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Bounds",
    "bounds",
    "overlapped_bound",
    "sequential_bound",
    "Stage",
    "peak_concurrency",
    "stage_bounds",
]


def sequential_bound(t_p: float, t_c: float) -> float:
    """Time if producing and consuming never overlap: t_p + t_c (seconds)."""
    return t_p + t_c


def overlapped_bound(
    t_p: float,
    t_c: float,
    workers: int = 1,
    budget: float = 1.0,
    cpu_p: float | None = None,
    cpu_c: float | None = None,
) -> float:
    """Best possible time when producer and consumer overlap perfectly.

    max(t_p / min(w, B), t_c, (cpu_p + cpu_c) / B): the producer split over its workers but never
    over more CPUs than exist, the consumer, and all the CPU work shared out over B CPUs.
    ``cpu_p``/``cpu_c`` default to 0 (work that only waits, e.g. I/O).
    """
    if budget <= 0 or workers < 1:
        raise ValueError("workers must be >= 1 and the CPU budget positive")
    cpu_total = (cpu_p or 0.0) + (cpu_c or 0.0)
    return max(t_p / min(workers, budget), t_c, cpu_total / budget)


@dataclass(frozen=True)
class Bounds:
    """Both ideal times for one run, in seconds, and how close a measured time came."""

    sequential_s: float
    overlapped_s: float

    def efficiency(self, measured_s: float) -> float:
        """overlapped bound / measured time (1.0 = as fast as the ideal)."""
        return self.overlapped_s / measured_s if measured_s > 0 else float("nan")


def bounds(
    t_p: float,
    t_c: float,
    workers: int = 1,
    budget: float = 1.0,
    cpu_p: float | None = None,
    cpu_c: float | None = None,
) -> Bounds:
    """Both bounds at once; see :func:`overlapped_bound`. One after the other is always a way to
    run, so the overlap bound never exceeds the sequential sum (CPU seconds measured over a short
    step can exceed its wall time, e.g. under a CPU quota, and would say otherwise).

    Example:
        >>> bounds(0.2, 0.3, budget=1, cpu_p=0.2, cpu_c=0.5)  # 0.7 CPU s on 1 CPU > 0.5 s
        Bounds(sequential_s=0.5, overlapped_s=0.5)
    """
    sequential = sequential_bound(t_p, t_c)
    overlapped = overlapped_bound(t_p, t_c, workers, budget, cpu_p, cpu_c)
    return Bounds(sequential, min(overlapped, sequential))


Stage = tuple[str, float, float, int, bool]


def stage_bounds(stages: Sequence[Stage], t_c: float, cpu_c: float, budget: float) -> Bounds:
    """Sequential sum, and the overlap bound of :func:`fitscope.instrument.budget.bounds` per stage.

    A stage that only waits (a sleep standing for I/O) needs no CPU to wait, so B does not cap
    its workers (t / w); the CPU it does burn is in the shared term (cpu_p + cpu_c) / B. As in
    :func:`bounds`, the overlap bound never exceeds the sequential sum.
    """
    cpu_p = sum(s[2] for s in stages)
    overlapped = max(
        [overlapped_bound(0.0, t_c, 1, budget, cpu_p, cpu_c)]
        + [
            overlapped_bound(t, t_c, w, max(budget, w) if waits else budget)
            for _, t, _, w, waits in stages
        ]
    )
    sequential = sum(s[1] for s in stages) + t_c
    return Bounds(sequential, min(overlapped, sequential))


def peak_concurrency(spans: Sequence[tuple[float, float]]) -> int:
    """Most (start, end) spans open at one instant.

    Example:
        >>> peak_concurrency([(0, 2), (1, 3), (2, 4), (5, 6)])
        2
    """
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    open_now = peak = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak
