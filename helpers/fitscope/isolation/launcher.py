"""Recording a sandboxed run of several processes: limits, per-process series, what ended how.

Notebooks 02 and 04 run scripts that start processes of their own (the article's trainer, the
right ways, launchers of TensorFlow workers). This module holds what those runs share: the
watchdog and memory cap of a run (:class:`Limits`), an ``on_poll`` recorder of memory and CPU per
process with the roles the scripts report (:class:`ProcessRecorder`), the sandbox's facts about
a run (:func:`sandbox_facts`), and how each child ended as its launcher saw it
(:func:`launcher_outcomes`).

Example:
    >>> Limits(timeout_s=10, memory_cap_mb=600).timeout_s
    10
    >>> growth_per_s([(0.0, 0.0), (1.0, 5.0)])
    5.0
"""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Mapping, Sequence
from typing import Any

from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_positive
from fitscope.instrument.result import ProcessOutcome, RunResult
from fitscope.instrument.tables import Stack, Table
from fitscope.isolation.sandbox import Progress, SandboxResult

__all__ = [
    "Limits",
    "ProcessRecorder",
    "growth_per_s",
    "sandbox_facts",
    "launcher_outcomes",
    "peak_memory_bytes",
    "cost_of",
]

MIN_CAP_MB, MAX_CAP_MB = 300.0, 1400.0


@dataclasses.dataclass(frozen=True)
class Limits:
    """Watchdog (s) and memory cap (MB, whole sandboxed tree) of one run, validated."""

    timeout_s: float
    memory_cap_mb: float

    def __post_init__(self) -> None:
        check_positive("seconds", self.timeout_s, maximum=600)
        check_positive("memory cap (MB)", self.memory_cap_mb, maximum=MAX_CAP_MB)
        if self.memory_cap_mb < MIN_CAP_MB:
            raise FitscopeInputError(
                f"memory cap (MB) must be at least {MIN_CAP_MB:g}: TensorFlow "
                f"alone takes about 210 MB in each process, not {self.memory_cap_mb!r}."
            )

    @classmethod
    def default(cls, **overrides: Any) -> Limits:
        """Long enough for spawned children to import TensorFlow and fail or train on an idle
        2-CPU machine (about 10 s); a run still going then is stopped and says so."""
        base = dict(timeout_s=20.0, memory_cap_mb=900.0 if quick_mode() else 1000.0)
        return cls(**{**base, **{k: v for k, v in overrides.items() if v is not None}})


class ProcessRecorder:
    """``on_poll`` of the sandbox: memory and CPU series per pid, roles from the scripts' messages.

    ``live`` (optional) gets ``poll(recorder)`` after each poll, on the cell's thread.
    """

    def __init__(self, live: Any = None) -> None:
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
            if role := m.get("role"):
                self.roles.setdefault(m["pid"], role)
                self.counters[role] = m
            for name, pid in (m.get("children") or {}).items():
                self.roles[pid] = name
        if self.live is not None:
            self.live.poll(self)

    def label(self, pid: int, commands: Mapping[int, str] | None = None) -> str:
        role = self.roles.get(pid) or _role_from_command((commands or {}).get(pid, ""))
        return f"{role} ({pid})"

    def series(
        self, commands: Mapping[int, str] | None = None
    ) -> dict[str, dict[str, list[float]]]:
        out = {}
        for pid, points in self.memory.items():
            cpu = self.cpu.get(pid, [])
            out[self.label(pid, commands)] = {
                "t": [t for t, _ in points],
                "memory_mb": [m for _, m in points],
                "cpu_t": [t for t, _ in cpu],
                "cpu_s": [c for _, c in cpu],
            }
        return out


def _role_from_command(command: str) -> str:
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:
        return "forkserver or its child"
    if "spawn_main" in command:
        return "spawned child"
    return "process"


def growth_per_s(points: Sequence[tuple[float, float]], last_s: float = 1.0) -> float:
    """Growth per second over the last ``last_s`` seconds of (t, value) points."""
    if len(points) < 2:
        return 0.0
    t_end = points[-1][0]
    window = [p for p in points if p[0] >= t_end - last_s] or list(points)
    (t0, v0), (t1, v1) = window[0], points[-1]
    return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


