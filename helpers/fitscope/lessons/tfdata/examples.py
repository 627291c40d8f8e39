"""Notebook 03's article example 3, and its verdicts on C10 and C11.

- :func:`fit_example3`: the article's example 3 (arrays → shuffle → batch → ``fit``) on a
  pipeline the notebook writes: with ``.prefetch``, without, and without with TensorFlow's
  prefetch injection off (:func:`example3_pipeline` is the package's copy, for tests and the
  scorecard); :class:`Example3Runs` shows them as a table with its reading.
- :func:`tfdata_verdicts`: C10 and C11 from those runs, the synthetic pipeline's and the GIL's
  (:mod:`~fitscope.lessons.tfdata.gil`).

Example:
    >>> r = article_example3("no prefetch", samples=640, epochs=1)       # doctest: +SKIP
    >>> r.facts["prefetch_ops_in_graph"]                               # doctest: +SKIP
    0
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

import numpy as np

from fitscope import verdicts
from fitscope.core.clock import StepClock
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_choice, check_int
from fitscope.instrument.measure import MeasuredRun, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer
from fitscope.lessons.tfdata.gil import GIL_KINDS
from fitscope.lessons.tfdata.pipelines import default_repeats
from fitscope.lessons.tfdata.runs import PipelineRuns
from fitscope.verdicts import evidence
from fitscope.verdicts.compare import Compared, compare
from fitscope.workloads.article import article_model
from fitscope.workloads.graph_costs import (
    graph_ops,
    inject_prefetch_option,
    tensorflow,
)

__all__ = [
    "EXAMPLE3_VARIANTS",
    "Example3Runs",
    "article_example3",
    "example3_arrays",
    "example3_pipeline",
    "fit_example3",
    "tfdata_verdicts",
]

EXAMPLE3_VARIANTS = ("prefetch", "no prefetch", "no prefetch, injection off")


def example3_arrays(samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
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
    return (
        rng.random((samples, 10), dtype=np.float32),
        rng.integers(0, 2, samples).astype(np.float32),
    )


# -- the article's example 3 -----------------------------------------------------------------
def example3_pipeline(variant: str = "prefetch", samples: int | None = None, seed: int = 0) -> Any:
    """The package's copy of example 3's pipeline (for the tests and the scorecard; notebook 03
    writes each in a cell): arrays → shuffle(1000) → batch(32), then ``.prefetch(AUTOTUNE)``
    ("prefetch"), nothing ("no prefetch": TensorFlow may inject one) or TensorFlow's prefetch
    injection switched off ("no prefetch, injection off")."""
    check_choice("variant", variant, EXAMPLE3_VARIANTS)
    tf = tensorflow()
    ds = (
        tf.data.Dataset.from_tensor_slices(example3_arrays(samples, seed))
        .shuffle(1000, seed=seed)
        .batch(32)
    )
    if variant == "prefetch":
        return ds.prefetch(tf.data.AUTOTUNE)
    if variant == "no prefetch, injection off":
        opts = tf.data.Options()
        opts.experimental_optimization.inject_prefetch = False
        return ds.with_options(opts)
    return ds


def article_example3(
    variant: str = "prefetch",
    samples: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    repeats: int = 1,
) -> RunResult:
    """:func:`fit_example3` on the package's copy of ``variant`` (:func:`example3_pipeline`)."""
    return fit_example3(example3_pipeline(variant, samples, seed), variant, epochs, repeats)


def fit_example3(
    ds: Any, name: str = "example 3", epochs: int | None = None, repeats: int | None = None
) -> RunResult:
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
        runs = sorted(
            (_fit_once(run, ds, name, epochs) for _ in range(repeats)),
            key=lambda r: r.throughput.steps_per_s,
        )
    chosen = runs[(len(runs) - 1) // 2]
    chosen.facts.update(
        repeats_steps_per_s=[r.throughput.steps_per_s for r in runs],
        prefetch_ops_in_graph=graph_ops(ds).get("PrefetchDataset", 0),
        inject_prefetch=inject_prefetch_option(ds),
    )
    return chosen


def _fit_once(run: MeasuredRun, ds: Any, name: str, epochs: int) -> RunResult:
    run.tracer = Tracer()
    model = article_model(0)
    trace_cb = StepClock(run.tracer)
    with run.sampling():
        model.fit(ds, epochs=epochs, verbose=0, shuffle=False, callbacks=[trace_cb])
    ends = trace_cb.batch_ends_ns
    result = run.result(
        f"example 3: {name}",
        dict(variant=name, epochs=epochs),
        throughput=throughput_from_ends(ends[1:], 32, ends[0]),
    )
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
                round(statistics.median(r.facts["repeats_steps_per_s"]), 1),
                r.facts["prefetch_ops_in_graph"],
                r.facts["inject_prefetch"],
            )
            for v, r in self.items()
        ]
        plain, off = self.comparisons()
        return Table(
            (
                "variant",
                "steps/s (median)",
                "prefetch ops in the dataset's graph",
                "inject_prefetch option",
            ),
            rows,
            reading=f"With .prefetch against without: {plain}; against injection off: {off}.",
            facts=[plain.facts(), off.facts()],
        )


# -- verdicts --------------------------------------------------------------------------------
def tfdata_verdicts(
    pipelines: Mapping[str, RunResult] | PipelineRuns,
    example3: Mapping[str, RunResult],
    gil: Mapping[tuple[str, int], RunResult],
    keep_as: str | None = None,
) -> verdicts.Scorecard:
    """C10 (naive against prefetch, and example 3 with injection off against ``.prefetch``) and
    C11 (parallel against sequential map, GIL-releasing and CPU-bound), by the claims module's
    rules.

    ``pipelines`` maps variant names to :func:`~fitscope.lessons.tfdata.variants.tfdata_pipeline`
    runs (a
    :class:`~fitscope.lessons.tfdata.runs.PipelineRuns` does), ``gil`` (kind, parallel calls)
    to maps;
    ``keep_as`` (e.g. "notebook 03") also keeps the verdicts as this machine's evidence for the
    scorecard (:mod:`fitscope.verdicts.evidence`).
    """
    naive, prefetched = pipelines["naive"], pipelines["prefetch"]
    budget = prefetched.budget.cpus if prefetched.budget else 1.0
    arrays_off, arrays_on = example3["no prefetch, injection off"], example3["prefetch"]
    c10 = verdicts.c10(
        compare(_seconds(naive), _seconds(prefetched)),
        prefetched.facts["overlap_share"] >= verdicts.OVERLAP_VISIBLE_SHARE,
        compare(_rates(arrays_off), _rates(arrays_on), unit="per s"),
        budget,
    )
    gil_releasing, cpu_bound = (
        compare(_seconds(gil[(k, 1)]), _seconds(gil[(k, 2)])) for k in GIL_KINDS
    )  # GIL_KINDS is ("numpy", "python"): NumPy releases the GIL, pure Python holds it
    c11 = verdicts.c11(
        gil_releasing,
        cpu_bound,
        budget,
        # unmeasured free CPUs are unknown (None), never B filled in
        min((r.facts["free_cpus"] for r in gil.values() if "free_cpus" in r.facts), default=None),
    )
    card = verdicts.Scorecard([c10, c11])
    return evidence.keep("tfdata", card, keep_as) if keep_as else card
