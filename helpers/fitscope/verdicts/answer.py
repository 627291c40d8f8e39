"""The scorecard's last words: the answer to the article's question and a practitioner's
checklist, each sentence chosen by measured verdicts and naming the rows it rests on.

Nothing here is a typed-in conclusion: every sentence is picked by the verdict of its rows (on
their backends), and quotes them as "C1 on JAX: HOLDS"; a claim that was not measured gives no
sentence.

Example:
    >>> from fitscope.verdicts.claims import c1
    >>> rows = [(c1(0, 30, 2, 2, backend="TensorFlow"), "TensorFlow"),
    ...         (c1(30, 30, 2, 2, backend="JAX"), "JAX")]
    >>> answer(rows).sentences[0]
    '"fit runs the generator on the main thread": true on JAX, not on TensorFlow.'
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fitscope.verdicts import verdict as vd
from fitscope.verdicts.backend_claims import callback_only
from fitscope.verdicts.claims import c6_parts
from fitscope.verdicts.tfdata_claims import c10_parts

__all__ = ["Answer", "QUESTION", "answer"]

Row = tuple[vd.Verdict, str]  # a verdict and the backend it was measured on


QUESTION = "Does fit run your generator on the main thread, one step at a time?"


def _ref(rows: Sequence[Row]) -> str:
    return "; ".join(f"{v.claim_id} on {b}: {v.verdict}" for v, b in rows)


def _of(rows: Sequence[Row], claim_id: str) -> list[Row]:
    return [(v, b) for v, b in rows if v.claim_id == claim_id]


def _title_claim(c1: Sequence[Row]) -> str:
    """The plain answer: where the article's title claim (C1) held, and where not."""
    held = [b for v, b in c1 if v.verdict == vd.HOLDS]
    failed = [b for v, b in c1 if v.verdict == vd.DOES_NOT_HOLD]
    other = [b for v, b in c1 if v.verdict not in (vd.HOLDS, vd.DOES_NOT_HOLD)]
    parts = (
        ([f"true on {' and '.join(held)}"] if held else [])
        + ([f"not on {' and '.join(failed)}"] if failed else [])
        + ([f"undecided on {' and '.join(other)}"] if other else [])
    )
    return f'"fit runs the generator on the main thread": {", ".join(parts)}.'


def _ids(rows: Sequence[Row]) -> str:
    """The claims a sentence rests on, by id (their rows, per backend, are in the table above)."""
    return ", ".join(dict.fromkeys(v.claim_id for v, _ in rows))


_C6_PARTS = ("main-thread loop", "callbacks there", "in-order steps")


def _loop(c6: Sequence[Row]) -> str:
    """C6 per backend and part: which parts held, which did not (undecided ones unsaid);
    backends with the same parts share one clause.

    Example:
        >>> from fitscope.verdicts.claims import c6
        >>> _loop([(c6(16, 32, 15, 16, 2, "JAX", 2, 16, 15), "JAX"),
        ...        (c6(32, 32, 0, 16, 2, "PyTorch"), "PyTorch")])
        'The loop: on JAX, main-thread loop and in-order steps held, not callbacks there; on \
PyTorch, all held (C6).'
    """
    groups: dict[str, list[str]] = {}
    for v, b in c6:
        if not (v.evidence.get("steps") and v.evidence.get("callbacks_total")):
            continue
        parts = [p for p, _ in c6_parts(v.evidence)]
        held = [n for n, p in zip(_C6_PARTS, parts) if p == vd.HOLDS]
        failed = " or ".join(n for n, p in zip(_C6_PARTS, parts) if p == vd.DOES_NOT_HOLD)
        said = "all held" if len(held) == 3 else held and f"{' and '.join(held)} held"
        words = ", ".join(w for w in (said, failed and f"not {failed}") if w)
        if words:
            groups.setdefault(words, []).append(b)
    said = [f"on {' and '.join(bs)}, {w}" for w, bs in groups.items()]
    return f"The loop: {'; '.join(said)} ({_ids(c6)})." if said else ""


