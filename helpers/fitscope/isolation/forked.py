"""The template interpreter's own side: import, wait, and fork runs that look freshly started.

Started by :mod:`fitscope.isolation.template` as ``python -m fitscope.isolation.forked FD
MODULE...``; standard library only. It imports the modules, then for each request on socket
``FD`` checks that it has exactly one thread (a fork copies only the thread that calls it: a lock
another thread held stays held in the child, the hazard notebook 02 teaches) and forks the run,
or refuses, saying how many threads it had, and the sandbox starts that run fresh instead.

What a forked run restores so that it looks like a fresh interpreter is one list,
:data:`LIKE_FRESH`; tests/test_template.py runs one script both ways and compares each entry.
What it cannot restore is :data:`NOT_LIKE_FRESH`.

Example:
    >>> [name for name, _ in LIKE_FRESH][:3]
    ['argv', 'cwd', 'path0']
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import random
import runpy
import select
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["LIKE_FRESH", "NOT_LIKE_FRESH", "PRELOADED_ENV", "preloaded", "thread_count", "serve"]

LIKE_FRESH = (
    ("argv", "sys.argv and sys.orig_argv: the run's script and arguments"),
    ("cwd", "the working directory, and multiprocessing's ORIGINAL_DIR noted at its import"),
    ("path0", "sys.path[0]: the script's directory"),
    ("session", "a session (and process group) of its own"),
    ("stdio", "stdin from /dev/null, stdout and stderr to the sandbox's pipes"),
    ("main_thread", "the main thread's native id is the run's pid"),
    ("threads", "the threads the imports start: OpenBLAS's pool, stopped to fork, restarted"),
    ("start_method", "no multiprocessing start method chosen yet"),
    ("environment", "the run's environment, plus what importing the preload sets"),
    ("seeds", "random's and NumPy's global generators seeded afresh"),
)
"""What a run forked from a template restores, by name, so it observes what a fresh start would."""

NOT_LIKE_FRESH = (
    ("parent", "its parent process is the template, not the kernel"),
    ("hash seed", "str and bytes hashes use the template's seed, shared by its runs"),
    ("command", "/proc shows the template's command line (the sandbox names the run's)"),
    ("preloaded", "the preload's modules are imported already; FITSCOPE_PRELOADED says which"),
)
"""What a forked run cannot restore."""

PRELOADED_ENV = "FITSCOPE_PRELOADED"
MESSAGE_BYTES = 1 << 20


def preloaded() -> dict[str, Any] | None:
    """In a run: ``{"modules": [...], "import_s": seconds}`` if it was forked from a template."""
    text = os.environ.get(PRELOADED_ENV)
    return json.loads(text) if text else None


def thread_count() -> int:
    """Threads of this process, native ones included (``threading`` sees only Python's)."""
    return len(os.listdir("/proc/self/task"))


def _openblas() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries loaded here (NumPy's starts a thread pool when it is imported)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
    libs = [ctypes.CDLL(p) for p in sorted(paths)]
    return [lib for lib in libs if hasattr(lib, "blas_thread_shutdown_")]


def _one_thread(timeout_s: float = 0.5) -> int:
    """Stop OpenBLAS's pool (its own fork handler would stop it in the fork anyway) and return
    how many threads are left once the stopped ones are gone."""
    for lib in _openblas():
        lib.blas_thread_shutdown_()
    deadline = time.monotonic() + timeout_s
    while (n := thread_count()) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    return n


def serve(fd: int, modules: Sequence[str]) -> None:
    """Import ``modules``, then fork a run for each request on socket ``fd`` (or refuse it when
    this process has more than one thread) and report its pid and exit code, until the socket
    closes."""
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
        message, fds, _, _ = socket.recv_fds(sock, MESSAGE_BYTES, 3)
        if not message:
            return
        threads = _one_thread()
        pid = os.fork() if threads == 1 else None
        if pid == 0:
            sock.close()
            _become_run(json.loads(message), fds, done)
            raise SystemExit(0)  # the script returned: exit as its interpreter would
        for descriptor in fds:
            os.close(descriptor)
        sock.send(json.dumps({"pid": pid, "threads": threads}).encode())


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
    """In the forked child: restore each entry of :data:`LIKE_FRESH`, then run the script as
    ``__main__``."""
    os.setsid()  # session
    main = threading.main_thread()
    if hasattr(main, "_set_native_id"):  # main_thread: 3.11 keeps the template's id after fork
        main._set_native_id()
    for target, descriptor in enumerate(fds):  # stdio
        os.dup2(descriptor, target)
        os.close(descriptor)
    os.chdir(request["cwd"])  # cwd
    if "multiprocessing.process" in sys.modules:  # it noted the template's directory at import
        process: Any = sys.modules["multiprocessing.process"]  # ORIGINAL_DIR is not in its stub
        process.ORIGINAL_DIR = os.path.abspath(request["cwd"])
    os.environ.clear()  # environment
    os.environ.update({**done["set_env"], **request["env"]})
    os.environ[PRELOADED_ENV] = json.dumps(done)
    sys.argv = [request["path"], *request["args"]]  # argv
    sys.orig_argv = [sys.executable, *sys.argv]
    sys.path[0] = os.path.dirname(os.path.abspath(request["path"]))  # path0
    for lib in _openblas():  # threads
        lib.blas_thread_init()
    random.seed()  # seeds
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    runpy.run_path(request["path"], run_name="__main__")


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
