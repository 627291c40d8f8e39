"""What lesson 01b reads from the backends' runs: the overlap, the remedy, the threads, timelines,
the panel; the verdicts per backend are :mod:`~fitscope.lessons.backends.claims`' (importable
from here too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fitscope import verdicts
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Stack, Table
from fitscope.lessons.backends.claims import (
    backend_verdicts,
    c1_verdict,
    c6_verdict,
    c12_verdict,
)
from fitscope.lessons.backends.runs import (
    BACKENDS,
    GRAIN,
    LABELS,
    VARIANTS,
    BackendParams,
    BackendRuns,
    measure,
)
from fitscope.show.against import run_reading
from fitscope.show.comparison import Comparison
from fitscope.verdicts import step_order
from fitscope.verdicts.compare import costs_apart as runs_apart
from fitscope.verdicts.compare import figure

__all__ = [
    "backend_panel",
    "backend_verdicts",
    "c12_verdict",
    "c1_verdict",
    "c6_verdict",
    "grain_threads",
    "must_hold",
    "overlap",
    "saving_words",
    "step_order",
    "threads_table",
    "timelines",
    "unlike",
]


def overlap(measured: dict[str, BackendRuns], variant: str = "waiting") -> Comparison:
    """One variant on every backend measured: measured time against both bounds, as a chart and
    table.

    Rows are labelled by backend, or by the dict's own key when it is not a backend's name. Two
    runs are also compared per step, by the one comparison rule.
    """
    check_choice("variant", variant, tuple(VARIANTS))
    runs = {
        LABELS.get(key, key): r.runs[variant] for key, r in measured.items() if variant in r.runs
    }
    parts = [_against_bounds(label, r) for label, r in runs.items() if r.bounds is not None]
    reading = f"'{variant}': " + "; ".join(parts) + "."
    if len(runs) == 2:
        reading += " " + _two_runs(*runs.items())
    return Comparison(runs, reading=reading)


WORK = ("ms_per_batch", "width", "batch_size", "kind", "loss_read")
"""What a run's work is made of: two runs compare in seconds only where all of it is the same
(on one backend, a batch sized to each run's own step is the same work; the costs decide).
How it is done (``workers``) is what a comparison may set apart."""


def saving_words(label: str, r: RunResult) -> str:
    """A run's share of its own possible saving, said inside 0–100 %, from the run's one reading
    (:func:`fitscope.show.against.run_reading`, the margin its comparison's header uses): a run
    slower than one after the other is said to be, by how much; one faster than the ideal bound
    says the cost estimate was high; one inside the margin of a bound is said to be; where the
    bounds are too close to tell apart, only that is said.

    Example:
        >>> from fitscope.instrument.bounds import Bounds
        >>> r = RunResult("r", bounds=Bounds(0.79, 0.45))
        >>> r.throughput = type("T", (), {"elapsed_s": 0.75})()
        >>> saving_words("JAX", r)
        'JAX 12 % of its possible saving (0.750 s; 0.450 s ideal, 0.790 s one after the other)'
        >>> r.throughput = type("T", (), {"elapsed_s": 1.0})()
        >>> saving_words("JAX", r)
        'JAX slower than one after the other: 27 % longer (1.00 s against 0.790 s)'
    """
    reading = run_reading(r)
    if reading is None:
        return f"{label} {figure(r.throughput.elapsed_s)} s (no bounds)"
    return reading.saving(label)


def _costs(label: str, r: RunResult) -> str:
    """The costs a run's bounds stand on, measured alone: a batch and a step, in ms."""
    f = r.facts
    return (
        f"{label} {f.get('batch_ms', 0.0):.1f} ms a batch and {f.get('step_ms', 0.0):.1f} ms a step"
    )


def costs_apart(a: RunResult, b: RunResult) -> float:
    """How far apart two runs' own costs of a step's work (a batch and a step, measured alone)
    are, by the one rule (:func:`fitscope.verdicts.compare.costs_apart`): past ``verdicts.MIN_GAIN``
    they are not like with like.

    Example:
        >>> def run(batch_ms, step_ms):
        ...     return RunResult("r", facts={"batch_ms": batch_ms, "step_ms": step_ms})
        >>> costs_apart(run(15.5, 54.3), run(16.0, 14.3))
        2.3
    """
    costs = {
        str(i): r.facts.get("batch_ms", 0.0) + r.facts.get("step_ms", 0.0)
        for i, r in enumerate((a, b))
    }
    return runs_apart(costs)


def unlike(a: RunResult, b: RunResult) -> str:
    """Why two runs are not like with like ("" when they are): their costs (a batch and a step,
    measured alone) past ``MIN_GAIN`` apart; a batch sized to each backend's own step on two
    backends; or other work (:data:`WORK`) that differs.

    Example:
        >>> def run(backend, ms, workers=2):
        ...     params = {"backend": backend, "ms_per_batch": ms, "workers": workers}
        ...     return RunResult("r", params=params, facts={"batch_ms": ms, "step_ms": ms})
        >>> unlike(run("jax", 12.0), run("jax", 13.0, workers=4))
        ''
        >>> unlike(run("jax", 12.0), run("jax", 16.0))
        'x1.33 apart, more than the x1.15 one run each can tell'
        >>> unlike(run("tensorflow", 12.0), run("jax", 13.0))
        "each sized to its own backend's step, so not the same work"
    """
    apart = costs_apart(a, b)
    if apart > verdicts.MIN_GAIN:
        return f"x{apart:.2f} apart, more than the x{verdicts.MIN_GAIN:g} one run each can tell"
    differ = [k for k in WORK if a.params.get(k) != b.params.get(k)]
    if a.params.get("backend") == b.params.get("backend"):
        differ = [k for k in differ if k != "ms_per_batch"]
    elif "ms_per_batch" in differ:
        return "each sized to its own backend's step, so not the same work"
    return f"not the same work (different {', '.join(differ)})" if differ else ""


def _two_runs(a: tuple[str, RunResult], b: tuple[str, RunResult]) -> str:
    """Two runs side by side, fairly: per step by the one comparison rule when they are like
    with like (:func:`unlike`); otherwise the costs are printed with the reason, the runs are
    not compared in seconds, and each is read against its own bounds (:func:`saving_words`).

    Example:
        >>> from fitscope.instrument.bounds import Bounds
        >>> def run(ms, elapsed):
        ...     r = RunResult("r", params={"ms_per_batch": ms}, bounds=Bounds(0.64, 0.34))
        ...     r.throughput = type("T", (), {"elapsed_s": elapsed})()
        ...     r.facts = {"batch_ms": ms, "step_ms": ms}
        ...     return r
        >>> _two_runs(("TensorFlow", run(26.2, 0.418)), ("JAX", run(17.8, 0.4)))[-86:]
        'JAX 80 % of its possible saving (0.400 s; 0.340 s ideal, 0.640 s one after the other).'
    """
    (first, run_a), (second, run_b) = a, b
    why = unlike(run_a, run_b)
    if not why:
        c = verdicts.compare(run_a.throughput.steps_per_s, run_b.throughput.steps_per_s, "steps/s")
        return f"Per step, {second} against {first}: {c}."
    return (
        f"Not like with like: measured alone, {_costs(first, run_a)}; {_costs(second, run_b)} "
        f"({why}), so their times are not compared; each against its own bounds: "
        + "; ".join(saving_words(label, r) for label, r in (a, b))
        + "."
    )


def remedy(
    measured: dict[str, BackendRuns],
    before: str = "waiting + loss read",
    after: str = "PyDataset threads",
) -> Comparison:
    """``after`` against ``before`` on every backend measured, by the one comparison rule, per
    step (the runs may have trained different numbers of steps): a slow-down is called one."""
    check_choice("variant", before, tuple(VARIANTS))
    check_choice("variant", after, tuple(VARIANTS))
    runs, parts = {}, []
    for key, r in measured.items():
        if before in r.runs and after in r.runs:
            label = LABELS.get(key, key)
            a, b = r.runs[before], r.runs[after]
            runs[f"{label}: {before}"], runs[f"{label}: {after}"] = a, b
            parts.append(f"{label}, {_against(before, a, after, b)}")  # like with like only (r8)
    return Comparison(runs, reading="; ".join(parts) + ".")


def _against_bounds(label: str, r: RunResult) -> str:
    """A run's time, where it sits between its two bounds (its one reading, as the header and
    :func:`saving_words` read it), and the bounds."""
    b, t = r.bounds, r.throughput.elapsed_s
    reading = run_reading(r)
    if b is None or reading is None:
        return f"{label} {figure(t)} s (no bounds: too few steps)"
    return (
        f"{label} {figure(t)} s ({reading.where()}: {figure(b.overlapped_s)} s overlapped, "
        f"{figure(b.sequential_s)} s one after the other)"
    )


def grain_threads(
    runs: BackendRuns, against: tuple[str, ...] = ("waiting + loss read", "PyDataset threads")
) -> Comparison:
    """Grain's prefetch threads on one backend against ``against`` (the generator and the
    PyDataset, all three with the loss-reading callback): which threads made the batches, each
    run against its two bounds, then Grain against each, per step, by the one comparison rule.

    Example:
        >>> try:
        ...     grain_threads(BackendRuns("tensorflow", "CPU", "2.21", 1.0, 2.0))
        ... except FitscopeInputError as e:
        ...     print(str(e).split(":")[0])
        TensorFlow's runs have no 'Grain threads' variant
    """
    if GRAIN not in runs.runs:
        raise FitscopeInputError(
            f"{runs.label}'s runs have no '{GRAIN}' variant: measure it with "
            f"variants=(..., '{GRAIN}')."
        )
    grain = runs.runs[GRAIN]
    f = grain.facts
    made = (
        f"On {runs.label}, make_batch ran {f['next_calls_total']} times on "
        f"{f['next_threads']} thread(s), {f['next_calls_on_main']} of them on the main thread "
        f"({grain.params['workers']} prefetch threads asked)"
    )
    others = {name: runs.runs[name] for name in against if name in runs.runs}
    bounds_part = "; ".join(
        _against_bounds(f"'{name}'", r) for name, r in {**others, GRAIN: grain}.items()
    )
    compared = "; ".join(_against(name, r, GRAIN, grain) for name, r in others.items())
    reading = f"{made}. {bounds_part}." + (f" Per step, {compared}." if compared else "")
    shown = {f"{runs.label}: {name}": r for name, r in {**others, GRAIN: grain}.items()}
    return Comparison(shown, reading=reading)


def _against(name: str, r: RunResult, other: str, o: RunResult) -> str:
    """Run ``o`` against run ``r`` of one backend, per step, by the one comparison rule, only
    where their own costs (a batch and a step, measured alone) are within ``MIN_GAIN`` (F-19: a
    step alone of 54.3 ms against 14.3 ms was compared as "62 % slower"; r8: JAX's PyDataset
    threads, 17.8 ms of a step's work against 20.9 ms, as "x2.46 faster").

    Example:
        >>> def run(batch_ms, step_ms, steps_per_s):
        ...     r = RunResult("r", facts={"batch_ms": batch_ms, "step_ms": step_ms})
        ...     r.throughput = type("T", (), {"steps_per_s": steps_per_s})()
        ...     return r
        >>> said = _against("PyDataset threads", run(16.0, 14.3, 60.3), GRAIN, run(15.5, 54.3, 23))
        >>> said.endswith("54.3 ms a step, x2.30 apart, more than the x1.15 one run each can tell")
        True
        >>> "slower" in said
        False
    """
    head = f"'{other}' against '{name}': "
    apart = costs_apart(r, o)
    if apart > verdicts.MIN_GAIN:
        return (
            f"{head}not compared: measured alone, {_costs(repr(name), r)}; "
            f"{_costs(repr(other), o)}, x{apart:.2f} apart, more than the "
            f"x{verdicts.MIN_GAIN:g} one run each can tell"
        )
    c = verdicts.compare(r.throughput.steps_per_s, o.throughput.steps_per_s, "steps/s")
    return head + str(c)


def must_hold(measured: dict[str, BackendRuns]) -> Checks:
    """What holds on any machine with the plain generator: on TensorFlow, no next() on the main
    thread
    after Keras's peek; on JAX and PyTorch, every next() on it. A miss raises AssertionError."""
    checks = []
    for runs in measured.values():
        f = runs.runs["waiting"].facts
        if runs.backend == "tensorflow":
            checks.append(
                (
                    "TensorFlow: after the peek, no next() call ran on the main thread",
                    f["main_after_peek"] == 0,
                )
            )
        else:
            checks.append(
                (
                    f"{runs.label}: every next() call ran on the main thread",
                    f["next_calls_on_main"] == f["next_calls_total"],
                )
            )
    return Checks(checks)


def threads_table(measured: dict[str, BackendRuns]) -> Table:
    """Who called next() and who ran the callbacks, per backend, with the plain waiting
    generator."""
    rows = []
    for runs in measured.values():
        f = runs.runs["waiting"].facts
        rows.append(
            [
                runs.label,
                runs.device,
                f["peeked"],
                f"{f['main_after_peek']} of {f['total_after_peek']}",
                f["next_threads"],
                f"{f['callbacks_on_main']} of {f['callbacks_total']}",
                f["callback_threads"],
            ]
        )
    reading = " ".join(
        f"{r[0]}: after the peek, {r[3]} next() calls ran on the main thread." for r in rows
    )
    return Table(
        [
            "backend",
            "device",
            "batches peeked",
            "next() on main after the peek",
            "threads that called next()",
            "callbacks on main",
            "threads that ran callbacks",
        ],
        rows,
        reading=reading,
    )


def timelines(measured: dict[str, BackendRuns], variant: str = "waiting") -> Stack:
    """The thread timeline of one variant on every backend measured, one under the other."""
    from fitscope.show.charts import timeline

    check_choice("variant", variant, tuple(VARIANTS))
    charts = [timeline(runs.runs[variant]) for runs in measured.values() if variant in runs.runs]
    return Stack(charts)


def backend_panel(script: str | Path | None = None, time_budget_s: float | None = None) -> Any:
    """An :class:`~fitscope.show.panels.ExperimentPanel` that runs one variant of ``script`` (the
    file 01b's ``%%writefile`` cell wrote; with None, that cell's text) on the chosen backend.

    Each run starts a fresh interpreter with ``KERAS_BACKEND`` set (a few seconds of start-up
    before the live throughput starts). A backend that is not installed gives one sentence.
    """
    from fitscope.show.panels import Control, ExperimentPanel

    d = BackendParams.default()

    def run(
        live: Any, time_budget_s: float, backend: str, variant: str, **values: Any
    ) -> RunResult:
        runs = measure(
            backend,
            BackendParams(**values),
            script=script,
            variants=(variant,),
            say=None,
            live=live,
            time_budget_s=time_budget_s,
            timeout_s=time_budget_s + 90,
        )
        return runs.runs[variant]

    def summarise(r: RunResult) -> str:
        f = r.facts
        return (
            f"{LABELS[r.params['backend']]} on {f['device']}: {r.throughput.steps_per_s:.1f} "
            "steps/s; "
            f"{f['next_calls_on_main']} of {f['next_calls_total']} data calls on the main thread"
        )

    budget = time_budget_s or (20.0 if quick_mode() else 60.0)
    return ExperimentPanel(
        "One generator, three Keras backends",
        [
            Control("backend", "Keras backend", "jax", "choice", BACKENDS),
            Control("variant", "data source", "waiting", "choice", tuple(VARIANTS)),
            Control("steps", "steps", d.steps),
            Control("width", "model width", d.width),
            Control("batch_size", "batch size", d.batch_size),
            Control("ms_per_batch", "ms per batch (0 = one step)", d.ms_per_batch, "float"),
            Control("workers", "workers (PyDataset)", d.workers),
        ],
        run,
        budget,
        summarise,
    )
