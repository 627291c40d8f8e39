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
import socket
import struct
import sys
import threading
import time

import nbformat
import psutil
from fitscope.execute import KernelStallError, WatchedClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT_S = 120
STALL_QUIET_S = 20.0
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _anon_shmem_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields.get(k, "0 kB").split()[0]) * 1024 for k in ("RssAnon", "RssShmem"))
    except (OSError, ValueError):
        return 0


class TreeMemory:
    """Peak memory of this process's descendants (the kernel and its children), polled."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def _run(self, interval_s: float) -> None:
        me = psutil.Process()
        while not self._stop.wait(interval_s):
            total = sum(_anon_shmem_bytes(p.pid) for p in me.children(recursive=True))
            self.peak_bytes = max(self.peak_bytes, total)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(src: str, dst: str, cwd: str) -> int:
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    client = WatchedClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                           resources={"metadata": {"path": cwd}})
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
