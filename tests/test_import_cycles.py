"""The package has no import cycle, lazy imports inside functions included (TYPE_CHECKING aside)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "helpers" / "fitscope"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The sibling modules ``path`` imports anywhere, except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    typing_only = {id(node) for n in ast.walk(tree)
                   if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                   for part in n.body for node in ast.walk(part)}
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level == 1 and id(n) not in typing_only:
            found |= {n.module.split(".")[0]} if n.module else {a.name for a in n.names}
    return found & modules


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules, or [] when there is none."""
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> list[str]:
        state[m] = 1
        for nxt in sorted(graph[m]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[m] = 2
        return []

    for m in sorted(graph):
        if m not in state and (found := visit(m, [m])):
            return found
    return []


def test_the_package_has_no_import_cycle() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {p.stem: imports_of(p, modules) - {p.stem} for p in PACKAGE.glob("*.py")}
    assert cycle(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []
