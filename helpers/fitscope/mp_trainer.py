"""Notebook 02: the article's multiprocessing trainer, run safely and measured; then the right ways.

The article's example 2 (``workers/article_trainer.py``) runs as a real ``__main__`` script in
the sandbox, under each start method, with a watchdog and a memory cap. Everything said about a
run is read from what the sandbox measured: how each process ended, the counters the script
reported (producer batches and queue backlog, trainer steps, weight checksums of the trainer's
copy and of the parent's model), memory and CPU per process, and what was cleaned up. The right
ways (worker processes make data, the main process trains) run the same way, against the bound.
This module imports no TensorFlow: the learner's kernel never needs it here.

Example:
    >>> r = article_trainer("spawn", timeout_s=40)                  # doctest: +SKIP
    >>> r.facts["parent"]["built"]                                  # doctest: +SKIP
    False
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import claims
from .budget import bounds, cpu_budget
from .environment import environment_facts, quick_mode
from .errors import FitscopeInputError, check_choice, check_int, check_positive
from .result import RunResult
from .sandbox import Progress, SandboxResult, run_python
from .throughput import throughput_from_ends
from .workloads import WORK_KINDS

__all__ = ["START_METHODS", "RIGHT_WAY_METHODS", "LABELS", "ARTICLE_SCRIPT", "QUEUE_SCRIPT", "Limits",
           "RightWayParams", "weights_checksum", "describe", "run_report", "checksums", "Table",
           "runs_table", "article_trainer", "article_runs", "queue_trainer",
           "pydataset_trainer", "right_ways", "best_right_way", "right_way_line", "right_ways_chart", "c7_runs",
           "c8_causes", "trainer_verdicts", "LiveProcesses", "process_charts", "trainer_panel"]

START_METHODS = ("fork", "spawn", "forkserver")
RIGHT_WAY_METHODS = ("spawn", "forkserver")  # the right ways never fork a process that runs TF
WORKERS = Path(__file__).resolve().parent / "workers"
ARTICLE_SCRIPT = WORKERS / "article_trainer.py"
QUEUE_SCRIPT = WORKERS / "queue_trainer.py"
LABELS = ("(32,) as in the article", "(32, 1) fixed")
MIN_CAP_MB, MAX_CAP_MB = 300.0, 1400.0
BACKLOG_UNBOUNDED = 1000  # batches waiting, still growing at the end: the queue has no bound


@dataclasses.dataclass(frozen=True)
class Limits:
    """Watchdog (s) and memory cap (MB, whole sandboxed tree) of one run, validated."""

    timeout_s: float
    memory_cap_mb: float

    def __post_init__(self) -> None:
        check_positive("seconds", self.timeout_s, maximum=600)
        check_positive("memory cap (MB)", self.memory_cap_mb, maximum=MAX_CAP_MB)
        if self.memory_cap_mb < MIN_CAP_MB:
            raise FitscopeInputError(f"memory cap (MB) must be at least {MIN_CAP_MB:g}: TensorFlow "
                                     f"alone takes about 210 MB in each process, not {self.memory_cap_mb!r}.")

    @classmethod
    def default(cls, **overrides: Any) -> Limits:
        """Sized for the mode; quick mode (CI) shrinks the watchdog, never the logic."""
        base = dict(timeout_s=25.0, memory_cap_mb=900.0) if quick_mode() else \
            dict(timeout_s=40.0, memory_cap_mb=1000.0)
        return cls(**{**base, **overrides})


def weights_checksum(model: Any) -> str | None:
    """First 16 hex digits of a SHA-256 over a Keras model's weights; None if it has none.

    Example:
        >>> class Unbuilt: built, weights = False, []
        >>> weights_checksum(Unbuilt()) is None
        True
    """
    if not getattr(model, "built", False) or not model.weights:
        return None
    import numpy as np

    digest = hashlib.sha256()
    for w in model.weights:
        digest.update(np.asarray(w.numpy()).tobytes())
    return digest.hexdigest()[:16]


# -- recording a sandboxed run ------------------------------------------------------------------

class _Recorder:
    """on_poll: per-pid memory and CPU series, roles from the messages, a live display fed."""

    def __init__(self, live: LiveProcesses | None) -> None:
        self.live = live
        self.memory: dict[int, list[tuple[float, float]]] = {}
        self.cpu: dict[int, list[tuple[float, float]]] = {}
        self.roles: dict[int, str] = {}
        self.counters: dict[str, Any] = {}
        self.epoch_offset: float | None = None  # time.time() - sandbox t

    def __call__(self, p: Progress) -> None:
        if self.epoch_offset is None:
            self.epoch_offset = time.time() - p.t_s
        for pid, b in p.memory_bytes.items():
            self.memory.setdefault(pid, []).append((p.t_s, b / 2**20))
        for pid, c in p.cpu_s.items():
            self.cpu.setdefault(pid, []).append((p.t_s, c))
        for m in p.new_messages:
            role = m.get("role")
            if role:
                self.roles.setdefault(m["pid"], role)
                self.counters[role] = m
            for name, pid in (m.get("children") or {}).items():
                self.roles[pid] = name
        if self.live is not None:
            self.live.poll(self)

    def label(self, pid: int, commands: Mapping[int, str] | None = None) -> str:
        role = self.roles.get(pid) or _role_from_command((commands or {}).get(pid, ""))
        return f"{role} ({pid})"

    def series(self, commands: Mapping[int, str] | None = None) -> dict[str, dict[str, list[float]]]:
        out = {}
        for pid, points in self.memory.items():
            cpu = self.cpu.get(pid, [])
            out[self.label(pid, commands)] = {
                "t": [t for t, _ in points], "memory_mb": [m for _, m in points],
                "cpu_t": [t for t, _ in cpu], "cpu_s": [c for _, c in cpu]}
        return out


def _role_from_command(command: str) -> str:
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:
        return "forkserver or its child"
    if "spawn_main" in command:
        return "spawned child"
    return "process"


def _tracebacks(stderr: str) -> list[dict[str, str]]:
    """Each Python traceback in ``stderr``: its header line, text and final exception line."""
    blocks: list[dict[str, str]] = []
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        body = lines[i:end]
        last = next((line for line in body[1:] if line and not line[0].isspace()
                     and not line.startswith(("During handling", "The above exception"))), "")
        header = lines[i - 1] if i > 0 else ""
        blocks.append({"header": header, "text": "\n".join(body), "exception": last})
    return blocks


def _child_of(block: dict[str, str], names: Mapping[str, str]) -> str | None:
    """Which child a traceback came from: "producer"/"trainer" by process name, or a starting child."""
    match = re.match(r"^Process (.+):$", block["header"])
    if match:
        return names.get(match.group(1), match.group(1))
    if "multiprocessing/spawn.py" in block["text"] or "multiprocessing/forkserver.py" in block["text"]:
        return "child while starting"
    return None


def _rate(points: Sequence[tuple[float, float]], last_s: float = 1.0) -> float:
    """Growth per second over the last ``last_s`` seconds of (t, value) points."""
    if len(points) < 2:
        return 0.0
    t_end = points[-1][0]
    window = [p for p in points if p[0] >= t_end - last_s] or list(points)
    (t0, v0), (t1, v1) = window[0], points[-1]
    return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


def _sandbox_facts(run: SandboxResult, rec: _Recorder, limits: Limits) -> dict[str, Any]:
    commands = {o.pid: o.command for o in run.outcomes}
    return {
        "stopped_by": run.stopped_by, "wall_s": run.wall_s, "timeout_s": limits.timeout_s,
        "memory_cap_mb": limits.memory_cap_mb, "poll_s": run.poll_s,
        "peak_memory_mb": run.peak_memory_bytes / 2**20,
        "memory_growth_mb_per_s": _rate([(t, b / 2**20) for t, b in run.memory]),
        "max_memory_growth_mb_per_s": max(
            ((b[1] - a[1]) / 2**20 / (b[0] - a[0]) for a, b in zip(run.memory, run.memory[1:])
             if b[0] > a[0]), default=0.0),
        "leftovers_removed": run.leftovers_removed, "survivors": run.survivors,
        "processes": [{"role": rec.label(o.pid, commands), "pid": o.pid, "how": o.how,
                       "peak_mb": o.peak_memory_bytes / 2**20} for o in run.outcomes],
        "series": rec.series(commands),
    }


# -- the article's trainer ----------------------------------------------------------------------

def article_trainer(start_method: str = "fork", *, fix_labels: bool = False,
                    build_parent_model: bool = False, producer_ms: float = 0.0,
                    timeout_s: float | None = None, memory_cap_mb: float | None = None,
                    live: LiveProcesses | None = None) -> RunResult:
    """Run the article's example 2 in the sandbox under ``start_method`` and measure what happened.

    ``fix_labels`` reshapes the labels to (32, 1) so the child can train; ``build_parent_model``
    builds the parent's model before the children start, so its checksum can be compared with the
    trainer's; ``producer_ms`` slows the producer (0 is the article's: as fast as it can).
    Facts: each process's end, the trainer's steps and checksums, the parent's checksums (or that
    its model was never built), the producer's rate and backlog, memory growth, whether the parent
    hung at interpreter exit, what the sandbox cleaned up.
    """
    check_choice("start method", start_method, START_METHODS)
    if producer_ms != 0:
        check_positive("producer ms per batch", producer_ms, maximum=1000)
    limits = Limits.default(**{k: v for k, v in (("timeout_s", timeout_s),
                                                 ("memory_cap_mb", memory_cap_mb)) if v is not None})
    args = ["--start-method", start_method, "--producer-ms", str(producer_ms)]
    args += ["--fix-labels"] if fix_labels else []
    args += ["--build-parent-model"] if build_parent_model else []
    name = f"article trainer under {start_method}" + (", labels fixed" if fix_labels else "")
    rec = _Recorder(live)
    if live is not None:
        live.start(name, limits)
    run = run_python(ARTICLE_SCRIPT, args=args, timeout_s=limits.timeout_s,
                     memory_cap_mb=limits.memory_cap_mb, poll_s=0.1, on_poll=rec,
                     env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    if live is not None:
        live.finish()
    facts = {"start_method": start_method, "fix_labels": fix_labels,
             "build_parent_model": build_parent_model, "producer_ms": producer_ms,
             **_sandbox_facts(run, rec, limits), **_article_facts(run, rec)}
    return RunResult(
        name=name, params=dict(start_method=start_method, fix_labels=fix_labels,
                               build_parent_model=build_parent_model, producer_ms=producer_ms,
                               **dataclasses.asdict(limits)),
        budget=cpu_budget(), environment=environment_facts(),
        outcomes=run.outcomes, facts=facts)


def _article_facts(run: SandboxResult, rec: _Recorder) -> dict[str, Any]:
    by_role: dict[str, list[dict[str, Any]]] = {}
    for m in run.messages:
        by_role.setdefault(m.get("role", ""), []).append(m)
    parent = by_role.get("parent", [])
    events = {m.get("event"): m for m in parent}
    trainer, producer = by_role.get("trainer", []), by_role.get("producer", [])
    names = {"Process-1": "producer", "Process-2": "trainer"}  # the order the script starts them
    errors = [(who, b["exception"]) for b in _tracebacks(run.stderr)
              if (who := _child_of(b, names)) is not None]
    unpickling = sum(1 for b in _tracebacks(run.stderr)
                     if _child_of(b, names) and "_rebuild" in b["text"])
    parent_sums = [m.get("checksum") for m in parent]
    built = any(m.get("built") for m in parent)
    parent_changed = len({s for s in parent_sums if s is not None}) > 1
    end_of_script = "end of script" in events
    exit_at = events.get("interpreter exit", {}).get("t")
    root_seen = [t for t, c in run.cpu if run.root.pid in c]
    root_end = root_seen[-1] if root_seen else None
    exit_wait = (root_end + (rec.epoch_offset or 0) - exit_at
                 if exit_at is not None and root_end is not None else None)
    hung = exit_at is not None and run.root.how in ("killed by watchdog", "killed at memory cap")
    backlog = [(m["t"], m["backlog"]) for m in producer if m.get("backlog") is not None]
    made = [(m["t"], m["batches"]) for m in producer]
    producer_rate = ((made[-1][1] - made[0][1]) / (made[-1][0] - made[0][0])
                     if len(made) > 1 and made[-1][0] > made[0][0] else 0.0)
    backlog_growth = _rate(backlog)
    last_backlog = backlog[-1][1] if backlog else 0
    producer_pid = (events.get("end of script", {}).get("children") or {}).get("producer")
    producer_memory = [(t, mb) for t, mb in rec.memory.get(producer_pid, []) if mb > 0]
    steps = max((m["steps"] for m in trainer), default=None)
    trainer_sums = [m.get("checksum") for m in trainer if m.get("checksum")]
    trained = [(m["t"], m["steps"]) for m in trainer if m["steps"]]
    trainer_rate = ((trained[-1][1] - trained[0][1]) / (trained[-1][0] - trained[0][0])
                    if len(trained) > 1 and trained[-1][0] > trained[0][0] else 0.0)
    return {
        "reached_end_of_script": end_of_script,
        "reached_interpreter_exit": exit_at is not None,
        "exit_wait_s": exit_wait,
        "hung_at_exit": hung,
        "parent": {"built": built, "checksum_start": parent_sums[0] if parent_sums else None,
                   "checksum_last": parent_sums[-1] if parent_sums else None,
                   "changed": parent_changed, "reports": len(parent)},
        "trainer": {"started": bool(trainer), "steps": steps, "steps_per_s": trainer_rate,
                    "checksum_first": trainer_sums[0] if trainer_sums else None,
                    "checksum_last": trainer_sums[-1] if trainer_sums else None,
                    "error": next((e for who, e in errors if who == "trainer"), None)},
        "producer": {"batches": made[-1][1] if made else 0, "batches_per_s": producer_rate,
                     "backlog": last_backlog, "backlog_growth_per_s": backlog_growth,
                     "peak_mb": max((mb for _, mb in producer_memory), default=0.0),
                     "memory_growth_mb_per_s": _rate(producer_memory),
                     "error": next((e for who, e in errors if who == "producer"), None)},
        "child_errors": [f"{who}: {e}" for who, e in errors],
        "child_exceptions": len(errors),
        "children_died_unpickling": unpickling,
        "unbounded_growth": last_backlog >= BACKLOG_UNBOUNDED and backlog_growth > 0,
    }


def article_runs(methods: Sequence[str] = START_METHODS, **kwargs: Any) -> dict[str, RunResult]:
    """:func:`article_trainer` once per start method (same options for each)."""
    return {m: article_trainer(m, **kwargs) for m in methods}


# -- the right ways -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RightWayParams:
    """A producer cost and a train cost shared by both right ways, validated on construction."""

    kind: str = "python"
    ms_per_batch: float = 2.0
    width: int = 0
    batch_size: int = 32
    steps: int = 200
    workers: int = 2
    start_method: str = "forkserver"

    def __post_init__(self) -> None:
        check_choice("producer work", self.kind, WORK_KINDS)
        if self.ms_per_batch != 0:
            check_positive("ms per batch", self.ms_per_batch, maximum=1000)
        check_int("model width", self.width, 0, 4096)
        check_int("batch size", self.batch_size, 1, 8192)
        check_int("steps", self.steps, 3, 100_000)
        check_int("workers", self.workers, 1, 8)
        check_choice("start method", self.start_method, RIGHT_WAY_METHODS)

    @classmethod
    def default(cls, **overrides: Any) -> RightWayParams:
        base = {"steps": 80} if quick_mode() else {"steps": 300}
        return cls(**{**base, **overrides})


def queue_trainer(params: RightWayParams | None = None, *, limits: Limits | None = None,
                  maxsize: int = 8, time_budget_s: float | None = None,
                  **overrides: Any) -> RunResult:
    """Worker processes fill a bounded queue; the main process trains; a clean shutdown.

    Measured: throughput of the main process's steps against the bound, its weight checksum
    before and after, the workers' exit codes, the largest backlog (never above ``maxsize``),
    what the sandbox had to clean up.
    """
    p = params or RightWayParams.default(**overrides)
    check_int("queue size", maxsize, 1, 10_000)
    limits = limits or Limits.default()
    seconds = time_budget_s or limits.timeout_s * 0.8
    args = ["--start-method", p.start_method, "--workers", str(p.workers), "--steps", str(p.steps),
            "--batch-size", str(p.batch_size), "--kind", p.kind, "--ms", str(p.ms_per_batch),
            "--width", str(p.width), "--maxsize", str(maxsize), "--seconds", str(seconds)]
    rec = _Recorder(None)
    run = run_python(QUEUE_SCRIPT, args=args, timeout_s=limits.timeout_s,
                     memory_cap_mb=limits.memory_cap_mb, on_poll=rec, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    costs = next((m for m in run.messages if m.get("event") == "costs"), None)
    done = next((m for m in run.messages if m.get("event") == "done"), None)
    budget = cpu_budget()
    result = RunResult(name=f"bounded queue, {p.workers} worker process(es) ({p.start_method})",
                       params={**dataclasses.asdict(p), "maxsize": maxsize}, budget=budget,
                       outcomes=run.outcomes, environment=environment_facts())
    facts: dict[str, Any] = {"way": "bounded queue", **_sandbox_facts(run, rec, limits)}
    if done is None or costs is None:
        why = run.exceptions[-1][1] if run.exceptions else run.root.how
        facts["finished"] = False
        facts["why_not"] = why
        result.facts = facts
        return result
    ends = done["step_ends_ns"]
    n = len(ends) - 1
    if n > 0:
        result.throughput = throughput_from_ends(ends[1:], p.batch_size, ends[0])
        result.bounds = bounds(n * costs["t_p1"], n * costs["t_c1"], p.workers, budget.cpus,
                               n * costs["cpu_p1"], n * costs["cpu_c1"])
    backlog = [m["backlog"] for m in run.messages if m.get("backlog") is not None]
    facts.update(
        finished=True, steps=len(ends), checksum_before=done["checksum_before"],
        checksum_after=done["checksum"], weights_changed=done["checksum"] != done["checksum_before"],
        worker_exit_codes=done["worker_exit_codes"], stopped_early=done["stopped_early"],
        max_backlog=max(backlog, default=0), maxsize=maxsize,
        worker_batches=[m["batches"] for m in run.messages if m.get("done")],
        costs_per_step={k: costs[k] for k in ("t_p1", "cpu_p1", "t_c1", "cpu_c1")},
        measured_s=result.throughput.elapsed_s)
    result.facts = facts
    return result


def pydataset_trainer(params: RightWayParams | None = None, *, limits: Limits | None = None,
                      time_budget_s: float | None = None, **overrides: Any) -> RunResult:
    """``fit`` on a PyDataset with ``use_multiprocessing=True``, in the sandbox (never forked).

    Runs :func:`fitscope.scenarios.fit_in_sandbox` with the same producer and train costs as
    :func:`queue_trainer` (``steps`` steps in one epoch).
    """
    from .scenarios import PYDATASET_PROCESSES, GeneratorFitParams, fit_in_sandbox

    p = params or RightWayParams.default(**overrides)
    limits = limits or Limits.default()
    fit_params = GeneratorFitParams(kind=p.kind, ms_per_batch=p.ms_per_batch, batch_size=p.batch_size,
                                    width=p.width, steps=p.steps, epochs=1,
                                    source=PYDATASET_PROCESSES, workers=p.workers)
    name = f"PyDataset, {p.workers} worker process(es) ({p.start_method})"
    try:
        result = fit_in_sandbox(fit_params, start_method=p.start_method,
                                time_budget_s=time_budget_s or limits.timeout_s * 0.8,
                                timeout_s=limits.timeout_s, memory_cap_mb=limits.memory_cap_mb)
    except RuntimeError as e:  # the sandboxed run ended without a result: say so, do not break
        return RunResult(name=name, params=dataclasses.asdict(p), budget=cpu_budget(),
                         facts={"way": "PyDataset", "finished": False, "why_not": str(e),
                                "peak_memory_mb": None})
    result.name = name
    result.facts["way"] = "PyDataset"
    result.facts["finished"] = True
    result.facts["peak_memory_mb"] = result.facts["sandbox_peak_memory_bytes"] / 2**20
    result.facts["right_way_params"] = dataclasses.asdict(p)
    return result


def right_ways(params: RightWayParams | None = None, *, limits: Limits | None = None,
               **overrides: Any) -> dict[str, RunResult]:
    """Both right ways with the same producer and train costs: {"PyDataset": ..., "bounded queue": ...}."""
    p = params or RightWayParams.default(**overrides)
    return {"PyDataset": pydataset_trainer(p, limits=limits),
            "bounded queue": queue_trainer(p, limits=limits)}


def best_right_way(kind: str = "python", ms_per_batch: float = 2.0, width: int = 0, *,
                   batch_size: int = 32, steps: int | None = None, workers: int = 2,
                   start_method: str = "forkserver") -> RunResult:
    """The faster of the two right ways for these producer and train costs, with its bounds.

    ``facts["compared"]`` holds steps/s of both, so a cross-scenario table can quote them.

    Example:
        >>> r = best_right_way("python", 2.0, width=0, steps=60)      # doctest: +SKIP
        >>> r.bound_steps_per_s is not None                            # doctest: +SKIP
        True
    """
    overrides = {} if steps is None else {"steps": steps}
    p = RightWayParams.default(kind=kind, ms_per_batch=ms_per_batch, width=width,
                               batch_size=batch_size, workers=workers, start_method=start_method,
                               **overrides)
    runs = right_ways(p)
    best = max(runs.values(), key=lambda r: r.throughput.steps_per_s)
    best.facts["compared"] = {name: r.throughput.steps_per_s for name, r in runs.items()}
    return best


def right_way_line(result: RunResult) -> str:
    """One line on a right-way run: steps/s against its bounds, and its tree's peak memory."""
    f = result.facts
    memory = ("peak memory of its process tree not measured" if f.get("peak_memory_mb") is None
              else f"peak memory of its process tree {f['peak_memory_mb']:.0f} MB")
    if result.bound_steps_per_s is None:
        return f"{result.name}: did not finish ({f.get('why_not', 'no steps measured')}); {memory}"
    bound, sequential = result.bound_steps_per_s
    return (f"{result.name}: {result.throughput.steps_per_s:.0f} steps/s; ideal bound {bound:.0f}, "
            f"no overlap {sequential:.0f}; {memory}")


