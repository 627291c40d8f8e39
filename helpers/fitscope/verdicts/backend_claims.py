"""C12, decided once per installed Keras backend (notebook 01b): whether data made on the main
thread starves training, each kind of data work's measured time read against its two bounds.

Example:
    >>> part = dict(name="waiting", measured_s=1.0, sequential_s=2.0, overlapped_s=1.0,
    ...             pure_python=False)
    >>> c12("JAX", [part], budget=2, step_ms=20).verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fitscope.verdicts.bounds import (
    BEATS_BOUND,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOLERANCE,
    TOO_CLOSE,
    position,
)
from fitscope.verdicts.generator_claims import MIN_STEP_MS
from fitscope.verdicts.parts import (
    LEANS,
    VISIBLE_SAVING,
    budget_text,
    combine,
    never_against,
    undecided_note,
)
from fitscope.verdicts.spread import figure
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    Verdict,
)

__all__ = ["c12", "c12_parts", "callback_only"]


def _starves(part: dict[str, Any], budget: float, step_ms: float) -> str:
    """C12's rule for one kind of data work: measured time against the two bounds."""
    if step_ms < MIN_STEP_MS or (part["pure_python"] and budget < 2):
        return INCONCLUSIVE
    where = position(part["measured_s"], part["sequential_s"], part["overlapped_s"])
    return {
        TOO_CLOSE: INCONCLUSIVE,
        BEATS_BOUND: INCONCLUSIVE,
        NEAR_SEQUENTIAL: HOLDS,
        NEAR_OVERLAPPED: DOES_NOT_HOLD,
    }.get(where, DEPENDS)


def _where(part: dict[str, Any]) -> str:
    """Where the run lies, in the words the rule reads it with (review r9: a HOLDS that reached
    a third of the possible saving printed neither the saving nor the band that decided it).

    Example:
        >>> _where(dict(measured_s=0.389, sequential_s=0.452, overlapped_s=0.274))
        ', 35 % of the possible saving, within 15 % of the sum'
    """
    t, seq, ovl = part["measured_s"], part["sequential_s"], part["overlapped_s"]
    if seq <= ovl or not ovl <= t <= seq:
        return ""
    tolerance = f"{100 * TOLERANCE:.0f} %"
    band = {
        NEAR_SEQUENTIAL: f"within {tolerance} of the sum",
        NEAR_OVERLAPPED: f"within {tolerance} of the overlapped bound",
        TOO_CLOSE: f"the two {tolerance} bands meet",
    }.get(position(t, seq, ovl), f"between the two {tolerance} bands")
    return f", {100 * (seq - t) / (seq - ovl):.0f} % of the possible saving, {band}"


def _lean(part: dict[str, Any], verdict: str) -> str | None:
    """What an undecided part shows: an overlap (DOES NOT HOLD, for C12) from ``VISIBLE_SAVING``
    of the possible saving on, a beaten ideal bound included; else None."""
    t, seq, ovl = part["measured_s"], part["sequential_s"], part["overlapped_s"]
    if verdict != INCONCLUSIVE or seq <= ovl:
        return None
    return DOES_NOT_HOLD if (seq - t) / (seq - ovl) >= VISIBLE_SAVING else None


