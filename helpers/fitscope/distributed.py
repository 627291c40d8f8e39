"""Beyond one process: the real engines for what the home-made trainer tried (notebook 04).

Each scenario runs TensorFlow only in sandboxed interpreters (:func:`fitscope.sandbox.run_python`):
a distribution strategy, logical devices and tf.data servers are fixed per process, so the
learner's kernel never even imports TensorFlow here. Every run has a wall-clock watchdog and a
memory cap; its processes are all stopped and checked gone.

- :func:`multiworker_training`: ``MultiWorkerMirroredStrategy`` with N worker processes on
  localhost (custom loop, or ``model.fit`` to show keras-team/keras#20585 as measured); the
  workers' weight checksums decide claim C9 (:func:`c9_verdict`).
- :func:`mirrored_training`: ``MirroredStrategy`` over N logical CPU devices against one device.
- :func:`data_service`: a tf.data service dispatcher and workers against the local pipeline.

Example:
    >>> MultiWorkerParams(steps=10).workers
    2
    >>> r = multiworker_training(steps=10)              # doctest: +SKIP
    >>> c9_verdict(r).verdict                            # doctest: +SKIP
    'DOES NOT HOLD'
"""

from __future__ import annotations

import dataclasses
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from . import claims
from .budget import bounds, cpu_budget
from .environment import environment_facts, memory_limit_bytes, quick_mode
from .errors import FitscopeInputError, check_choice, check_int, check_positive
from .result import ProcessOutcome, RunResult
from .sandbox import Progress, SandboxResult, run_python

__all__ = ["MultiWorkerParams", "multiworker_training", "c9_verdict", "worker_table",
           "mirrored_training", "mirrored_reading", "data_service", "service_reading",
           "processes_mode_allowed", "PROCESSES_MODE_BYTES", "peak_memory_bytes", "WorkerProgress",
           "multiworker_panel"]

# Separate dispatcher, 2 workers and a client need about 2 GiB (FACTS.md): too much for Binder.
PROCESSES_MODE_BYTES = 2 * 2**30


def _run_module(module: str, args: Sequence[str], timeout_s: float, memory_cap_mb: float,
                on_poll: Callable[[Progress], None] | None = None,
                env: dict[str, str] | None = None) -> tuple[SandboxResult, float]:
    """Run ``fitscope.workers.<module>`` in the sandbox; also return its start as epoch seconds.

    ``env`` reaches every process of the run (e.g. ``{"TF_NUM_INTRAOP_THREADS": "1"}``).
    """
    code = f"import sys\nfrom fitscope.workers.{module} import main\nsys.exit(main())\n"
    started = time.time()
    r = run_python(code=code, args=[str(a) for a in args], env=env, timeout_s=timeout_s,
                   memory_cap_mb=memory_cap_mb, on_poll=on_poll)
    return r, started


def _outcomes(r: SandboxResult) -> list[ProcessOutcome]:
    """The sandbox's outcomes, with how each child ended as its launcher saw it."""
    ended = {m["child_pid"]: m for m in r.messages if m.get("event") == "child ended"}
    out = []
    for o in r.outcomes:
        m = ended.get(o.pid)
        if m is not None:
            o = dataclasses.replace(o, how=m["how"], exception=m["exception"],
                                    exit_code=m["exit_code"] if m["exit_code"] >= 0 else None,
                                    signal=-m["exit_code"] if m["exit_code"] < 0 else None)
        out.append(o)
    return out


def _sandbox_facts(r: SandboxResult) -> dict[str, Any]:
    return {"wall_s": r.wall_s, "stopped_by": r.stopped_by, "survivors": r.survivors,
            "leftovers_removed": r.leftovers_removed, "peak_memory_bytes": r.peak_memory_bytes,
            "peak_pss_bytes": max((b for _, b in r.pss), default=0),
            "processes": len(r.outcomes), "stderr_tail": r.stderr[-2000:]}


def peak_memory_bytes(*results: RunResult) -> dict[str, int]:
    """The kernel's own peak RSS, the largest peak of any sandboxed tree, and their sum.

    A tree's peak is the larger of its RssAnon + RssShmem (what the cap counts) and its PSS
    (shared libraries split between the processes that map them). The sandboxes run one after
    the other, so kernel + largest tree bounds the peak of the whole.
    """
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    trees = max((max(r.facts.get("peak_memory_bytes", 0), r.facts.get("peak_pss_bytes", 0))
                 for r in results), default=0)
    return {"kernel": kernel, "largest_tree": trees, "total": kernel + trees}


