"""The package's own tf.data variants (:func:`~fitscope.lessons.tfdata.pipelines.build_pipeline`),
measured: one (:func:`tfdata_pipeline`), several one after the other (:func:`compare_variants`),
and the panel that lets a learner change the stand-in costs (:func:`tfdata_panel`). Notebook 03
writes each variant in a cell; these serve the panel, the tests and the scorecard.

Example:
    >>> r = tfdata_pipeline("prefetch", files=2, elements=8, epochs=1)   # doctest: +SKIP
    >>> r.facts["variant"]                                               # doctest: +SKIP
    'prefetch'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice
from fitscope.instrument.measure import Live
from fitscope.lessons.tfdata.pipelines import (
    VARIANTS,
    PipelineParams,
    build_pipeline,
    default_repeats,
)
from fitscope.lessons.tfdata.runs import PipelineRun, PipelineRuns, measure_pipeline

__all__ = ["tfdata_pipeline", "compare_variants", "tfdata_panel"]


def tfdata_pipeline(
    variant: str = "naive",
    params: PipelineParams | None = None,
    *,
    repeats: int | None = 1,
    live: Live | None = None,
    time_budget_s: float | None = None,
    **overrides: Any,
) -> PipelineRun:
    """The package's own ``variant`` (:func:`build_pipeline`), measured by
    :func:`measure_pipeline` (once, unless ``repeats`` says more; None: the lesson's
    :func:`~fitscope.lessons.tfdata.pipelines.default_repeats`)."""
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    check_choice("variant", variant, VARIANTS)
    p = params or PipelineParams.default(**overrides)
    return measure_pipeline(
        lambda: build_pipeline(p, variant),  # built afresh for every repeat
        p,
        variant,
        repeats=repeats,
        live=live,
        time_budget_s=time_budget_s,
    )


def compare_variants(
    params: PipelineParams | None = None, variants: Sequence[str] = VARIANTS
) -> PipelineRuns:
    """The package's variants on the same workload, in order, each measured
    :func:`~fitscope.lessons.tfdata.pipelines.default_repeats` times."""
    from fitscope.show.live import StepCounter

    p = params or PipelineParams.default()
    counter, runs = StepCounter.in_notebook(), PipelineRuns()
    for i, v in enumerate(variants):
        counter.next_run(f"{v} ({i + 1} of {len(variants)})")
        runs.append(tfdata_pipeline(v, p, repeats=default_repeats(), live=counter))
    return runs


# -- the panel -------------------------------------------------------------------------------
def tfdata_panel(time_budget_s: float | None = None) -> Any:
    """A panel around :func:`tfdata_pipeline`: costs, sizes, buffer, parallel calls, cycle
    length."""
    from fitscope.show.charts import cpu_by_thread, pipeline_timeline
    from fitscope.show.panels import Control, ExperimentPanel

    d = PipelineParams.default()

    def run(live: Live, time_budget_s: float, variant: str, **values: Any) -> PipelineRun:
        return tfdata_pipeline(
            variant, PipelineParams(**{**vars(d), **values}), live=live, time_budget_s=time_budget_s
        )

    budget = time_budget_s or (20.0 if quick_mode() else 60.0)
    return ExperimentPanel(
        "A tf.data pipeline against its ideal bound",
        [
            Control("variant", "variant", "prefetch", "choice", VARIANTS),
            Control("open_ms", "open ms per file", d.open_ms, "float"),
            Control("read_ms", "read ms per element", d.read_ms, "float"),
            Control("map_ms", "map ms per call", d.map_ms, "float"),
            Control("train_ms", "train ms per step", d.train_ms, "float"),
            Control("elements", "elements per epoch", d.elements),
            Control("buffer", "prefetch buffer (0 = AUTOTUNE)", d.buffer),
            Control("parallel", "parallel calls (0 = AUTOTUNE)", d.parallel),
            Control("cycle_length", "cycle length", d.cycle_length),
        ],
        run,
        budget,
        str,
        charts_after=lambda r: (pipeline_timeline(r), cpu_by_thread(r)),
    )
