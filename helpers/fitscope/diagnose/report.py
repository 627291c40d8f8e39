"""A diagnosis, shown like every fitscope result: its verdict in one sentence, a table of figures,
the thread timeline of the traced steps (drawn only when shown), the remedies; JSON; a trace.

The verdict (highly, moderately or not input-bound, or inconclusive) is :mod:`.verdict`'s; its
names are importable from here too. A quantity measured once a repeat prints as its repeats' median
everywhere, so the parts' medians need not add up to the share's; the sentence says how far.

Example:
    >>> verdict_of([0.96, 0.97, 0.95])
    ('highly input-bound', '')
"""

from __future__ import annotations

import json
import statistics
import textwrap
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fitscope.diagnose.figures import (
    SMALL,
    alone_noise,
    batch_busy,
    median_interval,
    ms,
    noise_text,
    shares_text,
    times_text,
)
from fitscope.diagnose.remedies import Remedy
from fitscope.diagnose.verdict import (
    CONTENTION,
    HIGHLY,
    INCONCLUSIVE,
    LINES,
    MODERATELY,
    NOT,
    WAITING,
    category,
    larger_part,
    no_remedy,
    parts_note,
    verdict_of,
)
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.verdicts.compare import TOO_CLOSE
from fitscope.verdicts.images import step_cores
from fitscope.verdicts.quantities import ROW

__all__ = [
    "HIGHLY",
    "MODERATELY",
    "NOT",
    "INCONCLUSIVE",
    "LINES",
    "category",
    "larger_part",
    "median_interval",
    "parts_note",
    "verdict_of",
    "Diagnosis",
]


