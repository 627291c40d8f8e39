"""Stop a sandboxed run's whole process tree when the process that started it dies.

A sandboxed run lives in its own session (its session id is the first child's pid). If the kernel
that started it dies, however it dies (``kill -9`` and the OOM killer included), nothing in the
kernel can clean up: the run's processes are reparented and keep running. So
:func:`fitscope.isolation.sandbox.run_python` starts this module first, as a small process of its
own (own
session, standard library only, ``python -I reaper.py``), with its stdin a pipe from the kernel:

1. the kernel writes the run's session id, one line;
2. when the run ends normally, the kernel writes ``done`` and closes the pipe: the reaper exits;
3. if the pipe reaches end-of-file without ``done``, the kernel is gone (Linux closes a dead
   process's pipe ends at once): the reaper SIGKILLs every process of the session until none is
   left, removes the /dev/shm semaphores and shared blocks created since it started that no live
   process maps, and exits.

The session-and-/dev/shm helpers here are also the sandbox's own, so both clean up the same way;
:class:`Reaper` is the sandbox's end of the pipe.

Example:
    >>> sorted(session_members(-1))
    []
    >>> remove_new_shm(shm_entries(), settle_s=0)
    []
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time

__all__ = [
    "SHM_PATTERNS",
    "session_members",
    "shm_entries",
    "remove_new_shm",
    "kill_session",
    "Reaper",
]

SHM_PATTERNS = ("/dev/shm/sem.*", "/dev/shm/psm_*")


def session_members(sid: int) -> set[int]:
    """Live (not zombie) processes whose session id is ``sid``: the whole sandboxed tree."""
    members = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.add(int(entry))
    return members


def shm_entries() -> set[str]:
    """POSIX semaphores and shared-memory blocks in /dev/shm (multiprocessing's names)."""
    return {p for pattern in SHM_PATTERNS for p in glob.glob(pattern)}


def _mapped_shm_inodes() -> set[int]:
    """Inodes of /dev/shm files some live process has mapped (an open semaphore or shared block).

    By inode, not name: glibc maps a semaphore under a temporary name, then links it to its real
    one.
    """
    mapped: set[int] = set()
    for maps in glob.glob("/proc/[0-9]*/maps"):
        try:
            with open(maps) as f:
                mapped.update(int(line.split()[4]) for line in f if "/dev/shm/" in line)
        except (OSError, ValueError, IndexError):
            continue
    return mapped


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def remove_new_shm(before: set[str], settle_s: float = 0.5) -> list[str]:
    """Remove semaphores / shared memory created since ``before`` was taken and still there.

    Called once the run's whole tree is gone, so an entry a live process still maps belongs to
    someone else (e.g. another notebook's run at the same time) and is left alone.
    """
    deadline = time.perf_counter() + settle_s
    new = shm_entries() - before
    while new and time.perf_counter() < deadline:  # a resource tracker may still be tidying
        time.sleep(0.05)
        new = shm_entries() - before
    removed = []
    mapped = _mapped_shm_inodes()
    for path in sorted(p for p in new if _inode(p) not in mapped):
        try:
            os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def kill_session(sid: int, timeout_s: float = 10.0) -> bool:
    """SIGKILL every process of session ``sid`` until none is left; False if some outlived
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        members = session_members(sid)
        if not members:
            return True
        if time.monotonic() > deadline:
            return False
        try:
            os.killpg(sid, signal.SIGKILL)
        except OSError:
            pass
        for pid in members:  # members that left the process group but not the session
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


class Reaper:
    """The sandbox's end: start the reaper (its own session, stdin a pipe only this process
    holds), tell it the run's session id, release it when the run ended here normally."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def tell(self, line: str) -> None:
        assert self.proc.stdin is not None  # started with stdin=PIPE
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except OSError:  # the reaper is gone: the run goes on, without protection against our death
            pass

    def release(self) -> None:
        """The run ended here, normally: the reaper leaves its tree alone and exits."""
        self.tell("done")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main() -> int:
    """The reaper process: see the module docstring for the protocol on stdin."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(
            sig, signal.SIG_IGN
        )  # a terminal's Ctrl-C or hang-up is not the kernel's death
    before = shm_entries()
    first = sys.stdin.readline().strip()
    if not first.isdigit():
        return 0  # the run never started (or the starter died before it did)
    sid = int(first)
    if sys.stdin.read().strip() == "done":
        return 0
    kill_session(sid)
    remove_new_shm(before, settle_s=0.2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
