"""Figures of a run: thread timeline, per-thread CPU, throughput against its bound, comparisons.

Colours are Okabe–Ito (safe for the common colour-vision deficiencies); every axis carries its
unit, and every figure comes with a one-line text summary for readers who cannot see it.

Example:
    >>> from fitscope.instrument.result import RunResult
    >>> chart = throughput(RunResult(name="empty"))
    >>> chart.summary.startswith("Throughput")
    True
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from fitscope.instrument.threads import ROLE_ORDER

if TYPE_CHECKING:  # plots draws results; result.Comparison draws with plots
    from fitscope.instrument.result import RunResult

__all__ = ["class_results", "OKABE_ITO", "CATEGORY_COLOURS", "ROLE_COLOURS", "Chart", "timeline",
           "cpu_by_thread", "throughput", "throughput_figure", "comparison", "pipeline_timeline"]

OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}
CATEGORY_COLOURS = {
    "train": OKABE_ITO["blue"],
    "generator": OKABE_ITO["orange"],
    "tf.data": OKABE_ITO["bluish green"],
    "ui": OKABE_ITO["reddish purple"],
    "work": OKABE_ITO["sky blue"],
    "io": OKABE_ITO["yellow"],
    "predict": OKABE_ITO["vermillion"],
}
ROLE_COLOURS = dict(zip(ROLE_ORDER, [OKABE_ITO[k] for k in (
    "vermillion", "reddish purple", "orange", "blue", "sky blue", "yellow", "black")]))
OTHER_COLOUR = "#999999"  # anything without a colour of its own
_GRAPH_LANE = "in-graph timing (thread not recorded)"


@dataclass
class Chart:
    """A figure and its one-line summary; shows both when it is the last value of a cell."""

    figure: Figure
    summary: str

    def png(self, dpi: int = 96) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()

    def html(self) -> str:
        """The figure as an inline PNG with its summary under it (for
        :class:`~fitscope.instrument.tables.Stack`)."""
        src = base64.b64encode(self.png()).decode("ascii")
        alt = html.escape(self.summary, quote=True)
        image = f'<img src="data:image/png;base64,{src}" alt="{alt}"/>'
        return f"{image}<p>{html.escape(self.summary)}</p>"

    def __str__(self) -> str:
        return self.summary

    def _ipython_display_(self) -> None:
        from IPython.display import display

        png = base64.b64encode(self.png()).decode("ascii")  # text/plain is the summary, not a repr
        display({"image/png": png, "text/plain": self.summary},
                metadata={"image/png": {"alt": self.summary}}, raw=True)
        print(self.summary)


def _lanes(result: RunResult) -> list[int | None]:
    tids = {s.tid for s in result.spans}
    order = {role: i for i, role in enumerate(ROLE_ORDER)}

    def key(tid: int | None) -> tuple[int, int]:
        if tid is None:
            return (len(ROLE_ORDER) + 1, 0)
        return (order.get(result.roles.get(tid, ""), len(ROLE_ORDER)), tid)

    return sorted(tids, key=key)


def _lane_label(result: RunResult, tid: int | None) -> str:
    if tid is None:
        return _GRAPH_LANE
    role = result.roles.get(tid, "unknown")
    name = next((s.os_name or s.thread for s in result.spans if s.tid == tid), "")
    return f"{role}\ntid {tid}" + (f" ({name})" if name else "")


def timeline(result: RunResult, max_lanes: int = 12) -> Chart:
    """One lane per OS thread (grouped by role), spans coloured by category, epochs marked."""
    spans = [s for s in result.spans if s.end_ns >= s.start_ns]
    lanes = _lanes(result)[:max_lanes]
    fig = Figure(figsize=(10, 0.55 * max(len(lanes), 2) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    t0 = min((s.start_ns for s in spans), default=0)
    categories: Counter[str] = Counter()
    for i, tid in enumerate(lanes):
        by_cat: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for s in spans:
            if s.tid == tid and s.end_ns > s.start_ns:
                by_cat[s.category].append(((s.start_ns - t0) / 1e9, max(s.duration_s, 1e-4)))
        for cat, bars in by_cat.items():
            categories[cat] += len(bars)
            ax.broken_barh(bars, (i - 0.4, 0.8), facecolors=CATEGORY_COLOURS.get(cat, OTHER_COLOUR))
    for s in spans:
        if s.category == "epoch":
            ax.axvline((s.start_ns - t0) / 1e9, color=OKABE_ITO["black"], lw=0.8, ls=":")
    ax.set_yticks(range(len(lanes)), [_lane_label(result, t) for t in lanes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time since the first span (s)")
    ax.set_title(f"Thread timeline: {result.name}")
    handles = [
        Patch(color=CATEGORY_COLOURS.get(c, OTHER_COLOUR), label=c) for c in sorted(categories)
    ]
    if any(s.category == "epoch" for s in spans):
        handles.append(Line2D([], [], color=OKABE_ITO["black"], ls=":", label="epoch start"))
    if handles:
        fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    return Chart(fig, _timeline_summary(result, lanes, categories))


def _timeline_summary(result: RunResult, lanes: Sequence[int | None],
                      categories: Counter[str]) -> str:
    if not categories:
        return "Timeline: no spans were recorded."
    parts = []
    for cat, n in categories.most_common():
        roles = Counter(result.roles.get(s.tid, _GRAPH_LANE if s.tid is None else "unknown")
                        for s in result.spans if s.category == cat and s.end_ns > s.start_ns)
        where = ", ".join(f"{k} {v}" for k, v in roles.most_common())
        parts.append(f"{n} {cat} spans ({where})")
    return f"Timeline of {len(lanes)} thread lanes: " + "; ".join(parts) + "."


def _rates_by_role(result: RunResult) -> tuple[list[float], dict[str, list[float]]]:
    cpu = result.cpu
    t = cpu.t_ns
    if len(t) < 2:
        return [], {}
    mids = [((a + b) / 2 - t[0]) / 1e9 for a, b in zip(t, t[1:])]
    by_role: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(mids))
    for tid, series in cpu.cpu_ns.items():
        if tid == cpu.sampler_tid:
            continue
        role = result.roles.get(tid, "unknown")
        for i in range(len(mids)):
            a, b = series[i], series[i + 1]
            if a is not None and b is not None:
                by_role[role][i] += (b - a) / max(t[i + 1] - t[i], 1)
    return mids, dict(by_role)


def cpu_by_thread(result: RunResult, top: int = 10) -> Chart:
    """Cores busy over time stacked by role (left) and CPU seconds per thread (right)."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax_t, ax_b = fig.subplots(1, 2, width_ratios=[3, 2])
    mids, by_role = _rates_by_role(result)
    roles = [r for r in ROLE_ORDER if r in by_role] + [r for r in by_role if r not in ROLE_ORDER]
    if mids:
        ax_t.stackplot(mids, [by_role[r] for r in roles], labels=roles,
                       colors=[ROLE_COLOURS.get(r, OTHER_COLOUR) for r in roles])
        fig.legend(loc="outside lower center", ncols=min(len(roles), 4), fontsize=8)
    if result.budget:
        ax_t.axhline(result.budget.cpus, color=OKABE_ITO["black"], ls="--", lw=1)
        ax_t.annotate(f"B = {result.budget.cpus:g}", (0, result.budget.cpus), fontsize=8,
                      xytext=(2, 2), textcoords="offset points")
    ax_t.set_xlabel("time (s)")
    ax_t.set_ylabel("cores busy")
    ax_t.set_title("CPU by role over time")
    totals = result.cpu.by_thread_s()
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    labels = [f"{result.roles.get(tid, 'unknown')} · tid {tid}" for tid, _ in ranked]
    ax_b.barh(
        range(len(ranked)),
        [v for _, v in ranked],
        color=[ROLE_COLOURS.get(result.roles.get(tid, ""), OTHER_COLOUR) for tid, _ in ranked],
    )
    ax_b.set_yticks(range(len(ranked)), labels, fontsize=8)
    ax_b.invert_yaxis()
    ax_b.set_xlabel("CPU time (s)")
    ax_b.set_title(f"CPU per thread (top {len(ranked)})")
    return Chart(fig, _cpu_summary(result, totals))


