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
    from fitscope.verdicts.bounds import TOLERANCE
    from fitscope.verdicts.images import FULL_CPUS
    from fitscope.verdicts.parts import VISIBLE_SAVING

    text = GLOSSARY.read_text()
    for heading in (
        f"### {round(100 * (MIN_DIFFERENCE - 1))} %",
        f"### x{MIN_GAIN:g}",
        f"### {round(100 * TOLERANCE)} %",
        f"### {round(100 * VISIBLE_SAVING)} %",
        f"### {round(100 * FULL_CPUS)} %",
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


# -- 3. a self-check quiz at the end of every notebook ---------------------------------------

QUIZ_CALL = re.compile(r"""self_check\(["']([^"']+)["']\)""")


def last_quiz_key(nb: dict) -> str | None:
    """The quiz the notebook's last code cell shows (its key), or None when it shows none."""
    code = [c["text"] for c in cells(nb) if c["cell_type"] == "code"]
    m = (
        QUIZ_CALL.fullmatch(code[-1].strip().split(".", 1)[-1].removeprefix("show."))
        if code
        else None
    )
    return m.group(1) if m else None


def test_every_choice_is_explained_and_one_is_right() -> None:
    from fitscope.show.quiz import QUIZZES

    for key, questions in QUIZZES.items():
        for q in questions:
            assert 3 <= len(q.choices) <= 4, (key, q.prompt)
            assert all(text.strip() and len(why.split()) >= 5 for text, why in q.choices)
            assert len({text for text, _ in q.choices}) == len(q.choices)
            assert [q.feedback(i).startswith("Right.") for i in range(len(q.choices))].count(
                True
            ) == 1
        assert len({q.right for q in questions}) > 1, f"{key}: the right choice never moves"


def test_a_question_without_explanations_or_a_right_answer_is_refused() -> None:
    from fitscope.show.quiz import Question

    with pytest.raises(ValueError, match="explanation"):
        Question("Which?", [("a", "Because."), ("b", " ")], right=0)
    with pytest.raises(ValueError, match="right one"):
        Question("Which?", [("a", "Because."), ("b", "Not.")], right=2)


def test_picking_a_choice_updates_its_feedback() -> None:
    from fitscope.show.quiz import self_check

    box = self_check("01b")
    q = box.questions[0]
    wrong = next(i for i in range(len(q.choices)) if i != q.right)
    assert "Pick a choice" in box.feedbacks[0].value
    box.buttons[0].value = wrong  # what a click does
    assert box.feedbacks[0].value.startswith("<b>Not quite.</b>")
    assert q.choices[wrong][1].split()[0] in box.feedbacks[0].value
    box.buttons[0].value = q.right
    assert box.feedbacks[0].value.startswith("<b>Right.</b>")
    assert "Pick a choice" in box.feedbacks[1].value  # the other questions are untouched


def test_a_static_page_shows_every_choice_folded_over_its_explanation() -> None:
    from fitscope.show.quiz import self_check

    box = self_check("00")
    bundle = box._repr_mimebundle_()
    page, text = bundle["text/html"], bundle["text/plain"]
    choices = [c for q in box.questions for c in q.choices]
    assert page.count("<details>") == len(choices) and 'class="fitscope-quiz"' in page
    assert text.count("Right.") == len(box.questions)
    assert all(why.split(",")[0] in text for _, why in choices)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_notebook_ends_with_a_quiz_of_three_or_four_questions(path: Path) -> None:
    from fitscope.show.quiz import QUIZZES

    key = last_quiz_key(notebook(path))
    assert key is not None, "the last code cell is not a self_check quiz"
    assert path.stem.split("_")[0] == key
    assert 3 <= len(QUIZZES[key]) <= 4


def test_a_notebook_without_a_quiz_at_its_end_is_caught() -> None:
    def nb(*code: str) -> dict:
        return {"cells": [{"cell_type": "code", "source": c} for c in code]}

    assert last_quiz_key(nb("x = 1", 'show.self_check("03")')) == "03"
    assert last_quiz_key(nb('fitscope.show.self_check("05")')) == "05"
    assert last_quiz_key(nb('show.self_check("03")', "panel.run()")) is None
    assert last_quiz_key(nb("x = 1")) is None


def test_the_static_site_shows_a_quiz_as_its_folded_choices() -> None:
    import importlib.util

    import nbformat

    from fitscope.show.quiz import self_check

    spec = importlib.util.spec_from_file_location("build_site", ROOT / "docs" / "build_site.py")
    site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site)
    bundle = self_check("02")._repr_mimebundle_()
    out = nbformat.v4.new_output("display_data", data=bundle)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("q", outputs=[out])])
    data = site.static_copy(nb).cells[0].outputs[0]["data"]
    assert site.WIDGET_VIEW not in data and data["text/html"] == bundle["text/html"]


