"""Lesson 03: ``tf.data`` prefetching and parallelism against the ideal overlap bound.

:mod:`~.pipelines` holds the workload and the package's copy of the six variants (the notebook
writes each in a cell with the stand-ins of :mod:`fitscope.workloads.graph_costs`), :mod:`~.runs`
measures any such pipeline it is given (:func:`measure_pipeline`) and :mod:`~.pipeline_runs`
reads what it measured, :mod:`~.variants` the package's own (and the panel); :mod:`~.examples`
fits the article's example 3 on given pipelines, their repeats in rotated orders, and decides
C10 and C11; :mod:`~.gil` maps
Python work through ``tf.py_function``; :mod:`~.sources` compares ``from_generator`` with
``from_tensor_slices``.
"""

from __future__ import annotations

from fitscope.lessons.tfdata.examples import (
    EXAMPLE3_VARIANTS,
    Example3Runs,
    article_example3,
    example3_arrays,
    example3_pipeline,
    example3_runs,
    fit_example3,
    fit_example3_rotated,
    tfdata_verdicts,
)
from fitscope.lessons.tfdata.gil import GIL_KINDS, GilRuns, gil_runs, py_function_map
from fitscope.lessons.tfdata.pipelines import (
    FIELDS,
    VARIANTS,
    PipelineParams,
    build_pipeline,
    shape_of,
)
from fitscope.lessons.tfdata.pipeline_runs import PipelineRun, PipelineRuns
from fitscope.lessons.tfdata.runs import measure_pipeline, overlap_share
from fitscope.lessons.tfdata.sources import SourceRuns, generator_vs_slices
from fitscope.lessons.tfdata.variants import compare_variants, tfdata_panel, tfdata_pipeline

__all__ = [
    "VARIANTS",
    "FIELDS",
    "PipelineParams",
    "build_pipeline",
    "shape_of",
    "PipelineRun",
    "PipelineRuns",
    "compare_variants",
    "measure_pipeline",
    "overlap_share",
    "tfdata_panel",
    "tfdata_pipeline",
    "EXAMPLE3_VARIANTS",
    "Example3Runs",
    "GIL_KINDS",
    "GilRuns",
    "SourceRuns",
    "article_example3",
    "example3_arrays",
    "example3_pipeline",
    "example3_runs",
    "fit_example3",
    "fit_example3_rotated",
    "py_function_map",
    "gil_runs",
    "generator_vs_slices",
    "tfdata_verdicts",
]