# -- MultiWorkerMirroredStrategy ----------------------------------------------------------------


@dataclass(frozen=True)
class MultiWorkerParams:
    """The workload of :func:`multiworker_training`, validated on construction.

    ``start`` workers are started of the ``workers`` the cluster lists (fewer: a peer is missing).
    ``loop`` is "custom" (a custom training loop) or "fit" (plain Keras ``model.fit``).
    """

    workers: int = 2
    steps: int = 40
    per_worker_batch: int = 32
    seeds: str = "different"
    loop: str = "custom"
    start: int | None = None
    collective_timeout_s: float = 30.0
    timeout_s: float = 90.0
    memory_cap_mb: float = 1800.0

    def __post_init__(self) -> None:
        check_int("workers", self.workers, 2, 3)
        check_int("steps", self.steps, 1, 100_000)
        check_int("per-worker batch", self.per_worker_batch, 1, 4096)
        check_choice("seeds", self.seeds, ("different", "same"))
        check_choice("loop", self.loop, ("custom", "fit"))
        if self.start is not None:
            check_int("workers started", self.start, 1, self.workers)
        check_positive("collective timeout (s)", self.collective_timeout_s, maximum=3600)
        check_positive("watchdog timeout (s)", self.timeout_s, maximum=3600)
        check_positive("memory cap (MB)", self.memory_cap_mb, maximum=64_000)

    @classmethod
    def default(cls, **overrides: Any) -> MultiWorkerParams:
        """Defaults sized for the mode: quick mode (CI) shrinks steps, never the logic."""
        return cls(**{"steps": 20 if quick_mode() else 100, **overrides})


def multiworker_training(params: MultiWorkerParams | None = None, *,
                         on_poll: Callable[[Progress], None] | None = None,
                         env: dict[str, str] | None = None, **overrides: Any) -> RunResult:
    """Train one model with MultiWorkerMirroredStrategy in ``workers`` processes on localhost.

    One sandbox runs a launcher that picks free ports, gives each worker its TF_CONFIG (RING
    collectives with ``collective_timeout_s``) and starts it as a child; the watchdog covers the
    whole tree, including a strategy constructor waiting silently for a peer that never comes.
    Facts: per worker its seed, weight checksums (own seed outside the strategy, after creation
    in its scope, after training), losses, error text if training failed; ``checksums`` (final,
    workers that finished) and ``identical``. ``env`` is added to every process's environment
    (e.g. ``{"TF_NUM_INTRAOP_THREADS": "1"}``, read by TensorFlow at import).
    """
    if params is not None and overrides:
        raise FitscopeInputError("give either params or keyword overrides, not both.")
    p = params or MultiWorkerParams.default(**overrides)
    start = p.workers if p.start is None else p.start
    args = ["launch", "--workers", p.workers, "--start", start, "--steps", p.steps,
            "--batch", p.per_worker_batch, "--seeds", p.seeds, "--loop", p.loop,
            "--collective-timeout", p.collective_timeout_s]
    r, started = _run_module("multiworker", args, p.timeout_s, p.memory_cap_mb, on_poll, env)
    per_worker: dict[int, dict[str, Any]] = {i: {"index": i, "events": []} for i in range(start)}
    for m in r.messages:
        if "index" in m and m["index"] in per_worker:
            w = per_worker[m["index"]]
            w["events"].append((m["event"], m["t"] - started))
            w.update({k: v for k, v in m.items() if k not in ("event", "t", "index")})
    ended = {m["name"]: m for m in r.messages if m.get("event") == "child ended"}
    launched = next((m for m in r.messages if m.get("event") == "launched"), {})
    for i, w in per_worker.items():
        w["worker_pid"] = launched.get("child_pids", [None] * start)[i]
        w["how"] = ended.get(f"worker {i}", {}).get("how", f"killed by {r.stopped_by}" if r.stopped_by
                                                    else "unknown")
        w["last_event"], w["last_event_s"] = w["events"][-1] if w["events"] else ("none", 0.0)
        w.pop("pid", None)
    workers = [per_worker[i] for i in sorted(per_worker)]
    checksums = [w["final_checksum"] for w in workers if "final_checksum" in w]
    errors = [w["error"] for w in workers if "error" in w]
    facts = {
        "workers": p.workers, "started": start, "loop": p.loop, "seeds": p.seeds,
        "per_worker": workers, "checksums": checksums,
        "identical": len(checksums) == start and len(set(checksums)) == 1,
        "seeds_differ": len({w.get("own_seed_checksum") for w in workers}) == len(workers),
        "initial_identical": len({w.get("initial_checksum") for w in workers}) == 1,
        "changed_by_training": all(w.get("final_checksum") not in (None, w.get("initial_checksum"))
                                   for w in workers),
        "trained": len(checksums), "error": errors[0] if errors else None,
        "error_frames": next((w["keras_frames"] for w in workers if "keras_frames" in w), []),
        "silent_s": (r.wall_s - max((w["last_event_s"] for w in workers), default=0.0)),
        **_sandbox_facts(r),
    }
    name = (f"MultiWorkerMirroredStrategy, {start} of {p.workers} workers, "
            f"{'custom loop' if p.loop == 'custom' else 'model.fit'}")
    return RunResult(name=name, params={**dataclasses.asdict(p), "env": env or {}}, outcomes=_outcomes(r),
                     budget=cpu_budget(), facts=facts, environment=environment_facts())