def right_ways_chart(runs: Mapping[str, RunResult]) -> Any:
    """Measured time of each right way against its ideal overlap bound (``plots.comparison``).

    A run that did not finish has no bar; the summary names it.
    """
    from .plots import Chart, comparison

    done = [r for r in runs.values() if r.throughput.steps and r.bounds]
    rows = [(r.name, r.throughput.elapsed_s, r.bounds.overlapped_s) for r in done]
    chart = comparison(rows, title="The right ways: measured time against the ideal bound")
    missing = [r.name for r in runs.values() if r not in done]
    if missing:
        chart = Chart(chart.figure, chart.summary + " Did not finish: " + "; ".join(missing) + ".")
    return chart


# -- verdicts -----------------------------------------------------------------------------------

def c7_runs(runs: Mapping[str, RunResult]) -> list[dict[str, Any]]:
    """C7's evidence, one dict per article run, from the measured facts."""
    out = []
    for r in runs.values():
        f = r.facts
        parent = f["parent"]
        useful = (f["trainer"]["steps"] or 0) if parent["changed"] else 0
        error = (f["trainer"]["error"] or (f["child_errors"][0] if f["child_errors"] else None)
                 or _stalled(f))
        out.append({"method": f["start_method"] + (" (labels fixed)" if f["fix_labels"] else ""),
                    "useful_updates": useful, "error": error, "hang": f["hung_at_exit"],
                    "unbounded_growth": f["unbounded_growth"]})
    return out


