"""A run's CPU, drawn: cores busy over time stacked by role, and CPU seconds per thread, with
the one sentence that says the same for readers who cannot see it.

Example:
    >>> from fitscope.instrument.result import RunResult
    >>> cpu_by_thread(RunResult(name="empty")).summary
    'CPU: not enough samples to measure.'
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from fitscope.instrument.printed import (
    CORES_BUSY,
    TRAIN_CPU_S,
    TRAIN_WALL_S,
    quantity_fact,
    role_cpu,
    role_share,
)
from fitscope.instrument.threads import ROLE_ORDER
from fitscope.show.palette import OKABE_ITO, Chart, role_colour
from fitscope.show.timelines import thread_role, warm_up_step
from fitscope.show.windows import training_windows

if TYPE_CHECKING:
    from fitscope.instrument.result import RunResult

__all__ = ["cpu_by_thread"]


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
    summary, facts = _cpu_summary(result, totals, windows)
    return Chart(fig, summary + (f" {note}" if note else ""), facts)


def _cpu_summary(
    result: RunResult, totals: dict[int, float], windows: Sequence[tuple[int, int]] = ()
) -> tuple[str, list[dict[str, str]]]:
    """The CPU sentence and the facts of what it prints (:mod:`fitscope.instrument.printed`):
    over the training steps after the first where the run has steps (the window of its steps/s
    and of every table's CPU by role), else over the whole sampling (no facts: another window).
    A traced fit's CPU by role is the one its facts recorded, which its tables print."""
    total = sum(totals.values())
    t = result.cpu.t_ns
    wall = (
        sum(b - a for a, b in windows) / 1e9
        if windows
        else ((t[-1] - t[0]) / 1e9 if len(t) > 1 else 0.0)
    )
    if total <= 0 or wall <= 0:
        return "CPU: not enough samples to measure.", []
    by_role: defaultdict[str, float] = defaultdict(float)
    recorded = result.facts.get("train_cpu_by_role")
    if windows and isinstance(recorded, dict):
        by_role.update(recorded)
    else:
        for tid, v in totals.items():
            by_role[thread_role(result, tid)] += v
    cpu_s, wall_s, cores = f"{total:.2f} s", f"{wall:.2f} s", f"{total / wall:.2f}"
    roles = [
        (r, f"{v:.2f} s", f"{100 * v / total:.0f}%")
        for r, v in sorted(by_role.items(), key=lambda rv: -rv[1])
    ]
    said = [(TRAIN_CPU_S, cpu_s), (TRAIN_WALL_S, wall_s), (CORES_BUSY, cores)]
    for r, seconds, share in roles:
        said += [(role_cpu(r), seconds), (role_share(r), share)]
    where = (
        "inside this run's training steps after the first (the window its steps/s is read "
        "over, not a whole-run time; the chart on the left draws the whole run)"
        if windows
        else "over the whole run"
    )
    text = (
        f"CPU {where}: {cpu_s} over {wall_s} of wall time ({cores} cores busy on average); "
        f"by role: {', '.join(f'{r} {seconds} ({share})' for r, seconds, share in roles)}."
    )
    facts = [quantity_fact(result.run_id, q, v) for q, v in said] if windows else []
    return text, facts
