"""The verdict on a diagnosis's input shares: its category, or inconclusive and why.

The verdict puts the input share (1 - step alone / step in fit) in the categories TensorFlow's
Profiler uses for its own input percentage: 20% or more is highly input-bound, 5% to 20%
moderately, under 5% not. The share is not the Profiler's figure: it counts the step slowed by
the data work sharing the CPU (contention) as well as the wait for the next batch, and the
verdict names the larger of the two only where the repeats rank them (:func:`larger_part`). The
category is decided when the interval that holds the
median of the repeats with 75% confidence (:func:`.figures.median_interval`) lies within one;
otherwise the verdict is inconclusive, and the reason says which line the repeats straddle. An
input-bound category is decided only where that interval also lies above the step-alone noise, how
far two runs of the same step alone fell apart in one repeat, at most, as a share of a step in
fit (:func:`.figures.alone_noise`): free data reads a share that large from the machine's noise
alone. An interval that lies inside that noise is no share: not input-bound, where the noise is
under the 20% line.
:func:`parts_note` says what the two parts' medians sum to against the share's.

Example:
    >>> verdict_of([0.96, 0.97, 0.95])
    ('highly input-bound', '')
    >>> verdict_of([0.02, 0.07, 0.03])[0]
    'inconclusive'
"""

from __future__ import annotations

import statistics

from fitscope.diagnose.figures import COVERAGE, SMALL, beyond_noise, median_interval, ms
from fitscope.verdicts.compare import MIN_GAIN
from fitscope.verdicts.images import PROFILER_LINES

__all__ = [
    "HIGHLY",
    "MODERATELY",
    "NOT",
    "INCONCLUSIVE",
    "LINES",
    "WAITING",
    "CONTENTION",
    "category",
    "larger_part",
    "no_remedy",
    "parts_note",
    "verdict_of",
]

HIGHLY, MODERATELY = "highly input-bound", "moderately input-bound"
NOT, INCONCLUSIVE = "not input-bound", "inconclusive"
LINES = PROFILER_LINES  # TF Profiler's input-bound categories
WAITING, CONTENTION = "waiting", "contention"


def category(share: float) -> str:
    """The input-bound category of one input share."""
    return HIGHLY if share >= LINES[1] else MODERATELY if share >= LINES[0] else NOT


def _pct(share: float) -> int:
    """A share as the whole percent it is printed as (``f"{share:.0%}"``)."""
    return int(f"{share:.0%}"[:-1])


def parts_note(shares: list[float], waiting: list[float], contention: list[float]) -> str:
    """What a reader adding the two parts' medians finds against the share's median, as printed
    (whole percents): nothing when they add up; otherwise the sum, how far and which way it
    misses, and why. Per repeat the parts sum to the share (:func:`.measure.split`); medians
    of separate repeats need not add up, either way; and each figure is rounded on its own.

    Example:
        >>> parts_note([0.69, 0.63, 0.82], [0.38, 0.0, 0.45], [0.31, 0.82, 0.37]).split(":")[0]
        '; the parts sum to 75%, 6% more than the share of 69%'
        >>> parts_note([0.03, 0.53, 0.0], [0.0, 0.2, 0.0], [0.0, 0.33, 0.0]).split(":")[0]
        '; the parts sum to 0%, 3% less than the share of 3%'
        >>> parts_note([0.5], [0.25], [0.25])
        ''
    """
    med = statistics.median
    w, c, s = med(waiting), med(contention), med(shares)
    gap = _pct(w) + _pct(c) - _pct(s)
    if gap == 0:
        return ""
    n = len(shares)
    why = []
    if n > 1:
        why.append(
            f"each of the three is the median of its own {n} repeats, and medians need not add up"
        )
    if abs(w + c - s) < 0.005 or not why:
        why.append("each is rounded on its own")
    return (
        f"; the parts sum to {_pct(w) + _pct(c)}%, {abs(gap)}% "
        f"{'more' if gap > 0 else 'less'} than the share of {_pct(s)}%: " + "; ".join(why)
    )