def sandbox_facts(
    run: SandboxResult, limits: Limits | None = None, rec: ProcessRecorder | None = None
) -> dict[str, Any]:
    """What the sandbox measured of a run: how it started (forked from a template or fresh, and
    why), how and when it ended, memory, clean-up, processes."""
    commands = {o.pid: o.command for o in run.outcomes}
    label = rec.label if rec is not None else (lambda pid, _: f"process ({pid})")
    facts: dict[str, Any] = {
        "sandbox_start": run.started,
        "stopped_by": run.stopped_by,
        "wall_s": run.wall_s,
        "poll_s": run.poll_s,
        "peak_memory_mb": run.peak_memory_bytes / 2**20,
        "peak_memory_bytes": run.peak_memory_bytes,
        "peak_pss_bytes": max((b for _, b in run.pss), default=0),
        "memory_growth_mb_per_s": growth_per_s([(t, b / 2**20) for t, b in run.memory]),
        "max_memory_growth_mb_per_s": max(
            (
                (b[1] - a[1]) / 2**20 / (b[0] - a[0])
                for a, b in zip(run.memory, run.memory[1:])
                if b[0] > a[0]
            ),
            default=0.0,
        ),
        "leftovers_removed": run.leftovers_removed,
        "survivors": run.survivors,
        "processes": [
            {
                "role": label(o.pid, commands),
                "pid": o.pid,
                "how": o.how,
                "peak_mb": o.peak_memory_bytes / 2**20,
            }
            for o in run.outcomes
        ],
        "stderr_tail": run.stderr[-2000:],
    }
    if limits is not None:
        facts.update(timeout_s=limits.timeout_s, memory_cap_mb=limits.memory_cap_mb)
    if rec is not None:
        facts["series"] = rec.series(commands)
    return facts


def launcher_outcomes(r: SandboxResult) -> list[ProcessOutcome]:
    """The sandbox's outcomes, with how each child ended as its launcher reported it.

    A child the sandbox itself stopped (watchdog or memory cap) keeps that cause: its launcher,
    still waiting on it, sees only the signal the sandbox sent.
    """
    ended = {m["child_pid"]: m for m in r.messages if m.get("event") == "child ended"}
    stopped = ("killed by watchdog", "killed at memory cap")
    out = []
    for o in r.outcomes:
        if (m := ended.get(o.pid)) is not None:
            how = o.how if o.how in stopped and m["exit_code"] < 0 else m["how"]
            o = dataclasses.replace(
                o,
                how=how,
                exception=m["exception"],
                exit_code=m["exit_code"] if m["exit_code"] >= 0 else None,
                signal=-m["exit_code"] if m["exit_code"] < 0 else None,
            )
        out.append(o)
    return out


def peak_memory_bytes(*results: RunResult) -> dict[str, int]:
    """The kernel's own peak RSS, the largest peak of any sandboxed tree, and their sum.

    A tree's peak is the larger of its RssAnon + RssShmem (what the cap counts) and its PSS
    (shared libraries split between the processes that map them). The sandboxes run one after
    the other, so kernel + largest tree bounds the peak of the whole.
    """
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    trees = max(
        (
            max(r.facts.get("peak_memory_bytes", 0), r.facts.get("peak_pss_bytes", 0))
            for r in results
        ),
        default=0,
    )
    return {"kernel": kernel, "largest_tree": trees, "total": kernel + trees}


def cost_of(*results: RunResult) -> Stack:
    """What sandboxed runs cost this machine at most (kernel + the largest tree), and what must
    hold after them on any machine: no process survived, the kernel never imported TensorFlow."""
    import sys

    peak = peak_memory_bytes(*results)
    table = Table(
        ("kernel's own peak (MiB)", "largest run's tree (MiB)", "at most in all (GiB)"),
        [(peak["kernel"] / 2**20, peak["largest_tree"] / 2**20, peak["total"] / 2**30)],
        reading=f"The runs went one after the other, so this kernel and the largest run's "
        f"tree bound the peak: {peak['total'] / 2**30:.2f} GiB at most.",
    )
    checks = Checks(
        [(f"{r.name}: no process survived", r.facts.get("survivors") == []) for r in results]
        + [("this kernel never imported TensorFlow", "tensorflow" not in sys.modules)]
    )
    return Stack([table, checks], reading=table.reading)
