"""Notebook 03's smaller tf.data measurements, and its verdicts on C10 and C11.

- :func:`article_example3`: the article's example 3 (arrays → shuffle → batch → ``fit``) with
  ``.prefetch``, without, and without with TensorFlow's prefetch injection off.
- :func:`py_function_map`: a map through ``tf.py_function``, sequential or parallel, over work
  that releases the GIL or holds it.
- :func:`generator_vs_slices`: ``from_generator`` against ``from_tensor_slices`` on the same arrays.
- :func:`tfdata_verdicts`: C10 and C11 from those runs and the synthetic pipeline's.

Each set of runs shows itself as a table with its reading.

Example:
    >>> r = article_example3("no prefetch", samples=640, epochs=1)     # doctest: +SKIP
    >>> r.facts["prefetch_ops_in_graph"]                               # doctest: +SKIP
    0
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from fitscope import verdicts
from fitscope.instrument.bounds import stage_bounds
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_choice, check_int, check_positive
from fitscope.instrument.keras_callback import TraceCallback
from fitscope.instrument.measure import cost_per_call, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.verdicts import evidence
from fitscope.workloads.article import article_model, batch_work
from fitscope.workloads.graph_costs import (
    AUTOTUNE,
    graph_ops,
    inject_prefetch_option,
    parallel_calls,
    tensorflow,
)

__all__ = ["EXAMPLE3_VARIANTS", "Example3Runs", "GilRuns", "SourceRuns", "article_example3",
           "example3_runs", "py_function_map", "gil_runs", "generator_vs_slices", "source_runs",
           "tfdata_verdicts"]

EXAMPLE3_VARIANTS = ("prefetch", "no prefetch", "no prefetch, injection off")
GIL_KINDS = ("numpy", "python")


def _one_by_one(calls: Mapping[Any, tuple[Any, tuple, Mapping[str, Any]]]) -> dict[Any, RunResult]:
    """Run each (function, args, kwargs) in turn, saying which in the running cell."""
    from fitscope.show.live import StepCounter

    counter, out = StepCounter.in_notebook(), {}
    for i, (key, (fn, args, kwargs)) in enumerate(calls.items()):
        counter.next_run(f"{key} ({i + 1} of {len(calls)})")
        out[key] = fn(*args, **kwargs)
    counter.next_run(f"all {len(calls)} measured")
    return out


def _example_arrays(samples: int | None, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Example 3's in-memory data: ``samples`` rows of 10 random features and 0/1 labels."""
    samples = check_int(
        "samples",
        samples if samples is not None else (3200 if quick_mode() else 10_000),
        64,
        1_000_000,
    )
    rng = np.random.default_rng(seed)
    return (samples, rng.random((samples, 10), dtype=np.float32),
            rng.integers(0, 2, samples).astype(np.float32))


# -- the article's example 3 -----------------------------------------------------------------
def article_example3(variant: str = "prefetch", samples: int | None = None,
                     epochs: int | None = None, seed: int = 0) -> RunResult:
    """The article's example 3 in our own code: arrays → shuffle → batch 32 → fit of Dense(1).

    ``variant`` is "prefetch" (``.prefetch(AUTOTUNE)``), "no prefetch" (TensorFlow may inject
    one) or "no prefetch, injection off". Steps/s counts from the end of the first step.
    """
    check_choice("variant", variant, EXAMPLE3_VARIANTS)
    samples, data, labels = _example_arrays(samples, seed)
    epochs = check_int(
        "epochs", epochs if epochs is not None else (2 if quick_mode() else 3), 1, 100
    )
    with measured_run(interval_s=0.05) as run:
        tf = tensorflow()
        ds = tf.data.Dataset.from_tensor_slices((data, labels)).shuffle(1000, seed=seed).batch(32)
        if variant == "prefetch":
            ds = ds.prefetch(tf.data.AUTOTUNE)
        elif variant == "no prefetch, injection off":
            opts = tf.data.Options()
            opts.experimental_optimization.inject_prefetch = False
            ds = ds.with_options(opts)
        model = article_model(0)
        trace_cb = TraceCallback(run.tracer)
        with run.sampling():
            model.fit(ds, epochs=epochs, verbose=0, shuffle=False, callbacks=[trace_cb])
        ends = trace_cb.batch_ends_ns
        result = run.result(
            f"example 3: {variant}",
            dict(variant=variant, samples=samples, epochs=epochs),
            throughput=throughput_from_ends(ends[1:], 32, ends[0]),
        )
    result.facts.update(variant=variant, steps=len(ends), steps_per_s=result.throughput.steps_per_s,
                        prefetch_ops_in_graph=graph_ops(ds).get("PrefetchDataset", 0),
                        inject_prefetch=inject_prefetch_option(ds))
    return result


