"""A diagnosis's figures, as its table, verdict and remedies all say and read them.

How a time is printed (:func:`ms`) and CPU against wall (:func:`busy_share`); what the repeats of
a share tell: the interval that holds their median (:func:`median_interval`, which the verdict
reads), how far two runs of the same step alone fall apart on this machine (:func:`alone_noise`),
and whether a part of the input share is measured beyond the noise (:func:`beyond_noise`, which
decides whether it gets remedies).

Example:
    >>> ms(0.0412), ms(0.00005)
    ('41.2 ms', '50 µs')
"""

from __future__ import annotations

import math

from fitscope.diagnose.sources import THREAD_CLOCK

__all__ = [
    "COVERAGE",
    "SMALL",
    "UNRESOLVED",
    "batch_busy",
    "beyond_noise",
    "busy_share",
    "median_interval",
    "ms",
    "alone_noise",
    "noise_text",
    "shares_text",
    "times_text",
    "twin_shares",
]

COVERAGE = 0.75  # the confidence the median's interval is drawn at
SMALL = 0.05  # a part under this share of a step, or not beyond it, gets no remedies
UNRESOLVED = "too short a call to resolve"  # CPU past what the clock can count in the wall
RESOLVED = 1.05  # CPU up to this multiple of what the clock can count is that much, no more


def ms(seconds: float) -> str:
    """Seconds in ms, 3 significant digits: ``ms(0.0412)`` is '41.2 ms' (µs under 0.1 ms)."""
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.3g} µs"


def shares_text(median: float, each: list[float]) -> str:
    """A share's median and its repeats, as a table prints them: ``shares_text(0.5, [0.4, 0.5])``
    is '50% (40%, 50%)'."""
    return f"{median:.0%} ({', '.join(f'{s:.0%}' for s in each)})"


def times_text(median: float, each: list[float]) -> str:
    """A time's median and its repeats: ``times_text(0.01, [0.01, 0.02])`` is
    '10 ms (10 ms, 20 ms)'."""
    return f"{ms(median)} ({', '.join(ms(t) for t in each)})"


def clock_cpus(clock: str, cpus: float) -> float:
    """The CPUs a batch's CPU clock can count: 1 on its own thread, ``cpus`` (B) on the process.

    Example:
        >>> clock_cpus("its thread", 2.0), clock_cpus("the whole process", 2.0)
        (1.0, 2.0)
    """
    return 1.0 if clock == THREAD_CLOCK else cpus


def busy_share(cpu_s: float, wall_s: float, cpus: float = 1.0) -> str:
    """CPU against wall as a share of the wall, never printed above 100 %: past it (the whole
    process's clock, several threads at once) the CPU is said as a multiple of the wall, up to
    the ``cpus`` the clock can count (1 for a thread's clock, B for the process's); past that,
    the call was too short for the clocks to resolve (a clock's tick, other threads' CPU
    counted late), and it is said so instead of a multiple no machine can give. Within
    ``RESOLVED`` of what the CPUs can give, it is all they give.

    Example:
        >>> busy_share(0.0178, 0.0571), busy_share(0.00252, 0.00154, cpus=2)
        ('31% of wall', 'x1.64 the wall')
        >>> busy_share(0.0149, 0.00367, cpus=2), busy_share(0.02022, 0.0202)
        ('more CPU than 2 CPUs can give in the wall: too short a call to resolve', '100% of wall')
    """
    ratio = cpu_s / wall_s if wall_s > 0 else 0.0
    if ratio <= cpus * RESOLVED:  # 20.2 ms of CPU in 20.2 ms is all of one CPU, not more
        ratio = min(ratio, cpus)
    if ratio <= 1.0:
        return f"{ratio:.0%} of wall"
    if ratio <= cpus:
        return f"x{ratio:.2f} the wall"
    return (
        f"more CPU than {cpus:g} CPU{'s' if cpus != 1 else ''} can give in the wall: {UNRESOLVED}"
    )


def batch_busy(cpu_s: float, wall_s: float, clock: str, cpus: float, computes: bool) -> str:
    """One batch's CPU against its wall (:func:`busy_share`, on what its ``clock`` can count)
    and whether it computes or waits; no label where the call was too short to resolve.

    Example:
        >>> batch_busy(0.0178, 0.0571, "its thread", 2.0, True)
        '31% of wall: computes'
        >>> batch_busy(3.48e-6, 2.38e-6, "its thread", 2.0, True)
        'more CPU than 1 CPU can give in the wall: too short a call to resolve'
    """
    busy = busy_share(cpu_s, wall_s, clock_cpus(clock, cpus))
    return busy if busy.endswith(UNRESOLVED) else f"{busy}: {'computes' if computes else 'waits'}"


