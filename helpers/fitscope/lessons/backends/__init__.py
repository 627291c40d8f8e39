"""Lesson 01b: the same generator on Keras's TensorFlow, JAX and PyTorch backends.

Each backend runs in a fresh interpreter (:mod:`~fitscope.lessons.backends.runs`: Keras reads
``KERAS_BACKEND`` once, at import); :mod:`~fitscope.lessons.backends.claims` decides the
claims per backend (C1, C6, C12) and :mod:`~fitscope.lessons.backends.readings` reads the rest:
the overlap against the bounds, the remedy, the threads, the timelines, the panel.
"""

from __future__ import annotations

from fitscope.lessons.backends.claims import (
    backend_verdicts,
    c1_verdict,
    c6_verdict,
    c12_verdict,
)
from fitscope.lessons.backends.readings import (
    backend_panel,
    grain_threads,
    must_hold,
    overlap,
    remedy,
    threads_table,
    timelines,
)
from fitscope.lessons.backends.runs import (
    BACKENDS,
    LABELS,
    VARIANTS,
    GRAIN,
    BackendNotInstalled,
    BackendParams,
    BackendRuns,
    by_backend,
    check_backend,
    default_variants,
    installed_line,
    is_installed,
    measure,
    measure_or_say,
    not_installed_sentence,
)

__all__ = [
    "BACKENDS",
    "LABELS",
    "VARIANTS",
    "GRAIN",
    "default_variants",
    "BackendNotInstalled",
    "BackendParams",
    "BackendRuns",
    "is_installed",
    "check_backend",
    "not_installed_sentence",
    "installed_line",
    "measure",
    "measure_or_say",
    "by_backend",
    "backend_panel",
    "backend_verdicts",
    "c12_verdict",
    "c1_verdict",
    "c6_verdict",
    "grain_threads",
    "must_hold",
    "overlap",
    "remedy",
    "threads_table",
    "timelines",
]