class Example3Runs(ShowsItself, dict):
    """Example 3's runs by variant: steps/s, the prefetch ops in each graph, the option's value."""

    def ratios(self) -> tuple[float, float]:
        """Steps/s with ``.prefetch`` against without, and against injection off."""
        on, plain, off = (self[v].facts["steps_per_s"] for v in EXAMPLE3_VARIANTS)
        return on / plain, on / off

    def must_hold(self) -> Checks:
        """The graphs are what was asked for: one prefetch op of its own only with ``.prefetch``;
        the option None (TensorFlow injects one) unless switched off."""
        f = {v: r.facts for v, r in self.items()}
        return Checks(
            [
                (
                    "with .prefetch: one prefetch op in the graph",
                    f["prefetch"]["prefetch_ops_in_graph"] == 1,
                ),
                ("without: none", f["no prefetch"]["prefetch_ops_in_graph"] == 0),
                (
                    "without: inject_prefetch is None (TensorFlow decides)",
                    f["no prefetch"]["inject_prefetch"] is None,
                ),
                (
                    "injection off: inject_prefetch is False",
                    f["no prefetch, injection off"]["inject_prefetch"] is False,
                ),
            ]
        )

    def table(self) -> Table:
        rows = [
            (
                v,
                r.facts["steps_per_s"],
                r.facts["prefetch_ops_in_graph"],
                r.facts["inject_prefetch"],
            )
            for v, r in self.items()
        ]
        plain, off = self.ratios()
        return Table(
            ("variant", "steps/s", "prefetch ops in the dataset's graph", "inject_prefetch option"),
            rows,
            reading=f"With .prefetch against without: x{plain:.2f}; against injection "
            f"off: x{off:.2f}.",
        )


def example3_runs(**kwargs: Any) -> Example3Runs:
    """:func:`article_example3` once per variant, same arrays."""
    return Example3Runs(
        _one_by_one({v: (article_example3, (v,), kwargs) for v in EXAMPLE3_VARIANTS})
    )


# -- the GIL caveat --------------------------------------------------------------------------
def py_function_map(kind: str = "python", ms: float = 4.0, elements: int | None = None,
                    parallel: int = 1) -> RunResult:
    """A map through ``tf.py_function`` doing ``kind`` work (see
    :func:`fitscope.workloads.article.batch_work`).

    ``parallel`` is num_parallel_calls (1: a sequential map; 0: AUTOTUNE). Each call is traced
    from inside the Python function, so its span carries the OS thread that ran it.
    """
    check_choice("kind", kind, ("python", "numpy", "sleep"))
    check_positive("ms per element", ms, maximum=1000)
    elements = check_int(
        "elements", elements if elements is not None else (24 if quick_mode() else 60), 2, 100_000
    )
    check_int("parallel calls (0 = AUTOTUNE)", parallel, 0, 256)
    with measured_run() as run:
        tf = tensorflow()
        work = batch_work(kind, ms)
        wall_1, cpu_1 = cost_per_call(work, 5)
        t_1 = (
            wall_1 if kind == "sleep" else cpu_1
        )  # CPU time: what a call takes with a core to itself
        traced = run.tracer.traced(f"{kind} work", "tf.data")(work)

        def call(x: Any) -> Any:
            traced()
            return x

        py = lambda x: tf.py_function(call, [x], tf.int64)  # noqa: E731
        ds = tf.data.Dataset.range(elements)
        ds = (
            ds.map(py)
            if parallel == 1
            else ds.map(py, num_parallel_calls=parallel_calls(parallel), deterministic=False)
        )
        ds = ds.prefetch(tf.data.AUTOTUNE)
        ends: list[int] = []
        with run.sampling():
            it = iter(ds)
            start = time.perf_counter_ns()
            for _ in it:
                ends.append(time.perf_counter_ns())
            del it  # after the last element was timed
        workers = 1 if parallel == 1 else run.budget.affinity if parallel == AUTOTUNE else parallel
        work_tids = run.tracer.tids("tf.data")
        result = run.result(f"py_function map ({kind}, parallel={parallel or 'AUTOTUNE'})",
                            dict(kind=kind, ms=ms, elements=elements, parallel=parallel),
                            tf_data_tids=work_tids, throughput=throughput_from_ends(ends, 1, start))
    result.bounds = stage_bounds(
        [(kind, elements * t_1, elements * cpu_1, workers, kind == "sleep")],
        0.0,
        0.0,
        result.budget.cpus,
    )
    result.facts.update(
        measured_s=result.throughput.elapsed_s,
        threads_that_ran_python=len(work_tids),
        calls=len(result.spans_of("tf.data")),
        workers=workers,
        cost_per_call=(t_1, cpu_1),
    )
    return result


