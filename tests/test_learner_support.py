"""A learner never stuck (issue 31): every bold term is in the glossary, every question has an
answer, every notebook ends with a quiz, the backend diagram draws, the instructor guide agrees
with itself.

Run it: ``FITSCOPE_QUICK=1 .venv/bin/python -m pytest -q tests/test_learner_support.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
GLOSSARY = ROOT / "docs" / "glossary.md"

# Bold phrases in the notebooks that are emphasis or labels, not terms to define.
EMPHASIS = {
    "before you run it",
    "before you run them",
    "before you look",
    "predict, then measure",
    "time to learn",
    "system requirements",
    "run",
    "save result",
    "profile",
    "in jupyterlab",
    "on binder",
    "each notebook",
    "measures",
    "before",
    "one",
    "a peer fails",
    "gpus",
    "the dispatcher address",
    "tf_config per host",
    "other machines",
    "how many ran at once",
    "joins every non-daemon child",
    "tensorflow",
    "c10",
    "c11",
    "version note",
    "pitfall",
}


def cells(nb: dict) -> list[dict]:
    """The notebook's cells, each with its source joined as ``text``."""
    return [dict(c, text="".join(c["source"])) for c in nb["cells"]]


def notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def normal(phrase: str) -> str:
    """A bold phrase as the glossary is searched: lower case, no backticks or markup, no
    trailing punctuation or possessive, one space between words.

    Example:
        >>> normal("**TensorFlow's**\\n threads:")
        'tensorflow threads'
    """
    text = re.sub(r"[`*]|<[^>]+>", "", phrase).lower()
    text = re.sub(r"'s\b", "", " ".join(text.split()))
    return text.strip(" .:;,")


def glossary_terms(text: str) -> set[str]:
    """Every term the glossary defines: its ``###`` headings, each heading's part before a
    bracket too, and its bold phrases."""
    terms = set()
    for heading in re.findall(r"^###\s+(.+)$", text, re.M):
        terms |= {normal(heading), normal(heading.split("(")[0])}
        terms |= {normal(inner) for inner in re.findall(r"\(([^)]+)\)", heading)}
    return terms | {normal(b) for b in re.findall(r"\*\*(.+?)\*\*", text, re.S)}


def undefined_bold_terms(nb: dict, terms: set[str]) -> list[str]:
    """Bold phrases of the notebook's markdown that are neither glossary terms nor emphasis."""
    found = []
    for c in cells(nb):
        if c["cell_type"] == "markdown":
            found += re.findall(r"\*\*(.+?)\*\*", c["text"], re.S)
            found += re.findall(r"<b>(.+?)</b>", c["text"], re.S)
    return [b for b in found if normal(b) not in terms and normal(b) not in EMPHASIS]


def made_up(*markdown: str) -> dict:
    """A notebook dict of markdown cells, for testing the checks themselves."""
    return {"cells": [{"cell_type": "markdown", "source": m} for m in markdown]}


# -- 1. the glossary ------------------------------------------------------------------------


def test_the_glossary_defines_the_role_names_the_package_uses() -> None:
    from fitscope.instrument.threads import ROLE_ORDER
    from fitscope.show.palette import ROLE_COLOURS

    terms = glossary_terms(GLOSSARY.read_text())
    missing = [r for r in {*ROLE_ORDER, *ROLE_COLOURS} if normal(r) not in terms]
    assert missing == []
    assert normal("threads jax created") in terms


def test_the_glossary_quotes_the_thresholds_the_rules_use() -> None:
    from fitscope.diagnose.report import LINES
    from fitscope.verdicts import MIN_DIFFERENCE, MIN_GAIN, OVERLAP_VISIBLE_SHARE
    from fitscope.verdicts.images import AT_BOUND

    text = GLOSSARY.read_text()
    for heading in (
        f"### {round(100 * (MIN_DIFFERENCE - 1))} %",
        f"### x{MIN_GAIN:g}",
        f"### {round(100 * (AT_BOUND - 1))} %",
        f"### {round(100 * LINES[1])} %",
        f"### {round(100 * OVERLAP_VISIBLE_SHARE)} %",
    ):
        assert heading in text, heading
    for verdict in ("HOLDS", "DOES NOT HOLD", "DEPENDS", "INCONCLUSIVE", "NOT APPLICABLE"):
        assert f"### {verdict}" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_bold_term_is_in_the_glossary(path: Path) -> None:
    assert undefined_bold_terms(notebook(path), glossary_terms(GLOSSARY.read_text())) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_prerequisites_link_the_glossary(path: Path) -> None:
    prerequisites = [
        c["text"] for c in cells(notebook(path)) if c["text"].startswith("## Prerequisites")
    ]
    assert prerequisites and "](../docs/glossary.md)" in prerequisites[0]