def c9_verdict(result: RunResult) -> claims.Verdict:
    """C9 from a :func:`multiworker_training` result: the workers' final weight checksums."""
    return claims.c9(result.facts["checksums"])


def worker_table(result: RunResult, digits: int = 12) -> str:
    """The workers' seeds and checksums side by side, as aligned text (one row per worker)."""
    rows = [("worker", "seed", "own-seed weights", "start (in strategy)", "after training", "ended")]
    for w in result.facts["per_worker"]:
        rows.append((str(w["index"]), str(w.get("seed", "?")),
                     *(w.get(k, "-")[:digits] for k in ("own_seed_checksum", "initial_checksum",
                                                         "final_checksum")), w["how"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(n) for c, n in zip(r, widths)).rstrip() for r in rows)


class WorkerProgress:
    """Live view of a multi-worker run in a panel: each worker's last event, step and loss.

    Fed by the sandbox's ``on_poll`` from the cell's thread. The counter line changes when a
    worker says something new, when a frame is drawn, or every ``min_interval_s``; a frame, the
    loss per worker so far as a PNG, is drawn every ``frame_interval_s`` at most, so drawing stays
    a small share.
    """

    def __init__(self, output: Any, counter: Any, min_interval_s: float = 1.0,
                 frame_interval_s: float = 2.0) -> None:
        self.output, self.counter, self.min_interval_s = output, counter, min_interval_s
        self.frame_interval_s = frame_interval_s
        self.last: dict[int, dict[str, Any]] = {}
        self.losses: dict[int, list[float]] = {}
        self._shown_at = -min_interval_s
        self._drawn_at = -frame_interval_s
        self.frames = 0
        self.pngs: list[bytes] = []
        self.step = 0

    def on_poll(self, progress: Progress) -> None:
        news = [m for m in progress.new_messages if "index" in m]
        for m in news:
            self.last[m["index"]] = m
            self.step = max(self.step, m.get("step", m.get("steps", 0)))
            if "loss" in m:
                self.losses.setdefault(m["index"], []).append(m["loss"])
        drawn = progress.t_s - self._drawn_at >= self.frame_interval_s
        if drawn:
            self._draw(progress.t_s)
        if not (news or drawn) and progress.t_s - self._shown_at < self.min_interval_s:
            return
        self._shown_at = progress.t_s
        parts = [f"worker {i}: {m['event']}" + (f" {m['step']}, loss {m['loss']:.4f}" if "loss" in m else "")
                 for i, m in sorted(self.last.items())]
        memory = sum(progress.memory_bytes.values()) / 2**20
        self.counter.value = " · ".join([f"frame {self.frames}", f"step {self.step}", *parts,
                                         f"{progress.t_s:.0f} s", f"{memory:.0f} MiB"])

    def _draw(self, t_s: float) -> None:
        from IPython.display import Image, display

        from .plots import loss_by_worker

        self._drawn_at = t_s
        live = RunResult(name=f"live, {t_s:.0f} s", facts={"per_worker": [
            {"index": i, "losses": losses} for i, losses in sorted(self.losses.items())]})
        png = loss_by_worker(live).png(dpi=60)
        self.output.clear_output(wait=True)
        with self.output:
            display(Image(data=png))
        self.frames += 1
        self.pngs.append(png)


def multiworker_panel(time_budget_s: float | None = None) -> Any:
    """An ExperimentPanel around :func:`multiworker_training`: workers, steps, batch, seeds, loop."""
    from .plots import loss_by_worker
    from .widgets import Control, ExperimentPanel

    d = MultiWorkerParams.default()

    def run(live: WorkerProgress, time_budget_s: float, **values: Any) -> RunResult:
        return multiworker_training(MultiWorkerParams(**values, timeout_s=time_budget_s),
                                    on_poll=live.on_poll)

    def summarise(r: RunResult) -> str:
        f = r.facts
        if f["error"]:
            return f"every worker failed: {f['error'][:120]}"
        return f"{f['trained']} of {f['workers']} workers trained; identical weights: {f['identical']}"

    return ExperimentPanel("MultiWorkerMirroredStrategy on localhost", [
        Control("workers", "workers (2 or 3)", d.workers),
        Control("steps", "steps", d.steps),
        Control("per_worker_batch", "per-worker batch", d.per_worker_batch),
        Control("seeds", "seeds", d.seeds, "choice", ("different", "same")),
        Control("loop", "training loop", d.loop, "choice", ("custom", "fit")),
    ], run, time_budget_s or (60.0 if quick_mode() else 120.0), summarise,
        live_display=WorkerProgress, charts_after=lambda r: [loss_by_worker(r)])


# -- MirroredStrategy over logical CPU devices --------------------------------------------------


def mirrored_training(devices: int = 2, steps: int | None = None, global_batch: int = 64,
                      width: int = 1024, timeout_s: float = 120.0,
                      memory_cap_mb: float = 1500.0) -> RunResult:
    """Train the same model from the same seed on one device, then MirroredStrategy on ``devices``.

    Each run is its own sandboxed process (logical devices are fixed per process), one after
    the other so they do not compete. Facts: steps/s, cores busy (process CPU / wall) and CPU per
    step of each, both final losses and checksums, and the largest weight difference.
    """
    check_int("logical devices", devices, 2, 8)
    steps = check_int("steps", steps if steps is not None else (40 if quick_mode() else 200), 3, 100_000)
    check_int("global batch", global_batch, devices, 8192)
    if global_batch % devices:
        raise FitscopeInputError(f"global batch must split evenly over {devices} devices, "
                                 f"not {global_batch}.")
    check_int("model width", width, 1, 4096)
    import numpy as np

    runs: dict[str, dict[str, Any]] = {}
    outcomes: list[ProcessOutcome] = []
    peak = 0
    with tempfile.TemporaryDirectory(prefix="fitscope-mirrored-") as tmp:
        weights = {}
        for label, n in (("one device", 1), (f"{devices} devices", devices)):
            out = Path(tmp) / f"{n}.npz"
            r, _ = _run_module("mirrored", ["--devices", n, "--steps", steps, "--batch", global_batch,
                                            "--width", width, "--out", out], timeout_s, memory_cap_mb)
            outcomes += r.outcomes
            peak = max(peak, r.peak_memory_bytes, max((b for _, b in r.pss), default=0))
            trained = next((m for m in r.messages if m.get("event") == "trained"), None)
            facts = {"how": r.root.how, "stopped_by": r.stopped_by, "survivors": r.survivors,
                     "wall_s": r.wall_s}
            if trained is None:
                raise RuntimeError(f"the {label} run did not finish ({r.root.how}): "
                                   f"{r.stderr[-500:]}")
            n_timed = trained["timed_steps"]
            facts.update(replicas=trained["replicas"], loss=trained["loss"], checksum=trained["checksum"],
                         steps_per_s=n_timed / trained["wall_s"],
                         cores_busy=trained["cpu_s"] / trained["wall_s"],
                         cpu_ms_per_step=1e3 * trained["cpu_s"] / n_timed)
            runs[label] = facts
            with np.load(out) as data:
                weights[label] = [data[k] for k in data.files]
        one, many = weights.values()
        max_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(one, many))
    single, multi = runs.values()
    facts = {"devices": devices, "steps": steps, "global_batch": global_batch, "runs": runs,
             "max_weight_difference": max_diff, "loss_difference": abs(single["loss"] - multi["loss"]),
             "speedup": multi["steps_per_s"] / single["steps_per_s"],
             "cpu_per_step_ratio": multi["cpu_ms_per_step"] / single["cpu_ms_per_step"],
             "peak_memory_bytes": peak, "survivors": [s for f in runs.values() for s in f["survivors"]]}
    return RunResult(name=f"MirroredStrategy over {devices} logical CPU devices against one device",
                     params=dict(devices=devices, steps=steps, global_batch=global_batch, width=width),
                     outcomes=outcomes, budget=cpu_budget(), facts=facts,
                     environment=environment_facts())


