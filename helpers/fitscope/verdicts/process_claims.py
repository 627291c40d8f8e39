"""The claims about training across processes: C7 and C8, the article's multiprocessing trainer
(whether its children's work reaches the parent's model, and why not), and C9, the workers of
MultiWorkerMirroredStrategy ending with the same weights.

Example:
    >>> c9(["ab", "ab"]).verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fitscope.verdicts.verdict import DEPENDS, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Verdict

__all__ = ["SYNCHRONISATION", "UNBOUNDED_BACKLOG", "c7", "c8", "c9", "unbounded_queue"]


def c7(runs: Iterable[dict[str, Any]]) -> Verdict:
    """Sandboxed runs of example 2. Each run: method, useful_updates, error, hang,
    unbounded_growth; or method and ``undecided`` (why: the watchdog stopped children still
    starting), a run that decides nothing, neither a failure nor a hang.

    Example:
        >>> c7([{"method": "spawn", "undecided": "children still starting"}]).verdict
        'INCONCLUSIVE'
    """
    runs = list(runs)
    if not runs:
        return Verdict("C7", INCONCLUSIVE, "no sandboxed run was measured.", {"runs": runs})
    decided = [r for r in runs if not r.get("undecided")]
    bad = [
        r
        for r in decided
        if r.get("useful_updates", 0) == 0
        or r.get("error")
        or r.get("hang")
        or r.get("unbounded_growth")
    ]
    text = "; ".join(
        f"{r['method']}: undecided ({r['undecided']})"
        if r.get("undecided")
        else f"{r['method']}: {r.get('useful_updates', 0)} updates to the parent's model"
        + (f", {r['error']}" if r.get("error") else "")
        + (", hang" if r.get("hang") else "")
        + (", unbounded queue growth" if r.get("unbounded_growth") else "")
        for r in runs
    )
    # an undecided run could still fail: with no failure seen, it keeps the claim open
    verdict = HOLDS if bad else DOES_NOT_HOLD if len(decided) == len(runs) else INCONCLUSIVE
    return Verdict("C7", verdict, text + ".", {"runs": runs})


UNBOUNDED_BACKLOG = 1000
"""Batches waiting in a queue, still growing at the end of a run: C7's unbounded growth."""


def unbounded_queue(backlog: int, growth_per_s: float) -> bool:
    """Whether a queue grew without bound: ``UNBOUNDED_BACKLOG`` or more waiting, still growing.

    Example:
        >>> unbounded_queue(5000, 120.0), unbounded_queue(8, 0.0)
        (True, False)
    """
    return backlog >= UNBOUNDED_BACKLOG and growth_per_s > 0


SYNCHRONISATION = "synchronisation between processes"
LOST_UPDATES = "lost updates"


def c8(causes: Sequence[str]) -> Verdict:
    """The causes actually measured in C7, each possibly followed by the runs it was seen in.

    Example:
        >>> c8([SYNCHRONISATION + " (fork)"]).verdict, c8(["exit hang (fork)"]).verdict
        ('HOLDS', 'DOES NOT HOLD')
        >>> "the claim's first half" in c8([LOST_UPDATES + ": the trainer's own copy"]).because
        True
    """
    ev = {"causes": list(causes)}
    if not causes:
        return Verdict("C8", INCONCLUSIVE, "no cause of failure was measured.", ev)
    text = "measured causes: " + "; ".join(causes) + "."
    synchronised = [c for c in causes if c.startswith(SYNCHRONISATION)]  # "cause (runs)"
    if synchronised:
        only = len(synchronised) == len(causes)
        return Verdict("C8", HOLDS if only else DEPENDS, text, ev)
    if any(c.startswith(LOST_UPDATES) for c in causes):  # r9: say which half the run shows
        text += (
            " The lost updates are the claim's first half, the steps staying in the trainer's "
            "process, by process isolation; its second half, synchronisation problems and "
            "inconsistent data, was not measured: the claim as a whole does not hold."
        )
    return Verdict("C8", DOES_NOT_HOLD, text, ev)


def c9(checksums: Sequence[str]) -> Verdict:
    """Weight checksums of each worker after MultiWorkerMirroredStrategy training."""
    ev = {"checksums": list(checksums)}
    if len(checksums) < 2:
        return Verdict("C9", INCONCLUSIVE, f"only {len(checksums)} worker(s) finished.", ev)
    same = len(set(checksums)) == 1
    text = (
        f"{len(checksums)} workers ended with "
        + ("identical weights" if same else "different weights")
        + " (checksums "
        + ", ".join(c[:12] for c in checksums)
        + ")."
    )
    return Verdict("C9", DOES_NOT_HOLD if same else INCONCLUSIVE, text, ev)
