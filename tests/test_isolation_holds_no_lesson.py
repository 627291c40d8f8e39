"""fitscope.isolation runs and measures scripts; it holds no lesson code.

A module under ``helpers/fitscope/isolation/`` that builds a Keras model or calls ``fit`` is
lesson code: the script it belongs to stands in a notebook's ``%%writefile`` cell, where the
learner reads it, and the package only launches that file and measures it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ISOLATION = Path(__file__).resolve().parents[1] / "helpers" / "fitscope" / "isolation"
BUILDERS = ("keras.Sequential", "keras.Model", "keras.layers.")


def lesson_code_in(source: str) -> list[str]:
    """Where ``source`` builds a Keras model (a call, or a class derived from one) or trains one
    with ``fit``, in the order of the lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            found += [(node.lineno, f"class {node.name}({b})") for b in bases if b in BUILDERS]
        elif isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called.endswith(".fit") or called.startswith(BUILDERS):
                found.append((node.lineno, f"{called}(…)"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_isolation_holds_no_lesson_code() -> None:
    found = {
        path.relative_to(ISOLATION).as_posix(): calls
        for path in sorted(ISOLATION.rglob("*.py"))
        if (calls := lesson_code_in(path.read_text()))
    }
    assert found == {}, f"modules of fitscope.isolation that build or fit a model: {found}"


def test_a_made_up_module_that_builds_and_fits_a_model_is_found() -> None:
    made_up = (
        "import keras\n"
        "def train(x, y):\n"
        "    model = keras.Sequential([keras.layers.Dense(1)])\n"
        "    model.fit(x, y)\n"
        "class Net(keras.Model): pass\n"
        "net = keras.Model(inputs=None, outputs=None)\n"
    )
    assert lesson_code_in(made_up) == [
        "line 3: keras.Sequential(…)",
        "line 3: keras.layers.Dense(…)",
        "line 4: model.fit(…)",
        "line 5: class Net(keras.Model)",
        "line 6: keras.Model(…)",
    ]
    assert lesson_code_in("from fitscope.isolation import report\nreport(steps=1)\n") == []
