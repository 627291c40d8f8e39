"""Live charts end true: the last frame is the run's figure, read over the run's window, and an
empty frame says why it is empty (made-up step times and worker reports, no training)."""

from __future__ import annotations

import time

import ipywidgets as w

from fitscope.instrument.tracing import Tracer
from fitscope.isolation.sandbox import Progress
from fitscope.show.live import LiveThroughput, WorkerProgress


def _title(live: LiveThroughput) -> str:
    return str(live.output.outputs[-1]["data"]["text/plain"])


def _ran(ends: list[float]) -> LiveThroughput:
    live = LiveThroughput(w.Output())
    live.start(Tracer(), len(ends), None, None)
    live.ends = ends
    live.t0 = time.perf_counter() - ends[-1] - 0.05  # as if the run finished after its last step
    live.finish()
    return live


def test_steps_timed_one_by_one_read_their_rate_after_the_warm_up():
    live = _ran([0.5 + 0.1 * i for i in range(11)])  # a 0.5 s warm-up, then 10 steps/s
    assert not live.in_bursts
    assert _title(live).endswith("done: 10 steps/s after the warm-up step")


def test_steps_that_arrive_in_one_burst_are_read_over_the_runs_window():
    """01b's case: 16 steps read at one poll gave 'done: 868604 steps/s' on a 1e-5 s axis."""
    live = _ran([0.3 + 1e-7 * i for i in range(16)])
    assert live.in_bursts and live.finished_s is not None
    rate = 16 / live.finished_s
    assert f"16 steps in {live.finished_s:.2f} s, {rate:.3g} steps/s over the run" in _title(live)
    t, rates = live._series()
    assert t[-1] == live.finished_s and rates[-1] == rate  # the last point is the run's figure
    assert max(rates) <= 16 / 0.3  # never more steps/s than arrived per second since the start


def test_a_workers_last_report_is_drawn_at_once_with_every_loss():
    live = WorkerProgress(w.Output(), w.HTML(), frame_interval_s=100.0)
    live.on_poll(Progress(0.1, {}, [{"index": 0, "event": "built"}]))
    first = live.frames
    trained = {"index": 0, "event": "trained", "losses": [0.7, 0.6, 0.5], "steps": 3}
    live.on_poll(Progress(0.2, {}, [trained]))
    assert live.frames == first + 1 and live.losses == {0: [0.7, 0.6, 0.5]}
    assert "1 workers over 3 steps" in live.output.outputs[-1]["data"]["text/plain"]


def test_an_empty_frame_says_why_nothing_was_drawn():
    live = WorkerProgress(w.Output(), w.HTML())
    failed = {"index": 1, "event": "error", "error": "RuntimeError: no peer"}
    live.on_poll(Progress(0.1, {}, [failed]))
    assert live.why_no_loss() == "No loss reported yet: worker 1 error (RuntimeError: no peer)."
    assert live.frames == 1 and not live.losses