def _speed_word(ratio: float) -> str:
    return "slower" if ratio < 0.95 else "faster" if ratio > 1.05 else "about as fast"


def mirrored_reading(result: RunResult) -> str:
    """What a :func:`mirrored_training` run measured, in words built from its own numbers."""
    f = result.facts
    one, many = f["runs"].values()
    n, budget = f["devices"], result.budget.cpus if result.budget else 1.0
    ratio = f["cpu_per_step_ratio"]
    text = (f"With B = {budget:g}, {n} replicas ran {many['steps_per_s']:.1f} steps/s against "
            f"{one['steps_per_s']:.1f} on one device (x{f['speedup']:.2f}: {_speed_word(f['speedup'])}). "
            f"One device kept {one['cores_busy']:.2f} cores busy and {n} replicas {many['cores_busy']:.2f}: "
            f"logical devices are not cores, every replica's ops run on the same {budget:g} CPU(s). ")
    if ratio > 1.05:
        return text + (f"Each step cost x{ratio:.2f} the CPU ({many['cpu_ms_per_step']:.1f} ms against "
                       f"{one['cpu_ms_per_step']:.1f} ms): the same arithmetic in smaller pieces, plus "
                       "splitting each batch and summing the replicas' gradients.")
    return text + (f"Each step cost about the same CPU ({many['cpu_ms_per_step']:.1f} ms against "
                   f"{one['cpu_ms_per_step']:.1f} ms).")


