"""Lesson 01's side-by-side experiments: what changes who does the work when ``fit`` trains.

Each returns a :class:`~fitscope.instrument.result.Comparison` (or a RunResult) that shows itself
with the
sentence read from its own numbers: TensorFlow's default intra-op threads against one, in a fresh
interpreter; ``predict`` against ``fit``; a GIL-releasing against a CPU-bound generator; a
``PyDataset`` with worker threads against worker processes; more workers. The ``*_verdict``
functions and :func:`scenario1_scorecard` apply the claims module's rules.

Example:
    >>> runs = gil_comparison(width=64, steps=10, epochs=1)      # doctest: +SKIP
    >>> sorted(runs)                                              # doctest: +SKIP
    ['python', 'sleep']
"""

from __future__ import annotations

from typing import Any

from fitscope import verdicts
from fitscope.experiments.generator_fit import (
    PYDATASET_PROCESSES,
    PYDATASET_THREADS,
    GeneratorFitParams,
    fit_in_sandbox,
    generator_fit,
)
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_int
from fitscope.instrument.measure import cost_per_call, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.threads import ThreadRoles
from fitscope.lessons.generator.fit import generator_fit_verdicts
from fitscope.show.comparison import Comparison
from fitscope.verdicts import evidence
from fitscope.workloads.article import FEATURES, article_model, random_batches

__all__ = ["intra_op_comparison", "predict_vs_fit", "c5_verdict", "gil_comparison", "c4_verdict",
           "pydataset_workers", "more_workers", "scenario1_scorecard"]


def _progress() -> Any:
    """A one-line step counter shown in the running notebook cell; None outside a Jupyter kernel."""
    from IPython import get_ipython

    if getattr(get_ipython(), "kernel", None) is None:
        return None
    from fitscope.show.live import StepCounter

    return StepCounter.shown()


def _next(counter: Any, label: str) -> Any:
    """``counter`` told that the run ``label`` starts (the live display to hand that run)."""
    if counter is not None:
        counter.next_run(label)
    return counter


def intra_op_comparison(
    default: RunResult, intra_op_threads: int = 1, steps: int = 20
) -> Comparison:
    """``default`` (a run in this kernel, TensorFlow's default threads) against the same workload in
    a fresh interpreter limited to ``intra_op_threads`` (another TensorFlow configuration).

    The fresh run is one epoch of ``steps`` steps: enough to read the cores busy and the busiest
    role
    (most of its time is the fresh interpreter importing TensorFlow).
    """
    p = GeneratorFitParams(**{**default.params, "steps": steps, "epochs": 1})
    fresh = f"{intra_op_threads} intra-op thread(s), fresh interpreter"
    runs = {
        "default intra-op threads (this kernel)": default,
        fresh: fit_in_sandbox(p, intra_op_threads=intra_op_threads, live=_next(_progress(), fresh)),
    }
    parts = []
    for label, r in runs.items():
        roles = r.facts["train_cpu_by_role"]
        top = max(roles, key=roles.get)
        parts.append(f"with {label.split(' (')[0].split(',')[0]} {r.facts['cores_busy']:.2f} cores "
                     f"were busy and the busiest role was '{top}' "
                     f"({100 * roles[top] / r.facts['train_cpu_s']:.0f}% of the CPU)")
    return Comparison(runs, reading="On the TensorFlow backend, " + "; ".join(parts) + ".",
                      extra=("cores busy", lambda r: f"{r.facts['cores_busy']:.2f}"))


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
    result = run.result(f"predict vs fit (Dense {width} x 2, batch {batch_size})",
                        dict(width=width, batch_size=batch_size, steps=steps))
    cores, wall = {}, {}
    for span in result.spans:
        wall[span.label] = span.duration_s
        cores[span.label] = sum(result.cpu.by_thread_s([(span.start_ns, span.end_ns)]).values()) \
            / span.duration_s
    result.facts.update(
        cores_busy=cores, wall_s=wall, steps=steps, cpu_samples=len(result.cpu.t_ns)
    )
    result.reading = (
        f"On the TensorFlow backend, predict kept {cores['predict']:.2f} cores busy over "
        f"{wall['predict']:.2f} s and fit {cores['fit']:.2f} over {wall['fit']:.2f} s "
        f"(B = {result.budget.cpus:g})."
    )
    return result


def c5_verdict(result: RunResult) -> verdicts.Verdict:
    """C5 from a :func:`predict_vs_fit` result."""
    c = result.facts["cores_busy"]
    return verdicts.c5(c["predict"], c["fit"], result.budget.cpus if result.budget else 1.0,
                     result.facts.get("free_cpus"))


def _train_step_cost(width: int, batch_size: int, calls: int = 10) -> float:
    """Wall seconds of one train step of the scenario's model, measured alone."""
    model = article_model(width)
    x, y = next(random_batches(batch_size))
    model.train_on_batch(x, y)
    return cost_per_call(lambda: model.train_on_batch(x, y), calls)[0]


def _bound_row(r: RunResult) -> tuple[str, float, float | None]:
    return r.name, r.throughput.elapsed_s, r.bounds.overlapped_s if r.bounds else None