def _causes_of(f: Mapping[str, Any]) -> list[str]:
    causes = []
    if f["trainer"]["error"]:
        causes.append(f"the trainer raised {f['trainer']['error']}")
    if f["children_died_unpickling"]:
        n = f["children_died_unpickling"]
        causes.append(f"{'both children' if n == 2 else f'{n} child(ren)'} died unpickling their arguments "
                      "(FileNotFoundError in SemLock._rebuild): the parent had already released the "
                      "queue's semaphores at interpreter exit")
    if not f["parent"]["built"]:
        causes.append("the parent's model was never built, so there were no weights to update")
    elif not f["parent"]["changed"] and f["trainer"]["steps"]:
        causes.append(f"lost updates: the trainer trained its own copy ({f['trainer']['steps']} steps) "
                      "while the parent's checksum stayed the same")
    if f["unbounded_growth"]:
        causes.append(f"the unbounded queue kept growing ({f['producer']['backlog']} batches waiting, "
                      f"the producer's memory growing {f['producer']['memory_growth_mb_per_s']:.0f} MB/s)")
    if f["hung_at_exit"]:
        causes.append("the parent hung at interpreter exit waiting for children nobody stopped "
                      f"(ended by the {f['stopped_by']})")
    if stalled := _stalled(f):
        causes.append(stalled)
    return causes


