"""The claims about a Python generator passed to ``fit`` (scenario 1, notebook 01): where
``next()`` runs (C1), the main thread's share of the CPU (C2), the cores training keeps busy (C3),
whether I/O-bound and CPU-bound data work overlap training (C4), and whether inference spreads
across cores while training cannot (C5); with the least evidence each reads.

Example:
    >>> v = c1(main_after_peek=0, total_after_peek=998, peeked=2, peeked_on_main=2)
    >>> v.verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from typing import Any

from fitscope.verdicts.parts import (
    PartEvidence,
    budget_text,
    combine,
    conjunction,
    never_against,
    undecided_note,
    with_budget,
)
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    Verdict,
)

__all__ = [
    "MIN_CPU_S",
    "MIN_FREE_CPUS",
    "MIN_NEXT_CALLS",
    "MIN_SAMPLES",
    "MIN_STEP_MS",
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
]


MIN_NEXT_CALLS = 5
MIN_CPU_S = 0.05
MIN_SAMPLES = 3


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def c1(
    main_after_peek: int,
    total_after_peek: int,
    peeked: int,
    peeked_on_main: int,
    budget: float | None = None,
    backend: str | None = None,
) -> Verdict:
    """Share of next() calls on the main thread after Keras's shape-peek batches.

    ``backend`` names the Keras backend measured (e.g. "JAX"); the sentence then starts with it.
    """
    ev: dict[str, Any] = dict(
        main_after_peek=main_after_peek,
        total_after_peek=total_after_peek,
        peeked=peeked,
        peeked_on_main=peeked_on_main,
        budget=budget,
    )
    if backend is not None:
        ev["backend"] = backend
    head = (
        f"on the {backend} backend, " if backend else ""
    ) + f"Keras peeked {peeked} batch(es) ({peeked_on_main} on the main thread); after that, "
    if total_after_peek < MIN_NEXT_CALLS:
        return Verdict(
            "C1",
            INCONCLUSIVE,
            head + f"only {total_after_peek} next() calls were measured (need {MIN_NEXT_CALLS}).",
            ev,
        )
    share = main_after_peek / total_after_peek
    text = with_budget(
        head + f"{main_after_peek} of {total_after_peek} next() calls ({_pct(share)}) ran "
        "on the main thread.",
        budget,
    )
    verdict = DOES_NOT_HOLD if share <= 0.10 else HOLDS if share >= 0.90 else DEPENDS
    return Verdict("C1", verdict, text, ev)


MIN_STEP_MS = 5.0


def c2(
    main_cpu_s: float,
    process_cpu_s: float,
    samples: int,
    budget: float | None = None,
    step_ms: float | None = None,
) -> Verdict:
    """Main thread's share of the process CPU during training (drawing left out).

    ``step_ms`` is the measured CPU cost of one train step: under ``MIN_STEP_MS`` the math is too
    small to tell apart from the Python loop around it, so the evidence cannot decide.
    """
    ev = dict(
        main_cpu_s=main_cpu_s,
        process_cpu_s=process_cpu_s,
        samples=samples,
        budget=budget,
        step_ms=step_ms,
    )
    if samples < MIN_SAMPLES or process_cpu_s < MIN_CPU_S:
        return Verdict(
            "C2",
            INCONCLUSIVE,
            f"too little to judge: {samples} CPU samples, "
            f"{process_cpu_s:.3f} s of CPU during training.",
            ev,
        )
    share = main_cpu_s / process_cpu_s
    text = with_budget(
        f"the main thread used {main_cpu_s:.2f} s of the process's {process_cpu_s:.2f} s "
        f"of CPU during training ({_pct(share)}).",
        budget,
    )
    if step_ms is not None and step_ms < MIN_STEP_MS:
        return Verdict(
            "C2",
            INCONCLUSIVE,
            text + f" A train step cost only {step_ms:.1f} ms of CPU: "
            "the math is too small to tell apart from the loop that drives it.",
            ev,
        )
    if 0.30 < share < 0.80:
        return Verdict(
            "C2", INCONCLUSIVE, text + " That is between the thresholds (30% and 80%).", ev
        )
    return Verdict("C2", DOES_NOT_HOLD if share <= 0.30 else HOLDS, text, ev)


MIN_FREE_CPUS = 1.5


def _crowded(
    free_cpus: float | None, so: str = "using one core tells nothing about what training could use"
) -> str:
    """The INCONCLUSIVE reason when other processes left under MIN_FREE_CPUS CPUs free; ``so``
    says what that leaves undecided."""
    if free_cpus is None or free_cpus >= MIN_FREE_CPUS:
        return ""
    return f" Other processes left only {free_cpus:.1f} CPUs free, so {so}."


def c3(
    cores_busy: float,
    budget: float,
    threads_free: bool = True,
    step_ms: float | None = None,
    free_cpus: float | None = None,
) -> Verdict:
    """Cores busy during training (process CPU / wall) on a compute-heavy model.

    ``step_ms`` is the measured CPU cost of one train step; under 5 ms the model is too small
    to need a second core, so the evidence cannot decide. ``free_cpus`` is what other processes
    left of B during the run (:class:`fitscope.instrument.budget.OtherLoad`); HOLDS needs at least
    ``MIN_FREE_CPUS`` of them, since a crowded machine caps any process near one core.
    """
    ev = dict(
        cores_busy=cores_busy,
        budget=budget,
        threads_free=threads_free,
        step_ms=step_ms,
        free_cpus=free_cpus,
    )
    text = f"training kept {cores_busy:.2f} cores busy with {budget_text(budget)}."
    if step_ms is not None and step_ms < MIN_STEP_MS:
        return Verdict(
            "C3",
            INCONCLUSIVE,
            text + f" A train step cost only {step_ms:.1f} ms of "
            "CPU: too small a model to need a second core.",
            ev,
        )
    if budget < 2:
        return Verdict("C3", INCONCLUSIVE, text + " One CPU cannot show multi-core use.", ev)
    if cores_busy >= 1.3:
        return Verdict("C3", DOES_NOT_HOLD, text, ev)
    if cores_busy <= 1.05 and threads_free and _crowded(free_cpus):
        return Verdict("C3", INCONCLUSIVE, text + _crowded(free_cpus), ev)
    if cores_busy <= 1.05 and threads_free:
        return Verdict("C3", HOLDS, text, ev)
    why = " TensorFlow's threads were limited." if not threads_free else ""
    return Verdict("C3", INCONCLUSIVE, text + why + " Between the thresholds (1.05 and 1.3).", ev)


def c4(io_bound: PartEvidence, cpu_bound: PartEvidence, budget: float) -> Verdict:
    """Overlap of a GIL-releasing and of a CPU-bound Python generator with training, per kind of
    work: each part reads the share of the possible saving it reached (:class:`PartEvidence`),
    any saving beyond the noise is an overlap, and a part is printed with its own verdict. An
    undecided part decides nothing, and the claim is never decided against what it shows.

    Example:
        >>> sleeping = PartEvidence("sleeping generator", 0.418, 0.64, 0.34)
        >>> python = PartEvidence("Python generator", 0.63, 0.64, 0.34)
        >>> c4(sleeping, python, 2).verdict
        'DEPENDS'
    """
    ev = dict(io=vars(io_bound), cpu=vars(cpu_bound), budget=budget)
    parts = [io_bound.judge(), cpu_bound.judge()]
    joined = combine(parts)
    verdict = never_against(joined, [io_bound.lean(), cpu_bound.lean()])
    text = (
        f"{io_bound.describe()}; {cpu_bound.describe()}; {budget_text(budget)}."
        + undecided_note(parts, overruled=verdict != joined)
    )
    return Verdict("C4", verdict, text, ev)


def _cores_part(
    cores: float, spreads: bool, crowded: str, threshold: tuple[float, float] = (1.05, 1.3)
) -> str:
    """One half of C5: whether a call spread across cores (``spreads``) or stayed on one."""
    low, high = threshold
    if cores >= high:
        return HOLDS if spreads else DOES_NOT_HOLD
    if cores <= low and not crowded:
        return DOES_NOT_HOLD if spreads else HOLDS
    return INCONCLUSIVE


def c5(
    cores_predict: float, cores_fit: float, budget: float, free_cpus: float | None = None
) -> Verdict:
    """Cores busy in predict and in fit on the same model and batch (``free_cpus`` as in
    :func:`c3`). A conjunction: inference spreads (predict past 1.3 cores) and training cannot
    (fit at most 1.05); fit past 1.3 alone refutes it, as it refutes C3.

    Example:
        >>> c5(1.8, 1.51, 2).verdict
        'DOES NOT HOLD'
    """
    ev = dict(cores_predict=cores_predict, cores_fit=cores_fit, budget=budget, free_cpus=free_cpus)
    text = (
        f"predict kept {cores_predict:.2f} cores busy and fit {cores_fit:.2f}, "
        f"with {budget_text(budget)}"
    )
    if budget < 2:
        return Verdict("C5", INCONCLUSIVE, text + ". One CPU cannot show multi-core use.", ev)
    crowded = _crowded(free_cpus, "a call near one core tells nothing about what it could use")
    parts = [_cores_part(cores_predict, True, crowded), _cores_part(cores_fit, False, crowded)]
    verdict = conjunction(parts)
    text += (
        f": inference spreads across cores ({parts[0]}); training stays on one core "
        f"({parts[1]}). A half holds past 1.3 cores (predict) or at 1.05 or fewer (fit); "
        "both must hold, and one that does not decides the claim."
    )
    if crowded and INCONCLUSIVE in parts:
        text += crowded
    return Verdict("C5", verdict, text, ev)
