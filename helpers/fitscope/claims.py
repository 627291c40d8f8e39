"""The article's claims and the rules that decide them (docs/claims.md), one function each.

Every rule takes measured evidence and returns a :class:`Verdict` that quotes its numbers and
the CPU budget B, so the sentence stays true on 1 core and on 16. A verdict is never typed in.

Example:
    >>> v = c1(main_after_peek=0, total_after_peek=998, peeked=2, peeked_on_main=2)
    >>> v.verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .display import ShowsItself, Table

__all__ = ["HOLDS", "DOES_NOT_HOLD", "DEPENDS", "INCONCLUSIVE", "Claim", "CLAIMS", "Verdict",
           "Scorecard", "PartEvidence", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9",
           "c10", "c11", "c12", "rejudge", "hypotheses", "speedup", "MIN_GAIN", "position"]

HOLDS = "HOLDS"
DOES_NOT_HOLD = "DOES NOT HOLD"
DEPENDS = "DEPENDS"
INCONCLUSIVE = "INCONCLUSIVE"

MIN_NEXT_CALLS = 5
MIN_CPU_S = 0.05
MIN_SAMPLES = 3


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    notebook: str


CLAIMS: dict[str, Claim] = {c.id: c for c in [
    Claim("C1", "fit consumes a Python generator on the main thread.", "01"),
    Claim("C2", "The training math (forward, gradients, weight updates) runs on the main thread.", "01"),
    Claim("C3", "Training with fit cannot use more than one core.", "01"),
    Claim("C4", "The generator produces batches in parallel with training.", "01"),
    Claim("C5", "Inference parallelises across cores; training does not, because of weight updates.", "01"),
    Claim("C6", "The Python loop that drives fit runs on the main thread, one step after the other.", "01"),
    Claim("C7", "The multiprocessing trainer (example 2) fails or behaves unpredictably.", "02"),
    Claim("C8", "It fails because gradient steps stay in one process: synchronisation problems "
                "and inconsistent data.", "02"),
    Claim("C9", "Parallel training of one model by several processes cannot be made correct.", "04"),
    Claim("C10", "prefetch overlaps data preparation with training and raises throughput.", "03"),
    Claim("C11", "tf.data makes data loading parallel.", "03"),
    Claim("C12", "Because fit runs the generator on the main thread, producing data starves training "
                 "(no overlap).", "01b"),
]}


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict, the sentence that explains it, and the evidence it came from."""

    claim_id: str
    verdict: str
    because: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def claim(self) -> str:
        return CLAIMS[self.claim_id].text

    def __str__(self) -> str:
        return f"{self.claim_id} {self.verdict}: {self.because}"

    def table(self) -> Table:
        """The verdict as a one-row table; its reading is the verdict sentence."""
        return Table(_COLUMNS, [(self.claim_id, self.claim, self.verdict, self.because)],
                     reading=f"{self.claim_id} {self.verdict.lower()}: {self.because}")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


_COLUMNS = ("id", "claim", "verdict", "evidence")


class Scorecard(ShowsItself, list):
    """A list of verdicts that shows itself as a table in a notebook, and as one line in a log.

    Example:
        >>> str(Scorecard([c9(["ab", "ab"])]))
        'C9 DOES NOT HOLD.'
    """

    def table(self) -> Table:
        counts = Counter(v.verdict for v in self)
        reading = ("Of these " + str(len(self)) + " claims, " + ", ".join(
            f"{n} {verdict}" for verdict, n in counts.items()) + ".") if len(self) > 1 else ""
        return Table(_COLUMNS, [(v.claim_id, v.claim, v.verdict, v.because) for v in self],
                     reading=reading)

    def __str__(self) -> str:
        return "; ".join(f"{v.claim_id} {v.verdict}" for v in self) + "."

    def __repr__(self) -> str:
        return str(self)


def _b(budget: float) -> str:
    return f"B = {budget:g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _with_b(text: str, budget: float | None) -> str:
    return text if budget is None else f"{text[:-1]}, with {_b(budget)}."


