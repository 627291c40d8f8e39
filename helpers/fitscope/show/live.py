"""Live displays: what a panel draws while a run is in progress, never on the training thread.

A live display implements :class:`fitscope.instrument.measure.Live` (``start``, ``step``,
``finish``). The figure is inline matplotlib rendered to PNG and set as an ``ipywidgets.Output``'s
outputs (ipympl figures do not update mid-cell under Run All). :class:`LiveThroughput` draws
from a thread of its own at most 4 times a second, within ``max_share`` (5%) of the run, so
the steps it watches are not slowed by it; each frame is traced as a "ui" span, which every
verdict leaves out. :class:`StepCounter` is one line of text for a cell of several runs.
Sandboxed runs are fed from the sandbox's ``on_poll`` instead: :class:`LiveProcesses` and
:class:`WorkerProgress` live in :mod:`fitscope.show.live_sandboxed`, and a frame is set into its
Output by :mod:`fitscope.show.outputs`; both are importable from here too.

Example:
    >>> import ipywidgets as w
    >>> live = LiveThroughput(w.Output())
    >>> live.frames
    0
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as w
from IPython.display import display
from matplotlib.figure import Figure

from fitscope.instrument.tracing import Tracer
from fitscope.show.charts import Chart, fit_axes, rate_windows, throughput_figure
from fitscope.show.live_sandboxed import LiveProcesses, WorkerProgress
from fitscope.show.outputs import png_output, show_only, text_output
from fitscope.show.palette import set_title

__all__ = [
    "LiveThroughput",
    "LiveProcesses",
    "WorkerProgress",
    "StepCounter",
    "png_output",
    "show_only",
    "text_output",
]


class LiveThroughput:
    """Live steps/s drawn into an Output while a scenario runs (see
    :class:`fitscope.instrument.measure.Live`).

    The instrument stays out of the measurement: ``step`` (on the training thread, between steps)
    only reads the clock. Frames are drawn by a thread of their own ("fitscope live drawing"):
    the first in ``start`` (before the clock starts), then at most one every ``min_interval_s``
    (4 a second), and only while the time spent drawing stays within ``max_share`` of the run;
    the last in ``finish``, after the run. Each frame is a "ui" span on the thread that drew it.

    Steps are timed on arrival. Where they arrive in bursts (a sandboxed run's steps read at each
    poll: a quarter of the gaps or more under ``BURST_GAP_S``), their arrival times are not the
    steps' times, so no rate is read per window: each frame draws the steps so far over the time
    since the run started, and the last frame the run's steps over its whole window.
    """

    BURST_GAP_S = 1e-4  # no Keras step takes under 0.1 ms; arrivals closer than that came at once

    def __init__(
        self,
        output: w.Output,
        counter: w.HTML | None = None,
        min_interval_s: float = 0.25,
        max_share: float = 0.05,
    ) -> None:
        self.output, self.counter = output, counter
        self.min_interval_s, self.max_share = min_interval_s, max_share
        self.frames = 0
        self.draw_s = 0.0
        self.pngs: list[bytes] = []
        self.ends: list[float] = []
        self.finished_s: float | None = None
        self._thread: threading.Thread | None = None

    def start(
        self,
        tracer: Tracer,
        total_steps: int,
        bound_rate: float | None,
        sequential_rate: float | None,
    ) -> None:
        self.tracer, self.total = tracer, total_steps
        self.bound_rate, self.sequential_rate = bound_rate, sequential_rate
        self.ends, self.finished_s = [], None
        self._figure: Figure | None = None
        self._frame_s = 0.0
        self.t0 = time.perf_counter()
        self._draw()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._draw_while_running, daemon=True, name="fitscope live drawing"
        )
        self._thread.start()

    def step(self) -> None:
        self.ends.append(time.perf_counter() - self.t0)

    def finish(self) -> None:
        self.finished_s = time.perf_counter() - self.t0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self._draw(last=True)

    def _draw_while_running(self) -> None:
        drawn_at = 0
        while not self._stop.wait(self.min_interval_s):
            affordable = self.draw_s + self._frame_s <= self.max_share * (
                time.perf_counter() - self.t0
            )
            if len(self.ends) > drawn_at and affordable:
                drawn_at = len(self.ends)
                self._draw()
            elif self.counter is not None:  # cheap text between frames
                self._count(self.counter)

    @property
    def in_bursts(self) -> bool:
        """Whether the steps arrived in bursts: a quarter of the gaps or more under
        ``BURST_GAP_S``, so their arrival times are not their times.

        Example:
            >>> live = LiveThroughput(w.Output())
            >>> live.ends = [0.5, 0.5, 0.5, 0.5]
            >>> live.in_bursts
            True
        """
        gaps = [b - a for a, b in zip(self.ends, self.ends[1:])]
        return len(gaps) >= 2 and 4 * sum(g < self.BURST_GAP_S for g in gaps) >= len(gaps)

    def _series(self) -> tuple[list[float], list[float]]:
        """Steps/s in 10 equal windows over the steps so far, timed from the warm-up step's end;
        for steps that arrived in bursts, the steps so far over the time since the start."""
        if not self.in_bursts:
            return (
                rate_windows([e - self.ends[0] for e in self.ends[1:]]) if self.ends else ([], [])
            )
        t = sorted({*self.ends, *([self.finished_s] if self.finished_s else [])})
        return t, [sum(e <= x for e in self.ends) / max(x, 1e-9) for x in t]

    def final_rate(self) -> str:
        """The last frame's figure, over the run's window: steps/s after the warm-up step, or,
        for steps that arrived in bursts, all steps over the time from start to finish.

        Example:
            >>> live = LiveThroughput(w.Output())
            >>> live.ends, live.finished_s = [0.9, 0.9, 0.9, 0.9, 0.9], 2.0
            >>> live.final_rate().split(" (")[0]
            '5 steps in 2.00 s, 2.5 steps/s over the run'
        """
        n = len(self.ends)
        if self.in_bursts and self.finished_s:
            return (
                f"{n} steps in {self.finished_s:.2f} s, {n / self.finished_s:.3g} steps/s over "
                "the run (warm-up included: the steps arrived in bursts, so no rate is read "
                "per window)"
            )
        window = self.ends[-1] - self.ends[0]
        return f"{(n - 1) / max(window, 1e-9):.3g} steps/s after the warm-up step"

    def _count(self, counter: Any) -> None:
        counter.value = (
            f"frame {self.frames} · step {len(self.ends)}/{self.total} · "
            f"drawing {1e3 * self.draw_s:.0f} ms so far, none of it between "
            "training steps"
        )

    def _draw(self, last: bool = False) -> None:
        start = time.perf_counter()
        with self.tracer.span(f"frame {self.frames + 1}", "ui"):
            t, rate = self._series()
            if self._figure is None:
                self._figure = throughput_figure(
                    t,
                    rate,
                    self.bound_rate,
                    self.sequential_rate,
                    title="Live throughput",
                    size=(7.5, 2.8),
                )
            ax = self._figure.axes[0]
            ax.lines[0].set_data(t, rate)
            fit_axes(ax, t, [*rate, self.bound_rate or 0, self.sequential_rate or 0])
            title = f"Live throughput: step {len(self.ends)} of {self.total}"
            if last and len(self.ends) > 1:
                title += f", done: {self.final_rate()}"
            set_title(ax, title, 5.2)
            png = Chart(self._figure, "").png(dpi=72)
            show_only(self.output, png_output(png, title))
            self.frames += 1
            self.pngs.append(png)
            if self.counter is not None:
                self._count(self.counter)
        self._frame_s = time.perf_counter() - start
        self.draw_s += self._frame_s


class StepCounter:
    """One line of progress for a cell that runs several experiments: which run, which step.

    A :class:`fitscope.instrument.measure.Live` that draws nothing but text (an updated display, no
    widget, so it also reads right in a static copy of the notebook); ``next_run(label)`` names
    the run about to start (e.g. while a fresh interpreter imports TensorFlow, before its first
    step).

    Example:
        >>> counter = StepCounter()
        >>> counter.next_run("threads, sleep")
        >>> counter.text
        'threads, sleep: starting…'
    """

    def __init__(self, min_interval_s: float = 0.25) -> None:
        self.min_interval_s = min_interval_s
        self.label, self.steps, self.total, self._last = "", 0, 0, 0.0
        self.text = ""
        self._handle: Any = None

    @classmethod
    def shown(cls) -> StepCounter:
        """A counter displayed in the current cell; when the cell ends, a line still saying
        "starting…" or a step count says how the cell ended instead, so no stale progress is
        left in a finished notebook."""
        from IPython import get_ipython

        counter = cls()
        counter._handle = display({"text/plain": "", "text/html": ""}, raw=True, display_id=True)
        shell = get_ipython()
        if shell is not None:

            def settle(result: Any) -> None:
                shell.events.unregister("post_run_cell", settle)
                counter.settle(bool(getattr(result, "success", True)))

            shell.events.register("post_run_cell", settle)
        return counter

    def settle(self, success: bool = True) -> None:
        """The last line for a finished cell: "done", or that the cell stopped, unless the
        last run already said "done".

        Example:
            >>> counter = StepCounter()
            >>> counter.next_run("the tf.data service")
            >>> counter.settle()
            >>> counter.text
            'the tf.data service: done'
        """
        if self.label and not self.text.endswith("done"):
            self._say(
                f"{self.label}: done"
                if success
                else f"{self.label}: stopped, the cell ended with an error"
            )

    @classmethod
    def in_notebook(cls) -> StepCounter:
        """Shown in the running cell inside a Jupyter kernel; a silent counter anywhere else."""
        from IPython import get_ipython

        return cls.shown() if getattr(get_ipython(), "kernel", None) is not None else cls()

    def next_run(self, label: str) -> None:
        self.label, self.steps, self.total = label, 0, 0
        self._say(f"{label}: starting…")

    def start(
        self,
        tracer: Tracer,
        total_steps: int,
        bound_rate: float | None,
        sequential_rate: float | None,
    ) -> None:
        self.steps, self.total = 0, total_steps
        self._say(f"{self.label}: step 0 of {total_steps}")

    def step(self) -> None:
        self.steps += 1
        if time.perf_counter() - self._last >= self.min_interval_s:
            self._say(f"{self.label}: step {self.steps} of {self.total}")

    def finish(self) -> None:
        self._say(f"{self.label}: step {self.steps} of {self.total}, done")

    def _say(self, text: str) -> None:
        self._last, self.text = time.perf_counter(), text
        if self._handle is not None:
            # plain text beside the HTML, so a text-only view shows the line, not an object repr
            self._handle.update(
                {"text/plain": text, "text/html": f"<small>{html.escape(text)}</small>"}, raw=True
            )
