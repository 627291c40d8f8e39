"""The article's advice for an image pipeline, decided from diagnoses: "use tf.data with prefetch".

Notebook 05 diagnoses one custom generator and its fixes with ``fitscope.diagnose``. The rule
tests what the article advises, in its order:

1. **Throughput**: does the fastest tf.data pipeline train faster than the generator, beyond the
   spread of their repeats (:func:`~fitscope.verdicts.compare.compare` on seconds a step in
   ``fit``)? Faster HOLDS; a slow-down, or no measurable difference, DOES NOT HOLD; a comparison
   one run each cannot decide decides nothing (INCONCLUSIVE), nor do two diagnoses whose step
   alone, the same model's step, lies more than ``MIN_GAIN`` apart (not like with like).
2. **Then the bottleneck**, in words, not as a second verdict: is tf.data's input share still
   beyond the noise floor of the measurement, the highest input share of a control whose
   batches are arrays already in memory (nothing to make, so its share is noise), or that
   control's step-alone noise where it is higher? Read with its
   own diagnosis's decidedness: an inconclusive diagnosis leaves it INCONCLUSIVE.

A generator whose share is inside the noise floor had no bottleneck to remove, and where the step
alone already keeps ``FULL_CPUS`` of the CPU budget busy no pipeline can hide the data's CPU work
behind it: then a throughput that did not improve is CPU contention, named, and decides nothing.

Example:
    >>> gen = Pipeline("generator", "highly input-bound", 0.6, 0.010, 0.025, 0.020)
    >>> tfd = Pipeline("tf.data", "not input-bound", 0.02, 0.010, 0.0102, 0.010, tf_data=True)
    >>> article_advice([gen, tfd], budget=2.0).verdict
    'HOLDS'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from fitscope.verdicts.claims import _RULES
from fitscope.verdicts.compare import (
    FASTER,
    MIN_GAIN,
    NO_DIFFERENCE,
    SLOWER,
    UNDECIDED,
    compare,
    most_allowed,
)
from fitscope.verdicts.parts import budget_text
from fitscope.verdicts.verdict import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Verdict

__all__ = ["ADVICE_ID", "FULL_CPUS", "Pipeline", "article_advice", "step_cores"]

ADVICE_ID = "A1"
FULL_CPUS = 0.75
"""The step alone fills the CPUs when it keeps this share of the budget B busy (1.5 of 2)."""


def step_cores(cpu_by_role: Mapping[str, float] | None, step_s: float) -> float | None:
    """The cores a step keeps busy: its CPU, summed over thread roles, over its wall time (two
    decimals, as printed); None where no CPU was sampled.

    Example:
        >>> step_cores({"main": 0.09, "pool": 0.072}, 0.09), step_cores({}, 0.09)
        (1.8, None)
    """
    cpu = sum((cpu_by_role or {}).values())
    return round(cpu / step_s, 2) if cpu else None


@dataclass(frozen=True)
class Pipeline:
    """One diagnosed pipeline: its verdict, input share and times a step (s); ``steps_in_fit_s``
    and ``shares`` are its repeats (a step in fit, the input share), ``step_cores`` the cores a
    step keeps busy (CPU a step / a step's wall time; for the arrays control, the step alone)."""

    name: str
    verdict: str
    input_share: float
    step_alone_s: float
    step_in_fit_s: float
    overlapped_s: float
    tf_data: bool = False
    steps_in_fit_s: Sequence[float] = field(default_factory=list)
    shares: Sequence[float] = field(default_factory=list)
    step_cores: float | None = None
    alone_noise: float = 0.0  # how far its step alone's two runs of a repeat fell apart

    @classmethod
    def from_diagnosis(cls, name: str, d: Mapping[str, Any], tf_data: bool = False) -> Pipeline:
        """From a diagnosis's ``to_dict()``: its figures, repeats and cores busy in fit.

        Example:
            >>> d = dict(verdict="not input-bound", input_share=0.1, step_alone_s=0.08,
            ...          step_in_fit_s=0.09, overlapped_s=0.08, steps_in_fit_s=[0.09, 0.1],
            ...          shares=[0.1, 0.2], cpu_per_step_by_role={"main": 0.09, "pool": 0.072})
            >>> Pipeline.from_diagnosis("arrays", d).step_cores
            1.8
        """
        return cls(
            name,
            d["verdict"],
            d["input_share"],
            d["step_alone_s"],
            d["step_in_fit_s"],
            d["overlapped_s"],
            tf_data,
            list(d.get("steps_in_fit_s") or []),
            list(d.get("shares") or []),
            step_cores(d.get("cpu_per_step_by_role"), d["step_in_fit_s"]),
            d.get("alone_noise", 0.0),
        )

    def repeats(self) -> list[float]:
        """Seconds a step in fit, each repeat (the median alone when none were kept)."""
        return list(self.steps_in_fit_s) or [self.step_in_fit_s]

    def share_range(self) -> str:
        each = list(self.shares) or [self.input_share]
        return f"{self.input_share:.0%} ({', '.join(f'{s:.0%}' for s in each)})"


def _plain(p: Pipeline) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(p).items()}


