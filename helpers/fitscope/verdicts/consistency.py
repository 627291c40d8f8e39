"""Does every reading follow from its numbers? A check of results, verdicts and saved notebooks.

Seven ways a reading can say more than its numbers, each caught here:

- a slow-down (or a ratio under the smallest difference that counts) called a gain;
- a combined verdict built from undecided parts (its parts, printed in its sentence, combine to
  another verdict by the claim's own rule: :func:`fitscope.verdicts.parts.combine_for`);
- a claim decided against what one of its undecided parts visibly shows (a saving of a quarter
  of the possible one or more, or a speed-up called faster), or against a speed-up of x1.15 or
  more that its spread swallowed (A1);
- a bound beaten without the flag (a share of the ideal bound above 100 %), or a share of the
  possible saving printed below 0 or above 100 % (a slow-down, or a bound beaten, said as a
  share);
- "fastest" said inside the spread;
- a count of more than its whole ("62 of 60 begin callbacks");
- one quantity of one run printed twice in one notebook with two values beyond rounding: a
  result's table row against its own sentences, a quantity's facts against the same run's
  elsewhere, a reference against itself (:mod:`fitscope.verdicts.quantities`).

Objects are checked against their own rule (a comparison, a fastest, a verdict re-judged from its
evidence, a scorecard's tally and rows); text is checked sentence by sentence; an executed
notebook is checked through its outputs: their text and the machine-readable facts results carry
in their HTML (:func:`fitscope.instrument.tables.facts_html`) or, for a chart, in its output's
metadata.

Example:
    >>> check_reading("x0.71 (179.6 → 127.7 per s): little or no gain")
    ['a slow-down called a gain: x0.71 (179.6 → 127.7 per s): little or no gain']
    >>> check_reading("29 % slower (179.6 → 127.7 per s, one run each)")
    []
    >>> check_reading("the loop called 62 of 60 begin callbacks")
    ['a count of more than its whole: the loop called 62 of 60 begin callbacks']
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitscope.instrument.tables import FACTS_CLASS, ShowsItself, Table
from fitscope.verdicts.claims import rejudge
from fitscope.verdicts.compare import (
    MIN_DIFFERENCE,
    MIN_GAIN,
    Compared,
    Fastest,
    compare,
    fastest,
)
from fitscope.verdicts.parts import LEANS, VISIBLE_SAVING, combine_for, never_against
from fitscope.verdicts.quantities import check_one_run, check_quantity_facts, check_references
from fitscope.verdicts.quantities import sentences as _sentences
from fitscope.verdicts.tfdata_claims import UNLIKE
from fitscope.verdicts.verdict import DOES_NOT_HOLD, HOLDS, Scorecard, Verdict, tally

__all__ = [
    "Consistency",
    "Problem",
    "check",
    "check_facts",
    "check_notebook",
    "check_quantities",
    "check_reading",
]

_VERDICT = r"HOLDS|DOES NOT HOLD|DEPENDS|INCONCLUSIVE|NOT APPLICABLE"
_RATIO = re.compile(r"\bx(\d+\.\d+)")
_GAIN = re.compile(r"\b(gain|faster|speed-up|speeds? up)\b", re.I)
_NO_GAIN = re.compile(r"(little or )?no (measurable )?(gain|difference)|undecided.*", re.I)
_SHARE = re.compile(r"(\d+(?:\.\d+)?)\s?% (?:efficient|of the (?:ideal |overlapped )?bound)")
_CLAIM = re.compile(rf"\b(C\d{{1,2}}|A1) ({_VERDICT}): (.*)", re.I)
_PART = re.compile(rf"[(;] ?({_VERDICT})(?=[,):])")
_LEAN = re.compile(rf"\(INCONCLUSIVE, {LEANS} (HOLDS|DOES NOT HOLD)")
_FASTEST_RULE = re.compile(r"'[^']+' is fastest: x(\d+\.\d+) faster than|no run is fastest")
_SAVING_SHARE = re.compile(
    r"([-\u2212]?\d+(?:\.\d+)?) ?% of (?:its own |its |the )?possible saving"
)
_SAVING_LIST = re.compile(r"possible saving: ([^.;]*)")
_PERCENT = re.compile(r"([-\u2212]?\d+(?:\.\d+)?) ?%")
_COUNT_OF = re.compile(r"(?<![\d.,])(\d+) of (?:the )?(\d+)(?![\d.,%])(?! s\b)")
_FACTS = re.compile(rf'<script type="application/json" class="{FACTS_CLASS}">(.*?)</script>', re.S)


def _clause(text: str, start: int) -> str:
    return re.split(r";|\. |\n", text[start:], maxsplit=1)[0]


def check_reading(text: str) -> list[str]:
    """What in one reading says more than its numbers (empty when nothing does)."""
    problems = []
    for sentence in _sentences(text):
        for m in _RATIO.finditer(sentence):
            clause = _clause(sentence, m.start())
            ratio = float(m.group(1))
            if ratio < 1 and _GAIN.search(clause) and "slower" not in clause:
                problems.append(f"a slow-down called a gain: {sentence.strip()}")
            elif ratio < MIN_DIFFERENCE and _GAIN.search(_NO_GAIN.sub("", clause)):
                problems.append(
                    f"x{ratio:.2f}, under the x{MIN_DIFFERENCE:g} a difference "
                    f"needs, called a gain: {sentence.strip()}"
                )
        for m in _SHARE.finditer(sentence):
            if float(m.group(1)) > 100:
                problems.append(f"a bound beaten, shown above 100 %: {sentence.strip()}")
        shares = [m.group(1) for m in _SAVING_SHARE.finditer(sentence)]
        for m in _SAVING_LIST.finditer(sentence):
            shares += _PERCENT.findall(m.group(1))
        if any(not 0 <= float(x.replace("\u2212", "-")) <= 100 for x in shares):
            problems.append(
                f"a share of the possible saving outside 0–100 % (say the slow-down, or that the "
                f"bound was beaten): {sentence.strip()}"
            )
        for m in _COUNT_OF.finditer(sentence):
            if int(m.group(1)) > int(m.group(2)):
                problems.append(f"a count of more than its whole: {sentence.strip()}")
        if re.search(r"\bfastest\b", sentence, re.I) and not _FASTEST_RULE.search(sentence):
            problems.append(
                f"'fastest' said without the spread rule (verdicts.fastest): {sentence.strip()}"
            )
    for m in _CLAIM.finditer(text):
        line = m.group(3).split("\n")[0]
        parts = _PART.findall(line)
        said, claim = m.group(2).upper(), m.group(1).upper()
        joined = never_against(combine_for(claim, parts), _LEAN.findall(line))
        if len(parts) >= 2 and said != joined:
            problems.append(
                f"{claim} {said} from parts {', '.join(parts)}, which combine to {joined}"
            )
        problems += _decided_against_a_part(claim, said, line)
        problems += _decided_against_a_swallowed_gain(claim, said, line, parts)
    return problems


_SAVING = re.compile(r"(-?\d+) % of the possible saving")
_BOUNDS = re.compile(
    r"(\d+\.\d+) s against an overlapped bound of (\d+\.\d+) s and a sequential sum of "
    r"(\d+\.\d+) s"
)
_FASTER = re.compile(r"\bx\d+\.\d+ faster\b")
_OVERLAP_MEANS = {"C4": HOLDS, "C12": DOES_NOT_HOLD}  # what an overlap says of the claim
_FASTER_MEANS = {"C10": HOLDS, "C11": HOLDS, "A1": HOLDS}  # what a speed-up says of it


def _shows(claim: str, part: str) -> str | None:
    """What an undecided part visibly shows of its claim (a verdict), or None: nothing where the
    part says its runs were not like with like, so their times decide nothing."""
    if UNLIKE in part:
        return None
    if claim in _FASTER_MEANS and _FASTER.search(part):
        return _FASTER_MEANS[claim]
    saving = None
    if m := _SAVING.search(part):
        saving = int(m.group(1)) / 100
    elif m := _BOUNDS.search(part):
        measured, ideal, sequential = map(float, m.groups())
        if sequential > ideal:
            saving = (sequential - measured) / (sequential - ideal)
    if claim in _OVERLAP_MEANS and saving is not None and saving >= VISIBLE_SAVING:
        return _OVERLAP_MEANS[claim]
    return None


def _decided_against_a_part(claim: str, said: str, line: str) -> list[str]:
    """A claim decided against what one of its undecided parts shows (the part in the text)."""
    against = {HOLDS: DOES_NOT_HOLD, DOES_NOT_HOLD: HOLDS}.get(said)
    return [
        f"{claim} {said} while an undecided part shows the opposite: {part.strip()}"
        for part in line.split(";")
        if "(INCONCLUSIVE" in part and _shows(claim, part) == against and against
    ]


_SWALLOWED = re.compile(r"inside the spread \(x(\d+\.\d+)")


def _decided_against_a_swallowed_gain(
    claim: str, said: str, line: str, parts: list[str]
) -> list[str]:
    """A speed-up claim with no parts of its own (A1) decided against a gain of x1.15 or more
    that its spread swallowed: the repeats allow it, so the claim is undecided."""
    if claim not in _FASTER_MEANS or said != DOES_NOT_HOLD or parts:
        return []
    return [
        f"{claim} DOES NOT HOLD against a speed-up inside the spread (x{m.group(1)}): {line}"
        for m in _SWALLOWED.finditer(line)
        if float(m.group(1)) >= MIN_GAIN
    ]


def _verdict(f: Mapping[str, Any]) -> Verdict:
    return Verdict(f["id"], f["verdict"], f["because"], dict(f.get("evidence") or {}))


def _check_verdict(v: Verdict) -> list[str]:
    problems = check_reading(str(v))
    try:
        again = rejudge(v)
    except (KeyError, TypeError, ValueError) as e:
        return [*problems, f"{v.claim_id}: its evidence cannot be judged again ({e!r})"]
    if again.verdict != v.verdict:
        problems.append(
            f"{v.claim_id} reads {v.verdict}, but its rule on its evidence gives {again.verdict}"
        )
    elif again.because != v.because:
        problems.append(
            f"{v.claim_id}'s sentence is not the one its rule gives on its evidence: "
            f"{again.because}"
        )
    return problems


def check_facts(facts: Mapping[str, Any]) -> list[str]:
    """What is wrong with one machine-readable result: a comparison, a fastest, a verdict or a
    scorecard (``kind``), checked against the rule that made it."""
    kind = facts.get("kind")
    if kind == "comparison":
        again = compare(facts["before"], facts["after"], facts["unit"])
        if (again.word, again.sentence) != (facts["word"], facts["sentence"]):
            return [
                f"a comparison reads {facts['sentence']!r}; its numbers read {again.sentence!r}"
            ]
        return check_reading(facts["sentence"])
    if kind == "fastest":
        best = fastest(facts["runs"], facts["unit"], facts.get("costs"))
        if best.winner != facts["winner"]:
            return [
                f"{facts['sentence']!r} names {facts['winner']!r}; its runs name {best.winner!r}"
            ]
        return check_reading(facts["sentence"])
    if kind == "verdict":
        return _check_verdict(_verdict(facts))
    if kind == "scorecard":
        rows = [_verdict(r) for r in facts["rows"]]
        problems = [p for v in rows for p in _check_verdict(v)]
        keys = [(r["id"], r.get("backend")) for r in facts["rows"]]
        problems += [
            f"{k[0]} on {k[1]} has {keys.count(k)} rows"
            for k in dict.fromkeys(keys)
            if keys.count(k) > 1
        ]
        if facts.get("tally") and facts["tally"] != tally(rows):
            problems.append(f"the tally reads {facts['tally']!r}; the rows give {tally(rows)!r}")
        return problems
    return []


@dataclass(frozen=True)
class Problem:
    """One reading that says more than its numbers, and where it is."""

    where: str
    what: str


class Consistency(ShowsItself, list):
    """The problems found; empty when every reading follows from its numbers.

    Example:
        >>> str(check(compare([0.5, 0.52], [0.36, 0.37])))
        'Every reading checked (1) follows from its numbers.'
    """

    def __init__(self, problems: Iterable[Problem] = (), checked: int = 0) -> None:
        super().__init__(problems)
        self.checked = checked

    @property
    def ok(self) -> bool:
        return not self

    def table(self) -> Table:
        reading = (
            f"Every reading checked ({self.checked}) follows from its numbers."
            if self.ok
            else f"{len(self)} of the readings checked say more than their numbers."
        )
        return Table(("where", "what is wrong"), [(p.where, p.what) for p in self], reading=reading)


def check(*items: Any) -> Consistency:
    """Check results as objects: comparisons, fastest runs, verdicts, scorecards (each row counts
    as one reading checked), or text.

    Example:
        >>> from fitscope.verdicts.claims import c11
        >>> from fitscope.verdicts.compare import compare
        >>> check(c11(compare([1.26, 1.3], [1.0, 1.02]), compare([1.09, 1.1], [1.0, 1.02]), 2)).ok
        True
    """
    problems, checked = [], 0
    for i, item in enumerate(items):
        checked += len(item) if isinstance(item, Scorecard) else 1
        if isinstance(item, str):
            found = check_reading(item)
        elif isinstance(item, Scorecard):
            found = check_facts(item.facts(getattr(item, "backends", ())))
        elif isinstance(item, Verdict | Compared | Fastest):
            found = check_facts(item.facts())
        else:
            raise TypeError(
                f"cannot check a {type(item).__name__}: give a comparison, a "
                "fastest, a verdict, a scorecard or a reading"
            )
        problems += [Problem(f"item {i + 1}", p) for p in found]
    return Consistency(problems, checked=checked)


def _output_texts(output: Mapping[str, Any]) -> tuple[str, str]:
    """The plain text and the HTML of one notebook output."""

    def joined(x: Any) -> str:
        return "".join(x) if isinstance(x, list) else str(x or "")

    if output.get("output_type") == "stream":
        return joined(output.get("text")), ""
    data = output.get("data", {})
    return joined(data.get("text/plain")), joined(data.get("text/html"))


def _output_facts(output: Mapping[str, Any], page: str) -> list[Mapping[str, Any]]:
    """The facts one output carries: the facts blocks in its HTML, then those in its metadata
    (a chart's: :meth:`fitscope.show.palette.Chart.outputs`)."""
    blocks = [f for b in _FACTS.findall(page) for f in json.loads(b.replace("<\\/", "</"))]
    return blocks + list((output.get("metadata") or {}).get(FACTS_CLASS) or [])


def _html_text(page: str) -> str:
    """The words of an HTML output: its text and its images' alt text, without hidden blocks."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    alts = " ".join(html.unescape(a) for a in re.findall(r'\balt="([^"]*)"', page))
    page = re.sub(r"</?(p|tr|td|th|li|h\d|div|br|table)\b[^>]*>", "\n", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page)) + "\n" + alts


def check_quantities(texts: Iterable[tuple[str, str]]) -> list[Problem]:
    """A reference printed twice in one notebook with two values beyond rounding
    (:func:`fitscope.verdicts.quantities.check_references`); ``texts`` are (where, text) pairs."""
    return [Problem(where, what) for where, what in check_references(texts)]


def check_notebook(path: str | Path) -> Consistency:
    """Check every output of an executed notebook: its reading text and its embedded facts, and
    every quantity of one run it prints against the other times it prints it: within a result
    (:func:`fitscope.verdicts.quantities.check_one_run`), through quantity facts across cells
    (:func:`fitscope.verdicts.quantities.check_quantity_facts`) and references across cells
    (:func:`check_quantities`)."""
    nb = json.loads(Path(path).read_text())
    problems, checked, texts, printed = [], 0, [], []
    for n, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text, page = _output_texts(output)
            words = _html_text(page) if page else ""
            found = check_reading(text) + check_reading(words) + check_one_run(page, words)
            for facts in _output_facts(output, page):
                found += check_facts(facts)
                printed.append((f"cell {n}", facts))
                checked += 1
            checked += bool(text)
            problems += [Problem(f"{Path(path).name}, cell {n}", p) for p in dict.fromkeys(found)]
            texts.append((f"cell {n}", words or text))
    across = check_quantities(texts) + [Problem(*p) for p in check_quantity_facts(printed)]
    problems += [Problem(f"{Path(path).name}, {p.where}", p.what) for p in across]
    return Consistency(problems, checked)
