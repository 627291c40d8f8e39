"""A measured time against its two bounds: the ideal (overlapped) bound and the
one-after-the-other sum, by C12's 15 % bands, or as a share of the ideal bound's speed.

Example:
    >>> position(1.0, sequential_s=2.0, overlapped_s=1.0)
    'near the overlapped bound'
"""

from __future__ import annotations

from fitscope.verdicts.spread import Spread, Values, figure

__all__ = [
    "BEATS_BOUND",
    "BETWEEN",
    "NEAR_OVERLAPPED",
    "NEAR_SEQUENTIAL",
    "TOLERANCE",
    "TOO_CLOSE",
    "place",
    "position",
    "share_of_bound",
    "slower_than_sum",
]

TOLERANCE = 0.15
"""The margin a time is read with against its bounds, and a part's noise as a share of its
one-after-the-other sum, when no spread was measured (one run)."""

NEAR_OVERLAPPED = "near the overlapped bound"


NEAR_SEQUENTIAL = "near the one-after-the-other sum"


BETWEEN = "between the bounds"


TOO_CLOSE = "the bounds too close to tell apart"


BEATS_BOUND = "faster than the ideal bound: the cost estimate was high"


def _measured(measured_s: Values, spread_s: float | None) -> tuple[float, float | None]:
    s = Spread.of(measured_s)
    return s.median, spread_s if spread_s is not None or s.n == 1 else s.width


def position(
    measured_s: Values,
    sequential_s: float,
    overlapped_s: float,
    tolerance: float = TOLERANCE,
    spread_s: float | None = None,
) -> str:
    """Where a measured time sits against its two bounds, by C12's 15 % bands.

    ``measured_s`` is one time or its repeats (then the median, with their range as the spread
    unless ``spread_s`` is given). A time under the overlapped bound by more than its spread (or,
    with no spread, than the tolerance) is ``BEATS_BOUND``: the bound was an estimate, and high.

    Example:
        >>> position(1.05, sequential_s=2.0, overlapped_s=1.0)
        'near the overlapped bound'
        >>> position(1.2, sequential_s=1.3, overlapped_s=1.2)
        'the bounds too close to tell apart'
        >>> position([0.80, 0.82], sequential_s=2.0, overlapped_s=1.0)
        'faster than the ideal bound: the cost estimate was high'
    """
    t, spread = _measured(measured_s, spread_s)
    margin = tolerance * overlapped_s if spread is None else spread
    if t < overlapped_s - margin:
        return BEATS_BOUND
    if sequential_s * (1 - tolerance) <= overlapped_s * (1 + tolerance):
        return TOO_CLOSE  # the two bands meet: overlap and none cannot be told apart
    if t >= sequential_s * (1 - tolerance):
        return NEAR_SEQUENTIAL
    if t <= overlapped_s * (1 + tolerance):
        return NEAR_OVERLAPPED
    return BETWEEN


def place(measured_s: Values, sequential_s: float, overlapped_s: float) -> str:
    """One time (or its repeats) against its bounds in words: :func:`position`, or a slow-down
    against the one-after-the-other sum said as one (never "near the sum"): beyond the
    repeats' spread or the tolerance, whichever is wider (the bounds are estimates), or with
    every repeat above the sum (:func:`slower_than_sum`).

    Example:
        >>> place(0.0353, sequential_s=0.0292, overlapped_s=0.0159)  # 05's review r5
        'slower than one after the other: 21 % longer'
        >>> place(0.030, sequential_s=0.0292, overlapped_s=0.0159)
        'near the one-after-the-other sum'
        >>> place([0.0293, 0.0353, 0.0368], sequential_s=0.0292, overlapped_s=0.0159)
        'slower than one after the other: 21 % longer'
    """
    s = Spread.of(measured_s)
    margin = max(s.width, TOLERANCE * sequential_s)  # the bounds are estimates: never tighter
    if slower_than_sum(measured_s, sequential_s, margin):
        return (
            f"slower than one after the other: {100 * (s.median / sequential_s - 1):.0f} % longer"
        )
    return position(s.median, sequential_s, overlapped_s, spread_s=margin)