_FAMILIES: tuple[tuple[str, tuple[str, ...], dict[tuple[str, str], str]], ...] = (
    (
        "Cores",
        ("C2", "C3", "C5"),
        {
            ("C2", vd.HOLDS): "math on the main thread",
            ("C2", vd.DOES_NOT_HOLD): "math mostly off the main thread",
            ("C3", vd.HOLDS): "fit used about one core",
            ("C3", vd.DOES_NOT_HOLD): "fit used over one core",
            ("C5", vd.HOLDS): "predict spread across cores, not fit",
            ("C5", vd.DOES_NOT_HOLD): "predict and fit split otherwise",
        },
    ),
    (
        "Overlap",
        ("C4", "C12"),
        {
            ("C4", vd.HOLDS): "both kinds of generator work overlapped",
            ("C4", vd.DOES_NOT_HOLD): "no generator work overlapped",
            ("C4", vd.DEPENDS): "one kind of generator work overlapped",
            ("C12", vd.HOLDS): "main-thread data slowed training",
            ("C12", vd.DOES_NOT_HOLD): "main-thread data still overlapped",
            ("C12", vd.DEPENDS): "main-thread data slowed some work",
        },
    ),
    (
        "Processes",
        ("C7", "C8", "C9"),
        {
            ("C7", vd.HOLDS): "the article's trainer failed",
            ("C7", vd.DOES_NOT_HOLD): "the article's trainer did not fail",
            ("C8", vd.HOLDS): "for its stated reason",
            ("C8", vd.DOES_NOT_HOLD): "not for its stated reason",
            ("C8", vd.DEPENDS): "partly for its stated reason",
            ("C9", vd.DOES_NOT_HOLD): "tf.distribute trained correctly",
        },
    ),
    (
        "tf.data",
        ("C10", "C11", "A1"),
        {
            ("C10", vd.HOLDS): "prefetch raised throughput",
            ("C10", vd.DOES_NOT_HOLD): "prefetch gave no measured gain",
            ("C10", vd.DEPENDS): "prefetch helped in one case only",
            ("C11", vd.HOLDS): "parallel map sped up both kinds",
            ("C11", vd.DOES_NOT_HOLD): "parallel map gave no measured gain",
            ("C11", vd.DEPENDS): "parallel map sped up one kind only",
            ("A1", vd.HOLDS): "tf.data sped up images",
            ("A1", vd.DOES_NOT_HOLD): "tf.data did not speed up images",
        },
    ),
)


CALLBACK = "a loss-reading callback serialised data and step"
"""C12's phrase where only its parts with a callback that read the loss each step held: 01b
reads them as a dependency on the step, not as where the data is made."""

_PARTLY = {
    ("C4", vd.HOLDS): "one kind of generator work overlapped",
    ("C4", vd.DOES_NOT_HOLD): "no decided generator work overlapped",
    ("C10", vd.HOLDS): "prefetch helped in one case",
    ("C10", vd.DOES_NOT_HOLD): "no measured prefetch gain in one case",
    ("C11", vd.HOLDS): "parallel map sped up one kind",
    ("C11", vd.DOES_NOT_HOLD): "no measured parallel-map gain on one kind",
    ("C12", vd.HOLDS): "main-thread data slowed some work",
    ("C12", vd.DOES_NOT_HOLD): "main-thread data overlapped some work",
    ("C12", vd.DEPENDS): "main-thread data slowed some work",
}
"""A claim decided by some of its parts only: its phrase says no more than those parts (the
answer's last sentence names the claim among the undecided, so no phrase adds "in part")."""


def _phrase(v: vd.Verdict, words: dict) -> str | None:
    """A decided row's phrase (:data:`CALLBACK` for C12 where only a loss-reading part held,
    :func:`~fitscope.verdicts.backend_claims.callback_only`); for one decided by some parts only
    (an INCONCLUSIVE part decided nothing), the phrase of :data:`_PARTLY`, else the phrase with
    "in part"; the last sentence names the claim among the undecided (:func:`_undecided`)."""
    word = words.get((v.claim_id, v.verdict))
    if word is not None and v.claim_id == "C12" and callback_only(v.evidence):
        return CALLBACK
    if word is None or not _in_part(v):
        return word
    return _PARTLY.get((v.claim_id, v.verdict), f"{word}, in part")


def _in_part(v: vd.Verdict) -> bool:
    return "INCONCLUSIVE part" in v.because


