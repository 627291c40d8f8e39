"""Start sandboxed runs from a template interpreter that has already imported the heavy modules.

Importing TensorFlow and Keras took 3.7–8.6 s on our 2-core machines (3.7–4.0 s on one, 7.5–8.6 s on
another), and every sandboxed run used to pay it. A template is a fresh interpreter, started by this
one (the kernel is never forked), that imports the modules a run asks for (``preload``) and then
waits. Each run is a process forked from the template: TensorFlow (or JAX) has been imported in it
but has never run, so the run still chooses its own process-wide settings (intra-op threads,
devices, a start method), exactly as a fresh interpreter would. What is read at import time is part
of a template's identity: its environment, except the variables read when TensorFlow first runs
(:data:`LATE_ENV`), which each run sets for itself. A run learns what was preloaded, and how long
the import took, from ``FITSCOPE_PRELOADED`` (:func:`preloaded`).

The sandbox starts a template the first time a run asks for its ``preload`` and reuses it after;
no run starts while a template is still importing. At most :data:`MAX_TEMPLATES` live at once
(each holds a few hundred MB); each exits when its socket closes, that is when this interpreter
exits or dies.
Run as a script, this module is the template's side (:func:`serve`).

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

import psutil

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
    "serve",
]

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

    def __init__(self, modules: Sequence[str], env: dict[str, str]) -> None:
        self.modules, self.env = tuple(modules), env
        self.set_by_import: dict[str, str] = {}
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = str(theirs.fileno())
        self.argv = [sys.executable, "-m", "fitscope.isolation.template", fd, *modules]
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
                self.set_by_import = (done or {}).get("set_env", {})
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
                if self.proc.poll() is not None and not psutil.pid_exists(pid):
                    self.exit_codes[pid] = -signal.SIGKILL  # template gone: the code is lost
            return self.exit_codes.get(pid)

    def fork(
        self, path: str, args: Sequence[str], env: dict[str, str], cwd: str, fds: Sequence[int]
    ) -> int | None:
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
) -> ForkedRun | None:
    """Start ``path`` with ``args`` as a process forked from the template that preloads
    ``modules`` under ``env``; None if no template could be had (the caller starts it fresh)."""
    template = _template_for(modules, env)
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
        _discard(template)
        return None
    return ForkedRun(
        template, pid, os.fdopen(out_r, errors="replace"), os.fdopen(err_r, errors="replace")
    )


def serve(fd: int, modules: Sequence[str]) -> None:
    """The template's side: import ``modules``, then fork a run for each request on socket ``fd``
    and report its pid and exit code, until the socket closes."""
    sock = socket.socket(fileno=fd)
    start, before = time.perf_counter(), dict(os.environ)
    for name in modules:
        importlib.import_module(name)
    done = {
        "modules": list(modules),
        "import_s": round(time.perf_counter() - start, 3),
        "set_env": {k: v for k, v in os.environ.items() if before.get(k) != v},
    }
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
    if "multiprocessing.process" in sys.modules:  # it noted the template's directory at import
        process: Any = sys.modules["multiprocessing.process"]  # ORIGINAL_DIR is not in its stub
        process.ORIGINAL_DIR = os.path.abspath(request["cwd"])
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
