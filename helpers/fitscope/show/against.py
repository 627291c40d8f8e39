"""One run's measured time against its two bounds, read once: the chart's header, the sentence
under it and any closing "each against its own bounds" all print from the same
:class:`AgainstBounds`, so they use one margin, one figure and cannot disagree.

A run with both bounds is given one figure, the share of its possible saving (the one C4 and
C12 read): the header, the closing and the middle's words all say it, never a share of the ideal
bound's speed beside it (a run near one after the other read "56 % of the ideal bound" in the
header and "13 % of its possible saving" in the closing). A run with no sum has no saving: its
header is :func:`~fitscope.verdicts.bounds.share_of_bound`'s share of the ideal bound.

Its words and rules are :mod:`fitscope.verdicts.bounds`' (``BEATS_BOUND``, ``TOO_CLOSE``, the
bands of :func:`~fitscope.verdicts.bounds.position`, ``slower_than_sum``), so a slow-down against
the one-after-the-other sum prints the number share_of_bound prints, everywhere.

Example:
    >>> r = AgainstBounds(0.24, 0.25, 0.61)
    >>> r.kind, r.where()
    ('at', 'at the ideal bound (inside the 15 % tolerance)')
    >>> r.saving("JAX")
    'JAX at the ideal bound (0.240 s against 0.250 s, inside the 15 % tolerance)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fitscope.verdicts.bounds import (
    BEATS_BOUND,
    BETWEEN,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOLERANCE,
    TOO_CLOSE,
    share_of_bound,
    slower_than_sum,
)
from fitscope.verdicts.spread import Spread, Values, figure

__all__ = [
    "COST_SPREAD_NAME",
    "MIN_COST_SPREAD",
    "SLOWER_WHY",
    "TOLERANCE",
    "AgainstBounds",
    "run_reading",
]

MIN_COST_SPREAD = 0.05
"""The least spread a bound is read with: costs measured alone vary by this much between runs."""

COST_SPREAD_NAME = "spread of the bound's cost measurements"
"""How the margin is named when it is the spread of the costs a traced run's bound stands on."""


