"""A claim decided from parts: one part's time against its bounds, and how parts combine.

A claim that differs by case (one part per kind of work) is the decided parts' common verdict,
DEPENDS when they differ, INCONCLUSIVE when none is decided (:func:`combine`). A claim that is a
conjunction ("inference spreads; training cannot") does not hold when one part does not, and
holds only when every part does (:func:`conjunction`). Either way an undecided part that shows
the effect ("leans") is never decided against: the claim is then INCONCLUSIVE
(:func:`never_against`).

Example:
    >>> PartEvidence("waiting", measured_s=0.42, sequential_s=0.64, overlapped_s=0.34).judge()
    'HOLDS'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fitscope.verdicts.bounds import TOLERANCE
from fitscope.verdicts.spread import figure
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
)

__all__ = [
    "CONJUNCTIONS",
    "LEANS",
    "PartEvidence",
    "budget_text",
    "combine",
    "combine_for",
    "conjunction",
    "never_against",
    "undecided_note",
    "with_budget",
]


VISIBLE_SAVING = 0.25
"""An undecided part shows an overlap (leans HOLDS) from this share of the possible saving on."""


LEANS = "leans"
"""How a part's sentence marks what an undecided part shows: "(INCONCLUSIVE, leans HOLDS: …)"."""


CONJUNCTIONS = frozenset({"C5", "C6"})
"""Claims whose parts must all hold (a conjunction); the others differ by case."""


