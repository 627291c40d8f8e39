"""Measured tf.data pipelines, read: one run against its bounds and the no-overlap baseline
(:class:`PipelineRun`), and several side by side (:class:`PipelineRuns`), with which is fastest
and what each step gained, all by the one comparison rule.

:mod:`~fitscope.lessons.tfdata.runs` measures a pipeline and returns a :class:`PipelineRun`.

Example:
    >>> works_ahead({"inject_prefetch": False, "shape": {"prefetched": False,
    ...     "interleaved": False, "parallel_map": True}})
    True
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from fitscope.instrument.checks import Checks
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.verdicts.compare import FASTER, MIN_GAIN, Fastest, compare, costs_apart, fastest
from fitscope.verdicts.spread import figure

__all__ = [
    "PipelineRun",
    "PipelineRuns",
    "SLOWER_THAN_SUM",
    "against_baseline",
    "times_of",
    "works_ahead",
]


def times_of(r: RunResult) -> list[float]:
    """A measured pipeline's repeats (s), or its one measured time."""
    return r.facts.get("repeats_s") or [r.facts["measured_s"]]


def _spread(r: RunResult) -> str:
    t = times_of(r)
    return "one run" if len(t) == 1 else f"median of {len(t)}, {min(t):.2f}–{max(t):.2f} s"


def _median(r: RunResult) -> float:
    """The measured time as comparisons read it: the median of the repeats."""
    return statistics.median(times_of(r))


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _cache_passes(f: dict[str, Any]) -> str:
    """For a cached pipeline: the pass that fills the cache and those that read it, apart."""
    if not f.get("shape", {}).get("cached") or not f.get("passes_s"):
        return ""
    runs = f["passes_s"] if isinstance(f["passes_s"], list) else [f["passes_s"]]
    first = statistics.median(r["first_s"] for r in runs)
    later = [t for r in runs for t in r["later_s"]]
    how = (
        f"each repeat built its own pipeline ({len(runs)})"
        if f.get("fresh_per_repeat")
        else "measured once: a dataset object keeps its cache, so a second repeat would read it"
    )
    of = f" (median of {len(runs)} repeats)" if len(runs) > 1 else ""
    read = (
        f", the {len(later)} passes that read it {figure(statistics.median(later))} s (median)"
        if len(later) > 1
        else f", the pass that read it {figure(later[0])} s"
        if later
        else ", and no later pass read it"
    )
    return f" The pass that fills the cache took {figure(first)} s{of}{read}; {how}."


SLOWER_THAN_SUM = (
    " The one-after-the-other sum adds costs each measured alone; run together, every element "
    "also pays its hand-over from tf.data to Python, the iterator's start and each epoch's "
    "restart, and shares the CPUs with whatever else runs, so a run can take longer than it."
)
"""Why a run can be slower than its one-after-the-other sum: said wherever one is."""


def works_ahead(f: dict[str, Any]) -> bool:
    """Whether a measured pipeline has a stage that works ahead of its consumer (a prefetch
    written or injected, a parallel stage): without one, nothing overlaps, by construction."""
    return f["inject_prefetch"] is not False or any(
        f["shape"][k] for k in ("prefetched", "interleaved", "parallel_map")
    )


def _real_overlap(f: dict[str, Any], base: dict[str, Any]) -> bool:
    """Whether a run that reads no faster than its one-after-the-other sum did the same work as
    the no-overlap baseline (sums within ``MIN_GAIN``, the one costs rule): only then does
    beating the baseline show an overlap, not less work (a vectorised map, a cache)."""
    run_s, base_s = f.get("sequential_s"), base.get("sequential_s")
    return (
        f.get("against_kind") in ("slower", "no faster")
        and run_s is not None
        and base_s is not None
        and costs_apart({"run": run_s, "baseline": base_s}) <= MIN_GAIN
    )


def against_baseline(f: dict[str, Any]) -> str:
    """A run against the pipeline measured with no overlap (``facts["baseline"]``), by the one
    rule, and, where its bound's sum reads no faster than one after the other though it beat
    that measured baseline, that the overlap is real and the sum was low; "" with no baseline.

    Example:
        >>> f = {"variant": "prefetch", "repeats_s": [2.0, 2.1, 2.2], "efficiency": "67 % of \
the ideal bound, and no faster than one after the other (2.1 s against 2.0 s)",
        ...      "against_kind": "no faster",
        ...      "sequential_s": 2.0,
        ...      "baseline": {"variant": "naive", "repeats_s": [2.9, 3.0, 3.1],
        ...                   "sequential_s": 2.0}}
        >>> against_baseline(f)[:73]
        " Against 'naive', measured with no overlap: x1.43 faster (3.00 → 2.10 s, "
    """
    base = f.get("baseline")
    if not base or base["variant"] == f["variant"]:
        return ""
    c = compare(base["repeats_s"], f.get("repeats_s") or [f["measured_s"]])
    text = f" Against '{base['variant']}', measured with no overlap: {c}."
    if c.word == FASTER and _real_overlap(f, base):
        text += (
            " The overlap is real: the one-after-the-other sum, from costs measured alone, "
            f"was below what '{base['variant']}' took with no overlap."
        )
    return text


