"""The scorecard as a card: its rows, each with the Keras backend it was measured on and the run
its evidence came from, ending with the answer to the article's question; as a table, as plain
text, and as JSON that reads back into the same card.

:mod:`fitscope.scorecard` measures the rows; this module holds and writes them.

Example:
    >>> card = scorecard_from_json(scorecard_to_json(verdicts.Scorecard([verdicts.c9(["a", "a"])])))
    >>> card.backends, card[0].verdict
    ([''], 'DOES NOT HOLD')
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from fitscope import verdicts
from fitscope.instrument.tables import Table
from fitscope.verdicts.answer import Answer, answer
from fitscope.verdicts.consistency import Consistency, check

__all__ = [
    "SourcedScorecard",
    "named_backend",
    "scorecard_to_json",
    "scorecard_from_json",
    "scorecard_table",
]


class SourcedScorecard(verdicts.Scorecard):
    """A scorecard whose every row also says the Keras backend it was measured on and which run
    on this machine its evidence came from; it ends with the answer to the article's question.
    """

    def __init__(self, verdicts: Any = (), sources: Any = (), backends: Any = ()) -> None:
        super().__init__(verdicts)
        self.sources = list(sources) or ["measured now"] * len(self)
        self.backends = list(backends) or [named_backend(v) or "" for v in self]

    def table(self) -> Table:
        return Table(
            ("id", "backend", "claim", "verdict", "evidence", "evidence from"),
            [
                (v.claim_id, b, v.claim, v.verdict, v.because, s)
                for v, b, s in zip(self, self.backends, self.sources)
            ],
            reading=verdicts.tally(self) if len(self) > 1 else "",
            facts=[self.facts(self.backends)],
        )

    def answer(self) -> Answer:
        """The answer to the article's question and a checklist, from these rows."""
        return answer(list(zip(self, self.backends)))

    def __str__(self) -> str:
        return (
            "; ".join(
                f"{v.claim_id} on {b or 'no backend named'} {v.verdict}"
                for v, b in zip(self, self.backends)
            )
            + "."
        )

    def check(self) -> Consistency:
        """Whether every row follows from its evidence, with one row per claim and backend and
        the right tally (:mod:`fitscope.verdicts.consistency`)."""
        return check(self)

    def _repr_html_(self) -> str:
        return self.table()._repr_html_() + self.answer()._repr_html_()


def named_backend(v: verdicts.Verdict) -> str | None:
    """The backend a per-backend verdict names in its evidence (C1, C6, C12), else None."""
    return v.evidence.get("backend")


def scorecard_to_json(card: verdicts.Scorecard, extra: dict[str, Any] | None = None) -> str:
    """The card as JSON: one row per claim with its evidence, plus where it was measured."""
    sources = getattr(card, "sources", ["measured now"] * len(card))
    backends = getattr(card, "backends", [named_backend(v) for v in card])
    rows = [
        {
            "id": v.claim_id,
            "backend": backend,
            "per_backend": named_backend(v) is not None,
            "claim": v.claim,
            "verdict": v.verdict,
            "because": v.because,
            "evidence": v.evidence,
            "evidence_from": source,
        }
        for v, source, backend in zip(card, sources, backends)
    ]
    said = answer(list(zip(card, backends)))
    return json.dumps(
        {
            "rows": rows,
            "tally": verdicts.tally(card),
            "answer": list(said.sentences),
            "checklist": list(said.checklist),
            **(extra or {}),
        },
        indent=2,
        default=str,
    )


def scorecard_from_json(text: str) -> SourcedScorecard:
    data = json.loads(text)
    return SourcedScorecard(
        [
            verdicts.Verdict(r["id"], r["verdict"], r["because"], r["evidence"])
            for r in data["rows"]
        ],
        [r.get("evidence_from", "") for r in data["rows"]],
        [r.get("backend") or "" for r in data["rows"]],
    )


def scorecard_table(card: verdicts.Scorecard, width: int = 100) -> str:
    """A plain-text table: id, backend, verdict, claim, and the evidence sentence, wrapped; then
    the tally."""
    lines = [f"{'id':4s} {'backend':10s} {'verdict':14s} claim and evidence", "-" * width]
    backends = getattr(card, "backends", [""] * len(card))
    for v, source, backend in zip(card, getattr(card, "sources", [""] * len(card)), backends):
        lines.append(f"{v.claim_id:4s} {backend:10s} {v.verdict:14s} {v.claim}")
        lines += textwrap.wrap(
            v.because + (f" (evidence from {source})" if source else ""),
            width=width,
            initial_indent=" " * 30,
            subsequent_indent=" " * 30,
        )
    return "\n".join([*lines, "", verdicts.tally(card)])