@dataclass(frozen=True)
class PartEvidence:
    """Measured time of one kind of work against its two bounds, in seconds: the ideal overlap
    and the one-after-the-other sum; ``spread_s`` is the measured time's spread (its repeats'
    range), or None for one run (then the noise is ``TOLERANCE`` of the sum). ``bound_spread``
    is how far the cost measurements the bounds stand on lie apart, as a share of their median
    (a traced run's ``costs_per_step["spread"]``), None where unknown: the noise is then at
    least that share of the sum, since a bound is no surer than its costs.

    The part reads the share of the possible saving it reached,
    (one-after-the-other − measured) / (one-after-the-other − ideal): any saving beyond the
    noise is an overlap (HOLDS, a partial one included); none where a half overlap would have
    shown beyond the noise DOES NOT HOLD; otherwise it decides nothing. A run slower than one
    after the other beyond the noise paid more than the costs its bounds stand on (other load,
    or data and step slowing each other): no overlap cannot be told from a low bound, and it
    decides nothing either.

    Example:
        >>> p = PartEvidence("sleeping", 0.42, 0.64, 0.34)
        >>> round(p.saving(), 2), p.judge()
        (0.73, 'HOLDS')
        >>> PartEvidence("sleeping", 0.42, 0.64, 0.34, spread_s=0.25).judge()
        'INCONCLUSIVE'
        >>> PartEvidence("sleeping", 0.62, 0.20, 0.11).judge()  # 01 beside five other jobs
        'INCONCLUSIVE'
        >>> PartEvidence("python", 0.63, 0.64, 0.34).judge()
        'DOES NOT HOLD'
        >>> PartEvidence("python", 0.63, 0.64, 0.34, bound_spread=0.89).judge()  # costs unsure
        'INCONCLUSIVE'
    """

    name: str
    measured_s: float
    sequential_s: float
    overlapped_s: float
    spread_s: float | None = None
    bound_spread: float | None = None

    def _own_noise_s(self) -> float:
        return self.spread_s if self.spread_s is not None else TOLERANCE * self.sequential_s

    def _bound_noise_s(self) -> float:
        return (self.bound_spread or 0.0) * self.sequential_s

    def noise_s(self) -> float:
        """The spread a saving must beat: the measured spread, else ``TOLERANCE`` of the sum;
        at least the spread of the bound's cost measurements (``bound_spread`` of the sum)."""
        return max(self._own_noise_s(), self._bound_noise_s())

    def _source(self) -> str:
        """The noise, named by where it came from."""
        if self._bound_noise_s() > self._own_noise_s():
            return f"{100 * (self.bound_spread or 0):.0f} % spread of the bound's cost measurements"
        return "spread" if self.spread_s is not None else f"{100 * TOLERANCE:.0f} % noise"

    def saving(self) -> float:
        """Share of the possible saving reached (1: the ideal bound, 0: one after the other)."""
        possible = self.sequential_s - self.overlapped_s
        return (self.sequential_s - self.measured_s) / possible if possible > 0 else 0.0

    def _beats_bound(self) -> bool:
        return self.measured_s < self.overlapped_s - self.noise_s()

    def _too_close(self) -> bool:
        return self.sequential_s - self.overlapped_s <= self.noise_s()

    def _above_sum(self) -> bool:
        return self.measured_s > self.sequential_s + self.noise_s()

    def judge(self) -> str:
        """HOLDS on a saving beyond the noise, DOES NOT HOLD on none (under ``VISIBLE_SAVING``
        of the possible saving) where half the possible saving would have shown, else
        INCONCLUSIVE (also when the ideal bound was beaten, or
        the whole possible saving is inside the noise, or the run was slower than one after
        the other beyond it)."""
        noise = self.noise_s()
        if self._beats_bound() or self._too_close() or self._above_sum():
            return INCONCLUSIVE
        if self.sequential_s - self.measured_s > noise:
            return HOLDS
        if self.saving() >= VISIBLE_SAVING:  # inside the noise, but an overlap shows: it leans
            return INCONCLUSIVE
        if self.sequential_s - self.overlapped_s >= 2 * noise:
            return DOES_NOT_HOLD
        return INCONCLUSIVE

    def lean(self) -> str | None:
        """What an undecided part shows: HOLDS from ``VISIBLE_SAVING`` of the possible saving
        (or a beaten ideal bound) on, else None; a decided part leans nowhere."""
        if self.judge() != INCONCLUSIVE or self._too_close() or self._above_sum():
            return None
        return HOLDS if self._beats_bound() or self.saving() >= VISIBLE_SAVING else None

    def describe(self) -> str:
        """The part in words: its times, the share of the saving reached, its verdict and, when
        undecided, what deciding it would need."""
        noise, verdict, source = self.noise_s(), self.judge(), self._source()
        head = (
            f"{self.name}: {figure(self.measured_s)} s against {figure(self.sequential_s)} s one "
            f"after the other and {figure(self.overlapped_s)} s ideal"
        )
        gain = self.sequential_s - self.measured_s
        if self._beats_bound():
            return (
                f"{head}, faster than the ideal bound: the cost estimate was high "
                f"({INCONCLUSIVE}, {LEANS} {HOLDS}: deciding it needs a bound measured again)"
            )
        if self._too_close():
            return (
                f"{head}: the whole possible saving "
                f"({self.sequential_s - self.overlapped_s:.2f} s) is inside the "
                f"{noise:.2f} s {source} ({INCONCLUSIVE}, deciding it needs a costlier "
                "generator or less noise)"
            )
        if self._above_sum():
            return (
                f"{head}: slower than one after the other, "
                f"{100 * (self.measured_s / self.sequential_s - 1):.0f} % longer, beyond the "
                f"{noise:.2f} s {source}: the run paid more than the costs its bounds stand on "
                f"({INCONCLUSIVE}: deciding it needs those costs measured beside the run, or a "
                "quieter machine)"
            )
        if gain <= 0:
            reached = "no saving"
        elif self.saving() >= 0.995:  # under the ideal bound, inside the noise: never "104 %"
            reached = "100 % of the possible saving (at the ideal bound)"
        else:
            reached = f"{100 * self.saving():.0f} % of the possible saving"
        where = "beyond" if abs(gain) > noise else "inside"
        detail = f"{reached}, {where} the {noise:.2f} s {source}"
        if verdict != INCONCLUSIVE:
            return f"{head}: {detail} ({verdict})"
        lean = f", {LEANS} {self.lean()}" if self.lean() else ""
        return (
            f"{head}: {detail} ({INCONCLUSIVE}{lean}: deciding it needs a saving beyond the "
            "noise, from repeats with a smaller spread)"
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


def conjunction(parts: Sequence[str]) -> str:
    """A conjunction's verdict: one part that does not hold decides it; it holds only when every
    part does, and is INCONCLUSIVE otherwise.

    Example:
        >>> conjunction([HOLDS, DOES_NOT_HOLD]), conjunction([HOLDS, INCONCLUSIVE])
        ('DOES NOT HOLD', 'INCONCLUSIVE')
        >>> conjunction([HOLDS, HOLDS])
        'HOLDS'
    """
    judged = [p for p in parts if p != NOT_APPLICABLE]
    if DOES_NOT_HOLD in judged:
        return DOES_NOT_HOLD
    return HOLDS if judged and all(p == HOLDS for p in judged) else INCONCLUSIVE


def combine_for(claim_id: str, parts: Sequence[str]) -> str:
    """The rule that joins ``claim_id``'s parts: :func:`conjunction` for ``CONJUNCTIONS``, else
    :func:`combine`.

    Example:
        >>> combine_for("C5", [HOLDS, DOES_NOT_HOLD]), combine_for("C4", [HOLDS, DOES_NOT_HOLD])
        ('DOES NOT HOLD', 'DEPENDS')
    """
    return (conjunction if claim_id in CONJUNCTIONS else combine)(parts)


def never_against(verdict: str, leans: Sequence[str | None]) -> str:
    """``verdict``, unless it decides against what an undecided part shows (its lean): then
    INCONCLUSIVE.

    Example:
        >>> never_against(DOES_NOT_HOLD, [HOLDS]), never_against(DOES_NOT_HOLD, [None])
        ('INCONCLUSIVE', 'DOES NOT HOLD')
    """
    against = {HOLDS: DOES_NOT_HOLD, DOES_NOT_HOLD: HOLDS}
    decided_against = any(lean is not None and against.get(lean) == verdict for lean in leans)
    return INCONCLUSIVE if decided_against else verdict


def undecided_note(parts: Sequence[str], overruled: bool = False) -> str:
    """The sentence a combined verdict adds when some of its parts decided nothing;
    ``overruled`` when an undecided part's lean kept the claim from being decided against it."""
    n = sum(1 for p in parts if p == INCONCLUSIVE)
    if n == 0:
        return ""
    if n == len(parts):
        return " No part was decided, so neither is the claim."
    if overruled:
        return (
            " An undecided part shows the effect the decided part denies, so the claim is not "
            "decided against it: deciding it needs that part decided."
        )
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