def _cpu_summary(result: RunResult, totals: dict[int, float]) -> str:
    total = sum(totals.values())
    t = result.cpu.t_ns
    wall = (t[-1] - t[0]) / 1e9 if len(t) > 1 else 0.0
    if total <= 0 or wall <= 0:
        return "CPU: not enough samples to measure."
    by_role: Counter[str] = Counter()
    for tid, v in totals.items():
        by_role[result.roles.get(tid, "unknown")] += v
    shares = ", ".join(f"{r} {v:.2f} s ({100 * v / total:.0f}%)" for r, v in by_role.most_common())
    return (f"CPU: {total:.2f} s over {wall:.2f} s of wall time ({total / wall:.2f} cores busy "
            f"on average); by role: {shares}.")


def throughput_figure(t_s: Sequence[float], rate: Sequence[float], bound_rate: float | None,
                      sequential_rate: float | None = None, title: str = "Throughput",
                      unit: str = "steps/s", size: tuple[float, float] = (8, 3.2)) -> Figure:
    """Rate over time with the ideal (overlapped) bound and the sequential rate drawn as lines.

    The measured line is ``axes[0].lines[0]``, so a live view can update it in place.
    """
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t_s, rate, color=OKABE_ITO["blue"], marker="o", ms=3, label="measured")
    if bound_rate:
        ax.axhline(bound_rate, color=OKABE_ITO["bluish green"], ls="--",
                   label=f"ideal overlap bound ({bound_rate:.1f} {unit})")
    if sequential_rate:
        ax.axhline(sequential_rate, color=OKABE_ITO["vermillion"], ls=":",
                   label=f"no overlap ({sequential_rate:.1f} {unit})")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def throughput(result: RunResult) -> Chart:
    """Steps/s over the run against the bounds of ``result.bounds``."""
    tp = result.throughput
    bound, seq = result.bound_steps_per_s or (None, None)
    fig = throughput_figure(tp.t_s, tp.steps_per_s_series, bound, seq,
                            title=f"Throughput: {result.name}")
    if not tp.steps:
        return Chart(fig, "Throughput: no steps were measured.")
    text = f"Throughput: {tp.steps_per_s:.1f} steps/s ({tp.samples_per_s:.0f} samples/s) measured"
    if bound and result.bounds:
        eff = result.bounds.efficiency(tp.elapsed_s)
        text += (f"; the ideal overlap bound is {bound:.1f} steps/s and no overlap would give "
                 f"{seq:.1f} steps/s: {100 * eff:.0f}% of the bound.")
    return Chart(fig, text + ("" if bound else "."))


