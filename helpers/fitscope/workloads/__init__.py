"""Workloads: the article's model and batches, and stand-in costs (sleep, pure Python, NumPy).

What the lessons measure, never how: the article's model and random batches
(:mod:`article`), a ``PyDataset`` whose batches carry a cost (:mod:`pydatasets`), and
``tf.data`` stand-in costs calibrated on this machine (:mod:`graph_costs`).

Example:
    >>> from fitscope.workloads import batch_work
    >>> batch_work("sleep", 1.0)()
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "article": (
            "WORK_KINDS",
            "FEATURES",
            "batch_work",
            "random_batches",
            "article_model",
        ),
        "graph_costs": (
            "AUTOTUNE",
            "tensorflow",
            "timed_sleep",
            "sorting",
            "options",
            "parallel_calls",
            "graph_ops",
            "inject_prefetch_option",
            "stage_cost",
        ),
        "pydatasets": ("CostlyBatches",),
    },
)
