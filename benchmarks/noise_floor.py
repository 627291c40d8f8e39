"""The input share's noise floor on this machine, and whether diagnose measures the script's state.

Noise floor: the zero-cost controls (a batch repeated from memory on TensorFlow, arrays in
memory against a 10 ms step on TensorFlow and on JAX: nothing to wait for), and arrays against a
1 ms step (a small real cost on TensorFlow, see CONTROLS), diagnosed RUNS times each, each in a
fresh interpreter; per control the input share's median and spread (min to max) over the runs, the
verdicts, the step-alone noise each diagnosis measured, and the CPUs other processes kept busy
meanwhile (the machine's own noise). Then the same under a 1-CPU quota, Binder's (a cgroup around
each interpreter: it needs root; without it the line says why it was left out).

Process state: a training script whose first step pulls a Python generator through Keras
(TensorFlow's ``from_generator``) runs in a state whose later steps can be slower than those of a
script that starts on a held batch. diagnose trains its first step on the script's data, as the
script does. For a generator sleeping 3 ms a batch and a PyDataset with 2 worker threads, the
script's own step (its plain ``fit``, median of the intervals between step ends after the
third) against diagnose's step in fit (``python -m fitscope diagnose``), each in fresh
interpreters, alternating: the ratio's median. A figure to read: it is not a test because a
busy machine moves either by more than 10%.

Run: .venv/bin/python benchmarks/noise_floor.py [RUNS]   (results also in
artefacts/noise_floor.json)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "helpers"), "TF_CPP_MIN_LOG_LEVEL": "3"}
ENV.pop("FITSCOPE_QUICK", None)

CONTROL = """\
import json, sys
import numpy as np
import fitscope
from fitscope.workloads.article import article_model
kind = sys.argv[1]
rng = np.random.default_rng(0)
if kind == "repeat":
    import tensorflow as tf
    x, y = rng.random((32, 10), dtype=np.float32), rng.integers(0, 2, 32).astype(np.float32)
    model, data, kw = article_model(0), tf.data.Dataset.from_tensors((x, y)).repeat(), {}
else:
    x, y = rng.random((8192, 10), dtype=np.float32), rng.integers(0, 2, 8192).astype(np.float32)
    model = article_model(1024 if kind == "arrays-wide" else 256)
    data, kw = (x, y), {"batch_size": 128}
d = fitscope.diagnose(model, data, try_remedy=False, **kw)
print(json.dumps(d.to_dict()))
"""
CONTROLS = [
    ("a batch repeated from memory, tiny model", "tensorflow", "repeat"),
    (
        "arrays in memory, 2 x 1024 model (a step of about 10 ms), batch 128",
        "tensorflow",
        "arrays-wide",
    ),
    ("arrays in memory, 2 x 1024 model (a step of about 10 ms), batch 128", "jax", "arrays-wide"),
    ("arrays in memory, 2 x 256 model (a step of about 1 ms), batch 128", "tensorflow", "arrays"),
    ("arrays in memory, 2 x 256 model (a step of about 1 ms), batch 128", "jax", "arrays"),
]
"""The first three are free by construction. Arrays are not free against a 1 ms step on
TensorFlow: fit slices and shuffles them on tf.data's threads, which share the cores with the
step (measured beside other work: fit on them 10-14 % slower than on a held batch, against
0.4 % for a 10 ms step), so that row sits near the 5 % line and may rightly stay undecided."""

SCRIPT = """\
import json, statistics, sys, time
import numpy as np
import keras

DATA = sys.argv[1]
rng = np.random.default_rng(0)
x, y = rng.random((256, 10), dtype=np.float32), rng.integers(0, 2, 256).astype(np.float32)

def batches():
    while True:
        time.sleep(0.003)
        yield x, y

class Batches(keras.utils.PyDataset):
    def __init__(self):
        super().__init__(workers=2)
    def __len__(self):
        return 10_000
    def __getitem__(self, i):
        time.sleep(0.003)
        return x, y

class Ends(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.t = []
    def on_train_batch_end(self, batch, logs=None):
        self.t.append(time.perf_counter())

model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(512, activation="relu"),
                          keras.layers.Dense(512, activation="relu"), keras.layers.Dense(1)])
model.compile("adam", "mse")
ends = Ends()
model.fit(batches() if DATA == "generator" else Batches(), steps_per_epoch=60, epochs=1,
          verbose=0, callbacks=[ends])
