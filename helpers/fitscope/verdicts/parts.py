"""A claim decided from parts: one part's time against its bounds, and how parts combine.

An undecided (INCONCLUSIVE) part decides nothing: a claim is the decided parts' common verdict,
DEPENDS when they differ, INCONCLUSIVE when none is decided.

Example:
    >>> PartEvidence("waiting", measured_s=1.05, sequential_s=2.0, overlapped_s=1.0).judge()
    'HOLDS'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fitscope.verdicts.compare import (
    BEATS_BOUND,
    BETWEEN,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOO_CLOSE,
    position,
)
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
)

__all__ = ["PartEvidence", "budget_text", "combine", "undecided_note", "with_budget"]


@dataclass(frozen=True)
class PartEvidence:
    """Measured time of one variant (one kind of work) against its two bounds, in seconds:
    the ideal overlap and the one-after-the-other sum."""

    name: str
    measured_s: float
    sequential_s: float
    overlapped_s: float

    def judge(self, tolerance: float = 0.15) -> str:
        """HOLDS near the overlapped bound, DOES NOT HOLD near the sequential sum, else
        INCONCLUSIVE (also when the bounds are too close, or the overlapped bound was beaten)."""
        where = position(self.measured_s, self.sequential_s, self.overlapped_s, tolerance)
        return {NEAR_OVERLAPPED: HOLDS, NEAR_SEQUENTIAL: DOES_NOT_HOLD}.get(where, INCONCLUSIVE)

    def describe(self) -> str:
        where = position(self.measured_s, self.sequential_s, self.overlapped_s)
        flag = {
            BEATS_BOUND: f", {BEATS_BOUND}",
            BETWEEN: ", between the bounds, near neither",
            TOO_CLOSE: ", the bounds are too close to tell overlap from none",
        }.get(where, "")
        return (
            f"{self.name}: {self.measured_s:.2f} s against an overlapped bound of "
            f"{self.overlapped_s:.2f} s and a sequential sum of {self.sequential_s:.2f} s "
            f"({self.judge()}{flag})"
        )


def combine(parts: Sequence[str]) -> str:
    """A claim's verdict from its parts' verdicts: undecided (INCONCLUSIVE) parts decide nothing.

    Example:
        >>> combine([INCONCLUSIVE, DOES_NOT_HOLD]), combine([HOLDS, DOES_NOT_HOLD])
        ('DOES NOT HOLD', 'DEPENDS')
        >>> combine([INCONCLUSIVE, INCONCLUSIVE])
        'INCONCLUSIVE'
    """
    decided = {p for p in parts if p not in (INCONCLUSIVE, NOT_APPLICABLE)}
    if not decided:
        return INCONCLUSIVE
    return decided.pop() if len(decided) == 1 else DEPENDS


def undecided_note(parts: Sequence[str]) -> str:
    """The sentence a combined verdict adds when some of its parts decided nothing."""
    n = sum(1 for p in parts if p == INCONCLUSIVE)
    if n == 0:
        return ""
    if n == len(parts):
        return " No part was decided, so neither is the claim."
    return (
        f" The {n} INCONCLUSIVE part{'s' if n > 1 else ''} decide{'' if n > 1 else 's'} "
        "nothing: the verdict is the decided parts'."
    )


def budget_text(budget: float) -> str:
    """How every verdict names the CPU budget: ``budget_text(2)`` is ``'B = 2'``."""
    return f"B = {budget:g}"


def with_budget(text: str, budget: float | None) -> str:
    """A sentence with the budget added before its full stop, when there is one.

    Example:
        >>> with_budget("a gain.", 2)
        'a gain, with B = 2.'
    """
    return text if budget is None else f"{text[:-1]}, with {budget_text(budget)}."
