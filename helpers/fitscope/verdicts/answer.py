"""The scorecard's last words: the answer to the article's question and a practitioner's
checklist, each sentence chosen by measured verdicts and naming the rows it rests on.

Nothing here is a typed-in conclusion: every sentence is picked by the verdict of its rows (on
their backends), and quotes them as "C1 on JAX: HOLDS"; a claim that was not measured gives no
sentence.

Example:
    >>> from fitscope.verdicts.claims import c1
    >>> rows = [(c1(0, 30, 2, 2, backend="TensorFlow"), "TensorFlow"),
    ...         (c1(30, 30, 2, 2, backend="JAX"), "JAX")]
    >>> answer(rows).sentences[1]
    'In short: "fit runs the generator on the main thread" is true on JAX, not true on TensorFlow. \
The answer depends on the Keras backend.'
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fitscope.verdicts import verdict as vd

__all__ = ["Answer", "QUESTION", "answer"]

Row = tuple[vd.Verdict, str]  # a verdict and the backend it was measured on


QUESTION = (
    "The article's question: does fit run your Python generator on the main thread, so "
    "that training is one thread on one core, with data and steps one after the other?"
)


def _ref(rows: Sequence[Row]) -> str:
    return "; ".join(f"{v.claim_id} on {b}: {v.verdict}" for v, b in rows)


def _of(rows: Sequence[Row], claim_id: str) -> list[Row]:
    return [(v, b) for v, b in rows if v.claim_id == claim_id]


def _by_backend(rows: Sequence[Row], words: dict[str, str], subject: str) -> str:
    """One sentence over a claim's rows: each backend (or group of backends) with its phrase."""
    groups: dict[str, list[str]] = {}
    for v, b in rows:
        groups.setdefault(words.get(v.verdict, "was not decided"), []).append(b)
    said = [f"on {' and '.join(bs)}, {p}" for p, bs in groups.items()]
    said[0] = f"On {' and '.join(next(iter(groups.values())))}, {subject} {next(iter(groups))}"
    return "; ".join(said) + f" ({_ref(rows)})."


def _title_claim(c1: Sequence[Row]) -> str:
    """The plain answer: where the article's title claim (C1) held, and where not."""
    held = [b for v, b in c1 if v.verdict == vd.HOLDS]
    failed = [b for v, b in c1 if v.verdict == vd.DOES_NOT_HOLD]
    other = [b for v, b in c1 if v.verdict not in (vd.HOLDS, vd.DOES_NOT_HOLD)]
    parts = (
        ([f"true on {' and '.join(held)}"] if held else [])
        + ([f"not true on {' and '.join(failed)}"] if failed else [])
        + ([f"not decided on {' and '.join(other)}"] if other else [])
    )
    depends = " The answer depends on the Keras backend." if held and failed else ""
    return f'In short: "fit runs the generator on the main thread" is {", ".join(parts)}.' + depends


_C1 = {
    vd.HOLDS: "on the main thread",
    vd.DOES_NOT_HOLD: "off the main thread",
    vd.DEPENDS: "partly on the main thread",
}
_C6 = {
    vd.HOLDS: "stayed on the main thread, one step after the other",
    vd.DOES_NOT_HOLD: "did not stay on the main thread one step after the other",
}
_C12 = {
    vd.HOLDS: "held training back (no overlap)",
    vd.DOES_NOT_HOLD: "overlapped training",
    vd.DEPENDS: "overlapped training only partly, or for some kinds of work only",
    vd.NOT_APPLICABLE: "did not happen (the generator ran off the main thread)",
}
_ONE = {  # claim: verdict → sentence, for the claims measured once
    "C3": {
        vd.HOLDS: "Training with fit kept about one core busy",
        vd.DOES_NOT_HOLD: "Training with fit kept more than one core busy",
    },
    "C4": {
        vd.HOLDS: "a generator's work overlapped training for both kinds of work",
        vd.DOES_NOT_HOLD: "a generator's work did not overlap training",
        vd.DEPENDS: "a generator's work overlapped training for one kind of work, not the other",
    },
    "C10": {
        vd.HOLDS: "prefetch raised throughput",
        vd.DOES_NOT_HOLD: "prefetch gave no gain",
        vd.DEPENDS: "prefetch raised throughput in one case, not the other",
    },
    "C11": {
        vd.HOLDS: "parallel map sped up both kinds of data work",
        vd.DOES_NOT_HOLD: "parallel map gave no gain",
        vd.DEPENDS: "parallel map sped up one kind of data work, not the other",
    },
    "C7": {
        vd.HOLDS: "the article's multiprocessing trainer failed",
        vd.DOES_NOT_HOLD: "the article's multiprocessing trainer did not fail",
    },
    "C9": {
        vd.DOES_NOT_HOLD: "several processes trained one model correctly with a tf.distribute "
        "strategy"
    },
}


