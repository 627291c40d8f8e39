"""Lesson 01's runs side by side: what changes who does the work when ``fit`` trains.

The notebook runs each study in its own cell; these set runs already seen side by side, each a
:class:`~fitscope.show.comparison.Comparison` that shows itself with the sentence read from its
own numbers: TensorFlow's default intra-op threads against one (:func:`intra_op_comparison`),
any two runs per step (:func:`compare_runs`); :func:`predict_vs_fit` measures both calls.
:func:`gil_comparison` runs both generators of C4 at once for the scorecard's quick runs. The
``*_verdict`` functions and :func:`scenario1_scorecard` apply the claims module's rules.

Example:
    >>> runs = gil_comparison(width=64, steps=10, epochs=1)      # doctest: +SKIP
    >>> sorted(runs)                                              # doctest: +SKIP
    ['python', 'sleep']
"""

from __future__ import annotations

import statistics
from typing import Any

from fitscope import verdicts
from fitscope.experiments.article_fit import (
    GeneratorFitParams,
    generator_fit,
)
from fitscope.experiments.traced import step_alone
from fitscope.experiments.traced_facts import against_bound
from fitscope.instrument.environment import on_backend, quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_int
from fitscope.instrument.measure import measured_run
from fitscope.instrument.printed import CORES_BUSY
from fitscope.instrument.result import RunResult
from fitscope.instrument.threads import ThreadRoles
from fitscope.lessons.generator.fit import generator_fit_verdicts
from fitscope.show.comparison import Comparison
from fitscope.verdicts import evidence
from fitscope.workloads.article import FEATURES, article_model, random_batches

__all__ = [
    "intra_op_comparison",
    "predict_vs_fit",
    "c5_verdict",
    "gil_comparison",
    "c4_verdict",
    "seconds_per_step",
    "compare_runs",
    "scenario1_scorecard",
]


def intra_op_comparison(default: RunResult, fresh: RunResult) -> Comparison:
    """``default`` (a run in this kernel, TensorFlow's default threads) beside ``fresh`` (the same
    workload in a fresh interpreter with fewer intra-op threads), both already run and seen.

    Cores busy and CPU shares are rates, so runs of different lengths compare; the time
    comparison is per step (:func:`compare_runs`).
    """
    threads = fresh.facts.get("intra_op_threads")
    runs = {
        "default intra-op threads (this kernel)": default,
        f"{threads} intra-op thread(s), fresh interpreter": fresh,
    }
    parts = []
    for label, r in runs.items():
        roles, name = r.facts["train_cpu_by_role"], label.split(" (")[0].split(",")[0]
        if not r.facts["train_cpu_s"]:  # no CPU sample fell in the steps after the first
            parts.append(f"with {name} no CPU was sampled during the timed steps")
            continue
        top = max(roles, key=roles.get)
        parts.append(
            f"with {name} {r.facts['cores_busy']:.2f} cores "
            f"were busy and the busiest role was '{top}' "
            f"({100 * roles[top] / r.facts['train_cpu_s']:.0f}% of the CPU)"
        )
    per_step = _per_step_reading(runs, same_work=False)
    return Comparison(
        runs,
        reading=f"{on_backend(default.environment)}, "
        + "; ".join(parts)
        + f". Per step, {per_step}.",
        extra=[
            PER_STEP_COLUMN,
            ("cores busy", lambda r: f"{r.facts['cores_busy']:.2f}", CORES_BUSY),
        ],
    )


def predict_vs_fit(width: int = 1024, batch_size: int = 512, steps: int | None = None) -> RunResult:
    """Cores busy in ``predict`` and in ``fit`` on the same model, arrays and batch size.

    Cores busy = CPU of every thread of the process inside the call / its wall time. Both calls
    are warmed up first, so tracing the functions is not timed.

    Example:
        >>> r = predict_vs_fit(width=64, batch_size=64, steps=5)    # doctest: +SKIP
        >>> sorted(r.facts["cores_busy"])                           # doctest: +SKIP
        ['fit', 'predict']
    """
    import numpy as np

    check_int("model width", width, 1, 4096)
    check_int("batch size", batch_size, 1, 8192)
    steps = check_int(
        "steps", steps if steps is not None else (10 if quick_mode() else 20), 2, 10_000
    )
    with measured_run() as run:
        rng = np.random.default_rng(0)
        x = rng.random((steps * batch_size, FEATURES), dtype=np.float32)
        y = rng.integers(0, 2, steps * batch_size).astype(np.float32)
        model = article_model(width)
        model.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, verbose=0)
        model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
        with run.sampling():
            with run.tracer.span("predict", "predict"):
                model.predict(x, batch_size=batch_size, verbose=0)
            with run.tracer.span("fit", "train"):
                model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    result = run.result(
        f"predict vs fit (Dense {width} x 2, batch {batch_size})",
        dict(width=width, batch_size=batch_size, steps=steps),
    )
    cores, wall = {}, {}
    for span in result.spans:
        wall[span.label] = span.duration_s
        cores[span.label] = (
            sum(result.cpu.by_thread_s([(span.start_ns, span.end_ns)]).values()) / span.duration_s
        )
    result.facts.update(
        cores_busy=cores, wall_s=wall, steps=steps, cpu_samples=len(result.cpu.t_ns)
    )
    result.reading = (
        f"{on_backend(result.environment)}, predict kept {cores['predict']:.2f} cores busy over "
        f"{wall['predict']:.2f} s and fit {cores['fit']:.2f} over {wall['fit']:.2f} s "
        f"(B = {run.budget.cpus:g})."
    )
    return result


