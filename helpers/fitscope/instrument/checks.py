"""What must hold on any machine, checked by a notebook cell: a table, or an error naming the miss.

A notebook may assert only what holds whatever the core count or the load. Results that have
such facts offer ``must_hold()``, which returns :class:`Checks`: it shows itself as a table of
each check with its outcome, and raises ``AssertionError`` naming every check that failed.

Example:
    >>> str(Checks([("no process survived", True), ("the parent's model is unchanged", True)]))
    'All 2 checks held.'
"""

from __future__ import annotations

from collections.abc import Sequence

from fitscope.instrument.tables import ShowsItself, Table

__all__ = ["Checks"]


class Checks(ShowsItself):
    """(sentence, held) pairs; raises ``AssertionError`` on construction if any did not hold."""

    def __init__(self, checks: Sequence[tuple[str, bool]]) -> None:
        self.checks = [(text, bool(ok)) for text, ok in checks]
        if failed := [text for text, ok in self.checks if not ok]:
            raise AssertionError("must hold on any machine, but did not: " + "; ".join(failed))

    def table(self) -> Table:
        return Table(
            ("must hold on any machine", "held"),
            self.checks,
            reading=f"All {len(self.checks)} checks held.",
        )