def larger_part(
    waiting: list[float], contention: list[float], floor: float = 0.0
) -> tuple[str | None, str]:
    """(the larger part, or None where this run cannot rank them; the evidence in words).

    The two parts of one repeat are paired (same repeat), so the rank is read from their
    differences, waiting less contention: a part is the larger one only where the interval that
    holds the median difference (:func:`.figures.median_interval`: up to 5 repeats, every
    repeat) lies beyond 0 on its side; otherwise the run cannot rank them, whatever the medians.
    One repeat has no spread: it ranks them only with the larger ``MIN_GAIN`` times the other or
    more (the margin one run needs in :func:`fitscope.verdicts.compare.compare`) and the two
    apart by more than ``floor``, the step-alone noise (:func:`.figures.alone_noise`): each part
    is a difference of two timed runs, which move by that much with nothing between them.

    Example:
        >>> larger_part([0.60, 0.70, 0.65], [0.05, 0.0, 0.03])[0]
        'waiting'
        >>> larger_part([0.18, 0.46, 0.25], [0.30, 0.08, 0.24])
        (None, 'waiting less contention, repeat by repeat: -12%, +38%, +1%')
        >>> larger_part([0.30], [0.28])[0], larger_part([0.0], [0.59])[0]
        (None, 'contention')
        >>> larger_part([0.23], [0.18], floor=0.08)
        (None, 'its one repeat: waiting 23% against contention 18%, within the 8% step-alone noise')
    """
    diffs = [w - c for w, c in zip(waiting, contention)]
    lo, hi = median_interval(diffs)
    larger = WAITING if lo > 0 else CONTENTION if hi < 0 else None
    if len(diffs) == 1:
        w, c = waiting[0], contention[0]
        said = f"its one repeat: waiting {w:.0%} against contention {c:.0%}"
        if max(w, c) < MIN_GAIN * min(w, c):
            return None, f"{said}, within the x{MIN_GAIN:g} one repeat needs"
        if abs(w - c) <= floor:
            return None, f"{said}, within the {floor:.0%} step-alone noise"
        return larger, said
    if len(diffs) <= 5:
        return larger, "waiting less contention, repeat by repeat: " + ", ".join(
            f"{d:+.0%}" for d in diffs
        )
    return larger, (
        f"the median of waiting less contention, repeat by repeat, lies between {lo:+.0%} and "
        f"{hi:+.0%} ({COVERAGE:.0%} interval of {len(diffs)} repeats)"
    )


def no_remedy(
    waiting: list[float],
    contention: list[float],
    floor: float,
    source: str,
    step_in_fit_s: float,
    bound: bool = False,
) -> str:
    """Why an input share that is not "not input-bound" got no remedy: a part inside the noise
    (under 5 % or the step-alone noise ``floor``) gets none (:func:`.figures.beyond_noise`), and
    a remedy whose bound saves under 5% of a step is left out. ``bound``: the verdict is
    input-bound, so the share is beyond the noise though neither part is on its own.

    Example:
        >>> no_remedy([0.01, 0.11], [0.06, 0.0], 0.0, "generator", 0.09)[:72]
        'No remedy is offered: neither part of the input share is measured beyond'
    """
    parts = {WAITING: waiting, CONTENTION: contention}
    noisy = [name for name, each in parts.items() if not beyond_noise(each, floor)]
    under = f"{SMALL:.0%}" if floor < SMALL else f"the {floor:.0%} step-alone noise"
    n = len(waiting)
    where = (
        "the interval that holds its median reaches"
        if n > 5
        else "its repeats reach"
        if n > 1
        else "its one repeat is"
    )

    def span(name: str) -> str:
        lo, hi = median_interval(parts[name])
        return f"{name} {lo:.0%}" + (f" to {hi:.0%}" if f"{lo:.0%}" != f"{hi:.0%}" else "")

    saves = f"has a bound 5% or more under the step in fit now ({ms(step_in_fit_s)})"
    if len(noisy) == 2:
        said = f"as for each part {where} under {under} ({span(WAITING)}, {span(CONTENTION)})"
        if bound:
            return (
                "No remedy is offered: the input share is beyond the noise, but neither of its "
                f"parts is on its own, {said}, so no remedy can be chosen between them; a "
                "longer run or a quieter machine would tell which part to remedy."
            )
        return (
            "No remedy is offered: neither part of the input share is measured beyond the "
            f"noise, {said}; a longer run or a quieter machine would tell whether there is "
            "anything to remedy."
        )
    if noisy:
        other = CONTENTION if noisy[0] == WAITING else WAITING
        return (
            f"No remedy is offered: the {noisy[0]} part is inside the noise, as {where} "
            f"under {under} ({span(noisy[0])}), and no remedy for {other} that fits a "
            f"{source} {saves}."
        )
    return f"No remedy is offered: none that fits a {source} {saves}."


