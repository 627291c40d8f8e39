"""Runs side by side: a chart of measured time against both bounds, a table, one reading."""

from __future__ import annotations

from typing import Any

from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.show.against import run_reading
from fitscope.show.charts import comparison

__all__ = ["Comparison"]


class Comparison(ShowsItself, dict):
    """Runs by label, shown as a chart of measured time against both bounds, a table, and the
    sentence that reads them (``reading``). It is a dict, so ``comparison["sleep"]`` is one run.

    ``extra`` adds a column: (its title, a function of the run giving the cell), or a list of
    such columns.

    Example:
        >>> from fitscope.instrument.throughput import Throughput
        >>> c = Comparison({"a": RunResult("a", throughput=Throughput(steps=4, elapsed_s=2.0))},
        ...                reading="One run, 2 steps/s.")
        >>> str(c), c["a"].throughput.steps_per_s
        ('One run, 2 steps/s.', 2.0)
    """

    def __init__(
        self,
        runs: dict[str, RunResult],
        reading: str = "",
        extra: tuple[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> None:
        super().__init__(runs)
        self.reading = reading
        self.extra: list[tuple[str, Any]] = (
            [] if extra is None else list(extra) if isinstance(extra, list) else [extra]
        )

    def table(self) -> Table:
        head = [
            "run",
            "steps",
            "measured s",
            "steps/s",
            "ideal (overlapped) s",
            "one after the other s",
        ]
        rows = []
        for label, r in self.items():
            b = r.bounds
            rows.append(
                [
                    label,
                    r.throughput.steps,
                    f"{r.throughput.elapsed_s:.2f}",
                    f"{r.throughput.steps_per_s:.1f}",
                    f"{b.overlapped_s:.2f}" if b else "",
                    f"{b.sequential_s:.2f}" if b else "",
                ]
                + [cell(r) for _, cell in self.extra]
            )
        return Table(head + [title for title, _ in self.extra], rows, reading=self.reading)

    def chart(self) -> Any:
        """Measured time against both bounds (overlapped, one after the other), per run, each
        read by its one :func:`~fitscope.show.against.run_reading`."""
        return comparison(
            [
                (
                    label,
                    r.throughput.elapsed_s,
                    r.bounds.overlapped_s if r.bounds else None,
                    r.bounds.sequential_s if r.bounds else None,
                )
                for label, r in self.items()
            ],
            readings=[run_reading(r) for r in self.values()],
        )

    def _repr_html_(self) -> str:
        return self.chart().html() + self.table()._repr_html_()

    def __repr__(self) -> str:
        return str(self)