def c1(main_after_peek: int, total_after_peek: int, peeked: int, peeked_on_main: int,
       budget: float | None = None, backend: str | None = None) -> Verdict:
    """Share of next() calls on the main thread after Keras's shape-peek batches.

    ``backend`` names the Keras backend measured (e.g. "JAX"); the sentence then starts with it.
    """
    ev = dict(main_after_peek=main_after_peek, total_after_peek=total_after_peek, peeked=peeked,
              peeked_on_main=peeked_on_main, budget=budget)
    if backend is not None:
        ev["backend"] = backend
    head = ((f"on the {backend} backend, " if backend else "")
            + f"Keras peeked {peeked} batch(es) ({peeked_on_main} on the main thread); after that, ")
    if total_after_peek < MIN_NEXT_CALLS:
        return Verdict("C1", INCONCLUSIVE, head + f"only {total_after_peek} next() calls were "
                       f"measured (need {MIN_NEXT_CALLS}).", ev)
    share = main_after_peek / total_after_peek
    text = _with_b(head + f"{main_after_peek} of {total_after_peek} next() calls ({_pct(share)}) ran "
                   "on the main thread.", budget)
    verdict = DOES_NOT_HOLD if share <= 0.10 else HOLDS if share >= 0.90 else DEPENDS
    return Verdict("C1", verdict, text, ev)


MIN_STEP_MS = 5.0


def c2(main_cpu_s: float, process_cpu_s: float, samples: int,
       budget: float | None = None, step_ms: float | None = None) -> Verdict:
    """Main thread's share of the process CPU during training (drawing left out).

    ``step_ms`` is the measured CPU cost of one train step: under ``MIN_STEP_MS`` the math is too
    small to tell apart from the Python loop around it, so the evidence cannot decide.
    """
    ev = dict(main_cpu_s=main_cpu_s, process_cpu_s=process_cpu_s, samples=samples, budget=budget,
              step_ms=step_ms)
    if samples < MIN_SAMPLES or process_cpu_s < MIN_CPU_S:
        return Verdict("C2", INCONCLUSIVE, f"too little to judge: {samples} CPU samples, "
                       f"{process_cpu_s:.3f} s of CPU during training.", ev)
    share = main_cpu_s / process_cpu_s
    text = _with_b(f"the main thread used {main_cpu_s:.2f} s of the process's {process_cpu_s:.2f} s "
                   f"of CPU during training ({_pct(share)}).", budget)
    if step_ms is not None and step_ms < MIN_STEP_MS:
        return Verdict("C2", INCONCLUSIVE, text + f" A train step cost only {step_ms:.1f} ms of CPU: "
                       "the math is too small to tell apart from the loop that drives it.", ev)
    if 0.30 < share < 0.80:
        return Verdict("C2", INCONCLUSIVE, text + " That is between the thresholds (30% and 80%).", ev)
    return Verdict("C2", DOES_NOT_HOLD if share <= 0.30 else HOLDS, text, ev)


MIN_FREE_CPUS = 1.5


def _crowded(free_cpus: float | None) -> str:
    """The INCONCLUSIVE reason when other processes left under MIN_FREE_CPUS CPUs free."""
    if free_cpus is None or free_cpus >= MIN_FREE_CPUS:
        return ""
    return (f" Other processes left only {free_cpus:.1f} CPUs free, so using one core tells "
            "nothing about what training could use.")


def c3(cores_busy: float, budget: float, threads_free: bool = True,
       step_ms: float | None = None, free_cpus: float | None = None) -> Verdict:
    """Cores busy during training (process CPU / wall) on a compute-heavy model.

    ``step_ms`` is the measured CPU cost of one train step; under 5 ms the model is too small
    to need a second core, so the evidence cannot decide. ``free_cpus`` is what other processes
    left of B during the run (:class:`fitscope.budget.OtherLoad`); HOLDS needs at least
    ``MIN_FREE_CPUS`` of them, since a crowded machine caps any process near one core.
    """
    ev = dict(cores_busy=cores_busy, budget=budget, threads_free=threads_free, step_ms=step_ms,
              free_cpus=free_cpus)
    text = f"training kept {cores_busy:.2f} cores busy with {_b(budget)}."
    if step_ms is not None and step_ms < MIN_STEP_MS:
        return Verdict("C3", INCONCLUSIVE, text + f" A train step cost only {step_ms:.1f} ms of "
                       "CPU: too small a model to need a second core.", ev)
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


@dataclass(frozen=True)
class PartEvidence:
    """Measured time of one variant against its two bounds (seconds)."""

    name: str
    measured_s: float
    sequential_s: float
    overlapped_s: float

    def judge(self, tolerance: float = 0.15) -> str:
        if self.sequential_s <= self.overlapped_s * (1 + tolerance):
            return INCONCLUSIVE  # the bounds are too close to tell overlap from none
        if self.measured_s <= self.overlapped_s * (1 + tolerance):
            return HOLDS
        if self.measured_s >= self.sequential_s * (1 - tolerance):
            return DOES_NOT_HOLD
        return INCONCLUSIVE

    def describe(self) -> str:
        return (f"{self.name}: {self.measured_s:.2f} s against an overlapped bound of "
                f"{self.overlapped_s:.2f} s and a sequential sum of {self.sequential_s:.2f} s "
                f"({self.judge()})")