# -- 4. one picture per backend --------------------------------------------------------------


def test_the_backend_diagram_has_one_panel_per_backend_with_the_role_labels(tmp_path: Path) -> None:
    from fitscope.instrument.threads import MAIN, TF_CREATED, TF_DATA
    from fitscope.show.diagram import WHO_RUNS_WHAT, backend_diagram
    from fitscope.show.palette import role_colour

    chart = backend_diagram()
    chart.figure.savefig(tmp_path / "diagram.png")
    assert (tmp_path / "diagram.png").read_bytes()[:4] == b"\x89PNG"
    assert [ax.get_title() for ax in chart.figure.axes] == ["TensorFlow", "JAX", "PyTorch"]
    for ax, lanes in zip(chart.figure.axes, WHO_RUNS_WHAT.values(), strict=True):
        labels = [t.get_text() for t in ax.texts]
        assert [role for role, _ in lanes] == [t for t in labels if t in dict(lanes)]
        edges = {p.get_edgecolor()[:3] for p in ax.patches}
        assert len(edges) >= 3  # the roles' own colours, not one colour for all
        assert all(role_colour(role) != "#999999" for role, _ in lanes)  # every role is known
    roles = {role for lanes in WHO_RUNS_WHAT.values() for role, _ in lanes}
    assert {MAIN, TF_DATA, TF_CREATED, "threads jax created", "Keras callback threads"} <= roles


def test_the_diagram_is_in_01b_and_in_the_readme() -> None:
    code = [c["text"] for c in cells(notebook(ROOT / "notebooks" / "01b_which_backend.ipynb"))]
    assert any("backend_diagram()" in c for c in code)
    assert "](docs/img/backend_diagram.png)" in (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / "img" / "backend_diagram.png").exists()


# -- 5. the instructor guide agrees with itself ----------------------------------------------

GUIDE = ROOT / "docs" / "instructor-guide.md"
NOTEBOOK_BLOCK = re.compile(r"(\d\d[a-z]?) ")