def _stalled(f: Mapping[str, Any]) -> str | None:
    """A run the watchdog ended with no step and no error: stuck in the first step, or not started."""
    if f["stopped_by"] != "watchdog" or f["trainer"]["steps"] or f["child_exceptions"]:
        return None
    if f["trainer"]["started"]:
        return (f"the trainer started but made no step and raised no error in {f['wall_s']:.0f} s "
                "(stuck, as after a fork deadlock)")
    return f"the trainer had not started when the watchdog stopped the run after {f['wall_s']:.0f} s"


def c8_causes(runs: Mapping[str, RunResult]) -> list[str]:
    """The causes measured in the article runs, each with the runs it was seen in."""
    seen: dict[str, list[str]] = {}
    for r in runs.values():
        label = r.facts["start_method"] + (" with labels fixed" if r.facts["fix_labels"] else "")
        for cause in _causes_of(r.facts):
            seen.setdefault(cause, []).append(label)
    return [f"{cause} ({', '.join(where)})" for cause, where in seen.items()]


def trainer_verdicts(runs: Mapping[str, RunResult]) -> claims.Scorecard:
    """C7 and C8 from article runs (keyed by anything), by the rules of the claims module."""
    return claims.Scorecard([claims.c7(c7_runs(runs)), claims.c8(c8_causes(runs))])


