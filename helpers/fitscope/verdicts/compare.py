"""One rule for every comparison of measured numbers: faster, slower, no measurable difference,
undecided; the fastest of several only beyond the spread; a time against its two bounds.

A comparison takes the repeats of each side (seconds, or rates such as steps per second) and
reads their medians against their spreads (the range of the repeats). A slow-down is called a
slow-down, a difference inside the spread is no difference, and one run each decides only a
difference past ``MIN_GAIN``.

Example:
    >>> str(compare([0.50, 0.51, 0.49], [0.36, 0.35, 0.37]))
    'x1.39 faster (0.500 → 0.360 s, medians of 3)'
    >>> str(compare([179.6], [127.7], unit="per s"))
    '29 % slower (179.6 → 127.7 per s, one run each)'

A time against its two bounds is read in :mod:`fitscope.verdicts.bounds`, and each side's
repeats by :class:`~fitscope.verdicts.spread.Spread`; both are importable from here as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.tables import ShowsItself, Table

# Read from here by diagnose, consistency and the lessons: their homes are bounds and spread.
from fitscope.verdicts.bounds import (
    BEATS_BOUND,
    BETWEEN,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOO_CLOSE,
    position,
    share_of_bound,
)
from fitscope.verdicts.spread import Spread, Values, figure

__all__ = [
    "figure",
    "most_allowed",
    "BEATS_BOUND",
    "BETWEEN",
    "FASTER",
    "MIN_DIFFERENCE",
    "MIN_GAIN",
    "NEAR_OVERLAPPED",
    "NEAR_SEQUENTIAL",
    "NO_DIFFERENCE",
    "SLOWER",
    "TIME_UNITS",
    "TOO_CLOSE",
    "UNDECIDED",
    "Compared",
    "Fastest",
    "Spread",
    "compare",
    "costs_apart",
    "fastest",
    "position",
    "share_of_bound",
    "Values",
]


MIN_GAIN = 1.15
"""With one run on a side there is no spread to read: a ratio decides only at x1.15 or more
(faster) or at 1/1.15 or less (slower); in between the reading says one run cannot decide."""


MIN_DIFFERENCE = 1.05
"""With repeats on both sides, the medians must also differ by at least 5 % (beyond the spreads)
to count: smaller differences come and go between runs on a shared machine."""


FASTER = "faster"


SLOWER = "slower"


NO_DIFFERENCE = "no measurable difference"


UNDECIDED = "undecided"


TIME_UNITS = ("s", "ms")
"""Units read as times (lower is faster); any other unit ("per s", "steps/s") is a rate."""


@dataclass(frozen=True)
class Compared(ShowsItself):
    """The reading of one comparison: ``ratio`` is how many times faster ``after`` is than
    ``before`` (under 1: slower), ``word`` one of faster / slower / no measurable difference /
    undecided, ``sentence`` the reading in words."""

    before: Spread
    after: Spread
    unit: str
    ratio: float
    word: str
    sentence: str

    @property
    def decided(self) -> bool:
        """Whether the comparison found a difference (faster or slower)."""
        return self.word in (FASTER, SLOWER)

    def table(self) -> Table:
        """Both sides' medians and ranges; the reading is the sentence (facts carried hidden)."""
        rows = [
            (name, s.median, f"{figure(s.low)}–{figure(s.high)}", s.n)
            for name, s in (("before", self.before), ("after", self.after))
        ]
        return Table(
            ("", f"median ({self.unit})", "range", "runs"),
            rows,
            reading=self.sentence,
            facts=[self.facts()],
        )

    def facts(self) -> dict[str, Any]:
        """The comparison as plain numbers and words, e.g. for a machine-readable copy."""
        return dict(
            kind="comparison",
            before=list(self.before.values),
            after=list(self.after.values),
            unit=self.unit,
            ratio=self.ratio,
            word=self.word,
            sentence=self.sentence,
        )

    def __str__(self) -> str:
        return self.sentence


def _runs(a: Spread, b: Spread) -> str:
    if a.n == b.n:
        return "one run each" if a.n == 1 else f"medians of {a.n}"
    if min(a.n, b.n) == 1:
        return f"one run against a median of {max(a.n, b.n)}"
    return f"medians of {a.n} and {b.n}"


def _ratio_words(ratio: float, word: str) -> str:
    return f"x{ratio:.2f} faster" if word == FASTER else f"{100 * (1 - ratio):.0f} % slower"