@dataclass
class Diagnosis(ShowsItself):
    """What :func:`fitscope.diagnose` measured and concluded; the cell's value.

    ``run`` is the median repeat's traced run; ``tried_run`` the remedy's tried on the spot, if
    any. Per repeat: ``shares``, its parts ``waiting_shares`` and ``contention_shares``
    (:func:`fitscope.diagnose.measure.split`) and the step times; over repeats, their median.
    """

    backend: str
    source: str
    verdict: str
    reason: str
    shares: list[float]
    steps_alone_s: list[float]
    steps_in_fit_s: list[float]
    waiting_shares: list[float]
    contention_shares: list[float]
    steps_under_load_s: list[float]
    beside_batches: int
    first_step: str
    others_cpus: list[float]  # per repeat, CPUs other processes kept busy meanwhile
    data_s: float
    data_cpu_s: float
    data_clock: str
    data_computes: bool
    data_thread: str
    data_where: str
    batches_by_thread: dict[str, int]
    sequential_s: float
    overlapped_s: float
    position: str
    steps: int
    steps_timed: int
    batches_taken: int | None
    model_restored: bool
    model_note: str
    cpu_per_step_by_role: dict[str, float]
    budget: str
    cpus: float  # B, the CPUs this process may use
    duration_s: float
    verdict_s: float  # from the call to the verdict, before any remedy is tried
    # the step alone's runs just before and after the fit: steps_alone_s is their mean, their
    # distance the step-alone noise (empty: it was timed once a repeat)
    steps_alone_before_s: list[float] = field(default_factory=list)
    steps_alone_again_s: list[float] = field(default_factory=list)
    remedies: list[Remedy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run: RunResult | None = None
    tried_run: RunResult | None = None

    @property
    def input_share(self) -> float:
        return statistics.median(self.shares)

    @property
    def waiting_share(self) -> float:
        """The training thread idle for its next batch, a fraction of a step in fit."""
        return statistics.median(self.waiting_shares)

    @property
    def contention_share(self) -> float:
        """The step slowed by the data work sharing the CPU, a fraction of a step in fit."""
        return statistics.median(self.contention_shares)

    @property
    def cause(self) -> str | None:
        """The larger part, "waiting" or "contention", or None (:func:`larger_part`)."""
        return larger_part(self.waiting_shares, self.contention_shares, self.alone_noise)[0]

    @property
    def step_alone_s(self) -> float:
        return statistics.median(self.steps_alone_s)

    @property
    def alone_noise(self) -> float:
        """How far the step alone's two runs of a repeat fell apart (:func:`alone_noise`)."""
        return alone_noise(self.steps_alone_before_s, self.steps_alone_again_s, self.steps_in_fit_s)

    @property
    def step_under_load_s(self) -> float:
        return statistics.median(self.steps_under_load_s)

    @property
    def step_in_fit_s(self) -> float:
        return statistics.median(self.steps_in_fit_s)

    @property
    def data_busy(self) -> str:
        """One batch's CPU against its wall, and whether it computes (:func:`batch_busy`)."""
        args = (self.data_cpu_s, self.data_s, self.data_clock, self.cpus, self.data_computes)
        return batch_busy(*args)

    def parts_sentence(self) -> str:
        """The share's two parts in words, with the step under load they stand on, and what
        their sum is against the share when the two differ (:func:`parts_note`)."""
        note = parts_note(self.shares, self.waiting_shares, self.contention_shares)
        return (
            f"{self.waiting_share:.0%} waiting for the next batch and "
            f"{self.contention_share:.0%} contention, the step slowed by the data work sharing "
            f"the CPU ({ms(self.step_under_load_s)} a step alone with your pipeline running "
            f"beside it){note}"
        )

    @property
    def reading(self) -> str:
        """The verdict in one sentence, with the figures it stands on: the table's own."""
        from fitscope.instrument.backends import LABELS

        lo, hi = min(self.shares), max(self.shares)
        larger, why = larger_part(self.waiting_shares, self.contention_shares, self.alone_noise)
        unranked = f"{WAITING} and {CONTENTION} in parts this run cannot rank ({why})"
        said = f", mostly {larger}" if larger else f", {unranked}"
        mostly = said if self.verdict in (HIGHLY, MODERATELY) else ""
        head = f"On {LABELS.get(self.backend, self.backend)}, {self.verdict}{mostly}" + (
            f" ({self.reason})" if self.reason else ""
        )
        n, ran = len(self.shares), f"the shares ran from {lo:.0%} to {hi:.0%}"
        ran = ran if f"{lo:.0%}" != f"{hi:.0%}" else f"every repeat's share {lo:.0%}"
        which = "" if n == 1 else f" (medians of {n} repeats, each figure its own; {ran})"
        return (
            f"{head}: a step took {ms(self.step_in_fit_s)} in fit against "
            f"{ms(self.step_alone_s)} with its batch held in memory, and the input share was "
            f"{self.input_share:.0%}{which}{self._beaten()}: {self.parts_sentence()}; the data "
            f"was made on {self.data_where} at {ms(self.data_s)} a batch; measured with "
            f"{self.first_step}."
        )

    def _beaten(self) -> str:
        """A step in fit faster than the step alone beyond the noise, said: the step alone is
        the bound no pipeline can beat, and the shares, floored at 0, hide it (review r6)."""
        faster = [1 - t / a for a, t in zip(self.steps_alone_s, self.steps_in_fit_s) if a > 0]
        margin = max(self.alone_noise, SMALL)  # a noise under 5% is not the line: 5% is
        line = f"the {margin:.0%} " + ("noise" if self.alone_noise >= SMALL else "margin")
        if not faster or max(faster) < 0.005:
            return ""
        if median_interval(faster)[0] <= margin:  # within the noise, yet never hidden (r8)
            lo, hi = min(faster), max(faster)  # r9: "up to 26% ... inside the 17%" misread
            span = f"{lo:.0%} to {hi:.0%}" if lo >= 0.005 else f"up to {hi:.0%}"
            inside = "inside" if hi <= margin else "not all beyond"
            return (
                f"; shares floored at 0: a step in fit ran {span} faster than the step alone "
                f"over the repeats, {inside} {line}"
            )
        return (
            f"; yet a step in fit ran {statistics.median(faster):.0%} faster than the step alone, "
            f"beyond {line}: the step-alone bound was beaten, so the "
            "step alone was measured slow and the shares, floored at 0, hide it"
        )

    def remedy_sentences(self) -> list[str]:
        if not self.remedies and self.verdict == NOT:
            under = (
                "the input share is under 5% in every repeat"
                if median_interval(self.shares)[1] < SMALL
                else f"no share is measured beyond the {self.alone_noise:.0%} step-alone noise"
            )
            return [
                f"No input remedy is needed: {under}; time is won in the step itself (a larger "
                "batch, a smaller model, steps_per_execution)."
            ]
        if not self.remedies:
            return [
                no_remedy(
                    self.waiting_shares,
                    self.contention_shares,
                    self.alone_noise,
                    self.source,
                    self.step_in_fit_s,
                    bound=self.verdict in (HIGHLY, MODERATELY),
                )
            ]
        return [r.sentence() for r in self.remedies]

    def table(self) -> Table:
        """The figures, one row per quantity, read by the verdict sentence."""
        cpu = ", ".join(f"{role} {ms(s)}" for role, s in self.cpu_per_step_by_role.items())
        cores = step_cores(self.cpu_per_step_by_role, self.step_in_fit_s)
        parts = [
            ("input share", (self.input_share, self.shares)),
            ("waiting share", (self.waiting_share, self.waiting_shares)),
            ("contention share", (self.contention_share, self.contention_shares)),
        ]
        again = noise_text(self.steps_alone_before_s, self.steps_alone_again_s, self.steps_in_fit_s)
        noise = [("step-alone noise: its runs before and after the fit", again)]
        noise *= bool(self.steps_alone_before_s and self.steps_alone_again_s)
        rows = [
            ("verdict", self.verdict + (f" ({self.reason})" if self.reason else "")),
            ("data source", self.source),
            *((ROW[name], shares_text(*each)) for name, each in parts),
            (ROW["step in fit"], times_text(self.step_in_fit_s, self.steps_in_fit_s)),
            (ROW["step alone"], times_text(self.step_alone_s, self.steps_alone_s)),
            *noise,
            (
                ROW["step alone, the pipeline beside it"],
                times_text(self.step_under_load_s, self.steps_under_load_s),
            ),
            ("process state measured", self.first_step),
            (
                ROW["one batch made alone"],
                f"{ms(self.data_s)} wall, {ms(self.data_cpu_s)} CPU on "
                f"{self.data_clock} ({self.data_busy})",
            ),
            ("data thread (after Keras's peek)", f"{self.data_thread}: {self.data_where}"),
            ("batches made, by thread", self.batches_by_thread or "not traced"),
            (
                "bounds a step: ideal overlap / one after the other",
                f"{ms(self.overlapped_s)} / {ms(self.sequential_s)}: "
                + (
                    f"fit was {self.position}"
                    if self.position != TOO_CLOSE
                    else "too close to tell overlap from none"
                ),
            ),
            ("CPU a step in fit, by thread role", cpu or "not sampled"),
            (
                "cores busy in a step in fit (its CPU over its wall)",
                f"{cores:.2f} of B = {self.cpus:g}" if cores is not None else "not sampled",
            ),
            ("CPU budget", self.budget),
            (
                "CPUs other processes kept busy: median (repeats)",
                f"{statistics.median(self.others_cpus):.2f} "
                f"({', '.join(f'{c:.2f}' for c in self.others_cpus)})",
            ),
            (
                "steps a run",
                f"{self.steps}, the last {self.steps_timed} timed; "
                f"{len(self.shares)} repeats of alone, under load, in fit and alone again, "
                "interleaved",
            ),
            (
                "data used up",
                "nothing: the data can be read again"
                if self.batches_taken is None
                else f"{self.batches_taken} batches taken from your {self.source} "
                f"(it cannot rewind), {self.beside_batches} of them by the pipeline run beside "
                "the step under load",
            ),
            ("model", self.model_note),
            (
                "diagnose took",
                f"{self.duration_s:.1f} s"
                + (
                    f" ({self.verdict_s:.1f} s to the verdict, the rest trying a remedy)"
                    if self.tried_run is not None
                    else ""
                ),
            ),
        ]
        return Table(
            ("quantity", "measured"),
            rows,
            reading=self.reading,
            title=f"fitscope.diagnose: is the input pipeline starving training? ({self.backend})",
        )

    def remedies_table(self) -> Table:
        rows: list[tuple[int | str, str]] = [
            (i + 1, s) for i, s in enumerate(self.remedy_sentences())
        ]
        rows += [("note", n) for n in self.notes]
        return Table(("#", "remedy, and the most it could save"), rows)

    def chart(self) -> Any:
        """The thread timeline of the traced steps (matplotlib: drawn only when asked for)."""
        from fitscope.show.charts import timeline

        return timeline(self._traced())

    def _repr_html_(self) -> str:
        parts = [self.table()] + ([self.chart()] if self.run is not None and self.run.spans else [])
        return Stack(parts + [self.remedies_table()])._repr_html_()

    def text(self, width: int = 100) -> str:
        """The report for a terminal: figures, verdict, remedies and notes, wrapped at ``width``."""
        lines = [self.table().text(width=10_000), "", "Remedies, and the most each could save:"]
        items = [(f"  {i + 1}. ", s) for i, s in enumerate(self.remedy_sentences())]
        for head, sentence in items + [("  note: ", n) for n in self.notes]:
            lines.append(
                textwrap.fill(sentence, width, initial_indent=head, subsequent_indent="     ")
            )
        return "\n".join(lines)

    def save_chrome_trace(self, path: str | Path) -> Path:
        """The traced run as a Chrome trace: open it at https://ui.perfetto.dev."""
        return self._traced().save_chrome_trace(path)

    def _traced(self) -> RunResult:
        if self.run is None:
            raise ValueError("This diagnosis kept no traced run (it was read back from JSON).")
        return self.run

    def to_dict(self) -> dict[str, Any]:
        """The figures, the verdict and the remedies as plain values (the runs stay out)."""
        d = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("remedies", "run", "tried_run")
        }
        d.update(
            input_share=self.input_share,
            waiting_share=self.waiting_share,
            contention_share=self.contention_share,
            cause=self.cause,
            data_busy=self.data_busy,
            step_under_load_s=self.step_under_load_s,
            step_alone_s=self.step_alone_s,
            step_in_fit_s=self.step_in_fit_s,
            alone_noise=self.alone_noise,
            alone_noise_text=noise_text(
                self.steps_alone_before_s, self.steps_alone_again_s, self.steps_in_fit_s
            )
            if self.steps_alone_before_s and self.steps_alone_again_s
            else "",
            reading=self.reading,
            remedies=self.remedy_sentences(),
            remedy_figures=[
                {
                    "how": r.how,
                    "bound_s": r.bound_s,
                    "now_s": r.now_s,
                    "tried_s": r.tried_s,
                    "tried_reading": r.tried_reading,
                }
                for r in self.remedies
            ],
        )
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
