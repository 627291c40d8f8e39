"""One colour per meaning across the collection, the Chart every figure comes as, and its titles.

Colours are Okabe–Ito (safe for the common colour-vision deficiencies). A kind of work
(a span's category) and the thread role known for it share one colour, so a colour means the same
in a timeline and in a CPU chart: blue is training (train steps; the main thread, which runs
them), orange is your Python data code (``next()``; the threads that call it), bluish green is
TensorFlow's own work (in-graph tf.data; the threads TensorFlow created), reddish purple is the
user interface (the panel's frames; the kernel's threads). Grey is waiting only; processes are
coloured by their role, never by their order.

Example:
    >>> ROLE_COLOURS["main"] == CATEGORY_COLOURS["train"] == OKABE_ITO["blue"]
    True
    >>> process_colour("producer (812)") == CATEGORY_COLOURS["generator"]
    True
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fitscope.instrument.tables import FACTS_CLASS, facts_html
from fitscope.instrument.threads import EARLIER, FITSCOPE, KERNEL, LATER, MAIN, TF_CREATED, TF_DATA

__all__ = [
    "OKABE_ITO",
    "CATEGORY_COLOURS",
    "ROLE_COLOURS",
    "PROCESS_COLOURS",
    "OTHER_COLOUR",
    "WAIT_COLOUR",
    "role_colour",
    "process_colour",
    "Chart",
    "set_title",
]

OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
WAIT_COLOUR = "#BBBBBB"  # waiting for data: the one grey that means something
OTHER_COLOUR = "#999999"  # anything not classified (never a role of its own)
CATEGORY_COLOURS = {
    "train": OKABE_ITO["blue"],
    "generator": OKABE_ITO["orange"],
    "tf.data": OKABE_ITO["bluish green"],
    "ui": OKABE_ITO["reddish purple"],
    "work": OKABE_ITO["sky blue"],
    "io": OKABE_ITO["yellow"],
    "predict": OKABE_ITO["vermillion"],
    "wait": WAIT_COLOUR,
}
ROLE_COLOURS = {
    MAIN: CATEGORY_COLOURS["train"],
    KERNEL: CATEGORY_COLOURS["ui"],
    TF_DATA: CATEGORY_COLOURS["generator"],
    "PyDataset worker threads (ran Python)": CATEGORY_COLOURS["generator"],
    TF_CREATED: CATEGORY_COLOURS["tf.data"],
    LATER: OKABE_ITO["sky blue"],
    EARLIER: OKABE_ITO["yellow"],
    "Keras callback threads": OKABE_ITO["vermillion"],
    FITSCOPE: OKABE_ITO["black"],
}
# Processes of a sandboxed run, by the role in their label ("producer (812)" → producer).
PROCESS_COLOURS = {
    "parent": OKABE_ITO["blue"],
    "main": OKABE_ITO["blue"],
    "launch": OKABE_ITO["blue"],
    "trainer": OKABE_ITO["bluish green"],
    "producer": OKABE_ITO["orange"],
    "worker": OKABE_ITO["orange"],
    "dispatcher": OKABE_ITO["vermillion"],
    "forkserver or its child": OKABE_ITO["sky blue"],
    "spawned child": OKABE_ITO["reddish purple"],
    "resource tracker": OKABE_ITO["yellow"],
}


def role_colour(role: str) -> str:
    """The colour of a thread role (grey for a role fitscope does not know); the threads a
    backend created ("threads jax created") share TensorFlow's.

    Example:
        >>> role_colour("threads jax created") == ROLE_COLOURS["threads TensorFlow created"]
        True
    """
    if role.startswith("threads ") and role.endswith(" created"):
        return ROLE_COLOURS[TF_CREATED]
    return ROLE_COLOURS.get(role, OTHER_COLOUR)


def process_colour(label: str) -> str:
    """The colour of a process label such as ``"worker 1 (4242)"``: its role's, whatever its
    order."""
    role = label.split(" (")[0].strip()
    for name, colour in PROCESS_COLOURS.items():
        if role == name or role.startswith(name + " "):
            return colour
    return OTHER_COLOUR


def set_title(ax: Axes, text: str, width_in: float | None = None) -> None:
    """A title wrapped to the width of its axes, so a long one is never cut off."""
    fig = ax.get_figure(root=True)
    assert fig is not None, "an Axes is made by its figure"
    width_in = width_in or fig.get_figwidth() * ax.get_position().width
    chars = max(20, int(width_in * 72 / 6.8))  # about 6.8 points per character at 12 pt
    ax.set_title("\n".join(textwrap.wrap(text, chars)) or text)


@dataclass
class Chart:
    """A figure and its one-line summary; shows both when it is the last value of a cell.

    ``facts`` (optional) are machine-readable facts of what the summary prints (a run's
    quantities: :mod:`fitscope.instrument.printed`), carried hidden: in :meth:`html` as a facts
    block, in a displayed chart's output metadata under ``FACTS_CLASS`` (:meth:`outputs`).
    """

    figure: Figure
    summary: str
    facts: Sequence[dict[str, Any]] = ()

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
        return f"{image}<p>{html.escape(self.summary)}</p>{facts_html(self.facts)}"

    def __str__(self) -> str:
        return self.summary

    def outputs(self) -> list[dict[str, Any]]:
        """The notebook outputs the chart shows as (nbformat): the PNG, whose text/plain is the
        summary and whose metadata carries the facts (an HTML output of its own would add an
        empty line under every chart), then the summary printed.

        Example:
            >>> chart = Chart(Figure(), "A summary.", [{"kind": "quantity"}])
            >>> [o["output_type"] for o in chart.outputs()], chart.outputs()[0]["metadata"][
            ...     FACTS_CLASS]
            (['display_data', 'stream'], [{'kind': 'quantity'}])
        """
        png = base64.b64encode(self.png()).decode("ascii")  # text/plain is the summary, not a repr
        metadata: dict[str, Any] = {"image/png": {"alt": self.summary}}
        if self.facts:
            metadata[FACTS_CLASS] = list(self.facts)
        return [
            {
                "output_type": "display_data",
                "data": {"image/png": png, "text/plain": self.summary},
                "metadata": metadata,
            },
            {"output_type": "stream", "name": "stdout", "text": self.summary + "\n"},
        ]

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for out in self.outputs():
            if out["output_type"] == "stream":
                print(out["text"], end="")
            else:
                display(out["data"], metadata=out["metadata"], raw=True)
