"""Figures of a run: per-thread CPU, throughput against both bounds, comparisons, class results.

Thread timelines are in :mod:`fitscope.show.timelines`, colours and :class:`Chart` in
:mod:`fitscope.show.palette` (both also importable from here). Every axis carries its unit,
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

from fitscope.instrument.threads import ROLE_ORDER
from fitscope.show.palette import (
    CATEGORY_COLOURS,
    OKABE_ITO,
    OTHER_COLOUR,
    ROLE_COLOURS,
    Chart,
    role_colour,
    set_title,
)
from fitscope.show.timelines import pipeline_timeline, thread_role, timeline, warm_up_step
from fitscope.show.windows import training_windows
from fitscope.verdicts.compare import TIME_UNITS, share_of_bound

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


def _rates_by_role(
    result: RunResult, min_window_s: float = 0.05
) -> tuple[list[float], dict[str, list[float]]]:
    """Cores busy per role in windows of at least ``min_window_s`` (several samples each, so a
    sample read a little late does not show as a spike)."""
    cpu = result.cpu
    t = cpu.t_ns
    if len(t) < 2:
        return [], {}
    edges = [0]
    for i in range(1, len(t)):
        if t[i] - t[edges[-1]] >= min_window_s * 1e9 or i == len(t) - 1:
            edges.append(i)
    mids = [((t[a] + t[b]) / 2 - t[0]) / 1e9 for a, b in zip(edges, edges[1:])]
    by_role: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(mids))
    for tid, series in cpu.cpu_ns.items():
        if tid == cpu.sampler_tid:
            continue
        role = thread_role(result, tid)
        for k, (a, b) in enumerate(zip(edges, edges[1:])):
            start, stop = series[a], series[b]
            if start is not None and stop is not None:
                by_role[role][k] += (stop - start) / max(t[b] - t[a], 1)
    return mids, dict(by_role)


def _above_budget(result: RunResult, peak: float) -> str:
    """Why the stacked cores busy can pass B, in one sentence ("" when it does not)."""
    b = result.budget
    if b is None or peak <= 1.05 * b.cpus:
        return ""
    why = (
        "a CPU quota is enforced per 100 ms period, so threads may use more cores for part of "
        "a period and then wait"
        if b.quota is not None and b.quota < b.affinity
        else "each thread's clock is read a moment after the sample's time, so a busy or delayed "
        "sampler shifts CPU time between windows"
    )
    return f"The peak of {peak:.1f} cores busy is above B = {b.cpus:g}: {why}."


def cpu_by_thread(result: RunResult, top: int = 10) -> Chart:
    """Cores busy over time stacked by role (left) and CPU seconds per thread (right)."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax_t, ax_b = fig.subplots(1, 2, width_ratios=[3, 2])
    mids, by_role = _rates_by_role(result)
    roles = [r for r in ROLE_ORDER if r in by_role] + [r for r in by_role if r not in ROLE_ORDER]
    peak = max((sum(v) for v in zip(*by_role.values())), default=0.0)
    if mids:
        ax_t.stackplot(
            mids, [by_role[r] for r in roles], labels=roles, colors=[role_colour(r) for r in roles]
        )
        fig.legend(loc="outside lower center", ncols=min(len(roles), 4), fontsize=8)
    note = _above_budget(result, peak)
    if result.budget:
        ax_t.axhline(result.budget.cpus, color=OKABE_ITO["black"], ls="--", lw=1)
        ax_t.annotate(
            f"B = {result.budget.cpus:g}",
            (0, result.budget.cpus),
            fontsize=8,
            xytext=(2, 2),
            textcoords="offset points",
            xycoords=("axes fraction", "data"),
        )
        ax_t.set_ylim(0, max(peak, result.budget.cpus) * 1.15)
    warm = warm_up_step(result)
    if warm is not None and mids:
        at = (warm.end_ns - result.cpu.t_ns[0]) / 1e9
        ax_t.axvline(at, color=OKABE_ITO["black"], lw=0.8, ls=":")
        right = at > 0.6 * mids[-1]
        ax_t.annotate(
            "warm-up step ends ",
            (at, 1.0),
            xycoords=("data", "axes fraction"),
            va="top",
            ha="right" if right else "left",
            fontsize=8,
            xytext=(-2 if right else 2, -2),
            textcoords="offset points",
        )
    if note:
        ax_t.text(
            0.99,
            0.99,
            "above B: see the line under the chart",
            transform=ax_t.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )
    ax_t.set_xlabel("time (s)")
    ax_t.set_ylabel("cores busy")
    ax_t.set_title("CPU by role over time")
    windows = training_windows(result)
    totals = result.cpu.by_thread_s(windows) if windows else result.cpu.by_thread_s()
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    ax_b.barh(
        range(len(ranked)),
        [v for _, v in ranked],
        color=[role_colour(thread_role(result, tid)) for tid, _ in ranked],
    )
    ax_b.set_yticks(
        range(len(ranked)),
        [f"{thread_role(result, tid)} · tid {tid}" for tid, _ in ranked],
        fontsize=8,
    )
    ax_b.invert_yaxis()
    ax_b.set_xlabel("CPU time (s)")
    ax_b.set_title(
        f"CPU per thread in the steps after the first (top {len(ranked)})"
        if windows
        else f"CPU per thread (top {len(ranked)})"
    )
    return Chart(fig, _cpu_summary(result, totals, windows) + (f" {note}" if note else ""))