def _one(rows: Sequence[Row], claim_id: str) -> str | None:
    """The sentence of a claim measured once, or None when it is missing or undecided."""
    found = _of(rows, claim_id)
    words = _ONE[claim_id].get(found[0][0].verdict) if found else None
    return f"{words} ({_ref(found)})" if words else None


def _checklist(rows: Sequence[Row]) -> list[str]:
    points = []
    c1 = _of(rows, "C1")
    if c1:
        same = len({v.verdict for v, _ in c1}) == 1
        points.append(
            "Check which thread calls your data on your own backend before you change "
            "anything: here it was "
            + (
                "the same on every backend measured"
                if same
                else "different from backend to backend"
            )
            + f" ({_ref(c1)})."
        )
    for verdict, extent in ((vd.HOLDS, ""), (vd.DEPENDS, ", for some kinds of work or in part")):
        if starved := [(v, b) for v, b in _of(rows, "C12") if v.verdict == verdict]:
            points.append(
                "Where batches are made on the main thread, time your epoch against "
                f"data time plus step time: here making data added to the steps{extent} "
                f"({_ref(starved)})."
            )
    advice = {
        ("C10", vd.HOLDS): "With a producer that costs real time, add prefetch",
        ("C10", vd.DOES_NOT_HOLD): "Do not expect prefetch alone to raise throughput",
        ("C10", vd.DEPENDS): "prefetch pays where the producer costs real time: measure yours",
        ("C11", vd.HOLDS): "Parallel map pays for your data work",
        ("C11", vd.DEPENDS): "Parallel map pays for some data work and not other: the row "
        "says which kind",
        ("C11", vd.DOES_NOT_HOLD): "Do not expect parallel map alone to speed up data work",
        ("C3", vd.DOES_NOT_HOLD): "fit already uses more than one core: look at cores busy "
        "before adding processes",
        ("C3", vd.HOLDS): "fit kept about one core busy: measure cores busy on your own model",
        ("C7", vd.HOLDS): "Do not train one model from processes fed by a queue, as the "
        "article's trainer does",
        ("C9", vd.DOES_NOT_HOLD): "To train one model in several processes, use a "
        "tf.distribute strategy",
    }
    for cid in ("C10", "C11", "C3", "C7", "C9"):
        for v, b in _of(rows, cid):
            if (cid, v.verdict) in advice:
                points.append(f"{advice[cid, v.verdict]} ({_ref([(v, b)])}).")
    undecided = [(v, b) for v, b in rows if v.verdict == vd.INCONCLUSIVE]
    if undecided:
        points.append(
            "Undecided here, each sentence says why (often one CPU, or runs too short): "
            f"decide them on your own machine ({_ref(undecided)})."
        )
    return points


@dataclass(frozen=True)
class Answer:
    """The answer in a few sentences and the checklist, both picked by measured verdicts."""

    sentences: tuple[str, ...]
    checklist: tuple[str, ...]

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in self.checklist)
        return (
            "<p><b>The answer, from these rows.</b> "
            + " ".join(html.escape(s) for s in self.sentences)
            + "</p>"
            + f"<p><b>For your own training:</b></p><ul>{items}</ul>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return "\n".join(
            [
                " ".join(self.sentences),
                "",
                "For your own training:",
                *(f"- {p}" for p in self.checklist),
            ]
        )


def answer(rows: Sequence[Row]) -> Answer:
    """The answer to the article's question, and the checklist, from the scorecard's rows.

    ``rows`` pairs each verdict with the backend it was measured on.
    """
    sentences = [QUESTION]
    if c1 := _of(rows, "C1"):
        sentences += [_title_claim(c1), _by_backend(c1, _C1, "fit called the generator")]
    if c6 := _of(rows, "C6"):
        sentences.append(_by_backend(c6, _C6, "the loop that drives fit"))
    if c12 := _of(rows, "C12"):
        sentences.append(_by_backend(c12, _C12, "making data on the main thread"))
    once = [s for s in (_one(rows, c) for c in ("C3", "C4", "C10", "C11", "C7", "C9")) if s]
    if once:
        joined = "; ".join(s[0].lower() + s[1:] for s in once)
        sentences.append(f"The other claims, measured once: {joined}.")
    return Answer(tuple(sentences), tuple(_checklist(rows)))