def test_a_made_up_bold_term_is_caught() -> None:
    terms = glossary_terms("### B (CPU budget)\n\nThe **ideal overlap** bound.\n")
    assert terms >= {"b", "cpu budget", "ideal overlap"}
    nb = made_up("The **CPU budget** and **ideal overlap**; **Before you run it:** guess.")
    assert undefined_bold_terms(nb, terms) == []
    nb = made_up("Now the **flux capacitor** and the <b>warp share</b>.")
    assert undefined_bold_terms(nb, terms) == ["flux capacitor", "warp share"]


# -- 2. an answer under every question ------------------------------------------------------

PROMPT = re.compile(r"\*\*Before you (?:run it|run them|look):\*\*")
EXERCISE = re.compile(r"^\d+\. ", re.M)
SECTION = re.compile(r"^## ", re.M)
ANSWER = re.compile(r"<details>\s*<summary>Answer</summary>")


def events(nb: dict) -> list[tuple[str, str]]:
    """The notebook's markdown read in order as (kind, text): ``question`` (a "Before you …"
    prompt, or a numbered exercise under ``## Exercises``), ``answer`` (a folded answer) and
    ``section`` (a ``##`` heading, which ends the questions before it)."""
    out: list[tuple[int, str, str]] = []
    in_exercises = False
    for c in cells(nb):
        if c["cell_type"] != "markdown":
            continue
        text = c["text"]
        found = [
            (m.start(), "section", text[m.start() :].split("\n")[0]) for m in SECTION.finditer(text)
        ]
        found += [
            (m.start(), "question", text[m.start() : m.start() + 60]) for m in PROMPT.finditer(text)
        ]
        found += [(m.start(), "answer", "") for m in ANSWER.finditer(text)]
        for position, kind, line in sorted(found):
            if kind == "section":
                in_exercises = line.strip() == "## Exercises"
            out.append((position, kind, line))
        if in_exercises and not ANSWER.search(text):
            out += [
                (m.start(), "question", text[m.start() : m.start() + 60])
                for m in EXERCISE.finditer(text)
            ]
    return [(kind, line) for _, kind, line in out]


def unanswered(nb: dict) -> list[str]:
    """The questions no folded answer follows before the next question or section."""
    missing, waiting = [], None
    for kind, text in [*events(nb), ("section", "")]:
        if kind == "answer":
            waiting = None
            continue
        if waiting is not None:
            missing.append(waiting)
        waiting = text if kind == "question" else None
    return missing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_question_has_an_answer(path: Path) -> None:
    nb = notebook(path)
    assert [k for k, _ in events(nb)].count("question") >= 3
    assert unanswered(nb) == []


def test_a_question_without_its_answer_is_caught() -> None:
    folded = "<details><summary>Answer</summary>\n\nBecause.\n\n</details>"
    good = made_up(
        "## 1. A\n\n**Before you run it:** which thread?",
        folded,
        "## Exercises\n\n1. **Predict, then measure.** More workers?",
        folded,
        "2. Why?",
        folded,
        "## Summary",
    )
    assert [k for k, _ in events(good)].count("question") == 3
    assert unanswered(good) == []
    no_answer = made_up("## 1. A\n\n**Before you run it:** guess.", "## 2. B", folded)
    assert unanswered(no_answer) == ["**Before you run it:** guess."]
    two_in_a_row = made_up("## Exercises\n\n1. One?", "2. Two?", folded, "## Summary")
    assert unanswered(two_in_a_row) == ["1. One?"]
