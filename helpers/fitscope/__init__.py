"""fitscope: measure which OS thread does what when Keras trains a model.

The package is built in layers, each importing only the ones below it: ``instrument`` (what ran
on which thread, when, at what CPU cost), ``workloads`` (what is measured), ``isolation`` (fresh
interpreters under a watchdog), ``verdicts`` (the claims and their rules), ``show`` (tables,
charts, live displays, panels), ``experiments`` (runs several lessons share), ``lessons`` (one
per notebook); the scorecard and the command line sit on top.

Import it before TensorFlow: the threads that exist at import time become the "kernel/ui"
baseline from which every later thread is told apart by id.

Example:
    >>> import fitscope
    >>> fitscope.__version__
    '0.2.0'
"""

from __future__ import annotations

from fitscope.diagnose import diagnose
from fitscope.instrument.bounds import Bounds, bounds
from fitscope.instrument.budget import CpuBudget, cpu_budget
from fitscope.instrument.environment import environment_facts, environment_line, quick_mode
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import ProcessOutcome, RunResult
from fitscope.instrument.sampling import Sampler
from fitscope.instrument.threads import ThreadRoles
from fitscope.instrument.tracing import Span, Tracer
from fitscope.show.ipython import install_ipython_handler

__version__ = "0.2.0"
__all__ = [
    "Bounds",
    "CpuBudget",
    "bounds",
    "cpu_budget",
    "diagnose",
    "environment_facts",
    "environment_line",
    "quick_mode",
    "FitscopeInputError",
    "ProcessOutcome",
    "RunResult",
    "Sampler",
    "ThreadRoles",
    "Span",
    "Tracer",
]

install_ipython_handler()
