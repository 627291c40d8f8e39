"""Show: the only home of IPython, ipywidgets and matplotlib in fitscope.

Charts (:mod:`charts`, :mod:`cpu_charts`, :mod:`process_charts`), runs side by side
(:mod:`comparison`), live displays (:mod:`live`, :mod:`live_sandboxed`), the experiment panel
(:mod:`panels`), the self-check quizzes (:mod:`quiz`), the backend diagram (:mod:`diagram`) and
IPython's one-sentence errors (:mod:`ipython`). Charts use the Okabe–Ito colour-blind-safe palette
and label their units.

Example:
    >>> from fitscope import show
    >>> show.OKABE_ITO["blue"]
    '#0072B2'
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "charts": (
            "class_results",
            "OKABE_ITO",
            "CATEGORY_COLOURS",
            "ROLE_COLOURS",
            "Chart",
            "timeline",
            "throughput",
            "throughput_figure",
            "comparison",
            "pipeline_timeline",
        ),
        "cpu_charts": ("cpu_by_thread",),
        "comparison": ("Comparison",),
        "windows": ("training_windows",),
        "ipython": ("install_ipython_handler",),
        "live": ("LiveThroughput", "StepCounter"),
        "live_sandboxed": ("LiveProcesses", "WorkerProgress"),
        "panels": (
            "Control",
            "ExperimentPanel",
        ),
        "quiz": ("Question", "Quiz", "QUIZZES", "self_check"),
        "diagram": ("WHO_RUNS_WHAT", "backend_diagram"),
        "process_charts": (
            "memory_by_process",
            "cpu_by_process",
            "loss_by_worker",
        ),
    },
)
