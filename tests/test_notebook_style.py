"""Every notebook in notebooks/ follows the collection's layout (the spine) and its cell rules.

The spine: one ``#`` title; ``## Overview``, ``## Prerequisites``, ``## Imports``; numbered
sections ``## 1.`` … ``## n.`` (one per Overview objective; ``###`` subsections are free); then
optionally ``## Exercises``; then ``## Summary``, ``## What's next``, ``## Resources and
references``. Imports live only in the Imports cell; code cells are short (counted in statements,
so ``ruff format`` spreading one call over several lines does not lengthen a cell); no line is
over 100 characters; links stay inside the repository. Run it on your notebook while you write it:
``.venv/bin/python -m pytest tests/test_notebook_style.py -k 01b``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HEAD = ["Overview", "Prerequisites", "Imports"]
TAIL = ["Summary", "What's next", "Resources and references"]
MAX_CODE_STATEMENTS = 10
# The imports, the warm-ups that must come between them (TensorFlow's threads told apart by id)
# and the environment line.
MAX_IMPORTS_CELL_STATEMENTS = 13
MAX_LINE = 100
OUTSIDE = ("CLAIMS.md", "FACTS.md", "../shared", "/work/")


def cells(path: Path) -> list[dict]:
    return [dict(c, text="".join(c["source"])) for c in json.loads(path.read_text())["cells"]]


def headings(path: Path) -> list[tuple[int, str]]:
    """(level, text) of every markdown heading, fenced code blocks left out."""
    out = []
    for c in cells(path):
        if c["cell_type"] != "markdown":
            continue
        fenced = False
        for line in c["text"].splitlines():
            fenced ^= line.lstrip().startswith("```")
            m = None if fenced else re.match(r"(#{1,6}) +(.*\S)", line)
            if m:
                out.append((len(m.group(1)), m.group(2)))
    return out


def spine_problems(heads: list[tuple[int, str]], objectives: int) -> list[str]:
    """What is wrong with a notebook's heading order (empty when it follows the spine)."""
    titles = [text for level, text in heads if level == 1]
    problems = (
        []
        if len(titles) == 1 and heads and heads[0][0] == 1
        else [f"need exactly one '#' title, first; found {titles}"]
    )
    second = [text for level, text in heads if level == 2]
    if second[:3] != HEAD:
        problems.append(f"the first '##' sections must be {HEAD}, found {second[:3]}")
    if second[-3:] != TAIL:
        problems.append(f"the last '##' sections must be {TAIL}, found {second[-3:]}")
    middle = second[3:-3]
    if middle and middle[-1] == "Exercises":
        middle = middle[:-1]
    numbers = []
    for text in middle:
        m = re.match(r"(\d+)\. \S", text)
        if not m:
            problems.append(f"'## {text}' is neither numbered ('## 3. …') nor a spine section")
        else:
            numbers.append(int(m.group(1)))
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"numbered sections must run 1, 2, 3, …; found {numbers}")
    if objectives != len(numbers):
        problems.append(
            f"the Overview lists {objectives} objectives for {len(numbers)} numbered sections"
        )
    return problems


def overview_objectives(path: Path) -> int:
    for c in cells(path):
        if c["cell_type"] == "markdown" and c["text"].startswith("## Overview"):
            return len(re.findall(r"^\d+\. ", c["text"], re.M))
    return 0


def imports_cell_index(path: Path) -> int | None:
    """Index of the first code cell after the '## Imports' heading."""
    seen = False
    for i, c in enumerate(cells(path)):
        seen = seen or (c["cell_type"] == "markdown" and "## Imports" in c["text"])
        if seen and c["cell_type"] == "code":
            return i
    return None


