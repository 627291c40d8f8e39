"""One Keras backend's experiment: who calls next(), who runs the callbacks, and does data overlap?

Runs in a fresh interpreter with ``KERAS_BACKEND`` set (Keras reads it once, at import), started
by :func:`fitscope.lessons.backends.measure`. Every variant trains the same model with ``fit`` for
``--steps`` steps from a traced data source whose batch costs about one measured training step:

- ``waiting``: a generator that sleeps (stands for I/O; releases the GIL);
- ``pure Python``: a generator that computes in Python (holds the GIL);
- ``waiting + loss read``: the waiting generator plus a callback that reads the loss every batch;
- ``PyDataset threads``: the same, but the batches come from a ``PyDataset`` with worker threads.

The code that is measured (the generator, the model, the ``fit`` call, the loss-reading
callback, the ``PyDataset``) is the learner's: with ``--code`` a JSON file of function sources
(:class:`fitscope.lessons.backends.Code`, written from notebook cells), run here in a namespace
that holds this interpreter's ``keras``, ``np`` and ``time``; without it, the package's own
(:data:`ROLES` says what each function takes). Each variant becomes a
:class:`~fitscope.instrument.result.RunResult` (spans, per-thread CPU, bounds); all of them are
written as JSON to ``--out``.

Example:
    $ KERAS_BACKEND=jax python -m fitscope.isolation.scripts.backend_fit --out /tmp/jax.json --steps
    16
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fitscope.instrument.bounds import bounds
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.measure import cost_per_call
from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import Sampler, thread_ids
from fitscope.instrument.threads import FITSCOPE, MAIN, TF_CREATED, TF_DATA, ThreadRoles
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Span, Tracer, os_thread_name
from fitscope.isolation.sandbox import report
from fitscope.isolation.template import preloaded
from fitscope.workloads.article import FEATURES, article_model, batch_work, random_batches

# name: (data source, kind of work, a callback reads the loss every batch)
VARIANTS: dict[str, tuple[str, str, bool]] = {
    "waiting": ("generator", "sleep", False),
    "pure Python": ("generator", "python", False),
    "waiting + loss read": ("generator", "sleep", True),
    "PyDataset threads": ("PyDataset threads", "sleep", True),
}
ROLES = {
    "generator": "generator(batch_size, work): yields (x, y) batches, calling work() for each",
    "model": "model(width): the compiled model",
    "fit": "fit(model, data, steps, callbacks): trains one epoch of steps batches",
    "loss_reader": "loss_reader(): a callback that reads the loss every batch",
    "pydataset": "pydataset(batches, batch_size, work, workers): a keras.utils.PyDataset",
}
"""The functions a backend experiment runs, by role, with what each takes and returns."""
CALLBACK_THREADS = "Keras callback threads"
MIN_STEPS = (
    8  # a time budget never cuts a run below this: C1 needs 5 next() calls after the 2 peeked
)
PYDATASET_THREADS = "PyDataset worker threads (ran Python)"


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


def _step_spans_callback(on_step: Any) -> Any:
    import keras

    class StepSpans(keras.callbacks.Callback):
        """Times each step from its begin callback to its end callback, on whatever thread ran them.

        ``async_safe``: where the backend allows it (JAX, PyTorch), Keras runs the end callback in
        a thread pool once the step's results exist, as it does its own callbacks, so this one does
        not force the loop to wait for each step.
        """

        def __init__(self) -> None:
            super().__init__()
            self.async_safe = True
            self.begins: dict[int, int] = {}
            self.ends: list[tuple[int, int, int]] = []  # (batch, end ns, tid); appends are atomic
            self.tids: list[int] = []

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            self.tids.append(threading.get_native_id())
            self.begins[batch] = time.perf_counter_ns()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            tid = threading.get_native_id()
            self.ends.append((batch, time.perf_counter_ns(), tid))
            self.tids.append(tid)
            on_step()

    return StepSpans()


def _loss_reader() -> Any:
    import keras

    class ReadLoss(keras.callbacks.Callback):
        """Reads the loss as a Python float after every batch (e.g. to log or plot it)."""

        def __init__(self) -> None:
            super().__init__()
            self.losses: list[float] = []

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.losses.append(float((logs or {}).get("loss", 0.0)))

    return ReadLoss()


def _fit(model: Any, data: Any, steps: int, callbacks: list[Any]) -> None:
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)


def _pydataset(batches: int, batch_size: int, work: Callable[[], None], workers: int) -> Any:
    from fitscope.workloads.pydatasets import CostlyBatches

    data = CostlyBatches(batches, batch_size, FEATURES, "sleep", 0.0, workers=workers)
    data._work = work  # the variant's calibrated cost, as a learner's PyDataset gets it (threads)
    return data


def load_code(path: str | None) -> dict[str, Callable[..., Any]]:
    """The functions of :data:`ROLES`: those whose sources ``path`` holds (JSON: ``{"sources":
    [...], "names": {role: name}}``, run in a namespace with this interpreter's ``keras``, ``np``
    and ``time``), and the package's own for every other role."""
    own: dict[str, Callable[..., Any]] = {
        "generator": lambda batch_size, work: random_batches(batch_size, FEATURES, work),
        "model": article_model,
        "fit": _fit,
        "loss_reader": _loss_reader,
        "pydataset": _pydataset,
    }
    if not path:
        return own
    import keras
    import numpy as np

    with open(path) as f:
        spec = json.load(f)
    namespace: dict[str, Any] = {"keras": keras, "np": np, "time": time}
    for source in spec["sources"]:
        exec(compile(source, "<notebook cell>", "exec"), namespace)  # the learner's own code
    return {**own, **{role: namespace[name] for role, name in spec["names"].items()}}


