"""What fitscope.diagnose costs: its own overhead on a training step, and how long it takes.

Overhead: the same generator and model trained by ``fit`` with only diagnose's step clock
(two clock reads a step) and by diagnose's traced run (every batch a span, per-thread CPU
sampled, the run scaffold around it). Both take a step's time as diagnose does: the median of
the intervals between step ends, which a burst of other work on a shared machine moves little;
REPEATS interleaved pairs of STEPS steps, medians, for a step of about 30 ms and one of about
1.5 ms. Goals: at most 2% on the 30 ms step, at most 5% on the 1.5 ms step. The CPUs other
processes kept busy meanwhile are printed with each (a shared machine's own noise).

Duration: the time to diagnose's verdict, and its whole run with a remedy tried, in default
mode (FITSCOPE_QUICK unset), for a generator that sleeps 40 ms a batch, and for in-memory arrays
feeding a model whose step is about 50 ms. Goal: a verdict in at most 15 s on 2 CPUs.

A figure to read, never a pass/fail test. Results also go to artefacts/diagnose_overhead.json.
Run: .venv/bin/python benchmarks/diagnose_overhead.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import fitscope  # before Keras: the threads there at import are the baseline
from fitscope.diagnose.measure import timed_fit, traced_fit, warm_up
from fitscope.diagnose.sources import source_of
from fitscope.instrument.budget import OtherLoad
from fitscope.instrument.measure import StepCosts
from fitscope.instrument.threads import TF_DATA
from fitscope.workloads.article import article_model, batch_work, random_batches

REPEATS, STEPS = 5, 60


def overhead(width: int, batch: int, goal: float) -> dict[str, float]:
    """Step clock only against diagnose's traced fit: the same model, the same generator."""
    model = article_model(width)
    source = source_of(random_batches(batch), batch)
    warm_up(model, source.for_fit, source, "the benchmark's data")
    plain, ours = [], []
    with OtherLoad() as load:
        for _ in range(REPEATS):  # interleaved, so a change of load meets both
            plain.append(timed_fit(model, random_batches(batch), STEPS, {}).step_s)
            ours.append(
                traced_fit(
                    model,
                    STEPS,
                    source.for_fit,
                    StepCosts(1e-3, 1e-3),
                    1,
                    source,
                    "benchmark",
                    TF_DATA,
                )[0].step_s
            )
    b, t = statistics.median(plain), statistics.median(ours)
    return {
        "goal": goal,
        "others_cpus": load.others_cores,
        "width": width,
        "batch": batch,
        "untraced_step_s": b,
        "traced_step_s": t,
        "overhead": t / b - 1,
        "untraced_spread_s": max(plain) - min(plain),
    }


def duration(label: str, model, data, **kwargs) -> dict[str, object]:
    t0 = time.perf_counter()
    d = fitscope.diagnose(model, data, **kwargs)
    return {
        "pipeline": label,
        "duration_s": time.perf_counter() - t0,
        "verdict_s": d.verdict_s,
        "remedy_tried": d.tried_run is not None,
        "verdict": d.verdict,
        "repeats": len(d.shares),
        "step_alone_s": d.step_alone_s,
        "step_in_fit_s": d.step_in_fit_s,
        "steps": d.steps,
    }


def main() -> None:
    os.environ.pop("FITSCOPE_QUICK", None)  # durations are for the default mode
    results: dict[str, object] = {"overhead": [overhead(1536, 256, 0.02), overhead(256, 256, 0.05)]}
    for row in results["overhead"]:
        print(
            f"step overhead, width {row['width']:4d}, batch {row['batch']:3d}: untraced "
            f"{row['untraced_step_s'] * 1e3:.2f} ms, traced {row['traced_step_s'] * 1e3:.2f} ms: "
            f"{100 * row['overhead']:+.1f}% (goal <= {row['goal']:.0%}; untraced spread "
            f"{row['untraced_spread_s'] * 1e3:.2f} ms over {REPEATS} runs; other processes "
            f"kept {row['others_cpus']:.1f} CPUs busy)"
        )
    rng = np.random.default_rng(0)
    x, y = rng.random((16384, 10), dtype=np.float32), rng.integers(0, 2, 16384).astype(np.float32)
    results["duration"] = [
        duration(
            "generator sleeping 40 ms a batch",
            article_model(0),
            random_batches(32, work=batch_work("sleep", 40)),
        ),
        duration("arrays feeding a costlier step", article_model(2048), (x, y), batch_size=512),
    ]
    for row in results["duration"]:
        print(
            f"diagnose reached its verdict in {row['verdict_s']:.1f} s (goal <= 15 s) and "
            f"took {row['duration_s']:.1f} s in all"
            + (" (a remedy tried)" if row["remedy_tried"] else "")
            + f": {row['pipeline']}, "
            f"{row['steps']} steps a run, {row['repeats']} repeats, step in fit "
            f"{row['step_in_fit_s'] * 1e3:.1f} ms, {row['verdict']}"
        )
    out = Path(__file__).resolve().parent.parent / "artefacts" / "diagnose_overhead.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