def _combine(parts: Sequence[str]) -> str:
    decided = set(parts)
    return decided.pop() if len(decided) == 1 else DEPENDS


def c4(io_bound: PartEvidence, cpu_bound: PartEvidence, budget: float) -> Verdict:
    """Overlap of a GIL-releasing and of a CPU-bound Python generator with training."""
    ev = dict(io=vars(io_bound), cpu=vars(cpu_bound), budget=budget)
    parts = [io_bound.judge(), cpu_bound.judge()]
    text = f"{io_bound.describe()}; {cpu_bound.describe()}; {_b(budget)}."
    return Verdict("C4", _combine(parts), text, ev)


def c5(cores_predict: float, cores_fit: float, budget: float, free_cpus: float | None = None) -> Verdict:
    """Cores busy in predict and in fit on the same model and batch (``free_cpus`` as in :func:`c3`)."""
    ev = dict(cores_predict=cores_predict, cores_fit=cores_fit, budget=budget, free_cpus=free_cpus)
    text = (f"predict kept {cores_predict:.2f} cores busy and fit {cores_fit:.2f}, "
            f"with {_b(budget)}.")
    if budget < 2:
        return Verdict("C5", INCONCLUSIVE, text + " One CPU cannot show multi-core use.", ev)
    if cores_predict >= 1.3 and cores_fit >= 1.3:
        return Verdict("C5", DOES_NOT_HOLD, text, ev)
    if cores_predict >= 1.3 and cores_fit <= 1.05 and _crowded(free_cpus):
        return Verdict("C5", INCONCLUSIVE, text + _crowded(free_cpus), ev)
    if cores_predict >= 1.3 and cores_fit <= 1.05:
        return Verdict("C5", HOLDS, text, ev)
    if _crowded(free_cpus):
        return Verdict("C5", INCONCLUSIVE, text + _crowded(free_cpus), ev)
    return Verdict("C5", INCONCLUSIVE, text + " Not both past a threshold (1.05 / 1.3).", ev)


def c6(callbacks_on_main: int, callbacks_total: int, overlapping_steps: int, steps: int,
       budget: float | None = None) -> Verdict:
    """Thread of the callbacks and ordering of the step spans."""
    ev = dict(callbacks_on_main=callbacks_on_main, callbacks_total=callbacks_total,
              overlapping_steps=overlapping_steps, steps=steps, budget=budget)
    if callbacks_total == 0 or steps == 0:
        return Verdict("C6", INCONCLUSIVE, "no callbacks or steps were recorded.", ev)
    text = _with_b(f"{callbacks_on_main} of {callbacks_total} callbacks ran on the main thread; "
                   f"{overlapping_steps} of {steps} steps overlapped another step.", budget)
    ok = callbacks_on_main == callbacks_total and overlapping_steps == 0
    return Verdict("C6", HOLDS if ok else DOES_NOT_HOLD, text, ev)


def c7(runs: Iterable[dict[str, Any]]) -> Verdict:
    """Sandboxed runs of example 2. Each run: method, useful_updates, error, hang, unbounded_growth."""
    runs = list(runs)
    if not runs:
        return Verdict("C7", INCONCLUSIVE, "no sandboxed run was measured.", {"runs": runs})
    bad = [r for r in runs if r.get("useful_updates", 0) == 0 or r.get("error")
           or r.get("hang") or r.get("unbounded_growth")]
    text = "; ".join(
        f"{r['method']}: {r.get('useful_updates', 0)} updates to the parent's model"
        + (f", {r['error']}" if r.get("error") else "") + (", hang" if r.get("hang") else "")
        + (", unbounded queue growth" if r.get("unbounded_growth") else "") for r in runs)
    return Verdict("C7", HOLDS if bad else DOES_NOT_HOLD, text + ".", {"runs": runs})


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
    """The causes actually measured in C7."""
    ev = {"causes": list(causes)}
    if not causes:
        return Verdict("C8", INCONCLUSIVE, "no cause of failure was measured.", ev)
    text = "measured causes: " + "; ".join(causes) + "."
    if SYNCHRONISATION in causes:
        only = len(set(causes)) == 1
        return Verdict("C8", HOLDS if only else DEPENDS, text, ev)
    return Verdict("C8", DOES_NOT_HOLD, text, ev)


