"""The generator→fit lesson (fitscope.lessons.generator.fit, experiments.traced and article_fit)
and its panel, run for real on a tiny workload."""

from __future__ import annotations

import math
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitscope.experiments.article_fit import GeneratorFitParams, generator_fit
from fitscope.experiments.traced import PYDATASET_WORKERS, step_alone, traced_fit
from fitscope.experiments.traced_facts import against_bound
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.threads import MAIN, TF_DATA
from fitscope.lessons.generator.comparisons import compare_runs, seconds_per_step
from fitscope.lessons.generator.fit import (
    check_thread_facts,
    cpu_by_role,
    generator_fit_panel,
    generator_fit_verdicts,
    next_stacks,
    who_called_next,
)
from fitscope.verdicts.verdict import DOES_NOT_HOLD, HOLDS

TINY = dict(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=12, epochs=2)


@pytest.fixture(scope="module")
def tiny_run():
    return generator_fit(GeneratorFitParams(**TINY))


def test_generator_runs_off_the_main_thread_after_the_peek(tiny_run):
    from keras.src.trainers.data_adapters import data_adapter_utils

    f = tiny_run.facts
    assert f["peeked"] == data_adapter_utils.NUM_BATCHES_FOR_TENSOR_SPEC
    assert f["peeked_on_main"] == f["peeked"]
    assert f["main_after_peek"] == 0
    assert f["next_calls_total"] >= 24 + f["peeked"] - 1
    assert f["next_calls_by_role"][MAIN] == f["peeked"]
    assert f["next_calls_by_role"][TF_DATA] == f["total_after_peek"]
    assert f["callbacks_on_main"] == f["callbacks_total"] > 0
    assert f["steps"] == 24 and f["overlapping_steps"] == 0
    assert any(
        "generator_data_adapter.py:peek_and_restore" in fr
        for frames in f["stacks"].values()
        for fr in frames
    )
    assert any("from_generator_op.py" in fr for frames in f["stacks"].values() for fr in frames)


def test_cpu_in_training_leaves_out_the_first_step_as_the_steps_per_s_do(tiny_run):
    """The first step traces the graph; "cores busy" and steps/s read the same later steps."""
    steps = sorted(tiny_run.spans_of("train"), key=lambda s: s.start_ns)
    later_s = sum(s.end_ns - s.start_ns for s in steps[1:]) / 1e9
    assert 0 < tiny_run.facts["train_wall_s"] <= later_s + 1e-9


def test_verdicts_follow_the_rules(tiny_run):
    card = {v.claim_id: v for v in generator_fit_verdicts(tiny_run)}
    assert card["C1"].verdict == DOES_NOT_HOLD
    assert card["C6"].verdict == HOLDS
    assert set(card) == {"C1", "C2", "C3", "C6"}
    for claim in ("C1", "C6"):  # the thread claims, whose answer differs by backend
        assert card[claim].because.startswith("on the TensorFlow backend, "), card[claim].because


def test_the_tables_read_the_run_they_show(tiny_run):
    f = tiny_run.facts
    who = who_called_next(tiny_run)
    assert (
        f"after them {f['total_after_peek']} of {f['total_after_peek']} next() calls ran on other "
        "threads"
        in str(who)
        and str(who).startswith("On the TensorFlow backend")
    )
    assert [held for _, held in check_thread_facts(tiny_run).checks] == [True, True, True]
    frames = [row[1] for row in next_stacks(tiny_run).rows]
    assert any("peek_and_restore" in fr for fr in frames) and len(frames) <= 6 * len(f["stacks"])
    roles = cpu_by_role(tiny_run)
    assert {row[0] for row in roles.rows} == set(f["train_cpu_by_role"])
    assert f"{f['cores_busy']:.2f} cores busy" in str(roles)


def test_a_broken_thread_fact_fails_in_one_sentence(tiny_run):
    from fitscope.instrument.result import RunResult

    moved = RunResult(tiny_run.name, facts={**tiny_run.facts, "main_after_peek": 3})
    with pytest.raises(AssertionError, match="no next\\(\\) call ran on the main thread"):
        check_thread_facts(moved)


def test_result_has_bounds_throughput_and_cpu(tiny_run):
    r = tiny_run
    assert r.throughput.steps == 23 and r.throughput.steps_per_s > 0
    assert r.bounds.overlapped_s <= r.bounds.sequential_s
    assert len(r.cpu.t_ns) >= 2 and r.budget.cpus > 0


