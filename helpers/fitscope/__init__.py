"""fitscope: measure which OS thread does what when Keras trains a model.

Import it before TensorFlow: the threads that exist at import time become the "kernel/ui"
baseline from which every later thread is told apart by id.

Example:
    >>> import fitscope
    >>> fitscope.__version__
    '0.1.0'
"""

from __future__ import annotations

from .budget import Bounds, CpuBudget, bounds, cpu_budget
from .environment import environment_facts, environment_line, quick_mode
from .errors import FitscopeInputError, install_ipython_handler
from .result import ProcessOutcome, RunResult
from .sampling import Sampler
from .threads import ThreadRoles
from .tracing import Span, Tracer

__version__ = "0.1.0"
__all__ = ["Bounds", "CpuBudget", "bounds", "cpu_budget", "environment_facts", "environment_line",
           "quick_mode", "FitscopeInputError", "ProcessOutcome", "RunResult", "Sampler",
           "ThreadRoles", "Span", "Tracer"]

install_ipython_handler()

