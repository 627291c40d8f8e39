"""How a result shows itself: a table (or a chart) and its one-sentence reading.

Every result a notebook cell produces is the cell's value and renders itself: in JupyterLab as
HTML (``_repr_html_``), in a log or a terminal as one line (``__str__``), and never as a Python
repr. The pieces:

- :class:`Table`: columns, rows, a title and the sentence that reads them.
- :class:`ShowsItself`: a mixin; a class that can make its :class:`Table` (``table()``) gets
  ``_repr_html_``, a one-line ``__str__`` and a plain-text ``text()`` from it.
- :class:`Stack`: several displayable parts (charts, tables, verdicts) as one cell value.

Example:
    >>> t = Table(["thread role", "next() calls"], [["main", 2], ["tf.data", 598]],
    ...           reading="After the first 2 calls, tf.data's threads called next().")
    >>> str(t)
    "After the first 2 calls, tf.data's threads called next()."
    >>> "<table" in t._repr_html_()
    True
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FACTS_CLASS",
    "Table",
    "ShowsItself",
    "Stack",
    "facts_html",
    "html_table",
    "text_table",
    "fmt",
]


def fmt(value: Any) -> str:
    """A cell's text: floats with 3 significant digits, dicts as ``key: value`` pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return "" if value is None else str(value)


def html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table, every cell escaped.

    Example:
        >>> html_table(["a"], [[1.5]])
        '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1.5</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 100) -> str:
    """A plain-text table with aligned columns, each line cut at ``width`` characters.

    Example:
        >>> print(text_table(["role", "calls"], [["main", 2]]))
        role  calls
        main  2
    """
    cells = [[str(c) for c in columns]] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(line[:width] for line in lines)


FACTS_CLASS = "fitscope-facts"
"""The class of the hidden JSON block a result may carry in its HTML: its numbers and words, so
a saved notebook can be checked (``fitscope.verdicts.consistency``)."""


def facts_html(facts: Sequence[dict[str, Any]]) -> str:
    """Machine-readable facts as an inert JSON block (empty when there are none).

    Example:
        >>> facts_html([{"kind": "comparison", "word": "faster"}])
        '<script type="application/json" class="fitscope-facts">[{"kind": "comparison", \
"word": "faster"}]</script>'
    """
    if not facts:
        return ""
    text = json.dumps(list(facts), default=str).replace("</", "<\\/")
    return f'<script type="application/json" class="{FACTS_CLASS}">{text}</script>'


@dataclass(frozen=True)
class Table:
    """Rows under named columns, with the sentence that reads them (``reading``); ``facts``
    (optional) are the numbers the reading came from, carried hidden in the HTML."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    reading: str = ""
    title: str = ""
    facts: Sequence[dict[str, Any]] = ()

    def _repr_html_(self) -> str:
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        reading = f"<p>{html.escape(self.reading)}</p>" if self.reading else ""
        return title + html_table(self.columns, self.rows) + reading + facts_html(self.facts)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())

    def __str__(self) -> str:
        return self.reading or self.title or f"a table of {len(self.rows)} row(s)"

    def text(self, width: int = 100) -> str:
        """Title, table and reading as plain text (for a terminal)."""
        parts = [self.title] if self.title else []
        parts.append(text_table(self.columns, self.rows, width))
        if self.reading:
            parts.append(self.reading)
        return "\n".join(parts)


class ShowsItself:
    """Mixin: define ``table()`` (a :class:`Table`) and the object shows itself as that table.

    Example:
        >>> class Speed(ShowsItself):
        ...     def table(self):
        ...         return Table(["steps/s"], [[12.5]], reading="12.5 steps/s were measured.")
        >>> str(Speed())
        '12.5 steps/s were measured.'
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython prefers a __repr__ in the class itself (a dataclass writes one) over an
        # inherited _repr_pretty_: so every subclass carries its own, and shows its sentence.
        cls._repr_pretty_ = ShowsItself._repr_pretty_  # type: ignore[method-assign]  # on purpose

    def table(self) -> Table:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return str(self.table())

    def text(self, width: int = 100) -> str:
        return self.table().text(width)


def _html_of(part: Any) -> str:
    if hasattr(part, "html"):  # a chart: its PNG inline, then its summary
        return str(part.html())
    if hasattr(part, "_repr_html_"):
        return str(part._repr_html_())
    return f"<p>{html.escape(str(part))}</p>"


@dataclass
class Stack:
    """Several parts (charts, tables, verdicts, sentences) shown one under the other as one value.

    Example:
        >>> s = Stack([Table(["x"], [[1]], reading="One row.")], reading="All read.")
        >>> str(s)
        'All read.'
    """

    parts: Sequence[Any]
    reading: str = ""

    def _repr_html_(self) -> str:
        tail = f"<p>{html.escape(self.reading)}</p>" if self.reading else ""
        return "".join(_html_of(p) for p in self.parts) + tail

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(
            "\n".join(str(x) for x in self.parts) + (f"\n{self.reading}" if self.reading else "")
        )

    def __str__(self) -> str:
        return self.reading or "; ".join(str(p) for p in self.parts)
