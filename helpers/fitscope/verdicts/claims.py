"""The article's claims and the rules that decide them (docs/claims.md), one function each.

Every rule takes measured evidence and returns a :class:`Verdict` that quotes its numbers and
the CPU budget B, so the sentence stays true on 1 core and on 16. A verdict is never typed in.

Example:
    >>> v = c1(main_after_peek=0, total_after_peek=998, peeked=2, peeked_on_main=2)
    >>> v.verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from fitscope.instrument.threads import MAIN
from fitscope.verdicts.compare import (
    BEATS_BOUND,
    NEAR_OVERLAPPED,
    NEAR_SEQUENTIAL,
    TOO_CLOSE,
    position,
)
from fitscope.verdicts.parts import (
    PartEvidence,
    budget_text,
    combine,
    conjunction,
    never_against,
    undecided_note,
    with_budget,
)
from fitscope.verdicts.tfdata_claims import c10, c11
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    Verdict,
)

if TYPE_CHECKING:
    from fitscope.instrument.result import RunResult

__all__ = [
    "PartEvidence",
    "step_order",
    "combine",
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
    "c6",
    "c6_parts",
    "c7",
    "c8",
    "c9",
    "c10",
    "c11",
    "c12",
    "rejudge",
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


def _c6_parts(
    callbacks_on_main: int,
    callbacks_total: int,
    overlapping_steps: int,
    steps: int,
    begins_on_main: int | None,
    overlaps_off_loop: int | None,
) -> tuple[tuple[str, str], ...]:
    """C6's three parts, each (verdict, words): the loop on the main thread, the callbacks on
    the main thread, one step after the other."""
    all_on_main = callbacks_on_main == callbacks_total
    if begins_on_main is not None:
        loop = (
            HOLDS if begins_on_main == steps else DOES_NOT_HOLD,
            f"the loop called {begins_on_main} of {steps} begin callbacks on the main thread",
        )
    elif all_on_main:
        loop = (HOLDS, f"the loop called all {steps} begin callbacks on the main thread")
    else:
        loop = (
            INCONCLUSIVE,
            "which of the callbacks off the main thread were begin callbacks was not recorded",
        )
    callbacks = (
        HOLDS if all_on_main else DOES_NOT_HOLD,
        f"{callbacks_on_main} of {callbacks_total} callbacks ran on the main thread",
    )
    after_warm_up = max(steps - 1, 0)
    spans = f"{overlapping_steps} of the {after_warm_up} steps after the warm-up"
    on_loop = None if overlaps_off_loop is None else overlapping_steps - overlaps_off_loop
    if overlapping_steps == 0:
        order = (HOLDS, f"{spans} began before the end callback of the one before")
    elif on_loop == 0:
        order = (
            HOLDS,
            f"{spans} began before the end callback of the one before, each because that end "
            "callback ran later on another thread: the loop dispatched the steps one after "
            "the other, and a span from dispatch to end callback is not a step computed",
        )
    elif on_loop is not None or all_on_main:
        order = (
            DOES_NOT_HOLD,
            f"{spans} began before the end callback of the one before"
            + (f", {on_loop} of them with that callback on the loop's thread" if on_loop else ""),
        )
    else:
        order = (
            INCONCLUSIVE,
            f"{spans} began before the end callback of the one before; whether each end "
            "callback ran late on another thread was not recorded",
        )
    return loop, callbacks, order


def c6(
    callbacks_on_main: int,
    callbacks_total: int,
    overlapping_steps: int,
    steps: int,
    budget: float | None = None,
    backend: str | None = None,
    callback_threads: int | None = None,
    begins_on_main: int | None = None,
    overlaps_off_loop: int | None = None,
    next_on_main: Sequence[int] | None = None,
) -> Verdict:
    """C6 in its three parts on one Keras backend, a conjunction: (a) the loop on the main
    thread (its begin callbacks there), (b) the callbacks on the main thread, (c) one step after
    the other.

    ``steps`` counts every step, the warm-up (first) one included; ``overlapping_steps`` counts
    the steps after the warm-up whose begin came before the end callback of the one before, and
    ``overlaps_off_loop`` how many of those had that end callback off the main thread (on JAX a
    step's begin is its dispatch and its end callback runs on a pool: such an overlap is not two
    steps computed at once). ``begins_on_main`` is how many begin callbacks ran on the main
    thread; ``callback_threads`` how many threads ran callbacks; ``next_on_main`` (next() calls
    on the main thread after Keras's peek, all of them) is quoted, as C1 decides it.

    Example:
        >>> v = c6(16, 32, 3, 16, budget=2, backend="JAX", callback_threads=2,
        ...        begins_on_main=16, overlaps_off_loop=3)
        >>> v.verdict, [p for p, _ in c6_parts(v.evidence)]
        ('DOES NOT HOLD', ['HOLDS', 'DOES NOT HOLD', 'HOLDS'])
    """
    ev: dict[str, Any] = dict(
        callbacks_on_main=callbacks_on_main,
        callbacks_total=callbacks_total,
        overlapping_steps=overlapping_steps,
        steps=steps,
        budget=budget,
    )
    for key, value in (
        ("backend", backend),
        ("callback_threads", callback_threads),
        ("begins_on_main", begins_on_main),
        ("overlaps_off_loop", overlaps_off_loop),
        ("next_on_main", None if next_on_main is None else list(next_on_main)),
    ):
        if value is not None:
            ev[key] = value
    head = f"on the {backend} backend, " if backend else ""
    if callbacks_total == 0 or steps == 0:
        return Verdict("C6", INCONCLUSIVE, head + "no callbacks or steps were recorded.", ev)
    parts = c6_parts(ev)
    threads = (
        ""
        if callback_threads is None
        else f" ({callback_threads} thread{'s' if callback_threads != 1 else ''} ran callbacks)"
    )
    nexts = (
        ""
        if next_on_main is None
        else f"; next() ran on the main thread for {next_on_main[0]} of {next_on_main[1]} calls "
        "after Keras's peek (C1)"
    )
    (lv, lw), (cv, cw), (ov, ow) = parts
    text = with_budget(
        head + f"(a) {lw} ({lv}){nexts}; (b) {cw}{threads} ({cv}); (c) {ow} ({ov}).",
        budget,
    )
    return Verdict("C6", conjunction([lv, cv, ov]), text, ev)


def c6_parts(evidence: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """C6's parts from a C6 verdict's evidence: (verdict, words) for (a) the loop on the main
    thread, (b) the callbacks on the main thread, (c) one step after the other."""
    return _c6_parts(
        evidence["callbacks_on_main"],
        evidence["callbacks_total"],
        evidence["overlapping_steps"],
        evidence["steps"],
        evidence.get("begins_on_main"),
        evidence.get("overlaps_off_loop"),
    )


class StepOrder(TypedDict):
    """C6's step-span evidence, as :func:`c6` takes it."""

    begins_on_main: int
    overlapping_steps: int
    overlaps_off_loop: int


def step_order(result: RunResult) -> StepOrder:
    """C6's evidence from one run's step spans (begin callback to end callback, on the end
    callback's thread): ``begins_on_main`` (begin callbacks on the main thread), and, over the
    steps after the warm-up (the first step, which traces the function, is not counted against
    step 1), ``overlapping_steps`` (a step begun before the end callback of the one before) and
    ``overlaps_off_loop`` (of those, the ones whose earlier end callback ran off the main thread).
    ``callbacks_on_main`` counts step callbacks only (the core's step clock counts a begin and
    an end a step), so begins are those less the ends on the main thread.

    Example:
        >>> from fitscope.instrument.result import RunResult
        >>> from fitscope.instrument.tracing import Span
        >>> spans = [Span(f"step {i}", "train", 10 * i, 10 * i + 15, 7) for i in range(4)]
        >>> r = RunResult("r", spans=spans, roles={7: "pool"})
        >>> r.facts = {"callbacks_on_main": 4}
        >>> step_order(r)
        {'begins_on_main': 4, 'overlapping_steps': 2, 'overlaps_off_loop': 2}
    """
    main = {tid for tid, role in result.roles.items() if role == MAIN}
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    ends_on_main = sum(1 for s in steps if s.tid in main)
    after = steps[1:]
    pairs = [(a, b) for a, b in zip(after, after[1:]) if b.start_ns < a.end_ns]
    return {
        "begins_on_main": result.facts["callbacks_on_main"] - ends_on_main,
        "overlapping_steps": len(pairs),
        "overlaps_off_loop": sum(1 for a, _ in pairs if a.tid not in main),
    }


def c7(runs: Iterable[dict[str, Any]]) -> Verdict:
    """Sandboxed runs of example 2. Each run: method, useful_updates, error, hang,
    unbounded_growth; or method and ``undecided`` (why: the watchdog stopped children still
    starting), a run that decides nothing, neither a failure nor a hang.

    Example:
        >>> c7([{"method": "spawn", "undecided": "children still starting"}]).verdict
        'INCONCLUSIVE'
    """
    runs = list(runs)
    if not runs:
        return Verdict("C7", INCONCLUSIVE, "no sandboxed run was measured.", {"runs": runs})
    decided = [r for r in runs if not r.get("undecided")]
    bad = [
        r
        for r in decided
        if r.get("useful_updates", 0) == 0
        or r.get("error")
        or r.get("hang")
        or r.get("unbounded_growth")
    ]
    text = "; ".join(
        f"{r['method']}: undecided ({r['undecided']})"
        if r.get("undecided")
        else f"{r['method']}: {r.get('useful_updates', 0)} updates to the parent's model"
        + (f", {r['error']}" if r.get("error") else "")
        + (", hang" if r.get("hang") else "")
        + (", unbounded queue growth" if r.get("unbounded_growth") else "")
        for r in runs
    )
    # an undecided run could still fail: with no failure seen, it keeps the claim open
    verdict = HOLDS if bad else DOES_NOT_HOLD if len(decided) == len(runs) else INCONCLUSIVE
    return Verdict("C7", verdict, text + ".", {"runs": runs})


UNBOUNDED_BACKLOG = 1000
"""Batches waiting in a queue, still growing at the end of a run: C7's unbounded growth."""


def unbounded_queue(backlog: int, growth_per_s: float) -> bool:
    """Whether a queue grew without bound: ``UNBOUNDED_BACKLOG`` or more waiting, still growing.

    Example:
        >>> unbounded_queue(5000, 120.0), unbounded_queue(8, 0.0)
        (True, False)
    """
    return backlog >= UNBOUNDED_BACKLOG and growth_per_s > 0


SYNCHRONISATION = "synchronisation between processes"


def c8(causes: Sequence[str]) -> Verdict:
    """The causes actually measured in C7, each possibly followed by the runs it was seen in.

    Example:
        >>> c8([SYNCHRONISATION + " (fork)"]).verdict, c8(["exit hang (fork)"]).verdict
        ('HOLDS', 'DOES NOT HOLD')
    """
    ev = {"causes": list(causes)}
    if not causes:
        return Verdict("C8", INCONCLUSIVE, "no cause of failure was measured.", ev)
    text = "measured causes: " + "; ".join(causes) + "."
    synchronised = [c for c in causes if c.startswith(SYNCHRONISATION)]  # "cause (runs)"
    if synchronised:
        only = len(synchronised) == len(causes)
        return Verdict("C8", HOLDS if only else DEPENDS, text, ev)
    return Verdict("C8", DOES_NOT_HOLD, text, ev)


def c9(checksums: Sequence[str]) -> Verdict:
    """Weight checksums of each worker after MultiWorkerMirroredStrategy training."""
    ev = {"checksums": list(checksums)}
    if len(checksums) < 2:
        return Verdict("C9", INCONCLUSIVE, f"only {len(checksums)} worker(s) finished.", ev)
    same = len(set(checksums)) == 1
    text = (
        f"{len(checksums)} workers ended with "
        + ("identical weights" if same else "different weights")
        + " (checksums "
        + ", ".join(c[:12] for c in checksums)
        + ")."
    )
    return Verdict("C9", DOES_NOT_HOLD if same else INCONCLUSIVE, text, ev)


def _starves(part: dict[str, Any], budget: float, step_ms: float) -> str:
    """C12's rule for one kind of data work: measured time against the two bounds."""
    if step_ms < MIN_STEP_MS or (part["pure_python"] and budget < 2):
        return INCONCLUSIVE
    where = position(part["measured_s"], part["sequential_s"], part["overlapped_s"])
    return {
        TOO_CLOSE: INCONCLUSIVE,
        BEATS_BOUND: INCONCLUSIVE,
        NEAR_SEQUENTIAL: HOLDS,
        NEAR_OVERLAPPED: DOES_NOT_HOLD,
    }.get(where, DEPENDS)


def c12(
    backend: str,
    parts: Sequence[dict[str, Any]],
    budget: float,
    step_ms: float,
    next_on_main: Sequence[int] | None = None,
) -> Verdict:
    """Whether data made on the main thread starves training, per kind of data work, on one backend.

    Each part: ``name``, ``measured_s``, ``sequential_s``, ``overlapped_s`` and ``pure_python``
    (its work holds the GIL). A part HOLDS within 15% of (or above) the sequential sum, DOES NOT
    HOLD within 15% of the overlapped bound, else DEPENDS; it is INCONCLUSIVE when a step costs
    under ``MIN_STEP_MS``, when the two 15% bands meet (the bounds are too close), when the run
    beat the overlapped bound (the cost estimate was high), or, for pure Python, when B < 2. The
    verdict is the decided parts' common verdict (:func:`combine`).

    ``next_on_main`` is (next() calls on the main thread, all next() calls), both after Keras's
    peek. When at most 10% ran on the main thread the claim's premise is false on this backend:
    the verdict is NOT APPLICABLE, with the sentence saying why.

    Example:
        >>> part = dict(name="waiting", measured_s=1.9, sequential_s=2.0, overlapped_s=1.0,
        ...             pure_python=False)
        >>> c12("PyTorch", [part], budget=2, step_ms=20).verdict
        'HOLDS'
        >>> c12("TensorFlow", [part], budget=2, step_ms=20, next_on_main=(0, 30)).verdict
        'NOT APPLICABLE'
    """
    parts = [dict(p) for p in parts]
    ev = dict(backend=backend, parts=parts, budget=budget, step_ms=step_ms)
    if next_on_main is not None:
        ev["next_on_main"] = list(next_on_main)
        on_main, total = next_on_main
        if total > 0 and on_main <= 0.10 * total:
            return Verdict(
                "C12",
                NOT_APPLICABLE,
                (
                    f"not applicable on the {backend} backend: {on_main} of {total} next() calls "
                    "after Keras's peek ran on the main thread, so the claim's premise "
                    "(data made on "
                    "the main thread) is false here; whether that data overlaps training is C4's "
                    f"question, with {budget_text(budget)}."
                ),
                ev,
            )
    judged = [(p, _starves(p, budget, step_ms)) for p in parts]
    text = (
        f"on the {backend} backend (a step took {step_ms:.1f} ms), "
        + "; ".join(
            f"{p['name']}: {p['measured_s']:.2f} s against an overlapped bound of "
            f"{p['overlapped_s']:.2f} s "
            f"and a sequential sum of {p['sequential_s']:.2f} s ({v}"
            + (
                f", {BEATS_BOUND}"
                if position(p["measured_s"], p["sequential_s"], p["overlapped_s"]) == BEATS_BOUND
                else ""
            )
            + ")"
            for p, v in judged
        )
        + f"; {budget_text(budget)}."
    )
    if step_ms < MIN_STEP_MS:
        text += f" A step under {MIN_STEP_MS:g} ms is too short to tell overlap from none."
    verdicts = [v for _, v in judged]
    return Verdict("C12", combine(verdicts), text + undecided_note(verdicts), ev)


_RULES: dict[str, Callable[..., Verdict]] = {
    "C1": c1,
    "C2": c2,
    "C3": c3,
    "C5": c5,
    "C6": c6,
    "C7": c7,
    "C8": c8,
    "C9": c9,
    "C10": c10,
    "C11": c11,
    "C12": c12,
}


def rejudge(v: Verdict) -> Verdict:
    """Apply the claim's rule again to the verdict's own evidence (e.g. after a JSON round trip).

    A verdict whose evidence is complete gives itself back, so a saved scorecard can be checked.

    Example:
        >>> v = c9(["ab", "ab"])
        >>> rejudge(v) == v
        True
    """
    ev = dict(v.evidence)
    if v.claim_id == "C4":
        return c4(PartEvidence(**ev["io"]), PartEvidence(**ev["cpu"]), ev["budget"])
    return _RULES[v.claim_id](**ev)
