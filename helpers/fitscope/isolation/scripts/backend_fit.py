"""What notebook 01b's backend script measures with: who called next(), who ran the callbacks.

The script (``one_backend.py``, written by a ``%%writefile`` cell of 01b) holds the lesson: the
generator, the model, ``fit``, the loss-reading callback, the ``PyDataset`` and the variants. It
runs in a fresh interpreter with ``KERAS_BACKEND`` set, started by
:func:`fitscope.lessons.backends.measure`, and measures each variant with this module, which
builds and trains no model:

- :class:`BackendMeasurement` takes the thread baseline, says when the model is ready (the step
  it times alone), and writes every variant's :class:`~fitscope.instrument.result.RunResult` as
  JSON;
- :class:`VariantRun` times one step and one batch alone right before a variant (the bounds), wraps
  the data source so each ``next()`` or ``__getitem__`` is a span on the thread that ran it, times
  each step from its begin callback to its end callback (:attr:`VariantRun.step_spans`), samples
  per-thread CPU while ``fit`` runs, and names each thread's role.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fitscope.core.estimate import per_call
from fitscope.instrument.bounds import Bounds, bounds
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import Sampler, thread_ids
from fitscope.instrument.threads import FITSCOPE, MAIN, TF_CREATED, TF_DATA, ThreadRoles
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Span, Tracer, os_thread_name
from fitscope.isolation import preloaded, report

__all__ = ["BackendMeasurement", "VariantRun"]

CALLBACK_THREADS = "Keras callback threads"
MIN_STEPS = 8  # a time budget never cuts a run below this: C1 needs 5 next() calls after the peek
PYDATASET_THREADS = "PyDataset worker threads (ran Python)"
GRAIN_THREADS = "Grain prefetch threads (ran Python)"


def _device(backend: str) -> str:
    """The device the backend computes on: "CPU", or "GPU (<name>)" when it found one."""
    if backend == "jax":
        import jax

        d = jax.devices()[0]
        return "CPU" if d.platform == "cpu" else f"GPU ({d.device_kind})"
    if backend == "torch":
        import torch

        return f"GPU ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ({gpus[0].name})" if gpus else "CPU"


def _version(backend: str) -> str:
    from importlib import metadata

    names = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "jax": ("jax",), "torch": ("torch",)}
    for dist in names[backend]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def _process_age_s() -> float:
    """Seconds since this process started (or was forked from a template)."""
    import psutil

    return time.time() - psutil.Process().create_time()


class BackendMeasurement:
    """One backend's runs in this interpreter: made before the model, so the threads present
    then are the baseline; :meth:`ready` once the model has trained a first step."""

    def __init__(self, live: bool = False) -> None:
        import keras

        self.live = live
        self.roles = ThreadRoles.snapshot()
        # Forked from a template, Python keeps main_thread().native_id from before the fork.
        self.roles.main = threading.get_native_id()
        self.backend: str = keras.backend.backend()
        self.device = _device(self.backend)
        template = preloaded()  # forked from a template: Keras was imported there, once
        self.preloaded = bool(template)
        self.import_s = template["import_s"] if template else _process_age_s()
        self.startup_s = 0.0
        self.backend_tids: set[int] = set()
        self.step: Callable[[], object] = lambda: None
        self.runs: dict[str, RunResult] = {}

    def ready(self, step: Callable[[], object], batch_ms: float = 0.0) -> float:
        """Say the model is ready to train (``step`` trains one step alone, already compiled);
        return ``batch_ms``, or with 0, one step's measured milliseconds."""
        self.step = step
        self.backend_tids = set(thread_ids()) - self.roles.baseline
        self.startup_s = _process_age_s()
        report(event="ready", backend=self.backend, device=self.device, startup_s=self.startup_s)
        return batch_ms or round(1e3 * per_call(step, 8)[0], 2)

    def variant(
        self, name: str, work: Callable[[], None], steps: int, time_budget_s: float = 0.0
    ) -> VariantRun:
        """Variant ``name``, whose batches each call ``work``: times one step and one batch alone
        now, so a machine whose load changes between variants gets bounds of its own moment. With
        a time budget, it trains only as many steps as fit in it one after the other, at those
        costs, but at least ``MIN_STEPS``."""
        report(event="variant", name=name, index=len(self.runs) + 1)
        return VariantRun(self, name, work, steps, time_budget_s)

    def save(self, path: str) -> None:
        """Write every variant's run, with this interpreter's start-up, as JSON to ``path``."""
        facts = dict(backend=self.backend, device=self.device, version=_version(self.backend))
        with open(path, "w") as f:
            json.dump(
                {
                    **facts,
                    "import_s": self.import_s,
                    "startup_s": self.startup_s,
                    "preloaded": self.preloaded,
                    "runs": {name: r.to_dict() for name, r in self.runs.items()},
                },
                f,
            )


