"""How two measured numbers compare, read the same way everywhere: speed-ups, positions between
bounds.

Example:
    >>> position(1.0, sequential_s=2.0, overlapped_s=1.0)
    'near the overlapped bound'
"""

from __future__ import annotations

__all__ = ["BETWEEN", "MIN_GAIN", "NEAR_OVERLAPPED", "NEAR_SEQUENTIAL", "TOO_CLOSE", "position",
           "speedup", "speed_word"]


MIN_GAIN = 1.15  # below this a measured speed-up counts as little or no gain (as in C11)


def speedup(before_per_s: float, after_per_s: float) -> str:
    """The reading of a measured speed-up (rates before and after a change), by the MIN_GAIN rule.

    Example:
        >>> speedup(10.0, 10.5)
        'x1.05 (10.0 → 10.5 per s): little or no gain, under the x1.15 a real gain needs.'
    """
    gain = after_per_s / before_per_s if before_per_s > 0 else float("nan")
    head = f"x{gain:.2f} ({before_per_s:.1f} → {after_per_s:.1f} per s): "
    if gain >= MIN_GAIN:
        return head + f"a gain, at least the x{MIN_GAIN:g} a real gain needs."
    return head + f"little or no gain, under the x{MIN_GAIN:g} a real gain needs."


NEAR_OVERLAPPED = "near the overlapped bound"


NEAR_SEQUENTIAL = "near the one-after-the-other sum"


BETWEEN = "between the bounds"


TOO_CLOSE = "the bounds too close to tell apart"


def position(
    measured_s: float, sequential_s: float, overlapped_s: float, tolerance: float = 0.15
) -> str:
    """Where a measured time sits against its two bounds, by C12's 15% bands.

    Example:
        >>> position(1.05, sequential_s=2.0, overlapped_s=1.0)
        'near the overlapped bound'
        >>> position(1.2, sequential_s=1.3, overlapped_s=1.2)
        'the bounds too close to tell apart'
    """
    if sequential_s * (1 - tolerance) <= overlapped_s * (1 + tolerance):
        return TOO_CLOSE  # the two bands meet: overlap and none cannot be told apart
    if measured_s >= sequential_s * (1 - tolerance):
        return NEAR_SEQUENTIAL
    if measured_s <= overlapped_s * (1 + tolerance):
        return NEAR_OVERLAPPED
    return BETWEEN


def speed_word(ratio: float) -> str:
    """How a speed ratio reads: slower, faster, or about as fast (within 5%)."""
    return "slower" if ratio < 0.95 else "faster" if ratio > 1.05 else "about as fast"