# -- tf.data service ----------------------------------------------------------------------------


def processes_mode_allowed() -> tuple[bool, str]:
    """Whether the separate-processes mode of :func:`data_service` may run here, and why.

    Only outside quick mode, and only with PROCESSES_MODE_BYTES free under any cgroup limit,
    after what this kernel already uses (on Binder the limit covers the kernel too).
    """
    if quick_mode():
        return False, "quick mode runs the in-process mode only"
    available = psutil.virtual_memory().available
    limit = memory_limit_bytes()
    room = min(available, limit - psutil.Process().memory_info().rss) if limit else available
    if room < PROCESSES_MODE_BYTES:
        return False, (f"only {room / 2**30:.1f} GiB of memory is free; separate processes need "
                       f"about {PROCESSES_MODE_BYTES / 2**30:.0f} GiB")
    return True, f"{room / 2**30:.1f} GiB free"


def _tree_cpu_s(r: SandboxResult, started: float, end_epoch: float, wall_s: float) -> float:
    """CPU seconds the whole sandboxed tree used in the window ending at ``end_epoch``."""
    a, b = end_epoch - wall_s - started, end_epoch - started
    start: dict[int, float] = {}
    end: dict[int, float] = {}  # first sample at or after b; the last one of a process gone sooner
    done: set[int] = set()
    for t, per_pid in r.cpu:
        for pid, v in per_pid.items():
            if t <= a:
                start[pid] = v
            if pid not in done:
                end[pid] = v
                if t >= b:
                    done.add(pid)
    return sum(v - start.get(pid, 0.0) for pid, v in end.items())