def python_of(source: str) -> str:
    """Cell source with IPython magics and shell lines blanked, so ast can read it."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def is_script(source: str) -> bool:
    """Whether a cell writes a file (``%%writefile``): a script the sandbox runs in a fresh
    interpreter, not kernel code, so the rules for kernel cells (imports only in the Imports cell,
    at most 10 statements) do not apply to it; its lines stay short, as every line does."""
    return source.lstrip().startswith("%%writefile")


def imports_in(source: str) -> list[str]:
    tree = ast.parse(python_of(source))
    return [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def links(text: str) -> list[str]:
    return (
        re.findall(r"\]\(([^)\s]+)", text)
        + re.findall(r"\]: *(\S+)", text)
        + re.findall(r"(?:href|src)=['\"]([^'\"]+)", text)
    )


def outside_links(path: Path) -> list[str]:
    """Links (and mentions of files learners do not have) that leave the repository."""
    bad = []
    for c in cells(path):
        bad += [word for word in OUTSIDE if word in c["text"]]
        for target in links(c["text"]) if c["cell_type"] == "markdown" else []:
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor in this page
            file = (path.parent / target.split("#")[0]).resolve()
            if ROOT not in file.parents or not file.exists():
                bad.append(target)
    return bad


IDS = [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_headings_follow_the_spine(path: Path) -> None:
    assert spine_problems(headings(path), overview_objectives(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_imports_only_in_the_imports_cell(path: Path) -> None:
    first = imports_cell_index(path)
    assert first is not None, "no code cell under '## Imports'"
    stray = {
        i: imports_in(c["text"])
        for i, c in enumerate(cells(path))
        if c["cell_type"] == "code" and i != first and not is_script(c["text"])
        if imports_in(c["text"])
    }
    assert stray == {}, f"imports outside the Imports cell (cell index: imports): {stray}"


def statements(code: str) -> int:
    """How many statements a cell holds, nested ones included; IPython's ``%`` and ``!`` lines
    count one each. A cell that does not parse counts its lines."""
    lines = code.rstrip("\n").splitlines()
    magics = [line for line in lines if line.lstrip().startswith(("%", "!"))]
    python = "\n".join(line for line in lines if line not in magics)
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return len(lines)
    return len(magics) + sum(isinstance(node, ast.stmt) for node in ast.walk(tree))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_cells_are_short_with_short_lines(path: Path) -> None:
    long_cells, long_lines = {}, []
    imports = imports_cell_index(path)
    for i, c in enumerate(cells(path)):
        if c["cell_type"] != "code":
            continue
        n = 0 if is_script(c["text"]) else statements(c["text"])
        if n > (MAX_IMPORTS_CELL_STATEMENTS if i == imports else MAX_CODE_STATEMENTS):
            long_cells[i] = n
        lines = c["text"].splitlines()
        long_lines += [f"cell {i}: {line[:40]}…" for line in lines if len(line) > MAX_LINE]
    assert long_cells == {}, (
        f"code cells over {MAX_CODE_STATEMENTS} statements, the imports cell over "
        f"{MAX_IMPORTS_CELL_STATEMENTS} (index: statements)"
    )
    assert long_lines == [], f"code lines over {MAX_LINE} characters"


def test_a_cell_is_counted_in_statements_not_lines() -> None:
    one_call = "run(\n    a=1,\n    b=2,\n)\n"
    assert statements(one_call) == 1
    assert statements("%time x = 1\nfor i in range(3):\n    print(i)\n") == 3
    assert statements("x = (\n") == 1
    assert is_script("%%writefile train.py\nimport keras\n") and not is_script("import keras")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_link_leaves_the_repository(path: Path) -> None:
    assert outside_links(path) == []


# -- the checks themselves catch what they are for ------------------------------------------
GOOD = [
    (1, "T"),
    (2, "Overview"),
    (2, "Prerequisites"),
    (2, "Imports"),
    (2, "1. A"),
    (3, "sub"),
    (2, "2. B"),
    (2, "Exercises"),
    (2, "Summary"),
    (2, "What's next"),
    (2, "Resources and references"),
]


def test_the_spine_check_accepts_the_layout_and_names_each_fault() -> None:
    assert spine_problems(GOOD, 2) == []
    assert "Overview lists 3" in " ".join(spine_problems(GOOD, 3))
    skipped = [h if h != (2, "2. B") else (2, "3. B") for h in GOOD]
    assert "run 1, 2, 3" in " ".join(spine_problems(skipped, 2))
    unnumbered = GOOD[:5] + [(2, "Verdicts")] + GOOD[6:]
    assert "neither numbered" in " ".join(spine_problems(unnumbered, 2))
    assert "exactly one" in " ".join(spine_problems(GOOD + [(1, "Again")], 2))
    assert "last '##'" in " ".join(spine_problems(GOOD[:-1], 2))


def test_imports_and_links_are_found_where_they_hide() -> None:
    assert imports_in("%matplotlib inline\nx = 1\nif x:\n    import os") == ["import os"]
    assert imports_in("print('import os')") == []
    assert links("[a](../docs/claims.md) <a href='x.html'>") == ["../docs/claims.md", "x.html"]


# -- the code measured stands in cells, one study a cell (issue 22) ---------------------------
STUDIES = {
    # one call runs one measurement (one traced fit, one sandboxed run, one timed benchmark)
    "fit",
    "diagnose",
    "generator_fit",
    "fit_in_sandbox",
    "step_alone",
    "predict_vs_fit",
    "pool_use",
    "profiled",
    "run",
    "measure_or_say",
    "article_trainer",
    "queue_trainer",
    "pydataset_trainer",
    "multiworker_training",
    "mirrored_training",
    "data_service",
    "separate_processes",
    "scorecard_in_sandbox",
    "measure_pipeline",
    "tfdata_pipeline",
    "fit_example3",
    # 03's example 3: its three pipelines interleaved, repeat by repeat in a rotated order, so
    # no pipeline always runs first; interleaving needs one call, so it counts as one study,
    # shown as one table of its pipelines.
    "fit_example3_rotated",
    "article_example3",
    "py_function_map",
    "generator_vs_slices",
    # 01b's backends.measure: one backend, measured in one fresh interpreter. Its variants share
    # that interpreter because each start costs 5-13 s (Keras and the backend import again), so
    # one backend measured counts as one study, shown as one table of its variants.
    "measure",
}
SEVERAL = {
    # one call runs several measurements: a study a cell means calling these from no cell
    "gil_comparison",
    "compare_variants",
    "best_of_each",
    "example3_runs",
    "gil_runs",
}


def _called_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def studies_in(source: str) -> int:
    """How many measurements a cell runs: calls of STUDIES count 1, of SEVERAL 2; calls inside
    a function or lambda the cell only defines count nothing (they run where it is called)."""
    tree = ast.parse(python_of(source))
    defined: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            defined |= {id(n) for n in ast.walk(node) if n is not node}
    names = [
        _called_name(n) for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) not in defined
    ]
    return sum(1 for n in names if n in STUDIES) + sum(2 for n in names if n in SEVERAL)


def builds_what_it_measures(source: str) -> bool:
    """Whether a cell calls ``fit``, writes a ``PyDataset`` or builds a ``tf.data`` pipeline."""
    tree = ast.parse(python_of(source))
    return any(
        (isinstance(n, ast.Call) and _called_name(n) == "fit")
        or (
            isinstance(n, ast.ClassDef)
            and any(ast.unparse(b).endswith("PyDataset") for b in n.bases)
        )
        or (isinstance(n, ast.Attribute) and ast.unparse(n).startswith("tf.data.Dataset"))
        for n in ast.walk(tree)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_measured_code_stands_in_cells(path: Path) -> None:
    assert any(
        builds_what_it_measures(c["text"]) for c in cells(path) if c["cell_type"] == "code"
    ), "no code cell calls fit or builds a pipeline"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_study_a_cell(path: Path) -> None:
    crowded = {
        i: studies_in(c["text"])
        for i, c in enumerate(cells(path))
        if c["cell_type"] == "code" and studies_in(c["text"]) > 1
    }
    assert crowded == {}, f"cells that run more than one study (index: studies): {crowded}"


def test_the_study_rules_count_what_runs() -> None:
    assert studies_in("with traced_fit() as t:\n    model.fit(batches(), epochs=1)") == 1
    assert studies_in("a = generator_fit()\nb = fit_in_sandbox()") == 2
    assert studies_in("tfdata.compare_variants(params)") == 2
    assert studies_in("runs = backends.measure('jax', code=code)") == 1
    assert studies_in("def f():\n    model.fit(x)\n\nprofiled(f, 'logs')") == 1
    assert studies_in("profiled(lambda: generator_fit(steps=3), 'logs')") == 1
    assert builds_what_it_measures("class B(keras.utils.PyDataset):\n    pass")
    assert builds_what_it_measures("ds = tf.data.Dataset.range(8).prefetch(2)")
    assert builds_what_it_measures("model.fit(batches(), steps_per_epoch=3)")
    assert not builds_what_it_measures("tfdata.compare_variants(params)")
