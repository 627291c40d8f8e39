"""A real container limit for a test: a cgroup with a CPU quota and a memory limit, as Binder sets.

Binder gives a kernel a CFS quota of 1 CPU and a 2 GiB memory limit while the container still sees
all of the host's cores. :class:`ContainerLimits` makes such a cgroup (v1: a ``cpu`` group and a
``memory`` group nested in this process's own; v2: one group with ``cpu.max`` and
``memory.max``), gives the command prefix that moves a process into it before it execs, and reads
back what happened: throttling, peak memory, OOM kills. It needs root and a writable cgroup
filesystem; otherwise :class:`CgroupUnavailable` says why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from fitscope.instrument.container import throttling

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
# Moves the shell into each cgroup.procs given before "--", then execs the command after it.
_JOIN = 'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'


class CgroupUnavailable(RuntimeError):
    """No cgroup can be made here (not root, read-only or missing controllers)."""


def _own_groups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    groups = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, rel = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            groups[c] = rel
    return groups


class ContainerLimits:
    """A cgroup limiting CPU to ``cpus`` (quota) and memory to ``memory_bytes``; a context
    manager."""

    def __init__(self, cpus: float = 1.0, memory_bytes: int = 2 * 2**30) -> None:
        self.cpus, self.memory_bytes = cpus, memory_bytes
        self.name = f"fitscope-test-{os.getpid()}-{time.monotonic_ns()}"
        self.dirs: list[Path] = []
        self.version = 0

    def __enter__(self) -> ContainerLimits:
        try:
            self._make()
        except OSError as e:
            self._remove()
            raise CgroupUnavailable(
                f"cannot make a cgroup here ({e.strerror or e}: {e.filename})"
            ) from e
        return self

    def __exit__(self, *exc: object) -> None:
        self._remove()

    def _make(self) -> None:
        groups = _own_groups()
        quota = str(int(self.cpus * PERIOD_US))
        if "cpu" in groups and (ROOT / "cpu").is_dir() and "memory" in groups:
            self.version = 1
            cpu = ROOT / "cpu" / groups["cpu"].lstrip("/") / self.name
            memory = ROOT / "memory" / groups["memory"].lstrip("/") / self.name
            for d in (cpu, memory):
                d.mkdir()
                self.dirs.append(d)
            (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(quota)
            (memory / "memory.limit_in_bytes").write_text(str(self.memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit
                (memory / "memory.memsw.limit_in_bytes").write_text(str(self.memory_bytes))
        elif "" in groups and (ROOT / "cgroup.controllers").is_file():
            self.version = 2
            parent = ROOT / groups[""].lstrip("/")
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            missing = [f"+{c}" for c in ("cpu", "memory") if c not in enabled]
            if missing:
                (parent / "cgroup.subtree_control").write_text(" ".join(missing))
            group = parent / self.name
            group.mkdir()
            self.dirs.append(group)
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            (group / "memory.max").write_text(str(self.memory_bytes))
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
        else:
            raise CgroupUnavailable("neither cgroup v1 cpu+memory controllers nor cgroup v2 found")

    def prefix(self) -> list[str]:
        """Put before a command: it joins this cgroup, then execs the command."""
        return ["sh", "-c", _JOIN, "sh", *(str(d / "cgroup.procs") for d in self.dirs), "--"]

    def _read(self, name: str) -> str:
        for d in self.dirs:
            if (d / name).exists():
                return (d / name).read_text()
        return ""

    def stats(self) -> dict[str, float | int | None]:
        """Throttling, peak memory (cgroup-charged, page cache included) and OOM kills so far."""
        cpu = throttling(
            self.dirs[0] / "cpu.stat"
        )  # v1: the cpu group comes first; v2: the one group
        if self.version == 1:
            peak = self._read("memory.max_usage_in_bytes").strip()
            events = self._read("memory.oom_control")
        else:
            peak = self._read("memory.peak").strip()
            events = self._read("memory.events")
        ev = dict(line.split() for line in events.splitlines() if len(line.split()) == 2)
        return {
            "periods": cpu.periods if cpu else 0,
            "throttled_periods": cpu.throttled_periods if cpu else 0,
            "throttled_s": round(cpu.throttled_s, 2) if cpu else 0.0,
            "peak_memory_bytes": int(peak) if peak else None,
            "oom_kills": int(ev["oom_kill"]) if "oom_kill" in ev else None,
        }

    def _remove(self) -> None:
        """Remove the groups; any process still inside is killed first (the test reports
        survivors)."""
        for d in reversed(self.dirs):
            deadline = time.monotonic() + 5
            while d.exists():
                try:
                    d.rmdir()
                except OSError:
                    for pid in (d / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except OSError:
                            pass
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
        self.dirs = []
