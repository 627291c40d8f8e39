"""Charts of a tree of processes over time: memory and CPU per process, for sandboxed runs.

The sandbox samples every process of a run (the interpreter it started and that one's
children); these charts draw those series in the units of :mod:`fitscope.show.charts`. A process
is coloured by its role (parent, trainer, producer, ...: :data:`~fitscope.show.palette.
PROCESS_COLOURS`), never by its order, so a role keeps its colour from chart to chart; two
processes of one role differ by line style. Legends sit outside the data.

Example:
    >>> chart = memory_by_process({"trainer (pid 7)": ([0.0, 1.0], [100.0, 180.0])}, cap_mb=1800)
    >>> chart.summary.startswith("Memory:")
    True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from matplotlib.figure import Figure

from fitscope.instrument.result import RunResult
from fitscope.show.palette import OKABE_ITO, Chart, process_colour, set_title

__all__ = ["memory_by_process", "cpu_by_process", "loss_by_worker"]

_STYLES = ["-", "--", "-.", ":"]


def _looks(labels: Sequence[str]) -> list[tuple[str, str]]:
    """(colour, line style) per process label: the role's colour, a new style per repeat."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for label in labels:
        colour = process_colour(label)
        out.append((colour, _STYLES[seen[colour] % len(_STYLES)]))
        seen[colour] += 1
    return out


def memory_by_process(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    cap_mb: float | None = None,
    title: str = "Memory per process",
    size: tuple[float, float] = (8, 3.2),
) -> Chart:
    """Memory (MB) over time, one line per process, the tree's total and the cap if given.

    ``series`` maps a process label to (times in s, memory in MB), e.g. from a sandbox's polls.

    Example:
        >>> memory_by_process({"parent": ([0, 1], [200, 210])}, cap_mb=900).summary
        'Memory: parent peaked at 210 MB; the whole tree at 210 MB (cap 900 MB).'
    """
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    totals: dict[float, float] = defaultdict(float)
    for (label, (t, mb)), (colour, style) in zip(series.items(), _looks(list(series))):
        ax.plot(t, mb, color=colour, ls=style, lw=1.5, label=label)
        for a, b in zip(t, mb):
            totals[a] += b
    if len(series) > 1 and totals:
        ts = sorted(totals)
        ax.plot(
            ts,
            [totals[a] for a in ts],
            color=OKABE_ITO["black"],
            lw=1,
            ls=(0, (1, 2)),
            label="whole tree",
        )
    if cap_mb:
        ax.axhline(cap_mb, color=OKABE_ITO["black"], ls="--", lw=1, label=f"cap ({cap_mb:g} MB)")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("PSS, anonymous + shared (MB)")
    ax.set_ylim(bottom=0)
    set_title(ax, title, size[0] * 0.65)
    if series:
        fig.legend(fontsize=7, loc="outside right upper")
    if not series:
        return Chart(fig, "Memory: no process was sampled.")
    peaks = ", ".join(
        f"{label} peaked at {max(mb, default=0):.0f} MB" for label, (_, mb) in series.items()
    )
    total = max(totals.values(), default=0.0)
    cap = f" (cap {cap_mb:g} MB)" if cap_mb else ""
    return Chart(fig, f"Memory: {peaks}; the whole tree at {total:.0f} MB{cap}.")


def cpu_by_process(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    budget: float | None = None,
    title: str = "CPU by process",
) -> Chart:
    """Cores busy over time stacked by process, from each process's cumulative CPU seconds.

    ``series`` maps a process label to (times in s, CPU seconds used so far).

    Example:
        >>> chart = cpu_by_process({"trainer": ([0, 1, 2], [0, 0.5, 1.5])}, budget=2)
        >>> chart.summary.endswith("over 2.0 s of wall time (0.75 cores busy on average, B = 2).")
        True
    """
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    grid = sorted({a for t, _ in series.values() for a in t})
    mids = [(a + b) / 2 for a, b in zip(grid, grid[1:])]
    stacks, labels, used = [], [], {}
    for label, (t, cpu) in series.items():
        at = dict(zip(t, cpu))
        rates = [
            (at[b] - at[a]) / (b - a) if a in at and b in at and b > a else 0.0
            for a, b in zip(grid, grid[1:])
        ]
        stacks.append(rates)
        labels.append(label)
        used[label] = max(cpu, default=0.0)
    if mids:
        looks = _looks(labels)
        areas = ax.stackplot(mids, stacks, labels=labels, colors=[c for c, _ in looks])
        for area, (_, style) in zip(areas, looks):  # a repeated role: hatched, not a new colour
            hatch = {"--": "//", "-.": "..", ":": "xx"}.get(style)
            if hatch:
                area.set_hatch(hatch)
        fig.legend(fontsize=7, loc="outside right upper")
    if budget:
        ax.axhline(budget, color=OKABE_ITO["black"], ls="--", lw=1)
        ax.annotate(
            f"B = {budget:g}", (0, budget), fontsize=8, xytext=(2, 2), textcoords="offset points"
        )
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("cores busy")
    set_title(ax, title, 8 * 0.65)
    wall = grid[-1] - grid[0] if len(grid) > 1 else 0.0
    total = sum(used.values())
    if wall <= 0:
        return Chart(fig, "CPU by process: not enough samples to measure.")
    parts = ", ".join(
        f"{label} {s:.2f} s" for label, s in sorted(used.items(), key=lambda kv: -kv[1])
    )
    b = f", B = {budget:g}" if budget else ""
    peak = max((sum(v) for v in zip(*stacks)), default=0.0)
    above = (
        f" The peak of {peak:.1f} cores busy is above B: each process's CPU time is read "
        "once per poll, a moment apart (and a CPU quota is enforced per 100 ms period)."
        if budget and peak > 1.05 * budget
        else ""
    )
    return Chart(
        fig,
        f"CPU by process: {parts}; {total:.2f} s in all over {wall:.1f} s of wall "
        f"time ({total / wall:.2f} cores busy on average{b}).{above}",
    )


def loss_by_worker(result: RunResult) -> Chart:
    """Training loss per step as each worker of a multi-worker run reported it, one line each.

    Reads ``result.facts["per_worker"]`` (see
    :func:`fitscope.lessons.distributed.strategies.multiworker_training`);
    later workers are drawn dashed on top, so identical curves show as one.
    """
    from matplotlib.ticker import MaxNLocator

    workers = [w for w in result.facts.get("per_worker", []) if w.get("losses")]
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    colours = [OKABE_ITO[k] for k in ("blue", "orange", "bluish green", "vermillion")]
    for i, w in enumerate(workers):
        ax.plot(
            range(1, len(w["losses"]) + 1),
            w["losses"],
            color=colours[i % len(colours)],
            ls="-" if i == 0 else (0, (4, 2 + i)),
            lw=2.5 - 0.6 * min(i, 2),
            label=f"worker {w['index']} (seed {w.get('seed', '?')})",
        )
    ax.set_xlabel("training step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss (binary cross-entropy)")
    set_title(ax, f"Loss per step: {result.name}", 8 * 0.7)
    if workers:
        fig.legend(fontsize=8, loc="outside right upper")
    if not workers:
        return Chart(fig, "Loss by worker: no worker finished training.")
    steps = min(len(w["losses"]) for w in workers)
    diff = max(abs(w["losses"][s] - workers[0]["losses"][s]) for w in workers for s in range(steps))
    return Chart(
        fig,
        f"Loss by worker: {len(workers)} workers over {steps} steps; the largest "
        f"difference between workers at any step is {diff:.3g}.",
    )
