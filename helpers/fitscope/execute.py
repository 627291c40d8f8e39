"""Execute notebooks outside JupyterLab (to pre-run them before a class) without the reply stall.

The stall (docs/troubleshooting.md): a cell whose outputs go into an ``ipywidgets.Output`` (our
panels' live figure and charts) makes nbclient send a ``comm_msg`` on the shell channel for each
output, while it waits for that cell's reply on the same socket with one asyncio poll.
jupyter_client's ``Session.send`` sends on a plain *shadow* of the asyncio socket, so pyzmq never
re-reads ``ZMQ_EVENTS`` afterwards; a reply that lands during that send has its edge-triggered
wake-up consumed by the send, and the poll sleeps until the cell timeout, with the reply already
in the client's socket and the kernel idle.

:func:`rewake_after_send` is the fix: after every send on a channel it reads ``ZMQ_EVENTS``
through the asyncio socket, which makes pyzmq wake any poll that has a message ready (libzmq's
rule: after a send, check the events again). :class:`StallWatch` is the net under it: when a
request is pending, no IOPub message has come for ``quiet_s`` and the kernel's process tree used
no CPU, it nudges once (re-reads the events, then sends a ``kernel_info_request``, which wakes a
kernel that missed a request); a stall is recorded either way, and raised as
:class:`KernelStallError` when the nudge brings nothing. Both live only here.

Two ways to use it (both need nbclient / nbconvert, which JupyterLab installs):

    jupyter nbconvert --to notebook --output-dir executed \\
        --NotebookExporter.preprocessors=fitscope.execute.WatchedExecutePreprocessor \\
        notebooks/*.ipynb

    python -m fitscope.execute notebooks/00_start_here.ipynb executed/00_start_here.ipynb

Example:
    >>> watch = StallWatch(quiet_s=20)
    >>> watch.idle([(0.0, 5.0), (20.0, 5.1)])    # 0.1 s of CPU in 20 s: idle
    True
    >>> watch.idle([(0.0, 5.0), (20.0, 9.0)])    # 4 s of CPU: a slow cell, not a stall
    False
    >>> watch.idle([(0.0, 9.0), (10.0, 14.0), (20.0, 5.0)])  # a busy child left the tree
    False
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

__all__ = [
    "CELL_TIMEOUT_S",
    "KernelStallError",
    "StallWatch",
    "rewake_after_send",
    "execute_notebook",
    "tree_cpu_s",
]  # + WatchedClient, WatchedExecutePreprocessor (lazy)

CELL_TIMEOUT_S = 120  # no cell of the collection takes a minute in quick mode, even on one CPU
QUIET_S = 20.0  # no IOPub message for this long, with an idle kernel, is a stall
IDLE_CPU_SHARE = 0.02  # "idle": the kernel and its children used under 2% of one CPU meanwhile
NUDGE_WAIT_S = 3.0
LATE_S = 2.0  # a reply read this long after the kernel made it (its header time) is late


class KernelStallError(RuntimeError):
    """A cell's reply did not come while the kernel sat idle: a stall, not a slow cell."""


def rewake_after_send(kc: Any) -> Any:
    """Make every send on ``kc``'s channels re-read ``ZMQ_EVENTS`` on the asyncio socket.

    Reading EVENTS through a ``zmq.asyncio`` socket makes pyzmq schedule a wake-up for a pending
    poll if a message is ready, which the raw send in ``Session.send`` skips. Returns ``kc``.
    """
    import zmq

    for name in ("shell_channel", "control_channel", "stdin_channel"):
        channel = getattr(kc, name, None)
        if channel is None or getattr(channel, "_fitscope_rewake", False):
            continue

        def send(
            msg: dict[str, Any], _send: Callable[..., None] = channel.send, _channel: Any = channel
        ) -> None:
            _send(msg)
            if _channel.socket is not None and not _channel.socket.closed:
                _channel.socket.get(zmq.EVENTS)

        channel.send = send
        channel._fitscope_rewake = True
    return kc