def plan(text: str) -> list[tuple[str, int, str]]:
    """The plan table's rows as (start, minutes, block)."""
    table = text.split("## The plan", 1)[1].split("\n\n", 2)[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return [(start, int(minutes), block) for start, minutes, block in rows]


def section_minutes(text: str) -> dict[str, int]:
    """Minutes per notebook from the headers ``### 01b Which backend … (18 min)``."""
    found = re.findall(r"^### (\d\d[a-z]?) .*\((?:[a-z ]+, )?(\d+) min\)$", text, re.M)
    return {number: int(minutes) for number, minutes in found}


def plan_problems(text: str) -> list[str]:
    """Where the plan table and the section headers disagree, or the clock does not add up."""
    rows, problems = plan(text), []
    planned = {m.group(1): minutes for _, minutes, b in rows if (m := NOTEBOOK_BLOCK.match(b))}
    if planned != section_minutes(text):
        problems.append(f"plan {planned} against headers {section_minutes(text)}")
    clock = [(s, m) for s, m, _ in rows if ":" in s]
    for (start, minutes), (following, _) in zip(clock, clock[1:]):
        h, mm = map(int, start.split(":"))
        if f"{(60 * h + mm + minutes) // 60}:{(mm + minutes) % 60:02d}" != following:
            problems.append(f"{start} + {minutes} min is not {following}")
    return problems


def test_the_plan_and_the_section_headers_agree() -> None:
    text = GUIDE.read_text()
    assert plan_problems(text) == []
    numbers = {p.stem.split("_")[0] for p in NOTEBOOKS}
    assert set(section_minutes(text)) == numbers  # every notebook placed, 05 as homework too
    assert sum(m for s, m, _ in plan(text) if ":" in s) <= 120


def test_each_notebook_section_says_what_to_say_and_what_quick_mode_cannot_show() -> None:
    sections = re.split(r"^### (?=\d\d)", GUIDE.read_text(), flags=re.M)[1:]
    assert len(sections) == len(NOTEBOOKS)
    for section in sections:
        assert "**What to say:**" in section, section[:30]
        assert "**What quick mode cannot show:**" in section, section[:30]


def test_a_plan_that_disagrees_with_its_headers_is_caught() -> None:
    text = (
        "## The plan\n\n| Start | Minutes | Block |\n| --- | --- | --- |\n"
        "| 0:00 | 10 | 00 Start |\n| 0:10 | 16 | 02 Trainer |\n| 0:30 | 5 | Wrap-up |\n\n"
        "### 00 Start (10 min)\n\n### 02 Trainer (18 min)\n"
    )
    problems = plan_problems(text)
    assert any("against headers" in p for p in problems)
    assert any("0:10 + 16 min is not 0:30" in p for p in problems)
    fixed = text.replace("(18 min)", "(16 min)").replace("| 0:30 |", "| 0:26 |")
    assert plan_problems(fixed) == []


# -- 6. outputs a learner can read -----------------------------------------------------------

ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:tmp|root|work|home|usr|opt|var|private)/[^\s'\"<>]*")
NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])")
DATACLASS_REPR = re.compile(r"\b[A-Z]\w*\(\w+=")
# A line of TensorFlow's C++ log (absl's prefix: severity, date, time, thread id, file:line), and
# the line absl prints before its first one. The learner did not cause them; each is reported
# once, by its message, not as the floats of its time stamp.
NATIVE_LOG = re.compile(
    r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] (?P<message>.*)"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called .*)$",
    re.M,
)
# What TensorFlow 2.21 prints while it loads, before it reads TF_CPP_MIN_LOG_LEVEL (absl's notice
# and the oneDNN note): its own start-up notes, which no setting short of TF_ENABLE_ONEDNN_OPTS (it
# changes what is measured) removes; reported apart from the rest of its log, which the level hides.
STARTUP_NOTE = re.compile(
    r"^(?:oneDNN custom operations are on\b|WARNING: All log messages before)"
)
# What tf.data's autotuner logs at ERROR level when an iterator it is tuning is deleted while it
# optimises (each timed pipeline's iterator is dropped once timed): it appears only when the
# machine is busy (a fresh-clone run beside another job showed it in 03, seven cells), says
# nothing about the run, and only TF_CPP_MIN_LOG_LEVEL=3 would hide it, with every real error.
# A timing-dependent line cannot be listed as expected either, so it is not reported.
CANCELLED_TUNING = re.compile(r"^Optimization loop failed: CANCELLED\b")
TF_LOG = "TensorFlow's C++ log"
TF_STARTUP = "TensorFlow's start-up note"
# Keras's progress line (``fit(verbose=2)``: "31/31 - 4s - 117ms/step - loss: 2.2817"): the
# learner asked for it and reads it as Keras prints it everywhere; its floats are not raw.
KERAS_PROGRESS = re.compile(r"^\d+/\d+ .*\d(?:ms|us|s)/step\b.*$", re.M)


