"""The measurement core: one estimator, the order of step ends, the one clock and step alone."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitscope.core import OUTLIER, in_order, median_spread, per_call, per_step


def test_per_step_keeps_bursts_and_drops_one_interruption():
    assert per_step([(1, 0.01), (1, 0.03)] * 4) == pytest.approx(0.02)
    assert per_step([(1, 0.01)] * 9 + [(1, 10 * OUTLIER * 0.01)]) == pytest.approx(0.01)
    assert per_step([(3, 0.03), (1, 0.01)]) == pytest.approx(0.01)  # intervals of several steps


@given(st.lists(st.floats(0.001, 1.0), min_size=1, max_size=30))
def test_per_step_lies_between_the_smallest_and_largest_interval(seconds):
    got = per_step([(1, s) for s in seconds])
    assert min(seconds) - 1e-12 <= got <= max(seconds) + 1e-12


def test_per_call_times_each_call_and_separates_wall_from_cpu():
    wall, cpu = per_call(lambda: time.sleep(0.01), 3)
    assert wall >= 0.01 and cpu < 0.005


def test_median_spread_is_the_median_and_how_far_apart():
    assert median_spread([1.0, 3.0, 2.0]) == (2.0, 1.0)
    assert median_spread([0.5]) == (0.5, 0.0)


def test_a_late_end_callback_moves_back_to_the_next_steps_end():
    # step 0's end ran on a pool thread after step 1's: its results existed by step 1's end
    assert [e[1] for e in in_order([(0, 30, 0.0), (1, 20, 0.0), (2, 40, 0.0)])] == [20, 20, 40]


def test_steps_whose_end_callbacks_ran_late_are_timed_with_the_step_after_them():
    # JAX runs end callbacks on a pool: most may run late, reading 0 s (CI: a 0 s step, then
    # a division by it); such a step ended within the interval before it, and is timed there
    ends = [(0, 0, 0.0), (1, 61, 0.0), (2, 62, 0.0), (3, 63, 0.0), (4, 60, 0.0), (5, 70, 0.0)]
    ordered = in_order(ends)
    intervals = [(j - i, (t - s) / 1e9) for (i, s, _), (j, t, _) in zip(ordered, ordered[1:])]
    assert sum(s == 0 for _, s in intervals) > len(intervals) / 2
    assert per_step(intervals) == pytest.approx(70 / 5 / 1e9)  # 4 steps in 60 ns, 1 in 10


def test_the_clock_and_step_alone_time_a_held_batch_on_tensorflow():
    import keras
    import numpy as np

    from fitscope.core.alone import SKIP, WARM, held, step_alone, timing
    from fitscope.core.clock import StepClock
    from fitscope.instrument.tracing import Tracer

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    batch = (np.ones((8, 4), "float32"), np.ones((8, 2), "float32"))
    found = step_alone(model, batch, steps=5)  # its first fit: WARM more steps left out
    assert found.steps == 5 and found.step_s > 0 and len(found.spans) == SKIP + WARM + 1 + 5

    tracer = Tracer()
    clock = StepClock(tracer)
    model.fit(held(batch, "tensorflow"), steps_per_epoch=6, epochs=2, verbose=0, callbacks=[clock])
    assert len(clock.batch_ends_ns) == 12 and len(tracer.spans()) == 12 + 2  # steps, epoch marks
    assert sum(clock.callback_tids.values()) == 2 * 12  # a begin and an end a step
    assert timing(clock) is not None and timing(StepClock()) is None
    again = step_alone(model, batch, steps=5)  # built: only SKIP left out
    assert again.steps == len(again.intervals) == 5 and len(again.spans) == SKIP + 1 + 5


def test_a_queued_pydatasets_arms_are_all_read_over_their_whole_window():
    # a queue fills while fit's loop pauses, so its steps in fit are the whole window's mean;
    # the step alone, the pulled control and the step under load must be read the same way
    import keras
    import numpy as np

    from fitscope.diagnose.measure import build, measure
    from fitscope.diagnose.sources import source_of

    x, y = np.ones((16, 4), "float32"), np.ones((16, 1), "float32")

    class Batches(keras.utils.PyDataset):
        def __init__(self, workers: int) -> None:
            super().__init__(workers=workers)

        def __len__(self) -> int:
            return 400

        def __getitem__(self, i: int):
            return x, y

    class Pauses(keras.layers.Layer):  # every 5th step pauses, an interval left out as one
        calls = 0

        def call(self, inputs):
            Pauses.calls += 1
            if Pauses.calls % 5 == 0:
                time.sleep(0.3)  # over OUTLIER times an eager step
            return inputs

    for workers, queued in ((2, True), (1, False)):
        model = keras.Sequential([keras.Input((4,)), Pauses(), keras.layers.Dense(1)])
        model.compile("sgd", "mse", run_eagerly=True)  # the pause runs in Python each step
        source = source_of(Batches(workers), 16)
        assert source.queued is queued
        cost, batch = source.cost(4)
        build(model, batch)
        m = measure(model, source, cost, batch, 20, 1, lambda _: None, "x", lambda s, f: True, 60)
        arms = [*m.alone, *m.pulled, *m.loaded, *m.together, *m.again]
        windows = [(t.window_ns[1] - t.window_ns[0]) / 1e9 / t.steps for t in arms]
        for t, window in zip(arms, windows):
            assert t.step_s == pytest.approx(window if queued else per_step(t.intervals))
        # the two estimators differ on these arms, so the test can tell which one was used
        assert any(per_step(t.intervals) < 0.9 * w for t, w in zip(arms, windows))


def test_only_the_core_times_fits_steps_or_reads_keras_peek():
    """No module outside ``fitscope.core`` defines a step callback or reads Keras's peek."""
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "helpers" / "fitscope"
    # counts steps for the live display and stops fit at a deadline; it times nothing
    counts_only = {"instrument/measure.py"}
    outside = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "core" not in path.relative_to(package).parts[:1]
        and str(path.relative_to(package)) not in counts_only
        and any(
            word in path.read_text()
            for word in ("def on_train_batch_end", "NUM_BATCHES_FOR_TENSOR_SPEC import")
        )
    ]
    assert outside == [], f"time steps through fitscope.core, not in {outside}"
