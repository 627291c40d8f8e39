"""What a container's CPU limit does to TensorFlow: the cores it sees against the quota it gets.

Binder (like ``docker run --cpus`` or a Kubernetes CPU limit) caps CPU with a CFS *quota*: the
container still sees every core of the host, so TensorFlow sizes its intra-op and inter-op thread
pools for the host; when the group has burnt its quota for the period (100 ms), Linux stops all its
threads until the next period: it is *throttled*. :func:`pool_use` measures this on the spot: how
many threads a TensorFlow matmul loop really ran on, how much CPU it got, and how often and how
long the cgroup was throttled meanwhile (``cpu.stat``). B itself comes from
:mod:`fitscope.instrument.budget`.

Example:
    >>> t = throttling()
    >>> t is None or t.throttled_periods <= t.periods
    True
    >>> use = pool_use(seconds=0.3, size=128)       # doctest: +SKIP
    >>> str(use)                                     # doctest: +SKIP
    TensorFlow ran the matmuls on 2 threads (it sees 2 cores); B = 1 CPU (cgroup v1 CPU quota) ...
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from fitscope.instrument.budget import CpuBudget, cpu_budget
from fitscope.instrument.sampling import thread_cpu_ns, thread_ids
from fitscope.instrument.tables import ShowsItself, Table

__all__ = ["Throttling", "PoolUse", "cpu_stat_path", "throttling", "pool_use"]


@dataclass(frozen=True)
class Throttling:
    """The cgroup's CFS counters: quota periods seen, periods throttled, time throttled."""

    periods: int
    throttled_periods: int
    throttled_s: float

    def __sub__(self, earlier: Throttling) -> Throttling:
        return Throttling(
            self.periods - earlier.periods,
            self.throttled_periods - earlier.throttled_periods,
            self.throttled_s - earlier.throttled_s,
        )


def cpu_stat_path(
    proc_cgroup: str | Path = "/proc/self/cgroup", cgroup_root: str | Path = "/sys/fs/cgroup"
) -> Path | None:
    """This process's ``cpu.stat``: cgroup v1's cpu controller if mounted, else cgroup v2's.

    Example:
        >>> cpu_stat_path("/nonexistent") is None
        True
    """
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None
    root = Path(cgroup_root)
    v1 = [(c.split(","), rel) for _, c, rel in (line.split(":", 2) for line in lines) if c]
    candidates = [root / ",".join(cs) / rel.lstrip("/") for cs, rel in v1 if "cpu" in cs]
    candidates += [root / "cpu" / rel.lstrip("/") for cs, rel in v1 if "cpu" in cs]
    if not v1:  # cgroup v2 only: one unified hierarchy
        candidates += [
            root / rel.lstrip("/")
            for h, c, rel in (line.split(":", 2) for line in lines)
            if h == "0" and c == ""
        ]
    for directory in candidates:
        if (directory / "cpu.stat").is_file():
            return directory / "cpu.stat"
    return None


def throttling(path: Path | None = None) -> Throttling | None:
    """The CFS counters from ``cpu.stat`` (v1: ``throttled_time`` ns; v2: ``throttled_usec``).

    None when there is no cpu.stat or it has no throttling counters (no cpu controller).
    """
    path = path or cpu_stat_path()
    if path is None:
        return None
    try:
        stat = dict(
            line.split() for line in path.read_text().splitlines() if len(line.split()) == 2
        )
    except OSError:
        return None
    if "nr_periods" not in stat:
        return None
    seconds = (
        int(stat["throttled_time"]) / 1e9
        if "throttled_time" in stat
        else int(stat.get("throttled_usec", 0)) / 1e6
    )
    return Throttling(int(stat["nr_periods"]), int(stat["nr_throttled"]), seconds)


@dataclass(frozen=True)
class PoolUse(ShowsItself):
    """One measurement of TensorFlow's thread pools against this container's CPU budget."""

    visible_cores: int
    budget: CpuBudget
    busy_threads: int
    wall_s: float
    cpu_s: float
    throttled: Throttling | None

    @property
    def cpus_used(self) -> float:
        """CPU seconds per wall second the process got while TensorFlow computed."""
        return self.cpu_s / self.wall_s if self.wall_s else 0.0

    def table(self) -> Table:
        t = self.throttled
        rows = [
            ("cores this process sees", self.visible_cores),
            ("CPU budget B", self.budget.describe()),
            ("threads that did the matmuls", self.busy_threads),
            ("CPU-seconds per second it got", round(self.cpus_used, 2)),
            (
                "quota periods throttled",
                f"{t.throttled_periods} of {t.periods}" if t and t.periods else "none",
            ),
        ]
        return Table(
            ("measured", "value"),
            rows,
            title="TensorFlow's thread pools against the CPU budget",
            reading=self.describe(),
        )

    def describe(self) -> str:
        """One or two sentences, true on any machine: what ran where, and what the limit did."""
        threads = f"{self.busy_threads} thread" + ("" if self.busy_threads == 1 else "s")
        text = (
            f"TensorFlow ran the matmuls on {threads} (this process sees {self.visible_cores} "
            f"core{'' if self.visible_cores == 1 else 's'}); {self.budget.describe()}: it got "
            f"{self.cpus_used:.2f} CPU-seconds per second over {self.wall_s:.1f} s."
        )
        if self.throttled is None or self.throttled.periods == 0:
            return text + " No cgroup CPU quota was in force, so nothing throttled it."
        t = self.throttled
        return text + (
            f" The cgroup was throttled in {t.throttled_periods} of {t.periods} quota periods "
            f"({t.throttled_s:.2f} s of waiting with work ready)."
        )


def pool_use(seconds: float = 1.0, size: int = 512) -> PoolUse:
    """Run ``size`` x ``size`` float32 matmuls for ``seconds`` with TensorFlow's default pools.

    Counts the threads that did at least a tenth of a CPU-second per second of it. Runs in this
    process: call it where TensorFlow may be imported (it changes no TensorFlow setting).
    """
    import tensorflow as tf

    a = tf.random.uniform((size, size))
    tf.linalg.matmul(a, a).numpy()  # warm-up: the pools exist from here on
    before = {tid: thread_cpu_ns(tid) or 0 for tid in thread_ids()}
    stat0 = throttling()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        b = a
        for _ in range(4):
            b = tf.linalg.matmul(b, a) / size
        b.numpy()
    wall = time.perf_counter() - start
    stat1 = throttling()
    used = {tid: (thread_cpu_ns(tid) or 0) - before.get(tid, 0) for tid in thread_ids()}
    busy = sum(1 for ns in used.values() if ns / 1e9 >= 0.1 * wall)
    return PoolUse(
        visible_cores=os.cpu_count() or 1,
        budget=cpu_budget(),
        busy_threads=busy,
        wall_s=wall,
        cpu_s=sum(max(ns, 0) for ns in used.values()) / 1e9,
        throttled=(stat1 - stat0) if stat0 and stat1 else None,
    )