bad_numbers = st.one_of(
    st.just(0),
    st.just(-1),
    st.just(10**9),
    st.just(math.nan),
    st.just(math.inf),
    st.just("7"),
    st.none(),
    st.just(True),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["ms_per_batch", "batch_size", "width", "steps", "epochs", "kind"]),
    value=bad_numbers,
)
def test_bad_params_give_one_sentence(field, value):
    if field == "width" and value == 0:
        return  # width 0 is the article's Dense(1) model
    if field == "ms_per_batch" and value == 0:
        return  # free batches are allowed
    with pytest.raises(FitscopeInputError) as e:
        GeneratorFitParams(**{**TINY, field: value})
    message = str(e.value)
    assert message.endswith(".") and "\n" not in message


def test_a_chart_that_fails_after_a_run_is_said_in_the_panel_and_the_run_kept():
    from fitscope.instrument.result import RunResult
    from fitscope.show.panels import Control, ExperimentPanel

    def broken_charts(result):
        raise ValueError("no samples to draw")

    panel = ExperimentPanel(
        "t",
        [Control("n", "n", 3, "int")],
        lambda live, time_budget_s, n: RunResult(f"run {n}"),
        live_display=lambda output, counter: None,
        charts_after=broken_charts,
    )
    result = panel.run(from_button=True)
    assert result is not None and panel.result is result and not panel.save_button.disabled
    assert panel.message == "The run ended, but its charts failed: ValueError: no samples to draw"
    assert not panel.button.disabled
    with pytest.raises(ValueError):
        panel.run()


def test_panel_rejects_bad_values_in_one_sentence_and_stays_usable():
    panel = generator_fit_panel(time_budget_s=30)
    panel.set(steps=-5)
    assert panel.run(from_button=True) is None
    assert panel.message.startswith("steps per epoch must be at least 3")
    assert not panel.button.disabled
    with pytest.raises(FitscopeInputError):
        panel.run(steps=2)
    with pytest.raises(FitscopeInputError):
        panel.set(nonsense=1)
    result = panel.run(**TINY)
    assert result is not None and result.facts["main_after_peek"] == 0


def test_panel_run_draws_frames_but_never_between_training_steps():
    panel = generator_fit_panel(time_budget_s=30)
    result = panel.run(**{**TINY, "steps": 20})
    live = panel.last_live
    assert live.frames >= 2 and len(set(live.pngs)) == len(live.pngs)
    assert len(result.spans_of("ui")) == live.frames
    assert panel.message.startswith("Done:")
    steps = result.spans_of("train")
    first, last = min(s.end_ns for s in steps), max(s.end_ns for s in steps)
    main = next(tid for tid, role in result.roles.items() if role == "main")
    assert not [
        s for s in result.spans_of("ui") if s.tid == main and s.start_ns < last and s.end_ns > first
    ]
    # drawing is left out of the training windows the verdicts use
    ui = result.spans_of("ui")
    for a, b in result.windows("train", leave_out="ui"):
        assert not any(s.start_ns < b and s.end_ns > a for s in ui)


def test_live_throughput_draws_from_its_own_thread_while_steps_run():
    import threading
    import time

    import ipywidgets as w

    from fitscope.instrument.tracing import Tracer
    from fitscope.show.live import LiveThroughput

    tracer, live = (
        Tracer(),
        LiveThroughput(w.Output(), w.HTML(), min_interval_s=0.05, max_share=1.0),
    )
    live.start(tracer, 10_000, 100.0, 50.0)
    deadline = time.monotonic() + 60
    while live.frames < 2 and time.monotonic() < deadline:  # steps go on until one is drawn
        time.sleep(0.01)
        live.step()
    live.finish()
    me = threading.get_native_id()
    frames = tracer.spans()
    assert len(frames) == live.frames and {s.category for s in frames} == {"ui"}
    assert [s.tid for s in frames[:1] + frames[-1:]] == [me, me], "first and last: caller's"
    assert len(frames) >= 3 and all(s.tid != me for s in frames[1:-1]), "drawn by another thread"
    assert (
        live.output.outputs[0]["data"]["image/png"]
        and "done" in live.output.outputs[0]["data"]["text/plain"]
    )


def test_a_saved_panel_result_pools_with_others(tmp_path):
    from fitscope.instrument.result import load_folder
    from fitscope.show import charts as plots

    panel = generator_fit_panel(time_budget_s=30)
    with pytest.raises(FitscopeInputError):
        panel.save(tmp_path)
    result = panel.run(**TINY)
    first = panel.save(tmp_path, label="laptop")
    (tmp_path / "notes.json").write_text('{"not": "a result"}')
    pooled = load_folder(tmp_path)
    assert first.exists() and [r.name for r in pooled] == [result.name]
    assert pooled[0].throughput.steps == result.throughput.steps
    chart = plots.class_results(pooled * 2)
    assert (
        "2 run(s)" in chart.summary
        and "laptop" in chart.figure.axes[0].get_yticklabels()[0].get_text()
    )


