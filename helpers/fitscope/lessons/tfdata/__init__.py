"""Lesson 03: ``tf.data`` prefetching and parallelism against the ideal overlap bound.

:mod:`~.pipelines` builds the six variants, :mod:`~.runs` measures them, :mod:`~.examples`
runs the article's example 3, the GIL and the generator sources.
"""

from __future__ import annotations

from fitscope.lessons.tfdata.examples import (
    EXAMPLE3_VARIANTS, Example3Runs, GilRuns, SourceRuns, article_example3, example3_runs,
    generator_vs_slices, gil_runs, py_function_map, source_runs, tfdata_verdicts)
from fitscope.lessons.tfdata.pipelines import FIELDS, VARIANTS, PipelineParams, build_pipeline
from fitscope.lessons.tfdata.runs import (
    PipelineRun, PipelineRuns, compare_variants, overlap_share, tfdata_panel, tfdata_pipeline)

__all__ = ["VARIANTS", "FIELDS", "PipelineParams", "build_pipeline", "PipelineRun", "PipelineRuns",
           "compare_variants", "overlap_share", "tfdata_panel", "tfdata_pipeline",
           "EXAMPLE3_VARIANTS", "Example3Runs", "GilRuns", "SourceRuns", "article_example3",
           "example3_runs", "py_function_map", "gil_runs", "generator_vs_slices", "source_runs",
           "tfdata_verdicts"]
