"""What a verdict is: the claims as stated, a verdict on one, a scorecard of several.

Example:
    >>> v = Verdict("C1", HOLDS, "all 5 next() calls ran on the main thread")
    >>> v.verdict
    'HOLDS'
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fitscope.instrument.tables import ShowsItself, Table

__all__ = [
    "ADVICE",
    "CLAIMS",
    "Claim",
    "DEPENDS",
    "DOES_NOT_HOLD",
    "HOLDS",
    "INCONCLUSIVE",
    "NOTEBOOK_FILES",
    "NOT_APPLICABLE",
    "RULES_DOC",
    "Scorecard",
    "Verdict",
    "hypotheses",
    "tally",
]


HOLDS = "HOLDS"


DOES_NOT_HOLD = "DOES NOT HOLD"


DEPENDS = "DEPENDS"


INCONCLUSIVE = "INCONCLUSIVE"


NOT_APPLICABLE = "NOT APPLICABLE"
"""A claim whose premise is false where it was measured (e.g. C12 where no data is made on the
main thread): no verdict, a sentence saying why."""


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    notebook: str


CLAIMS: dict[str, Claim] = {
    c.id: c
    for c in [
        Claim("C1", "fit consumes a Python generator on the main thread.", "01"),
        Claim(
            "C2",
            "The training math (forward, gradients, weight updates) runs on the main thread.",
            "01",
        ),
        Claim("C3", "Training with fit cannot use more than one core.", "01"),
        Claim("C4", "The generator produces batches in parallel with training.", "01"),
        Claim(
            "C5",
            "Inference parallelises across cores; training does not, because of weight updates.",
            "01",
        ),
        Claim(
            "C6",
            "The Python loop that drives fit (callbacks, one call of the train function per "
            "step) runs on the main thread, one step after the other.",
            "01",
        ),
        Claim(
            "C7", "The multiprocessing trainer (example 2) fails or behaves unpredictably.", "02"
        ),
        Claim(
            "C8",
            "It fails because gradient steps stay in one process: synchronisation problems "
            "and inconsistent data.",
            "02",
        ),
        Claim(
            "C9",
            "Parallel training of one model by several processes cannot be made correct.",
            "04",
        ),
        Claim(
            "C10", "prefetch overlaps data preparation with training and raises throughput.", "03"
        ),
        Claim("C11", "tf.data makes data loading parallel.", "03"),
        Claim(
            "C12",
            "Because fit runs the generator on the main thread, producing data starves training "
            "(no overlap).",
            "01b",
        ),
    ]
}


ADVICE: dict[str, Claim] = {
    "A1": Claim(
        "A1",
        "The article's advice: use tf.data with prefetch, and a custom image pipeline trains "
        "faster.",
        "05",
    )
}
"""The article's advice, decided like a claim (:func:`fitscope.verdicts.images.article_advice`)
and shown in the scorecard after C1–C12."""


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict, the sentence that explains it, and the evidence it came from."""

    claim_id: str
    verdict: str
    because: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def claim(self) -> str:
        return {**CLAIMS, **ADVICE}[self.claim_id].text

    def __str__(self) -> str:
        return f"{self.claim_id} {self.verdict}: {self.because}"

    def facts(self) -> dict[str, Any]:
        """The verdict with its evidence as plain data (a machine-readable copy)."""
        return dict(
            kind="verdict",
            id=self.claim_id,
            verdict=self.verdict,
            because=self.because,
            evidence=self.evidence,
        )

    def table(self) -> Table:
        """The verdict as a one-row table; its reading is the verdict sentence."""
        return Table(
            _COLUMNS,
            [(self.claim_id, self.claim, self.verdict, self.because)],
            reading=f"{self.claim_id} {self.verdict.lower()}: {self.because}",
            facts=[self.facts()],
        )

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


_COLUMNS = ("id", "claim", "verdict", "evidence")


_ORDER = (HOLDS, DOES_NOT_HOLD, DEPENDS, INCONCLUSIVE, NOT_APPLICABLE)


def tally(rows: list[Verdict]) -> str:
    """How many rows got each verdict, counted from the rows themselves.

    Example:
        >>> tally([Verdict("C1", HOLDS, "."), Verdict("C1", DOES_NOT_HOLD, "."),
        ...        Verdict("C9", DOES_NOT_HOLD, ".")])
        'Of these 3 rows (2 claims, some judged once per backend): 1 HOLDS, 2 DOES NOT HOLD.'
    """
    counts = Counter(v.verdict for v in rows)
    claims = len({v.claim_id for v in rows})
    what = (
        f"{claims} claims"
        if claims == len(rows)
        else f"{len(rows)} rows ({claims} claims, some judged once per backend)"
    )
    return (
        f"Of these {what}: "
        + ", ".join(f"{counts[verdict]} {verdict}" for verdict in _ORDER if counts[verdict])
        + "."
    )


class Scorecard(ShowsItself, list):
    """A list of verdicts that shows itself as a table in a notebook, and as one line in a log.

    Example:
        >>> from fitscope.verdicts import c9
        >>> str(Scorecard([c9(["ab", "ab"])]))
        'C9 DOES NOT HOLD.'
    """

    def facts(self, backends: Sequence[str | None] = ()) -> dict[str, Any]:
        """The card as plain data: its rows (each with its backend, if given) and its tally."""
        named = list(backends) or [v.evidence.get("backend") for v in self]
        rows = [{**v.facts(), "backend": b} for v, b in zip(self, named)]
        return dict(kind="scorecard", rows=rows, tally=tally(self) if len(self) > 1 else "")

    def table(self) -> Table:
        return Table(
            _COLUMNS,
            [(v.claim_id, v.claim, v.verdict, v.because) for v in self],
            reading=tally(self) if len(self) > 1 else "",
            facts=[self.facts()],
        )

    def __str__(self) -> str:
        return "; ".join(f"{v.claim_id} {v.verdict}" for v in self) + "."

    def __repr__(self) -> str:
        return str(self)


class _Hypotheses(list):
    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{c.id}</td><td>{html.escape(c.text)}</td><td><a "
            f"href='{link}'>{link}</a></td></tr>"
            for c, link in self
        )
        return (
            "<table><thead><tr><th>id</th><th>the article's claim, as a hypothesis</th>"
            f"<th>tested in</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p>Each claim, its evidence and its rule: <a href='{RULES_DOC}'>{RULES_DOC}</a>.</p>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{c.id:4s} {c.text} ({link})" for c, link in self)

    __repr__ = __str__


RULES_DOC = "../docs/claims.md"  # from notebooks/, where the table's links are followed


NOTEBOOK_FILES = {
    "01": "01_generator_with_fit.ipynb",
    "02": "02_multiprocessing_trainer.ipynb",
    "03": "03_tfdata_prefetch.ipynb",
    "04": "04_beyond_one_process.ipynb",
    "01b": "01b_which_backend.ipynb",
    "05": "05_your_image_pipeline.ipynb",
}


def hypotheses() -> _Hypotheses:
    """Every claim with the notebook that tests it, shown as a table with links.

    Example:
        >>> str(hypotheses()).splitlines()[0]
        'C1   fit consumes a Python generator on the main thread. (01_generator_with_fit.ipynb)'
    """
    return _Hypotheses((c, NOTEBOOK_FILES[c.notebook]) for c in CLAIMS.values())
