"""A made-up RunResult with known spans, CPU and bounds, for plot and JSON tests."""

from __future__ import annotations

from fitscope.instrument.bounds import Bounds
from fitscope.instrument.budget import CpuBudget
from fitscope.instrument.result import ProcessOutcome, RunResult
from fitscope.instrument.sampling import CpuSamples
from fitscope.instrument.threads import MAIN, TF_CREATED, TF_DATA
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Span

MS = 1_000_000


def made_up_result() -> RunResult:
    spans = [Span("epoch 1", "epoch", 0, 0, 100, "MainThread", "python")]
    for i in range(10):
        spans.append(
            Span(f"step {i}", "train", i * 10 * MS, (i * 10 + 8) * MS, 100, "MainThread", "python")
        )
        spans.append(
            Span(
                "next()",
                "generator",
                (i * 10 + 2) * MS,
                (i * 10 + 5) * MS,
                200,
                "Dummy-1",
                "python",
            )
        )
    spans.append(Span("frame 1", "ui", 40 * MS, 41 * MS, 100, "MainThread", "python"))
    spans.append(Span("map", "tf.data", 5 * MS, 6 * MS, None))
    cpu = CpuSamples(sampler_tid=999)
    for k in range(11):
        cpu.add(
            k * 10 * MS,
            {100: k * 2 * MS, 200: k * 1 * MS, 300: k * 6 * MS, 999: k * MS},
            400 * 2**20,
        )
    ends = [s.end_ns for s in spans if s.category == "train"]
    return RunResult(
        name="made up",
        params={"steps": 10},
        spans=spans,
        cpu=cpu,
        throughput=throughput_from_ends(ends[1:], 32, ends[0], window_s=0.02),
        budget=CpuBudget(2.0, 2, None, None),
        bounds=Bounds(0.1, 0.05),
        outcomes=[ProcessOutcome(1, "python x.py", "exited with code 0", exit_code=0)],
        roles={100: MAIN, 200: TF_DATA, 300: TF_CREATED},
        facts={"answer": 42},
    )