def median_interval(shares: list[float]) -> tuple[float, float]:
    """The narrowest interval between order statistics that holds the median of the repeats'
    distribution with ``COVERAGE`` confidence (min to max up to 5 repeats; from 6 on, the
    extremes drop out, so more repeats can outvote one disturbed run).

    Example:
        >>> median_interval([0.03, 0.01, 0.02])
        (0.01, 0.03)
        >>> median_interval([0.01, 0.02, 0.02, 0.03, 0.02, 0.4])
        (0.02, 0.03)
    """
    xs, n = sorted(shares), len(shares)

    def coverage(k: int) -> float:
        return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2.0**n

    k = 1
    while k < n // 2 and coverage(k + 1) >= COVERAGE:
        k += 1
    return xs[k - 1], xs[n - k]


def twin_shares(alone_s: list[float], again_s: list[float], in_fit_s: list[float]) -> list[float]:
    """Per repeat, how far the step alone and the same step timed again later in the repeat
    fall apart, as a share of the step in fit: the input share free data would show from this
    machine's noise alone, on the scale every share is read on.

    Example:
        >>> [round(s, 3) for s in twin_shares([0.080, 0.090], [0.088, 0.090], [0.08, 0.09])]
        [0.1, 0.0]
        >>> round(twin_shares([0.0002], [0.0003], [0.030])[0], 4)  # 0.1 ms of a 30 ms step
        0.0033
    """
    return [abs(a - b) / t for a, b, t in zip(alone_s, again_s, in_fit_s) if t > 0]


def alone_noise(alone_s: list[float], again_s: list[float], in_fit_s: list[float]) -> float:
    """How far two runs of the same step alone fall apart here, at most, as a share of a step
    in fit: the upper end of the interval that holds the median of :func:`twin_shares`
    (:func:`median_interval`: their largest, up to 5 repeats); 0 where the step was timed once a
    repeat. Free data reads an input share that large from this machine's noise alone: a share
    whose interval lies above it is beyond the noise, one whose interval lies within it is none.
    The upper end, not the median, so that a share's interval is set against the noise's
    interval, like with like: against the median of 3 twins, free data read "moderately
    input-bound" once in 15 on a noisy machine.

    Example:
        >>> round(alone_noise([0.080, 0.090, 0.085], [0.088, 0.090, 0.084], [0.08] * 3), 3)
        0.1
        >>> alone_noise([0.080], [], [0.080])
        0.0
    """
    twins = twin_shares(alone_s, again_s, in_fit_s)
    return median_interval(twins)[1] if twins else 0.0


def noise_text(alone_s: list[float], again_s: list[float], in_fit_s: list[float]) -> str:
    """The step-alone noise as a table prints it: the figure, each repeat's, the two runs (the
    step alone of a repeat is their mean).

    Example:
        >>> noise_text([0.080, 0.090], [0.088, 0.090], [0.08, 0.09])[:56]
        '10%, the most its two runs of a repeat fell apart (10%, '
        >>> noise_text([0.080, 0.090], [0.088, 0.090], [0.08, 0.09])[56:]
        '0% of a step in fit; before: 80 ms, 90 ms; after: 88 ms, 90 ms)'
    """
    twins = twin_shares(alone_s, again_s, in_fit_s)
    most = (
        "the most"
        if len(twins) <= 5
        else f"the upper end of the {COVERAGE:.0%} interval that holds the median of how far"
    )
    before, after = (", ".join(ms(t) for t in each) for each in (alone_s, again_s))
    return (
        f"{alone_noise(alone_s, again_s, in_fit_s):.0%}, {most} its two runs of a repeat fell "
        f"apart ({', '.join(f'{t:.0%}' for t in twins)} of a step in fit; before: {before}; "
        f"after: {after})"
    )


def beyond_noise(part: list[float], floor: float = 0.0) -> bool:
    """Whether a part of the input share (its value in each repeat) is measured at ``SMALL`` or
    more and beyond the ``floor`` (:func:`alone_noise`): the interval that holds its median
    (:func:`median_interval`, the one the verdict reads) lies at or above ``SMALL`` and above
    ``floor``. A median of 0, or one whose repeats reach under 5 % or into the step-alone
    noise, is inside the noise; one repeat has no spread, so its value decides.

    Example:
        >>> beyond_noise([0.36, 0.0, 0.63, 0.0]), beyond_noise([0.31, 0.82, 0.37])
        (False, True)
        >>> beyond_noise([0.10, 0.20, 0.0]), beyond_noise([0.27])
        (False, True)
        >>> beyond_noise([0.31, 0.82, 0.37], floor=0.33)
        False
    """
    if not part:
        return False
    lo = median_interval(part)[0]
    return lo >= SMALL and lo > floor