class PipelineRun(RunResult):
    """One synthetic pipeline: measured time (median of its repeats) against its bounds,
    overlap, CPU, and, given one, against the pipeline measured with no overlap."""

    def __str__(self) -> str:
        f, b = self.facts, self.bounds
        if b is None:
            return f"{f['variant']}: no element was consumed."
        slower = f.get("against_kind") == "slower"
        return (
            f"{f['variant']}: {figure(_median(self))} s measured ({_spread(self)}) against an "
            f"ideal {figure(b.overlapped_s)} s ({f['efficiency']}; {figure(b.sequential_s)} s "
            f"with no overlap); the producer was busy during {100 * f['overlap_share']:.0f}% of "
            "the train time."
            + (SLOWER_THAN_SUM if slower else "")
            + against_baseline(f)
            + _cache_passes(f)
        )

    def table(self) -> Table:
        f = self.facts
        rows = [
            ("elements", f["elements"]),
            ("measured (s)", f"{_median(self):.2f} ({_spread(self)})"),
            (
                "ideal bound / no overlap (s)",
                f"{self.bounds.overlapped_s:.2f} / {self.bounds.sequential_s:.2f}"
                if self.bounds
                else "none",
            ),
            ("first element after (s)", f["first_element_s"]),
            ("main thread waited (s)", f["wait_s"]),
            ("producer busy during train time", f"{100 * f['overlap_share']:.0f}%"),
            ("process CPU (s)", f["process_cpu_s"]),
            ("in-graph work done", f["spans_by_label"]),
        ]
        return Table(("quantity", self.name), rows, reading=str(self))

    def must_hold(self) -> Checks:
        """For a pipeline with nothing that works ahead (no prefetch written or injected, no
        parallel stage): no producer work ran during a train step (under 1 % of the train time,
        for the clocks' granularity at the spans' edges)."""
        f = self.facts
        if works_ahead(f):
            raise FitscopeInputError(
                f"'{f['variant']}' has a stage that works ahead; the check is "
                "for a pipeline without prefetch, injection off."
            )
        return Checks(
            [
                (
                    f"{f['variant']}: the producer never ran during a train step (busy "
                    f"{100 * f['overlap_share']:.1f}% of the train time)",
                    f["overlap_share"] < 0.01,
                )
            ]
        )


class PipelineRuns(ShowsItself, list):
    """Pipelines already measured on one workload, in the order the guide's steps add them: a
    chart of each against its bound, a table, which is fastest and what each step gained."""

    def chart(self) -> Any:
        from fitscope.show.charts import comparison

        return comparison(
            [
                (
                    r.facts["variant"],
                    times_of(r),
                    r.bounds.overlapped_s if r.bounds else None,
                    r.bounds.sequential_s if r.bounds else None,
                )
                for r in self
            ],
            title="The synthetic pipeline: measured time (median) against both bounds",
        )

    def baseline(self) -> PipelineRun | None:
        """The first run with nothing that works ahead (no overlap by construction), if any."""
        return next((r for r in self if r.bounds and not works_ahead(r.facts)), None)

    def table(self) -> Table:
        base = self.baseline()

        def against(r: PipelineRun) -> str:
            if base is None or r is base:
                return "the baseline" if r is base else ""
            return str(compare(times_of(base), times_of(r)))

        rows = [
            (
                r.facts["variant"],
                f"{_median(r):.2f} ({_spread(r)})",
                r.bounds.overlapped_s if r.bounds else None,
                r.facts["efficiency"],
                against(r),
                f"{100 * r.facts['overlap_share']:.0f}%",
                r.facts["process_cpu_s"],
            )
            for r in self
        ]
        real = [
            r.facts["variant"]
            for r in self
            if base is not None
            and r is not base
            and _real_overlap(
                {**r.facts, "sequential_s": r.bounds.sequential_s if r.bounds else None},
                {"sequential_s": base.bounds.sequential_s if base.bounds else None},
            )
            and compare(times_of(base), times_of(r)).word == FASTER
        ]
        slow = [r.facts["variant"] for r in self if r.facts.get("against_kind") == "slower"]
        reading = self.fastest().sentence + "."
        if base is not None and real:
            reading += (
                f" {_names(real)} read no faster than the one-after-the-other sum, yet beat "
                f"'{base.facts['variant']}', measured with no overlap, beyond the spread: the "
                "overlap is real, and the sum, from costs measured alone, was low."
            )
        if slow:
            reading += f" Slower than one after the other: {_names(slow)}." + SLOWER_THAN_SUM
        return Table(
            (
                "pipeline",
                "measured (s)",
                "ideal (s)",
                "against the ideal bound",
                f"against '{base.facts['variant']}' (no overlap)" if base else "",
                "producer busy in train time",
                "CPU (s)",
            ),
            rows,
            reading=reading,
            facts=[self.fastest().facts()],
        )

    def _repr_html_(self) -> str:
        return Stack([self.chart(), self.table()])._repr_html_()

    def fastest(self) -> Fastest:
        """Which pipeline is fastest, named only beyond the spread of its repeats."""
        return fastest({r.facts["variant"]: times_of(r) for r in self})

    def gains(self) -> Table:
        """What each pipeline gained over the one before it, by the one comparison rule, and
        which step's gain was largest (among those faster beyond the spread)."""
        steps = [
            (b.facts["variant"], compare(times_of(a), times_of(b))) for a, b in zip(self, self[1:])
        ]
        faster = [(name, c) for name, c in steps if c.word == FASTER]
        best = max(faster, key=lambda nc: nc[1].ratio, default=None)
        reading = (
            f"The largest gain measured: '{best[0]}', {best[1].sentence}."
            if best
            else "No step was faster than the one before it beyond the spread."
        )
        return Table(
            ("step", "against the step before"),
            [(n, c.sentence) for n, c in steps],
            reading=reading,
            facts=[c.facts() for _, c in steps],
        )

    def __getitem__(self, key: Any) -> Any:
        """A run by position or by pipeline name (slices give a plain list)."""
        if isinstance(key, str):
            return next(r for r in self if r.facts["variant"] == key)
        return list.__getitem__(self, key)
