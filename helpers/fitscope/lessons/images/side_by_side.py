"""The diagnosed pipelines side by side against the step-alone bound, and the article's advice.

Each diagnosis (``fitscope.diagnose``'s, or one from a fresh interpreter) gives its steps a
second in ``fit``, the step alone (its batch held in memory: the most steps a second any
pipeline could give this model) and its ideal-overlap bound (data and step side by side on B
CPUs). The verdict on "use tf.data with prefetch" comes from the claims module's rule
(:func:`fitscope.verdicts.images.article_advice`), against an arrays-in-memory control's noise
floor when one is given, and can be kept for the scorecard's row.

Example:
    >>> row({"backend": "tensorflow", "step_in_fit_s": 0.02, "step_alone_s": 0.01,
    ...      "overlapped_s": 0.01, "input_share": 0.5, "verdict": "highly input-bound",
    ...      "data_where": "tf.data's threads"}, "generator")[3:5]
    ('50', '50%')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.lessons.images.pipelines import COLUMNS, _ms, alike, named, row
from fitscope.verdicts import evidence
from fitscope.verdicts.compare import MIN_GAIN, fastest
from fitscope.verdicts.images import Pipeline, article_advice
from fitscope.verdicts.verdict import Scorecard, Verdict

__all__ = ["COLUMNS", "row", "SideBySide", "side_by_side"]

TF_DATA_SOURCE = "tf.data.Dataset"


@dataclass
class SideBySide(ShowsItself):
    """The pipelines' figures and the verdict on the article's advice drawn from them."""

    found: dict[str, dict[str, Any]]
    advice: Verdict

    @property
    def reading(self) -> str:
        """Which pipeline was fastest, by the spread rule over each one's repeats in fit, among
        the largest group of runs whose steps alone (the same model's step) lie within
        ``MIN_GAIN`` of each other, the pairwise rule A1 applies too; a run outside it is left
        out and said to be: not like with like, whatever moved it (review r5 S2-4, r6). Under
        two such runs, none is compared."""
        alone = {n: d["step_alone_s"] for n, d in self.found.items()}
        groups = alike(alone)
        if len(groups) > 1 and len(groups[0]) > 1:  # r9: a tie would be broken by list order
            said = "; ".join(", ".join(f"'{n}'" for n in g) for g in groups)
            return (
                f"no run is fastest: {len(groups)} equally large groups of runs have "
                f"steps alone within x{MIN_GAIN:g} of each other ({said}), so which runs are "
                "like with like is not decided."
            )
        kept = groups[0]
        low = min(alone[n] for n in kept)
        out = [
            f"'{n}' (its step alone {_ms(a)}, x{max(a, low) / min(a, low):.2f} from the "
            f"fastest of the runs kept, {_ms(low)}: every two runs compared lie within "
            f"x{MIN_GAIN:g})"
            for n, a in alone.items()
            if n not in kept
        ]
        left = (
            f"; left out, not like with like (the cause is not measured here): {', '.join(out)}"
            if out
            else ""
        )
        if len(kept) < 2:
            return (
                f"no pipeline is compared: the steps alone lie more than x{MIN_GAIN:g} apart{left}."
            )
        runs = {n: self.found[n]["steps_in_fit_s"] for n in kept}
        return fastest(runs, "s").sentence + left + "."

    def table(self) -> Table:
        return Table(
            COLUMNS,
            [row(d, name) for name, d in self.found.items()],
            reading=self.reading,
            title="The pipelines side by side, one model",
        )

    def _repr_html_(self) -> str:
        return Stack([self.table(), self.advice])._repr_html_()

    def text(self, width: int = 100) -> str:
        return self.table().text(width=10_000) + "\n\n" + str(self.advice)


def side_by_side(control: Any = None, keep_as: str | None = None, **diagnoses: Any) -> SideBySide:
    """Name each diagnosis (keyword = pipeline name, the custom generator first).

    ``control`` is the diagnosis of the same model on arrays already in memory: its input
    shares are the measurement's noise floor and its cores busy say whether the step alone fills
    the CPUs (:func:`fitscope.verdicts.images.article_advice`). ``keep_as`` (e.g. "notebook 05")
    keeps the advice's verdict as this machine's evidence, for the scorecard's row.
    """
    found = {named(name): d.to_dict() for name, d in diagnoses.items()}
    pipelines = [
        Pipeline.from_diagnosis(name, d, tf_data=d["source"] == TF_DATA_SOURCE)
        for name, d in found.items()
    ]
    arrays = None if control is None else Pipeline.from_diagnosis("arrays", control.to_dict())
    advice = article_advice(pipelines, cpu_budget().cpus, arrays)
    if keep_as:
        evidence.keep("images", Scorecard([advice]), keep_as)
    return SideBySide(found, advice)
