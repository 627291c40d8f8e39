"""The article's generator fit, measured: the run lessons 00, 01 and 02 share.

:func:`generator_fit` trains the article's model from a traced Python data source (the plain
generator, or Keras 3's ``PyDataset`` with worker threads or processes) and returns a
:class:`~fitscope.instrument.result.RunResult` with every ``next()`` and train step traced and
per-thread CPU sampled; :func:`fit_in_sandbox` runs it in a fresh interpreter with another
TensorFlow configuration or start method.

Example:
    >>> GeneratorFitParams.default(steps=10).steps
    10
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from fitscope.experiments.traced import traced_fit
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice, check_int, check_positive
from fitscope.instrument.measure import Live
from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import thread_ids
from fitscope.instrument.threads import ThreadRoles
from fitscope.instrument.tracing import Tracer
from fitscope.isolation.sandbox import Progress, report, run_python
from fitscope.isolation.template import TENSORFLOW
from fitscope.workloads.article import (
    FEATURES,
    WORK_KINDS,
    article_model,
    batch_work,
    random_batches,
)

__all__ = [
    "SOURCES",
    "GENERATOR",
    "PYDATASET_THREADS",
    "PYDATASET_PROCESSES",
    "GeneratorFitParams",
    "generator_fit",
    "fit_in_sandbox",
]

GENERATOR, PYDATASET_THREADS, PYDATASET_PROCESSES = (
    "generator",
    "PyDataset threads",
    "PyDataset processes",
)
SOURCES = (GENERATOR, PYDATASET_THREADS, PYDATASET_PROCESSES)


def _knob(
    default: Any, label: str, low: float = 1, high: float = 0, choices: tuple[str, ...] = ()
) -> Any:
    """A workload field with its label (shown on the panel and in error sentences) and its range."""
    return field(default=default, metadata=dict(label=label, low=low, high=high, choices=choices))


@dataclass(frozen=True)
class GeneratorFitParams:
    """The workload of :func:`generator_fit`, validated on construction; the panel's controls.

    ``source`` is the article's plain generator, or a ``PyDataset`` whose ``workers`` are threads
    or processes (processes always run in a fresh interpreter, never forked from the kernel).
    ``ms_per_batch`` 0 makes batches free; ``width`` 0 is the article's single Dense unit.
    """

    source: str = _knob(GENERATOR, "data source", choices=SOURCES)
    kind: str = _knob("sleep", "data work", choices=WORK_KINDS)
    ms_per_batch: float = _knob(2.0, "ms per batch", 0, 1000)
    workers: int = _knob(1, "workers (PyDataset)", 1, 16)
    batch_size: int = _knob(32, "batch size", 1, 8192)
    width: int = _knob(0, "model width (0 = Dense(1))", 0, 4096)
    steps: int = _knob(100, "steps per epoch", 3, 100_000)
    epochs: int = _knob(2, "epochs", 1, 1000)

    def __post_init__(self) -> None:
        for f in fields(self):
            value, m = getattr(self, f.name), f.metadata
            if m["choices"]:
                check_choice(m["label"], value, m["choices"])
            elif isinstance(f.default, float) and value != 0:
                check_positive(m["label"], value, maximum=m["high"])
            elif not isinstance(f.default, float):
                check_int(m["label"], value, m["low"], m["high"])
        if self.source == GENERATOR and self.workers != 1:
            raise FitscopeInputError(
                "a plain generator has one producer: choose a PyDataset source "
                "for more than 1 worker."
            )

    @classmethod
    def controls(cls) -> list[Any]:
        """One panel control per field, labelled as in error sentences, at its default."""
        from fitscope.show.panels import Control

        d = cls.default()
        return [
            Control(
                f.name,
                f.metadata["label"],
                getattr(d, f.name),
                "choice"
                if f.metadata["choices"]
                else "float"
                if isinstance(f.default, float)
                else "int",
                f.metadata["choices"],
            )
            for f in fields(cls)
        ]

    @classmethod
    def default(cls, **overrides: Any) -> GeneratorFitParams:
        """Defaults sized for the mode: quick mode (CI) shrinks steps, never the logic."""
        base = {"steps": 30, "epochs": 2} if quick_mode() else {"steps": 60, "epochs": 2}
        return cls(**{**base, **overrides})


def generator_fit(
    params: GeneratorFitParams | None = None,
    *,
    live: Live | None = None,
    time_budget_s: float | None = None,
    **overrides: Any,
) -> RunResult:
    """Train the article's model from a traced Python data source and measure who did what.

    Costs are measured up front on this machine (producer alone on one thread, one train step
    alone) to draw the bounds; then ``fit`` runs with every ``next()`` (or ``__getitem__``) and
    step traced and per-thread CPU sampled. Throughput counts from the end of the first step (so
    tracing the train function is left out) to the end of the last. A PyDataset with worker
    processes runs through :func:`fit_in_sandbox`.
    """
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    p = params or GeneratorFitParams.default(**overrides)
    if p.source == PYDATASET_PROCESSES:
        return fit_in_sandbox(p, live=live, time_budget_s=time_budget_s)
    return _fit_here(p, live, time_budget_s)


def _fit_here(p: GeneratorFitParams, live: Live | None, time_budget_s: float | None) -> RunResult:
    name = f"{p.source} → fit ({p.kind}, {p.ms_per_batch:g} ms/batch" + (
        f", {p.workers} workers)" if p.source != GENERATOR else ")"
    )
    with traced_fit(live, time_budget_s, name, **vars(p)) as traced:
        model = article_model(p.width)
        model.fit(
            _data_source(p), steps_per_epoch=p.steps, epochs=p.epochs, verbose=0, shuffle=False
        )
        model = None
    return traced.finished()


def _data_source(p: GeneratorFitParams) -> Any:
    if p.source == GENERATOR:
        return random_batches(p.batch_size, work=batch_work(p.kind, p.ms_per_batch))
    from fitscope.workloads.pydatasets import CostlyBatches

    return CostlyBatches(
        p.steps,
        p.batch_size,
        FEATURES,
        p.kind,
        p.ms_per_batch,
        workers=p.workers,
        use_multiprocessing=p.source == PYDATASET_PROCESSES,
    )


def own_roles() -> None:
    """In a process forked from the template interpreter, name this process's threads: the
    roles taken when fitscope was imported there hold the template's main thread id (Python
    keeps ``threading.main_thread().native_id`` from before the fork), so the main thread's
    ``next()`` calls and CPU went unnamed. Call it on the main thread, before the run."""
    roles = ThreadRoles.current()
    roles.main = threading.get_native_id()
    roles.baseline = set(thread_ids())  # after a fork, only this thread


class _ReportSteps:
    """The :class:`Live` of a sandboxed run: it reports the bounds and every step to the parent."""

    def start(
        self,
        tracer: Tracer,
        total_steps: int,
        bound_rate: float | None,
        sequential_rate: float | None,
    ) -> None:
        report(
            event="start", total=total_steps, bound_rate=bound_rate, sequential_rate=sequential_rate
        )

    def step(self) -> None:
        report(event="step")

    def finish(self) -> None:
        report(event="finish")


_SANDBOX_CODE = """\
import multiprocessing
import multiprocessing.forkserver
if __name__ == "__main__":
    multiprocessing.set_start_method({method!r})
    if {early_forkserver!r}:  # worker processes to come: the fork server imports their modules
        multiprocessing.set_forkserver_preload(["fitscope.workloads.pydatasets"])
        multiprocessing.forkserver.ensure_running()  # now: it imports while this process sets up
    import fitscope
    from fitscope.experiments.article_fit import GeneratorFitParams, _fit_here, _ReportSteps
    from fitscope.experiments.article_fit import own_roles
    own_roles()  # forked from the template: its main thread, not the template's
    for i, params in enumerate({params!r}):
        _fit_here(GeneratorFitParams(**params), _ReportSteps(),
        {time_budget_s!r}).save(f"{out}{{i}}")
