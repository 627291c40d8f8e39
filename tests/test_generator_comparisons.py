"""fitscope.lessons.generator.comparisons (notebooks 00, 01) beyond the plain generator: PyDataset
workers, a fresh interpreter, predict, the GIL; TensorFlow's profiler beside fitscope."""

from __future__ import annotations

import os

import pytest
from conftest import child_pids, shm_semaphores

from fitscope import verdicts
from fitscope.experiments.article_fit import (
    PYDATASET_PROCESSES,
    PYDATASET_THREADS,
    GeneratorFitParams,
    fit_in_sandbox,
    generator_fit,
)
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.profiler import profiled, side_by_side
from fitscope.lessons.generator.comparisons import (
    c4_verdict,
    c5_verdict,
    compare_runs,
    gil_comparison,
    predict_vs_fit,
)

SMALL = dict(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=12, epochs=1)


def test_pydataset_threads_make_batches_off_the_main_thread():
    r = generator_fit(GeneratorFitParams(**SMALL, source=PYDATASET_THREADS, workers=2))
    calls = sorted(r.spans_of("generator"), key=lambda s: s.start_ns)
    assert len(calls) >= SMALL["steps"]
    off_main = [s for s in calls if r.roles.get(s.tid) != "main"]
    # Keras may call __getitem__ on the calling thread to learn the shapes; the rest run on workers
    assert len(off_main) >= len(calls) - 2, r.facts["next_calls_by_role"]
    assert r.bounds is not None and r.throughput.steps == SMALL["steps"] - 1


def test_pydataset_processes_run_in_a_fresh_interpreter_and_leave_nothing():
    kids, sems = child_pids(), shm_semaphores()
    r = generator_fit(GeneratorFitParams(**SMALL, source=PYDATASET_PROCESSES, workers=2))
    assert r.environment["pid"] != os.getpid()
    assert r.throughput.steps == SMALL["steps"] - 1
    assert len(r.outcomes) >= 3, "the interpreter and its 2 worker processes"
    assert r.outcomes[0].how == "exited with code 0"
    assert child_pids() - kids == set() and shm_semaphores() - sems == set()


def test_intra_op_setting_reaches_the_fresh_interpreter_only():
    r = fit_in_sandbox(intra_op_threads=1, **SMALL)
    assert r.facts["intra_op_threads"] == 1 and r.facts["threads_free"] is False
    assert r.environment["pid"] != os.getpid()
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ
    assert r.facts["main_after_peek"] == 0


@pytest.mark.parametrize(
    "bad", [dict(intra_op_threads=0), dict(start_method="vfork"), dict(intra_op_threads="two")]
)
def test_sandbox_settings_are_checked_in_one_sentence(bad):
    with pytest.raises(FitscopeInputError) as e:
        fit_in_sandbox(**bad, **SMALL)
    assert "\n" not in str(e.value)


def test_a_plain_generator_has_one_worker():
    with pytest.raises(FitscopeInputError, match="one producer"):
        GeneratorFitParams(**SMALL, workers=2)
    with pytest.raises(FitscopeInputError):
        GeneratorFitParams(**SMALL, source="threads please")


def test_predict_vs_fit_measures_both_calls():
    r = predict_vs_fit(width=32, batch_size=64, steps=4)
    assert {s.label for s in r.spans} == {"predict", "fit"}
    cores = r.facts["cores_busy"]
    assert set(cores) == {"predict", "fit"} and all(c > 0 for c in cores.values())
    v = c5_verdict(r)
    assert 0 <= r.facts["free_cpus"] <= r.budget.cpus
    assert (
        v.verdict
        == verdicts.c5(cores["predict"], cores["fit"], r.budget.cpus, r.facts["free_cpus"]).verdict
    )


def test_gil_comparison_gives_both_generators_the_same_cost():
    runs = gil_comparison(ms_per_batch=2.0, width=16, batch_size=32, steps=8, epochs=1)
    assert runs["sleep"].params["ms_per_batch"] == runs["python"].params["ms_per_batch"] == 2.0
    assert runs["sleep"].params["kind"] == "sleep" and runs["python"].params["kind"] == "python"
    v = c4_verdict(runs)
    parts = [
        verdicts.PartEvidence(
            n,
            r.throughput.elapsed_s,
            r.bounds.sequential_s,
            r.bounds.overlapped_s,
            bound_spread=r.facts.get("costs_per_step", {}).get("spread"),
        )
        for n, r in (("a", runs["sleep"]), ("b", runs["python"]))
    ]
    assert v.verdict == verdicts.c4(*parts, runs["sleep"].budget.cpus).verdict


def test_profiler_sees_the_main_python_thread_and_tf_data(tmp_path):
    run = profiled(lambda: generator_fit(GeneratorFitParams(**SMALL)), tmp_path)
    kinds = {t.kind for t in run.threads}
    assert "python" in kinds and any(k.startswith("tf_data") for k in kinds)
    table = side_by_side(run)
    assert table["fitscope"]["main"][0] == 1
    assert isinstance(table["ids_shared"], int)


def test_process_runs_share_one_fresh_interpreter_and_leave_nothing():
    kids, sems = child_pids(), shm_semaphores()
    ps = [
        GeneratorFitParams(
            **{**SMALL, "steps": 8, "kind": kind}, source=PYDATASET_PROCESSES, workers=2
        )
        for kind in ("sleep", "python")
    ]
    inside = fit_in_sandbox(ps)
    assert (
        len(inside) == 2
        and inside[0].environment["pid"] == inside[1].environment["pid"] != os.getpid()
    )
    assert all(r.params["ms_per_batch"] == SMALL["ms_per_batch"] for r in inside)
    reading = str(compare_runs({"sleep": inside[0], "python": inside[1]}))
    # compared, or refused as not like with like when their measured costs differ past x1.15
    assert reading.startswith(("Per step, 'python' against 'sleep': ", "Per step, not like with"))
    assert "'sleep'" in reading and "'python'" in reading
    assert "B = " in inside[0].reading
    assert child_pids() - kids == set() and shm_semaphores() - sems == set()
