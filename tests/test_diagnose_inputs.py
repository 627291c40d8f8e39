"""``fitscope.diagnose(model, data)`` on each kind of input ``Model.fit`` accepts, per backend.

The kinds: NumPy arrays (x, y); a list of arrays for a two-input model; a dict of arrays for
named inputs; a ``tf.data.Dataset``; a Python generator; a ``keras.utils.PyDataset`` in worker
threads and in worker processes; a torch ``DataLoader`` (only where PyTorch is installed). A
backend is read once a process (Keras reads KERAS_BACKEND at import), so each backend's cases
run in one fresh interpreter (:data:`DRIVER`), one diagnose after another, each printing its
result as a JSON line; the tests below read those lines, one test a kind and backend. Each case
is as small as diagnose allows (the fewest steps, one repeat, no remedy tried): what is asserted
is what diagnose says, never a time. A good input gets a verdict of the four, on the backend
asked for; its kind named; the thread that made its batches named as Keras feeds that kind on
that backend; the model's weights equal before and after; nothing on stderr that looks like a
traceback. A bad input gets one line that ends with a full stop and says what is wrong.

Grain has tests of its own; the scripts suite (test_diagnose_scripts.py) runs the command line
on whole scripts, test_diagnose.py the verdicts known by construction.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from fitscope.diagnose.report import HIGHLY, INCONCLUSIVE, MODERATELY, NOT

VERDICTS = (HIGHLY, MODERATELY, NOT, INCONCLUSIVE)
TORCH = importlib.util.find_spec("torch") is not None
NO_TORCH = "PyTorch is not installed in this environment"
BACKENDS = [
    pytest.param("tensorflow", id="tensorflow"),
    pytest.param("jax", id="jax"),
    pytest.param("torch", id="torch", marks=pytest.mark.skipif(not TORCH, reason=NO_TORCH)),
]
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "helpers"),
    "FITSCOPE_QUICK": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
TIMEOUT_S = 400
OTHER_TF, MAIN = ("other", "tf.data's threads"), ("main", "the main thread")
WORKERS, PROCESSES = ("other", "PyDataset worker threads"), ("other", "worker processes")


@dataclass(frozen=True)
class Kind:
    """An input kind: the source diagnose must name, (data_thread, where) on TensorFlow and on
    the other backends, the thread role its traced batches must show (None: not traced), and
    whether diagnose uses it up (a generator cannot rewind)."""

    source: str
    on_tf: tuple[str, str]
    elsewhere: tuple[str, str]
    traced_on: dict[str, str] = field(default_factory=dict)
    used_up: bool = False
    needs_torch: bool = False


# Keras wraps arrays, generators and DataLoaders in tf.data on TensorFlow; elsewhere fit's own
# thread makes their batches between steps. tf.data and PyDataset workers are the same on any.
KINDS = {
    "arrays": Kind("NumPy arrays", OTHER_TF, MAIN),
    "list of arrays": Kind("NumPy arrays", OTHER_TF, MAIN),
    "dict of arrays": Kind("NumPy arrays", OTHER_TF, MAIN),
    "tf.data.Dataset": Kind("tf.data.Dataset", OTHER_TF, OTHER_TF),
    "generator": Kind(
        "Python generator",
        OTHER_TF,
        MAIN,
        traced_on={"tensorflow": "tf.data threads", "jax": "main", "torch": "main"},
        used_up=True,
    ),
    "PyDataset threads": Kind(
        "keras.utils.PyDataset (2 workers)",
        WORKERS,
        WORKERS,
        traced_on=dict.fromkeys(("tensorflow", "jax", "torch"), "PyDataset worker threads"),
    ),
    "PyDataset processes": Kind("keras.utils.PyDataset (2 workers)", PROCESSES, PROCESSES),
    "torch DataLoader": Kind("torch DataLoader", OTHER_TF, MAIN, needs_torch=True),
}
# A bad input: words its one sentence must hold.
BAD = {
    "generator of the wrong shape": "received input with shape (32, 7)",
    "PyDataset of the wrong shape": "received input with shape (32, 3)",
    "dict with a misnamed input": 'Missing data for input "words"',
    "not iterable": "cannot read data of type int",
    "a file name": "cannot read data of type str",
}

DRIVER = '''\
"""One diagnose a case on the backend KERAS_BACKEND names; one JSON line a case."""

import json, os, sys, tempfile, traceback

import keras
import numpy as np

import fitscope
from fitscope.diagnose.measure import MIN_STEPS
from fitscope.instrument.errors import FitscopeInputError

ROWS, WIDTH = 320, 8  # 10 batches of 32: a data set shorter than a pass diagnose times


def random(shape, seed):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def dense():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((WIDTH,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def two_inputs():
    keras.utils.set_random_seed(0)
    a, b = keras.Input((WIDTH,), name="numbers"), keras.Input((3,), name="words")
    joined = keras.layers.Concatenate()([a, b])
    model = keras.Model([a, b], keras.layers.Dense(1)(joined))
    model.compile(optimizer="adam", loss="mse")
    return model


def batches(width=WIDTH):
    seed = 0
    while True:
        seed += 1
        yield random((32, width), seed), random((32, 1), 1000 + seed)


class Batches(keras.utils.PyDataset):
    def __init__(self, width=WIDTH, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    def __len__(self):
        return 40

    def __getitem__(self, index):
        return random((32, self.width), index), random((32, 1), 1000 + index)


X, Y, WORDS = random((ROWS, WIDTH), 1), random((ROWS, 1), 2), random((ROWS, 3), 3)


def dataset():
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((X, Y)).batch(32)


def loader():
    import torch

    pairs = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
    return torch.utils.data.DataLoader(pairs, batch_size=32)


CASES = {
    "arrays": (dense, lambda: (X, Y)),
    "list of arrays": (two_inputs, lambda: ([X, WORDS], Y)),
    "dict of arrays": (two_inputs, lambda: ({"numbers": X, "words": WORDS}, Y)),
    "tf.data.Dataset": (dense, dataset),
    "generator": (dense, batches),
    "PyDataset threads": (dense, lambda: Batches(workers=2)),
    "PyDataset processes": (dense, lambda: Batches(workers=2, use_multiprocessing=True)),
    "torch DataLoader": (dense, loader),
    "generator of the wrong shape": (dense, lambda: batches(WIDTH - 1)),
    "PyDataset of the wrong shape": (dense, lambda: Batches(3, workers=2)),
    "dict with a misnamed input": (two_inputs, lambda: ({"numbers": X, "text": WORDS}, Y)),
    "not iterable": (dense, lambda: 42),
    "a file name": (dense, lambda: "train.csv"),
}
KEEP = ("backend", "source", "verdict", "reading", "data_thread", "data_where",
        "batches_by_thread", "batches_taken", "model_restored", "model_note")


def run(name):
    make_model, make_data = CASES[name]
    model = make_model()
    before = [w.copy() for w in model.get_weights()]
    history = getattr(model, "history", None)
    out = {"kind": name}
    err, saved = tempfile.TemporaryFile(), os.dup(2)
    os.dup2(err.fileno(), 2)  # this case's stderr, Keras's and its threads' included
    try:
        d = fitscope.diagnose(
            model, make_data(), steps=MIN_STEPS, repeats=1, budget_s=0.1, try_remedy=False
        )
        out.update({k: v for k, v in d.to_dict().items() if k in KEEP})
    except FitscopeInputError as e:
        out["error"] = str(e)
    except Exception as e:
        out["error"], out["unexpected"] = str(e), traceback.format_exc()[-3000:]
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    err.seek(0)
    out["stderr"] = err.read().decode(errors="replace")[-3000:]
    out["weights_same"] = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    out["history_same"] = getattr(model, "history", None) is history
    return out


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(json.dumps(run(name)), flush=True)
'''


@dataclass
class Outcome:
    """One backend's interpreter: its exit status, stderr, and each case's result by name."""

    returncode: int
    stderr: str
    results: dict[str, dict[str, Any]]

    def of(self, case: str) -> dict[str, Any]:
        if case not in self.results:
            pytest.fail(f"no result for {case!r}: exit {self.returncode}; {self.stderr[-2000:]}")
        return self.results[case]


@functools.cache
def diagnosed(backend: str) -> Outcome:
    """Every case on ``backend``, in one fresh interpreter (run once, read by every test)."""
    cases = [k for k, kind in KINDS.items() if TORCH or not kind.needs_torch] + list(BAD)
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "driver.py"
        driver.write_text(DRIVER)
        done = subprocess.run(
            [sys.executable, str(driver), *cases],
            env={**ENV, "KERAS_BACKEND": backend},
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[result["kind"]] = result
    return Outcome(done.returncode, done.stderr, results)


def explain(result: dict[str, Any]) -> str:
    said = result.get("reading") or result.get("error")
    return f"{result['kind']}: {said}\n{result.get('unexpected', '')}{result['stderr'][-1500:]}"


def kinds() -> list[Any]:
    torch = pytest.mark.skipif(not TORCH, reason=f"{NO_TORCH}: no DataLoader to read")
    return [
        pytest.param(name, id=slug(name), marks=[torch] if kind.needs_torch else [])
        for name, kind in KINDS.items()
    ]


def slug(case: str) -> str:
    """A test id ``-k`` can select: "list of arrays" -> "list_of_arrays"."""
    return case.replace(" ", "_")


@pytest.mark.parametrize("kind", kinds())
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_input_kind_is_diagnosed_and_named(backend: str, kind: str) -> None:
    result, expected = diagnosed(backend).of(kind), KINDS[kind]
    assert "error" not in result, explain(result)
    assert result["backend"] == backend and result["verdict"] in VERDICTS, explain(result)
    assert result["source"] == expected.source, explain(result)
    thread, where = expected.on_tf if backend == "tensorflow" else expected.elsewhere
    assert result["data_thread"] == thread and where in result["data_where"], explain(result)
    assert f"the data was made on {result['data_where']}" in result["reading"]
    role = expected.traced_on.get(backend)
    by_thread = result["batches_by_thread"]
    if role is None:  # made where a span cannot follow it: no thread is claimed
        assert by_thread == {}, explain(result)
    else:  # most batches after Keras's peek were made on the thread role named
        assert any(name.startswith(role) for name in by_thread), (by_thread, explain(result))
    if expected.used_up:
        assert result["batches_taken"] > 0, explain(result)
    else:
        assert result["batches_taken"] is None, explain(result)
    assert "Traceback" not in result["stderr"], explain(result)


@pytest.mark.parametrize("kind", kinds())
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_model_is_left_as_diagnose_found_it(backend: str, kind: str) -> None:
    result = diagnosed(backend).of(kind)
    assert "error" not in result, explain(result)
    assert result["weights_same"] and result["history_same"], explain(result)
    assert result["model_restored"] is True, result["model_note"]


@pytest.mark.parametrize("case", [pytest.param(c, id=slug(c)) for c in BAD])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_input_gets_one_sentence_and_no_traceback(backend: str, case: str) -> None:
    result = diagnosed(backend).of(case)
    sentence = result.get("error", "")
    assert sentence and "unexpected" not in result, explain(result)  # a FitscopeInputError
    assert "\n" not in sentence and sentence.endswith("."), sentence
    assert BAD[case] in sentence, sentence
    assert "Traceback" not in result["stderr"], explain(result)
    assert result["weights_same"] and result["history_same"], explain(result)
