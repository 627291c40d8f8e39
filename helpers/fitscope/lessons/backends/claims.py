"""The claims lesson 01b decides once per Keras backend, each from that backend's runs: C1
(who calls ``next()``), C6 (the loop that drives fit) and C12 (whether data made on the main
thread starves training), by the rules of :mod:`fitscope.verdicts`.
"""

from __future__ import annotations

from fitscope import verdicts
from fitscope.lessons.backends.runs import BACKENDS, C12_KINDS, BackendRuns, is_installed
from fitscope.verdicts import evidence, step_order

__all__ = ["backend_verdicts", "c12_verdict", "c1_verdict", "c6_verdict"]


def _budget(runs: BackendRuns) -> float:
    first = next(iter(runs.runs.values()))
    return first.budget.cpus if first.budget else 1.0


def c1_verdict(runs: BackendRuns) -> verdicts.Verdict:
    """C1 on one backend, from its plain waiting generator."""
    f = runs.runs["waiting"].facts
    return verdicts.c1(
        f["main_after_peek"],
        f["total_after_peek"],
        f["peeked"],
        f["peeked_on_main"],
        _budget(runs),
        backend=runs.label,
    )


def c6_verdict(runs: BackendRuns) -> verdicts.Verdict:
    """C6 on one backend, from its plain waiting generator, in its three parts: the loop on the
    main thread (its begin callbacks), the callbacks on the main thread, one step after the other
    (:func:`step_order`, the warm-up step not counted); the callbacks part also quotes the run
    whose loss-reading callback is not ``async_safe``, which moves Keras's callbacks to the main
    thread."""
    r = runs.runs["waiting"]
    f = r.facts
    plain = runs.runs.get("waiting + loss read")  # its ReadLoss callback is not async_safe
    p = plain.facts if plain else None
    return verdicts.c6(
        f["callbacks_on_main"],
        f["callbacks_total"],
        steps=f["steps"],
        budget=_budget(runs),
        backend=runs.label,
        callback_threads=f["callback_threads"],
        next_on_main=(f["main_after_peek"], f["total_after_peek"]),
        plain_callback=(p["callbacks_on_main"], p["callbacks_total"]) if p else None,
        **step_order(r),
    )


def c12_verdict(runs: BackendRuns) -> verdicts.Verdict:
    """C12 on one backend: each plain-generator variant's time against its two bounds; NOT
    APPLICABLE (a sentence) where the data was not made on the main thread after the peek."""
    parts = []
    for name in C12_KINDS:
        r = runs.runs.get(name)
        if r is None or r.bounds is None:
            continue
        parts.append(
            dict(
                name=name,
                measured_s=r.throughput.elapsed_s,
                sequential_s=r.bounds.sequential_s,
                overlapped_s=r.bounds.overlapped_s,
                pure_python=r.params["kind"] == "python",
                loss_read=bool(r.params.get("loss_read")),
            )
        )
    plain = runs.runs.get("waiting")  # who called next(): the claim's premise on this backend
    on_main = (plain.facts["main_after_peek"], plain.facts["total_after_peek"]) if plain else None
    return verdicts.c12(runs.label, parts, _budget(runs), runs.step_ms, next_on_main=on_main)


def backend_verdicts(
    measured: dict[str, BackendRuns], keep_as: str | None = None
) -> verdicts.Scorecard:
    """C1, C6 and C12 for every backend measured, in that order.

    ``keep_as`` (e.g. "notebook 01b") also keeps them as this machine's evidence for the scorecard
    (:mod:`fitscope.verdicts.evidence`), when every installed backend was measured.
    """
    card = verdicts.Scorecard(
        [
            v
            for runs in measured.values()
            for v in (c1_verdict(runs), c6_verdict(runs), c12_verdict(runs))
        ]
    )
    if keep_as and set(measured) >= {b for b in BACKENDS if is_installed(b)}:
        evidence.keep("backends", card, keep_as)
    return card
