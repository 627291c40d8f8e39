"""Figures of a run: throughput against both bounds, comparisons, class results.

Thread timelines are in :mod:`fitscope.show.timelines`, CPU by thread in
:mod:`fitscope.show.cpu_charts`, colours and :class:`Chart` in :mod:`fitscope.show.palette` (all
also importable from here). Every axis carries its unit,
legends sit outside the data, and every figure comes with a one-line text summary for readers
who cannot see it. Every chart of a run against its bounds draws both: the ideal (overlapped)
bound and one after the other (no overlap).

Example:
    >>> from fitscope.instrument.result import RunResult
    >>> chart = throughput(RunResult(name="empty"))
    >>> chart.summary.startswith("Throughput")
    True
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from fitscope.instrument.printed import STEPS_PER_S, quantity_fact
from fitscope.show.against import AgainstBounds
from fitscope.show.cpu_charts import cpu_by_thread
from fitscope.show.palette import (
    CATEGORY_COLOURS,
    OKABE_ITO,
    OTHER_COLOUR,
    ROLE_COLOURS,
    Chart,
    set_title,
)
from fitscope.show.timelines import pipeline_timeline, timeline
from fitscope.verdicts.compare import TIME_UNITS, figure

if TYPE_CHECKING:  # plots draws results; result.Comparison draws with plots
    from matplotlib.axes import Axes

    from fitscope.instrument.result import RunResult

__all__ = [
    "class_results",
    "OKABE_ITO",
    "CATEGORY_COLOURS",
    "ROLE_COLOURS",
    "OTHER_COLOUR",
    "Chart",
    "timeline",
    "cpu_by_thread",
    "throughput",
    "throughput_figure",
    "rate_windows",
    "comparison",
    "pipeline_timeline",
]

MEASURED, IDEAL, SEQUENTIAL = OKABE_ITO["blue"], OKABE_ITO["bluish green"], OKABE_ITO["vermillion"]


def rate_windows(ends_s: Sequence[float], windows: int = 10) -> tuple[list[float], list[float]]:
    """(window end, steps/s) over ``windows`` equal runs of steps, from step end times in s.

    Example:
        >>> rate_windows([0.0, 0.1, 0.2, 0.3, 0.4], windows=2)
        ([0.2, 0.4], [10.0, 10.0])
    """
    if len(ends_s) < 2:
        return [], []
    n = min(windows, len(ends_s) - 1)
    idx = [round(i * (len(ends_s) - 1) / n) for i in range(n + 1)]
    return (
        [ends_s[j] for j in idx[1:]],
        [(j - i) / max(ends_s[j] - ends_s[i], 1e-9) for i, j in zip(idx, idx[1:])],
    )


def throughput_figure(
    t_s: Sequence[float],
    rate: Sequence[float],
    bound_rate: float | None,
    sequential_rate: float | None = None,
    title: str = "Throughput",
    unit: str = "steps/s",
    size: tuple[float, float] = (8, 3.2),
) -> Figure:
    """Rate over time with the ideal (overlapped) bound and the sequential rate drawn as lines.

    Time counts from the end of the warm-up step; the legend sits to the right of the axes. The
    measured line is ``axes[0].lines[0]``, so a live view can update it in place.
    """
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t_s, rate, color=MEASURED, marker="o", ms=3, label="measured")
    if bound_rate:
        ax.axhline(
            bound_rate, color=IDEAL, ls="--", label=f"ideal, overlapped\n({bound_rate:.0f} {unit})"
        )
    if sequential_rate:
        ax.axhline(
            sequential_rate,
            color=SEQUENTIAL,
            ls=":",
            label=f"one after the other\n({sequential_rate:.0f} {unit})",
        )
    ax.set_xlabel("time since the warm-up step ended (s)")
    ax.set_ylabel(unit)
    fit_axes(ax, t_s, [*rate, bound_rate or 0, sequential_rate or 0])
    set_title(ax, title, size[0] * 0.7)
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def fit_axes(ax: Axes, t_s: Sequence[float], values: Sequence[float]) -> None:
    """y from 0 to a little above the largest value or bound; x over the times given."""
    ax.set_ylim(0, 1.15 * max((v for v in values if v), default=1.0))
    if t_s:
        ax.set_xlim(0, max(t_s) * 1.03)


def throughput(result: RunResult) -> Chart:
    """Steps/s over the run against both bounds of ``result.bounds``; the steps/s the summary
    prints is also a hidden fact of the run."""
    tp = result.throughput
    bound, seq = result.bound_steps_per_s or (None, None)
    t, rate = tp.t_s, tp.steps_per_s_series
    ends = sorted(s.end_ns for s in result.spans_of("train"))
    if len(t) < 5 and len(ends) >= 4:  # a short run: ten windows of steps instead of fixed times
        t, rate = rate_windows([(e - ends[0]) / 1e9 for e in ends[1:]])
    fig = throughput_figure(t, rate, bound, seq, title=f"Throughput: {result.name}")
    if not tp.steps:
        return Chart(fig, "Throughput: no steps were measured.")
    rate_said = f"{tp.steps_per_s:.1f} steps/s"
    facts = [quantity_fact(result.run_id, STEPS_PER_S, rate_said)]
    text = f"Throughput: {rate_said} ({tp.samples_per_s:.0f} samples/s) measured"
    if bound and result.bounds:
        against = _against_bound(
            result.bounds.overlapped_s, tp.elapsed_s, result.bounds.sequential_s
        )
        text += (
            f"; the ideal overlapped bound is {bound:.1f} steps/s and one after the other "
            f"would give {seq:.1f} steps/s{against}."
        )
    return Chart(fig, text + ("" if bound else "."), facts)


def _against_bound(
    bound_s: float | None,
    measured_s: float | list[float],
    sequential_s: float | None = None,
    reading: AgainstBounds | None = None,
) -> str:
    """ ": 80 % of its possible saving", read by :class:`fitscope.show.against.AgainstBounds` (a
    run faster than its bound, or slower than one after the other, is called so; given its
    repeats, a difference inside their spread is said to be; bounds too close to tell apart are
    said to be). ``reading``, when given, is the run's own reading, printed as is."""
    if reading is not None:
        return f": {reading.header()}"
    if not bound_s or _median(measured_s) <= 0:
        return ""
    return f": {AgainstBounds(measured_s, bound_s, sequential_s).header()}"


