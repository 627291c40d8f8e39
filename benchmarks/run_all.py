"""Overhead benchmarks for fitscope (`make bench`). Figures to read, never pass/fail tests.

1. Tracing: cost per span of each API, next to a bare pair of perf_counter_ns reads, in one run.
2. Sampler: its own CPU at 50 Hz with 50 extra threads alive, as a share of one core.
3. Panel: what the live display costs the run it watches, for a short and a longer run: the
   measured time (first to last step) with and without it, runs alternated; the drawing done on
   the training thread between its first and last step (none: frames are drawn by a thread of
   their own); and the time spent drawing, on any thread, as a share of the run.

Each figure is the median of several repeats; results also go to artefacts/bench.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import threading
import time
from pathlib import Path

import ipywidgets as w

from fitscope.experiments.article_fit import GeneratorFitParams, generator_fit
from fitscope.instrument.sampling import Sampler
from fitscope.instrument.tracing import Tracer
from fitscope.show.live import LiveThroughput

N = 100_000
REPEATS = 5


def per_call_ns(fn, n: int = N) -> float:
    """Median over REPEATS of the wall time per iteration of ``fn(n)``."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        fn(n)
        runs.append((time.perf_counter_ns() - start) / n)
    return statistics.median(runs)


def bench_tracing() -> dict[str, float]:
    tracer = Tracer()

    def bare(n):
        for _ in range(n):
            a = time.perf_counter_ns()
            b = time.perf_counter_ns()
            del a, b

    def context_manager(n):
        for _ in range(n):
            with tracer.span("s", "work"):
                pass

    @tracer.traced("f")
    def noop():
        pass

    def decorator(n):
        for _ in range(n):
            noop()

    def record(n):
        for _ in range(n):
            a = time.perf_counter_ns()
            tracer.record("r", "work", a, time.perf_counter_ns())

    def generator(n):
        gen = tracer.wrap_generator(iter(range(n)))
        for _ in gen:
            pass

    def empty_loop(n):
        for _ in range(n):
            pass

    out = {}
    loop = per_call_ns(empty_loop)
    for name, fn in [
        ("bare perf_counter_ns pair", bare),
        ("Tracer.record", record),
        ("with tracer.span()", context_manager),
        ("@tracer.traced", decorator),
        ("wrap_generator next()", generator),
    ]:
        tracer.clear()
        out[name] = per_call_ns(fn) - loop
    return out


def bench_sampler(seconds: float = 5.0, threads: int = 50) -> dict[str, float]:
    stop = threading.Event()
    idle = [threading.Thread(target=stop.wait, daemon=True) for _ in range(threads)]
    for t in idle:
        t.start()
    shares = []
    for _ in range(3):
        with Sampler(interval_s=0.02) as s:
            time.sleep(seconds)
        own = s.samples.cpu_s(s.samples.sampler_tid)
        wall = (s.samples.t_ns[-1] - s.samples.t_ns[0]) / 1e9
        shares.append(own / wall)
    stop.set()
    return {
        "threads sampled": len(s.samples.cpu_ns),
        "samples per second": len(s.samples.t_ns) / wall,
        "sampler CPU, % of one core": 100 * statistics.median(shares),
    }


def _panel_run(steps: int, ms_per_batch: float, live: LiveThroughput | None) -> tuple:
    """(measured s, drawing on the training thread between its first and last step in s)."""
    with contextlib.redirect_stdout(io.StringIO()):  # no kernel here: display() would print
        r = generator_fit(
            GeneratorFitParams(kind="sleep", ms_per_batch=ms_per_batch, steps=steps, epochs=2),
            live=live,
        )
    ends = [s.end_ns for s in r.spans_of("train")]
    main = next(tid for tid, role in r.roles.items() if role == "main")
    between = (
        sum(
            max(0, min(s.end_ns, max(ends)) - max(s.start_ns, min(ends)))
            for s in r.spans_of("ui")
            if s.tid == main
        )
        / 1e9
    )
    return r.throughput.elapsed_s, between


def bench_panel(steps: int, ms_per_batch: float) -> dict[str, float]:
    bare, watched, between, shares, frames = [], [], [], [], []
    for _ in range(3):
        bare.append(_panel_run(steps, ms_per_batch, None)[0])
        live = LiveThroughput(w.Output())
        wall0 = time.perf_counter()
        measured, on_main = _panel_run(steps, ms_per_batch, live)
        shares.append(live.draw_s / (time.perf_counter() - wall0))
        watched.append(measured)
        between.append(on_main)
        frames.append(live.frames)
    return {
        "measured s, no live display": statistics.median(bare),
        "measured s, live display": statistics.median(watched),
        "drawing between steps, training thread, ms": 1e3 * max(between),
        "frames per run": statistics.median(frames),
        "drawing (any thread), % of the run": 100 * statistics.median(shares),
    }


def main() -> None:
    results = {
        "tracing (ns per span, loop overhead removed)": bench_tracing(),
        "sampler at 50 Hz with 50 extra threads": bench_sampler(),
        "panel drawing, 00's first run in quick mode (2 x 30 steps)": bench_panel(30, 2.0),
        "panel drawing, short run (2 x 200 steps)": bench_panel(200, 2.0),
        "panel drawing, longer run (2 x 1000 steps)": bench_panel(1000, 4.0),
    }
    for section, figures in results.items():
        print(f"\n{section}")
        for name, value in figures.items():
            print(f"  {name:<46} {value:10.2f}")
    out = Path(__file__).resolve().parent.parent / "artefacts" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
