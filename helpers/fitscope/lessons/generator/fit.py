"""Lessons 00 and 01 read a generator fit: who called ``next()``, the stacks, CPU by role, verdicts.

The run itself is :func:`fitscope.experiments.article_fit.generator_fit`; the tables
(:func:`who_called_next`, :func:`next_stacks`, :func:`cpu_by_role`) read one part of it,
:func:`check_thread_facts` checks what holds on any machine, :func:`generator_fit_verdicts`
applies the claims' rules and :func:`generator_fit_panel` lets a learner change the workload.
The side-by-side experiments are in :mod:`fitscope.lessons.generator.comparisons`.

Example:
    >>> r = generator_fit(steps=6, epochs=1, width=0)        # doctest: +SKIP
    >>> who_called_next(r).columns[0]                          # doctest: +SKIP
    'thread'
"""

from __future__ import annotations

from typing import Any

from fitscope import verdicts
from fitscope.experiments.article_fit import GeneratorFitParams, generator_fit
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import on_backend, quick_mode
from fitscope.instrument.measure import Live
from fitscope.instrument.printed import CORES_BUSY, quantity_fact, role_cpu, role_share
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Table

__all__ = [
    "generator_fit_verdicts",
    "who_called_next",
    "next_stacks",
    "cpu_by_role",
    "check_thread_facts",
    "generator_fit_panel",
]


def generator_fit_verdicts(result: RunResult) -> verdicts.Scorecard:
    """C1, C2, C3 and C6 from a :func:`generator_fit` result, by the rules of the claims module;
    C1 and C6, whose answer differs by backend, name the backend the result recorded. C6 reads
    its three parts from the step spans (:func:`fitscope.verdicts.step_order`: begin callbacks
    on the main thread, the warm-up step not counted)."""
    f = result.facts
    budget = result.budget.cpus if result.budget else 1.0
    backend = result.environment.get("keras_backend")
    return verdicts.Scorecard(
        [
            verdicts.c1(
                f["main_after_peek"],
                f["total_after_peek"],
                f["peeked"],
                f["peeked_on_main"],
                budget,
                backend,
            ),
            verdicts.c2(
                f["train_main_cpu_s"],
                f["train_cpu_s"],
                f["cpu_samples_in_training"],
                budget,
                1e3 * f["costs_per_step"]["cpu_c1"],
            ),
            verdicts.c3(
                f["cores_busy"],
                budget,
                f["threads_free"],
                1e3 * f["costs_per_step"]["cpu_c1"],
                f.get("free_cpus"),
            ),
            verdicts.c6(
                f["callbacks_on_main"],
                f["callbacks_total"],
                steps=f["steps"],
                budget=budget,
                backend=backend,
                **verdicts.step_order(result),
            ),
        ]
    )


# -- what a run shows, each as one table with its reading --------------------------------------
def who_called_next(r: RunResult) -> Table:
    """next() calls by thread role, the shape peek and the callbacks, read in one sentence."""
    f = r.facts
    rows = [(f"next() calls on {role}", n) for role, n in f["next_calls_by_role"].items()]
    rows += [
        ("batches Keras peeked at (NUM_BATCHES_FOR_TENSOR_SPEC)", f["peeked"]),
        ("… of them on the main thread", f["peeked_on_main"]),
        (
            "next() calls on the main thread after the peek",
            f"{f['main_after_peek']} of {f['total_after_peek']}",
        ),
        ("callbacks on the main thread", f"{f['callbacks_on_main']} of {f['callbacks_total']}"),
    ]
    off = f["total_after_peek"] - f["main_after_peek"]
    return Table(
        ("what", "count"),
        rows,
        title="Who called next()",
        reading=f"{on_backend(r.environment)}, Keras pulled {f['peeked_on_main']} of "
        f"{f['peeked']} peek batch(es) on the main thread; after them {off} of "
        f"{f['total_after_peek']} next() calls ran on other threads, and "
        f"{f['callbacks_on_main']} of {f['callbacks_total']} callbacks on the main one.",
    )


def next_stacks(r: RunResult, depth: int = 6) -> Table:
    """The last ``depth`` Keras/TensorFlow frames inside the first next() on each thread."""
    stacks = r.facts["stacks"]
    rows = [
        (thread if i == 0 else "", frame)
        for thread, frames in stacks.items()
        for i, frame in enumerate(frames[-depth:])
    ]
    return Table(
        ("thread", f"Keras/TensorFlow frames, innermost last (up to {depth})"),
        rows,
        title="The stack inside next()",
        reading=f"fitscope captured the stack inside the first next() on {len(stacks)} "
        "thread(s), on the TensorFlow backend.",
    )


def cpu_by_role(r: RunResult) -> Table:
    """CPU seconds during training by thread role, largest first, with the cores busy; each
    figure also as a hidden fact of the run (:mod:`fitscope.instrument.printed`)."""
    f = r.facts
    total = f["train_cpu_s"] or 1.0
    roles = sorted(f["train_cpu_by_role"].items(), key=lambda kv: -kv[1])
    rows = [(role, f"{s:.2f}", f"{100 * s / total:.0f}%") for role, s in roles]
    top = roles[0][0] if roles else "none"
    free = f.get("free_cpus")
    budget = f"{r.budget.cpus:g}" if r.budget is not None else "not recorded"
    cores = f"{f['cores_busy']:.2f}"
    said = [(CORES_BUSY, cores)]
    for role, seconds, share in rows:  # the column's unit is s
        said += [(role_cpu(role), f"{seconds} s"), (role_share(role), share)]
    return Table(
        ("thread role", "CPU s during training", "share"),
        rows,
        title=r.name,
        reading=f"{on_backend(r.environment)}, training kept {cores} cores busy "
        f"(B = {budget}"
        + (f"; other processes left {free:.1f} CPUs free" if free is not None else "")
        + f"); the busiest role was '{top}'.",
        facts=[quantity_fact(r.run_id, q, printed) for q, printed in said],
    )


def check_thread_facts(r: RunResult) -> Checks:
    """Assert what holds on any machine for a plain generator on the TensorFlow backend, and show
    it.

    Keras peeks at shapes on the calling thread; after the peek tf.data's threads call next();
    fit's callbacks run on the main thread. A failed check raises AssertionError in one sentence.
    """
    f = r.facts
    on_tf = "TensorFlow: "
    return Checks(
        [
            (
                on_tf + "Keras peeks at shapes on the calling thread",
                f["peeked_on_main"] == f["peeked"],
            ),
            (
                on_tf + "after the peek, no next() call ran on the main thread",
                f["main_after_peek"] == 0,
            ),
            (
                on_tf + "every callback ran on the main thread",
                f["callbacks_on_main"] == f["callbacks_total"],
            ),
        ]
    )


def generator_fit_panel(time_budget_s: float | None = None) -> Any:
    """An :class:`~fitscope.show.panels.ExperimentPanel` around :func:`generator_fit`.

    The learner picks the data source (plain generator, PyDataset with threads or processes),
    its work per batch, the model's width and the run's length.
    """
    from fitscope.show.panels import ExperimentPanel

    def run(live: Live, time_budget_s: float, **values: Any) -> RunResult:
        return generator_fit(GeneratorFitParams(**values), live=live, time_budget_s=time_budget_s)

    budget = time_budget_s or (20.0 if quick_mode() else 60.0)
    return ExperimentPanel(
        "A Python data source passed to model.fit",
        GeneratorFitParams.controls(),
        run,
        budget,
        lambda r: r.reading.rstrip("."),
    )
