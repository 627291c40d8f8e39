"""Execute one notebook with nbclient and save the executed copy.

``python notebook_runner.py [--loopback-up] IN OUT CWD``

The notebook tests call this in a fresh interpreter rather than inside pytest's process: in the
pytest process, nbclient sometimes received a finished cell's reply only when the per-cell
timeout ran out (the kernel was idle all along), which turned a 2 s cell into a 300 s one.

``--loopback-up`` brings up ``lo`` first: the tests start this script in a new network namespace
(``unshare -n``), where only loopback exists and starts down, so the kernel can talk to nbclient
and nothing can reach any other network. The executed notebook's metadata records the run time
and the peak memory (RssAnon + RssShmem) of the kernel and every process it started.

Cells run under fitscope's own client (:mod:`fitscope.execute`, which instructors use too): it
carries the stall's fix (each send re-reads the socket's ZMQ events, so a reply that landed during
nbclient's widget ``comm_msg`` sends is not left unread) and a watch that fails a stall fast: no
IOPub message for ``STALL_QUIET_S`` while the kernel and its children use no CPU raises
``KernelStallError`` at once, saying which side held the message, instead of waiting out the cell
limit. ``CELL_TIMEOUT_S`` is the limit for one cell that works (a cell that starts a fresh
TensorFlow interpreter takes 10-20 s here; no whole notebook takes 90 s in quick mode).
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import psutil
from nbclient.exceptions import CellExecutionError

from fitscope.execute import KernelStallError, WatchedClient, tree_cpu_s

CELL_TIMEOUT_S = 120
STALL_QUIET_S = 20.0
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _anon_shmem_bytes(pid: int) -> int:
    """Anonymous and shared-memory pages, each page shared by n processes counted 1/n (PSS):
    a run forked from the template shares its pages, and would otherwise count them twice."""
    keys = ("Pss_Anon", "Pss_Shmem")
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith(keys))
        if len(fields) < 2:  # a kernel without proportional anonymous sizes (before 5.x)
            keys = ("RssAnon", "RssShmem")
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields.get(k, "0 kB").split()[0]) * 1024 for k in keys)
    except (OSError, ValueError):
        return 0


class TreeMemory:
    """Peak memory of a process's descendants (by default this one's: the kernel and its
    children), polled."""

    def __init__(self, interval_s: float = 0.2, root: int | None = None) -> None:
        self.peak_bytes, self._root = 0, root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def _run(self, interval_s: float) -> None:
        me = psutil.Process(self._root)
        while not self._stop.wait(interval_s):
            try:
                tree = me.children(recursive=True)
            except psutil.Error:
                return
            total = sum(_anon_shmem_bytes(p.pid) for p in tree)
            self.peak_bytes = max(self.peak_bytes, total)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_watching_for_stalls(
    cmd: Sequence[str],
    *,
    timeout_s: float,
    quiet_s: float = STALL_QUIET_S,
    idle_share: float = 0.02,
    **popen: Any,
) -> tuple[subprocess.CompletedProcess[str], str | None]:
    """Run ``cmd`` (e.g. plain ``jupyter nbconvert --execute``); stop it if it stalls.

    A stall, for a client we cannot look into: the process and everything it started (the kernel
    included) used under ``idle_share`` of one CPU for ``quiet_s`` while it has not ended. Then
    the whole tree is killed and the second value says so; it is None otherwise.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=err, text=True, start_new_session=True, **popen
        )
        root, window, stall, started = psutil.Process(proc.pid), [], None, time.monotonic()
        while proc.poll() is None:
            now, used = time.monotonic(), tree_cpu_s(root.pid)
            if used is not None:
                window = [(t, c) for t, c in window if now - t <= quiet_s + 1.5] + [(now, used)]
            idle_for = window[-1][0] - window[0][0] if window else 0.0
            if idle_for >= quiet_s and window[-1][1] - window[0][1] < idle_share * idle_for:
                stall = (
                    f"stall: {Path(cmd[0]).name} and its kernel sat idle for {idle_for:.0f} s "
                    "without ending (no reply came; not a slow cell, nothing used the CPU)"
                )
            elif now - started > timeout_s:
                stall = f"timeout: still running after {timeout_s:.0f} s (busy, not a stall)"
            if stall:
                for p in [*root.children(recursive=True), root]:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
                break
            time.sleep(1.0)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(list(cmd), proc.returncode, out.read(), err.read())
    return done, stall


def main(src: str, dst: str, cwd: str) -> int:
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    client = WatchedClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": cwd}}
    )
    client.stall_watch_options = {"quiet_s": STALL_QUIET_S, "on_stall": "raise"}
    started = time.perf_counter()
    status = 0
    with TreeMemory() as memory:
        try:
            client.execute()
        except CellExecutionError as e:
            print(str(e).splitlines()[-1], file=sys.stderr)
            status = 1
        except KernelStallError as e:  # not a slow cell: the kernel sat idle with no reply
            print(f"KernelStallError: {e}", file=sys.stderr)
            status = 1
        except Exception as e:  # a cell timeout or a dead kernel: keep what ran, for the report
            print(f"{type(e).__name__}: {e}", file=sys.stderr)
            status = 1
    nb.metadata["fitscope_run_s"] = round(time.perf_counter() - started, 1)
    nb.metadata["fitscope_peak_memory_bytes"] = memory.peak_bytes
    nbformat.write(nb, dst)
    return status


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--loopback-up":
        bring_loopback_up()
        args = args[1:]
    raise SystemExit(main(*args[:3]))