def run_variant(
    model: Any,
    name: str,
    backend: str,
    args: argparse.Namespace,
    step_alone: Callable[[], object],
    roles: ThreadRoles,
    backend_tids: set[int],
    live: bool,
    code: dict[str, Callable[..., Any]],
) -> RunResult:
    """Train ``args.steps`` steps from variant ``name``'s data source; measure and trace it.

    The costs behind the bounds (one step alone, one batch alone) are measured right before the
    run, so a machine whose load changes between variants still gets bounds of its own moment.
    With a time budget, the run trains only as many steps as fit in it one after the other, at
    those costs, but at least ``MIN_STEPS``: a crowded machine trains fewer steps. (Stopping ``fit``
    mid-epoch
    from an asynchronous callback instead made JAX read a deleted array: "Array has been deleted".)
    """
    source, kind, loss_read = VARIANTS[name]
    budget = cpu_budget()
    work = batch_work(kind, args.batch_ms)
    t_c, cpu_c = cost_per_call(step_alone, 8, time.process_time)
    step = {"t_c": t_c, "cpu_c": cpu_c}
    t_p, cpu_p = cost_per_call(work, 5)
    steps = args.steps
    if args.time_budget:
        steps = min(steps, max(MIN_STEPS, int(args.time_budget / (t_p + t_c))))
    tracer = Tracer()
    workers = args.workers if source != "generator" else 1
    if source == "generator":
        data: Any = tracer.wrap_generator(code["generator"](args.batch, work))
    else:
        data = code["pydataset"](steps, args.batch, work, workers)
        cls = type(data)  # a subclass whose __getitem__ is a span on the thread that ran it
        data.__class__ = type(
            cls.__name__,
            (cls,),
            {"__getitem__": tracer.traced("__getitem__", "generator")(cls.__getitem__)},
        )
    steps_cb = _step_spans_callback((lambda: report(event="step")) if live else (lambda: None))
    callbacks = [steps_cb] + ([code["loss_reader"]()] if loss_read else [])
    if live:
        n = steps - 1
        b = bounds(n * t_p, n * step["t_c"], workers, budget.cpus, n * cpu_p, n * step["cpu_c"])
        report(
            event="start",
            total=steps,
            bound_rate=n / b.overlapped_s,
            sequential_rate=n / b.sequential_s,
        )
    with Sampler(interval_s=0.02) as sampler:
        code["fit"](model, data, steps, callbacks)
    if live:
        report(event="finish")
    data = None

    ends = sorted(steps_cb.ends, key=lambda e: e[1])
    spans = tracer.spans()
    for batch, end_ns, tid in steps_cb.ends:
        start = steps_cb.begins.get(batch, end_ns)
        spans.append(
            Span(
                f"step {batch}",
                "train",
                start,
                end_ns,
                tid,
                threading.current_thread().name if tid == roles.main else "",
                os_thread_name(tid),
            )
        )
    done = len(ends) - 1
    b = bounds(
        done * t_p, done * step["t_c"], workers, budget.cpus, done * cpu_p, done * step["cpu_c"]
    )
    gen_tids = tracer.tids("generator") - {roles.main}
    cb_tids = set(steps_cb.tids) - {roles.main}
    tids = {s.tid for s in spans if s.tid is not None} | set(sampler.samples.cpu_ns)
    result = RunResult(
        name=f"{backend}: {name} ({source}, {args.batch_ms:.1f} ms/batch)",
        params=dict(
            backend=backend,
            variant=name,
            source=source,
            kind=kind,
            loss_read=loss_read,
            ms_per_batch=args.batch_ms,
            width=args.width,
            batch_size=args.batch,
            steps=steps,
            steps_asked=args.steps,
            workers=workers,
        ),
        spans=spans,
        cpu=sampler.samples,
        budget=budget,
        bounds=b if done > 0 else None,
        environment=environment_facts(),
    )
    if done > 0:
        result.throughput = throughput_from_ends([e[1] for e in ends[1:]], args.batch, ends[0][1])
    data_role = TF_DATA if backend == "tensorflow" and source == "generator" else PYDATASET_THREADS
    for tid in tids:
        result.roles[tid] = (
            MAIN
            if tid == roles.main
            else FITSCOPE
            if tid == sampler.samples.sampler_tid
            else data_role
            if tid in gen_tids
            else CALLBACK_THREADS
            if tid in cb_tids
            else TF_CREATED
            if tid in backend_tids and backend == "tensorflow"
            else f"threads {backend} created"
            if tid in backend_tids
            else "started during the run"
        )
    result.facts = _facts(result, steps_cb, roles.main, step, t_p, cpu_p)
    return result


