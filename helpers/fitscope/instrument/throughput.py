"""Throughput: steps/s and samples/s over time, from the times steps ended.

Example:
    >>> t = throughput_from_ends([1_000_000_000 + i * 10_000_000 for i in range(1, 101)],
    ...                          samples_per_step=32, start_ns=1_000_000_000)
    >>> round(t.steps_per_s)
    100
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Throughput", "throughput_from_ends"]


@dataclass
class Throughput:
    """Rates over a run: a series (one point per window) and the whole-run figures."""

    t_s: list[float] = field(default_factory=list)
    steps_per_s_series: list[float] = field(default_factory=list)
    steps: int = 0
    elapsed_s: float = 0.0
    samples_per_step: int = 1

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def samples_per_s(self) -> float:
        return self.steps_per_s * self.samples_per_step


def throughput_from_ends(
    end_ns: Sequence[int], samples_per_step: int, start_ns: int, window_s: float = 0.25
) -> Throughput:
    """Rates from step end times (perf_counter_ns), measured from ``start_ns`` to the last step.

    The series counts the steps that ended in each ``window_s`` window (last window partial).
    """
    if not end_ns:
        return Throughput(samples_per_step=samples_per_step)
    elapsed = (end_ns[-1] - start_ns) / 1e9
    n_windows = max(1, int(elapsed / window_s + 0.999999))
    counts = [0] * n_windows
    for end in end_ns:
        counts[min(int((end - start_ns) / 1e9 / window_s), n_windows - 1)] += 1
    widths = [window_s] * (n_windows - 1) + [elapsed - window_s * (n_windows - 1) or window_s]
    return Throughput(
        t_s=[window_s * (i + 1) if i < n_windows - 1 else elapsed for i in range(n_windows)],
        steps_per_s_series=[c / w if w > 0 else 0.0 for c, w in zip(counts, widths)],
        steps=len(end_ns),
        elapsed_s=elapsed,
        samples_per_step=samples_per_step,
    )
