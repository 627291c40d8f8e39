"""The tf.data claims: prefetch (C10) and parallel map or interleave (C11), each from speed-ups.

A claim of speed-up reads each kind of work through one comparison of repeats
(:func:`~fitscope.verdicts.compare.compare`): faster beyond the spread by the claim's factor
HOLDS, faster beyond the spread by less is a gain smaller than the factor (INCONCLUSIVE, leaning
HOLDS, never "no gain"), a slow-down or no measurable difference DOES NOT HOLD, and a comparison
that cannot decide decides nothing (docs/claims.md). C10's in-memory part is also read against
the run-to-run noise of twin pipelines, where the evidence holds them (:func:`twin_noise`), and
C11's pure-Python part against what a parallel map can gain while the calls hold the GIL
(:func:`beyond_the_gil`).

Example:
    >>> c10(compare([2.0, 2.1], [1.0, 1.1]), True, compare([50, 52], [51, 50], "per s")).verdict
    'DEPENDS'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fitscope.verdicts.compare import (
    FASTER,
    MIN_GAIN,
    NO_DIFFERENCE,
    UNDECIDED,
    Compared,
    compare,
    most_allowed,
)
from fitscope.verdicts.generator_claims import MIN_FREE_CPUS
from fitscope.verdicts.parts import (
    LEANS,
    budget_text,
    combine,
    never_against,
    undecided_note,
    with_budget,
)
from fitscope.verdicts.verdict import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Verdict

__all__ = [
    "OVERLAP_VISIBLE_SHARE",
    "Speedup",
    "beyond_the_gil",
    "c10",
    "c10_parts",
    "c11",
    "speedup_part",
    "twin_noise",
]


OVERLAP_VISIBLE_SHARE = 0.25
"""C10: overlap counts as visible when producer work ran during this share of the train time."""


Speedup = Compared | Mapping[str, Any]
"""A comparison of repeats (:func:`~fitscope.verdicts.compare.compare`) or its ``facts()``."""


def _compared(c: Speedup) -> Compared:
    return c if isinstance(c, Compared) else compare(c["before"], c["after"], c["unit"])


def _facts(c: Compared) -> dict[str, Any]:
    return dict(before=list(c.before.values), after=list(c.after.values), unit=c.unit)


def _lean(c: Compared, part: str) -> str | None:
    """What an undecided part shows: HOLDS when its comparison reads faster (beyond the
    spread) short of the claim's factor."""
    return HOLDS if part == INCONCLUSIVE and c.word == FASTER else None


def _said(part: str, lean: str | None, c: Compared, holds_at: float, why: str = "") -> str:
    """A part's verdict as printed: an undecided one that shows the effect says so, and what it
    fell short of: a gain, smaller than the claim's rule needs, never "no gain"; ``why`` is the
    reason a rule beyond the comparison's left it undecided (the twin pipelines' noise)."""
    if why:
        return f"{part}, {LEANS} {lean}: {why}" if lean else f"{part}: {why}"
    if not lean:
        return part
    short = (
        f"a gain, smaller than the x{holds_at:g} the rule needs"
        if c.ratio < holds_at
        else "a gain, with no overlap visible on the timeline"
    )
    return f"{part}, {LEANS} {lean}: {short}"


