"""Thread timelines: one lane per OS thread, the warm-up step in a narrow panel of its own.

The first training step also starts the data pipeline (and, the first time, traces the train
function); throughput counts from its end. It would fill much of a shared time axis, so it gets
a narrow panel on the left with its own scale, and the main panel starts where it ended. Steps
are drawn full height; the work inside or beside them (``next()``, tf.data, the panel's frames)
is drawn on top, narrower, so it is never hidden under a step. Spans after the last step (the
panel's last frame) lie outside the axis; the summary counts every span.

Example:
    >>> from fitscope.instrument.result import RunResult
    >>> from fitscope.instrument.tracing import Span
    >>> r = RunResult("x", spans=[Span("read", "tf.data", 0, 5, None),
    ...                           Span("read", "tf.data", 1, 6, None)])
    >>> pipeline_timeline(r).summary.split(":")[0]
    'Pipeline timeline of 0 thread lanes and 2 in-graph lanes'
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from fitscope.instrument.printed import WARM_UP_STEP, quantity_fact
from fitscope.instrument.threads import KERNEL, ROLE_ORDER
from fitscope.show.palette import (
    CATEGORY_COLOURS,
    OKABE_ITO,
    OTHER_COLOUR,
    WAIT_COLOUR,
    Chart,
    set_title,
)

if TYPE_CHECKING:
    from fitscope.instrument.result import RunResult
    from fitscope.instrument.tracing import Span

__all__ = ["thread_role", "warm_up_step", "timeline", "pipeline_timeline", "STAGE_COLOURS"]

STAGE_COLOURS = {
    "open": OKABE_ITO["vermillion"],
    "read": OKABE_ITO["yellow"],
    "map": OKABE_ITO["bluish green"],
    "wait": WAIT_COLOUR,
}
GRAPH_LANE = "in-graph timing (thread not recorded)"
STEP_LIKE = {"train", "predict", "work", "wait"}  # drawn full height, underneath
WARM_UP = "warm-up step (not counted)"


def thread_role(result: RunResult, tid: int | None) -> str:
    """The role of ``tid``; a thread whose only spans are the panel's frames is kernel/ui."""
    own = {s.category for s in result.spans if s.tid == tid}
    if tid is not None and own == {"ui"}:
        return KERNEL
    return result.roles.get(tid, "unknown") if tid is not None else GRAPH_LANE


def _lanes(result: RunResult) -> list[int | None]:
    order = {role: i for i, role in enumerate(ROLE_ORDER)}

    def key(tid: int | None) -> tuple[int, int]:
        if tid is None:
            return (len(ROLE_ORDER) + 1, 0)
        return (order.get(thread_role(result, tid), len(ROLE_ORDER)), tid)

    return sorted({s.tid for s in result.spans}, key=key)


def _lane_label(result: RunResult, tid: int | None) -> str:
    if tid is None:
        return GRAPH_LANE
    s = next((s for s in result.spans if s.tid == tid), None)
    name = (s.os_name or s.thread) if s else ""
    if s and s.thread.startswith("fitscope"):
        name = s.thread
    return f"{thread_role(result, tid)}\ntid {tid}" + (f" ({name})" if name else "")


def warm_up_step(result: RunResult) -> Span | None:
    """The first train step (throughput counts from its end), when there are 3 or more."""
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    return steps[0] if len(steps) >= 3 else None