# -- live display, charts and the panel ---------------------------------------------------------

class LiveProcesses:
    """Live memory per process and the scripts' counters, drawn into an Output during a run.

    Fed from the sandbox's ``on_poll`` on the cell's thread. The counter line updates at every
    poll; a frame (PNG into the Output) is drawn at the start, whenever ``min_interval_s`` has
    passed and one more frame keeps drawing within ``max_share`` of the run, and at the end.
    """

    def __init__(self, output: Any, counter: Any = None, min_interval_s: float = 0.5,
                 max_share: float = 0.05) -> None:
        self.output, self.counter = output, counter
        self.min_interval_s, self.max_share = min_interval_s, max_share
        self.frames = 0
        self.draw_s = 0.0
        self.pngs: list[bytes] = []
        self.polls = 0

    @classmethod
    def shown(cls) -> LiveProcesses:
        """A live display with its own Output and counter line, displayed in the current cell."""
        import ipywidgets as w
        from IPython.display import display

        live = cls(w.Output(), w.HTML())
        display(w.VBox([live.counter, live.output]))
        return live

    def start(self, title: str, limits: Limits) -> None:
        self.title, self.limits = title, limits
        self.t0 = time.perf_counter()
        self._last, self._frame_s = 0.0, 0.0
        self._rec: _Recorder | None = None
        self._draw()

    def poll(self, rec: _Recorder) -> None:
        self._rec = rec
        self.polls += 1
        if self.counter is not None:
            self.counter.value = html.escape(self.counter_text(rec))
        now = time.perf_counter()
        due = now - self._last >= self.min_interval_s
        affordable = self.draw_s + self._frame_s <= self.max_share * (now - self.t0)
        if due and affordable:
            self._draw()

    def finish(self) -> None:
        self._draw()
        if self.counter is not None and self._rec is not None:
            self.counter.value = html.escape(self.counter_text(self._rec))

    def counter_text(self, rec: _Recorder) -> str:
        """One line: frames drawn, then the latest counters each script role reported."""
        c = rec.counters
        steps = c.get("trainer", {}).get("steps", 0)
        parts = [f"frame {self.frames} · step {steps} of the trainer"]
        if "producer" in c:
            parts.append(f"producer: {c['producer']['batches']} batches made, "
                         f"{c['producer'].get('backlog')} waiting in the queue")
        if "parent" in c:
            p = c["parent"]
            parts.append(f"parent: {p.get('event')}, model "
                         + (f"checksum {p['checksum']}" if p.get("built") else "never built"))
        total = sum(points[-1][1] for points in rec.memory.values() if points)
        return " · ".join(parts + [f"tree memory {total:.0f} MB"])

    def _draw(self) -> None:
        from IPython.display import Image, display

        from .plots import memory_by_process

        start = time.perf_counter()
        series = {}
        if self._rec is not None:
            for pid, points in self._rec.memory.items():
                series[self._rec.label(pid)] = ([t for t, _ in points], [m for _, m in points])
        chart = memory_by_process(series, self.limits.memory_cap_mb,
                                  title=f"Live: {self.title} ({time.perf_counter() - self.t0:.1f} s)",
                                  size=(7, 2.6))
        png = chart.png(dpi=72)
        self.output.clear_output(wait=True)
        with self.output:
            display(Image(data=png))
        self.frames += 1
        self.pngs.append(png)
        self._last = time.perf_counter()
        self._frame_s = self._last - start
        self.draw_s += self._frame_s