def _significant_digits(number: str) -> int:
    digits = number.lstrip("-").split("e")[0].split("E")[0].replace(".", "")
    return len(digits.lstrip("0"))


def _raw(number: str) -> bool:
    """A float as Python prints it, not as a format chose: more than 4 significant digits and
    more than 2 decimals (``3951.5`` batches/s in a table is a ``:.1f``, not a raw repr).

    Example:
        >>> [_raw(n) for n in ("1.2867700584358601", "0.943233325", "3951.5", "700.79", "1.234")]
        [True, True, False, False, False]
    """
    decimals = number.split("e")[0].split("E")[0].partition(".")[2]
    return _significant_digits(number) > 4 and len(decimals) > 2


def output_problems(nb: dict, prefixes: tuple[str, ...] = ()) -> list[str]:
    """What a learner would trip on in an executed notebook's outputs: an absolute path of the
    machine (or one of ``prefixes``, e.g. the venv's), a raw float (more than 4 significant
    digits and more than 2 decimals), a dataclass repr shown as a cell's value, a ``UserWarning``,
    a line of TensorFlow's C++ log (the learner's code did not ask for it; its start-up notes
    reported apart, as TF_STARTUP). Each as
    ``"cell N: what: excerpt"``; images, and the data an HTML output carries in ``<script>``
    (never shown), are not read.

    Example:
        >>> out = {"output_type": "execute_result", "data": {"text/plain": "0.123456"}}
        >>> output_problems({"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]})
        ['cell 0: a float with more than 4 significant digits: 0.123456']
    """
    problems = []
    for i, c in enumerate(nb["cells"]):
        for out in c.get("outputs", []):
            data = out.get("data", {})
            texts = ["".join(out.get("text", "")), "".join(data.get("text/plain", ""))]
            shown = re.sub(
                r"(?s)<(script|style)\b.*?</\1>", " ", "".join(data.get("text/html", ""))
            )
            texts.append(re.sub(r"<[^>]+>", " ", shown))  # what the page shows, not its data
            texts += ["".join(out.get("traceback", []))]
            text = "\n".join(texts)
            logged = [m["message"] or m[0] for m in NATIVE_LOG.finditer(text)]
            logged = [m for m in logged if not CANCELLED_TUNING.match(m)]
            found = [(TF_STARTUP if STARTUP_NOTE.match(m) else TF_LOG, m) for m in logged]
            text = NATIVE_LOG.sub("", text)
            paths = ABSOLUTE_PATH.findall(text)
            found += [("an absolute path", m) for m in paths]
            found += [
                ("an absolute path", p)
                for p in prefixes
                if p and p in text and not any(m.startswith(p) for m in paths)
            ]
            found += [
                ("a float with more than 4 significant digits", n)
                for n in NUMBER.findall(KERAS_PROGRESS.sub("", text))
                if _raw(n)
            ]
            value_only = out.get("output_type") == "execute_result" and set(data) <= {"text/plain"}
            if value_only:
                plain = "".join(data.get("text/plain", ""))
                found += [("a dataclass repr", m) for m in DATACLASS_REPR.findall(plain)]
            found += [("a UserWarning", "UserWarning")] * ("UserWarning" in text)
            problems += [f"cell {i}: {what}: {excerpt[:60]}" for what, excerpt in found]
    return problems