class GilRuns(ShowsItself, dict):
    """py_function maps by (kind, parallel calls): time, bound, threads, and the speed-ups."""

    def speedup(self, kind: str) -> float:
        return self[(kind, 1)].throughput.elapsed_s / self[(kind, 2)].throughput.elapsed_s

    def table(self) -> Table:
        rows = [
            (
                kind,
                par,
                r.throughput.elapsed_s,
                r.bounds.overlapped_s,
                r.facts["threads_that_ran_python"],
            )
            for (kind, par), r in self.items()
        ]
        return Table(
            ("work", "parallel calls", "measured (s)", "ideal (s)", "threads that ran Python"),
            rows,
            reading=f"Parallel against sequential: NumPy x{self.speedup('numpy'):.2f}, "
            f"pure Python x{self.speedup('python'):.2f}.",
        )


def gil_runs(ms: float = 4.0, **kwargs: Any) -> GilRuns:
    """:func:`py_function_map` for NumPy (releases the GIL) and pure Python, 1 and 2 parallel
    calls."""
    return GilRuns(
        _one_by_one(
            {
                (kind, par): (py_function_map, (kind, ms), {"parallel": par, **kwargs})
                for kind in GIL_KINDS
                for par in (1, 2)
            }
        )
    )


# -- from_generator against from_tensor_slices ------------------------------------------------
def generator_vs_slices(source: str = "from_generator", samples: int | None = None,
                        epochs: int = 3, batch_size: int = 32, seed: int = 0) -> RunResult:
    """Iterate in-memory arrays in batches, per epoch a new iterator, as ``fit`` does.

    ``source`` is "from_generator" (a Python generator slicing the arrays, + prefetch) or
    "from_tensor_slices" (+ batch + prefetch). Facts: each epoch's iterator start (iter() to first
    batch), batches/s to the last batch, and how long deleting the exhausted iterator took.
    """
    check_choice("source", source, ("from_generator", "from_tensor_slices"))
    samples, data, labels = _example_arrays(samples, seed)
    check_int("epochs", epochs, 1, 100)
    check_int("batch size", batch_size, 1, 8192)
    with measured_run() as run:
        tf, tracer = tensorflow(), run.tracer
        if source == "from_generator":
            def batches() -> Any:
                for i in range(0, samples, batch_size):
                    yield data[i:i + batch_size], labels[i:i + batch_size]

            spec = (tf.TensorSpec((None, 10), tf.float32), tf.TensorSpec((None,), tf.float32))
            ds = tf.data.Dataset.from_generator(lambda: tracer.wrap_generator(batches()),
                                                output_signature=spec)
        else:
            ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(batch_size)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        starts, rates, teardowns = [], [], []
        with run.sampling():
            for epoch in range(epochs):
                tracer.mark(f"epoch {epoch + 1}", "epoch")
                t0 = time.perf_counter_ns()
                it = iter(ds)
                ends = []
                for _ in it:
                    ends.append(time.perf_counter_ns())
                    tracer.record("batch", "train", ends[-2] if len(ends) > 1 else t0, ends[-1])
                t1 = time.perf_counter_ns()
                del it  # timed apart: deleting an exhausted iterator can block
                teardowns.append((time.perf_counter_ns() - t1) / 1e9)
                starts.append((ends[0] - t0) / 1e9)
                rates.append((len(ends) - 1) / max((ends[-1] - ends[0]) / 1e9, 1e-9))
        result = run.result(
            f"{source} + prefetch",
            dict(source=source, samples=samples, epochs=epochs, batch_size=batch_size),
            tf_data_tids=tracer.tids("generator"),
        )
    main = run.roles.main
    result.facts.update(
        iterator_start_s=starts,
        iterator_delete_s=teardowns,
        batches_per_s=rates,
        batches_per_epoch=-(-samples // batch_size),
        next_calls_on_main=sum(1 for s in result.spans_of("generator") if s.tid == main),
        next_calls=len(result.spans_of("generator")),
    )
    return result


class SourceRuns(ShowsItself, dict):
    """:func:`generator_vs_slices` runs by source: per epoch, iterator start, batches/s,
    deletion."""

    def table(self) -> Table:
        def listed(xs: list[float], scale: float = 1e3) -> str:
            return ", ".join(f"{scale * x:.1f}" for x in xs)

        rows = [(source, listed(r.facts["iterator_start_s"]), listed(r.facts["batches_per_s"], 1),
                 listed(r.facts["iterator_delete_s"])) for source, r in self.items()]
        gen = self.get("from_generator")
        reading = (
            f"The generator's next() ran on the main thread {gen.facts['next_calls_on_main']} "
            f"of {gen.facts['next_calls']} times (TensorFlow backend)."
            if gen
            else ""
        )
        return Table(("source", "iterator start per epoch (ms)", "batches/s per epoch",
                      "deleting the used-up iterator (ms)"), rows, reading=reading)


def source_runs(**kwargs: Any) -> SourceRuns:
    """:func:`generator_vs_slices` for both sources, same arrays."""
    return SourceRuns(_one_by_one({s: (generator_vs_slices, (s,), kwargs)
                                   for s in ("from_generator", "from_tensor_slices")}))


# -- verdicts --------------------------------------------------------------------------------
def tfdata_verdicts(
    pipelines: Mapping[str, RunResult],
    example3: Mapping[str, RunResult],
    gil: Mapping[tuple[str, int], RunResult],
    keep_as: str | None = None,
) -> verdicts.Scorecard:
    """C10 (naive against prefetch, and example 3 with injection off against ``.prefetch``) and
    C11 (parallel against sequential map, GIL-releasing and CPU-bound), by the claims module's
    rules.

    ``pipelines`` maps variant names to :func:`~fitscope.lessons.tfdata.runs.tfdata_pipeline`
    runs (a
    :class:`~fitscope.lessons.tfdata.runs.PipelineRuns` does), ``gil`` (kind, parallel calls)
    to maps;
    ``keep_as`` (e.g. "notebook 03") also keeps the verdicts as this machine's evidence for the
    scorecard (:mod:`fitscope.verdicts.evidence`).
    """
    naive, prefetched = pipelines["naive"], pipelines["prefetch"]
    budget = prefetched.budget.cpus if prefetched.budget else 1.0
    arrays_off, arrays_on = example3["no prefetch, injection off"], example3["prefetch"]
    c10 = verdicts.c10(naive.throughput.elapsed_s / prefetched.throughput.elapsed_s,
                     prefetched.facts["overlap_share"] >= verdicts.OVERLAP_VISIBLE_SHARE,
                     arrays_on.throughput.steps_per_s / arrays_off.throughput.steps_per_s, budget)
    speedup = {
        k: gil[(k, 1)].throughput.elapsed_s / gil[(k, 2)].throughput.elapsed_s for k in GIL_KINDS
    }
    c11 = verdicts.c11(speedup["numpy"], speedup["python"], budget)
    card = verdicts.Scorecard([c10, c11])
    return evidence.keep("tfdata", card, keep_as) if keep_as else card
