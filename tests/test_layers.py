"""fitscope's layers import only downward, and no lesson imports another lesson.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:``. A module
of a layer may import its own layer and the layers below it; modules at the package's top
(``fitscope/*.py``, and the subpackages named in ``TOP``) may import anything; ``lessons.<one>`` may
import only itself among the lessons. Every subpackage is placed: one that is in neither ``LAYERS``
nor ``TOP`` fails, so a new one cannot slip in "on top" unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "helpers" / "fitscope"
LAYERS = (
    "instrument",
    "core",
    "workloads",
    "isolation",
    "verdicts",
    "show",
    "experiments",
    "lessons",
)
TOP = ("diagnose",)
LESSONS = "lessons"
# What diagnose, the product a user runs on their own training, must never pull in.
NOT_IN_DIAGNOSE = ("fitscope.lessons", "fitscope.isolation", "fitscope.show.panels")


def module_name(path: Path, root: Path) -> str:
    """``root/a/b.py`` → ``pkg.a.b`` (``__init__`` names its package), with ``pkg`` = root's
    name."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([root.name, *parts])


def imported(path: Path, root: Path, known: set[str]) -> set[str]:
    """The package's own modules that ``path`` imports anywhere (absolute or relative)."""
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = (
                (node.module or "")
                if node.level == 0
                else ".".join(
                    package[: len(package) - node.level + 1]
                    + ([node.module] if node.module else [])
                )
            )
            found |= {
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            }
    return {m for m in found if m == root.name or m.startswith(root.name + ".")}


def place(module: str, root_name: str, layers: tuple[str, ...]) -> tuple[int, str]:
    """(rank, unit): the layer's index (top = len(layers)), and the lesson a module belongs to."""
    parts = module.split(".")[1:]
    if parts and parts[0] in layers:
        unit = ".".join(parts[:2]) if parts[0] == LESSONS and len(parts) > 1 else parts[0]
        return layers.index(parts[0]), unit
    return len(layers), "top"


def violations(root: Path, layers: tuple[str, ...] = LAYERS) -> list[str]:
    """Each import that goes up a layer or from one lesson to another, as one sentence."""
    known = {module_name(p, root) for p in root.rglob("*.py")}
    out = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        rank, unit = place(me, root.name, layers)
        for target in sorted(imported(path, root, known)):
            t_rank, t_unit = place(target, root.name, layers)
            if t_rank > rank:
                out.append(f"{me} imports {target}, a higher layer")
            elif (
                unit.startswith(LESSONS + ".")
                and t_unit.startswith(LESSONS + ".")
                and unit != t_unit
            ):
                out.append(f"{me} imports {target}, another lesson")
    return out


def test_fitscope_imports_only_downward() -> None:
    assert violations(PACKAGE) == []


def unplaced(root: Path, layers: tuple[str, ...] = LAYERS, top: tuple[str, ...] = TOP) -> set[str]:
    """Subpackages of ``root`` that are neither a layer nor named as on top."""
    return {p.parent.name for p in root.glob("*/__init__.py")} - set(layers) - set(top)


def test_every_subpackage_is_a_layer_or_on_top() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(LAYERS) | set(TOP) <= subpackages
    assert unplaced(PACKAGE) == set()


def test_an_unknown_subpackage_is_caught(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {"__init__.py": "", "instrument/__init__.py": "", "newthing/__init__.py": ""},
    )
    assert unplaced(pkg, ("instrument",), ()) == {"newthing"}


def closure(root: Path, start: str) -> set[str]:
    """Every module of the package that importing ``start``'s modules imports, transitively
    (a module's parent packages count: importing ``a.b`` runs ``a/__init__``)."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    seen: set[str] = set()
    todo = [m for m in files if m == start or m.startswith(start + ".")]
    while todo:
        me = todo.pop()
        if me in seen or me not in files:
            continue
        seen.add(me)
        parts = me.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += imported(files[me], root, set(files))
    return seen


def test_diagnose_imports_no_lesson_sandbox_or_panel() -> None:
    reached = closure(PACKAGE, "fitscope.diagnose")
    assert "fitscope.diagnose.cli" in reached
    assert sorted(m for m in reached if m.startswith(NOT_IN_DIAGNOSE)) == []


def test_a_lesson_reached_from_diagnose_is_caught(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "diagnose/__init__.py": "from pkg.diagnose import run\n",
            "diagnose/run.py": "def f():\n    from pkg.instrument import labels\n",
            "instrument/__init__.py": "",
            "instrument/labels.py": "from pkg.lessons.a import runs\n",
            "lessons/__init__.py": "",
            "lessons/a/__init__.py": "",
            "lessons/a/runs.py": "",
        },
    )
    assert "pkg.lessons.a.runs" in closure(pkg, "pkg.diagnose")


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "instrument/__init__.py": "",
            "show/__init__.py": "",
            "lessons/__init__.py": "",
            "lessons/a/__init__.py": "",
            "lessons/b.py": "",
            "show/charts.py": "from pkg.instrument import clock\n",
            "instrument/clock.py": "def tick():\n    from ..show import charts\n",
            "lessons/a/one.py": "from pkg.lessons import b\nfrom . import two\n",
            "lessons/a/two.py": "",
            "cli.py": "from pkg.lessons.a import one\n",
        },
    )
    layers = ("instrument", "show", "lessons")
    assert violations(pkg, layers) == [
        "pkg.instrument.clock imports pkg.show.charts, a higher layer",
        "pkg.lessons.a.one imports pkg.lessons.b, another lesson",
    ]


def test_imports_for_type_checking_count(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "instrument/__init__.py": "",
            "show/__init__.py": "",
            "instrument/result.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from pkg.show.charts import Chart\n",
            "show/charts.py": "",
        },
    )
    assert violations(pkg, ("instrument", "show")) == [
        "pkg.instrument.result imports pkg.show.charts, a higher layer"
    ]


UI_LIBRARIES = ("IPython", "ipywidgets", "matplotlib")


def ui_imports(root: Path, home: str = "show") -> list[str]:
    """Modules below ``home``'s layer that import a UI library (IPython, ipywidgets, matplotlib)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        rank, _ = place(me, root.name, LAYERS)
        if rank >= LAYERS.index(home):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            out += [f"{me} imports {n}" for n in names if n.split(".")[0] in UI_LIBRARIES]
    return out


def test_only_show_and_above_import_ui_libraries() -> None:
    assert ui_imports(PACKAGE) == []


def test_a_ui_import_below_show_is_caught(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "",
            "instrument/__init__.py": "",
            "instrument/x.py": "def f():\n    import matplotlib.pyplot\n",
        },
    )
    assert ui_imports(pkg) == ["pkg.instrument.x imports matplotlib.pyplot"]
