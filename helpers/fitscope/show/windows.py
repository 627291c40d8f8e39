"""The one window every "during training" figure of a run reads (no drawing library imported).

Example:
    >>> from fitscope.instrument.result import RunResult
    >>> from fitscope.instrument.tracing import Span
    >>> r = RunResult("r", spans=[Span(f"{i}", "train", 10 * i, 10 * i + 5, 1) for i in range(3)])
    >>> training_windows(r)
    [(10, 15), (20, 25)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fitscope.instrument.result import RunResult

__all__ = ["training_windows"]


def training_windows(result: RunResult) -> list[tuple[int, int]]:
    """A run's train steps after the first (the first traces the graph; steps/s count from its
    end), with the panel's drawing cut out: the window of CPU seconds, shares and cores busy in
    the tables, the verdicts and the CPU chart alike, so one run prints one value for each."""
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    warm = steps[0].end_ns if steps else 0
    return [(a, b) for a, b in result.windows("train", leave_out="ui") if a >= warm]
