"""Keras 3's backends side by side: the same generator and model on TensorFlow, JAX and PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is imported, and the learner's kernel is bound to
TensorFlow. So each backend runs notebook 01b's script (``one_backend.py``, written by its
``%%writefile`` cell; with no file given, that cell's text read from the notebook) in a fresh
interpreter through the sandbox, all of its variants in one interpreter (start-up costs seconds),
one backend at a time (memory). The script measures with
:mod:`fitscope.isolation.scripts.backend_fit`; the results come back as ordinary RunResults, so the
plots, the panel, JSON and pooled class results work on them unchanged.

A backend that is not installed gives one sentence (:func:`not_installed_sentence`), never a
verdict built on nothing.

Example:
    >>> BackendParams(steps=8).steps
    8
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitscope.instrument.backends import (
    BACKENDS,
    LABELS,
    BackendNotInstalled,
    check_backend,
    installed_line,
    is_installed,
    not_installed_sentence,
)
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_choice, check_int, check_positive
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.tracing import Tracer
from fitscope.isolation import KERAS, Progress, run_python
from fitscope.isolation.scripts import script_file

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
]

NOTEBOOK, SCRIPT = "01b_which_backend.ipynb", "one_backend.py"
GRAIN = "Grain threads"
VARIANTS = ("waiting", "pure Python", "waiting + loss read", "PyDataset threads", GRAIN)
"""The variants the readings read, by the names the script's ``VARIANTS`` gives them (it says
what each one is)."""
C12_KINDS = VARIANTS[:3]
GRAIN_ON = ("jax",)
"""The backends whose run measures Grain unless asked: Grain is JAX's input pipeline (Keras takes
it on every backend; the panel can run it on any)."""


def default_variants(backend: str) -> tuple[str, ...]:
    """The variants :func:`measure` runs on ``backend`` when none are named.

    Example:
        >>> GRAIN in default_variants("jax"), GRAIN in default_variants("tensorflow")
        (True, False)
    """
    return tuple(v for v in VARIANTS if v != GRAIN or backend in GRAIN_ON)


@dataclass(frozen=True)
class BackendParams:
    """The workload every backend trains on, validated on construction.

    ``ms_per_batch`` 0 means "one training step, as measured on this backend": where overlapping
    data with training helps most.
    """

    steps: int = 40
    width: int = 1024
    batch_size: int = 256
    workers: int = 2
    ms_per_batch: float = 0.0

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 3, 100_000)
        check_int("model width", self.width, 0, 4096)
        check_int("batch size", self.batch_size, 1, 8192)
        check_int("workers", self.workers, 1, 16)
        if self.ms_per_batch != 0:
            check_positive("ms per batch", self.ms_per_batch, maximum=1000)

    @classmethod
    def default(cls, **overrides: Any) -> BackendParams:
        """Defaults sized for the mode: quick mode (CI) shrinks steps, never the logic."""
        return cls(**{"steps": 16 if quick_mode() else 24, **overrides})

    def args(self) -> list[str]:
        return [
            "--steps",
            str(self.steps),
            "--width",
            str(self.width),
            "--batch",
            str(self.batch_size),
            "--workers",
            str(self.workers),
            "--batch-ms",
            str(self.ms_per_batch),
        ]


@dataclass
class BackendRuns(ShowsItself):
    """All variants measured on one backend in one fresh interpreter, by variant name."""

    backend: str
    device: str
    version: str
    import_s: float
    startup_s: float
    runs: dict[str, RunResult] = field(default_factory=dict)
    peak_memory_bytes: int = 0
    wall_s: float = 0.0
    preloaded: bool = False

    @property
    def label(self) -> str:
        return LABELS[self.backend]

    @property
    def step_ms(self) -> float:
        """The measured training step of the first variant run, in milliseconds."""
        return next(iter(self.runs.values())).facts["step_ms"]

    def table(self) -> Table:
        rows = []
        for name, r in self.runs.items():
            f, b = r.facts, r.bounds
            rows.append(
                [
                    name,
                    f"{f['next_calls_on_main']} of {f['next_calls_total']}",
                    f["next_threads"],
                    f"{f['callbacks_on_main']} of {f['callbacks_total']}",
                    f"{f['step_ms']:.1f}",
                    f"{f['batch_ms']:.1f}",
                    f"{r.throughput.elapsed_s:.2f}",
                    f"{b.overlapped_s:.2f}" if b else "",
                    f"{b.sequential_s:.2f}" if b else "",
                ]
            )
        head = [
            "variant",
            "next() on main",
            "next() threads",
            "callbacks on main",
            "step ms",
            "batch ms",
            "measured s",
            "overlapped s",
            "one after the other s",
        ]
        return Table(
            head,
            rows,
            reading=self.reading(),
            title=f"{self.label} {self.version} backend on {self.device}",
        )

    def reading(self) -> str:
        """One sentence from this run's own numbers: start-up, memory, and who called next()."""
        first = self.runs.get("waiting") or next(iter(self.runs.values()))
        f = first.facts
        imported = (
            f"importing Keras took {self.import_s:.1f} s, once, in the template "
            "interpreter this run was forked from"
            if self.preloaded
            else f"importing Keras took {self.import_s:.1f} s"
        )
        return (
            f"{self.label} {self.version} on {self.device}: {imported}; the run was ready to "
            f"train {self.startup_s:.1f} s after it started and peaked at "
            f"{self.peak_memory_bytes / 2**20:.0f} MiB; with the plain generator, "
            f"{f['next_calls_on_main']} of {f['next_calls_total']} next() calls ran on the main "
            "thread."
        )