_UNDECIDED_DIAGNOSIS = "inconclusive"
PROFILER_LINES = (0.05, 0.20)
"""TF Profiler's input-bound categories: under 5 % not, 5 % to 20 % moderately, 20 % or more
highly (diagnose's verdict reads them too)."""
"""A diagnosis's verdict where its repeats straddle TF Profiler's lines (diagnose.verdict)."""


_NOT_INPUT_BOUND = "not input-bound"


def _bottleneck(best: Pipeline, floor: float | None) -> str:
    """Step 2 in words: tf.data's input share against the noise floor, read with its own
    diagnosis's decidedness, never its median alone: every repeat beyond the floor and at or
    above the Profiler's 5 % line (input-bound, whichever category; a diagnosis undecided only
    between moderately and highly still says so), or a diagnosis decided input-bound with every
    repeat beyond the floor, say the input is still the bottleneck; a diagnosis decided not
    input-bound, that it is not; every repeat inside the floor (review r6: a diagnosis that
    reads 28 % beyond its own step-alone noise, inside a control's 39 %), a diagnosis that is
    itself inconclusive about the 5 % line, or repeats on both sides of the floor, decide
    nothing.

    Example:
        >>> tfd = Pipeline("tf.data", "inconclusive", 0.25, 0.01, 0.013, 0.01, True,
        ...                shares=[0.29, 0.35, 0.20, 0.03])
        >>> _bottleneck(tfd, 0.01).split(": ")[1]
        'whether the input is still the bottleneck is INCONCLUSIVE'
        >>> from dataclasses import replace  # undecided between moderately and highly only
        >>> _bottleneck(replace(tfd, shares=[0.08, 0.53, 0.3], input_share=0.3), 0.02)[-40:]
        'floor: the input is still the bottleneck'
    """
    if floor is None:
        return (
            f"{best.name}'s input share is {best.share_range()}, {best.verdict} by TF "
            "Profiler's categories (no arrays-in-memory control gave a noise floor)"
        )
    each = [*best.shares, best.input_share]
    beyond = max(floor, best.alone_noise)  # the control's noise and its own diagnosis's
    if max(each) <= floor and best.verdict != _NOT_INPUT_BOUND:  # inside the noise: undecided
        where = (
            "is inside the noise floor: whether the input is still the bottleneck is "
            "INCONCLUSIVE (a share inside the noise is no evidence either way)"
        )
    elif min(each) > beyond and min(each) >= PROFILER_LINES[0]:
        where = "is beyond the noise floor: the input is still the bottleneck"
    elif best.verdict.startswith(_UNDECIDED_DIAGNOSIS):
        where = (
            "is undecided by its own diagnosis (against TF Profiler's lines or its step-alone "
            "noise): "
            "whether the input is still the bottleneck is INCONCLUSIVE"
        )
    elif best.verdict == _NOT_INPUT_BOUND:
        why = (
            "under TF Profiler's 5% line"
            if max(each) < PROFILER_LINES[0]
            else f"inside its {best.alone_noise:.0%} step-alone noise"
        )
        where = (
            f"is not input-bound by its own diagnosis ({why}): the input is no longer the "
            "bottleneck"
        )
    elif min(each) > beyond:
        where = "is beyond the noise floor: the input is still the bottleneck"
    else:
        where = (
            "has repeats on both sides of the noise floor: whether the input is still the "
            "bottleneck is INCONCLUSIVE"
        )
    return f"{best.name}'s input share {best.share_range()} {where}"


