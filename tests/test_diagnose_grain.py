"""fitscope.diagnose on Grain pipelines (grain.MapDataset, grain.IterDataset, grain.DataLoader):
their own input kind, read from the pipeline's own options, and diagnosed on JAX in a fresh
interpreter (Keras reads KERAS_BACKEND once).

No time is asserted except through a margin built in: batches that sleep 40 ms on one Grain
prefetch thread against a step of about a millisecond.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from fitscope.diagnose.report import HIGHLY, INCONCLUSIVE, MODERATELY, NOT
from fitscope.diagnose.sources import GRAIN, source_of

grain = pytest.importorskip("grain")

ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "helpers"),
    "FITSCOPE_QUICK": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "KERAS_BACKEND": "jax",
}


def _batch(i):
    rng = np.random.default_rng(i)
    return rng.random((8, 10), dtype=np.float32), rng.integers(0, 2, 8).astype(np.float32)


@pytest.mark.parametrize(
    "make, producers, processes, where",
    [
        (lambda ds: ds, 16, False, "Grain's prefetch threads"),  # fit reads it with ReadOptions()
        (
            lambda ds: ds.to_iter_dataset(grain.ReadOptions(num_threads=3, prefetch_buffer_size=6)),
            3,
            False,
            "Grain's prefetch threads",
        ),
        (
            lambda ds: ds.to_iter_dataset(grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)),
            0,
            False,
            "the main thread (between steps)",
        ),
        (
            lambda ds: ds.to_iter_dataset().mp_prefetch(grain.MultiprocessingOptions(2)),
            2,
            True,
            "worker processes",
        ),
    ],
    ids=["MapDataset", "threads", "no threads", "mp_prefetch"],
)
def test_a_grain_pipeline_is_its_own_kind_with_its_producers(make, producers, processes, where):
    src = source_of(make(grain.MapDataset.range(40).map(_batch)))
    assert src.kind == GRAIN and src.reiterable and not src.traced
    assert src.grain == (producers, processes) and src.in_processes == processes
    assert src.where_untraced("jax")[1] == where


def test_a_map_dataset_has_its_length_unless_it_repeats_for_ever():
    ds = grain.MapDataset.range(40).map(_batch)
    assert source_of(ds).available == 40 and source_of(ds.repeat()).available is None


def test_a_grain_data_loader_is_read_from_its_worker_count():
    loader = grain.DataLoader(
        data_source=grain.MapDataset.range(40).map(_batch),
        sampler=grain.samplers.IndexSampler(40, num_epochs=1, shuffle=False, seed=0),
        worker_count=0,
    )
    src = source_of(loader)
    assert src.kind == GRAIN and src.grain == (0, False) and src.available is None


JAX_DRIVER = """\
import json, time, numpy as np, grain, fitscope
from fitscope.workloads.article import article_model

def batch(i):  # 40 ms of waiting a batch, on Grain's one prefetch thread
    time.sleep(0.04)
    rng = np.random.default_rng(i)
    return rng.random((32, 10), dtype=np.float32), rng.integers(0, 2, 32).astype(np.float32)

options = grain.ReadOptions(num_threads=1, prefetch_buffer_size=2)
data = grain.MapDataset.range(10_000).map(batch).to_iter_dataset(options)
model = article_model(0)
before = [w.copy() for w in model.get_weights()]
d = fitscope.diagnose(model, data, steps=8, repeats=1)
same = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
print(json.dumps({**d.to_dict(), "same": same, "first": d.remedies[0].how if d.remedies else ""}))
"""


def test_on_jax_a_waiting_grain_pipeline_is_named_and_offered_more_prefetch_threads():
    out = subprocess.run(
        [sys.executable, "-c", JAX_DRIVER], env=ENV, capture_output=True, text=True, timeout=150
    )
    assert out.returncode == 0, out.stderr[-2000:]
    d = json.loads(out.stdout.splitlines()[-1])
    assert d["backend"] == "jax" and d["source"] == GRAIN, d["reading"]
    assert d["verdict"] in (HIGHLY, MODERATELY, NOT, INCONCLUSIVE)
    # 40 ms of waiting a batch on one thread against a step of about a millisecond
    assert d["verdict"] == HIGHLY and d["cause"] == "waiting", d["reading"]
    assert (d["data_thread"], d["data_where"]) == ("other", "Grain's prefetch threads")
    assert "grain.ReadOptions(num_threads=" in d["first"], (d["first"], d["reading"])
    assert d["same"], d["model_note"]
