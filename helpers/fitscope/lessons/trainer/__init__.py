"""Lesson 02: the article's multiprocessing trainer, run safely, and the right ways.

:mod:`~.article` runs the article's script under fork, spawn and forkserver in the sandbox, and
:mod:`~.article_reading` reads those runs; :mod:`~.remedies` runs the ways that work (a queue of
worker processes, a PyDataset).
"""

from __future__ import annotations

from fitscope.lessons.trainer.article import (
    LABELS,
    START_METHODS,
    ArticleRun,
    ArticleRuns,
    article_runs,
    article_trainer,
    process_charts,
    trainer_panel,
)
from fitscope.lessons.trainer.remedies import (
    RIGHT_WAY_METHODS,
    RightWayParams,
    RightWayRun,
    RightWays,
    pydataset_trainer,
    queue_trainer,
)

__all__ = [
    "START_METHODS",
    "LABELS",
    "ArticleRun",
    "ArticleRuns",
    "article_trainer",
    "article_runs",
    "process_charts",
    "trainer_panel",
    "RIGHT_WAY_METHODS",
    "RightWayParams",
    "RightWayRun",
    "RightWays",
    "queue_trainer",
    "pydataset_trainer",
]