def speedup_part(c: Compared, holds_at: float, fails_under: float) -> str:
    """A speed-up claim's verdict for one kind of work, read through the comparison's rule.

    HOLDS only when the comparison says faster (beyond the spread) by ``holds_at`` or more;
    faster beyond the spread by less is a gain all the same, smaller than the rule needs: it is
    INCONCLUSIVE (and leans HOLDS), never DOES NOT HOLD. DOES NOT HOLD needs a slow-down, or no
    measurable difference under ``fails_under``; a comparison one run cannot decide, and a gain
    the spread swallows, decide nothing: a difference inside the spread is decided against only
    when even the most the repeats allow (the slowest "before" against the fastest "after")
    stays under ``holds_at``.

    Example:
        >>> speedup_part(compare([1.0, 1.1, 0.9], [0.7, 0.72, 0.69]), 1.2, 1.2)
        'HOLDS'
        >>> speedup_part(compare([1.0, 1.6, 0.6], [0.7, 0.72, 0.69]), 1.2, 1.2)  # inside spread
        'INCONCLUSIVE'
        >>> speedup_part(compare([0.94, 1.13], [0.80, 1.13]), 1.2, 1.2)  # x1.07, up to x1.41
        'INCONCLUSIVE'
        >>> speedup_part(compare([1.0, 1.02], [0.99, 1.01]), 1.2, 1.2)  # the spread allows x1.03
        'DOES NOT HOLD'
        >>> speedup_part(compare([1.03, 1.02], [0.88, 0.87]), 1.2, 1.2)  # x1.17: a gain, small
        'INCONCLUSIVE'
    """
    if c.word == UNDECIDED:
        return INCONCLUSIVE
    if c.word == FASTER:
        return HOLDS if c.ratio >= holds_at else INCONCLUSIVE
    if c.word == NO_DIFFERENCE and most_allowed(c) >= holds_at:
        return INCONCLUSIVE
    return DOES_NOT_HOLD if c.ratio < fails_under else INCONCLUSIVE


def _costly_part(c: Compared, overlap_visible: bool) -> str:
    """C10's costly-producer part: both halves of the claim, the overlap on the timeline and the
    gain. Without the overlap it does not hold, unless prefetch measured faster beyond the
    spread: the halves then disagree (the timeline missed an overlap the speed shows), and a
    gain is never read as none: INCONCLUSIVE. An undecided gain decides nothing either: without
    the overlap the part is DOES NOT HOLD only where no gain was measured where x1.2 would
    have shown, so "no measured gain" is what it says."""
    gain = speedup_part(c, 1.2, 1.2)
    if overlap_visible:
        return gain
    return DOES_NOT_HOLD if gain == DOES_NOT_HOLD else INCONCLUSIVE


def twin_noise(twin: Speedup) -> float:
    """How far apart the fits of twin pipelines lie: the fastest fit against the slowest, both
    twins' fits together. In example 3, "no prefetch" gets a prefetch injected by TensorFlow,
    so it is the ".prefetch" pipeline again: how far their fits lie apart is what a run of
    one pipeline cannot attribute (noise, or anything the run did not measure), and a gap
    between other pipelines no larger than it says nothing.

    Example:
        >>> twin_noise(compare([1012, 1053], [1036, 1730], "per s"))  # 03's fits, review r4
        1.71
    """
    c = _compared(twin)
    values = [*c.before.values, *c.after.values]
    return round(max(values) / min(values), 2)


def _arrays_part(c: Compared, twin: Speedup | None) -> tuple[str, str]:
    """C10's in-memory part and, where the twins' noise undecided it, why.

    A part is decided only beyond the noise the twin pipelines show: a gain or a slow-down
    whose gap is no larger than the twins' own difference is INCONCLUSIVE; "no measurable
    difference" decides against the claim only where the x1.2 the rule needs would have shown
    beyond that noise (the measured ratio times the noise stays under it).

    Example:
        >>> twins = compare([1012, 1053], [1036, 1730], "per s")  # differ by up to x1.71
        >>> _arrays_part(compare([1524, 1768], [1012, 1053], "per s"), twins)[0]  # 37 % slower
        'INCONCLUSIVE'
        >>> _arrays_part(compare([1524, 1768], [1012, 1053], "per s"), None)[0]
        'DOES NOT HOLD'
        >>> _arrays_part(compare([100, 101], [108, 109], "per s"), twins)  # x1.08, not "a gain"
        ('INCONCLUSIVE', 'the twin pipelines differ by x1.71, at least as much as the gap (x1.08)')
    """
    part = speedup_part(c, 1.2, 1.2)
    if twin is None:
        return part, ""
    noise = twin_noise(twin)
    twins = f"the twin pipelines differ by x{noise:.2f}"
    if c.decided:  # a gain short of x1.2 inside the twins' gap is no gain either (r8)
        gap = max(c.ratio, 1 / c.ratio)
        if gap <= noise:
            return INCONCLUSIVE, f"{twins}, at least as much as the gap (x{gap:.2f})"
    elif part != INCONCLUSIVE and c.ratio * noise >= 1.2:
        return INCONCLUSIVE, f"{twins}, so the x1.2 the rule needs could hide in that noise"
    return part, ""