gaps = [b - a for a, b in zip(ends.t[3:], ends.t[4:])]
print(json.dumps({"step_s": statistics.median(gaps)}))
"""


def run_json(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-1500:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def noise_floor(runs: int, prefix: list[str] | None = None) -> list[dict]:
    rows = []
    for label, backend, kind in CONTROLS:
        env = {**ENV, "KERAS_BACKEND": backend}
        cmd = [*(prefix or []), sys.executable, "-c", CONTROL, kind]
        ds = [run_json(cmd, env) for _ in range(runs)]
        shares = [d["input_share"] for d in ds]
        rows.append(
            {
                "control": label,
                "backend": backend,
                "shares": shares,
                "median": statistics.median(shares),
                "spread": [min(shares), max(shares)],
                "waiting": [d["waiting_share"] for d in ds],
                "contention": [d["contention_share"] for d in ds],
                "verdicts": [d["verdict"] for d in ds],
                "alone_noise": [d["alone_noise"] for d in ds],
                "repeats": [len(d["shares"]) for d in ds],
                "others_cpus": [statistics.median(d["others_cpus"]) for d in ds],
                "duration_s": [d["duration_s"] for d in ds],
            }
        )
    return rows


def process_state(runs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "train.py"
        script.write_text(SCRIPT)
        for data in ("generator", "PyDataset"):
            own, diagnosed = [], []
            for _ in range(runs):  # alternating, so a change of load meets both
                own.append(run_json([sys.executable, str(script), data], ENV)["step_s"])
                path = Path(tmp) / "d.json"
                cmd = [sys.executable, "-m", "fitscope", "diagnose", "--backend", "tensorflow"]
                subprocess.run(
                    [*cmd, "--json", str(path), str(script), data],
                    env={**ENV, "FITSCOPE_QUICK": "1"},
                    capture_output=True,
                    timeout=600,
                    check=True,
                )
                diagnosed.append(json.loads(path.read_text())["step_in_fit_s"])
            ratios = [d / o for d, o in zip(diagnosed, own)]
            rows.append(
                {
                    "data": data,
                    "script_step_s": own,
                    "diagnose_step_in_fit_s": diagnosed,
                    "ratio_median": statistics.median(ratios),
                    "ratios": ratios,
                }
            )
    return rows


def under_quota(runs: int) -> list[dict] | str:
    """The noise floor with each interpreter in a 1-CPU quota cgroup, or why it could not be."""
    sys.path.insert(0, str(ROOT / "tests"))
    from cgroup_limits import CgroupUnavailable, ContainerLimits

    try:
        with ContainerLimits(cpus=1.0, memory_bytes=4 * 2**30) as limits:
            return noise_floor(runs, limits.prefix())
    except CgroupUnavailable as e:
        return str(e)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results = {
        "noise_floor": noise_floor(runs),
        "noise_floor_one_cpu_quota": under_quota(runs),
        "process_state": process_state(runs),
    }
    quota = results["noise_floor_one_cpu_quota"]
    if isinstance(quota, str):
        print(f"noise floor under a 1-CPU quota: left out, {quota}")
    for where, rows in (("2 CPUs", results["noise_floor"]), ("a 1-CPU quota", quota)):
        for r in rows if isinstance(rows, list) else []:
            print(
                f"noise floor on {where}, {r['control']} on {r['backend']}: input share median "
                f"{r['median']:.1%}, {r['spread'][0]:.1%} to {r['spread'][1]:.1%} over {runs} "
                f"runs; verdicts {', '.join(r['verdicts'])}; step-alone noise "
                f"{', '.join(f'{n:.0%}' for n in r['alone_noise'])}; other processes kept "
                f"{statistics.median(r['others_cpus']):.1f} CPUs busy"
            )
    for r in results["process_state"]:
        print(
            f"process state, {r['data']}: diagnose's step in fit / the script's own step, "
            f"median {r['ratio_median']:.2f} ({', '.join(f'{x:.2f}' for x in r['ratios'])}); "
            f"script {', '.join(f'{s * 1e3:.1f}' for s in r['script_step_s'])} ms, diagnose "
            f"{', '.join(f'{s * 1e3:.1f}' for s in r['diagnose_step_in_fit_s'])} ms"
        )
    out = ROOT / "artefacts" / "noise_floor.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