def _undecided(rows: Sequence[Row]) -> str:
    """One sentence naming the undecided rows (with their backend where a claim has several)
    and the decided claims with an undecided part: no other sentence cites them.

    Example:
        >>> from fitscope.verdicts.claims import c3
        >>> _undecided([(c3(1.0, 1, 2.0), "TensorFlow")])
        'Undecided: C3.'
    """
    whole = [
        f"{v.claim_id} on {b}" if len(_of(rows, v.claim_id)) > 1 else v.claim_id
        for v, b in rows
        if v.verdict == vd.INCONCLUSIVE
    ]
    part = list(
        dict.fromkeys(v.claim_id for v, _ in rows if v.verdict != vd.INCONCLUSIVE and _in_part(v))
    )
    if not whole:
        return f"Undecided in part: {', '.join(part)}." if part else ""
    return f"Undecided: {', '.join(whole)}" + (f"; in part: {', '.join(part)}." if part else ".")


def _family(rows: Sequence[Row], name: str, ids: tuple[str, ...], words: dict) -> str:
    """One sentence for a family of claims: each decided row's phrase (with its backends when
    the claim has rows on several), citing only the decided rows it rests on: undecided rows
    are never cited for what it asserts (the answer's last sentence names them).

    Example:
        >>> from fitscope.verdicts.claims import c3, c9
        >>> _family([(c9(["a", "a"]), "TensorFlow")], *_FAMILIES[2])
        'Processes: tf.distribute trained correctly (C9).'
        >>> _family([(c3(1.0, 1, 2.0), "TensorFlow")], *_FAMILIES[0])
        ''
    """
    found = [r for cid in ids for r in _of(rows, cid)]
    phrases: dict[str, tuple[str, list[str]]] = {}
    decided: list[Row] = []
    for v, b in found:
        if phrase := _phrase(v, words):
            phrases.setdefault(phrase, (v.claim_id, []))[1].append(b)
            decided.append((v, b))
    said = [
        f"on {' and '.join(bs)}, {phrase}" if len(_of(rows, cid)) > 1 else phrase
        for phrase, (cid, bs) in phrases.items()
    ]
    return f"{name}: {'; '.join(said)} ({_ids(decided)})." if said else ""