def c10_parts(evidence: Mapping[str, Any]) -> tuple[str, str]:
    """C10's parts from a C10 verdict's evidence: (costly producer, in-memory arrays), so a
    sentence built on the verdict can name the part it rests on.

    Example:
        >>> v = c10(compare([2.0, 2.1], [1.0, 1.1]), True, compare([50, 52], [51, 50], "per s"))
        >>> c10_parts(v.evidence)
        ('HOLDS', 'DOES NOT HOLD')
    """
    costly, arrays = _compared(evidence["costly"]), _compared(evidence["arrays"])
    arrays_part, _ = _arrays_part(arrays, evidence.get("twin"))
    return _costly_part(costly, evidence["overlap_visible"]), arrays_part


def c10(
    costly: Speedup,
    overlap_visible: bool,
    arrays: Speedup,
    budget: float | None = None,
    twin: Speedup | None = None,
) -> Verdict:
    """prefetch against none (seconds), for a costly producer, and ``.prefetch`` against
    injection off for in-memory arrays (steps/s); each part is printed with its own verdict.
    ``twin``, where given, is ``.prefetch`` against a twin of it (example 3 without
    ``.prefetch``, which TensorFlow gives a prefetch): the in-memory part is decided only
    beyond the noise the twins show (:func:`twin_noise`).

    Example:
        >>> c10(compare([2.0, 2.1], [1.0, 1.1]), True, compare([50, 52], [51, 50], "per s")).verdict
        'DEPENDS'
        >>> twins = compare([50, 70], [51, 52], "per s")  # the same pipeline twice: x1.4 apart
        >>> c10(compare([2.0, 2.1], [1.0, 1.1]), True, compare([50, 52], [51, 50], "per s"),
        ...     twin=twins).verdict
        'HOLDS'
    """
    costly_c, arrays_c = _compared(costly), _compared(arrays)
    twin_c = None if twin is None else _compared(twin)
    ev: dict[str, Any] = dict(
        costly=_facts(costly_c),
        overlap_visible=overlap_visible,
        arrays=_facts(arrays_c),
        budget=budget,
    )
    if twin_c is not None:
        ev["twin"] = _facts(twin_c)
    parts = list(c10_parts(ev))
    why = _arrays_part(arrays_c, twin_c)[1]
    leans = [_lean(costly_c, parts[0]), _lean(arrays_c, parts[1])]
    text = with_budget(
        f"with a costly producer, prefetch against none: {costly_c} (overlap "
        f"{'visible' if overlap_visible else 'not visible'} on the timeline; "
        f"{_said(parts[0], leans[0], costly_c, 1.2)}); with in-memory arrays: {arrays_c} "
        f"({_said(parts[1], leans[1], arrays_c, 1.2, why)}).",
        budget,
    )
    verdict = never_against(combine(parts), leans)
    overruled = verdict != combine(parts)
    return Verdict("C10", verdict, text + undecided_note(parts, overruled), ev)


def beyond_the_gil(ratio: float, limit: float | None) -> str:
    """Why a pure-Python speed-up is beyond what a parallel map can gain, or "" where it is not.

    ``limit`` is the sequential map's time over its Python calls' time (notebook 03's GIL
    table: :meth:`fitscope.lessons.tfdata.gil.GilRuns.python_limit`): the calls hold the GIL,
    so two threads can overlap only the rest; None where unmeasured. The table's sentence and
    C11's pure-Python part both say this.

    Example:
        >>> beyond_the_gil(2.25, 1.75)
        'the x2.25 measured is beyond the x1.75 a parallel map can gain while the Python calls \
hold the GIL, so this run cannot credit the parallel calls with it: what made the rest is not \
measured here'
        >>> beyond_the_gil(1.5, 1.75), beyond_the_gil(2.25, None)
        ('', '')
    """
    if limit is None or ratio <= limit:
        return ""
    return (
        f"the x{ratio:.2f} measured is beyond the x{limit:.2f} a parallel map can gain while the "
        "Python calls hold the GIL, so this run cannot credit the parallel calls with it: what "
        "made the rest is not measured here"
    )