"""


def fit_in_sandbox(
    params: GeneratorFitParams | list[GeneratorFitParams] | None = None,
    *,
    intra_op_threads: int | None = None,
    start_method: str = "forkserver",
    live: Live | None = None,
    time_budget_s: float | None = None,
    timeout_s: float = 300.0,
    memory_cap_mb: float = 1800.0,
    **overrides: Any,
) -> Any:
    """:func:`generator_fit` in a fresh interpreter with its own TensorFlow configuration.

    ``intra_op_threads`` is set as TF_NUM_INTRAOP_THREADS before TensorFlow first runs; worker
    processes of a PyDataset start with ``start_method`` (forkserver by default: no process with
    TensorFlow's threads running is ever forked; the kernel never is). The sandbox's watchdog
    (``timeout_s``) and memory cap (whole tree) apply; how each process ended is in
    ``result.outcomes``. A ``live`` display gets the child's steps as they are reported. Given a
    list of params, one interpreter runs them all, one after the other, and a list comes back.

    Example:
        >>> r = fit_in_sandbox(intra_op_threads=1, steps=10, epochs=1)   # doctest: +SKIP
        >>> r.facts["intra_op_threads"]                                   # doctest: +SKIP
        1
    """
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    many = isinstance(params, list)
    ps: list[GeneratorFitParams] = (
        params if isinstance(params, list) else [params or GeneratorFitParams.default(**overrides)]
    )
    check_choice("start method", start_method, ("spawn", "forkserver", "fork"))
    env = {}
    if intra_op_threads is not None:
        env["TF_NUM_INTRAOP_THREADS"] = str(check_int("intra-op threads", intra_op_threads, 1, 256))
    tracer = Tracer()

    def on_poll(progress: Progress) -> None:
        if live is None:
            return
        for m in progress.new_messages:
            if m.get("event") == "start":
                live.start(tracer, m["total"], m["bound_rate"], m["sequential_rate"])
            elif m.get("event") in ("step", "finish"):
                getattr(live, m["event"])()

    with tempfile.TemporaryDirectory(prefix="fitscope-fit-") as tmp:
        out = os.path.join(tmp, "result")
        workers = start_method == "forkserver" and any(p.source == PYDATASET_PROCESSES for p in ps)
        code = _SANDBOX_CODE.format(
            method=start_method,
            params=[vars(p) for p in ps],
            out=out,
            time_budget_s=time_budget_s,
            early_forkserver=workers,
        )
        run = run_python(
            code=code,
            env=env,
            timeout_s=timeout_s,
            memory_cap_mb=memory_cap_mb,
            on_poll=on_poll,
            preload=TENSORFLOW,
        )
        results = []
        for i in range(len(ps)):
            if not os.path.exists(f"{out}{i}"):
                why = run.exceptions[-1][1] if run.exceptions else run.root.how
                raise RuntimeError(f"the sandboxed run did not finish: {why}")
            with open(f"{out}{i}") as f:
                results.append(RunResult.from_dict(json.load(f)))
    for result in results:
        result.outcomes = run.outcomes
        result.facts.update(
            intra_op_threads=intra_op_threads,
            sandbox_peak_memory_bytes=run.peak_memory_bytes,
            sandbox_wall_s=run.wall_s,
        )
        result.name += " in a fresh interpreter" + (
            f", {intra_op_threads} intra-op thread(s)" if intra_op_threads else ""
        )
    return results if many else results[0]