def process_charts(result: RunResult) -> tuple[Any, Any]:
    """Memory per process and CPU by process (cores busy) of a sandboxed run."""
    from .plots import cpu_by_process, memory_by_process

    series = result.facts["series"]
    memory = {k: (s["t"], s["memory_mb"]) for k, s in series.items()}
    cpu = {k: (s["cpu_t"], s["cpu_s"]) for k, s in series.items() if s["cpu_t"]}
    budget = result.budget.cpus if result.budget else None
    return (memory_by_process(memory, result.facts["memory_cap_mb"], title=f"Memory: {result.name}"),
            cpu_by_process(cpu, budget, title=f"CPU by process: {result.name}"))


def describe(result: RunResult) -> str:
    """One sentence on an article run, from its facts."""
    f = result.facts
    t, parent = f["trainer"], f["parent"]
    ending = f"stopped by the {f['stopped_by']}" if f["stopped_by"] else "ended by itself"
    model = (f"parent model checksum {parent['checksum_start']} → {parent['checksum_last']}"
             if parent["built"] else "parent model never built")
    return (f"{f['start_method']}: {ending} after {f['wall_s']:.1f} s; trainer "
            + (f"{t['steps']} steps" if t["started"] else "never started")
            + (f" ({t['error']})" if t["error"] else "")
            + f"; producer {f['producer']['batches_per_s']:.0f} batches/s; {model}")


