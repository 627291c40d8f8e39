"""Notebook 03's smaller tf.data measurements, and its verdicts on C10 and C11.

- :func:`fit_example3`: the article's example 3 (arrays → shuffle → batch → ``fit``) on a
  pipeline the notebook writes: with ``.prefetch``, without, and without with TensorFlow's
  prefetch injection off (:func:`example3_pipeline` is the package's copy, for tests and the
  scorecard).
- :func:`py_function_map`: a map through ``tf.py_function``, sequential or parallel, over work
  that releases the GIL or holds it.
- :func:`generator_vs_slices`: ``from_generator`` against ``from_tensor_slices`` on the same arrays.
- :func:`tfdata_verdicts`: C10 and C11 from those runs and the synthetic pipeline's.

Each set of runs shows itself as a table with its reading.

Example:
    >>> r = article_example3("no prefetch", samples=640, epochs=1)       # doctest: +SKIP
    >>> r.facts["prefetch_ops_in_graph"]                               # doctest: +SKIP
    0
"""

from __future__ import annotations

import statistics
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
from fitscope.instrument.measure import MeasuredRun, cost_per_call, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer
from fitscope.lessons.tfdata.pipelines import default_repeats
from fitscope.verdicts import evidence
from fitscope.verdicts.compare import Compared, compare
from fitscope.workloads.article import article_model, batch_work
from fitscope.workloads.graph_costs import (
    AUTOTUNE,
    graph_ops,
    inject_prefetch_option,
    parallel_calls,
    tensorflow,
)

__all__ = ["EXAMPLE3_VARIANTS", "Example3Runs", "GilRuns", "SourceRuns", "article_example3",
           "example3_arrays", "example3_pipeline", "fit_example3", "py_function_map", "gil_runs",
           "generator_vs_slices", "source_runs", "tfdata_verdicts"]

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


