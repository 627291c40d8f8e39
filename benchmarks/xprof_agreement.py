"""fitscope's input share, waiting share and contention share next to XProf's "% of step time
waiting for input", on the same pipelines, on the TensorFlow backend.

XProf is TensorFlow's profiler (``xprof`` on PyPI, pinned in requirements-test.txt): its
input-pipeline analyser, run offline on a capture of 30 marked steps
(:func:`fitscope.instrument.profiler.profile_fit`), counts the time the training thread waits for
its next batch. fitscope's figures come from ``fitscope.diagnose(model, data)``. The two are
different measurements: XProf sees only waiting, so where a producer competes with the step for
the CPU or the GIL it reads near zero while fitscope's share (and its contention part) does not.
Each pipeline runs ``--repeats`` times (3 by default), each tool in a fresh interpreter (one
process, one TensorFlow configuration), pipelines interleaved so that a burst of load on a shared
machine hits all alike.

The profiler's own cost is measured in the XProf run: the median step of the same ``fit`` before
the profiler started and while it recorded (a wait shorter than that cost is hidden from XProf).

A figure to read, never a pass/fail test. Rows also go to artefacts/xprof_agreement.json.
Run: .venv/bin/python benchmarks/xprof_agreement.py [--repeats 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 512  # the wide model's batch: a step of about 20 ms on our 2-core machines
WIDE = 1024

PIPELINES: dict[str, str] = {
    "sleep30": "generator sleeping 30 ms, tiny model",
    "sleep3": "generator sleeping 3 ms, wide model (a step of about 20 ms)",
    "arrays": "arrays, wide model",
    "map": "tf.data map (5 ms CPU), no explicit prefetch",
    "parallel": "tf.data parallel map (5 ms CPU) + prefetch",
    "pydataset": "PyDataset, 4 worker threads sleeping 20 ms",
    "python15": "generator computing 15 ms of Python",
    "python15long": "generator computing 15 ms of Python, batches of 768 (a longer step)",
    "cpumap": "tf.data map (10 ms CPU), prefetched",
    "sleepop": "tf.data C++ sleep op 20 ms, no prefetch",
}
"""The pipelines, by name: the eight of issue 29's table, a sleep inside TensorFlow, and the
Python producer against a step long enough for a machine where other jobs slow it (the test's)."""


def _sleep_op(ds: Any, ms: float) -> Any:
    """``ds`` behind TensorFlow's SleepDataset (``ms`` in C++ a GetNext), no prefetch after it."""
    from fitscope.workloads.graph_costs import options, slept

    return slept(ds, ms).with_options(options(inject_prefetch=False))


def build(name: str) -> tuple[Any, Any, dict[str, Any]]:
    """The model, the data and the extra ``fit`` arguments of pipeline ``name``.

    Example:
        >>> model, data, kwargs = build("sleep30")  # doctest: +SKIP
    """
    import numpy as np
    import tensorflow as tf

    from fitscope.workloads.article import article_model, batch_work, random_batches
    from fitscope.workloads.graph_costs import sorting
    from fitscope.workloads.pydatasets import CostlyBatches

    rng = np.random.default_rng(0)
    x = rng.random((BATCH * 64, 10), dtype=np.float32)
    y = rng.integers(0, 2, BATCH * 64).astype(np.float32)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH, drop_remainder=True)

    def mapped(ms: float, parallel: bool) -> Any:
        cost = sorting(ms)
        calls = tf.data.AUTOTUNE if parallel else None
        return batches.repeat().map(lambda a, b: cost((a, b)), num_parallel_calls=calls)

    data: dict[str, Callable[[], Any]] = {
        "sleep30": lambda: random_batches(32, work=batch_work("sleep", 30)),
        "sleep3": lambda: random_batches(BATCH, work=batch_work("sleep", 3)),
        "arrays": lambda: (x, y),
        "map": lambda: mapped(5, False),
        "parallel": lambda: mapped(5, True).prefetch(tf.data.AUTOTUNE),
        "pydataset": lambda: CostlyBatches(4000, BATCH, kind="sleep", ms=20, workers=4),
        "python15": lambda: random_batches(BATCH, work=batch_work("python", 15)),
        "python15long": lambda: random_batches(3 * BATCH // 2, work=batch_work("python", 15)),
        "cpumap": lambda: mapped(10, False).prefetch(tf.data.AUTOTUNE),
        "sleepop": lambda: _sleep_op(batches.repeat(), 20),
    }
    model = article_model(0 if name == "sleep30" else WIDE)
    return model, data[name](), {"batch_size": BATCH} if name == "arrays" else {}


def measure(tool: str, name: str) -> dict[str, Any]:
    """One tool's reading of one pipeline, in this process: "xprof" or "fitscope".

    Example:
        >>> measure("xprof", "sleep30")["xprof_percent"] > 60  # doctest: +SKIP
        True
    """
    model, data, kwargs = build(name)
    if tool == "xprof":
        from fitscope.instrument.profiler import profile_fit

        if isinstance(data, tuple):
            data, kwargs["y"] = data
        with tempfile.TemporaryDirectory() as logdir:
            run = profile_fit(model, data, logdir, **kwargs)
        return {
            "xprof_percent": run.xprof.percent,
            "xprof_step_s": run.xprof.step_s,
            "plain_step_s": run.plain_step_s,
            "profiled_step_s": run.profiled_step_s,
            "overhead": run.overhead,
        }
    import fitscope

    d = fitscope.diagnose(model, data, batch_size=BATCH if name == "arrays" else 32)
    return {
        "input_share": d.input_share,
        "waiting_share": d.waiting_share,
        "contention_share": d.contention_share,
        "verdict": d.verdict,
        "step_alone_s": d.step_alone_s,
        "step_in_fit_s": d.step_in_fit_s,
    }


def in_fresh_process(tool: str, name: str) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter (the venv's python), its JSON line read back."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("FITSCOPE_QUICK", None)  # diagnose's default sizes
    done = subprocess.run(
        [sys.executable, __file__, "--child", tool, name],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"{tool} on {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def _spread(values: list[float], scale: float = 100) -> str:
    """Median and range of ``values`` times ``scale`` (percent by default).

    Example:
        >>> _spread([0.93, 0.94, 0.95])
        '94.0 (93.0 to 95.0)'
    """
    v = [x * scale for x in values]
    return f"{statistics.median(v):.1f} ({min(v):.1f} to {max(v):.1f})"


def table(rows: dict[str, list[dict[str, Any]]]) -> str:
    """The Markdown table of every pipeline's repeats: XProf next to fitscope, medians (min-max).

    Example:
        >>> print(table({"sleep30": [row]}))  # doctest: +SKIP
    """
    out = [
        "| pipeline | XProf, % of step time waiting for input | profiler's own cost, % of a "
        "step | fitscope input share, % | waiting share, % | contention share, % | verdicts |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in rows.items():
        parts = [
            _spread([r["xprof_percent"] for r in runs], 1),
            _spread([r["overhead"] for r in runs]),
            _spread([r["input_share"] for r in runs]),
            _spread([r["waiting_share"] for r in runs]),
            _spread([r["contention_share"] for r in runs]),
        ]
        verdicts = [r["verdict"] for r in runs]
        counted = ", ".join(f"{v} ×{verdicts.count(v)}" for v in dict.fromkeys(verdicts))
        out.append(f"| {PIPELINES[name]} | {' | '.join(parts)} | {counted} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=list(PIPELINES), default=list(PIPELINES))
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "PIPELINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)), flush=True)
        return
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in args.only}
    for repeat in range(args.repeats):
        for name in args.only:
            row = {**in_fresh_process("xprof", name), **in_fresh_process("fitscope", name)}
            rows[name].append(row)
            print(
                f"repeat {repeat + 1}, {PIPELINES[name]}: XProf {row['xprof_percent']:.1f} % "
                f"waiting (profiler {row['overhead']:+.0%}), fitscope input share "
                f"{row['input_share']:.0%}, {row['verdict']}",
                flush=True,
            )
    print()
    print(table(rows))
    out = ROOT / "artefacts" / "xprof_agreement.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"nproc": os.cpu_count(), "rows": rows}, indent=2))
    print(f"\nrows in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
