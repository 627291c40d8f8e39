"""Lessons 00 and 01: a Python generator passed to ``model.fit``, on the TensorFlow backend.

The run is :mod:`fitscope.experiments.article_fit`'s; :mod:`~.fit` reads one run (who called
``next()``, the stacks, CPU by role, verdicts, the panel), :mod:`~.comparisons` sets runs side
by side (intra-op threads, ``predict``, the GIL, PyDataset workers).
"""

from __future__ import annotations

from fitscope.experiments.article_fit import (
    GENERATOR,
    PYDATASET_PROCESSES,
    PYDATASET_THREADS,
    SOURCES,
    GeneratorFitParams,
    fit_in_sandbox,
    generator_fit,
)
from fitscope.experiments.traced import step_alone, traced_fit
from fitscope.lessons.generator.comparisons import (
    c4_verdict,
    c5_verdict,
    compare_runs,
    gil_comparison,
    intra_op_comparison,
    predict_vs_fit,
    scenario1_scorecard,
    seconds_per_step,
)
from fitscope.lessons.generator.fit import (
    check_thread_facts,
    cpu_by_role,
    generator_fit_panel,
    generator_fit_verdicts,
    next_stacks,
    who_called_next,
)

__all__ = [
    "GeneratorFitParams",
    "generator_fit",
    "fit_in_sandbox",
    "GENERATOR",
    "PYDATASET_THREADS",
    "PYDATASET_PROCESSES",
    "SOURCES",
    "generator_fit_verdicts",
    "who_called_next",
    "next_stacks",
    "cpu_by_role",
    "check_thread_facts",
    "generator_fit_panel",
    "intra_op_comparison",
    "predict_vs_fit",
    "c5_verdict",
    "gil_comparison",
    "c4_verdict",
    "compare_runs",
    "seconds_per_step",
    "scenario1_scorecard",
    "traced_fit",
    "step_alone",
]