def c9(checksums: Sequence[str]) -> Verdict:
    """Weight checksums of each worker after MultiWorkerMirroredStrategy training."""
    ev = {"checksums": list(checksums)}
    if len(checksums) < 2:
        return Verdict("C9", INCONCLUSIVE, f"only {len(checksums)} worker(s) finished.", ev)
    same = len(set(checksums)) == 1
    text = (f"{len(checksums)} workers ended with "
            + ("identical weights" if same else "different weights") + " (checksums "
            + ", ".join(c[:12] for c in checksums) + ").")
    return Verdict("C9", DOES_NOT_HOLD if same else INCONCLUSIVE, text, ev)


OVERLAP_VISIBLE_SHARE = 0.25
"""C10: overlap counts as visible when producer work ran during this share of the train time."""


def c10(costly_speedup: float, overlap_visible: bool, arrays_speedup: float,
        budget: float | None = None) -> Verdict:
    """prefetch vs automatic prefetch injection off, for a costly producer and in-memory arrays."""
    ev = dict(costly_speedup=costly_speedup, overlap_visible=overlap_visible,
              arrays_speedup=arrays_speedup, budget=budget)
    costly = HOLDS if costly_speedup >= 1.2 and overlap_visible else DOES_NOT_HOLD
    arrays = HOLDS if arrays_speedup >= 1.2 else DOES_NOT_HOLD
    text = _with_b(f"with a costly producer prefetch gave x{costly_speedup:.2f}"
                   f" (overlap {'visible' if overlap_visible else 'not visible'} on the timeline); "
                   f"with in-memory arrays x{arrays_speedup:.2f}.", budget)
    return Verdict("C10", _combine([costly, arrays]), text, ev)


def c11(gil_releasing_speedup: float, cpu_bound_speedup: float, budget: float) -> Verdict:
    """Parallel map/interleave vs sequential, for GIL-releasing ops and CPU-bound Python."""
    ev = dict(gil_releasing_speedup=gil_releasing_speedup, cpu_bound_speedup=cpu_bound_speedup,
              budget=budget)
    text = (f"parallel vs sequential: x{gil_releasing_speedup:.2f} for GIL-releasing work, "
            f"x{cpu_bound_speedup:.2f} for CPU-bound Python in py_function, with {_b(budget)}.")
    if budget < 2:
        return Verdict("C11", INCONCLUSIVE, text + " One CPU cannot show parallel speed-up.", ev)

    def part(speedup: float) -> str:
        return HOLDS if speedup >= 1.3 else DOES_NOT_HOLD if speedup < 1.15 else INCONCLUSIVE

    return Verdict("C11", _combine([part(gil_releasing_speedup), part(cpu_bound_speedup)]), text, ev)


MIN_GAIN = 1.15  # below this a measured speed-up counts as little or no gain (as in C11)


def speedup(before_per_s: float, after_per_s: float) -> str:
    """The reading of a measured speed-up (rates before and after a change), by the MIN_GAIN rule.

    Example:
        >>> speedup(10.0, 10.5)
        'x1.05 (10.0 → 10.5 per s): little or no gain, under the x1.15 a real gain needs.'
    """
    gain = after_per_s / before_per_s if before_per_s > 0 else float("nan")
    head = f"x{gain:.2f} ({before_per_s:.1f} → {after_per_s:.1f} per s): "
    if gain >= MIN_GAIN:
        return head + f"a gain, at least the x{MIN_GAIN:g} a real gain needs."
    return head + f"little or no gain, under the x{MIN_GAIN:g} a real gain needs."


NEAR_OVERLAPPED = "near the overlapped bound"
NEAR_SEQUENTIAL = "near the one-after-the-other sum"
BETWEEN = "between the bounds"
TOO_CLOSE = "the bounds too close to tell apart"


def position(measured_s: float, sequential_s: float, overlapped_s: float, tolerance: float = 0.15) -> str:
    """Where a measured time sits against its two bounds, by C12's 15% bands.

    Example:
        >>> position(1.05, sequential_s=2.0, overlapped_s=1.0)
        'near the overlapped bound'
        >>> position(1.2, sequential_s=1.3, overlapped_s=1.2)
        'the bounds too close to tell apart'
    """
    if sequential_s * (1 - tolerance) <= overlapped_s * (1 + tolerance):
        return TOO_CLOSE  # the two bands meet: overlap and none cannot be told apart
    if measured_s >= sequential_s * (1 - tolerance):
        return NEAR_SEQUENTIAL
    if measured_s <= overlapped_s * (1 + tolerance):
        return NEAR_OVERLAPPED
    return BETWEEN


