"""One quantity, one number: a quantity of one run printed twice in a notebook with two values.

A notebook measures a per-step quantity once (the step in fit, the step alone, the input share,
the cores busy) and prints it with one value wherever it names it. Two printings are one value
when they can be one number rounded twice: each printed value stands for the interval its last
digit allows (``26.8 ms`` for 26.75 to 26.85 ms), and two values whose intervals overlap, in the
same unit or a time in another (``0.0268 s``), are the same; ``26.8 ms`` against ``27 ms`` is
rounding, against ``24.7 ms`` it is two values.

"The same quantity of the same run" is found three ways, none by guessing from prose:

- within one displayed result (one cell output holding one ``quantity | measured`` table, so one
  run): the table's row against the exact phrases fitscope prints for the same figure in that
  output's readings (:data:`ONE_RUN`; :func:`check_one_run`);
- across a notebook, machine-readable facts of kind ``quantity`` that name their run (its
  ``run_id``) and quantity (:func:`quantity_fact`, one name each: :data:`STEPS_PER_S`,
  :data:`CORES_BUSY`, :func:`role_cpu` ..., defined in :mod:`fitscope.instrument.printed`, where
  a run's own table can reach them; :func:`check_quantity_facts`): the route for a figure a
  chart, a table and a later cell print of one run;
- across a notebook, a reference the notebook compares against (a baseline, a step alone, one
  device), labelled with a colon (:func:`check_references`).

Different quantities (a step in fit and a step alone), different runs (two pipelines, two
outputs of two diagnoses) and different notebooks (quick and default mode) are never compared.

Example:
    >>> same_value("26.8 ms", "27 ms"), same_value("26.8 ms", "0.0268 s")
    (True, True)
    >>> same_value("12.3 ms", "14.1 ms"), same_value("50%", "0.5")
    (False, False)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fitscope.instrument.printed import CORES_BUSY, QUANTITY, STEPS_PER_S, quantity_fact

__all__ = [
    "ONE_RUN",
    "ROW",
    "check_one_run",
    "check_quantity_facts",
    "check_references",
    "one_run_readings",
    "quantity_fact",
    "same_value",
    "sentences",
]

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_UNIT = r"steps/s|ms|µs|s|MB|%"
_PRINTED = re.compile(rf"^\s*(?P<n>{_NUMBER}) ?(?P<u>{_UNIT})?(?![\w/])")
_SECONDS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6}


def _interval(printed: str) -> tuple[float, float, str] | None:
    """(value, half its last digit, unit) of a printed value such as '26.8 ms', or None."""
    m = _PRINTED.match(printed)
    if not m:
        return None
    number, unit = m.group("n").replace(",", ""), m.group("u") or ""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    scale = _SECONDS.get(unit, 1.0)
    return float(number) * scale, half * scale, "s" if unit in _SECONDS else unit


def same_value(a: str, b: str) -> bool:
    """Whether two printed values can be one number rounded twice (their last digits' intervals
    overlap); values in two units that are not both times are never the same."""
    first, second = _interval(a), _interval(b)
    if first is None or second is None or first[2] != second[2]:
        return False
    (x, hx, _), (y, hy, _) = first, second
    return abs(x - y) <= hx + hy + 1e-9 * max(abs(x), abs(y))


def _value(pattern: str) -> str:
    return pattern.replace("V", rf"(?P<v>(?:{_NUMBER}) ?(?:{_UNIT})?)")


ONE_RUN: dict[str, tuple[str, tuple[str, ...]]] = {
    # quantity: (its row in a result's "quantity | measured" table, the phrases that say it)
    "step in fit": (
        "step in fit: median (repeats)",
        ("a step took V in fit", r"a step instead of V \(", r"is no better than now \(V\)"),
    ),
    "step alone": ("step alone, batch in memory", ("in fit against V with its batch held in",)),
    "step alone, the pipeline beside it": (
        "step alone, your pipeline beside it, held between alone and in fit",
        (r"\(V a step alone with your pipeline running beside it\)",),
    ),
    "input share": ("input share: median (repeats)", ("the input share was V",)),
    "waiting share": ("waiting for the next batch: median (repeats)", (r"V waiting for the next",)),
    "contention share": (
        "contention, the step slowed by data work: median (repeats)",
        (
            "V contention, the step slowed",
            "sharing the CPU with it: V of a step in fit",
            r"the step in fit less its V\)",
        ),
    ),
    "one batch made alone": ("one batch made alone", ("at V a batch;",)),
    CORES_BUSY: ("cores busy during training", ("training kept V cores busy",)),
    STEPS_PER_S: ("throughput", ("cores busy at V",)),
}
"""The quantities a result prints in its table and again in its sentences, with fitscope's own
words for each: a table row's value is the first figure in its cell (a median, before its
repeats)."""

ROW = {q: row for q, (row, _) in ONE_RUN.items()}
"""Each quantity's row in a result's table: the one spelling every table that prints it uses.