def compare(before: Values, after: Values, unit: str = "s") -> Compared:
    """Read ``after`` against ``before`` by the one rule: decided only beyond the spread.

    Each side is one value or its repeats. ``unit`` "s" or "ms" is a time (lower is faster),
    any other unit a rate (higher is faster). Ranges that meet are no measurable difference;
    with repeats on both sides the medians must differ by ``MIN_DIFFERENCE``; with one run on a
    side by ``MIN_GAIN``, else the reading says one run cannot decide. A slowdown's percentage is
    the speed lost (1 − ratio), so x0.71 reads "29 % slower".

    Example:
        >>> compare([0.50, 0.47, 0.53], [0.49, 0.46, 0.52]).sentence
        'no measurable difference: inside the spread (x1.02; 0.500 → 0.490 s, medians of 3; their \
ranges 0.470–0.530 and 0.460–0.520 s meet)'
        >>> compare(0.50, 0.47).word
        'undecided'
    """
    a, b = Spread.of(before), Spread.of(after)
    time = unit in TIME_UNITS
    ratio = a.median / b.median if time else b.median / a.median
    if ratio >= 0.1:  # judged as printed (x1.147 reads x1.15, so it is not under x1.15)
        ratio = round(ratio, 2)
    numbers = f"{figure(a.median)} → {figure(b.median)} {unit}, {_runs(a, b)}"
    if a.n == 1 and b.n == 1:
        if 1 / MIN_GAIN < ratio < MIN_GAIN:
            return Compared(
                a,
                b,
                unit,
                ratio,
                UNDECIDED,
                (
                    f"undecided from one run each: x{ratio:.2f} is inside the x{MIN_GAIN:g} either "
                    f"way one run needs; repeat to decide ({numbers})"
                ),
            )
    elif a.meets(b):
        return Compared(
            a,
            b,
            unit,
            ratio,
            NO_DIFFERENCE,
            f"{NO_DIFFERENCE}: inside the spread (x{ratio:.2f}; {numbers}; their ranges "
            f"{figure(a.low)}–{figure(a.high)} and {figure(b.low)}–{figure(b.high)} {unit} meet)",
        )
    elif min(a.n, b.n) == 1 and 1 / MIN_GAIN < ratio < MIN_GAIN:
        return Compared(
            a,
            b,
            unit,
            ratio,
            UNDECIDED,
            (
                f"undecided: x{ratio:.2f} with one run on a side is inside the "
                f"x{MIN_GAIN:g} either "
                f"way one run needs ({numbers})"
            ),
        )
    elif 1 / MIN_DIFFERENCE < ratio < MIN_DIFFERENCE:
        return Compared(
            a,
            b,
            unit,
            ratio,
            NO_DIFFERENCE,
            (
                f"{NO_DIFFERENCE}: x{ratio:.2f} is under the {100 * (MIN_DIFFERENCE - 1):.0f} % a "
                f"difference needs ({numbers})"
            ),
        )
    word = FASTER if ratio > 1 else SLOWER
    return Compared(a, b, unit, ratio, word, f"{_ratio_words(ratio, word)} ({numbers})")


@dataclass(frozen=True)
class Fastest(ShowsItself):
    """Which of several labelled runs is fastest, if one is beyond the spread of the next.

    ``winner`` is None when the best cannot be told apart from another run; ``against`` is that
    run (or, with a winner, the next best) read against the best: "faster" exactly with a winner.
    """

    winner: str | None
    order: tuple[str, ...]
    against: Compared
    sentence: str
    runs: Mapping[str, Spread]
    costs: Mapping[str, float] | None = None  # each run's own cost of the work, when given

    def table(self) -> Table:
        """Every run's median and range, fastest first; the reading is the sentence."""
        unit = self.against.unit
        rows = [
            (
                k,
                self.runs[k].median,
                f"{figure(self.runs[k].low)}–{figure(self.runs[k].high)}",
                self.runs[k].n,
            )
            for k in self.order
        ]
        return Table(
            ("run", f"median ({unit})", "range", "runs"),
            rows,
            reading=self.sentence,
            facts=[self.facts()],
        )

    def facts(self) -> dict[str, Any]:
        """The reading as plain data, every run's repeats included."""
        return dict(
            kind="fastest",
            winner=self.winner,
            order=list(self.order),
            unit=self.against.unit,
            against=self.against.facts(),
            sentence=self.sentence,
            runs={k: list(s.values) for k, s in self.runs.items()},
            costs=dict(self.costs) if self.costs else None,
        )

    def __str__(self) -> str:
        return self.sentence


