"""The article's claims and the rules that decide them (docs/claims.md), one function each, and
:func:`rejudge`, which applies any claim's rule again to a verdict's own evidence.

Each rule lives with its scenario's claims: C1–C5 (a generator passed to fit) in
:mod:`.generator_claims`, C6 (the loop that drives fit) in :mod:`.loop_claims`, C7–C9 (across
processes) in :mod:`.process_claims`, C10 and C11 (tf.data) in :mod:`.tfdata_claims`, C12 (per
Keras backend) in :mod:`.backend_claims`; every one is importable from here.

Every rule takes measured evidence and returns a :class:`Verdict` that quotes its numbers and
the CPU budget B, so the sentence stays true on 1 core and on 16. A verdict is never typed in.

Example:
    >>> v = c1(main_after_peek=0, total_after_peek=998, peeked=2, peeked_on_main=2)
    >>> v.verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from collections.abc import Callable

from fitscope.verdicts.backend_claims import c12
from fitscope.verdicts.generator_claims import (
    MIN_CPU_S,
    MIN_FREE_CPUS,
    MIN_NEXT_CALLS,
    MIN_SAMPLES,
    MIN_STEP_MS,
    c1,
    c2,
    c3,
    c4,
    c5,
)
from fitscope.verdicts.loop_claims import StepOrder, c6, c6_parts, step_order
from fitscope.verdicts.parts import PartEvidence, combine
from fitscope.verdicts.process_claims import (
    SYNCHRONISATION,
    UNBOUNDED_BACKLOG,
    c7,
    c8,
    c9,
    unbounded_queue,
)
from fitscope.verdicts.tfdata_claims import c10, c11
from fitscope.verdicts.verdict import Verdict

__all__ = [
    "MIN_CPU_S",
    "MIN_FREE_CPUS",
    "MIN_NEXT_CALLS",
    "MIN_SAMPLES",
    "MIN_STEP_MS",
    "PartEvidence",
    "StepOrder",
    "SYNCHRONISATION",
    "UNBOUNDED_BACKLOG",
    "unbounded_queue",
    "step_order",
    "combine",
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
    "c6",
    "c6_parts",
    "c7",
    "c8",
    "c9",
    "c10",
    "c11",
    "c12",
    "rejudge",
]


_RULES: dict[str, Callable[..., Verdict]] = {
    "C1": c1,
    "C2": c2,
    "C3": c3,
    "C5": c5,
    "C6": c6,
    "C7": c7,
    "C8": c8,
    "C9": c9,
    "C10": c10,
    "C11": c11,
    "C12": c12,
}


def rejudge(v: Verdict) -> Verdict:
    """Apply the claim's rule again to the verdict's own evidence (e.g. after a JSON round trip).

    A verdict whose evidence is complete gives itself back, so a saved scorecard can be checked.

    Example:
        >>> v = c9(["ab", "ab"])
        >>> rejudge(v) == v
        True
    """
    ev = dict(v.evidence)
    if v.claim_id == "C4":
        return c4(PartEvidence(**ev["io"]), PartEvidence(**ev["cpu"]), ev["budget"])
    return _RULES[v.claim_id](**ev)