Example:
    >>> ROW["step in fit"]
    'step in fit: median (repeats)'
"""

_PHRASES = [(q, re.compile(_value(p))) for q, (_, ps) in ONE_RUN.items() for p in ps]
_ROWS = {row: q for q, row in ROW.items()}
_KV_TABLE = re.compile(
    r"<table><thead><tr><th>quantity</th><th>measured</th></tr></thead>(.*?)</table>", re.S
)
_ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", re.S)


@dataclass(frozen=True)
class _Said:
    quantity: str
    value: str
    place: str


def _problem(quantity: str, a: _Said, b: _Said, what: str = "one run") -> str:
    return (
        f"'{quantity}' of {what} printed as {a.value} ({a.place}) and {b.value} ({b.place}): "
        "one quantity, two values"
    )


def _first_apart(said: Iterable[_Said], what: str = "one run") -> list[str]:
    """A problem for each quantity said with a value beyond rounding of its first value."""
    first: dict[str, _Said] = {}
    problems = []
    for s in said:
        seen = first.setdefault(s.quantity, s)
        if not same_value(seen.value, s.value):
            problems.append(_problem(s.quantity, seen, s, what))
    return list(dict.fromkeys(problems))


def one_run_readings(page: str, words: str) -> list[tuple[str, str, str]]:
    """(quantity, value as printed, where in the output) for each figure of :data:`ONE_RUN` one
    displayed result prints: ``page`` is one output's HTML and ``words`` its text
    (:func:`fitscope.verdicts.consistency._html_text`). Only an output with exactly one
    ``quantity | measured`` table is one run; one with none or several gives nothing."""
    tables = _KV_TABLE.findall(page)
    if len(tables) != 1:
        return []
    said, rows = [], set()
    for label, cell in _ROW.findall(tables[0]):
        row = html.unescape(label).strip()
        rows.add(row)
        if (quantity := _ROWS.get(row)) and (m := _PRINTED.match(html.unescape(cell))):
            said.append((quantity, m.group(0).strip(), f"its table's '{row}'"))
    prose = "\n".join(line for line in words.split("\n") if line.strip() not in rows)
    for quantity, phrase in _PHRASES:
        for m in phrase.finditer(prose):
            said.append((quantity, m.group("v").strip(), f"its reading: '{m.group(0)}'"))
    return said


def check_one_run(page: str, words: str) -> list[str]:
    """One displayed result's quantities against themselves (:func:`one_run_readings`): a
    problem for each said with a value beyond rounding of the first time it is said.

    Example:
        >>> page = ("<table><thead><tr><th>quantity</th><th>measured</th></tr></thead><tbody>"
        ...         "<tr><td>input share: median (repeats)</td><td>50% (61%, 50%)</td></tr>"
        ...         "</tbody></table><p>…, and the input share was 45% (medians of 2 …)</p>")
        >>> check_one_run(page, "…, and the input share was 45% (medians of 2 …)")[0]
        "'input share' of one run printed as 50% (its table's 'input share: median (repeats)') \
and 45% (its reading: 'the input share was 45%'): one quantity, two values"
    """
    return _first_apart(_Said(*r) for r in one_run_readings(page, words))


def check_quantity_facts(facts: Iterable[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """(where, problem) for each quantity of one run whose facts, across a notebook, give two
    values beyond rounding; ``facts`` are (where, facts) pairs, facts of other kinds ignored.

    Example:
        >>> check_quantity_facts([("cell 3", quantity_fact("a", "main CPU", "0.37 s")),
        ...                       ("cell 5", quantity_fact("a", "main CPU", "0.08 s")),
        ...                       ("cell 7", quantity_fact("b", "main CPU", "0.41 s"))])
        [('cell 3 and cell 5', "'main CPU' of run 'a' printed as 0.37 s (cell 3) and 0.08 s \
(cell 5): one quantity, two values")]
    """
    first: dict[tuple[str, str], tuple[str, str]] = {}
    problems = []
    for where, f in facts:
        if f.get("kind") != QUANTITY:
            continue
        key = (str(f["run"]), str(f["quantity"]))
        seen = first.setdefault(key, (where, str(f["printed"])))
        if not same_value(seen[1], str(f["printed"])):
            a, b = _Said(key[1], seen[1], seen[0]), _Said(key[1], str(f["printed"]), where)
            problems.append((f"{seen[0]} and {where}", _problem(key[1], a, b, f"run '{key[0]}'")))
    return list(dict.fromkeys(problems))


_QUANTITY = re.compile(
    r"(?:^|[.;,(]\s*)(?P<label>[A-Za-z][\w'-]*(?: [\w'+-]+){1,5}): (?P<value>\d+(?:\.\d+)?) ?"
    r"(?P<unit>steps/s|ms|s|MB)\b",
    re.M,
)
_CONTEXT = re.compile(r"\b(TensorFlow|JAX|PyTorch)\b")
_REFERENCE = re.compile(r"\b(baseline|alone|one[- ]device|reference)\b", re.I)
"""Quantities a notebook measures once and compares against (a run of other work may differ)."""


def sentences(text: str) -> list[str]:
    """A reading's sentences and lines."""
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])|\n+", text) if s.strip()]