def data_service(mode: str = "inprocess", elements: int | None = None, workers: int = 2,
                 size: int = 256, rounds: int = 32, timeout_s: float = 180.0,
                 memory_cap_mb: float | None = None) -> RunResult:
    """A compute-heavy map run locally, then through a tf.data service (dispatcher + workers).

    ``mode`` "inprocess" runs servers and client in one sandboxed interpreter; "processes" runs
    each server as its own process (about 2 GiB; see :func:`processes_mode_allowed`), stopped
    with SIGTERM at the end. Both runs are timed to the last element. The bound is
    :func:`fitscope.budget.bounds` for the local work shared over ``workers`` and the CPU budget.
    """
    check_choice("mode", mode, ("inprocess", "processes"))
    if mode == "processes":
        allowed, why = processes_mode_allowed()
        if not allowed:
            raise FitscopeInputError(f"the separate-processes mode cannot run here: {why}.")
    elements = check_int("elements", elements if elements is not None else (60 if quick_mode() else 200),
                         4, 100_000)
    check_int("workers", workers, 1, 4)
    check_int("matrix size", size, 8, 2048)
    check_int("rounds", rounds, 1, 1000)
    cap = memory_cap_mb or (1500.0 if mode == "inprocess" else 3500.0)
    args = [mode, "--workers", workers, "--elements", elements, "--size", size, "--rounds", rounds]
    r, started = _run_module("data_service", args, timeout_s, cap)
    got = {m["event"]: m for m in r.messages if m.get("event") in ("local", "service")}
    if set(got) != {"local", "service"}:
        raise RuntimeError(f"the tf.data service run did not finish ({r.root.how}, "
                           f"stopped by {r.stopped_by}): {r.stderr[-500:]}")
    budget = cpu_budget()
    local, service = got["local"], got["service"]
    for part in (local, service):
        part["tree_cpu_s"] = _tree_cpu_s(r, started, part["t"], part["wall_s"])
        # in-process, the process's own clock is exact; otherwise the servers' CPU counts too
        part["all_cpu_s"] = part["cpu_s"] if mode == "inprocess" else part["tree_cpu_s"]
        part["cores_busy"] = part["all_cpu_s"] / part["wall_s"]
        part["elements_per_s"] = part["elements"] / part["wall_s"]
        part["after_first_per_s"] = (part["elements"] - 1) / max(part["wall_s"] - part["first_element_s"], 1e-9)
    b = bounds(local["wall_s"], 0.0, workers, budget.cpus, cpu_p=local["cpu_s"])
    servers = [m for m in r.messages if m.get("event") == "child ended"]
    facts = {"mode": mode, "elements": elements, "workers": workers, "local": local,
             "service": service, "speedup": local["wall_s"] / service["wall_s"],
             "each_once": local["each_once"] and service["each_once"],
             "servers_stopped": [f"{m['name']}: {m['how']}" for m in servers]
             or ["dispatcher and workers: ended with their process"],
             **_sandbox_facts(r)}
    return RunResult(name=f"tf.data service ({mode}, {workers} workers) against the local pipeline",
                     params=dict(mode=mode, elements=elements, workers=workers, size=size, rounds=rounds),
                     outcomes=_outcomes(r), budget=budget, bounds=b, facts=facts,
                     environment=environment_facts())


def service_reading(result: RunResult) -> str:
    """What a :func:`data_service` run measured, in words built from its own numbers."""
    f = result.facts
    local, service = f["local"], f["service"]
    budget = result.budget.cpus if result.budget else 1.0
    bound_rate = f["elements"] / result.bounds.overlapped_s if result.bounds else float("nan")
    idle = max(budget - local["cores_busy"], 0.0)
    text = (f"With B = {budget:g}, the local pipeline delivered {local['elements_per_s']:.0f} elements/s "
            f"and kept {local['cores_busy']:.2f} cores busy; the service's {f['workers']} workers "
            f"delivered {service['elements_per_s']:.0f} elements/s (x{f['speedup']:.2f}: "
            f"{_speed_word(f['speedup'])}) with {service['cores_busy']:.2f} cores busy. "
            f"The ideal bound for {f['workers']} workers sharing {budget:g} CPU(s) is "
            f"{bound_rate:.0f} elements/s. ")
    per_local = 1e3 * local["all_cpu_s"] / local["elements"]
    per_service = 1e3 * service["all_cpu_s"] / service["elements"]
    if service["cores_busy"] > 1.1 * local["cores_busy"]:
        text += (f"The workers put more cores to work ({service['cores_busy']:.2f} against "
                 f"{local['cores_busy']:.2f}; the local pipeline had left {idle:.2f} idle). ")
    else:
        text += (f"The two workers did not keep more cores busy than the local pipeline "
                 f"({service['cores_busy']:.2f} against {local['cores_busy']:.2f}), although it had "
                 f"left {idle:.2f} CPU(s) idle: on one machine they share the same cores and runtime. ")
    text += f"Each element cost {per_service:.1f} ms of CPU through the service against {per_local:.1f} ms locally"
    if per_service > 1.05 * per_local:
        text += " (the extra is the trip through the dispatcher and gRPC)"
    return text + (f"; the first element arrived after {service['first_element_s']:.2f} s against "
                   f"{local['first_element_s']:.2f} s locally.")