def slower_than_sum(measured_s: Values, sequential_s: float, margin_s: float) -> bool:
    """Whether a run was slower than one after the other: its median above the sum beyond the
    margin, or every one of its repeats above the sum (a wide range from one outlier cannot hide
    a slow-down all the repeats show). One run is read by the margin alone.

    Example:
        >>> slower_than_sum([2.39, 2.40, 2.83], 2.003, 0.44)  # 03's naive run: all three above
        True
        >>> slower_than_sum([0.436, 0.40, 0.47], 0.401, 0.07)  # one repeat under the sum
        False
        >>> slower_than_sum(2.1, 2.0, 0.3), slower_than_sum(2.4, 2.0, 0.3)
        (False, True)
    """
    s = Spread.of(measured_s)
    return s.median > sequential_s + margin_s or (s.n > 1 and s.low > sequential_s)


def share_of_bound(
    measured_s: Values,
    overlapped_s: float,
    tolerance: float = TOLERANCE,
    spread_s: float | None = None,
    sequential_s: float | None = None,
) -> str:
    """A measured time as a share of the ideal bound's speed, never above 100 %.

    A time under the bound within its spread (or tolerance) is "at the ideal bound"; beyond it,
    the reading is ``BEATS_BOUND`` (same rule as :func:`position`). A time above the
    one-after-the-other sum (``sequential_s``) beyond the same margin, or with every repeat above
    it (:func:`slower_than_sum`), is called a slow-down; one above it inside the margin is said
    to be no faster than one after the other, with its slow-down and the margin that swallows it.

    Example:
        >>> share_of_bound(1.25, 1.0)
        '80 % of the ideal bound'
        >>> share_of_bound(0.9, 1.0)
        'at the ideal bound (0.900 s against 1.00 s, inside the 15 % tolerance)'
        >>> share_of_bound(0.7, 1.0)
        'faster than the ideal bound: the cost estimate was high (0.700 s against 1.00 s)'
        >>> share_of_bound(2.5, 1.0, sequential_s=1.5)
        '40 % of the ideal bound, and slower than one after the other: 67 % longer (2.50 s \
against 1.50 s)'
        >>> share_of_bound([0.436, 0.40, 0.47], 0.3, sequential_s=0.401)[18:]
        'bound, and no faster than one after the other (0.436 s against 0.401 s: 9 % longer, \
inside the 0.07 s spread)'
        >>> share_of_bound([2.39, 2.404, 2.83], 1.5, sequential_s=2.003)[18:]
        'bound, and slower than one after the other: 20 % longer (2.40 s against 2.00 s, every \
repeat above it)'
    """
    t, spread = _measured(measured_s, spread_s)
    margin = tolerance * overlapped_s if spread is None else spread
    if t < overlapped_s - margin:
        return f"{BEATS_BOUND} ({figure(t)} s against {figure(overlapped_s)} s)"
    if t < overlapped_s:
        inside = (
            f"the {100 * tolerance:.0f} % tolerance"
            if spread is None
            else f"the {spread:.2f} s spread"
        )
        said = f"{figure(t)} s against {figure(overlapped_s)} s, inside {inside}"
        return f"at the ideal bound ({said})"
    share = f"{100 * overlapped_s / t:.0f} % of the ideal bound"
    if sequential_s is not None and slower_than_sum(measured_s, sequential_s, margin):
        every = "" if t > sequential_s + margin else ", every repeat above it"
        share += (
            f", and slower than one after the other: {100 * (t / sequential_s - 1):.0f} % longer "
            f"({figure(t)} s against {figure(sequential_s)} s{every})"
        )
    elif sequential_s is not None and t > sequential_s:
        inside = f"{spread:.2f} s spread" if spread is not None else f"{100 * tolerance:.0f} %"
        share += (
            f", and no faster than one after the other ({figure(t)} s against "
            f"{figure(sequential_s)} s: {100 * (t / sequential_s - 1):.0f} % longer, inside "
            f"the {inside})"
        )
    return share
