"""C6, the loop that drives ``fit``: it runs on the main thread (its begin callbacks there), its
callbacks run there, and one step follows the other; and :func:`step_order`, C6's evidence from
one run's step spans.

Example:
    >>> c6(callbacks_on_main=20, callbacks_total=20, overlapping_steps=0, steps=10,
    ...    begins_on_main=10, overlaps_off_loop=0).verdict
    'HOLDS'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from fitscope.instrument.threads import MAIN
from fitscope.verdicts.parts import conjunction, with_budget
from fitscope.verdicts.verdict import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Verdict

if TYPE_CHECKING:
    from fitscope.instrument.result import RunResult

__all__ = ["StepOrder", "c6", "c6_parts", "step_order"]


def _c6_parts(
    callbacks_on_main: int,
    callbacks_total: int,
    overlapping_steps: int,
    steps: int,
    begins_on_main: int | None,
    overlaps_off_loop: int | None,
    plain_callback: Sequence[int] | None = None,
    callback_threads: int | None = None,
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
        f"{callbacks_on_main} of {callbacks_total} callbacks ran on the main thread"
        + ("" if callback_threads is None else f" ({_threads(callback_threads)} ran callbacks)")
        + (_plain(plain_callback) if plain_callback and not all_on_main else ""),
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


def _threads(n: int) -> str:
    return f"{n} thread{'s' if n != 1 else ''}"


def _plain(on_main: Sequence[int]) -> str:
    """What a callback not marked ``async_safe`` changed, measured in a run that had one."""
    return (
        ": Keras runs batch-end callbacks on a pool when none of them is a plain one (its own, "
        "and fitscope's step clock, are marked async_safe, so this is what a fit with no "
        f"callbacks of yours does); with a plain callback that read the loss, {on_main[0]} of "
        f"{on_main[1]} ran on the main thread"
    )


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
    plain_callback: Sequence[int] | None = None,
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
    ``plain_callback`` (on the main thread, in all) counts the callbacks of a run that also had a
    callback not marked ``async_safe``: Keras then runs every callback on the main thread, so
    part (b) says which of the two states the claim's callbacks were measured in.

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
        ("plain_callback", None if plain_callback is None else list(plain_callback)),
    ):
        if value is not None:
            ev[key] = value
    head = f"on the {backend} backend, " if backend else ""
    if callbacks_total == 0 or steps == 0:
        return Verdict("C6", INCONCLUSIVE, head + "no callbacks or steps were recorded.", ev)
    parts = c6_parts(ev)
    nexts = (
        ""
        if next_on_main is None
        else f"; next() ran on the main thread for {next_on_main[0]} of {next_on_main[1]} calls "
        "after Keras's peek (C1)"
    )
    (lv, lw), (cv, cw), (ov, ow) = parts
    text = with_budget(
        head + f"(a) {lw} ({lv}){nexts}; (b) {cw} ({cv}); (c) {ow} ({ov}).",
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
        evidence.get("plain_callback"),
        evidence.get("callback_threads"),
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