class VariantRun:
    """One variant's run: its costs alone, its traced data, its step spans, its result."""

    def __init__(
        self,
        measurement: BackendMeasurement,
        name: str,
        work: Callable[[], None],
        steps: int,
        time_budget_s: float,
    ) -> None:
        self.m, self.name, self.steps_asked = measurement, name, steps
        self.budget = cpu_budget()
        self.t_c, self.cpu_c = per_call(measurement.step, 8, time.process_time)
        self.t_p, self.cpu_p = per_call(work, 5)
        self.steps = steps
        if time_budget_s:
            self.steps = min(steps, max(MIN_STEPS, int(time_budget_s / (self.t_p + self.t_c))))
        self.tracer = Tracer()
        on_step = (lambda: report(event="step")) if measurement.live else (lambda: None)
        from fitscope.core.clock import StepClock

        self.step_spans = StepClock(on_step=on_step)

    def traced(self, data: Any) -> Any:
        """``data`` with each ``next()`` (a generator), ``__getitem__`` (a ``PyDataset``) or call
        (a function that makes a batch, as a Grain pipeline maps it) recorded as a span on the
        thread that called it."""
        if isinstance(data, Iterator):
            return self.tracer.wrap_generator(data)
        if callable(data) and not hasattr(data, "__getitem__"):
            return self.tracer.traced(getattr(data, "__name__", "batch"), "generator")(data)
        cls = type(data)  # a subclass whose __getitem__ is a span on the thread that ran it
        traced = self.tracer.traced("__getitem__", "generator")(cls.__getitem__)
        data.__class__ = type(cls.__name__, (cls,), {"__getitem__": traced})
        return data

    def _bounds(self, n: int, workers: int) -> Bounds:
        t_p, t_c = n * self.t_p, n * self.t_c
        return bounds(t_p, t_c, workers, self.budget.cpus, n * self.cpu_p, n * self.cpu_c)

    @contextmanager
    def training(self, workers: int = 1, **params: Any) -> Iterator[None]:
        """Sample per-thread CPU while the ``with`` block trains; then keep the variant's
        :class:`RunResult`, with ``params`` (source, kind, width, batch_size, ...) and its facts.
        ``workers``: the threads that make batches (1 for a generator)."""
        if self.m.live:
            b = self._bounds(self.steps - 1, workers)
            report(
                event="start",
                total=self.steps,
                bound_rate=(self.steps - 1) / b.overlapped_s,
                sequential_rate=(self.steps - 1) / b.sequential_s,
            )
        with Sampler(interval_s=0.02) as sampler:
            yield
        if self.m.live:
            report(event="finish")
        self.m.runs[self.name] = self._result(sampler, workers, params)

    def _result(self, sampler: Sampler, workers: int, params: dict[str, Any]) -> RunResult:
        m, cb = self.m, self.step_spans
        ends = sorted(cb.ends, key=lambda e: e[1])
        spans = self.tracer.spans()
        for batch, end_ns, _, tid in cb.ends:
            name = threading.current_thread().name if tid == m.roles.main else ""
            spans.append(
                Span(
                    f"step {batch}",
                    "train",
                    cb.begins.get(batch, (end_ns, tid))[0],
                    end_ns,
                    tid,
                    name,
                    os_thread_name(tid),
                )
            )
        done = len(ends) - 1
        result = RunResult(
            name=f"{m.backend}: {self.name} ({params['source']}, "
            f"{params['ms_per_batch']:.1f} ms/batch)",
            params=dict(
                backend=m.backend,
                variant=self.name,
                **params,
                steps=self.steps,
                steps_asked=self.steps_asked,
                workers=workers,
            ),
            spans=spans,
            cpu=sampler.samples,
            budget=self.budget,
            bounds=self._bounds(done, workers) if done > 0 else None,
            environment=environment_facts(),
        )
        result.environment.update(
            device=m.device, backend=m.backend, backend_version=_version(m.backend), pid=os.getpid()
        )
        if done > 0:
            ends_ns = [e[1] for e in ends]
            result.throughput = throughput_from_ends(ends_ns[1:], params["batch_size"], ends_ns[0])
        self._name_roles(result, sampler)
        result.facts = self._facts(result)
        return result

    def _name_roles(self, result: RunResult, sampler: Sampler) -> None:
        """Each thread's role, by id: main, fitscope's sampler, the data's, the callbacks', the
        backend's own (present once the model was ready), or started during the run."""
        m, main = self.m, self.m.roles.main
        generator = result.params["source"] == "generator"
        data_role = TF_DATA if m.backend == "tensorflow" and generator else PYDATASET_THREADS
        data_role = GRAIN_THREADS if result.params["source"] == "Grain" else data_role
        backend_role = TF_CREATED if m.backend == "tensorflow" else f"threads {m.backend} created"
        known: list[tuple[set[Any], str]] = [
            ({main}, MAIN),
            ({sampler.samples.sampler_tid}, FITSCOPE),
            (self.tracer.tids("generator") - {main}, data_role),
            (set(self.step_spans.callback_tids) - {main}, CALLBACK_THREADS),
            (m.backend_tids, backend_role),
        ]
        tids = {s.tid for s in result.spans if s.tid is not None} | set(sampler.samples.cpu_ns)
        for tid in tids:
            roles = [role for group, role in known if tid in group]
            result.roles[tid] = roles[0] if roles else "started during the run"

    def _facts(self, result: RunResult) -> dict[str, Any]:
        """Who called next() (before and after Keras's peek), who ran the callbacks, the steps
        and the costs alone: what the lesson's readings and verdicts read."""
        from fitscope.core.peek import peeked_batches

        main = self.m.roles.main
        generator = result.params["source"] == "generator"
        peeked = peeked_batches() if generator else 0
        nexts = sorted(result.spans_of("generator"), key=lambda s: s.start_ns)
        after = nexts[peeked:]
        callbacks = self.step_spans.callback_tids
        steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
        return {
            "backend": self.m.backend,
            "device": self.m.device,
            "peeked": peeked,
            "peeked_on_main": sum(1 for s in nexts[:peeked] if s.tid == main),
            "next_calls_total": len(nexts),
            "next_calls_on_main": sum(1 for s in nexts if s.tid == main),
            "main_after_peek": sum(1 for s in after if s.tid == main),
            "total_after_peek": len(after),
            "next_threads": len({s.tid for s in nexts}),
            "callbacks_total": sum(callbacks.values()),
            "callbacks_on_main": callbacks.get(main, 0),
            "callback_threads": len(callbacks),
            "steps": len(steps),
            "overlapping_steps": sum(1 for a, b in zip(steps, steps[1:]) if b.start_ns < a.end_ns),
            "step_ms": 1e3 * self.t_c,
            "step_cpu_ms": 1e3 * self.cpu_c,
            "batch_ms": 1e3 * self.t_p,
            "batch_cpu_ms": 1e3 * self.cpu_p,
            "measured_s": result.throughput.elapsed_s,
        }
