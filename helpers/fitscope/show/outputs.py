"""An ``ipywidgets.Output``'s outputs, made and set in one go: a PNG frame or a line of text.

Every live display (:mod:`fitscope.show.live`, :mod:`fitscope.show.live_sandboxed`) and the
experiment panel swap their frames with :func:`show_only`.
"""

from __future__ import annotations

import base64
from typing import Any

__all__ = ["png_output", "text_output", "show_only"]


def png_output(png: bytes, alt: str = "") -> dict[str, Any]:
    """A PNG as one output of an ``ipywidgets.Output`` (an nbformat ``display_data``)."""
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": alt or "<image>"}
    return {
        "output_type": "display_data",
        "data": data,
        "metadata": {"image/png": {"alt": alt}} if alt else {},
    }


def text_output(text: str) -> dict[str, Any]:
    """A line of text as one output of an ``ipywidgets.Output`` (a stdout ``stream``)."""
    return {"output_type": "stream", "name": "stdout", "text": text}


def show_only(output: Any, *outputs: dict[str, Any]) -> None:
    """Make ``output`` (an ``ipywidgets.Output``) show just ``outputs``, by setting its state.

    Not ``with output: display(...)``: under nbclient (``jupyter nbconvert --execute``) each
    output captured that way makes the client send the widget's outputs back on the shell channel
    while it waits for the cell's reply, which can lose the reply's wake-up until the cell timeout
    (docs/troubleshooting.md). Setting the state sends nothing back and swaps a frame in one go.
    """
    output.outputs = tuple(outputs)
