"""Start sandboxed runs from a template interpreter that has already imported the heavy modules.

Importing TensorFlow and Keras costs 5–10 s of CPU, and every sandboxed run used to pay it. A
template is a fresh interpreter, started by this one (the kernel is never forked), that imports
the modules a run asks for (``preload``) and then waits. Each run is a process forked from the
template: TensorFlow (or JAX) has been imported in it but has never run, so the run still
chooses its own process-wide settings (intra-op threads, devices, a start method), exactly as a
fresh interpreter would. What is read at import time is part of a template's identity: its
environment, except the variables read when TensorFlow first runs (:data:`LATE_ENV`), which
each run sets for itself. A run learns what was preloaded, and how long the import took, from
``FITSCOPE_PRELOADED`` (:func:`preloaded`).

One template lives at a time (it holds a few hundred MB); it exits when its socket closes, that
is when this interpreter exits or dies. Run as a script, this module is the template's side
(:func:`serve`).

Example (``env`` must let ``python -m fitscope.isolation.template`` import fitscope):
    >>> run = fork_run(TENSORFLOW, env, "experiment.py", [], "/tmp")  # doctest: +SKIP
    >>> run.wait(timeout=60)  # doctest: +SKIP
    0
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import random
import runpy
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

__all__ = ["LATE_ENV", "TENSORFLOW", "KERAS", "ForkedRun", "fork_run", "preloaded",
           "close_template", "serve"]

LATE_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_CONFIG")
"""Variables TensorFlow reads when it first runs, not at import: set per run, not per template."""

TENSORFLOW = ("tensorflow", "keras")
"""What runs on TensorFlow preload."""
KERAS = ("keras",)
"""What runs on the Keras backend that ``KERAS_BACKEND`` names preload (it imports that backend)."""

PRELOADED_ENV = "FITSCOPE_PRELOADED"
START_TIMEOUT_S = 180.0
_MESSAGE_BYTES = 1 << 20


def preloaded() -> dict[str, Any] | None:
    """In a run: ``{"modules": [...], "import_s": seconds}`` if it was forked from a template."""
    text = os.environ.get(PRELOADED_ENV)
    return json.loads(text) if text else None


class _Template:
    """The kernel's handle on one template: its process, socket, and the exit codes it sent."""

    def __init__(self, key: tuple[Any, ...], modules: Sequence[str], env: dict[str, str]) -> None:
        self.key = key
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fitscope.isolation.template", str(theirs.fileno()),
             *modules],
            env=env, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self.exit_codes: dict[int, int] = {}
        self.lock = threading.Lock()
        self.ready = self._receive("ready", START_TIMEOUT_S) is not None

    def _receive(self, kind: str, timeout_s: float) -> Any:
        """Read messages until one of ``kind`` (its value), keeping exit codes; None when none
        came within ``timeout_s`` (0: only what is already there) or the template is gone."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if not select.select([self.sock], [], [], max(0.0, min(left, 0.5)))[0]:
                if left <= 0 or self.proc.poll() is not None:
                    return None
                continue
            try:
                data = self.sock.recv(_MESSAGE_BYTES)
            except OSError:
                return None
            if not data:
                return None
            message = json.loads(data)
            if "exit" in message:
                self.exit_codes[message["exit"]] = message["code"]
            if kind in message:
                return message[kind]

    def exit_code(self, pid: int) -> int | None:
        """The run's exit code (negative: killed by that signal) once the template reaped it."""
        with self.lock:
            if pid not in self.exit_codes and self._receive("exit", 0.0) is None:
                if self.proc.poll() is not None and not _alive(pid):
                    self.exit_codes[pid] = -signal.SIGKILL  # template gone: the code is lost
            return self.exit_codes.get(pid)

    def fork(self, path: str, args: Sequence[str], env: dict[str, str], cwd: str,
             fds: Sequence[int]) -> int | None:
        request = json.dumps({"path": path, "args": list(args), "env": env, "cwd": cwd})
        with self.lock:
            try:
                socket.send_fds(self.sock, [request.encode()], list(fds))
            except OSError:
                return None
            return self._receive("pid", 30.0)

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ForkedRun:
    """A run forked from a template, with what the sandbox uses of ``subprocess.Popen``."""

    def __init__(self, template: _Template, pid: int, stdout: IO[str], stderr: IO[str]) -> None:
        self._template, self.pid = template, pid
        self.stdout, self.stderr = stdout, stderr
        self.returncode: int | None = None

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


_current: list[_Template] = []
_lock = threading.Lock()


def _template_for(modules: tuple[str, ...], env: dict[str, str]) -> _Template | None:
    base = {k: v for k, v in env.items() if k not in LATE_ENV}
    key = (modules, tuple(sorted(base.items())))
    with _lock:
        if _current and _current[0].key == key and _current[0].proc.poll() is None:
            return _current[0]
        close_template()
        template = _Template(key, modules, base)
        if not template.ready:
            template.close()
            return None
        _current.append(template)
        return template


def close_template() -> None:
    """Stop the template, if one is running (it is started again when a run needs it)."""
    while _current:
        _current.pop().close()


atexit.register(close_template)


def fork_run(modules: Sequence[str], env: dict[str, str], path: str, args: Sequence[str],
             cwd: str) -> ForkedRun | None:
    """Start ``path`` with ``args`` as a process forked from the template that preloads
    ``modules`` under ``env``; None if no template could be had (the caller starts it fresh)."""
    template = _template_for(tuple(modules), env)
    if template is None:
        return None
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = template.fork(path, args, env, cwd, [stdin, out_w, err_w])
    finally:
        for fd in (stdin, out_w, err_w):
            os.close(fd)
    if pid is None:
        os.close(out_r)
        os.close(err_r)
        return None
    return ForkedRun(template, pid, os.fdopen(out_r, errors="replace"),
                     os.fdopen(err_r, errors="replace"))


def serve(fd: int, modules: Sequence[str]) -> None:
    """The template's side: import ``modules``, then fork a run for each request on socket ``fd``
    and report its pid and exit code, until the socket closes."""
    sock = socket.socket(fileno=fd)
    start = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    done = {"modules": list(modules), "import_s": round(time.perf_counter() - start, 3)}
    sock.send(json.dumps({"ready": done}).encode())
    while True:
        readable = select.select([sock], [], [], 0.05)[0]
        _send_exit_codes(sock)
        if not readable:
            continue
        message, fds, _, _ = socket.recv_fds(sock, _MESSAGE_BYTES, 3)
        if not message:
            return
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            sock.close()
            _become_run(request, fds, done)
            raise SystemExit(0)  # the script returned: exit as its interpreter would
        for descriptor in fds:
            os.close(descriptor)
        sock.send(json.dumps({"pid": pid}).encode())


def _send_exit_codes(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.send(json.dumps({"exit": pid, "code": os.waitstatus_to_exitcode(status)}).encode())


def _become_run(request: dict[str, Any], fds: Sequence[int], done: dict[str, Any]) -> None:
    """In the forked child: its own session, the run's stdio, directory, environment and
    arguments, fresh random seeds; then the script runs as ``__main__``."""
    os.setsid()
    main = threading.main_thread()
    if hasattr(main, "_set_native_id"):  # Python 3.11 keeps the template's thread id after fork
        main._set_native_id()
    for target, descriptor in enumerate(fds):
        os.dup2(descriptor, target)
        os.close(descriptor)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[PRELOADED_ENV] = json.dumps(done)
    sys.argv = [request["path"], *request["args"]]
    sys.path[0] = os.path.dirname(os.path.abspath(request["path"]))
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    runpy.run_path(request["path"], run_name="__main__")


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
