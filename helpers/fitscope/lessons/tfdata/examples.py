"""Notebook 03's article example 3, and its verdicts on C10 and C11.

- :func:`fit_example3_rotated`: the article's example 3 (arrays → shuffle → batch → ``fit``) on
  the pipelines the notebook writes: with ``.prefetch``, without, and without with TensorFlow's
  prefetch injection off, their repeats interleaved in a rotated order, so that no pipeline
  always runs first; :class:`Example3Runs` shows them as a table with its reading.
  :func:`fit_example3` trains one pipeline; :func:`example3_pipeline` is the package's copy of
  each, and :func:`example3_runs` measures those (for tests and the scorecard).
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
from fitscope.lessons.tfdata.gil import GIL_KINDS, GilRuns
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
    "example3_runs",
    "fit_example3",
    "fit_example3_rotated",
    "rotations",
    "tfdata_verdicts",
    "twin",
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


def example3_runs(
    variants: tuple[str, ...] = EXAMPLE3_VARIANTS,
    samples: int | None = None,
    epochs: int | None = None,
    repeats: int | None = None,
) -> Example3Runs:
    """:func:`fit_example3_rotated` on the package's copies of ``variants``."""
    return fit_example3_rotated(
        {v: example3_pipeline(v, samples) for v in variants}, epochs, repeats
    )


def fit_example3(
    ds: Any, name: str = "example 3", epochs: int | None = None, repeats: int | None = None
) -> RunResult:
    """The article's Dense(1) model trained by ``fit`` on ``ds``: :func:`fit_example3_rotated`
    with this one pipeline.

    Example:
        >>> r = fit_example3(example3_pipeline("no prefetch", samples=640), epochs=1,
        ...                  repeats=1)                                    # doctest: +SKIP
        >>> r.facts["prefetch_ops_in_graph"]                               # doctest: +SKIP
        0
    """
    return fit_example3_rotated({name: ds}, epochs, repeats)[name]


def rotations(names: tuple[str, ...], repeats: int) -> list[tuple[str, ...]]:
    """The order each repeat runs ``names`` in: repeat r starts r places further on, so no
    name always runs first (on the warm-up, or on what the machine did at one moment).

    Example:
        >>> rotations(("a", "b", "c"), 2)
        [('a', 'b', 'c'), ('b', 'c', 'a')]
    """
    n = len(names)
    return [tuple(names[(r + i) % n] for i in range(n)) for r in range(repeats)]