# -- traced_fit: the learner's own generator, PyDataset and model.fit, traced ------------------
def _learner_batches(batch_size=16, cost_s=0.001):
    import numpy as np

    while True:
        time.sleep(cost_s)
        yield (
            np.random.random((batch_size, 10)).astype("float32"),
            np.random.randint(0, 2, size=(batch_size, 1)).astype("float32"),
        )


def _learner_model():
    import keras

    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def test_traced_fit_follows_the_learners_own_generator_and_fit():
    import keras

    before = keras.Model.fit
    model = _learner_model()
    with traced_fit() as traced:
        history = model.fit(_learner_batches(), steps_per_epoch=10, epochs=2, verbose=0)
    assert keras.Model.fit is before, "model.fit is Keras's own again after the block"
    assert len(history.history["loss"]) == 2
    r = traced.result
    f = r.facts
    assert f["main_after_peek"] == 0 and f["peeked_on_main"] == f["peeked"]
    assert f["callbacks_on_main"] == f["callbacks_total"] > 0
    assert r.throughput.steps == 19 and r.bounds.overlapped_s <= r.bounds.sequential_s
    # the costs behind the bounds were measured before and after fit; read together
    assert len(traced.producer.wall_s) == 2 and len(traced.step.wall_s) == 2
    assert f["costs_per_step"]["t_p1"] == traced.producer.estimate_s
    assert r.reading.startswith("On the TensorFlow backend") and "% efficient" not in r.reading
    assert not re.search(r"\b(1\d\d|[2-9]\d\d) ?% of the ideal bound", r.reading)


def test_traced_fit_follows_a_pydataset_written_by_the_learner():
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self, steps, **kwargs):
            super().__init__(**kwargs)
            self.steps = steps

        def __len__(self):
            return self.steps

        def __getitem__(self, index):
            return next(_learner_batches())  # a generator of its own: two threads call this

    data = Batches(12, workers=2)
    with traced_fit() as traced:
        _learner_model().fit(data, epochs=1, verbose=0)
    r = traced.result
    workers = {r.roles[s.tid] for s in r.spans_of("generator")} - {MAIN}
    assert workers == {PYDATASET_WORKERS}
    assert type(data) is Batches, "the PyDataset gets its own class back"
    assert r.throughput.steps == 11


def test_traced_fit_says_what_it_cannot_follow_in_one_sentence():
    import numpy as np

    with pytest.raises(FitscopeInputError, match="fitscope.diagnose measures any data"):
        with traced_fit():
            _learner_model().fit(np.zeros((32, 10)), np.zeros(32), verbose=0)
    with pytest.raises(FitscopeInputError, match="no model.fit"):
        with traced_fit():
            pass
    with pytest.raises(FitscopeInputError, match="steps_per_epoch"):
        with traced_fit():
            _learner_model().fit(_learner_batches(), epochs=1, verbose=0)


def test_step_alone_and_the_cost_spread():
    cost = step_alone(_learner_model(), next(_learner_batches()), steps=6, repeats=2)
    a, b = cost.wall_s
    assert len(cost.wall_s) == 2 and len(cost.intervals) == 2 * 6
    assert min(a, b) <= cost.estimate_s <= max(a, b) and cost.spread == abs(a - b) / ((a + b) / 2)
    assert "the 12 calls of 2 measurement(s) read together" in str(cost)


def test_runs_compare_per_step_by_the_one_rule(tiny_run):
    per_step = seconds_per_step(tiny_run)
    assert len(per_step) == 3 and all(s > 0 for s in per_step)
    reading = str(compare_runs({"a": tiny_run, "b": tiny_run}))
    # each run is read against its own ideal bound (how, depends on the machine's load)
    assert "no measurable difference" in reading
    assert reading.count(against_bound(tiny_run)) == 2
    with pytest.raises(FitscopeInputError):
        compare_runs({"a": tiny_run})


def test_the_per_step_table_prints_the_medians_its_sentence_compares(tiny_run):
    """F-14 (01 cell 39): the table printed all steps' total time while the sentence compared
    block medians; now the table prints those medians in the sentence's unit, labelled."""
    c = compare_runs({"a": tiny_run, "b": tiny_run})
    table = c.table()
    column = list(table.columns).index("ms a step, median of 3 blocks (first step left out)")
    printed = table.rows[0][column]
    assert f"{printed} → {printed} ms" in c.reading