def _cpu_summary(
    result: RunResult, totals: dict[int, float], windows: Sequence[tuple[int, int]] = ()
) -> str:
    """The CPU sentence: over the training steps after the first where the run has steps (the
    window of its steps/s and of every table's CPU by role), else over the whole sampling."""
    total = sum(totals.values())
    t = result.cpu.t_ns
    wall = (
        sum(b - a for a, b in windows) / 1e9
        if windows
        else ((t[-1] - t[0]) / 1e9 if len(t) > 1 else 0.0)
    )
    if total <= 0 or wall <= 0:
        return "CPU: not enough samples to measure."
    by_role: defaultdict[str, float] = defaultdict(float)
    for tid, v in totals.items():
        by_role[thread_role(result, tid)] += v
    most = sorted(by_role.items(), key=lambda rv: -rv[1])
    shares = ", ".join(f"{r} {v:.2f} s ({100 * v / total:.0f}%)" for r, v in most)
    where = (
        "inside the training steps after the first (the window of steps/s and of the tables; "
        "the chart on the left draws the whole run)"
        if windows
        else "over the whole run"
    )
    return (
        f"CPU {where}: {total:.2f} s over {wall:.2f} s of wall time ({total / wall:.2f} cores "
        f"busy on average); by role: {shares}."
    )


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
    """Steps/s over the run against both bounds of ``result.bounds``."""
    tp = result.throughput
    bound, seq = result.bound_steps_per_s or (None, None)
    t, rate = tp.t_s, tp.steps_per_s_series
    ends = sorted(s.end_ns for s in result.spans_of("train"))
    if len(t) < 5 and len(ends) >= 4:  # a short run: ten windows of steps instead of fixed times
        t, rate = rate_windows([(e - ends[0]) / 1e9 for e in ends[1:]])
    fig = throughput_figure(t, rate, bound, seq, title=f"Throughput: {result.name}")
    if not tp.steps:
        return Chart(fig, "Throughput: no steps were measured.")
    text = f"Throughput: {tp.steps_per_s:.1f} steps/s ({tp.samples_per_s:.0f} samples/s) measured"
    if bound and result.bounds:
        against = _against_bound(
            result.bounds.overlapped_s, tp.elapsed_s, result.bounds.sequential_s
        )
        text += (
            f"; the ideal overlapped bound is {bound:.1f} steps/s and one after the other "
            f"would give {seq:.1f} steps/s{against}."
        )
    return Chart(fig, text + ("" if bound else "."))


def _against_bound(
    bound_s: float | None, measured_s: float | list[float], sequential_s: float | None = None
) -> str:
    """ ": 80 % of the ideal bound", read by :func:`fitscope.verdicts.compare.share_of_bound`
    (a run faster than its bound, or slower than one after the other, is called so; given its
    repeats, a difference inside their spread is said to be)."""
    if not bound_s or _median(measured_s) <= 0:
        return ""
    return f": {share_of_bound(measured_s, bound_s, sequential_s=sequential_s)}"


def _median(measured: float | list[float]) -> float:
    """One measured value, or the median of its repeats."""
    return statistics.median(measured) if isinstance(measured, list) else measured


Row = tuple  # (name, measured or its repeats, ideal bound or None[, one after the other or None])


def comparison(
    rows: Sequence[Row], unit: str = "s", title: str = "Measured time against both bounds"
) -> Chart:
    """Bars of measured value, ideal (overlapped) bound and one-after-the-other time per variant.

    ``rows``: (name, measured, overlapped bound or None) or (..., sequential bound or None);
    measured may be a list of repeats: the bar is their median, and the reading against the
    bounds names a difference inside their spread as such, as the tables do.

    Example:
        >>> comparison([("a", 2.0, 1.0, 3.0)]).summary
        'Comparison: a 2.00 s (ideal 1.00, one after the other 3.00: 50 % of the ideal bound).'
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
    for (n, m, b, seq), measured in zip(rows, repeats):
        bounds = [f"ideal {b:.2f}"] if b else []
        bounds += [f"one after the other {seq:.2f}"] if seq else []
        eff = _against_bound(b, measured, seq) if unit in TIME_UNITS else ""
        parts.append(f"{n} {m:.2f} {unit}" + (f" ({', '.join(bounds)}{eff})" if bounds else ""))
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