def _starves(part: dict[str, Any], budget: float, step_ms: float) -> str:
    """C12's rule for one kind of data work: measured time against the two bounds."""
    if step_ms < MIN_STEP_MS or (part["pure_python"] and budget < 2):
        return INCONCLUSIVE
    where = position(part["measured_s"], part["sequential_s"], part["overlapped_s"])
    return {TOO_CLOSE: INCONCLUSIVE, NEAR_SEQUENTIAL: HOLDS, NEAR_OVERLAPPED: DOES_NOT_HOLD}.get(where, DEPENDS)


def c12(backend: str, parts: Sequence[dict[str, Any]], budget: float, step_ms: float) -> Verdict:
    """Whether data made on the main thread starves training, per kind of data work, on one backend.

    Each part: ``name``, ``measured_s``, ``sequential_s``, ``overlapped_s`` and ``pure_python``
    (its work holds the GIL). A part HOLDS within 15% of (or above) the sequential sum, DOES NOT
    HOLD within 15% of the overlapped bound, else DEPENDS; it is INCONCLUSIVE when a step costs
    under ``MIN_STEP_MS``, when the two 15% bands meet (the bounds are too close), or, for pure Python,
    when B < 2. The verdict is the decided parts' common verdict, or DEPENDS when they differ.

    Example:
        >>> part = dict(name="waiting", measured_s=1.9, sequential_s=2.0, overlapped_s=1.0,
        ...             pure_python=False)
        >>> c12("PyTorch", [part], budget=2, step_ms=20).verdict
        'HOLDS'
    """
    parts = [dict(p) for p in parts]
    ev = dict(backend=backend, parts=parts, budget=budget, step_ms=step_ms)
    judged = [(p, _starves(p, budget, step_ms)) for p in parts]
    text = f"on the {backend} backend (a step took {step_ms:.1f} ms), " + "; ".join(
        f"{p['name']}: {p['measured_s']:.2f} s against an overlapped bound of {p['overlapped_s']:.2f} s "
        f"and a sequential sum of {p['sequential_s']:.2f} s ({v})" for p, v in judged) + f"; {_b(budget)}."
    if step_ms < MIN_STEP_MS:
        text += f" A step under {MIN_STEP_MS:g} ms is too short to tell overlap from none."
    decided = {v for _, v in judged if v != INCONCLUSIVE}
    verdict = INCONCLUSIVE if not decided else decided.pop() if len(decided) == 1 else DEPENDS
    return Verdict("C12", verdict, text, ev)


_RULES = {"C1": c1, "C2": c2, "C3": c3, "C5": c5, "C6": c6, "C7": c7, "C8": c8, "C9": c9,
          "C10": c10, "C11": c11, "C12": c12}


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


class _Hypotheses(list):
    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{c.id}</td><td>{html.escape(c.text)}</td><td><a href='{link}'>{link}</a></td></tr>"
            for c, link in self)
        return ("<table><thead><tr><th>id</th><th>the article's claim, as a hypothesis</th>"
                f"<th>tested in</th></tr></thead><tbody>{rows}</tbody></table>"
                f"<p>Each claim, its evidence and its rule: <a href='{RULES_DOC}'>{RULES_DOC}</a>.</p>")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{c.id:4s} {c.text} ({link})" for c, link in self)

    __repr__ = __str__


RULES_DOC = "../docs/claims.md"  # from notebooks/, where the table's links are followed
NOTEBOOK_FILES = {"01": "01_generator_with_fit.ipynb", "02": "02_multiprocessing_trainer.ipynb",
                  "03": "03_tfdata_prefetch.ipynb", "04": "04_beyond_one_process.ipynb",
                  "01b": "01b_which_backend.ipynb"}


def hypotheses() -> _Hypotheses:
    """Every claim with the notebook that tests it, shown as a table with links.

    Example:
        >>> str(hypotheses()).splitlines()[0]
        'C1   fit consumes a Python generator on the main thread. (01_generator_with_fit.ipynb)'
    """
    return _Hypotheses((c, NOTEBOOK_FILES[c.notebook]) for c in CLAIMS.values())
