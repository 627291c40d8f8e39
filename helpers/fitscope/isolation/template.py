"""Start sandboxed runs from a template interpreter that has already imported the heavy modules.

Importing TensorFlow and Keras took 3.7–8.6 s on our 2-core machines (3.7–4.0 s on one, 7.5–8.6 s on
another), and every sandboxed run used to pay it. A template is a fresh interpreter, started by this
one (the kernel is never forked), that imports the modules a run asks for (``preload``) and then
waits. Each run is a process forked from the template: TensorFlow (or JAX) has been imported in it
but has never run, so the run still chooses its own process-wide settings (intra-op threads,
devices, a start method), exactly as a fresh interpreter would. What is read at import time is part
of a template's identity: its environment, except the variables read when TensorFlow first runs
(:data:`LATE_ENV`), which each run sets for itself. The template's own side, and the list of what
a forked run restores, are :mod:`fitscope.isolation.forked`; a template with more than one
thread refuses to fork and the run starts fresh.

The sandbox starts a template the first time a run asks for its ``preload`` and reuses it after;
no run starts while a template is still importing. At most :data:`MAX_TEMPLATES` live at once
(each holds a few hundred MB); each exits when its socket closes, that is when this interpreter
exits or dies.

Example (``env`` must let ``python -m fitscope.isolation.forked`` import fitscope):
    >>> run = fork_run(TENSORFLOW, env, "experiment.py", [], "/tmp")  # doctest: +SKIP
    >>> run.wait(timeout=60) if isinstance(run, ForkedRun) else run  # doctest: +SKIP
    0
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

import psutil

from fitscope.isolation.forked import MESSAGE_BYTES, preloaded

__all__ = [
    "LATE_ENV",
    "TENSORFLOW",
    "KERAS",
    "MAX_TEMPLATES",
    "ForkedRun",
    "fork_run",
    "start",
    "wait_for_templates",
    "template_pids",
    "preloaded",
    "close_template",
]

LATE_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_CONFIG")
"""Variables TensorFlow reads when it first runs, not at import: set per run, not per template."""

TENSORFLOW = ("tensorflow", "keras")
"""What runs on TensorFlow preload."""
KERAS = ("keras",)
"""What runs on the Keras backend that ``KERAS_BACKEND`` names preload (it imports that backend)."""

START_TIMEOUT_S = 180.0


class _Template:
    """The kernel's handle on one template: its process, socket, and the exit codes it sent."""

    def __init__(self, modules: Sequence[str], env: dict[str, str]) -> None:
        self.modules, self.env = tuple(modules), env
        self.set_by_import: dict[str, str] = {}
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = str(theirs.fileno())
        self.argv = [sys.executable, "-m", "fitscope.isolation.forked", fd, *modules]
        self.proc = subprocess.Popen(
            self.argv,
            env=env,
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self.exit_codes: dict[int, int] = {}
        self.lock = threading.Lock()
        self.ready: bool | None = None  # None: still importing

    def wait_ready(self) -> bool:
        """Wait until the template has imported its modules; False if it failed or took longer
        than ``START_TIMEOUT_S``."""
        with self.lock:
            if self.ready is None:
                done = self._receive("ready", START_TIMEOUT_S)
                self.ready = done is not None
                self.set_by_import = (done or {}).get("ready", {}).get("set_env", {})
            return self.ready

    def serves(self, modules: Sequence[str], env: dict[str, str]) -> bool:
        """Whether runs with ``modules`` and ``env`` may fork from this template: the same
        modules and environment, but for what importing them set (TensorFlow sets
        ``TF2_BEHAVIOR`` and others in ``os.environ``, so the kernel's environment changes when
        it imports TensorFlow too)."""
        if tuple(modules) != self.modules or self.proc.poll() is not None:
            return False
        differ = {k for k in env.keys() | self.env.keys() if env.get(k) != self.env.get(k)}
        if any(k in self.env for k in differ):  # a value the template started with differs
            return False
        return not differ or (
            self.wait_ready() and all(env.get(k) == self.set_by_import.get(k) for k in differ)
        )

    def _receive(self, kind: str, timeout_s: float) -> dict[str, Any] | None:
        """Read messages until one with ``kind`` (the message), keeping exit codes; None when none
        came within ``timeout_s`` (0: only what is already there) or the template is gone."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if not select.select([self.sock], [], [], max(0.0, min(left, 0.5)))[0]:
                if left <= 0 or self.proc.poll() is not None:
                    return None
                continue
            try:
                data = self.sock.recv(MESSAGE_BYTES)
            except OSError:
                return None
            if not data:
                return None
            message = json.loads(data)
            if "exit" in message:
                self.exit_codes[message["exit"]] = message["code"]
            if kind in message:
                return message

    def exit_code(self, pid: int) -> int | None:
        """The run's exit code (negative: killed by that signal) once the template reaped it."""
        with self.lock:
            if pid not in self.exit_codes and self._receive("exit", 0.0) is None:
                if self.proc.poll() is not None and not psutil.pid_exists(pid):
                    self.exit_codes[pid] = -signal.SIGKILL  # template gone: the code is lost
            return self.exit_codes.get(pid)

    def fork(
        self, path: str, args: Sequence[str], env: dict[str, str], cwd: str, fds: Sequence[int]
    ) -> int | str:
        """The forked run's pid, or why there is none (the template had several threads and
        refused, or it is gone)."""
        request = json.dumps({"path": path, "args": list(args), "env": env, "cwd": cwd})
        with self.lock:
            try:
                socket.send_fds(self.sock, [request.encode()], list(fds))
            except OSError:
                return "the template was gone"
            reply = self._receive("threads", 30.0)
        if reply is None:
            return "the template did not answer"
        return (
            reply["pid"]
            if reply["pid"] is not None
            else f"the template had {reply['threads']} threads"
        )

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ForkedRun:
    """A run forked from a template, with what the sandbox uses of ``subprocess.Popen``.

    ``template_args`` is the command line the run inherited from its template (and that a
    process it forks inherits in turn): ``/proc`` shows it in place of the run's own.
    """

    def __init__(self, template: _Template, pid: int, stdout: IO[str], stderr: IO[str]) -> None:
        self._template, self.pid = template, pid
        self.stdout, self.stderr = stdout, stderr
        self.returncode: int | None = None
        self.template_args = template.argv

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._template.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


MAX_TEMPLATES = 2
"""Templates alive at once (notebook 01b keeps TensorFlow's and JAX's); the least recently used
goes first."""

_live: list[_Template] = []  # most recently used last
_lock = threading.Lock()


def start(modules: Sequence[str], env: dict[str, str]) -> _Template:
    """Start the template for ``modules`` under ``env`` (or reuse a live one) without waiting for
    its imports; :func:`fork_run` waits for them."""
    base = {k: v for k, v in env.items() if k not in LATE_ENV}
    with _lock:
        for template in _live:
            if template.serves(modules, base):
                _live.remove(template)
                _live.append(template)
                return template
        while len(_live) >= MAX_TEMPLATES:
            _live.pop(0).close()
        template = _Template(modules, base)
        _live.append(template)
        return template


def template_pids() -> set[int]:
    """Process ids of the live templates (not of the runs forked from them)."""
    return {t.proc.pid for t in _live if t.proc.poll() is None}


def wait_for_templates() -> None:
    """Wait until every template started has imported its modules (or failed), so that nothing
    imports beside a measurement."""
    for template in list(_live):
        template.wait_ready()


def _template_for(modules: Sequence[str], env: dict[str, str]) -> _Template | None:
    template = start(modules, env)
    wait_for_templates()
    if not template.wait_ready():
        _discard(template)
        return None
    return template


def _discard(template: _Template) -> None:
    """Stop a template that failed to start or to fork, so no later run uses it."""
    with _lock:
        if template in _live:
            _live.remove(template)
    template.close()


def close_template() -> None:
    """Stop every template (each is started again when a run needs it)."""
    with _lock:
        while _live:
            _live.pop().close()


atexit.register(close_template)


def fork_run(
    modules: Sequence[str], env: dict[str, str], path: str, args: Sequence[str], cwd: str
) -> ForkedRun | str:
    """Start ``path`` with ``args`` as a process forked from the template that preloads
    ``modules`` under ``env``; or say why not (the caller starts it fresh). A template that
    refused because it had several threads is kept: each fork checks again."""
    template = _template_for(modules, env)
    if template is None:
        return "no template could be started"
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = template.fork(path, args, env, cwd, [stdin, out_w, err_w])
    finally:
        for fd in (stdin, out_w, err_w):
            os.close(fd)
    if isinstance(pid, str):
        os.close(out_r)
        os.close(err_r)
        if template.proc.poll() is not None or "threads" not in pid:
            _discard(template)
        return pid
    return ForkedRun(
        template, pid, os.fdopen(out_r, errors="replace"), os.fdopen(err_r, errors="replace")
    )