def test_output_problems_finds_what_a_learner_trips_on() -> None:
    def nb(*outputs: dict) -> dict:
        return {"cells": [{"cell_type": "code", "source": "", "outputs": list(outputs)}]}

    value = {"output_type": "execute_result", "data": {"text/plain": "1.2867700584358601"}}
    params = {"output_type": "execute_result", "data": {"text/plain": "PipelineParams(files=8)"}}
    path = {"output_type": "stream", "name": "stdout", "text": "/tmp/tmpab12/first_run.json\n"}
    warning = {
        "output_type": "stream",
        "name": "stderr",
        "text": "/x/.venv/lib/keras/trainer.py:1: UserWarning: shuffle=True\n",
    }
    found = output_problems(nb(value, params, path, warning), prefixes=("/x/.venv",))
    assert [p.split(": ")[1] for p in found] == [
        "a float with more than 4 significant digits",
        "a dataclass repr",
        "an absolute path",
        "an absolute path",
        "a UserWarning",
    ]
    clean = [
        {"output_type": "execute_result", "data": {"text/plain": "(2, 60)"}},
        {"output_type": "stream", "name": "stdout", "text": "1.29 s, 12.5 steps/s, x1.15\n"},
        {"output_type": "display_data", "data": {"text/html": "<td>3951.5, 700.79</td>"}},
        {
            "output_type": "stream",
            "name": "stdout",
            "text": "31/31 - 2s - 55ms/step - loss: 2.1759\n",
        },
        {
            "output_type": "execute_result",
            "data": {"text/html": "<p>Run(a=1)</p>", "text/plain": "Run(a=1)"},
        },
        {"output_type": "stream", "name": "stdout", "text": "saved to first_run.trace.json\n"},
        {
            "output_type": "display_data",
            "data": {
                "text/html": '<p>C2</p><script type="application/json">{"s": 0.0306144}</script>'
            },
        },
    ]
    assert output_problems(nb(*clean)) == []


def test_tensorflows_log_lines_are_reported_once_each_by_their_message() -> None:
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796610202.024021    9793 port.cc:153] oneDNN custom operations are on.\n"
        "W0000 00:00:1796610211.624815    9793 generator_dataset_op.cc:213] Memory patch.\n"
        "E0000 00:00:1796612011.624815    9793 model.cc:1234] Optimization loop failed: "
        "CANCELLED: Operation was cancelled\n"
        "Python 3.11.7 · B = 2 CPUs\n"
    )
    out = {"output_type": "stream", "name": "stderr", "text": text}
    found = output_problems({"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]})
    assert found == [
        # cut at 60 characters
        f"cell 0: {TF_STARTUP}: WARNING: All log messages before absl::InitializeLog() is ca",
        f"cell 0: {TF_STARTUP}: oneDNN custom operations are on.",
        f"cell 0: {TF_LOG}: Memory patch.",
    ]


def test_a_path_under_a_given_prefix_is_reported_once() -> None:
    out = {"output_type": "stream", "name": "stdout", "text": "KERNEL /work/x/.venv/bin/python\n"}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]}
    assert output_problems(nb, prefixes=("/work/x", "/work/x/.venv")) == [
        "cell 0: an absolute path: /work/x/.venv/bin/python"
    ]
    elsewhere = {"output_type": "stream", "name": "stdout", "text": "in /srv/me/notebooks\n"}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [elsewhere]}]}
    assert output_problems(nb, prefixes=("/srv/me",)) == ["cell 0: an absolute path: /srv/me"]


def test_the_site_has_the_glossary_and_the_notebooks_link_it(tmp_path: Path) -> None:
    import importlib.util

    import nbformat

    from fitscope.show.quiz import self_check

    spec = importlib.util.spec_from_file_location("build_site", ROOT / "docs" / "build_site.py")
    site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site)
    out = nbformat.v4.new_output("display_data", data=self_check("03")._repr_mimebundle_())
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# T\n\n[Glossary](../docs/glossary.md)"),
            nbformat.v4.new_code_cell('show.self_check("03")', outputs=[out]),
        ]
    )
    nbformat.write(nb, tmp_path / "t.ipynb")
    pages = site.build(tmp_path, tmp_path / "site", ["t.ipynb"])
    page, glossary = pages[1].read_text(), pages[-1].read_text()
    assert pages[-1].name == "glossary.html" and "<h3" in glossary and "input share" in glossary
    assert 'href="glossary.html"' in page and "../docs/glossary.md" not in page
    assert page.count("<details>") == sum(len(q.choices) for q in self_check("03").questions)
    assert "href='glossary.html'" in pages[0].read_text()  # the index links it too
