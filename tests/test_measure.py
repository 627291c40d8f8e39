"""The run scaffold: bounds for the steps that ran, roles by id, the live display always
finished."""

from __future__ import annotations

import threading
import time

import pytest

from fitscope.instrument.measure import StepCosts, measured_run
from fitscope.instrument.threads import FITSCOPE, TF_DATA


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self, tracer, total_steps, bound_rate, sequential_rate) -> None:
        self.events.append(f"start {total_steps} {bound_rate is not None}")

    def step(self) -> None:
        self.events.append("step")

    def finish(self) -> None:
        self.events.append("finish")


def test_bounds_cover_the_steps_that_ran_after_an_early_stop() -> None:
    costs = StepCosts(producer_s=0.01, train_s=0.02)
    with measured_run(warm_up=False, time_budget_s=0.01) as run:
        planned = run.expect(101, costs)
        done = 0
        while not run.past_deadline():
            time.sleep(0.005)
            done += 1
    result = run.result("stopped early", steps_done=done)
    assert planned.sequential_s == pytest.approx(100 * 0.03)
    assert result.bounds.sequential_s == pytest.approx(done * 0.03) and done < 100


def test_roles_come_from_spans_and_samples_and_a_worker_is_tf_data() -> None:
    with measured_run(warm_up=False) as run, run.sampling():

        def work() -> None:
            with run.tracer.span("next", "generator"):
                time.sleep(0.05)

        t = threading.Thread(target=work)
        t.start()
        t.join()
        with run.tracer.span("step", "train"):
            time.sleep(0.05)
    r = run.result("two threads", tf_data_tids=run.tracer.tids("generator"))
    worker = next(s.tid for s in r.spans_of("generator"))
    assert r.roles[worker] == TF_DATA
    assert r.roles[run.roles.main] == "main"
    assert r.roles.get(r.cpu.sampler_tid, FITSCOPE) == FITSCOPE and "free_cpus" in r.facts
    assert r.environment["pid"] and r.budget is not None


def test_the_live_display_is_finished_even_after_an_interrupt() -> None:
    live = Recorder()
    with pytest.raises(KeyboardInterrupt), measured_run(live, warm_up=False) as run:
        run.expect(3, StepCosts(0.001, 0.001))
        run.step()
        raise KeyboardInterrupt
    assert live.events == ["start 3 True", "step", "finish"]
