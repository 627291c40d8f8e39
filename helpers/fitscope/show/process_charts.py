"""Charts of a tree of processes over time: memory and CPU per process, for sandboxed runs.

The sandbox samples every process of a run (the interpreter it started and that one's
children); these charts draw those series with the same colours and units as
:mod:`fitscope.show.charts`.

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
from fitscope.show.charts import OKABE_ITO, OTHER_COLOUR, Chart

__all__ = ["memory_by_process", "cpu_by_process", "loss_by_worker"]

_PROCESS_COLOURS = [OKABE_ITO[k] for k in ("blue", "orange", "bluish green", "vermillion",
                                           "reddish purple", "sky blue", "yellow", "black")]


def memory_by_process(series: dict[str, tuple[Sequence[float], Sequence[float]]],
                      cap_mb: float | None = None, title: str = "Memory per process",
                      size: tuple[float, float] = (8, 3.2)) -> Chart:
    """Memory (MB) over time, one line per process, the tree's total and the cap if given.

    ``series`` maps a process label to (times in s, memory in MB), e.g. from a sandbox's polls.

    Example:
        >>> memory_by_process({"parent": ([0, 1], [200, 210])}, cap_mb=900).summary
        'Memory: parent peaked at 210 MB; the whole tree at 210 MB (cap 900 MB).'
    """
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    totals: dict[float, float] = defaultdict(float)
    for i, (label, (t, mb)) in enumerate(series.items()):
        ax.plot(t, mb, color=_PROCESS_COLOURS[i % len(_PROCESS_COLOURS)], lw=1.5, label=label)
        for a, b in zip(t, mb):
            totals[a] += b
    if len(series) > 1 and totals:
        ts = sorted(totals)
        ax.plot(ts, [totals[a] for a in ts], color=OTHER_COLOUR, lw=1, ls="-.", label="whole tree")
    if cap_mb:
        ax.axhline(
            cap_mb, color=OKABE_ITO["vermillion"], ls="--", lw=1, label=f"cap ({cap_mb:g} MB)"
        )
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("RssAnon + RssShmem (MB)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    if series:
        ax.legend(fontsize=7, loc="upper left")
    if not series:
        return Chart(fig, "Memory: no process was sampled.")
    peaks = ", ".join(f"{label} peaked at {max(mb, default=0):.0f} MB"
                      for label, (_, mb) in series.items())
    total = max(totals.values(), default=0.0)
    cap = f" (cap {cap_mb:g} MB)" if cap_mb else ""
    return Chart(fig, f"Memory: {peaks}; the whole tree at {total:.0f} MB{cap}.")


def cpu_by_process(series: dict[str, tuple[Sequence[float], Sequence[float]]],
                   budget: float | None = None, title: str = "CPU by process") -> Chart:
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
        rates = [(at[b] - at[a]) / (b - a) if a in at and b in at and b > a else 0.0
                 for a, b in zip(grid, grid[1:])]
        stacks.append(rates)
        labels.append(label)
        used[label] = max(cpu, default=0.0)
    if mids:
        ax.stackplot(
            mids,
            stacks,
            labels=labels,
            colors=[_PROCESS_COLOURS[i % len(_PROCESS_COLOURS)] for i in range(len(labels))],
        )
        ax.legend(fontsize=7, loc="upper left")
    if budget:
        ax.axhline(budget, color=OKABE_ITO["black"], ls="--", lw=1)
        ax.annotate(f"B = {budget:g}", (0, budget), fontsize=8, xytext=(2, 2),
                    textcoords="offset points")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("cores busy")
    ax.set_title(title)
    wall = grid[-1] - grid[0] if len(grid) > 1 else 0.0
    total = sum(used.values())
    if wall <= 0:
        return Chart(fig, "CPU by process: not enough samples to measure.")
    parts = ", ".join(
        f"{label} {s:.2f} s" for label, s in sorted(used.items(), key=lambda kv: -kv[1])
    )
    b = f", B = {budget:g}" if budget else ""
    return Chart(fig, f"CPU by process: {parts}; {total:.2f} s in all over {wall:.1f} s of wall "
                      f"time ({total / wall:.2f} cores busy on average{b}).")


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
        ax.plot(range(1, len(w["losses"]) + 1), w["losses"], color=colours[i % len(colours)],
                ls="-" if i == 0 else (0, (4, 2 + i)), lw=2.5 - 0.6 * min(i, 2),
                label=f"worker {w['index']} (seed {w.get('seed', '?')})")
    ax.set_xlabel("training step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss (binary cross-entropy)")
    ax.set_title(f"Loss per step: {result.name}")
    if workers:
        ax.legend(fontsize=8)
    if not workers:
        return Chart(fig, "Loss by worker: no worker finished training.")
    steps = min(len(w["losses"]) for w in workers)
    diff = max(abs(w["losses"][s] - workers[0]["losses"][s]) for w in workers for s in range(steps))
    return Chart(fig, f"Loss by worker: {len(workers)} workers over {steps} steps; the largest "
                      f"difference between workers at any step is {diff:.3g}.")
