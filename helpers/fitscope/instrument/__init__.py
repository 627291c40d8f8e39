"""The instrument: what ran on which OS thread, when, and how much CPU it took.

Spans per thread (:mod:`tracing`), per-thread CPU from each thread's own clock (:mod:`sampling`),
thread roles told apart by id (:mod:`threads`), throughput, the CPU budget B (:mod:`budget`), the
bounds model (:mod:`bounds`), the run scaffold every experiment uses (:mod:`measure`), the Keras
callback that traces steps, and :class:`RunResult`, what a run measured. Nothing here imports
IPython, ipywidgets or matplotlib; results show themselves as HTML tables (:mod:`tables`).

Example:
    >>> from fitscope.instrument import Tracer
    >>> with Tracer().span("load"):
    ...     pass
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "bounds": (
            "Bounds",
            "bounds",
            "overlapped_bound",
            "sequential_bound",
            "Stage",
            "peak_concurrency",
            "stage_bounds",
        ),
        "backends": (
            "BACKENDS",
            "LABELS",
            "BackendNotInstalled",
            "is_installed",
            "check_backend",
            "not_installed_sentence",
            "installed_line",
        ),
        "budget": (
            "CpuBudget",
            "OtherLoad",
            "cpu_budget",
        ),
        "checks": ("Checks",),
        "container": (
            "Throttling",
            "PoolUse",
            "cpu_stat_path",
            "throttling",
            "pool_use",
        ),
        "environment": (
            "quick_mode",
            "pinned_versions",
            "installed_version",
            "version_mismatches",
            "memory_limit_bytes",
            "environment_facts",
            "environment_line",
            "this_machine",
            "BACKEND_LABELS",
            "keras_backend",
            "on_backend",
        ),
        "errors": (
            "FitscopeInputError",
            "check_positive",
            "check_int",
            "check_choice",
        ),
        "measure": (
            "Live",
            "StepCosts",
            "MeasuredRun",
            "measured_run",
            "control_callback",
        ),
        "profiler": (
            "ProfilerThread",
            "ProfiledRun",
            "profiled",
            "host_threads",
            "side_by_side",
        ),
        "result": (
            "RunResult",
            "ProcessOutcome",
            "load_folder",
        ),
        "sampling": (
            "thread_clock_id",
            "thread_cpu_ns",
            "thread_ids",
            "rss_bytes",
            "tree_memory_bytes",
            "pss_bytes",
            "CpuSamples",
            "Sampler",
        ),
        "tables": (
            "Table",
            "ShowsItself",
            "Stack",
            "html_table",
            "text_table",
            "fmt",
        ),
        "threads": (
            "ThreadRoles",
            "MAIN",
            "KERNEL",
            "TF_DATA",
            "TF_CREATED",
            "FITSCOPE",
            "EARLIER",
            "LATER",
            "ROLE_ORDER",
        ),
        "throughput": (
            "Throughput",
            "throughput_from_ends",
        ),
        "tracing": (
            "Span",
            "Tracer",
            "graph_timed",
            "chrome_trace",
            "keras_frames",
            "os_thread_name",
        ),
    },
)