def _median(measured: float | list[float]) -> float:
    """One measured value, or the median of its repeats."""
    return statistics.median(measured) if isinstance(measured, list) else measured


Row = tuple  # (name, measured or its repeats, ideal bound or None[, one after the other or None])


def comparison(
    rows: Sequence[Row],
    unit: str = "s",
    title: str = "Measured time against both bounds",
    readings: Sequence[AgainstBounds | None] | None = None,
) -> Chart:
    """Bars of measured value, ideal (overlapped) bound and one-after-the-other time per variant.

    ``rows``: (name, measured, overlapped bound or None) or (..., sequential bound or None);
    measured may be a list of repeats: the bar is their median, and the reading against the
    bounds names a difference inside their spread as such, as the tables do. ``readings``, one
    per row, are the runs' own readings against their bounds (their margin), printed as is.

    Example:
        >>> comparison([("a", 2.0, 1.0, 3.0)]).summary
        'Comparison: a 2.00 s (ideal 1.00, one after the other 3.00: 50 % of its possible saving).'
    """
    rows = [(*r, None)[:4] for r in rows]
    repeats = [r[1] for r in rows]
    rows = [(n, _median(m), b, seq) for n, m, b, seq in rows]
    fig = Figure(figsize=(9, 0.75 * max(len(rows), 2) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ys = range(len(rows))
    h = 0.26
    ax.barh([y - h for y in ys], [r[1] for r in rows], height=h, color=MEASURED, label="measured")
    ax.barh(
        list(ys), [r[2] or 0 for r in rows], height=h, color=IDEAL, label="ideal (overlapped) bound"
    )
    if any(r[3] for r in rows):
        ax.barh(
            [y + h for y in ys],
            [r[3] or 0 for r in rows],
            height=h,
            color=SEQUENTIAL,
            label="one after the other",
        )
    ax.set_yticks(list(ys), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({unit})")
    set_title(ax, title, 6.0)
    fig.legend(loc="outside right upper", fontsize=8)
    parts = []
    own = list(readings) if readings is not None else [None] * len(rows)
    for (n, m, b, seq), measured, reading in zip(rows, repeats, own):
        bounds = [f"ideal {figure(b)}"] if b else []
        bounds += [f"one after the other {figure(seq)}"] if seq else []
        eff = _against_bound(b, measured, seq, reading) if unit in TIME_UNITS else ""
        parts.append(f"{n} {figure(m)} {unit}" + (f" ({', '.join(bounds)}{eff})" if bounds else ""))
    return Chart(fig, "Comparison: " + "; ".join(parts) + ".")


def class_results(results: Sequence[RunResult]) -> Chart:
    """Steps/s of many saved runs (one bar each, labelled by machine and B) against both bounds.

    For a class that pooled its runs with ``panel.save()``: the verdicts move with the machine.
    """
    rows = [r for r in results if r.throughput.steps]
    fig = Figure(figsize=(9, 0.7 * max(len(rows), 2) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    labels = [
        f"{r.environment.get('label', r.environment.get('pid', '?'))} (B = {r.budget.cpus:g})"
        if r.budget
        else r.name
        for r in rows
    ]
    ys = range(len(rows))
    h = 0.26
    bounds = [r.bound_steps_per_s or (0, 0) for r in rows]
    ax.barh(
        [y - h for y in ys],
        [r.throughput.steps_per_s for r in rows],
        height=h,
        color=MEASURED,
        label="measured",
    )
    ax.barh(
        list(ys), [b[0] for b in bounds], height=h, color=IDEAL, label="ideal (overlapped) bound"
    )
    ax.barh(
        [y + h for y in ys],
        [b[1] for b in bounds],
        height=h,
        color=SEQUENTIAL,
        label="one after the other",
    )
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlabel("throughput (steps/s)")
    set_title(ax, f"The class's runs: {len(rows)} saved results", 6.0)
    fig.legend(loc="outside right upper", fontsize=8)
    by_budget: dict[float, list[float]] = defaultdict(list)
    for r in rows:
        if r.budget:
            by_budget[r.budget.cpus].append(r.throughput.steps_per_s)
    summary = "; ".join(
        f"B = {b:g}: {len(v)} run(s), median {sorted(v)[len(v) // 2]:.1f} steps/s"
        for b, v in sorted(by_budget.items())
    )
    return Chart(fig, f"Class results: {summary or 'no run with steps yet'}.")