def article_advice(
    pipelines: Sequence[Pipeline], budget: float, control: Pipeline | None = None
) -> Verdict:
    """Decide the advice from the generator (first) and the pipelines after it, the tf.data
    ones among them; ``control`` is the arrays-in-memory diagnosis (the noise floor of the input
    share, and the cores the step alone keeps busy), or None.

    Example:
        >>> gen = Pipeline("generator", "highly input-bound", 0.15, 0.08, 0.087, 0.08,
        ...                steps_in_fit_s=[0.087, 0.085, 0.09], shares=[0.15, 0.1, 0.2])
        >>> tfd = Pipeline("tf.data", "moderately input-bound", 0.15, 0.08, 0.081, 0.08, True,
        ...                [0.081, 0.088, 0.08], [0.1, 0.18, 0.15])
        >>> arrays = Pipeline("arrays", "moderately input-bound", 0.11, 0.08, 0.08, 0.08,
        ...                   shares=[0.11, 0.0, 0.21], step_cores=1.75)
        >>> article_advice([gen, tfd], 2.0, arrays).verdict
        'INCONCLUSIVE'
    """
    first, rest = pipelines[0], list(pipelines[1:])
    tfds = [p for p in rest if p.tf_data]
    if not tfds:
        raise ValueError("the advice needs at least one tf.data pipeline among the fixes")
    best = min(tfds, key=lambda p: p.step_in_fit_s)
    ev: dict[str, Any] = {"pipelines": [_plain(p) for p in pipelines], "budget": budget}
    if control is not None:
        ev["control"] = _plain(control)
    floor = (
        None
        if control is None
        else max([*control.shares, control.input_share, control.alone_noise])
    )
    speed = compare(first.repeats(), best.repeats(), "s")
    text = f"a step in fit, {first.name} against {best.name}: {speed.sentence}; " + _bottleneck(
        best, floor
    )
    if floor is not None:
        assert control is not None
        text += (
            f" (the arrays-in-memory control's shares reach "
            f"{max([*control.shares, control.input_share]):.0%}, its step-alone noise "
            f"{control.alone_noise:.0%})"
        )
    text += f", with {budget_text(budget)}."
    cores = None if control is None else control.step_cores
    contention = (
        f"CPU contention: the step alone already keeps {cores:.2f} of {budget:g} CPUs busy, so "
        "no pipeline can hide the data's CPU work behind it here"
        if cores is not None and cores >= FULL_CPUS * budget
        else ""
    )

    def verdict(v: str, why: str = "") -> Verdict:
        return Verdict(ADVICE_ID, v, text + (f" {why}" if why else ""), ev)

    apart = max(first.step_alone_s, best.step_alone_s) / min(first.step_alone_s, best.step_alone_s)
    if round(apart, 2) > MIN_GAIN:  # like with like: the same model's step, measured twice
        return verdict(
            INCONCLUSIVE,
            f"Not like with like: the same model's step alone ran {first.step_alone_s * 1e3:.3g} "
            f"ms in the {first.name}'s diagnosis and {best.step_alone_s * 1e3:.3g} ms in "
            f"{best.name}'s, x{apart:.2f} apart, more than the x{MIN_GAIN:g} a comparison may "
            "differ by: their steps in fit decide nothing (the cause is not measured here).",
        )
    if speed.word == FASTER:
        return verdict(HOLDS)
    if speed.word == UNDECIDED:
        return verdict(INCONCLUSIVE, "One run each cannot decide a throughput this close.")
    if speed.word == NO_DIFFERENCE and most_allowed(speed) >= MIN_GAIN:
        return verdict(
            INCONCLUSIVE,
            f"The repeats allow up to x{most_allowed(speed):.2f}: a speed-up the spread "
            "swallows decides nothing; deciding it needs more repeats or a quieter machine.",
        )
    why = [f"{contention}." if contention else ""]
    if floor is not None and first.input_share <= floor:
        why.append(
            f"The {first.name}'s own input share {first.share_range()} is inside the noise "
            "floor: there was no bottleneck beyond the noise to remove."
        )
    if speed.word != SLOWER and any(why):
        return verdict(INCONCLUSIVE, " ".join(w for w in why if w))
    return verdict(DOES_NOT_HOLD, why[0])


def _from_evidence(
    pipelines: Sequence[dict], budget: float, control: dict | None = None
) -> Verdict:
    """The rule again on a verdict's own evidence (its pipelines as plain dicts)."""
    return article_advice(
        [Pipeline(**p) for p in pipelines], budget, None if control is None else Pipeline(**control)
    )


# claims.rejudge (and so verdicts.consistency) finds each rule by claim id: the advice's too.
_RULES.setdefault(ADVICE_ID, _from_evidence)