def tree_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) of process ``pid`` and all its descendants, the ones that
    ended and were waited for included (a parent's ``children_*`` times); None if gone.

    Without the ended ones, a child that worked for the whole quiet window and then ended would
    make the tree's total fall, and the window read as idle.
    """
    if pid is None:
        return None
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


@dataclass
class StallWatch:
    """Watches one kernel client: pending request, IOPub silence and the kernel tree's CPU.

    ``stalls`` lists every stall seen (cell, which side held the message, what woke it);
    ``late_replies_s`` how long after the kernel made it each late reply was read.
    ``on_stall="raise"`` raises :class:`KernelStallError` at once (for tests: fail fast);
    ``"nudge"`` tries the nudges first and raises only if nothing comes.
    """

    quiet_s: float = QUIET_S
    idle_share: float = IDLE_CPU_SHARE
    on_stall: str = "nudge"
    nudge_wait_s: float = NUDGE_WAIT_S
    stalls: list[dict[str, Any]] = field(default_factory=list)
    late_replies_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pending: str | None = None
        self.cell = ""
        self.busy: set[str] = set()
        self.idle_seen: set[str] = set()
        self.last_msg = time.monotonic()
        self.failed: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def idle(self, cpu: list[tuple[float, float]] | deque[tuple[float, float]]) -> bool:
        """Whether ``(time, cpu seconds)`` samples show the tree under ``idle_share`` of a CPU.

        A total that fell inside the window (a process left the tree before its CPU could be
        counted) decides nothing: the window is not called idle.
        """
        if len(cpu) < 2 or cpu[-1][0] - cpu[0][0] < 0.5 * self.quiet_s:
            return False
        if any(later[1] < earlier[1] for earlier, later in zip(cpu, list(cpu)[1:])):
            return False
        return cpu[-1][1] - cpu[0][1] < self.idle_share * (cpu[-1][0] - cpu[0][0])

    def attach(self, kc: Any, kernel_pid: int | None) -> Any:
        """Wrap ``kc``'s execute, shell and IOPub reads; start watching. Returns ``kc``."""
        shell_get, iopub_get = kc.shell_channel.get_msg, kc.iopub_channel.get_msg
        execute = kc.execute
        self.failed = asyncio.get_running_loop().create_future()

        def execute_noted(code: str, *args: Any, **kwargs: Any) -> str:
            msg_id = execute(code, *args, **kwargs)
            self.pending, self.cell, self.last_msg = msg_id, code, time.monotonic()
            return msg_id

        async def shell(timeout: float | None = None) -> Any:
            msg = await self._unless_stalled(shell_get(timeout=timeout))
            if msg["parent_header"].get("msg_id") == self.pending:
                self.pending = None
                made = msg["header"].get("date")
                lag = time.time() - made.timestamp() if hasattr(made, "timestamp") else 0.0
                if lag > LATE_S:  # read late, whether or not the watch saw a stall
                    self.late_replies_s.append(round(lag, 1))
            return msg

        async def iopub(timeout: float | None = None) -> Any:
            msg = await iopub_get(timeout=timeout)
            self.last_msg = time.monotonic()
            if msg["msg_type"] == "status":
                parent = msg["parent_header"].get("msg_id")
                state = msg["content"].get("execution_state")
                (self.busy if state == "busy" else self.idle_seen).add(parent)
            return msg

        kc.execute, kc.shell_channel.get_msg, kc.iopub_channel.get_msg = execute_noted, shell, iopub
        self._task = asyncio.ensure_future(self._watch(kc, kernel_pid))
        return kc

    async def _unless_stalled(self, get: Any) -> Any:
        """Await ``get``, unless the watch declares a stall first (then raise it)."""
        task = asyncio.ensure_future(get)
        assert self.failed is not None
        try:
            await asyncio.wait({task, self.failed}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not task.done():
            task.cancel()
            self.failed.result()  # raises the KernelStallError
        return task.result()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _watch(self, kc: Any, pid: int | None) -> None:
        cpu: deque[tuple[float, float]] = deque()
        while True:
            await asyncio.sleep(1.0)
            now, used = time.monotonic(), tree_cpu_s(pid)
            if used is None:
                cpu.clear()
                continue
            cpu.append((now, used))
            while cpu and now - cpu[0][0] > self.quiet_s:
                cpu.popleft()
            if self.pending is None or now - self.last_msg < self.quiet_s or not self.idle(cpu):
                continue
            await self._stalled(kc)
            cpu.clear()

    async def _stalled(self, kc: Any) -> None:
        import zmq

        mid = self.pending
        shell, iopub = kc.shell_channel.socket, kc.iopub_channel.socket
        stall = {
            "cell": self.cell.strip().splitlines()[0][:80] if self.cell.strip() else "",
            "quiet_s": round(time.monotonic() - self.last_msg, 1),
            "kernel_started_it": mid in self.busy,
            "kernel_finished_it": mid in self.idle_seen,
            "reply_waiting_in_client": bool(
                cast(int, zmq.Socket.shadow(shell.underlying).get(zmq.EVENTS)) & zmq.POLLIN
            ),
            "woken_by": None,
        }
        self.stalls.append(stall)
        where = (
            "its reply waits unread in the client's socket"
            if stall["reply_waiting_in_client"]
            else "the kernel finished it but no reply came"
            if stall["kernel_finished_it"]
            else "the kernel never started it"
            if not stall["kernel_started_it"]
            else "the kernel started it and went quiet"
        )
        message = (
            f"stall: the cell {stall['cell']!r} got no reply and no IOPub message for "
            f"{stall['quiet_s']:.0f} s while the kernel and its children were idle "
            f"({where})"
        )
        if self.on_stall == "nudge":
            for how in ("re-read ZMQ_EVENTS", "kernel_info_request"):
                if how == "re-read ZMQ_EVENTS":
                    shell.get(zmq.EVENTS)
                    iopub.get(zmq.EVENTS)
                else:
                    kc.kernel_info()
                before = self.last_msg
                stall["woken_by"] = how  # set first: the run may end before this task wakes
                deadline = time.monotonic() + self.nudge_wait_s
                while (
                    time.monotonic() < deadline and self.pending == mid and self.last_msg == before
                ):
                    await asyncio.sleep(0.05)
                if self.pending != mid or self.last_msg != before:
                    self.last_msg = time.monotonic()
                    print(f"fitscope: {message}; woken by a nudge ({how})", file=sys.stderr)
                    return
                stall["woken_by"] = None
        assert self.failed is not None
        if not self.failed.done():
            self.failed.set_exception(KernelStallError(message))


@functools.cache
def _watched_client_class(base: type) -> type:
    class Watched(base):
        rewake_sends = True  # False only to measure the stall (benchmarks/stall_stress.py)
        stall_watch_options: dict[str, Any] = {}

        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            if self.rewake_sends:
                rewake_after_send(kc)
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            self.stall_watch = StallWatch(**self.stall_watch_options)
            return self.stall_watch.attach(kc, getattr(process, "pid", None))

        async def _async_cleanup_kernel(self) -> None:
            if getattr(self, "stall_watch", None) is not None:
                self.stall_watch.stop()
            await super()._async_cleanup_kernel()

    Watched.__name__ = Watched.__qualname__ = f"Watched{base.__name__}"
    Watched.__doc__ = (
        f"{base.__name__} that re-reads ZMQ events after each send and turns a "
        "stall (idle kernel, no reply) into KernelStallError."
    )
    return Watched


def __getattr__(name: str) -> Any:  # nbclient / nbconvert are imported only when asked for
    if name in ("WatchedClient", "SlicedPollClient"):  # the old name still works
        from nbclient import NotebookClient

        return _watched_client_class(NotebookClient)
    if name in ("WatchedExecutePreprocessor", "SlicedExecutePreprocessor"):
        from nbconvert.preprocessors import ExecutePreprocessor

        return _watched_client_class(ExecutePreprocessor)
    raise AttributeError(name)


def execute_notebook(
    src: str | Path,
    dst: str | Path,
    timeout_s: float = CELL_TIMEOUT_S,
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
) -> float:
    """Execute ``src`` top to bottom, write the executed copy to ``dst``; return its seconds.

    A failing cell raises nbclient's ``CellExecutionError`` and a stall that no nudge ends raises
    :class:`KernelStallError`, both after the copy is written.
    """
    import nbformat

    nb = nbformat.read(src, as_version=4)
    client = __getattr__("WatchedClient")(
        nb,
        timeout=int(timeout_s),
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd or Path(src).resolve().parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
    return time.perf_counter() - started


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m fitscope.execute NOTEBOOK.ipynb EXECUTED.ipynb")
    print(f"executed in {execute_notebook(sys.argv[1], sys.argv[2]):.1f} s")
