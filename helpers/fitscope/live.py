"""Live displays: what a panel draws while a run is in progress, from the cell's own thread.

A live display implements :class:`fitscope.measure.Live` (``start``, ``step``, ``finish``). The
figure is inline matplotlib rendered to PNG into an ``ipywidgets.Output`` with
``clear_output(wait=True)`` (ipympl figures do not update mid-cell under Run All). Drawing is
throttled so it costs under ``max_share`` (5%) of the run at every run length, and each redraw
is traced as a "ui" span, which every verdict leaves out.

Example:
    >>> import ipywidgets as w
    >>> live = LiveThroughput(w.Output())
    >>> live.frames
    0
"""

from __future__ import annotations

import time

import ipywidgets as w
from IPython.display import Image, display
from matplotlib.figure import Figure

from .plots import Chart, throughput_figure
from .tracing import Tracer

__all__ = ["LiveThroughput"]


class LiveThroughput:
    """Live steps/s drawn into an Output while a scenario runs (see :class:`fitscope.measure.Live`).

    A frame is drawn at the start, after the first step, whenever ``min_interval_s`` has passed
    and one more frame keeps the time spent drawing within ``max_share`` of the run, and at the end.
    """

    def __init__(self, output: w.Output, counter: w.HTML | None = None,
                 min_interval_s: float = 0.5, max_share: float = 0.05) -> None:
        self.output, self.counter = output, counter
        self.min_interval_s, self.max_share = min_interval_s, max_share
        self.frames = 0
        self.draw_s = 0.0
        self.pngs: list[bytes] = []

    def start(self, tracer: Tracer, total_steps: int, bound_rate: float | None,
              sequential_rate: float | None) -> None:
        self.tracer, self.total = tracer, total_steps
        self.bound_rate, self.sequential_rate = bound_rate, sequential_rate
        self.ends: list[float] = []
        self._figure: Figure | None = None
        self._frame_s = 0.0
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._draw()

    def step(self) -> None:
        now = time.perf_counter()
        self.ends.append(now - self.t0)
        elapsed = now - self.t0
        due = now - self._last >= self.min_interval_s
        affordable = self.draw_s + self._frame_s <= self.max_share * elapsed
        if len(self.ends) == 1 or (due and affordable):
            self._draw()

    def finish(self) -> None:
        self._draw(last=True)

    def _series(self) -> tuple[list[float], list[float]]:
        """Steps/s in 10 equal windows over the steps so far (after the first step)."""
        ends = self.ends[1:]
        if len(ends) < 2:
            return [], []
        n = min(10, len(ends) - 1)
        idx = [round(i * (len(ends) - 1) / n) for i in range(n + 1)]
        return ([ends[j] for j in idx[1:]],
                [(j - i) / max(ends[j] - ends[i], 1e-9) for i, j in zip(idx, idx[1:])])

    def _draw(self, last: bool = False) -> None:
        start = time.perf_counter()
        with self.tracer.span(f"frame {self.frames + 1}", "ui"):
            t, rate = self._series()
            if self._figure is None:
                self._figure = throughput_figure(t, rate, self.bound_rate, self.sequential_rate,
                                                 title="Live throughput", size=(7, 2.6))
            ax = self._figure.axes[0]
            ax.lines[0].set_data(t, rate)
            ax.relim()
            ax.autoscale_view()
            ax.set_ylim(bottom=0)
            title = f"Live throughput — step {len(self.ends)} of {self.total}"
            if last:  # say what the drawing cost, since a short run cannot hide its fixed frames
                share = self.draw_s / max(time.perf_counter() - self.t0, 1e-9)
                title += f"; drawing took {100 * share:.0f}% of the run"
            ax.set_title(title)
            png = Chart(self._figure, "").png(dpi=72)
            self.output.clear_output(wait=True)
            with self.output:
                display(Image(data=png))
            self.frames += 1
            self.pngs.append(png)
            if self.counter is not None:
                self.counter.value = (f"frame {self.frames} · step {len(self.ends)}/{self.total}"
                                      f" · drawing {1e3 * self.draw_s:.0f} ms so far")
        self._last = time.perf_counter()
        self._frame_s = self._last - start
        self.draw_s += self._frame_s
