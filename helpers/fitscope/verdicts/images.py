"""The article's advice for an image pipeline, decided from diagnoses: "use tf.data with prefetch".

Notebook 05 diagnoses one custom generator and its fixes with ``fitscope.diagnose``. This rule
reads their verdicts (TF Profiler's input-bound categories) and asks two questions: does
``tf.data`` with ``prefetch`` remove the input bottleneck the generator had, and is it the only
fix that does?

- INCONCLUSIVE when the generator was not input-bound (nothing to remove), when the tf.data
  diagnosis was inconclusive, or when tf.data reached its ideal-overlap bound and that bound is
  itself input-bound (this machine's CPUs cannot make the data and run the step side by side);
- HOLDS when tf.data is not input-bound and no other fix is;
- DEPENDS when tf.data is not input-bound and another fix is too (it is not the only way);
- DOES NOT HOLD when tf.data stays input-bound short of its ideal-overlap bound.

Example:
    >>> gen = Pipeline("generator", "highly input-bound", 0.6, 0.010, 0.025, 0.020)
    >>> tfd = Pipeline("tf.data", "not input-bound", 0.02, 0.010, 0.0102, 0.010, tf_data=True)
    >>> article_advice([gen, tfd], budget=2.0).verdict
    'HOLDS'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fitscope.verdicts.claims import _RULES
from fitscope.verdicts.verdict import DEPENDS, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Verdict

__all__ = ["ADVICE", "ADVICE_ID", "Pipeline", "AdviceVerdict", "article_advice"]

ADVICE_ID = "05"
ADVICE = "Use tf.data with prefetch: it removes the input bottleneck of a custom image generator."
NOT_BOUND, UNDECIDED = "not input-bound", "inconclusive"
AT_BOUND = 1.15  # a step within 15% of its ideal-overlap bound is at it (C12's band)
BOUND_BOUND = 1.05  # an ideal-overlap bound 5% over the step alone is itself input-bound


@dataclass(frozen=True)
class Pipeline:
    """One diagnosed pipeline: its verdict, input share and times a step (s)."""

    name: str
    verdict: str
    input_share: float
    step_alone_s: float
    step_in_fit_s: float
    overlapped_s: float
    tf_data: bool = False


class AdviceVerdict(Verdict):
    """A :class:`Verdict` on the article's advice (not one of C1–C12)."""

    @property
    def claim(self) -> str:
        return ADVICE


def _share(p: Pipeline) -> str:
    return f"{p.name} {p.input_share:.0%} ({p.verdict})"


def article_advice(pipelines: Sequence[Pipeline], budget: float) -> AdviceVerdict:
    """Decide the advice from the generator (first), its fixes and the tf.data pipeline(s)."""
    first, fixes = pipelines[0], list(pipelines[1:])
    tfds = [p for p in fixes if p.tf_data]
    if not tfds:
        raise ValueError("the advice needs at least one tf.data pipeline among the fixes")
    best = min(tfds, key=lambda p: p.input_share)
    ev = {"pipelines": [asdict(p) for p in pipelines], "budget": budget}
    shares = "; ".join(_share(p) for p in pipelines)
    text = f"input share of a step: {shares}, with B = {budget:g} CPU(s)."

    def verdict(v: str, why: str) -> AdviceVerdict:
        return AdviceVerdict(ADVICE_ID, v, f"{text} {why}", ev)

    if first.verdict == NOT_BOUND:
        return verdict(
            INCONCLUSIVE,
            f"The {first.name} was not input-bound here: there was no bottleneck to remove.",
        )
    if first.verdict == UNDECIDED:
        return verdict(INCONCLUSIVE, f"The {first.name}'s own diagnosis was inconclusive.")
    if best.verdict == UNDECIDED:
        return verdict(INCONCLUSIVE, f"The {best.name} diagnosis was inconclusive.")
    if best.verdict == NOT_BOUND:
        others = [p.name for p in fixes if not p.tf_data and p.verdict == NOT_BOUND]
        if others:
            return verdict(
                DEPENDS,
                f"{best.name} removed the input bottleneck, and so did "
                f"{', '.join(others)}: tf.data is one way, not the only one.",
            )
        undecided = [p.name for p in fixes if not p.tf_data and p.verdict == UNDECIDED]
        note = (
            f" ({', '.join(undecided)}: inconclusive, which decides nothing)" if undecided else ""
        )
        return verdict(
            HOLDS, f"{best.name} removed the input bottleneck, and no other fix was shown to{note}."
        )
    at_bound = best.step_in_fit_s <= AT_BOUND * best.overlapped_s
    if at_bound and best.overlapped_s >= BOUND_BOUND * best.step_alone_s:
        return verdict(
            INCONCLUSIVE,
            f"{best.name} ran at (or faster than) its ideal-overlap bound "
            f"({best.overlapped_s * 1e3:.3g} ms a step), which is itself "
            f"{best.overlapped_s / best.step_alone_s - 1:.0%} over the "
            "step alone: on these CPUs no pipeline can hide the data's "
            "CPU work behind the step.",
        )
    return verdict(
        DOES_NOT_HOLD,
        f"{best.name} stayed input-bound, short of its ideal-overlap "
        f"bound ({best.overlapped_s * 1e3:.3g} ms a step).",
    )


def _from_evidence(pipelines: Sequence[dict], budget: float) -> AdviceVerdict:
    """The rule again on a verdict's own evidence (its pipelines as plain dicts)."""
    return article_advice([Pipeline(**p) for p in pipelines], budget)


# claims.rejudge (and so verdicts.consistency) finds each rule by claim id: the advice's too.
_RULES.setdefault(ADVICE_ID, _from_evidence)