def comparison(rows: Sequence[tuple[str, float, float | None]], unit: str = "s",
               title: str = "Measured time against the ideal bound") -> Chart:
    """Bars of measured value and bound per variant: rows of (name, measured, bound or None)."""
    fig = Figure(figsize=(8, 0.5 * max(len(rows), 2) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ys = range(len(rows))
    ax.barh([y + 0.2 for y in ys], [r[1] for r in rows], height=0.4,
            color=OKABE_ITO["blue"], label="measured")
    ax.barh([y - 0.2 for y in ys], [r[2] or 0 for r in rows], height=0.4,
            color=OKABE_ITO["bluish green"], label="ideal bound")
    ax.set_yticks(list(ys), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({unit})")
    ax.set_title(title)
    ax.legend(fontsize=8)
    parts = [f"{n} {m:.2f} {unit}" + (f" (bound {b:.2f}, {100 * b / m:.0f}% efficient)"
                                      if b and m > 0 else "") for n, m, b in rows]
    return Chart(fig, "Comparison: " + "; ".join(parts) + ".")


STAGE_COLOURS = {"open": OKABE_ITO["vermillion"], "read": OKABE_ITO["yellow"],
                 "map": OKABE_ITO["bluish green"], "wait": "#BBBBBB"}


def _packed(spans: Sequence) -> list[list]:
    """Spans put into as few rows as possible with no overlap inside a row (first fit)."""
    rows: list[list] = []
    for s in sorted(spans, key=lambda s: s.start_ns):
        for row in rows:
            if row[-1].end_ns <= s.start_ns:
                row.append(s)
                break
        else:
            rows.append([s])
    return rows


def pipeline_timeline(result: RunResult, max_lanes: int = 14) -> Chart:
    """A lane per OS thread that recorded spans, then the work timed inside the tf.data graph.

    In-graph spans carry no thread id, so they are packed into as few lanes as needed to show
    them without overlap: the number of those lanes is how many pieces of tf.data work ran at
    once, not which threads ran them. Colours: one per tf.data stage (open, read, map), train
    steps blue, waiting for data grey.

    Example:
        >>> from fitscope.instrument.result import RunResult
        >>> from fitscope.instrument.tracing import Span
        >>> r = RunResult("x", spans=[Span("read", "tf.data", 0, 5, None),
        ...                           Span("read", "tf.data", 1, 6, None)])
        >>> pipeline_timeline(r).summary.split(":")[0]
        'Pipeline timeline of 0 thread lanes and 2 in-graph lanes'
    """
    spans = [s for s in result.spans if s.end_ns > s.start_ns]
    threads = [t for t in _lanes(result) if t is not None]
    graph = _packed([s for s in spans if s.tid is None])
    lanes: list[tuple[str, list]] = [(_lane_label(result, t), [s for s in spans if s.tid == t])
                                     for t in threads]
    lanes += [(f"in-graph work, lane {i + 1}", row) for i, row in enumerate(graph)]
    lanes = lanes[:max_lanes]
    fig = Figure(figsize=(10, 0.5 * max(len(lanes), 2) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    t0 = min((s.start_ns for s in result.spans), default=0)
    seen: Counter[str] = Counter()
    for i, (_, lane) in enumerate(lanes):
        by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for s in lane:
            key = s.label if s.category == "tf.data" and s.label in STAGE_COLOURS else s.category
            by_key[key].append(((s.start_ns - t0) / 1e9, max(s.duration_s, 1e-4)))
        for key, bars in by_key.items():
            seen[key] += len(bars)
            colour = STAGE_COLOURS.get(key) or CATEGORY_COLOURS.get(key, OTHER_COLOUR)
            ax.broken_barh(bars, (i - 0.4, 0.8), facecolors=colour)
    for s in result.spans:
        if s.category == "epoch":
            ax.axvline((s.start_ns - t0) / 1e9, color=OKABE_ITO["black"], lw=0.8, ls=":")
    ax.set_yticks(range(len(lanes)), [label for label, _ in lanes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time since the run started (s)")
    ax.set_title(f"Pipeline timeline: {result.name}")
    handles = [Patch(color=STAGE_COLOURS.get(k) or CATEGORY_COLOURS.get(k, OTHER_COLOUR), label=k)
               for k in sorted(seen)]
    if handles:
        fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    counts = ", ".join(f"{n} {k}" for k, n in seen.most_common())
    # First fit by start time needs exactly as many lanes as the most spans open at one instant.
    summary = (f"Pipeline timeline of {len(threads)} thread lanes and {len(graph)} in-graph lanes: "
               f"{counts or 'no spans'}; at most {len(graph)} pieces of tf.data work ran at once.")
    return Chart(fig, summary)


def class_results(results: Sequence[RunResult]) -> Chart:
    """Steps/s of many saved runs (one bar each, labelled by machine and B) against their bounds.

    For a class that pooled its runs with ``panel.save()``: the verdicts move with the machine.
    """
    rows = [r for r in results if r.throughput.steps]
    fig = Figure(figsize=(8, 0.45 * max(len(rows), 2) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{r.environment.get('label', r.environment.get('pid', '?'))} "
              f"(B = {r.budget.cpus:g})" if r.budget else r.name for r in rows]
    ys = range(len(rows))
    ax.barh([y + 0.2 for y in ys], [r.throughput.steps_per_s for r in rows], height=0.4,
            color=OKABE_ITO["blue"], label="measured")
    ax.barh([y - 0.2 for y in ys], [(r.bound_steps_per_s or (0, 0))[0] for r in rows], height=0.4,
            color=OKABE_ITO["bluish green"], label="ideal bound")
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlabel("throughput (steps/s)")
    ax.set_title(f"The class's runs: {len(rows)} saved results")
    ax.legend(fontsize=8)
    by_budget: dict[float, list[float]] = defaultdict(list)
    for r in rows:
        if r.budget:
            by_budget[r.budget.cpus].append(r.throughput.steps_per_s)
    summary = "; ".join(f"B = {b:g}: {len(v)} run(s), median {sorted(v)[len(v) // 2]:.1f} steps/s"
                        for b, v in sorted(by_budget.items()))
    return Chart(fig, f"Class results: {summary or 'no run with steps yet'}.")