@dataclass(frozen=True)
class AgainstBounds:
    """A measured time (or its repeats: their median, their range as the margin) against the
    ideal bound and the one-after-the-other sum, with one margin: ``tolerance`` of the ideal
    bound, named ``the N % tolerance`` or, with ``named``, ``the N % <named>``.

    ``kind`` is one of: ``beats`` (under the ideal bound beyond the margin), ``slower`` (above
    the sum beyond it), ``too close`` (the bounds' bands meet: overlap and none cannot be told
    apart), ``no faster`` (above the sum inside the margin), ``at`` (under the ideal bound
    inside it), ``share`` (between the bounds). ``slower_why``, when given, follows a
    ``slower`` header: why a run can take longer than its sum.

    Example:
        >>> AgainstBounds(0.822, 0.49, 0.811).saving("TensorFlow")
        'TensorFlow no faster than one after the other (0.822 s against 0.811 s: 1 % longer, \
inside the 15 % tolerance)'
        >>> AgainstBounds(0.54, 0.54, 0.72).saving("JAX")
        'JAX 0.540 s: the bounds too close to tell apart: with the 15 % tolerance around each, \
their bands meet (0.540 s ideal, 0.720 s one after the other)'
        >>> AgainstBounds(0.79, 0.89, 0.89, named="spread").where()
        'the bounds too close to tell apart: with the 15 % spread around each, their bands meet; \
the run 11 % under the ideal bound, within that margin: undecided'
        >>> AgainstBounds(1.03, 0.74, 0.74).header()
        'slower than one after the other: 39 % longer (1.03 s against 0.740 s)'
        >>> AgainstBounds(0.46, 0.26, 0.49).header(), AgainstBounds(1.25, 1.0).header()
        ('13 % of its possible saving', '80 % of the ideal bound')
    """

    measured: Values
    overlapped_s: float
    sequential_s: float | None = None
    tolerance: float = TOLERANCE
    named: str | None = None
    slower_why: str = ""

    @property
    def t(self) -> float:
        return Spread.of(self.measured).median

    @property
    def spread_s(self) -> float | None:
        """The range of the repeats, when there are repeats."""
        s = Spread.of(self.measured)
        return s.width if s.n > 1 else None

    @property
    def margin(self) -> float:
        """How far from a bound a time must be to be told apart from it, in seconds."""
        spread = self.spread_s
        return self.tolerance * self.overlapped_s if spread is None else spread

    @property
    def inside(self) -> str:
        """The margin, named."""
        if self.spread_s is not None:
            return f"the {self.spread_s:.2f} s spread"
        return f"the {100 * self.tolerance:.0f} % {self.named or 'tolerance'}"

    def _bands_meet(self) -> bool:
        if self.sequential_s is None:
            return False
        frac = self.margin / self.overlapped_s if self.overlapped_s > 0 else self.tolerance
        return self.sequential_s * (1 - frac) <= self.overlapped_s * (1 + frac)

    def _too_close(self) -> str:
        """Where the bands meet, against which margin: the bounds close to each other (the
        tolerance), or a run whose own spread is wider than the gap between them (then both
        are said: bounds far apart read too close only within a wide spread)."""
        gap = (self.sequential_s or self.overlapped_s) - self.overlapped_s
        # a run under its ideal bound is said to be, though inside the margin (review r5, r6)
        seq = self.sequential_s or self.t
        under = (
            f"; the run {100 * (1 - self.t / self.overlapped_s):.0f} % under the ideal bound, "
            "within that margin: undecided"
            if self.t < self.overlapped_s
            else f"; the run {100 * (self.t / seq - 1):.0f} % over the one-after-the-other sum, "
            "within that margin: undecided"  # a slow-down inside the spread is said (r6, r8)
            if self.t > seq * 1.005
            else ""
        )
        if self.spread_s is not None and gap > 2 * self.tolerance * self.overlapped_s:
            return (
                f"{TOO_CLOSE} within {self.inside} of this run: they lie {gap:.2f} s apart{under}"
            )
        # r9: "within the 28 % spread" of bounds 34 % apart read as a claim on their distance
        return f"{TOO_CLOSE}: with {self.inside} around each, their bands meet{under}"

    @property
    def kind(self) -> str:
        t, ovl, seq, m = self.t, self.overlapped_s, self.sequential_s, self.margin
        if t < ovl - m:
            return "beats"
        if seq is not None and slower_than_sum(self.measured, seq, m):
            return "slower"
        if self._bands_meet():
            return "too close"
        if seq is not None and t > seq:
            return "no faster"
        if t < ovl:
            return "at"
        return "share"

    def _slower(self) -> str:
        """The slow-down against the sum, as :func:`~fitscope.verdicts.bounds.share_of_bound`
        says it (the time added), so the header and the sentences print one number."""
        return f"{100 * (self.t / (self.sequential_s or self.t) - 1):.0f} % longer"

    def _bounds(self) -> str:
        seq = f", {figure(self.sequential_s)} s one after the other" if self.sequential_s else ""
        return f"{figure(self.overlapped_s)} s ideal{seq}"

    def header(self) -> str:
        """The reading in a few words, the chart's header: with both bounds, the words
        :meth:`saving` says (a share of the possible saving, or what stands instead of one), and
        why a run can be slower than its sum; with no sum, the share of the ideal bound's speed
        (:func:`~fitscope.verdicts.bounds.share_of_bound`, the margin named as this reading
        names it)."""
        t, kind = self.t, self.kind
        if kind == "too close":
            return f"{self._too_close()} ({figure(t)} s; {self._bounds()})"
        if self.sequential_s is not None:
            why = f" {self.slower_why}" if kind == "slower" and self.slower_why else ""
            return self._against_sum() + why
        text = share_of_bound(self.measured, self.overlapped_s, tolerance=self.tolerance)
        if self.spread_s is None:  # one name for the margin: "the 15 % tolerance" everywhere
            text = text.replace(f"the {100 * self.tolerance:.0f} % tolerance)", f"{self.inside})")
        return text

    def _against_sum(self) -> str:
        """The reading of a run with both bounds, without its label: the share of its possible
        saving, never below 0 or above 100 %; a slow-down, a bound beaten, a time at the ideal
        bound or no faster than the sum said instead of a share."""
        t, ovl, seq, kind = self.t, self.overlapped_s, self.sequential_s or self.t, self.kind
        if kind == "beats":
            return f"{BEATS_BOUND} ({figure(t)} s against {figure(ovl)} s)"
        if kind == "at":
            said = f"{figure(t)} s against {figure(ovl)} s, inside {self.inside}"
            return f"at the ideal bound ({said})"
        if kind == "slower":
            every = "" if t > seq + self.margin else ", every repeat above it"
            return (
                f"slower than one after the other: {self._slower()} ({figure(t)} s against "
                f"{figure(seq)} s{every})"
            )
        if kind == "no faster":
            return (
                f"no faster than one after the other ({figure(t)} s against {figure(seq)} s: "
                f"{self._slower()}, inside {self.inside})"
            )
        saved = min(max((seq - t) / (seq - ovl), 0.0), 1.0)
        return f"{100 * saved:.0f} % of its possible saving"

    def where(self) -> str:
        """The reading in a few words, for a sentence that prints the bounds after it."""
        kind = self.kind
        if kind == "beats":
            return BEATS_BOUND
        if kind == "slower":
            return f"slower than one after the other: {self._slower()}"
        if kind == "too close":
            return self._too_close()
        if kind == "no faster":
            return f"no faster than one after the other (inside {self.inside})"
        if kind == "at":
            return f"at the ideal bound (inside {self.inside})"
        frac = self.margin / self.overlapped_s
        if self.t <= self.overlapped_s * (1 + frac):
            band = NEAR_OVERLAPPED
        elif self.sequential_s is not None and self.t >= self.sequential_s * (1 - frac):
            band = NEAR_SEQUENTIAL
        else:
            band = BETWEEN
        # the header's one figure too, so one run is never read two ways
        return band if self.sequential_s is None else f"{band}, {self._against_sum()}"

    def saving(self, label: str) -> str:
        """The reading as a share of the run's own possible saving, named by ``label``: never
        below 0 or above 100 %, and no share where the bounds are too close to tell apart; the
        header's words, with the times where the header has none."""
        t, kind = self.t, self.kind
        if kind == "too close":
            return f"{label} {figure(t)} s: {self._too_close()} ({self._bounds()})"
        said = self.header() if self.sequential_s is None else self._against_sum()
        if kind == "share":
            return f"{label} {said} ({figure(t)} s; {self._bounds()})"
        return f"{label} {said}"


SLOWER_WHY = (
    "(a slow-down against the sum: its costs were measured alone, while in the run other load, "
    "or the data and the step sharing the CPU and the GIL, can add to them)"
)
"""Why a run can take longer than its one-after-the-other sum, said wherever one did."""


def run_reading(r: Any) -> AgainstBounds | None:
    """A run's one reading against its bounds (None without bounds or a time): a traced run is
    read within the spread of the costs its bound was built from (at least
    ``MIN_COST_SPREAD``), any other within ``TOLERANCE``; a slow-down against the sum says why
    one can happen (``SLOWER_WHY``)."""
    if r.bounds is None or not r.throughput.elapsed_s:
        return None
    costs = (r.facts or {}).get("costs_per_step", {})
    if "spread" in costs:
        return AgainstBounds(
            r.throughput.elapsed_s,
            r.bounds.overlapped_s,
            r.bounds.sequential_s,
            tolerance=max(costs["spread"], MIN_COST_SPREAD),
            named=COST_SPREAD_NAME,
            slower_why=SLOWER_WHY,
        )
    return AgainstBounds(
        r.throughput.elapsed_s,
        r.bounds.overlapped_s,
        r.bounds.sequential_s,
        slower_why=SLOWER_WHY,
    )
