"""Notebook 05's helpers: a real image pipeline diagnosed and fixed (the pipeline is in its cells).

:mod:`.folder` shows the image folder and what a model learned from it, :mod:`.threads` measures
which threads do the work (one thread against two; tf.data's CPU by thread), :mod:`.fresh`
diagnoses the cells in a fresh interpreter (another backend, worker processes), and
:mod:`.side_by_side` puts the diagnoses next to each other and decides the article's advice
(:mod:`.pipelines`: the table's rows, diagnoses made on one backend side by side, and which of
two diagnoses was more input-bound).

Example:
    >>> from fitscope.lessons import images
    >>> images.in_threads(abs, [-1, -2, -3]).calls
    3
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "folder": ("FolderSummary", "folder_summary", "learned"),
        "threads": ("ThreadScaling", "in_threads", "PipelineCpu", "cpu_by_thread"),
        "fresh": ("as_script", "diagnose_elsewhere", "FreshDiagnosis"),
        "side_by_side": ("SideBySide", "side_by_side"),
        # not in side_by_side: importing that module would hide the function of its name
        "pipelines": ("on_one_backend", "more_input_bound"),
    },
)