def _facts(
    result: RunResult, steps_cb: Any, main: int, step: dict[str, float], t_p: float, cpu_p: float
) -> dict[str, Any]:
    from keras.src.trainers.data_adapters import data_adapter_utils

    peeked = (
        data_adapter_utils.NUM_BATCHES_FOR_TENSOR_SPEC
        if result.params["source"] == "generator"
        else 0
    )
    nexts = sorted(result.spans_of("generator"), key=lambda s: s.start_ns)
    after = nexts[peeked:]
    callbacks = Counter(steps_cb.tids)
    steps = sorted(result.spans_of("train"), key=lambda s: s.start_ns)
    return {
        "backend": result.params["backend"],
        "device": result.environment.get("device", ""),
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
        "step_ms": 1e3 * step["t_c"],
        "step_cpu_ms": 1e3 * step["cpu_c"],
        "batch_ms": 1e3 * t_p,
        "batch_cpu_ms": 1e3 * cpu_p,
        "measured_s": result.throughput.elapsed_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fitscope.isolation.scripts.backend_fit")
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2, help="PyDataset worker threads")
    parser.add_argument("--batch-ms", type=float, default=0.0, help="0: one measured training step")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    parser.add_argument(
        "--time-budget", type=float, default=0.0, help="seconds per variant (0: none)"
    )
    parser.add_argument(
        "--live", action="store_true", help="report every step (for a live display)"
    )
    parser.add_argument("--code", default="", help="JSON of the learner's function sources")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]

    t0 = time.perf_counter()
    roles = ThreadRoles.snapshot()
    import keras

    template = preloaded()  # forked from a template: Keras was imported there, once
    import_s = template["import_s"] if template else time.perf_counter() - t0
    backend = keras.backend.backend()
    device = _device(backend)
    code = load_code(args.code)
    model = code["model"](args.width)
    x, y = next(code["generator"](args.batch, lambda: None))
    model.train_on_batch(x, y)  # builds and compiles the train step before anything is timed
    backend_tids = set(thread_ids()) - roles.baseline
    startup_s = time.perf_counter() - t0
    report(event="ready", backend=backend, device=device, startup_s=startup_s)
    if not args.batch_ms:
        args.batch_ms = round(1e3 * cost_per_call(lambda: model.train_on_batch(x, y), 8)[0], 2)

    runs = {}
    for i, name in enumerate(variants):
        report(event="variant", name=name, index=i + 1, of=len(variants))
        result = run_variant(
            model,
            name,
            backend,
            args,
            lambda: model.train_on_batch(x, y),
            roles,
            backend_tids,
            args.live,
            code,
        )
        result.environment.update(
            device=device, backend=backend, backend_version=_version(backend), pid=os.getpid()
        )
        result.facts["device"] = device
        runs[name] = result.to_dict()
    with open(args.out, "w") as f:
        json.dump(
            {
                "backend": backend,
                "device": device,
                "version": _version(backend),
                "import_s": import_s,
                "startup_s": startup_s,
                "preloaded": bool(template),
                "runs": runs,
            },
            f,
        )
    return 0


def _version(backend: str) -> str:
    from importlib import metadata

    for dist in {
        "tensorflow": ("tensorflow-cpu", "tensorflow"),
        "jax": ("jax",),
        "torch": ("torch",),
    }[backend]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "?"


if __name__ == "__main__":
    sys.exit(main())