def verdict_of(shares: list[float], floor: float = 0.0) -> tuple[str, str]:
    """(verdict, reason): the category the median's interval lies in, or inconclusive and why.

    An interval under the 5% line is *not input-bound*, whatever the noise. A share whose
    interval lies inside the step-alone noise ``floor`` (:func:`.figures.alone_noise`: how far
    the step alone's two runs of a repeat fell apart, at most, as a share of a step in fit) is no
    share, a difference inside the spread: *not input-bound*, the reason saying so; but where
    the noise itself reaches the 20% line, such a machine cannot tell the categories apart, and
    the verdict is inconclusive. An input-bound category needs the interval above ``floor``.
    One repeat has no spread to read: outside the noise it decides only a share beyond
    ``MIN_GAIN`` of every line (the margin one run needs in
    :func:`fitscope.verdicts.compare.compare`).

    Example:
        >>> verdict_of([0.6, 0.7])[0], verdict_of([0.6])[0], verdict_of([0.19])[0]
        ('highly input-bound', 'highly input-bound', 'inconclusive')
        >>> verdict_of([0.11, 0.07, 0.06], floor=0.09)[1][:60]
        'the 3 repeats put the input share between 6% and 11%, not be'
        >>> verdict_of([0.0, 0.02, 0.01], floor=0.09)
        ('not input-bound', '')
        >>> verdict_of([0.02, 0.07, 0.03], floor=0.09)[1][:72]
        'the 3 repeats put the input share between 2% and 7%, inside the 9% step-'
        >>> verdict_of([0.08, 0.15, 0.12], floor=0.25)[1][-47:]
        'past the 20% line, too far to tell any category'
        >>> verdict_of([0.19, 0.41, 0.28], floor=0.15)[1][-87:]
        'line: input-bound at least moderately, every repeat above the 5% line and the 15% noise'
        >>> verdict_of([0.047], floor=0.10)[0], verdict_of([0.047])[0]
        ('not input-bound', 'inconclusive')
    """
    lo, hi = median_interval(shares)
    which = (
        ""
        if (lo, hi) == (min(shares), max(shares))
        else f"the median's {COVERAGE:.0%} interval over "
    )
    put = (
        f"one repeat put the input share at {lo:.0%}"
        if len(shares) == 1
        else f"{which}the {len(shares)} repeats put the input share between {lo:.0%} and {hi:.0%}"
    )
    near = [line for line in LINES if line / MIN_GAIN < shares[0] < line * MIN_GAIN]
    near = near if len(shares) == 1 else []
    if category(hi) == NOT and not near:
        return NOT, ""
    if hi <= floor:
        said = (
            f"{put}, inside the {floor:.0%} step-alone noise: the step alone, timed twice in one "
            "repeat, fell that far apart on this machine"
        )
        if floor < LINES[1]:
            return NOT, f"{said}, so no share is measured"
        return INCONCLUSIVE, f"{said}, past the {LINES[1]:.0%} line, too far to tell any category"
    if near:
        return INCONCLUSIVE, (
            f"{put}, too near the {near[0]:.0%} line for one run to decide; repeat to decide"
        )
    if category(lo) == category(hi) and lo > floor:
        return category(lo), ""
    if category(lo) == category(hi):
        return INCONCLUSIVE, (
            f"{put}, not beyond the {floor:.0%} step-alone noise: the step alone, timed twice in "
            "one repeat, fell that far apart on this machine"
        )
    crossed = [f"{line:.0%}" for line in LINES if lo < line <= hi]
    least = (  # r9: 19-41% beyond a 15% noise is input-bound whichever category decides
        f": input-bound at least moderately, every repeat above the {LINES[0]:.0%} line and "
        f"the {floor:.0%} noise"
        if lo > max(floor, LINES[0])
        else ""
    )
    return INCONCLUSIVE, (
        f"{put}, on both sides of the {' and '.join(crossed)} "
        + ("lines" if len(crossed) > 1 else "line")
        + least
    )