def run_report(result: RunResult) -> str:
    """Several lines on an article run: each process's end, counters, weights, exit, clean-up."""
    f = result.facts
    lines = [f"{result.name}: {'stopped by the ' + f['stopped_by'] if f['stopped_by'] else 'ended by itself'}"
             f" after {f['wall_s']:.1f} s (watchdog {f['timeout_s']:g} s, cap {f['memory_cap_mb']:g} MB)"]
    lines += [f"  {p['role']}: {p['how']} (peak {p['peak_mb']:.0f} MB)" for p in f["processes"]]
    lines += [f"  error in {e}" for e in f["child_errors"]]
    t, pr, parent = f["trainer"], f["producer"], f["parent"]
    lines.append(f"  trainer steps completed: {t['steps'] if t['started'] else 'none (it never started)'}")
    lines.append(f"  producer: {pr['batches']} batches, {pr['batches_per_s']:.0f} batches/s, "
                 f"{pr['backlog']} left in the queue" + (
                     f"; its memory grew {pr['memory_growth_mb_per_s']:.0f} MB/s at the end"
                     if pr["batches"] else ""))
    lines.append("  parent's model: " + (
        f"checksum {parent['checksum_start']} at the start, {parent['checksum_last']} at the end "
        f"({'changed' if parent['changed'] else 'unchanged'})" if parent["built"]
        else "never built: it has no weights at all"))
    exit_line = "  parent at interpreter exit: "
    if not f["reached_interpreter_exit"]:
        exit_line += "never got there"
    elif f["hung_at_exit"]:
        exit_line += f"hung waiting for its children until the {f['stopped_by']} stopped it"
    else:
        exit_line += f"waited {f['exit_wait_s']:.1f} s for its children, then exited"
    lines.append(exit_line)
    lines.append(f"  cleaned up by the sandbox: {len(f['leftovers_removed'])} leftover file(s) "
                 f"{f['leftovers_removed'] or ''}; survivors: {f['survivors'] or 'none'}")
    return "\n".join(lines)


