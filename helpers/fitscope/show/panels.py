"""The ExperimentPanel: change a workload, press Run, watch throughput live, read the threads after.

The live figure is inline matplotlib rendered to PNG into an ``ipywidgets.Output`` (ipympl
figures do not update mid-cell under Run All). While a run is in progress, frames are drawn by a
thread of their own, never on the training thread between steps, at most 4 a second and within
5% of the run; each frame is traced as a "ui" span, which every verdict leaves out.
Widget clicks are only processed while the kernel is idle, so a run is bounded by a time budget;
Kernel > Interrupt stops one early.

Each scenario module builds its own panel from these parts (e.g.
``generator_fit.generator_fit_panel``); live displays are in :mod:`fitscope.show.live`.

Example:
    >>> from fitscope.lessons.generator.fit import generator_fit_panel
    >>> panel = generator_fit_panel()      # doctest: +SKIP
    >>> panel                              # doctest: +SKIP
"""

from __future__ import annotations

import html
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import display

from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import RunResult
from fitscope.show.charts import Chart, cpu_by_thread, timeline
from fitscope.show.live import LiveThroughput, png_output, show_only, text_output

__all__ = ["Control", "ExperimentPanel"]


@dataclass(frozen=True)
class Control:
    """One input of a panel: ``kind`` is "int", "float" or "choice"."""

    name: str
    label: str
    default: Any
    kind: str = "int"
    choices: Sequence[str] = ()

    def widget(self) -> w.Widget:
        style = {"description_width": "initial"}
        if self.kind == "choice":
            return w.Dropdown(
                options=list(self.choices), value=self.default, description=self.label, style=style
            )
        cls = w.IntText if self.kind == "int" else w.FloatText
        return cls(
            value=self.default, description=self.label, style=style, layout=w.Layout(width="220px")
        )


class ExperimentPanel:
    """Controls, a Run button, a live figure and, after a run, the timeline and CPU plots.

    ``run(live=..., time_budget_s=..., **values)`` must return a RunResult; it gets the
    validated values of the controls. Bad values give one sentence in the panel.
    ``live_display(output, counter)`` makes the live display handed to ``run`` (throughput by
    default); ``charts_after(result)`` gives the charts shown after a run (the thread timeline and
    CPU by thread by default).
    """

    def __init__(
        self,
        title: str,
        controls: Sequence[Control],
        run: Callable[..., RunResult],
        time_budget_s: float = 60.0,
        summarise: Callable[[RunResult], str] | None = None,
        live_display: Callable[[w.Output, w.HTML], Any] = LiveThroughput,
        charts_after: Callable[[RunResult], Sequence[Chart]] | None = None,
    ) -> None:
        self.controls = {c.name: c for c in controls}
        self.inputs = {c.name: c.widget() for c in controls}
        self._run, self.time_budget_s, self._summarise = run, time_budget_s, summarise
        self._live_display = live_display
        self._charts_after = charts_after or (lambda r: (timeline(r), cpu_by_thread(r)))
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.status = w.HTML()
        self._say("Set the workload, then press Run.")
        self.counter = w.HTML()
        self.live = w.Output()
        self.after = w.Output()
        self.result: RunResult | None = None
        self.last_live: Any = None
        self.button.on_click(lambda _: self.run(from_button=True))
        self.save_button = w.Button(
            description="Save result",
            icon="save",
            disabled=True,
            tooltip="Save the last run as JSON in class_results/ (to pool a class's runs)",
        )
        self.save_button.on_click(lambda _: self._save_from_button())
        note = w.HTML(
            f"<small>Each run stops after {time_budget_s:g} s at most; "
            "<b>Kernel › Interrupt</b> stops it sooner.</small>"
        )
        self.widget = w.VBox(
            [
                w.HTML(f"<h3>{html.escape(title)}</h3>"),
                w.GridBox(
                    list(self.inputs.values()),
                    layout=w.Layout(grid_template_columns="repeat(3, 240px)"),
                ),
                w.HBox([self.button, self.save_button, self.status]),
                note,
                self.counter,
                self.live,
                self.after,
            ]
        )

    def _ipython_display_(self) -> None:
        display(self.widget)

    def set(self, **values: Any) -> None:
        """Set controls as a learner would (values are not checked until Run)."""
        for name, value in values.items():
            if name not in self.inputs:
                raise FitscopeInputError(f"this panel has no control named {name!r}.")
            self.inputs[name].value = value

    def save(self, folder: str | Path = "class_results", label: str | None = None) -> Path:
        """Save the last run as ``<folder>/<label or host>-<time>.json`` for pooling a class's
        results."""
        if self.result is None:
            raise FitscopeInputError("there is no result to save yet: press Run first.")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = label or socket.gethostname()
        path = folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        result = self.result
        result.environment.setdefault("label", stem)
        return result.save(path)

    def _save_from_button(self) -> None:
        try:
            self._say(f"Saved {self.save()}.")
        except (FitscopeInputError, OSError) as e:
            self._say(f"Could not save: {e}".rstrip(".") + ".", "error")

    def values(self) -> dict[str, Any]:
        return {name: widget.value for name, widget in self.inputs.items()}

    @property
    def message(self) -> str:
        """The panel's last status sentence, as plain text."""
        return self._message

    def _say(self, text: str, kind: str = "info") -> None:
        self._message = text
        colour = {"info": "#000000", "error": "#D55E00"}[kind]
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def run(self, from_button: bool = False, **values: Any) -> RunResult | None:
        """Run with the controls' values (``values`` set them first). Returns the RunResult."""
        if values:
            self.set(**values)
        live = self._live_display(self.live, self.counter)
        self.button.disabled = True
        self._say("Running…")
        try:
            result = self._run(live=live, time_budget_s=self.time_budget_s, **self.values())
        except FitscopeInputError as e:
            self._say(str(e), "error")
            if from_button:
                return None
            raise
        except KeyboardInterrupt:
            self._say("Stopped by Kernel › Interrupt; the panel is ready for another run.", "error")
            if from_button:
                return None
            raise
        except Exception as e:  # a failed experiment must leave the panel usable
            self._say(f"The run failed: {type(e).__name__}: {e}".split("\n")[0], "error")
            if from_button:
                return None
            raise
        finally:
            self.button.disabled = False
        self.result, self.last_live = result, live
        self.save_button.disabled = False
        try:
            self._show_after(result)
            summary = self._summarise(result) if self._summarise else result.name
        except Exception as e:  # the run is kept (and can be saved) even if a chart fails
            self._say(
                f"The run ended, but its charts failed: {type(e).__name__}: {e}".split("\n")[0],
                "error",
            )
            if from_button:
                return result
            raise
        frames = getattr(live, "frames", None)
        self._say(f"Done: {summary}" + (f" ({frames} live frames)." if frames is not None else "."))
        return result

    def _show_after(self, result: RunResult) -> None:
        outputs = []
        for chart in self._charts_after(result):
            outputs += [png_output(chart.png(), chart.summary), text_output(chart.summary + "\n")]
        show_only(self.after, *outputs)  # not `with self.after:` (see show_only)