def _draw(
    fig: Figure,
    lanes: Sequence[tuple[str, Sequence[Span]]],
    result: RunResult,
    colour: Callable[[Span], str],
    title: str,
) -> tuple[str, list[dict[str, str]]]:
    """Draw the lanes (in two panels when the warm-up step would fill much of the axis); returns
    a sentence on where the warm-up step is drawn, and the fact of the warm-up step it prints."""
    spans = [s for _, lane in lanes for s in lane if s.end_ns > s.start_ns]
    t0 = min((s.start_ns for s in result.spans), default=0)
    warm = warm_up_step(result)
    work = [s for s in spans if s.category != "ui"] or spans
    end = max((s.end_ns for s in work), default=t0)
    # The warm-up step, where it gets a narrow panel of its own.
    split = warm if warm is not None and warm.end_ns - t0 > 0.15 * (end - t0) else None
    if split is not None:
        ax_w, ax = fig.subplots(1, 2, sharey=True, width_ratios=[1, 5])
        ranges = [(ax_w, t0, split.end_ns), (ax, split.end_ns, end)]
    else:
        ax = fig.subplots()
        ranges = [(ax, min((s.start_ns for s in work), default=t0), end)]
    for axes, lo, hi in ranges:
        pad = max(hi - lo, 1) * 0.02
        smallest = max(hi - lo, 1) * 0.002  # thinner than this would not show
        for i, (_, lane) in enumerate(lanes):
            by_look: dict[tuple[str, bool, bool], list[tuple[float, float]]] = defaultdict(list)
            for s in lane:
                if s.end_ns <= s.start_ns or s.end_ns < lo - pad or s.start_ns > hi + pad:
                    continue
                bar = ((s.start_ns - t0) / 1e9, max(s.end_ns - s.start_ns, smallest) / 1e9)
                by_look[(colour(s), s.category in STEP_LIKE, s is warm)].append(bar)
            for (c, full, is_warm), bars in by_look.items():
                h = 0.8 if full else 0.46
                axes.broken_barh(
                    bars,
                    (i - h / 2, h),
                    facecolors=c,
                    zorder=1 if full else 3,
                    edgecolor="white" if full else "none",
                    linewidth=0.3,
                    hatch="///" if is_warm else None,
                    alpha=0.45 if is_warm else 1,
                )
        for s in result.spans:
            if s.category == "epoch" and lo <= s.start_ns <= hi:
                axes.axvline(
                    (s.start_ns - t0) / 1e9, color=OKABE_ITO["black"], lw=0.8, ls=":", zorder=4
                )
        axes.set_xlim((lo - t0 - pad) / 1e9, (hi - t0 + pad) / 1e9)
    labels = [label for label, _ in lanes]
    ax.set_yticks(range(len(lanes)), labels, fontsize=8)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.set_xlabel("time since the first span (s)")
    where, facts = "", []
    if split is not None:
        ax_w.set_title("warm-up step\n(not counted)", fontsize=9)
        ax_w.tick_params(axis="x", labelsize=7)
        ax_w.set_yticks(range(len(lanes)), labels, fontsize=8)
        ax.tick_params(labelleft=False)
        fig.supxlabel(
            "time since the first span (s); the right panel starts where the warm-up "
            "step ended, as throughput does",
            fontsize=10,
        )
        ax.set_xlabel("")
        took = split.duration_s  # 3 digits: 540 ms, 1.23 s (never 1e+03 ms)
        warm_ms = f"{1e3 * took:.3g} ms" if took < 0.9995 else f"{took:.3g} s"
        facts = [quantity_fact(result.run_id, WARM_UP_STEP, warm_ms)]
        where = (
            f"The first step (warm-up, {warm_ms}) and what ran before its "
            "end are drawn in a narrow panel on the left; the main panel starts where it ended."
        )
    set_title(ax, title, fig.get_figwidth() * 0.6)
    keys = sorted({_key(s) for s in spans})
    handles: list[Patch | Line2D] = [
        Patch(facecolor=STAGE_COLOURS.get(k) or CATEGORY_COLOURS.get(k, OTHER_COLOUR), label=k)
        for k in keys
    ]
    if warm is not None:
        handles.append(Patch(facecolor=colour(warm), alpha=0.45, hatch="///", label=WARM_UP))
    if any(s.category == "epoch" for s in result.spans):
        handles.append(Line2D([], [], color=OKABE_ITO["black"], ls=":", label="epoch start"))
    if handles:
        fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    return where, facts


def _key(s: Span) -> str:
    return s.label if s.category == "tf.data" and s.label in STAGE_COLOURS else s.category


def timeline(result: RunResult, max_lanes: int = 12) -> Chart:
    """One lane per OS thread (grouped by role), spans coloured by category, epochs marked; the
    warm-up step's time, where the summary prints it, is also a hidden fact of the run."""
    lanes = [
        (_lane_label(result, t), [s for s in result.spans if s.tid == t])
        for t in _lanes(result)[:max_lanes]
    ]
    fig = Figure(figsize=(10, 0.55 * max(len(lanes), 2) + 1.6), layout="constrained")
    where, facts = _draw(
        fig,
        lanes,
        result,
        lambda s: CATEGORY_COLOURS.get(s.category, OTHER_COLOUR),
        f"Thread timeline: {result.name}",
    )
    counts = Counter(s.category for _, lane in lanes for s in lane if s.end_ns > s.start_ns)
    if not counts:
        return Chart(fig, "Timeline: no spans were recorded.")
    parts = []
    for cat, n in counts.most_common():
        roles = Counter(
            thread_role(result, s.tid)
            for _, lane in lanes
            for s in lane
            if s.category == cat and s.end_ns > s.start_ns
        )
        parts.append(
            f"{n} {cat} spans (" + ", ".join(f"{k} {v}" for k, v in roles.most_common()) + ")"
        )
    return Chart(
        fig,
        f"Timeline of {len(lanes)} thread lanes: "
        + "; ".join(parts)
        + "."
        + (f" {where}" if where else ""),
        facts,
    )


def _packed(spans: Sequence[Span]) -> list[list[Span]]:
    """Spans put into as few rows as possible with no overlap inside a row (first fit)."""
    rows: list[list[Span]] = []
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
    """
    spans = [s for s in result.spans if s.end_ns > s.start_ns]
    threads = [t for t in _lanes(result) if t is not None]
    graph = _packed([s for s in spans if s.tid is None])
    lanes: list[tuple[str, list[Span]]] = [
        (_lane_label(result, t), [s for s in spans if s.tid == t]) for t in threads
    ]
    lanes += [(f"in-graph work, lane {i + 1}", row) for i, row in enumerate(graph)]
    lanes = lanes[:max_lanes]
    fig = Figure(figsize=(10, 0.5 * max(len(lanes), 2) + 1.6), layout="constrained")
    where, facts = _draw(
        fig,
        lanes,
        result,
        lambda s: STAGE_COLOURS.get(_key(s)) or CATEGORY_COLOURS.get(s.category, OTHER_COLOUR),
        f"Pipeline timeline: {result.name}",
    )
    seen = Counter(_key(s) for _, lane in lanes for s in lane if s.end_ns > s.start_ns)
    counts = ", ".join(f"{n} {k}" for k, n in seen.most_common())
    # First fit by start time needs exactly as many lanes as the most spans open at one instant.
    summary = (
        f"Pipeline timeline of {len(threads)} thread lanes and {len(graph)} in-graph lanes: "
        f"{counts or 'no spans'}; at most {len(graph)} pieces of tf.data work ran at once."
    )
    return Chart(fig, summary + (f" {where}" if where else ""), facts)