def costs_apart(costs: Mapping[str, float]) -> float:
    """How far apart runs' own costs of the same work are, as a ratio (1.0: the same).

    Example:
        >>> costs_apart({"a": 0.93, "b": 1.41, "c": 0.98})
        1.52
    """
    values = [c for c in costs.values() if c > 0]
    return round(max(values) / min(values), 2) if len(values) > 1 else 1.0


def fastest(
    runs: Mapping[str, Values], unit: str = "s", costs: Mapping[str, float] | None = None
) -> Fastest:
    """The fastest run of several, named only when it beats every other beyond the spread
    (by :func:`compare`); otherwise the sentence names the run it cannot be told apart from,
    with both runs' ranges, and any run between the two by median that it does beat.

    ``costs``, when given, is each run's own measured cost of the same work (for example its
    one-after-the-other sum, per step): runs that measured costs more than ``MIN_GAIN`` apart
    for the same work did not measure alike (why is not measured), and one run each cannot tell
    a set-up from that, so no run is named fastest (:func:`costs_apart`) and no pair of them is
    compared in words (no "x1.53 faster" follows: that would compare what the refusal calls
    unlike).
    The one rule for every such comparison.

    Example:
        >>> fastest({"a": [1.0, 1.1], "b": [0.5, 0.55], "c": [0.8, 0.82]}).sentence
        "'b' is fastest: x1.54 faster than 'c', the next best (0.810 → 0.525 s, medians of 2)"
        >>> fastest({"a": [1.0, 1.1], "b": [1.05, 1.0]}).winner is None
        True
        >>> fastest({"a": [0.5, 0.52], "b": [0.6, 0.61], "c": [0.51, 0.9]}).sentence[:75]
        "no run is fastest: 'a' (repeats 0.500–0.520 s) and 'c' (repeats 0.510–0.900"
        >>> fastest({"a": 1.0, "b": 0.5}, costs={"a": 0.9, "b": 1.4}).sentence[:64]
        'no run is fastest: their own costs of the same work differ x1.56'
    """
    if len(runs) < 2:
        raise FitscopeInputError(f"fastest needs two runs or more, got {list(runs)}")
    spreads = {k: Spread.of(v) for k, v in runs.items()}
    time = unit in TIME_UNITS
    order = tuple(sorted(spreads, key=lambda k: spreads[k].median, reverse=not time))
    best = order[0]
    readings = {k: compare(runs[k], runs[best], unit) for k in order[1:]}
    rival = next((k for k, c in readings.items() if c.word != FASTER), order[1])
    against = readings[rival]
    apart = costs_apart({k: costs[k] for k in runs if k in costs}) if costs else 1.0
    if apart > MIN_GAIN and any(s.n == 1 for s in spreads.values()):
        return Fastest(
            None,
            order,
            against,
            (
                f"no run is fastest: their own costs of the same work differ x{apart:.2f} "
                f"between the runs, more than the x{MIN_GAIN:g} one run each can tell apart: "
                "not like with like, so the runs are not compared"
            ),
            spreads,
            costs,
        )
    if against.word == FASTER:
        a, b = against.before, against.after
        return Fastest(
            best,
            order,
            against,
            (
                f"'{best}' is fastest: x{against.ratio:.2f} faster than '{rival}', the next best "
                f"({figure(a.median)} → {figure(b.median)} {unit}, {_runs(a, b)})"
            ),
            spreads,
            costs,
        )

    def span(k: str) -> str:
        s = spreads[k]
        return (
            f"one run, {figure(s.median)}"
            if s.n == 1
            else f"repeats {figure(s.low)}–{figure(s.high)}"
        )

    between = [f"'{k}'" for k in order[1 : order.index(rival)]]
    sentence = (
        f"no run is fastest: '{best}' ({span(best)} {unit}) and '{rival}' ({span(rival)} "
        f"{unit}) cannot be told apart, {against.sentence}"
    )
    if between:  # beaten beyond the spread, though their medians are nearer the best's
        sentence += (
            f"; {', '.join(between)}, between the two by median, "
            f"{'is' if len(between) == 1 else 'are'} slower than '{best}' beyond the spread: "
            f"the repeats of '{rival}' spread wider"
        )
    return Fastest(None, order, against, sentence, spreads, costs)


def most_allowed(c: Compared) -> float:
    """The largest speed-up a comparison's repeats allow: the slowest run before against the
    fastest after (a median inside the spread may hide this much).

    Example:
        >>> round(most_allowed(compare([0.94, 1.13], [0.80, 1.13])), 2)
        1.41
    """
    if c.unit in TIME_UNITS:
        return c.before.high / max(c.after.low, 1e-12)
    return c.after.high / max(c.before.low, 1e-12)