def c5_verdict(result: RunResult) -> verdicts.Verdict:
    """C5 from a :func:`predict_vs_fit` result."""
    c = result.facts["cores_busy"]
    return verdicts.c5(
        c["predict"],
        c["fit"],
        result.budget.cpus if result.budget else 1.0,
        result.facts.get("free_cpus"),
    )


def _train_step_cost(width: int, batch_size: int) -> float:
    """Wall seconds of one train step of the scenario's model in fit, its batch held in memory."""
    return step_alone(article_model(width), next(random_batches(batch_size))).estimate_s


def gil_comparison(
    ms_per_batch: float | None = None, width: int = 256, batch_size: int = 256, **overrides: Any
) -> Comparison:
    """The same ``fit`` fed by a generator that sleeps and by one that computes in Python.

    Both generators cost ``ms_per_batch`` per batch; by default that is one train step's measured
    time, where overlapping the two would help most. Keys: "sleep" and "python".

    Example:
        >>> runs = gil_comparison(width=64, steps=10, epochs=1)      # doctest: +SKIP
        >>> sorted(runs)                                              # doctest: +SKIP
        ['python', 'sleep']
    """
    if ms_per_batch is None:
        ThreadRoles.current().warm_up_tensorflow()
        ms_per_batch = round(
            1e3
            * _train_step_cost(
                check_int("model width", width, 0, 4096),
                check_int("batch size", batch_size, 1, 8192),
            ),
            2,
        )
    from fitscope.show.live import StepCounter

    counter, runs = StepCounter.in_notebook(), {}
    for kind in ("sleep", "python"):
        counter.next_run(f"{kind} generator")
        runs[kind] = generator_fit(
            GeneratorFitParams.default(
                kind=kind,
                ms_per_batch=max(ms_per_batch, 0.1),
                width=width,
                batch_size=batch_size,
                **overrides,
            ),
            live=counter,
        )
    return Comparison(runs, reading=str(c4_verdict(runs)))


def _part(name: str, result: RunResult) -> verdicts.PartEvidence:
    if result.bounds is None:
        raise FitscopeInputError(f"the {name} run has no bounds: it trained fewer than 2 steps.")
    return verdicts.PartEvidence(
        name,
        result.throughput.elapsed_s,
        result.bounds.sequential_s,
        result.bounds.overlapped_s,
        bound_spread=result.facts.get("costs_per_step", {}).get("spread"),
    )


def c4_verdict(runs: dict[str, RunResult]) -> verdicts.Verdict:
    """C4 from :func:`gil_comparison`: the sleeping (GIL-releasing) and the CPU-bound generator."""
    budget = runs["sleep"].budget.cpus if runs["sleep"].budget else 1.0
    return verdicts.c4(
        _part("sleeping generator", runs["sleep"]),
        _part("CPU-bound Python generator", runs["python"]),
        budget,
    )


def ms_per_step(result: RunResult) -> list[float]:
    """:func:`seconds_per_step` in ms: what the per-step comparison reads and the table prints."""
    return [1e3 * s for s in seconds_per_step(result)]


def _median_ms_a_step(r: RunResult) -> str:
    """The median of a run's three blocks of steps, in ms, as the comparison prints it."""
    ms = statistics.median(ms_per_step(r))
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


PER_STEP_COLUMN = ("ms a step, median of 3 blocks (first step left out)", _median_ms_a_step)
"""The table's column for the number the per-step sentence compares (F-14: the total time over
all steps and the sentence's block medians read two values for one run)."""


