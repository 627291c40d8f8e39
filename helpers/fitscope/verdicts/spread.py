"""The repeats of one measurement, read as their median and their range (low to high): what
every comparison (:mod:`fitscope.verdicts.compare`) and every time against its bounds
(:mod:`fitscope.verdicts.bounds`) takes from measured numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.printed import figure

__all__ = ["Values", "Spread", "figure"]

Values = float | Sequence[float]


@dataclass(frozen=True)
class Spread:
    """The repeats of one measurement: their median and their range (low to high).

    Example:
        >>> s = Spread.of([0.52, 0.50, 0.49])
        >>> s.median, s.n, round(s.width, 2)
        (0.5, 3, 0.03)
    """

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Values) -> Spread:
        vals = (float(values),) if isinstance(values, int | float) else tuple(map(float, values))
        if not vals or any(not v > 0 for v in vals):
            raise FitscopeInputError(f"a comparison needs positive measured values, got {vals}")
        return cls(vals)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def width(self) -> float:
        return self.high - self.low

    def meets(self, other: Spread) -> bool:
        """Whether the two ranges overlap (a point meets a range that holds it)."""
        return self.low <= other.high and other.low <= self.high
