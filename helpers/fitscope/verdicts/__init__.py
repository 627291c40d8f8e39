"""Verdicts: the article's claims, the rules that decide each from measured numbers, evidence.

``verdict`` says what a verdict and a scorecard are, ``compare`` the one rule every comparison
follows (faster, slower, no measurable difference, undecided; the fastest only beyond the spread),
``bounds`` a time against its two bounds, ``parts`` how a claim's parts combine (an undecided part
decides nothing), ``claims`` gathers one rule per claim (C1–C12, each kept with its scenario's
claims: ``generator_claims``, ``loop_claims``, ``process_claims``, ``tfdata_claims``,
``backend_claims``), ``evidence`` keeps a notebook's verdicts for the scorecard, ``answer``
words the scorecard's answer from its rows, and ``consistency`` checks that a reading follows
from its numbers. Nothing here measures or draws: a rule takes numbers and returns a
:class:`Verdict` with its reason.

Example:
    >>> from fitscope import verdicts
    >>> verdicts.c9(["ab", "ab"]).verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from fitscope.verdicts.claims import (
    MIN_CPU_S,
    MIN_FREE_CPUS,
    MIN_NEXT_CALLS,
    MIN_SAMPLES,
    MIN_STEP_MS,
    SYNCHRONISATION,
    UNBOUNDED_BACKLOG,
    PartEvidence,
    c1,
    combine,
    c2,
    c3,
    c4,
    c5,
    c6,
    c6_parts,
    c7,
    c8,
    c9,
    c12,
    rejudge,
    step_order,
    unbounded_queue,
)
from fitscope.verdicts.tfdata_claims import (
    OVERLAP_VISIBLE_SHARE,
    c10,
    c11,
    speedup_part,
    twin_noise,
)
from fitscope.verdicts.compare import (
    BEATS_BOUND,
    BETWEEN,
    FASTER,
    MIN_DIFFERENCE,
    MIN_GAIN,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    NO_DIFFERENCE,
    SLOWER,
    TOO_CLOSE,
    UNDECIDED,
    Compared,
    Fastest,
    Spread,
    compare,
    fastest,
    position,
    share_of_bound,
)
from fitscope.verdicts.images import Pipeline, article_advice
from fitscope.verdicts.parts import conjunction
from fitscope.verdicts.verdict import (
    ADVICE,
    CLAIMS,
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    Claim,
    Scorecard,
    Verdict,
    hypotheses,
    tally,
)

__all__ = [
    "HOLDS",
    "DOES_NOT_HOLD",
    "DEPENDS",
    "INCONCLUSIVE",
    "NOT_APPLICABLE",
    "Claim",
    "CLAIMS",
    "Verdict",
    "Scorecard",
    "hypotheses",
    "tally",
    "PartEvidence",
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
    "c6",
    "c7",
    "c8",
    "c9",
    "c10",
    "c11",
    "c12",
    "combine",
    "rejudge",
    "speedup_part",
    "twin_noise",
    "unbounded_queue",
    "compare",
    "fastest",
    "position",
    "share_of_bound",
    "Compared",
    "Fastest",
    "Spread",
    "FASTER",
    "SLOWER",
    "NO_DIFFERENCE",
    "UNDECIDED",
    "BEATS_BOUND",
    "MIN_DIFFERENCE",
    "MIN_GAIN",
    "NEAR_OVERLAPPED",
    "NEAR_SEQUENTIAL",
    "BETWEEN",
    "TOO_CLOSE",
    "MIN_NEXT_CALLS",
    "MIN_CPU_S",
    "MIN_SAMPLES",
    "MIN_STEP_MS",
    "MIN_FREE_CPUS",
    "UNBOUNDED_BACKLOG",
    "SYNCHRONISATION",
    "OVERLAP_VISIBLE_SHARE",
]
__all__ += ["Pipeline", "article_advice", "c6_parts", "step_order", "conjunction", "ADVICE"]
