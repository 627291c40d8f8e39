"""Watch a sandboxed run's process tree: live counters, memory and CPU, the watchdog and the cap.

The run's side sends counters with :func:`report` (a prefixed JSON line on stdout); the sandbox's
side, :func:`watch`, polls the whole session every ``poll_s`` seconds (memory per process, CPU
seconds, the total PSS once a second), hands each poll to ``on_poll``, kills the tree at the
memory cap (at once) or the watchdog (SIGTERM, then SIGKILL), and stops whatever is left when the
run ends.

Memory, per process, its sum over the tree and the cap alike, is :func:`memory_bytes`: the
anonymous and shared memory's proportional set size (``Pss_Anon + Pss_Shmem``), so a page that
forked processes still share (copy-on-write) counts once over the tree, split between them,
and not once per process as ``RssAnon + RssShmem`` would.

Example:
    >>> short_command(["/venv/bin/python", "/tmp/fitscope-sandbox-x1/experiment.py"])
    'python experiment.py'
    >>> messages(["@@fitscope {\\"step\\": 1}\\n", "hi\\n"])
    [{'step': 1}]
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import psutil

from fitscope.instrument.sampling import pss_bytes, rss_bytes
from fitscope.isolation.reaper import session_members

MEMORY_MEASURE = "PSS (anonymous + shared memory)"
"""What the sandbox's memory numbers and its cap count, in words."""


def memory_bytes(pid: int) -> int:
    """``Pss_Anon + Pss_Shmem`` of one process in bytes (0 if it is gone): its anonymous and
    shared memory, each page divided between the processes that share it, so the sum over a
    tree counts a copy-on-write page once. Where the kernel gives no ``smaps_rollup`` (or no
    ``Pss_Anon`` line, before Linux 5.9), ``RssAnon + RssShmem``.

    Example:
        >>> memory_bytes(os.getpid()) > 0, memory_bytes(2**22 + 7)
        (True, 0)
    """
    total, seen = 0, False
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    total += int(line.split()[1]) * 1024
                    seen = True
    except OSError:
        return rss_bytes(pid) if os.path.exists(f"/proc/{pid}") else 0
    return total if seen else rss_bytes(pid)


__all__ = [
    "MESSAGE_PREFIX",
    "COMMAND_CHARS",
    "report",
    "messages",
    "short_command",
    "Progress",
    "Watched",
    "watch",
]

MESSAGE_PREFIX = "@@fitscope "


def report(**values: Any) -> None:
    """Child side: send live counters to the sandbox that started this process.

    Works from the script and from any process it starts (they share its stdout).
    """
    values.setdefault("pid", os.getpid())
    values.setdefault("t", time.time())
    sys.stdout.write(MESSAGE_PREFIX + json.dumps(values) + "\n")
    sys.stdout.flush()


def messages(lines: list[str]) -> list[dict[str, Any]]:
    """The counters :func:`report` sent, from the run's stdout lines so far."""
    out = []
    for line in list(lines):
        if line.startswith(MESSAGE_PREFIX):
            try:
                out.append(json.loads(line[len(MESSAGE_PREFIX) :]))
            except json.JSONDecodeError:
                continue
    return out


COMMAND_CHARS = 70
"""A process's command is shown up to this many characters, each path by its last part."""


def short_command(argv: Sequence[str]) -> str:
    """A command line as a table shows it: paths by their last part, at most ``COMMAND_CHARS``.

    Example:
        >>> short_command(["python", "-c", "from multiprocessing.forkserver import main; " * 3])
        'python -c from multiprocessing.forkserver import main; from multiproc…'
    """
    words = [Path(w).name if w.startswith("/") else w for w in argv]
    text = re.sub(r"(?<![\w.])/(?:[^\s'\"/]+/)+", "", " ".join(words).strip())
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 1] + "…"


def command(pid: int) -> str:
    """The short command of a live process, "" once it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return ""
    return short_command([a for a in argv if a])


@dataclass
class Progress:
    """What the sandbox knows at one poll; passed to ``on_poll``.

    ``memory_bytes`` (:func:`memory_bytes`, PSS) and ``cpu_s`` (user + system CPU seconds so
    far) are per live process.
    """

    t_s: float
    memory_bytes: dict[int, int]
    new_messages: list[dict[str, Any]]
    cpu_s: dict[int, float] = field(default_factory=dict)


class Process(Protocol):
    """What :func:`watch` uses of a run's root process (``subprocess.Popen`` or a forked run)."""

    @property
    def pid(self) -> int: ...

    @property
    def stdout(self) -> IO[str] | None: ...

    @property
    def stderr(self) -> IO[str] | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


