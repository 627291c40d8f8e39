"""Live displays fed by a sandbox's ``on_poll`` from the cell's thread, while the training runs in
another process: :class:`LiveProcesses` (memory per process and the scripts' counters, notebook
02) and :class:`WorkerProgress` (each worker's last event, step and loss, notebook 04).

Example:
    >>> import ipywidgets as w
    >>> WorkerProgress(w.Output(), w.HTML()).last
    {}
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w
from IPython.display import display

from fitscope.instrument.result import RunResult
from fitscope.show.outputs import png_output, show_only

if TYPE_CHECKING:
    from fitscope.isolation.launcher import Limits, ProcessRecorder
    from fitscope.isolation.sandbox import Progress

__all__ = ["FINAL_EVENTS", "LiveProcesses", "WorkerProgress"]

FINAL_EVENTS = ("trained", "error")  # a worker's last report: drawn at once, whatever the interval


class LiveProcesses:
    """Live memory per process and the scripts' counters, drawn into an Output during a run.

    Fed from the sandbox's ``on_poll`` on the cell's thread. The counter line updates at every
    poll; a frame (PNG into the Output) is drawn at the start, whenever ``min_interval_s`` has
    passed and one more frame keeps drawing within ``max_share`` of the run, and at the end.
    """

    def __init__(
        self, output: Any, counter: Any = None, min_interval_s: float = 0.5, max_share: float = 0.05
    ) -> None:
        self.output, self.counter = output, counter
        self.min_interval_s, self.max_share = min_interval_s, max_share
        self.frames = 0
        self.draw_s = 0.0
        self.pngs: list[bytes] = []
        self.polls = 0

    @classmethod
    def shown(cls) -> LiveProcesses:
        """A live display with its own Output and counter line, displayed in the current cell."""
        live = cls(w.Output(), w.HTML())
        display(w.VBox([live.counter, live.output]))
        return live

    def start(self, title: str, limits: Limits) -> None:
        self.title, self.limits = title, limits
        self.t0 = time.perf_counter()
        self._last, self._frame_s = 0.0, 0.0
        self._rec: ProcessRecorder | None = None
        self._draw()

    def poll(self, rec: ProcessRecorder) -> None:
        self._rec = rec
        self.polls += 1
        if self.counter is not None:
            self.counter.value = html.escape(self.counter_text(rec))
        now = time.perf_counter()
        due = now - self._last >= self.min_interval_s
        affordable = self.draw_s + self._frame_s <= self.max_share * (now - self.t0)
        if due and affordable:
            self._draw()

    def finish(self) -> None:
        self._draw()
        if self.counter is not None and self._rec is not None:
            self.counter.value = html.escape(self.counter_text(self._rec))

    def counter_text(self, rec: ProcessRecorder) -> str:
        """One line: frames drawn, then the latest counters each script role reported."""
        c = rec.counters
        steps = c.get("trainer", {}).get("steps", 0)
        parts = [f"frame {self.frames} · step {steps} of the trainer"]
        if "producer" in c:
            parts.append(
                f"producer: {c['producer']['batches']} batches made, "
                f"{c['producer'].get('backlog')} waiting in the queue"
            )
        if "parent" in c:
            p = c["parent"]
            parts.append(
                f"parent: {p.get('event')}, model "
                + (f"checksum {p['checksum']}" if p.get("built") else "never built")
            )
        total = sum(points[-1][1] for points in rec.memory.values() if points)
        return " · ".join(parts + [f"tree memory {total:.0f} MB"])

    def _draw(self) -> None:
        from fitscope.show.process_charts import memory_by_process

        start = time.perf_counter()
        series: dict[str, tuple[Sequence[float], Sequence[float]]] = {}
        if self._rec is not None:
            for pid, points in self._rec.memory.items():
                series[self._rec.label(pid)] = ([t for t, _ in points], [m for _, m in points])
        chart = memory_by_process(
            series,
            self.limits.memory_cap_mb,
            title=f"Live: {self.title} ({time.perf_counter() - self.t0:.1f} s)",
            size=(7, 2.6),
        )
        png = chart.png(dpi=72)
        show_only(self.output, png_output(png))
        self.frames += 1
        self.pngs.append(png)
        self._last = time.perf_counter()
        self._frame_s = self._last - start
        self.draw_s += self._frame_s


class WorkerProgress:
    """Live view of a multi-worker run in a panel: each worker's last event, step and loss.

    Fed by the sandbox's ``on_poll`` from the cell's thread. The counter line changes when a
    worker says something new, when a frame is drawn, or every ``min_interval_s``; a frame, the
    loss per worker so far as a PNG, is drawn every ``frame_interval_s`` at most, so drawing stays
    a small share.
    """

    def __init__(
        self, output: Any, counter: Any, min_interval_s: float = 1.0, frame_interval_s: float = 2.0
    ) -> None:
        self.output, self.counter, self.min_interval_s = output, counter, min_interval_s
        self.frame_interval_s = frame_interval_s
        self.last: dict[int, dict[str, Any]] = {}
        self.losses: dict[int, list[float]] = {}
        self._shown_at = -min_interval_s
        self._drawn_at = -frame_interval_s
        self.frames = 0
        self.pngs: list[bytes] = []
        self.step = 0

    def on_poll(self, progress: Progress) -> None:
        news = [m for m in progress.new_messages if "index" in m]
        for m in news:
            self.last[m["index"]] = m
            self.step = max(self.step, m.get("step", m.get("steps", 0)))
            if "loss" in m:
                self.losses.setdefault(m["index"], []).append(m["loss"])
            if "losses" in m:  # a worker's last report: every step's loss at once
                self.losses[m["index"]] = list(m["losses"])
        final = any(m.get("event") in FINAL_EVENTS for m in news)
        drawn = final or progress.t_s - self._drawn_at >= self.frame_interval_s
        if drawn:
            self._draw(progress.t_s)
        if not (news or drawn) and progress.t_s - self._shown_at < self.min_interval_s:
            return
        self._shown_at = progress.t_s
        parts = [
            f"worker {i}: {m['event']}"
            + (f" {m['step']}, loss {m['loss']:.4f}" if "loss" in m else "")
            for i, m in sorted(self.last.items())
        ]
        memory = sum(progress.memory_bytes.values()) / 2**20
        self.counter.value = " · ".join(
            [
                f"frame {self.frames}",
                f"step {self.step}",
                *parts,
                f"{progress.t_s:.0f} s",
                f"{memory:.0f} MiB",
            ]
        )

    def _draw(self, t_s: float) -> None:
        from fitscope.show.process_charts import loss_by_worker

        self._drawn_at = t_s
        live = RunResult(
            name=f"live, {t_s:.0f} s",
            facts={
                "per_worker": [
                    {"index": i, "losses": losses} for i, losses in sorted(self.losses.items())
                ]
            },
        )
        chart = loss_by_worker(live)
        if not self.losses:  # an empty frame says why it is empty
            chart.figure.axes[0].text(
                0.5, 0.5, self.why_no_loss(), ha="center", va="center", wrap=True, fontsize=9
            )
        png = chart.png(dpi=60)
        show_only(self.output, png_output(png, chart.summary))
        self.frames += 1
        self.pngs.append(png)

    def why_no_loss(self) -> str:
        """Why a frame has no loss yet, from each worker's last event.

        Example:
            >>> live = WorkerProgress(None, None)
            >>> live.last = {0: {"event": "error", "error": "E: x"}, 1: {"event": "built"}}
            >>> live.why_no_loss()
            'No loss reported yet: worker 0 error (E: x); worker 1 built.'
        """
        if not self.last:
            return "No loss reported yet: no worker has reported."
        return (
            "No loss reported yet: "
            + "; ".join(
                f"worker {i} {m['event']}" + (f" ({m['error']})" if "error" in m else "")
                for i, m in sorted(self.last.items())
            )
            + "."
        )
