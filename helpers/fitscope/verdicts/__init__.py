"""Verdicts: the article's claims, the rules that decide each from measured numbers, evidence.

``verdict`` says what a verdict and a scorecard are, ``compare`` how two numbers are read the
same way everywhere (a speed-up, a position between two bounds), ``claims`` holds one rule per
claim (C1–C12) and ``evidence`` keeps a notebook's verdicts for the scorecard. Nothing here
measures or draws: a rule takes numbers and returns a :class:`Verdict` with its reason.

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
    OVERLAP_VISIBLE_SHARE,
    SYNCHRONISATION,
    UNBOUNDED_BACKLOG,
    PartEvidence,
    c1,
    c2,
    c3,
    c4,
    c5,
    c6,
    c7,
    c8,
    c9,
    c10,
    c11,
    c12,
    rejudge,
    unbounded_queue,
)
from fitscope.verdicts.compare import (
    BETWEEN,
    MIN_GAIN,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOO_CLOSE,
    position,
    speed_word,
    speedup,
)
from fitscope.verdicts.images import Pipeline, article_advice
from fitscope.verdicts.verdict import (
    CLAIMS,
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    Claim,
    Scorecard,
    Verdict,
    hypotheses,
)

__all__ = ["HOLDS", "DOES_NOT_HOLD", "DEPENDS", "INCONCLUSIVE", "Claim", "CLAIMS", "Verdict",
           "Scorecard", "hypotheses", "PartEvidence", "c1", "c2", "c3", "c4", "c5", "c6", "c7",
           "c8", "c9", "c10", "c11", "c12", "rejudge", "unbounded_queue", "speedup", "speed_word",
           "position", "MIN_GAIN", "NEAR_OVERLAPPED", "NEAR_SEQUENTIAL", "BETWEEN", "TOO_CLOSE",
           "MIN_NEXT_CALLS", "MIN_CPU_S", "MIN_SAMPLES", "MIN_STEP_MS", "MIN_FREE_CPUS",
           "UNBOUNDED_BACKLOG", "SYNCHRONISATION", "OVERLAP_VISIBLE_SHARE"]
__all__ += ["Pipeline", "article_advice"]
