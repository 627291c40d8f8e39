"""fitscope.diagnose on pipelines whose answer is known by construction, on TensorFlow (here) and
JAX (in a fresh interpreter: Keras reads KERAS_BACKEND once), and its command line.

No time is asserted except through margins built in: a generator that sleeps 40 ms against a
step of about 1 ms, a model whose step is far costlier than slicing arrays held in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import fitscope
from fitscope.diagnose.report import HIGHLY, INCONCLUSIVE, NOT, verdict_of
from fitscope.instrument.errors import FitscopeInputError
from fitscope.verdicts import consistency
from fitscope.workloads.article import article_model, batch_work, random_batches

ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "helpers"),
    "FITSCOPE_QUICK": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
SCRIPT = """\
import sys, time
import numpy as np
import keras

def batches():
    rng = np.random.default_rng(0)
    while True:
        time.sleep(0.04)  # 40 ms a batch against a step of about a millisecond
        yield rng.random((32, 10), dtype=np.float32), rng.integers(0, 2, 32).astype(np.float32)

model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy")
model.fit(batches(), steps_per_epoch=20, epochs=1, verbose=0)
print("TRAINED")
"""


def weights(model) -> list[np.ndarray]:
    return [w.copy() for w in model.get_weights()]


def unchanged(before: list[np.ndarray], model) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fitscope", "diagnose", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_verdicts_follow_the_categories_and_say_when_repeats_disagree():
    assert verdict_of([0.9, 0.5, 0.3]) == (HIGHLY, "")
    assert verdict_of([0.0, 0.01, 0.04]) == (NOT, "")
    verdict, reason = verdict_of([0.03, 0.08, 0.04])
    assert verdict == INCONCLUSIVE and "5%" in reason


def test_more_repeats_outvote_one_disturbed_run_but_not_a_real_spread():
    assert verdict_of([0.01, 0.02, 0.02, 0.03, 0.02, 0.40]) == (NOT, "")
    assert verdict_of([0.01, 0.02, 0.40])[0] == INCONCLUSIVE
    verdict, reason = verdict_of([0.01, 0.02, 0.08, 0.09, 0.02, 0.10])
    assert verdict == INCONCLUSIVE and "median's 75% interval" in reason


def test_one_repeat_decides_only_clear_of_the_lines():
    assert verdict_of([0.9]) == (HIGHLY, "") and verdict_of([0.01]) == (NOT, "")
    for near in (0.18, 0.22, 0.045, 0.055):
        verdict, reason = verdict_of([near])
        assert verdict == INCONCLUSIVE and "one repeat" in reason


def test_importing_fitscope_imports_no_keras():
    code = "import sys, fitscope; print(callable(fitscope.diagnose), 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "False"]


def test_a_sleeping_generator_is_highly_input_bound_and_tf_data_makes_its_batches(tmp_path):
    model = article_model(0)
    before = weights(model)
    d = fitscope.diagnose(model, random_batches(32, work=batch_work("sleep", 40)))
    assert d.verdict == HIGHLY and d.input_share > 0.5
    assert d.data_thread == "other"  # TensorFlow: tf.data's threads after Keras's peek
    assert unchanged(before, model) and d.model_restored
    assert d.batches_taken > 0 and str(d.batches_taken) in d.text()
    assert d.remedies and all(r.bound_s >= d.step_alone_s * 0.999 for r in d.remedies)
    tried = [r for r in d.remedies if r.tried_s]  # the wrap needs no code change: tried on the spot
    assert tried and any(
        w in tried[0].tried_reading
        for w in (  # read by verdicts.compare
            "faster (",
            "slower (",
            "no measurable difference",
            "undecided",
        )
    )
    assert consistency.check_reading(tried[0].sentence()) == []
    record = json.loads(d.to_json())
    assert record["verdict"] == HIGHLY and record["remedies"] == d.remedy_sentences()
    trace = json.loads(d.save_chrome_trace(tmp_path / "t.json").read_text())
    assert any(e.get("cat") == "generator" for e in trace["traceEvents"])
    assert "<img" in d._repr_html_() and str(d) == d.reading


def test_a_busy_python_generator_gets_processes_first():
    d = fitscope.diagnose(
        article_model(0), random_batches(32, work=batch_work("python", 25)), try_remedy=False
    )
    assert d.verdict == HIGHLY and d.data_computes
    assert "use_multiprocessing=True" in d.remedies[0].how


def test_arrays_in_memory_feeding_a_costly_step_are_not_highly_input_bound():
    rng = np.random.default_rng(0)
    x, y = rng.random((8192, 10), dtype=np.float32), rng.integers(0, 2, 8192).astype(np.float32)
    d = fitscope.diagnose(article_model(1024), (x, y), batch_size=256)
    # a busy machine can slow any one repeat; at least one must show the data costs little
    assert d.verdict != HIGHLY and min(d.shares) < 0.2, d.reading
    assert d.batches_taken is None and d.data_thread == "other"


@pytest.mark.parametrize(
    "case", ["not compiled", "not data", "wrong shape", "too short", "ends in a run"]
)
def test_bad_input_is_one_sentence_and_leaves_the_model_as_it_was(case):
    import keras

    model = article_model(0)
    if case == "not compiled":
        model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
    before = weights(model)
    x, y = next(random_batches(32))
    data, steps = {
        "not compiled": (random_batches(32), None),
        "not data": (42, None),
        "wrong shape": (((x[:, :7], y) for _ in range(100)), None),
        "too short": ((np.repeat(x, 3, 0), np.repeat(y, 3)), 6),
        "ends in a run": (iter([(x, y)] * 16), 8),
    }[case]
    with pytest.raises(FitscopeInputError) as caught:
        fitscope.diagnose(model, data, steps=steps)
    sentence = str(caught.value)
    assert "\n" not in sentence and sentence.endswith(".")
    assert unchanged(before, model)


JAX_DRIVER = """\
import json, numpy as np, fitscope
from fitscope.workloads.article import article_model, batch_work, random_batches
model = article_model(0)
before = [w.copy() for w in model.get_weights()]
d = fitscope.diagnose(model, random_batches(32, work=batch_work("python", 25)), try_remedy=False)
same = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
print(json.dumps({**d.to_dict(), "same": same, "first": d.remedies[0].how}))
"""


def test_on_jax_a_busy_generator_runs_on_the_main_thread_and_gets_processes_first():
    out = subprocess.run(
        [sys.executable, "-c", JAX_DRIVER],
        env={**ENV, "KERAS_BACKEND": "jax"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    d = json.loads(out.stdout.splitlines()[-1])
    assert d["backend"] == "jax" and d["verdict"] == HIGHLY, d["reading"]
    assert d["data_thread"] == "main", d["reading"]
    assert d["same"], d["model_note"]
    assert "use_multiprocessing=True" in d["first"], (d["first"], d["reading"])


def test_the_cli_diagnoses_a_scripts_first_fit_on_jax_and_stops(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = cli(
        "--backend",
        "jax",
        "--json",
        str(tmp_path / "d.json"),
        "--trace",
        str(tmp_path / "t.json"),
        str(script),
        "--ignored-by-the-script",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "TRAINED" not in out.stdout and HIGHLY in out.stdout
    assert "fitscope diagnose: step alone" in out.stderr  # the progress line
    d = json.loads((tmp_path / "d.json").read_text())
    for key in (
        "backend",
        "verdict",
        "input_share",
        "waiting_share",
        "contention_share",
        "data_thread",
        "step_alone_s",
        "step_in_fit_s",
        "remedies",
    ):
        assert key in d
    assert d["backend"] == "jax" and d["data_thread"] == "main" and d["verdict"] == HIGHLY
    assert d["waiting_share"] > 0.5 and d["cause"] == "waiting"  # a sleep takes no CPU
    assert d["first_step"] in d["reading"]  # which process state was measured
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]


def test_the_cli_says_in_one_line_what_it_cannot_diagnose(tmp_path):
    script = tmp_path / "no_fit.py"
    script.write_text("print('no training here')\n")
    never = cli("--backend", "jax", str(script))
    unknown = cli("--backend", "theano", str(script))
    for out in (never, unknown):
        assert out.returncode == 2 and "Traceback" not in out.stderr + out.stdout
        ours = [line for line in out.stderr.splitlines() if line.startswith("fitscope diagnose:")]
        assert len(ours) == 1 and ours[0].endswith(".")
    assert "without calling Model.fit" in never.stderr and "theano" in unknown.stderr


def test_the_cli_then_continue_trains_as_the_script_asked(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.replace("steps_per_epoch=20", "steps_per_epoch=3"))
    out = cli("--backend", "jax", "--steps", "5", "--then", "continue", str(script))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.rstrip().endswith("TRAINED")


def test_the_cli_help_lists_diagnose():
    out = subprocess.run(
        [sys.executable, "-m", "fitscope", "--help"], env=ENV, capture_output=True, text=True
    )
    assert "diagnose" in out.stdout