def check_references(texts: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(where, problem) for a reference printed twice with two values beyond rounding, across
    one notebook's outputs: a label of two to six words naming a baseline, a step alone, one
    device, a colon, a number and a unit (steps/s, ms, s, MB), told apart by the backend its
    sentence names last before it; ``texts`` are (where, text) pairs. Other labelled numbers
    may come from runs of other work, so they are left alone.

    Example:
        >>> check_references([("cell 3", "one-device baseline: 63.7 steps/s."),
        ...                   ("cell 5", "one-device baseline: 75.7 steps/s.")])[0][1]
        "'one-device baseline' printed as 63.7 steps/s (cell 3) and 75.7 steps/s (cell 5): one \
quantity, two values; one baseline with its spread, or say it moved"
    """
    seen: dict[tuple[str, str, str], tuple[str, str]] = {}
    problems = []
    for where, text in texts:
        for sentence in sentences(text):
            for m in _QUANTITY.finditer(sentence):
                if not _REFERENCE.search(m.group("label")):
                    continue
                named = [c.group(1) for c in _CONTEXT.finditer(sentence, 0, m.start("label"))]
                context = named[-1] if named else ""  # the backend named last before it
                unit = m.group("unit")
                key = (context, m.group("label").lower(), unit)
                first = seen.setdefault(key, (m.group("value"), where))
                if not same_value(f"{first[0]} {unit}", f"{m.group('value')} {unit}"):
                    problems.append(
                        (
                            f"{first[1]} and {where}",
                            f"'{m.group('label')}' printed as {first[0]} {unit} ({first[1]}) "
                            f"and {m.group('value')} {unit} ({where}): one quantity, two values; "
                            "one baseline with its spread, or say it moved",
                        )
                    )
    return list(dict.fromkeys(problems))