def seconds_per_step(result: RunResult, blocks: int = 3) -> list[float]:
    """Seconds a step in ``blocks`` consecutive blocks of a run's steps (the first step, which
    traces the train function, left out): the repeats a comparison reads, median and spread.

    Example:
        >>> from fitscope.instrument.tracing import Span
        >>> r = RunResult("r", spans=[Span(f"{i}", "train", 0, i * 10**9, 1) for i in range(1, 8)])
        >>> seconds_per_step(r)
        [1.0, 1.0, 1.0]
    """
    ends = sorted(s.end_ns for s in result.spans_of("train"))[1:]
    if len(ends) < blocks + 1:
        raise FitscopeInputError(f"{result.name} timed {len(ends)} steps: too few to compare.")
    edges = [round(i * (len(ends) - 1) / blocks) for i in range(blocks + 1)]
    return [(ends[j] - ends[i]) / 1e9 / (j - i) for i, j in zip(edges, edges[1:])]


def costs_apart(runs: dict[str, RunResult]) -> float:
    """How far apart the runs' own costs per step (one after the other, measured alone) are, as
    a ratio (1.0 = the same): past ``verdicts.MIN_GAIN`` they are not like with like."""
    per_step = [
        r.bounds.sequential_s / r.throughput.steps
        for r in runs.values()
        if r.throughput.steps and r.bounds and r.bounds.sequential_s > 0
    ]
    return max(per_step) / min(per_step) if len(per_step) > 1 else 1.0


def _per_step_reading(runs: dict[str, RunResult], same_work: bool = True) -> str:
    """The second run against the first, per step; with ``same_work`` (the runs should cost the
    same), costs measured alone more than ``verdicts.MIN_GAIN`` apart stop the comparison (the
    rule notebook 02 reads too). Runs whose setting changes the step itself (intra-op threads)
    pass ``same_work=False``: there the cost is what differs."""
    (a, before), (b, after) = list(runs.items())[:2]
    apart = costs_apart(runs)
    if same_work and apart > verdicts.MIN_GAIN:
        cost = [
            f"'{name}' {1e3 * r.bounds.sequential_s / r.throughput.steps:.2f} ms"
            for name, r in runs.items()
            if r.bounds is not None and r.throughput.steps
        ]
        return (
            f"not like with like: the costs one after the other, measured alone, were "
            f"{' and '.join(cost)} a step, x{apart:.2f} apart, more than the "
            f"x{verdicts.MIN_GAIN:g} a comparison allows, so the runs are not compared; each "
            "is read against its own bounds"
        )
    c = verdicts.compare(ms_per_step(before), ms_per_step(after), "ms")
    return f"'{b}' against '{a}': {c.sentence}"


def compare_runs(runs: dict[str, RunResult]) -> Comparison:
    """Two runs already seen, side by side: the second against the first, per step (seconds a
    step in three blocks of each run, read by :func:`fitscope.verdicts.compare`), and each
    against its ideal bound.

    Example:
        >>> compare_runs({"2 workers": two, "4 workers": four})    # doctest: +SKIP
    """
    if len(runs) != 2:
        raise FitscopeInputError(f"compare_runs compares two runs, got {len(runs)}.")
    bounds = [f"'{label}' {against_bound(r)}" for label, r in runs.items() if r.bounds is not None]
    return Comparison(
        runs,
        reading=f"Per step, {_per_step_reading(runs)}"
        + (f"; {', '.join(bounds)}." if bounds else "."),
        extra=PER_STEP_COLUMN,
    )


def scenario1_scorecard(
    article: RunResult,
    big: RunResult,
    gil: dict[str, RunResult],
    predict_fit: RunResult,
    keep_as: str | None = None,
) -> verdicts.Scorecard:
    """C1–C6: C1 from the article's run, C2, C3, C6 from the compute-heavy run, C4, C5 their own.

    ``keep_as`` (e.g. "notebook 01") also keeps them as this machine's evidence for the scorecard
    (:mod:`fitscope.verdicts.evidence`), which then does not measure them again.
    """
    first = {v.claim_id: v for v in generator_fit_verdicts(article)}
    heavy = {v.claim_id: v for v in generator_fit_verdicts(big)}
    card = verdicts.Scorecard(
        [
            first["C1"],
            heavy["C2"],
            heavy["C3"],
            c4_verdict(gil),
            c5_verdict(predict_fit),
            heavy["C6"],
        ]
    )
    return evidence.keep("generator", card, keep_as) if keep_as else card