def _checklist(rows: Sequence[Row]) -> list[str]:
    points = []
    c1 = _of(rows, "C1")
    if c1:
        same = len({v.verdict for v, _ in c1}) == 1
        points.append(
            "Check which thread calls your data on your own backend before you change "
            "anything: here it was "
            + (
                "different from backend to backend"
                if not same
                else "the same on every backend measured"
                if len(c1) > 1
                else "as C1 reads on the one backend measured"  # r8: one is not "every"
            )
            + f" ({_ref(c1)})."
        )
    c12 = [(v, b) for v, b in _of(rows, "C12") if v.verdict in (vd.HOLDS, vd.DEPENDS)]
    if callback := [(v, b) for v, b in c12 if callback_only(v.evidence)]:
        points.append(
            "Where a callback reads the loss every step, time your epoch against data time plus "
            f"step time: here it put data and step one after the other ({_ref(callback)})."
        )
    for verdict, extent in ((vd.HOLDS, ""), (vd.DEPENDS, ", for some kinds of work or in part")):
        if starved := [(v, b) for v, b in c12 if v.verdict == verdict and (v, b) not in callback]:
            points.append(
                "Where batches are made on the main thread, time your epoch against "
                f"data time plus step time: here making data added to the steps{extent} "
                f"({_ref(starved)})."
            )
    advice = {
        ("C11", vd.HOLDS): "Parallel map pays for your data work",
        ("C11", vd.DEPENDS): "Parallel map pays for some data work and not other: the row "
        "says which kind",
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
            said = advice.get((cid, v.verdict)) or _measured_here(v) or _prefetch_parts(v)
            if said:
                points.append(f"{said} ({_ref([(v, b)])}).")
    undecided = [(v, b) for v, b in rows if v.verdict == vd.INCONCLUSIVE]
    if undecided:
        points.append(
            "Undecided here, each sentence says why (often one CPU, or runs too short): "
            f"decide them on your own machine ({_ref(undecided)})."
        )
    return points


def _measured_here(v: vd.Verdict) -> str | None:
    """Advice from a tf.data claim decided against on this machine (C10, C11): what was
    measured, with the CPUs it had, never a rule for every machine (no gain on a crowded two-CPU
    box says nothing of sixteen idle cores); a part that measured a gain never reaches here, as
    it keeps the claim from DOES NOT HOLD.

    Example:
        >>> from fitscope.verdicts.claims import c11
        >>> from fitscope.verdicts.compare import compare
        >>> same = compare([0.20, 0.21], [0.20, 0.205])
        >>> _measured_here(c11(same, same, 2, free_cpus=1.6))
        'Here, with 1.6 CPUs free (B = 2), parallel map gave no measured gain: measure yours'
    """
    what = {"C10": "prefetch", "C11": "parallel map"}.get(v.claim_id)
    if what is None or v.verdict != vd.DOES_NOT_HOLD:
        return None
    budget, free = v.evidence.get("budget"), v.evidence.get("free_cpus")
    cpus = (
        f"{free:.1f} CPUs free (B = {budget:g})"
        if free is not None and budget is not None
        else f"B = {budget:g}"
        if budget is not None
        else "this machine's CPUs"
    )
    some = " in one case" if _in_part(v) else ""
    return f"Here, with {cpus}, {what} gave no measured gain{some}: measure yours"


_C10_CASES = ("a costly producer", "in-memory arrays")


def _prefetch_parts(v: vd.Verdict) -> str | None:
    """C10's advice from the parts that decided it: general advice only where both held, else
    which case gained, which did not and which was undecided, here.

    Example:
        >>> from fitscope.verdicts.claims import c10
        >>> from fitscope.verdicts.compare import compare
        >>> costly = compare([1.33, 1.60, 1.20], [1.34, 1.36, 1.30])  # inside the spread
        >>> arrays = compare([291.3, 154.0], [1148.6, 889.0], "per s")
        >>> _prefetch_parts(c10(costly, True, arrays))
        'Here prefetch raised throughput with in-memory arrays; with a costly producer it was \
undecided: measure yours'
    """
    if v.claim_id != "C10" or v.verdict not in (vd.HOLDS, vd.DEPENDS):
        return None
    if not {"costly", "overlap_visible", "arrays"} <= set(v.evidence):  # parts unknown
        some = " in some cases" if v.verdict == vd.DEPENDS or _in_part(v) else ""
        return f"Here prefetch raised throughput{some}: measure yours"
    parts = c10_parts(v.evidence)
    if all(p == vd.HOLDS for p in parts):
        return "With a producer that costs real time, add prefetch"
    held, failed, undecided = (
        " and ".join(c for c, p in zip(_C10_CASES, parts) if p == want)
        for want in (vd.HOLDS, vd.DOES_NOT_HOLD, vd.INCONCLUSIVE)
    )
    said = f"Here prefetch raised throughput with {held}"
    said += f", not with {failed}" if failed else ""
    said += f"; with {undecided} it was undecided" if undecided else ""
    return f"{said}: measure yours"


@dataclass(frozen=True)
class Answer:
    """The answer to :data:`QUESTION` in a few sentences (at most about 120 words, whatever the
    verdicts) and the checklist, both picked by measured verdicts."""

    sentences: tuple[str, ...]
    checklist: tuple[str, ...]

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in self.checklist)
        return (
            f"<p><b>{html.escape(QUESTION)}</b> The answer, from these rows: "
            + " ".join(html.escape(s) for s in self.sentences)
            + "</p>"
            + f"<p><b>For your own training:</b></p><ul>{items}</ul>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return "\n".join(
            [
                QUESTION,
                " ".join(self.sentences),
                "",
                "For your own training:",
                *(f"- {p}" for p in self.checklist),
            ]
        )


def answer(rows: Sequence[Row]) -> Answer:
    """The answer to the article's question, and the checklist, from the scorecard's rows: one
    sentence per family of claims (the generator's thread, the loop, cores, overlap, processes,
    tf.data), each citing its rows and saying no more than they do.

    ``rows`` pairs each verdict with the backend it was measured on.
    """
    sentences = []
    if c1 := _of(rows, "C1"):
        sentences.append(_title_claim(c1))
    sentences.append(_loop(_of(rows, "C6")))
    sentences += [_family(rows, *family) for family in _FAMILIES]
    sentences.append(_undecided(rows))
    return Answer(tuple(s for s in sentences if s), tuple(_checklist(rows)))