def _python_part(part: str, c: Compared, gil_limit: float | None) -> tuple[str, str]:
    """C11's pure-Python part and, where the GIL's limit undecided it, why: a speed-up beyond
    what a parallel map can gain while the calls hold the GIL (:func:`beyond_the_gil`) is never
    read as the parallel map's gain, so it holds nothing (INCONCLUSIVE)."""
    why = beyond_the_gil(c.ratio, gil_limit) if c.word == FASTER else ""
    return (INCONCLUSIVE, why) if why else (part, "")


def _crowded_part(part: str, free_cpus: float | None) -> str:
    """A part decided against on a machine where other processes left under
    :data:`~fitscope.verdicts.generator_claims.MIN_FREE_CPUS` CPUs free decides nothing: no gain
    there says nothing of what a parallel map gains with cores to run on (the rule C3 and C5
    read). A gain measured there still counts."""
    crowded = free_cpus is not None and free_cpus < MIN_FREE_CPUS
    return INCONCLUSIVE if crowded and part == DOES_NOT_HOLD else part


UNLIKE = "not like with like, so their times decide nothing"
"""What a part says of runs whose own costs lie apart: its comparison shows nothing either way."""
_UNLIKE_HEAD = "the two runs' own costs of one call"


def _c11_lean(c: Compared, part: str, why: str, per_cost: float | None) -> str | None:
    """What a C11 part shows: nothing beyond the GIL's limit; from runs unlike, HOLDS only where
    its times gained and, per each run's own cost of a call, still gained ``MIN_GAIN`` (r9)."""
    if why.startswith(_UNLIKE_HEAD):  # per_cost is None unless the times showed a gain
        return HOLDS if per_cost is not None and per_cost >= MIN_GAIN else None
    return None if why else _lean(c, part)


def _unlike(apart: float, per_cost: float | None = None) -> str:
    """Why a part's runs are not like with like, and, where taken per each run's own cost of a
    call the parallel map still gained beyond ``MIN_GAIN``, that gain (the part then leans)."""
    said = f"{_UNLIKE_HEAD}, each timed alone, differ x{apart:.2f}, more than the x{MIN_GAIN:g} "
    if per_cost is None or per_cost < MIN_GAIN:
        return said + f"one run can tell apart: {UNLIKE}"
    return said + (
        "one run can tell apart: not like with like, so their times alone decide nothing; taken "
        f"per each run's own cost of a call, the parallel map ran x{per_cost:.2f} faster"
    )