def checksums(result: RunResult) -> str:
    """The trainer's copy and the parent's model, checksums side by side."""
    t, parent = result.facts["trainer"], result.facts["parent"]
    child = (f"trainer's copy: {t['checksum_first']} before its first step, {t['checksum_last']} "
             f"after {t['steps']} steps" if t["checksum_first"] else "trainer's copy: no weights reported")
    mine = (f"parent's model: {parent['checksum_start']} at the start, {parent['checksum_last']} "
            f"after {parent['reports']} looks" if parent["built"] else "parent's model: never built")
    return f"{child}\n{mine}"


class Table(list):
    """Rows (dicts) that show themselves as an HTML table in a notebook."""

    def _repr_html_(self) -> str:
        if not self:
            return "<p>no rows</p>"
        head = "".join(f"<th>{html.escape(k)}</th>" for k in self[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values())
                       + "</tr>" for row in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        return "\n".join(" | ".join(f"{k}: {v}" for k, v in row.items()) for row in self)


def runs_table(runs: Mapping[str, RunResult]) -> Table:
    """One row per article run: how it ended and what was measured."""
    rows = Table()
    for r in runs.values():
        f = r.facts
        rows.append({
            "run": r.name, "ended": f"stopped by the {f['stopped_by']}" if f["stopped_by"] else "by itself",
            "wall (s)": f"{f['wall_s']:.1f}",
            "trainer steps": f["trainer"]["steps"] if f["trainer"]["started"] else "never started",
            "errors in children": "; ".join(f["child_errors"]) or "none",
            "producer (batches/s)": f"{f['producer']['batches_per_s']:.0f}",
            "queue backlog": f["producer"]["backlog"],
            "parent's model": ("never built" if not f["parent"]["built"] else
                               "changed" if f["parent"]["changed"] else "unchanged"),
            "hung at exit": "yes" if f["hung_at_exit"] else "no",
            "peak memory (MB)": f"{f['peak_memory_mb']:.0f}",
            "cleaned up": len(f["leftovers_removed"]), "survivors": len(f["survivors"]),
        })
    return rows


def trainer_panel(time_budget_s: float | None = None) -> Any:
    """A panel around :func:`article_trainer`: start method, seconds, memory cap, producer speed.

    Choosing the fixed labels also builds the parent's model first, so both checksums can be compared.
    """
    from .widgets import Control, ExperimentPanel

    d = Limits.default()
    budget = time_budget_s or d.timeout_s

    def run(live: LiveProcesses, time_budget_s: float, start_method: str, seconds: float,
            memory_cap_mb: float, producer_ms: float, labels: str) -> RunResult:
        check_positive("seconds", seconds, maximum=time_budget_s)
        return article_trainer(start_method, fix_labels=labels == LABELS[1],
                               build_parent_model=labels == LABELS[1], producer_ms=producer_ms,
                               timeout_s=seconds, memory_cap_mb=memory_cap_mb, live=live)

    return ExperimentPanel("The article's multiprocessing trainer, in the sandbox", [
        Control("start_method", "start method", "fork", "choice", START_METHODS),
        Control("seconds", "seconds (watchdog)", d.timeout_s, "float"),
        Control("memory_cap_mb", "memory cap (MB)", d.memory_cap_mb, "float"),
        Control("producer_ms", "producer ms per batch (0 = flat out)", 0.0, "float"),
        Control("labels", "labels", LABELS[0], "choice", LABELS),
    ], run, budget, describe, live_display=LiveProcesses, charts_after=process_charts)
