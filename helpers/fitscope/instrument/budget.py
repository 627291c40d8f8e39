"""The CPU budget B this process can really use, and the ideal time bounds built on it.

B is the smaller of the CPU affinity (how many cores the scheduler lets us run on) and the cgroup
CPU quota (how much CPU time per period the container may burn). Binder caps CPU by quota, which
TensorFlow ignores when it sizes its thread pools, so both are read.

Example:
    >>> b = cpu_budget()
    >>> b.cpus >= 0.01
    True
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["CpuBudget", "OtherLoad", "cpu_budget"]


@dataclass(frozen=True)
class CpuBudget:
    """CPUs available to this process: ``cpus`` = min(affinity, quota)."""

    cpus: float
    affinity: int
    quota: float | None
    cgroup_version: int | None

    @property
    def source(self) -> str:
        if self.quota is not None and self.quota < self.affinity:
            return f"cgroup v{self.cgroup_version} CPU quota"
        return "CPU affinity"

    def describe(self) -> str:
        """One phrase, e.g. ``B = 2 CPUs (CPU affinity 2; no cgroup quota)``."""
        quota = "no cgroup quota" if self.quota is None else f"cgroup quota {self.quota:g} CPUs"
        unit = "CPU" if self.cpus == 1 else "CPUs"
        return f"B = {self.cpus:g} {unit} (affinity {self.affinity}; {quota})"


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _quota_v2(cgroup_root: Path, rel: str) -> float | None:
    """Smallest ``cpu.max`` quota from our cgroup up to the root (None: unlimited)."""
    limits = []
    path = cgroup_root / rel.lstrip("/")
    for directory in [path, *path.parents]:
        cpu_max = directory / "cpu.max"
        if cpu_max.is_file():
            quota, period = cpu_max.read_text().split()[:2]
            if quota != "max":
                limits.append(int(quota) / int(period))
        if directory == cgroup_root:
            break
    return min(limits) if limits else None


def _quota_v1(cgroup_root: Path, rel: str) -> float | None:
    for controller in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        base = cgroup_root / controller
        for directory in [base / rel.lstrip("/"), base]:
            quota_file = directory / "cpu.cfs_quota_us"
            if quota_file.is_file():
                quota = int(quota_file.read_text().strip())
                period = int((directory / "cpu.cfs_period_us").read_text().strip())
                return None if quota <= 0 else quota / period
    return None


def cgroup_quota(
    proc_cgroup: str | Path = "/proc/self/cgroup", cgroup_root: str | Path = "/sys/fs/cgroup"
) -> tuple[float | None, int | None]:
    """(quota in CPUs or None, cgroup version or None) from /proc/self/cgroup and the cgroup fs.

    Example:
        >>> cgroup_quota("/nonexistent")
        (None, None)
    """
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None, None
    root = Path(cgroup_root)
    found: list[tuple[float | None, int]] = []  # a hybrid host lists both v2 ("0::") and v1 lines
    for line in lines:
        hierarchy, controllers, rel = line.split(":", 2)
        if hierarchy == "0" and controllers == "":
            found.append((_quota_v2(root, rel), 2))
        elif "cpu" in controllers.split(","):
            found.append((_quota_v1(root, rel), 1))
    limited = [(q, v) for q, v in found if q is not None]
    if limited:
        return min(limited)
    return (None, found[0][1]) if found else (None, None)


def cpu_budget(
    proc_cgroup: str | Path = "/proc/self/cgroup",
    cgroup_root: str | Path = "/sys/fs/cgroup",
    affinity: int | None = None,
) -> CpuBudget:
    """Measure B: the CPUs this process may use (affinity, capped by any cgroup quota)."""
    cores = _affinity() if affinity is None else affinity
    quota, version = cgroup_quota(proc_cgroup, cgroup_root)
    cpus = float(cores) if quota is None else min(float(cores), quota)
    return CpuBudget(cpus=cpus, affinity=cores, quota=quota, cgroup_version=version)


class OtherLoad:
    """How many CPUs other processes kept busy while a block ran, and what that left for us.

    A shared laptop or CI machine can have B = 2 and still leave one core free: a claim about
    using more than one core can then not be decided. Reads the machine's CPU times
    (``/proc/stat``); this process's children (worker processes of the run) count as its own
    work (``own_cores``), not as other processes.

    Example:
        >>> with OtherLoad() as load:
        ...     _ = sum(range(10_000))
        >>> load.others_cores >= 0
        True
    """

    def __enter__(self) -> OtherLoad:
        self._busy0, self._own0, self._t0 = (
            _machine_busy_s(),
            _own_cpu_s(),
            time.perf_counter(),
        )
        self._children0 = _children_cpu_s()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._t0
        children = _children_cpu_s()
        # a child alive at the start and waited for since: os.times holds all its CPU, the
        # part before the start included, so that part is taken off again
        before = sum(cpu for pid, cpu in self._children0.items() if pid not in children)
        own = (_own_cpu_s() - self._own0 - before) + sum(
            cpu - self._children0.get(pid, 0.0) for pid, cpu in children.items()
        )
        others = (_machine_busy_s() - self._busy0) - own
        self.own_s = own
        self.own_cores = own / wall if wall > 0 else 0.0
        self.others_cores = max(0.0, others / wall) if wall > 0 else 0.0

    def free_cpus(self, budget: float) -> float:
        """CPUs left for this process: B, or fewer if the others crowded the machine's CPUs."""
        return max(0.0, min(budget, (psutil.cpu_count() or 1) - self.others_cores))


def _own_cpu_s() -> float:
    """CPU seconds of this process and of its children that ended and were waited for (a
    PyDataset's worker processes, a pool's): the run's own work, not other processes'."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _children_cpu_s() -> dict[int, float]:
    """CPU seconds of each live descendant of this process, by pid, with those of its own children
    that ended and were waited for (F-9: worker processes of the run itself were counted as
    "other processes"; r8: so were those a fork server, a child of ours, started and reaped)."""
    out = {}
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        out[child.pid] = c.user + c.system + c.children_user + c.children_system
    return out


def _machine_busy_s() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))
