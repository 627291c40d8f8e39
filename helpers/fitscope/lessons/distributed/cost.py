"""What notebook 04's runs cost this machine, saying which runs are counted.

Example:
    >>> from fitscope.instrument.tables import Stack
    >>> counted([Stack([], reading="The separate-processes mode was not run: quick mode.")])
    ([], ['The separate-processes mode was not run: quick mode.'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Stack
from fitscope.isolation import cost_of

__all__ = ["counted", "notebook_cost"]


def counted(runs: Sequence[Any]) -> tuple[list[RunResult], list[str]]:
    """The runs that ran, and for each one that did not (a sentence saying why), that sentence."""
    ran = [r for r in runs if isinstance(r, RunResult)]
    return ran, [str(getattr(r, "reading", r)) for r in runs if not isinstance(r, RunResult)]


def notebook_cost(*runs: Any) -> Stack:
    """:func:`fitscope.isolation.cost_of` over the runs given, and which runs that is: those
    that ran are counted by name; one that did not run (the separate-processes mode outside
    its conditions) is named with its reason; runs made later (exercises, the panel) are not
    counted unless given."""
    ran, not_run = counted(runs)
    cost = cost_of(*ran)
    reading = (
        f"Counted: the {len(ran)} run(s) given "
        f"({'; '.join(r.name for r in ran)})."
        + (f" Not counted, as it did not run: {' '.join(not_run)}" if not_run else "")
        + " Runs made after this cell (the exercises, the panel) are not counted: pass them "
        "too to include them."
    )
    return Stack(list(cost.parts), reading=reading)