def c12_parts(evidence: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Each part of a C12 verdict with its own verdict, from the verdict's evidence.

    Example:
        >>> part = dict(name="waiting + loss read", measured_s=1.9, sequential_s=2.0,
        ...             overlapped_s=1.0, pure_python=False, loss_read=True)
        >>> [(p["name"], v) for p, v in c12_parts(c12("JAX", [part], 2, 20).evidence)]
        [('waiting + loss read', 'HOLDS')]
    """
    parts = evidence.get("parts") or []  # none in a verdict made by hand
    return [(p, _starves(p, evidence["budget"], evidence["step_ms"])) for p in parts]


def callback_only(evidence: dict[str, Any]) -> bool:
    """Whether only C12's parts with a callback that read the loss each step held: 01b reads
    those as a dependency on the step (the callback waits for it), not as where data is made.

    Example:
        >>> part = dict(name="waiting + loss read", measured_s=1.9, sequential_s=2.0,
        ...             overlapped_s=1.0, pure_python=False, loss_read=True)
        >>> callback_only(c12("JAX", [part], 2, 20).evidence)
        True
    """
    held = [p for p, said in c12_parts(evidence) if said == HOLDS]
    return bool(held) and all(p.get("loss_read") for p in held)


def c12(
    backend: str,
    parts: Sequence[dict[str, Any]],
    budget: float,
    step_ms: float,
    next_on_main: Sequence[int] | None = None,
) -> Verdict:
    """Whether data made on the main thread starves training, per kind of data work, on one backend.

    Each part: ``name``, ``measured_s``, ``sequential_s``, ``overlapped_s``, ``pure_python``
    (its work holds the GIL) and, optionally, ``loss_read`` (a callback read the loss after each
    step, so each step was waited for: :func:`callback_only`). A part HOLDS within 15% of (or
    above) the sequential sum, DOES NOT HOLD within 15% of the overlapped bound, else DEPENDS;
    it is INCONCLUSIVE when a step costs
    under ``MIN_STEP_MS``, when the two 15% bands meet (the bounds are too close), when the run
    beat the overlapped bound (the cost estimate was high), or, for pure Python, when B < 2. The
    verdict is the decided parts' common verdict (:func:`combine`), never against an undecided
    part that shows an overlap (a quarter of the possible saving or more: it leans DOES NOT
    HOLD, and a HOLDS against it is INCONCLUSIVE, :func:`never_against`).

    ``next_on_main`` is (next() calls on the main thread, all next() calls), both after Keras's
    peek. When at most 10% ran on the main thread the claim's premise is false on this backend:
    the verdict is NOT APPLICABLE, with the sentence saying why.

    Example:
        >>> part = dict(name="waiting", measured_s=1.9, sequential_s=2.0, overlapped_s=1.0,
        ...             pure_python=False)
        >>> c12("PyTorch", [part], budget=2, step_ms=20).verdict
        'HOLDS'
        >>> c12("TensorFlow", [part], budget=2, step_ms=20, next_on_main=(0, 30)).verdict
        'NOT APPLICABLE'
    """
    parts = [dict(p) for p in parts]
    ev = dict(backend=backend, parts=parts, budget=budget, step_ms=step_ms)
    if next_on_main is not None:
        ev["next_on_main"] = list(next_on_main)
        on_main, total = next_on_main
        if total > 0 and on_main <= 0.10 * total:
            return Verdict(
                "C12",
                NOT_APPLICABLE,
                (
                    f"not applicable on the {backend} backend: {on_main} of {total} next() calls "
                    "after Keras's peek ran on the main thread, so the claim's premise "
                    "(data made on "
                    "the main thread) is false here; whether that data overlaps training is C4's "
                    f"question, with {budget_text(budget)}."
                ),
                ev,
            )
    judged = c12_parts(ev)
    text = (
        f"on the {backend} backend (a step took {step_ms:.1f} ms), "
        + "; ".join(
            f"{p['name']}: {figure(p['measured_s'])} s against an overlapped bound of "
            f"{figure(p['overlapped_s'])} s "
            f"and a sequential sum of {figure(p['sequential_s'])} s ({v}{_where(p)}"
            + (f", {LEANS} {lean}" if (lean := _lean(p, v)) else "")
            + (
                f", {BEATS_BOUND}"
                if position(p["measured_s"], p["sequential_s"], p["overlapped_s"]) == BEATS_BOUND
                else ""
            )
            + ")"
            for p, v in judged
        )
        + f"; {budget_text(budget)}."
    )
    if step_ms < MIN_STEP_MS:
        text += f" A step under {MIN_STEP_MS:g} ms is too short to tell overlap from none."
    verdicts = [v for _, v in judged]
    verdict = never_against(combine(verdicts), [_lean(p, v) for p, v in judged])
    note = undecided_note(verdicts, overruled=verdict != combine(verdicts))
    return Verdict("C12", verdict, text + note, ev)