def gil_comparison(ms_per_batch: float | None = None, width: int = 256, batch_size: int = 256,
                   **overrides: Any) -> Comparison:
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
    counter = _progress()
    runs = {kind: generator_fit(GeneratorFitParams.default(
                kind=kind, ms_per_batch=max(ms_per_batch, 0.1), width=width, batch_size=batch_size,
                **overrides), live=_next(counter, f"{kind} generator"))
            for kind in ("sleep", "python")}
    return Comparison(runs, reading=str(c4_verdict(runs)))


def _part(name: str, result: RunResult) -> verdicts.PartEvidence:
    if result.bounds is None:
        raise FitscopeInputError(f"the {name} run has no bounds: it trained fewer than 2 steps.")
    return verdicts.PartEvidence(name, result.throughput.elapsed_s, result.bounds.sequential_s,
                               result.bounds.overlapped_s)


def c4_verdict(runs: dict[str, RunResult]) -> verdicts.Verdict:
    """C4 from :func:`gil_comparison`: the sleeping (GIL-releasing) and the CPU-bound generator."""
    budget = runs["sleep"].budget.cpus if runs["sleep"].budget else 1.0
    return verdicts.c4(_part("sleeping generator", runs["sleep"]),
                     _part("CPU-bound Python generator", runs["python"]), budget)


def pydataset_workers(
    like: RunResult,
    workers: int = 2,
    process_kinds: tuple[str, ...] = ("python",),
    **overrides: Any,
) -> Comparison:
    """A PyDataset with worker threads (sleeping and CPU-bound work) and with worker processes (by
    default CPU-bound work only, the case threads cannot help), with the batch cost, model width
    and batch size of ``like`` (e.g. ``gil_comparison(...)["sleep"]``), one epoch each.

    The thread runs train in this kernel; the process runs share one fresh interpreter (one
    TensorFlow configuration, started once; each run starts its worker pool, which costs seconds,
    so one epoch each). The reading says what processes could win here.
    """
    same = {k: like.params[k] for k in ("ms_per_batch", "width", "batch_size")}

    def params(source: str, kind: str) -> GeneratorFitParams:
        return GeneratorFitParams.default(source=source, workers=workers, kind=kind,
                                          **{"epochs": 1, **same, **overrides})

    counter = _progress()
    runs = {
        f"{PYDATASET_THREADS}, {k}": generator_fit(
            params(PYDATASET_THREADS, k), live=_next(counter, f"{PYDATASET_THREADS}, {k}")
        )
        for k in ("sleep", "python")
    }
    in_sandbox = fit_in_sandbox([params(PYDATASET_PROCESSES, k) for k in process_kinds],
                                live=_next(counter, f"{PYDATASET_PROCESSES} (fresh interpreter)"))
    runs.update({f"{PYDATASET_PROCESSES}, {k}": r for k, r in zip(process_kinds, in_sandbox)})
    return Comparison(runs, reading=_processes_note(runs[f"{PYDATASET_PROCESSES}, python"]))


def _processes_note(result: RunResult) -> str:
    """One sentence on what worker processes could win here, from a run's own bounds and B."""
    if result.bounds is None or result.budget is None:
        raise FitscopeInputError("this run has no bounds: it trained fewer than 2 steps.")
    b, cpus, measured = result.bounds, result.budget.cpus, result.throughput.elapsed_s
    if cpus < 2:
        return (
            f"With B = {cpus:g}, data work and training share one CPU: the best possible time is "
            f"{b.overlapped_s:.2f} s against {b.sequential_s:.2f} s one after the other, so extra "
            f"processes can only add start-up and transfer costs (measured {measured:.2f} s)."
        )
    return (
        f"With B = {cpus:g}, worker processes can make Python data while training runs: the best "
        f"possible time is {b.overlapped_s:.2f} s against {b.sequential_s:.2f} s one after the "
        f"other; measured {measured:.2f} s ({100 * b.efficiency(measured):.0f}% of the bound)."
    )


def more_workers(before: RunResult, workers: int) -> Comparison:
    """``before`` (a PyDataset run) again with ``workers`` workers; the reading applies the rule
    of :func:`fitscope.verdicts.compare` to the two measured rates."""
    p = GeneratorFitParams(**{**before.params, "workers": workers})
    after = generator_fit(p)
    v = verdicts.compare(before.throughput.steps_per_s, after.throughput.steps_per_s, "steps/s")
    return Comparison({f"{before.params['workers']} workers": before, f"{workers} workers": after},
                      reading=v.sentence)


def scenario1_scorecard(article: RunResult, big: RunResult, gil: dict[str, RunResult],
                        predict_fit: RunResult, keep_as: str | None = None) -> verdicts.Scorecard:
    """C1–C6: C1 from the article's run, C2, C3, C6 from the compute-heavy run, C4, C5 their own.

    ``keep_as`` (e.g. "notebook 01") also keeps them as this machine's evidence for the scorecard
    (:mod:`fitscope.verdicts.evidence`), which then does not measure them again.
    """
    first = {v.claim_id: v for v in generator_fit_verdicts(article)}
    heavy = {v.claim_id: v for v in generator_fit_verdicts(big)}
    card = verdicts.Scorecard([first["C1"], heavy["C2"], heavy["C3"], c4_verdict(gil),
                             c5_verdict(predict_fit), heavy["C6"]])
    return evidence.keep("generator", card, keep_as) if keep_as else card
