"""Isolation: experiments that change process-wide settings run in a fresh interpreter.

:mod:`sandbox` starts one (``run_python``), :mod:`watch` keeps a watchdog and a memory cap on its
whole process tree and stops what is left, :mod:`outcome` says how each process ended and reads
the run's result (``read_result``: the file, or why the run did not finish); :mod:`template` forks
runs from an interpreter that has only imported TensorFlow or Keras, so they skip that import, and
:mod:`forked` is that interpreter's side, with what a forked run restores (``LIKE_FRESH``);
:mod:`reaper` kills a run's processes if the kernel dies; :mod:`launcher` records a run of several
processes. Nothing here draws: a caller watches a run through ``on_poll``.

Example:
    >>> from fitscope.isolation import run_python
    >>> run_python(code="print('hi')").stdout.strip()
    'hi'
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "launcher": (
            "Limits",
            "ProcessRecorder",
            "growth_per_s",
            "sandbox_facts",
            "launcher_outcomes",
            "peak_memory_bytes",
            "cost_of",
        ),
        "forked": ("LIKE_FRESH", "NOT_LIKE_FRESH"),
        "outcome": ("read_result", "why_not_finished"),
        "reaper": (
            "SHM_PATTERNS",
            "session_members",
            "shm_entries",
            "remove_new_shm",
            "kill_session",
        ),
        "sandbox": (
            "report",
            "run_python",
            "SandboxResult",
            "Progress",
            "exceptions_in",
            "MESSAGE_PREFIX",
        ),
        "template": (
            "LATE_ENV",
            "TENSORFLOW",
            "KERAS",
            "preloaded",
            "close_template",
        ),
    },
)
