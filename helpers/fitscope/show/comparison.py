"""Runs side by side: a chart of measured time against both bounds, a table, one reading."""

from __future__ import annotations

from typing import Any

from fitscope.instrument.printed import MEASURED_S, STEPS_PER_S, figure, quantity_fact
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.show.against import run_reading
from fitscope.show.charts import comparison

__all__ = ["Comparison"]


class Comparison(ShowsItself, dict):
    """Runs by label, shown as a chart of measured time against both bounds, a table, and the
    sentence that reads them (``reading``). It is a dict, so ``comparison["sleep"]`` is one run.

    ``extra`` adds a column: (its title, a function of the run giving the cell[, the quantity
    the cell prints, a name of :mod:`fitscope.instrument.printed`]), or a list of such columns.
    Each run's measured time and steps/s, and every extra cell that names its quantity, are also
    hidden facts of that run, as printed.

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
        extra: tuple[Any, ...] | list[tuple[Any, ...]] | None = None,
    ) -> None:
        super().__init__(runs)
        self.reading = reading
        self.extra: list[tuple[Any, ...]] = (
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
        rows, facts = [], []
        for label, r in self.items():
            b = r.bounds
            measured, rate = figure(r.throughput.elapsed_s), f"{r.throughput.steps_per_s:.1f}"
            extra = [(column[1](r), column[2:]) for column in self.extra]
            rows.append(
                [
                    label,
                    r.throughput.steps,
                    measured,
                    rate,
                    figure(b.overlapped_s) if b else "",
                    figure(b.sequential_s) if b else "",
                ]
                + [cell for cell, _ in extra]
            )
            said = [(MEASURED_S, f"{measured} s"), (STEPS_PER_S, f"{rate} steps/s")]
            said += [(named[0], cell) for cell, named in extra if named]
            facts += [quantity_fact(r.run_id, q, printed) for q, printed in said]
        titles = [column[0] for column in self.extra]
        return Table(head + titles, rows, reading=self.reading, facts=facts)

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