@dataclass
class Watched:
    """What watching a run saw: each process (``seen``: command, peak memory as
    :func:`memory_bytes` counts it, how it left), the series (``memory``: the tree's sum, what
    the cap reads; ``pss``: the total PSS, files included, once a second), the run's output, who
    stopped it, and the pids that survived clean-up."""

    seen: dict[int, dict[str, Any]] = field(default_factory=dict)
    memory: list[tuple[float, int]] = field(default_factory=list)
    cpu: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    pss: list[tuple[float, int]] = field(default_factory=list)
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    stopped_by: str | None = None
    survivors: list[int] = field(default_factory=list)


def watch(
    proc: Process,
    start: float,
    *,
    timeout_s: float,
    cap_bytes: int,
    poll_s: float,
    term_grace_s: float,
    on_poll: Callable[[Progress], None] | None = None,
) -> Watched:
    """Poll ``proc``'s session (``t`` counted from ``start``, a ``perf_counter``) until it is
    empty or stopped; then stop what is left and reap ``proc``."""
    w = Watched()
    readers = [
        threading.Thread(target=_read_lines, args=(s, sink), daemon=True)
        for s, sink in ((proc.stdout, w.out), (proc.stderr, w.err))
    ]
    for r in readers:
        r.start()
    n_read = 0
    try:
        while True:
            members = session_members(proc.pid) | ({proc.pid} if proc.poll() is None else set())
            usage = {pid: memory_bytes(pid) for pid in members}
            for pid in members:
                info = w.seen.setdefault(pid, {"command": command(pid), "peak": 0})
                info["peak"] = max(info["peak"], usage[pid])
            for pid, info in w.seen.items():
                info["alive"] = pid in members
            t = time.perf_counter() - start
            total = sum(usage.values())
            w.memory.append((t, total))
            cpu_now = {pid: c for pid in members if (c := _cpu_seconds(pid)) is not None}
            w.cpu.append((t, cpu_now))
            if not w.pss or t - w.pss[-1][0] >= 1.0:  # PSS is slow to read: at most once a second
                w.pss.append((t, sum(pss_bytes(pid) or 0 for pid in members)))
            sent = messages(w.out)
            if on_poll is not None:
                on_poll(Progress(t, usage, sent[n_read:], cpu_now))
            n_read = len(sent)
            if not members:
                break
            if total > cap_bytes:
                w.stopped_by = "memory cap"
                _signal_all(proc.pid, members, signal.SIGKILL)
            elif t > timeout_s:
                w.stopped_by = "watchdog"
                _stop(proc.pid, members, term_grace_s)
            if w.stopped_by:
                break
            try:
                proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                pass
    finally:
        w.survivors = _cleanup(proc, w.seen, term_grace_s)
        for r in readers:
            r.join(timeout=2)
    return w


def _read_lines(stream: Any, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


def _cpu_seconds(pid: int) -> float | None:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def _signal_all(sid: int, pids: set[int], sig: int) -> None:
    try:
        os.killpg(sid, sig)
    except OSError:
        pass
    for pid in pids:  # members that left the process group but not the session
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _stop(sid: int, pids: set[int], grace_s: float) -> None:
    """SIGTERM the tree, then SIGKILL whatever is still there after ``grace_s``."""
    _signal_all(sid, pids, signal.SIGTERM)
    deadline = time.perf_counter() + grace_s
    while time.perf_counter() < deadline:
        if not session_members(sid):
            return
        time.sleep(0.02)
    _signal_all(sid, session_members(sid) | pids, signal.SIGKILL)


def _cleanup(proc: Process, seen: dict[int, dict[str, Any]], grace_s: float) -> list[int]:
    """Stop anything of the run still alive, reap the script; return pids that survived."""
    left = session_members(proc.pid)
    if proc.poll() is None:
        left.add(proc.pid)
    for pid in left:
        seen.setdefault(pid, {"command": command(pid), "peak": 0})["killed_at_cleanup"] = True
    if left:
        _stop(proc.pid, left, grace_s)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    time.sleep(0.05)
    return sorted(session_members(proc.pid))