def c11(
    gil_releasing: Speedup,
    cpu_bound: Speedup,
    budget: float,
    free_cpus: float | None = None,
    gil_limit: float | None = None,
    apart: tuple[float, float] = (1.0, 1.0),
) -> Verdict:
    """Parallel map/interleave against sequential (seconds), for GIL-releasing ops and CPU-bound
    Python; each part HOLDS faster by x1.3 or more, DOES NOT HOLD under x1.15 and is
    INCONCLUSIVE between or where the comparison is undecided; an INCONCLUSIVE part decides
    nothing, and one faster beyond the spread (x1.26: it leans HOLDS) keeps the claim from being
    decided against it.

    ``gil_limit`` is the most a parallel map can gain on the pure Python (notebook 03's GIL
    table), None where unmeasured: a pure-Python speed-up beyond it is not the parallel map's,
    as the table says, so that part is INCONCLUSIVE, leans nowhere, and says why
    (:func:`beyond_the_gil`).

    ``apart`` is, per part (GIL-releasing, pure Python), the parallel run's own cost of one
    call over the sequential run's, each timed alone: more than ``MIN_GAIN`` apart either way,
    the runs did not measure alike, so that part is INCONCLUSIVE and says so; it leans HOLDS only
    where, taken per each run's own cost of a call, the parallel map still gained ``MIN_GAIN``.

    ``free_cpus`` is what other processes left of B during the parallel runs (the least of them;
    :class:`fitscope.instrument.budget.OtherLoad`), None where unknown: under
    :data:`~fitscope.verdicts.generator_claims.MIN_FREE_CPUS` a part that gained nothing is
    INCONCLUSIVE, as C3 and C5 read a crowded machine.

    Example:
        >>> c11(compare([1.26, 1.3], [1.0, 1.01]), compare([1.09, 1.1], [1.0, 1.01]), 2).verdict
        'INCONCLUSIVE'
        >>> same = compare([0.20, 0.21], [0.20, 0.205])  # no measurable difference
        >>> c11(same, same, 2).verdict, c11(same, same, 2, free_cpus=0.88).verdict
        ('DOES NOT HOLD', 'INCONCLUSIVE')
        >>> numpy, python = compare([0.2, 0.21], [0.1, 0.11]), compare([0.27, 0.28], [0.12, 0.124])
        >>> c11(numpy, python, 2).verdict, c11(numpy, python, 2, gil_limit=1.75).verdict
        ('HOLDS', 'HOLDS')
        >>> c11(same, python, 2).verdict, c11(same, python, 2, gil_limit=1.75).verdict
        ('DEPENDS', 'DOES NOT HOLD')
        >>> unlike = c11(numpy, python, 2, apart=(1.0, 1.47))  # x2.25, calls costlier: a gain
        >>> unlike.verdict, "(INCONCLUSIVE, leans HOLDS: the two runs' own" in unlike.because
        ('HOLDS', True)
        >>> cheaper = c11(numpy, same, 2, apart=(1.0, 1 / 1.3))  # no gain once per own cost
        >>> "(INCONCLUSIVE: the two runs' own costs of one call, each" in cheaper.because
        True
    """
    gil_c, cpu_c = _compared(gil_releasing), _compared(cpu_bound)
    ev = dict(
        gil_releasing=_facts(gil_c),
        cpu_bound=_facts(cpu_c),
        budget=budget,
        free_cpus=free_cpus,
        gil_limit=gil_limit,
        apart=list(apart),
    )
    whys = ["", ""]
    per_cost: list[float | None] = [None, None]  # a part's gain per each run's own cost
    if budget < 2:  # one CPU cannot show a parallel speed-up either way
        parts = [INCONCLUSIVE, INCONCLUSIVE]
    else:
        measured = [speedup_part(c, 1.3, MIN_GAIN) for c in (gil_c, cpu_c)]
        measured[1], whys[1] = _python_part(measured[1], cpu_c, gil_limit)
        for i, a in enumerate(apart):  # the same work measured unalike: no time is compared
            if max(a, 1 / a) > MIN_GAIN:
                c = (gil_c, cpu_c)[i]  # a gain its times show, that the costs do not explain
                per_cost[i] = c.ratio * a if c.word == FASTER and not whys[i] else None
                measured[i], whys[i] = INCONCLUSIVE, _unlike(max(a, 1 / a), per_cost[i])
        parts = [_crowded_part(p, free_cpus) for p in measured]
    leans = [_c11_lean(*each) for each in zip((gil_c, cpu_c), parts, whys, per_cost)]
    leans = leans if budget >= 2 else [None, None]
    free = "" if free_cpus is None else f" ({free_cpus:.1f} CPUs left free by other processes)"
    text = (
        f"parallel against sequential: for GIL-releasing work {gil_c} "
        f"({_said(parts[0], leans[0], gil_c, 1.3, whys[0])}); for CPU-bound Python in py_function "
        f"{cpu_c} ({_said(parts[1], leans[1], cpu_c, 1.3, whys[1])}), with "
        f"{budget_text(budget)}{free}. "
        f"A part holds when faster by x1.3 or more and does not under x{MIN_GAIN:g}."
    )
    if budget < 2:
        return Verdict("C11", INCONCLUSIVE, text + " One CPU cannot show parallel speed-up.", ev)
    if parts != measured:
        text += (
            f" Other processes left only {free_cpus:.1f} CPUs free, so a parallel map that "
            "gained nothing tells nothing about what it gains with cores to run on."
        )
    verdict = never_against(combine(parts), leans)
    return Verdict("C11", verdict, text + undecided_note(parts, verdict != combine(parts)), ev)
