"""One picture per Keras backend of who runs what during ``fit``: the summary of notebooks 01 and
01b, drawn from the collection's own role names and colours.

Each panel is a backend; each row a thread role, in the colour the timelines give it, with what
that role runs during ``fit`` (your generator's ``next()``, the train step, the callbacks, the
prefetch, a ``PyDataset``'s workers). The picture is what the notebooks measure on any machine;
your own run's timelines show it with your numbers.

Example:
    >>> chart = backend_diagram()
    >>> [ax.get_title() for ax in chart.figure.axes]
    ['TensorFlow', 'JAX', 'PyTorch']
"""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from fitscope.instrument.threads import MAIN, TF_CREATED, TF_DATA
from fitscope.isolation.scripts.backend_fit import CALLBACK_THREADS, PYDATASET_THREADS
from fitscope.show.palette import Chart, role_colour

__all__ = ["WHO_RUNS_WHAT", "backend_diagram"]

WORKERS = "__getitem__ ahead of the loop, when you pass a PyDataset(workers=...)"
WHO_RUNS_WHAT: dict[str, list[tuple[str, str]]] = {
    "TensorFlow": [
        (
            MAIN,
            "fit's loop, one step after the other; Keras's peek at the first batches; callbacks",
        ),
        (TF_DATA, "your generator's next() after the peek, ahead of the step (prefetch)"),
        (TF_CREATED, "the step's math (intra-op pool) and tf.data's in-graph work"),
        (PYDATASET_THREADS, WORKERS),
    ],
    "JAX": [
        (MAIN, "fit's loop and your generator's next(); dispatches each step and goes on"),
        ("threads jax created", "the compiled step (XLA), while the main thread moves on"),
        (CALLBACK_THREADS, "per-batch callbacks when all are async_safe (else on main, waiting)"),
        (PYDATASET_THREADS, WORKERS),
    ],
    "PyTorch": [
        (
            MAIN,
            "fit's loop, next() through a DataLoader with no workers, the eager step, callbacks",
        ),
        ("threads torch created", "the step's math (intra-op pool) while the main thread waits"),
        (PYDATASET_THREADS, WORKERS),
    ],
}
"""Per backend, (thread role, what it runs during fit): what notebooks 01 and 01b measure."""


def backend_diagram(width_in: float = 13.0) -> Chart:
    """Three panels, TensorFlow, JAX and PyTorch: one row per thread role, coloured as in the
    timelines, saying what that role runs during ``fit``."""
    rows = max(len(lanes) for lanes in WHO_RUNS_WHAT.values())
    fig = Figure(figsize=(width_in, 1.0 + 1.05 * rows), layout="constrained")
    axes = fig.subplots(1, len(WHO_RUNS_WHAT))
    for ax, (backend, lanes) in zip(axes, WHO_RUNS_WHAT.items(), strict=True):
        ax.set_xlim(0, 1)
        ax.set_ylim(rows, 0)
        ax.axis("off")
        ax.set_title(backend, fontweight="bold")
        for row, (role, work) in enumerate(lanes):
            colour = role_colour(role)
            box = FancyBboxPatch(
                (0.02, row + 0.08),
                0.96,
                0.84,
                boxstyle="round,pad=0,rounding_size=0.04",
                facecolor=colour + "33",  # the role's colour, light enough for black text
                edgecolor=colour,
                linewidth=2,
            )
            ax.add_patch(box)
            ax.text(0.05, row + 0.3, role, fontweight="bold", fontsize=9, va="center")
            ax.text(0.05, row + 0.62, "\n".join(textwrap.wrap(work, 44)), fontsize=8, va="center")
    fig.suptitle(
        "Who runs what during fit, per Keras backend (rows: thread roles, as in the timelines)"
    )
    summary = (
        "Who runs what during fit: on TensorFlow tf.data's threads call your generator after "
        "Keras's peek; on JAX and PyTorch the main thread calls it, JAX's step runs on XLA's "
        "threads while the main thread moves on, and a PyDataset's worker threads make batches "
        "on every backend."
    )
    return Chart(fig, summary)