def measure(
    backend: str,
    params: BackendParams | None = None,
    *,
    script: str | Path | None = None,
    variants: Sequence[str] | None = None,
    say: Callable[[str], None] | None = print,
    live: Any = None,
    time_budget_s: float | None = None,
    timeout_s: float = 240.0,
    memory_cap_mb: float = 1200.0,
) -> BackendRuns:
    """Measure ``variants`` on ``backend`` in one fresh interpreter with ``KERAS_BACKEND`` set,
    running ``script`` (the file 01b's ``%%writefile one_backend.py`` cell wrote; with None, that
    cell's text read from the notebook); ``variants`` by default :func:`default_variants`.

    ``say`` gets a line as each variant starts (progress); ``live`` (a panel's live display)
    gets every step. Each variant stops after ``time_budget_s`` seconds of training (by default
    4 in quick mode, 8 in full mode), so a crowded machine trains fewer steps rather than keeping
    a learner waiting; the bounds then count the steps that ran. Raises FitscopeInputError with
    one sentence for an unknown or missing backend.
    """
    check_backend(backend)
    p = params or BackendParams.default()
    variants = default_variants(backend) if variants is None else tuple(variants)
    if time_budget_s is None:
        time_budget_s = 4.0 if quick_mode() else 8.0
    check_positive("time budget (s)", time_budget_s, maximum=3600)
    for v in variants:
        check_choice("variant", v, tuple(VARIANTS))
    tracer = Tracer()

    def on_poll(progress: Progress) -> None:
        for m in progress.new_messages:
            event = m.get("event")
            if event == "ready" and say:
                say(
                    f"{LABELS[backend]}: ready to train {m['startup_s']:.1f} s after the run "
                    f"started, computing on {m['device']}"
                )
            elif event == "variant" and say:
                say(f"{LABELS[backend]}: measuring '{m['name']}' ({m['index']} of {len(variants)})")
            elif live is not None and event == "start":
                live.start(tracer, m["total"], m["bound_rate"], m["sequential_rate"])
            elif live is not None and event == "step":
                live.step()
            elif live is not None and event == "finish":
                live.finish()

    with (
        tempfile.TemporaryDirectory(prefix="fitscope-backend-") as tmp,
        script_file(script, NOTEBOOK, SCRIPT) as path,
    ):
        out = os.path.join(tmp, "runs.json")
        args = [*p.args(), "--out", out, "--variants", ",".join(variants)]
        args += ["--time-budget", str(time_budget_s)]
        if live is not None:
            args.append("--live")
        run = run_python(
            path,
            args=args,
            env={"KERAS_BACKEND": backend},
            timeout_s=timeout_s,
            memory_cap_mb=memory_cap_mb,
            on_poll=on_poll,
            preload=KERAS,
        )
        if not os.path.exists(out):
            why = run.exceptions[-1][1] if run.exceptions else run.root.how
            raise RuntimeError(f"the {LABELS[backend]} experiment did not finish: {why}")
        with open(out) as f:
            data = json.load(f)
    runs = {}
    for name, d in data["runs"].items():
        r = RunResult.from_dict(d)
        r.outcomes = run.outcomes
        r.facts["sandbox_peak_memory_bytes"] = run.peak_memory_bytes
        runs[name] = r
    return BackendRuns(
        data["backend"],
        data["device"],
        data["version"],
        data["import_s"],
        data["startup_s"],
        runs,
        run.peak_memory_bytes,
        run.wall_s,
        data.get("preloaded", False),
    )


def measure_or_say(
    backend: str, say: Callable[[str], None] = print, **kwargs: Any
) -> BackendRuns | None:
    """:func:`measure`, or None after saying the one sentence when the backend is not installed."""
    if not is_installed(backend):
        say(not_installed_sentence(backend))
        return None
    return measure(backend, say=say, **kwargs)


def by_backend(*measured: BackendRuns | None) -> dict[str, BackendRuns]:
    """The backends that were measured, by name (``None`` for one that was not installed is left
    out)."""
    return {runs.backend: runs for runs in measured if runs is not None}