def fit_example3_rotated(
    pipelines: Mapping[str, Any], epochs: int | None = None, repeats: int | None = None
) -> Example3Runs:
    """The article's Dense(1) model trained by ``fit`` on each of ``pipelines`` (name → dataset)
    for ``epochs`` (3; 2 in quick mode), ``repeats`` times each (:func:`default_repeats` by
    default) with a fresh model, the pipelines interleaved: repeat r runs them in the order
    :func:`rotations` gives. For each pipeline the median run (by steps/s, counted from the end
    of its first step) is kept, with every fit's steps/s in the order of the repeats in
    ``facts["repeats_steps_per_s"]`` and its place in each repeat's order (1: first) in
    ``facts["run_order"]``.

    Example:
        >>> runs = fit_example3_rotated({v: example3_pipeline(v, 640) for v in EXAMPLE3_VARIANTS},
        ...                             epochs=1, repeats=2)               # doctest: +SKIP
        >>> runs["prefetch"].facts["run_order"]                            # doctest: +SKIP
        [1, 3]
    """
    epochs = check_int(
        "epochs", epochs if epochs is not None else (2 if quick_mode() else 3), 1, 100
    )
    repeats = check_int("repeats", default_repeats() if repeats is None else repeats, 1, 100)
    fits: dict[str, list[RunResult]] = {name: [] for name in pipelines}
    order: dict[str, list[int]] = {name: [] for name in pipelines}
    with measured_run(interval_s=0.05) as run:  # one run scaffold, a fresh tracer a fit
        for names in rotations(tuple(pipelines), repeats):
            for place, name in enumerate(names, 1):
                fits[name].append(_fit_once(run, pipelines[name], name, epochs))
                order[name].append(place)
    runs = Example3Runs()
    for name, ds in pipelines.items():
        chosen = sorted(fits[name], key=lambda r: r.throughput.steps_per_s)[(repeats - 1) // 2]
        chosen.facts.update(
            repeats_steps_per_s=[r.throughput.steps_per_s for r in fits[name]],
            run_order=order[name],
            prefetch_ops_in_graph=graph_ops(ds).get("PrefetchDataset", 0),
            inject_prefetch=inject_prefetch_option(ds),
        )
        runs[name] = chosen
    return runs


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


def twin(example3: Mapping[str, RunResult]) -> Compared | None:
    """``.prefetch`` against its twin, example 3 without ``.prefetch`` where TensorFlow injects
    one (``inject_prefetch`` None): the same pipeline twice, so how far their fits lie apart is
    the floor a gap between pipelines is read against, whatever its cause
    (:func:`fitscope.verdicts.twin_noise`); None without that twin."""
    plain = example3.get("no prefetch")
    if plain is None or "prefetch" not in example3 or plain.facts.get("inject_prefetch") is False:
        return None
    return compare(_rates(plain), _rates(example3["prefetch"]), "steps/s")


class Example3Runs(ShowsItself, dict):
    """Example 3's runs by variant: steps/s, the prefetch ops in each graph, the option's value."""

    def comparisons(self) -> tuple[Compared, Compared]:
        """``.prefetch`` against without, and against injection off, by the one rule."""
        on, plain, off = (_rates(self[v]) for v in EXAMPLE3_VARIANTS)
        return compare(plain, on, "steps/s"), compare(off, on, "steps/s")

    def orders(self) -> str:
        """The order each repeat ran the pipelines in, as the reading says it ("" for one).

        Example:
            >>> r = {v: RunResult(v, facts={"run_order": o}) for v, o in (("a", [1, 2]),
            ...      ("b", [2, 1]))}
            >>> Example3Runs(r).orders()
            "The repeats ran the pipelines in rotated orders (1: 'a', 'b'; 2: 'b', 'a'), so \
none always ran first."
        """
        places = {v: r.facts.get("run_order") or [] for v, r in self.items()}
        n = min(len(p) for p in places.values()) if places else 0
        if n < 2:
            return ""
        each = "; ".join(
            f"{i + 1}: " + ", ".join(f"'{v}'" for v in sorted(places, key=lambda v: places[v][i]))
            for i in range(n)
        )
        return (
            f"The repeats ran the pipelines in rotated orders ({each}), so none always ran first."
        )

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
        """Each pipeline's median steps/s and every fit's, its graph; the reading compares them,
        says the order the repeats ran in and how far the twin pipelines' fits lie apart."""
        rows = [
            (
                v,
                round(statistics.median(r.facts["repeats_steps_per_s"]), 1),
                ", ".join(f"{x:.0f}" for x in r.facts["repeats_steps_per_s"]),
                r.facts["prefetch_ops_in_graph"],
                r.facts["inject_prefetch"],
            )
            for v, r in self.items()
        ]
        plain, off = self.comparisons()
        reading = f"With .prefetch against without: {plain}; against injection off: {off}."
        if (twins := twin(self)) is not None:
            reading += (
                " 'prefetch' and 'no prefetch' are twins (TensorFlow injects a prefetch into the "
                "second): their fits differ by what this run cannot attribute, up to "
                f"x{verdicts.twin_noise(twins):.2f} here: the floor C10 reads a gap between "
                "pipelines against, not a speed-up."
            )
        return Table(
            (
                "variant",
                "steps/s (median)",
                "steps/s of each fit, in the order of the repeats",
                "prefetch ops in the dataset's graph",
                "inject_prefetch option",
            ),
            rows,
            reading=" ".join(x for x in (reading, self.orders()) if x),
            facts=[plain.facts(), off.facts()],
        )


# -- verdicts --------------------------------------------------------------------------------
def tfdata_verdicts(
    pipelines: Mapping[str, RunResult] | PipelineRuns,
    example3: Mapping[str, RunResult],
    gil: Mapping[tuple[str, int], RunResult],
    keep_as: str | None = None,
) -> verdicts.Scorecard:
    """C10 (naive against prefetch, and example 3 with injection off against ``.prefetch``, read
    against the noise of its twins where ``example3`` holds them: :func:`twin`) and C11
    (parallel against sequential map, GIL-releasing and CPU-bound, the pure Python read against
    what the GIL lets a parallel map gain: :meth:`.gil.GilRuns.python_limit`), by the claims
    module's rules.

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
        twin(example3),
    )
    gil_releasing, cpu_bound = (
        compare(_seconds(gil[(k, 1)]), _seconds(gil[(k, 2)])) for k in GIL_KINDS
    )  # GIL_KINDS is ("numpy", "python"): NumPy releases the GIL, pure Python holds it
    maps = GilRuns(gil)
    c11 = verdicts.c11(
        gil_releasing,
        cpu_bound,
        budget,
        # unmeasured free CPUs are unknown (None), never B filled in
        min((r.facts["free_cpus"] for r in gil.values() if "free_cpus" in r.facts), default=None),
        maps.python_limit(),  # what the GIL table's sentence reads a gain against
        (maps.cost_ratio("numpy"), maps.cost_ratio("python")),
    )
    card = verdicts.Scorecard([c10, c11])
    return evidence.keep("tfdata", card, keep_as) if keep_as else card
