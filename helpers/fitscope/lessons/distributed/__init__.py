"""Lesson 04: engines for more than one process: ``tf.distribute`` and the tf.data service."""

from __future__ import annotations

from fitscope.lessons.distributed.cost import notebook_cost
from fitscope.lessons.distributed.service import (
    PROCESSES_MODE_BYTES,
    ServiceRun,
    data_service,
    processes_mode_allowed,
    separate_processes,
)
from fitscope.lessons.distributed.mirrored import MirroredRun, mirrored_training
from fitscope.lessons.distributed.strategies import (
    MultiWorkerParams,
    MultiWorkerRun,
    multiworker_panel,
    multiworker_training,
)

__all__ = [
    "MultiWorkerParams",
    "MultiWorkerRun",
    "multiworker_training",
    "multiworker_panel",
    "MirroredRun",
    "mirrored_training",
    "PROCESSES_MODE_BYTES",
    "ServiceRun",
    "processes_mode_allowed",
    "data_service",
    "separate_processes",
    "notebook_cost",
]