def example3_arrays(samples: int | None = None,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Example 3's in-memory data: ``samples`` rows of 10 random features and their 0/1 labels
    (10,000 rows; 3,200 in quick mode).

    Example:
        >>> x, y = example3_arrays(100)
        >>> x.shape, y.shape
        ((100, 10), (100,))
    """
    samples = check_int(
        "samples",
        samples if samples is not None else (3200 if quick_mode() else 10_000),
        64,
        1_000_000,
    )
    rng = np.random.default_rng(seed)
    return (rng.random((samples, 10), dtype=np.float32),
            rng.integers(0, 2, samples).astype(np.float32))


# -- the article's example 3 -----------------------------------------------------------------
def example3_pipeline(variant: str = "prefetch", samples: int | None = None, seed: int = 0) -> Any:
    """The package's copy of example 3's pipeline (for the tests and the scorecard; notebook 03
    writes each in a cell): arrays → shuffle(1000) → batch(32), then ``.prefetch(AUTOTUNE)``
    ("prefetch"), nothing ("no prefetch": TensorFlow may inject one) or TensorFlow's prefetch
    injection switched off ("no prefetch, injection off")."""
    check_choice("variant", variant, EXAMPLE3_VARIANTS)
    tf = tensorflow()
    ds = tf.data.Dataset.from_tensor_slices(example3_arrays(samples, seed)).shuffle(
        1000, seed=seed).batch(32)
    if variant == "prefetch":
        return ds.prefetch(tf.data.AUTOTUNE)
    if variant == "no prefetch, injection off":
        opts = tf.data.Options()
        opts.experimental_optimization.inject_prefetch = False
        return ds.with_options(opts)
    return ds


def article_example3(variant: str = "prefetch", samples: int | None = None,
                     epochs: int | None = None, seed: int = 0, repeats: int = 1) -> RunResult:
    """:func:`fit_example3` on the package's copy of ``variant`` (:func:`example3_pipeline`)."""
    return fit_example3(example3_pipeline(variant, samples, seed), variant, epochs, repeats)


def fit_example3(ds: Any, name: str = "example 3", epochs: int | None = None,
                 repeats: int | None = None) -> RunResult:
    """The article's Dense(1) model trained by ``fit`` on ``ds`` for ``epochs`` (3; 2 in quick
    mode), ``repeats`` times (:func:`default_repeats` by default) with a fresh model; the median
    run (by steps/s, counted from the end of its first step) is returned, every run's steps/s in
    ``facts["repeats_steps_per_s"]``.

    Example:
        >>> r = fit_example3(example3_pipeline("no prefetch", samples=640), epochs=1,
        ...                  repeats=1)                                    # doctest: +SKIP
        >>> r.facts["prefetch_ops_in_graph"]                               # doctest: +SKIP
        0
    """
    epochs = check_int(
        "epochs", epochs if epochs is not None else (2 if quick_mode() else 3), 1, 100
    )
    repeats = check_int("repeats", default_repeats() if repeats is None else repeats, 1, 100)
    with measured_run(interval_s=0.05) as run:  # one run scaffold, a fresh tracer a repeat
        runs = sorted((_fit_once(run, ds, name, epochs) for _ in range(repeats)),
                      key=lambda r: r.throughput.steps_per_s)
    chosen = runs[(len(runs) - 1) // 2]
    chosen.facts.update(repeats_steps_per_s=[r.throughput.steps_per_s for r in runs],
                        prefetch_ops_in_graph=graph_ops(ds).get("PrefetchDataset", 0),
                        inject_prefetch=inject_prefetch_option(ds))
    return chosen


def _fit_once(run: MeasuredRun, ds: Any, name: str, epochs: int) -> RunResult:
    run.tracer = Tracer()
    model = article_model(0)
    trace_cb = TraceCallback(run.tracer)
    with run.sampling():
        model.fit(ds, epochs=epochs, verbose=0, shuffle=False, callbacks=[trace_cb])
    ends = trace_cb.batch_ends_ns
    result = run.result(f"example 3: {name}", dict(variant=name, epochs=epochs),
                        throughput=throughput_from_ends(ends[1:], 32, ends[0]))
    result.facts.update(variant=name, steps=len(ends), steps_per_s=result.throughput.steps_per_s)
    return result


def _seconds(r: RunResult) -> list[float]:
    return r.facts.get("repeats_s") or [r.throughput.elapsed_s]


def _rates(r: RunResult) -> list[float]:
    return r.facts.get("repeats_steps_per_s") or [r.throughput.steps_per_s]


class Example3Runs(ShowsItself, dict):
    """Example 3's runs by variant: steps/s, the prefetch ops in each graph, the option's value."""

    def comparisons(self) -> tuple[Compared, Compared]:
        """``.prefetch`` against without, and against injection off, by the one rule."""
        on, plain, off = (_rates(self[v]) for v in EXAMPLE3_VARIANTS)
        return compare(plain, on, "steps/s"), compare(off, on, "steps/s")

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
        plain, off = self.comparisons()
        return Table(
            ("variant", "steps/s (median)", "prefetch ops in the dataset's graph",
             "inject_prefetch option"),
            rows,
            reading=f"With .prefetch against without: {plain}; against injection off: {off}.",
            facts=[plain.facts(), off.facts()],
        )


# -- the GIL caveat --------------------------------------------------------------------------
def py_function_map(kind: str = "python", ms: float = 4.0, elements: int | None = None,
                    parallel: int = 1, repeats: int | None = None) -> RunResult:
    """A map through ``tf.py_function`` doing ``kind`` work (see
    :func:`fitscope.workloads.article.batch_work`), measured ``repeats`` times: the median run,
    every run's time in ``facts["repeats_s"]``.

    ``parallel`` is num_parallel_calls (1: a sequential map; 0: AUTOTUNE). Each call is traced
    from inside the Python function, so its span carries the OS thread that ran it.
    """
    check_choice("kind", kind, ("python", "numpy", "sleep"))
    check_positive("ms per element", ms, maximum=1000)
    elements = check_int(
        "elements", elements if elements is not None else (24 if quick_mode() else 60), 2, 100_000
    )
    check_int("parallel calls (0 = AUTOTUNE)", parallel, 0, 256)
    repeats = check_int("repeats", default_repeats() if repeats is None else repeats, 1, 100)
    with measured_run() as run:  # one run scaffold, a fresh tracer a repeat
        runs = sorted((_py_map_once(run, kind, ms, elements, parallel) for _ in range(repeats)),
                      key=lambda r: r.throughput.elapsed_s)
    chosen = runs[(len(runs) - 1) // 2]
    chosen.facts["repeats_s"] = [r.throughput.elapsed_s for r in runs]
    return chosen


def _py_map_once(run: MeasuredRun, kind: str, ms: float, elements: int,
                 parallel: int) -> RunResult:
    run.tracer = Tracer()
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

    def comparison(self, kind: str) -> Compared:
        """The parallel map against the sequential one for ``kind`` work, by the one rule."""
        return compare(_seconds(self[(kind, 1)]), _seconds(self[(kind, 2)]))

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
            reading=f"Parallel against sequential: NumPy {self.comparison('numpy')}; "
            f"pure Python {self.comparison('python')}.",
            facts=[self.comparison(k).facts() for k in GIL_KINDS],
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
    data, labels = example3_arrays(samples, seed)
    samples = len(data)
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
def _median_s(r: RunResult) -> float:
    """A run's measured time: the median of its repeats where it has them."""
    return statistics.median(_seconds(r))


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
    c10 = verdicts.c10(_median_s(naive) / _median_s(prefetched),
                       prefetched.facts["overlap_share"] >= verdicts.OVERLAP_VISIBLE_SHARE,
                       statistics.median(_rates(arrays_on)) / statistics.median(_rates(arrays_off)),
                       budget)
    speedup = {k: _median_s(gil[(k, 1)]) / _median_s(gil[(k, 2)]) for k in GIL_KINDS}
    c11 = verdicts.c11(speedup["numpy"], speedup["python"], budget)
    card = verdicts.Scorecard([c10, c11])
    return evidence.keep("tfdata", card, keep_as) if keep_as else card
