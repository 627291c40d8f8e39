"""Helpers for the scripts the sandbox runs, which the notebooks write in ``%%writefile`` cells.

Each script runs inside a sandboxed interpreter (:func:`fitscope.isolation.run_python`), never in
the learner's kernel: a start method, a distribution strategy, logical devices and tf.data servers
are fixed per process. A script sends live counters with :func:`fitscope.isolation.report` and
imports what else it needs from here: :func:`model_checksum` and :func:`watch_model` follow a
model's weights, :func:`start_script` starts the script again as a child (a worker, a server).
The helpers import no TensorFlow and build no model. A lesson finds the script to run with
:func:`script_file`: the file a notebook cell wrote, or with none given, that cell's text read
from the notebook (:func:`cell_text`), so a run outside the notebook runs what the learner reads.

A child started with :func:`start_script` dies with the process that started it: importing this
package in the child sets Linux's parent-death signal (SIGKILL) before any worker code runs, so a
launcher killed mid-run (by the sandbox's reaper, the OOM killer, ``kill -9``) takes its workers
along instead of leaving them serving or waiting for peers.

Example:
    >>> len(free_ports(2))
    2
    >>> weights_checksum([b"abc"])[:12]
    'ba7816bf8f01'
    >>> cell_text("02_multiprocessing_trainer.ipynb", "queue_trainer.py").startswith("#")
    True
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fitscope.instrument.errors import FitscopeInputError
from fitscope.isolation import exceptions_in, report

__all__ = [
    "cell_text",
    "script_file",
    "model_checksum",
    "queue_backlog",
    "watch_model",
    "free_ports",
    "weights_checksum",
    "start_script",
    "finish_child",
    "keras_frames_of",
    "one_line",
    "wait_for_ports",
    "die_with_parent",
]

STARTER_ENV = "FITSCOPE_STARTER_PID"
NOTEBOOKS = Path(__file__).resolve().parents[4] / "notebooks"


def cell_text(notebook: str, name: str) -> str:
    """The text that the ``%%writefile name`` cell of ``notebook`` (in ``notebooks/``) writes:
    the cell's lines after the first, ending with a newline (IPython adds one)."""
    path = NOTEBOOKS / notebook
    if not path.is_file():
        raise FitscopeInputError(
            f"{path} does not exist: scripts are read from the repository's notebooks, so install "
            "fitscope from its repository (pip install -e .)."
        )
    for cell in json.loads(path.read_text())["cells"]:
        first, _, text = "".join(cell["source"]).partition("\n")
        if cell["cell_type"] == "code" and first.split() == ["%%writefile", name]:
            return text.rstrip("\n") + "\n"
    raise FitscopeInputError(f"no cell of {notebook} writes {name}.")


@contextmanager
def script_file(script: str | Path | None, notebook: str, name: str) -> Iterator[Path]:
    """The script to run, as an absolute path: ``script`` (the file a notebook cell wrote), or
    with None, the text of ``notebook``'s ``%%writefile name`` cell in a temporary folder."""
    if script is not None:
        path = Path(script).resolve()
        if not path.is_file():
            raise FitscopeInputError(
                f"{script} does not exist: run the cell that writes it (%%writefile {name}) first."
            )
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="fitscope-script-") as folder:
        path = Path(folder) / name
        path.write_text(cell_text(notebook, name))
        yield path


def model_checksum(model: Any) -> str | None:
    """A Keras model's weight checksum (:func:`weights_checksum`), or None while it has no
    weights (never built)."""
    if not (model.built and model.weights):
        return None
    return weights_checksum(w.numpy() for w in model.weights)


def queue_backlog(queue: Any) -> int | None:
    """How many items wait in a ``multiprocessing.Queue``; None where it cannot say (macOS)."""
    try:
        return int(queue.qsize())
    except NotImplementedError:
        return None


def watch_model(model: Any, role: str, every_s: float = 0.2) -> None:
    """Report ``model``'s checksum every ``every_s`` from a daemon thread, which goes on while
    the interpreter exits (so a run shows what its model held until the end)."""

    def watch() -> None:
        while True:
            time.sleep(every_s)
            report(role=role, event="watch", checksum=model_checksum(model), built=model.built)

    threading.Thread(target=watch, name=f"watch {role}", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> bool:
    """SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``); False off Linux.

    If the parent is already gone (it died before this ran), exit at once. Linux sends the signal
    when the parent *thread* that forked us ends, so :func:`start_script` must be called from a
    thread that lives as long as the child (the launchers call it from their main thread).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent_pid:
        os._exit(1)
    return True


if STARTER_ENV in os.environ:  # a child of start_script: never outlive the launcher
    die_with_parent(int(os.environ.pop(STARTER_ENV)))


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports on localhost that were free a moment ago."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for_ports(ports: Sequence[int], timeout_s: float = 60.0) -> bool:
    """Wait until something listens on every localhost port; False if ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.5):
                waiting.pop(0)
        except OSError:
            time.sleep(0.1)
    return not waiting


def weights_checksum(arrays: Iterable[Any]) -> str:
    """SHA-256 of the bytes of each array (weights in model order): equal iff byte-identical."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(a if isinstance(a, bytes) else memoryview(a).tobytes())
    return digest.hexdigest()


def start_script(
    script: str | Path, args: Sequence[str], env: dict[str, str], log: Path
) -> subprocess.Popen:
    """Start ``python script args`` as a child in this process group (a script starts itself
    again with ``start_script(__file__, ...)``, as a worker or a server).

    Its stdout is shared (so its :func:`report` lines reach the sandbox); its stderr goes to
    ``log``, read back by :func:`finish_child`. It dies with this process (:func:`die_with_parent`).
    """
    with open(log, "w") as err:
        return subprocess.Popen(
            [sys.executable, str(script), *args],
            env={**os.environ, **env, STARTER_ENV: str(os.getpid())},
            stderr=err,
            stdin=subprocess.DEVNULL,
        )


def finish_child(name: str, proc: subprocess.Popen, log: Path, **extra: Any) -> None:
    """Report how a child ended (exit code or signal, last exception) and echo its stderr.

    The stderr lines are echoed with a ``[name]`` prefix so they stay readable without being
    taken for the launcher's own traceback.
    """
    code = proc.wait()
    text = log.read_text(errors="replace") if log.exists() else ""
    found = exceptions_in(text)
    how = (
        f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    )
    report(
        event="child ended",
        name=name,
        child_pid=proc.pid,
        how=how,
        exit_code=code,
        exception=found[-1][1] if found else None,
        **extra,
    )
    for line in text.splitlines()[-200:]:
        sys.stderr.write(f"[{name}] {line}\n")
    sys.stderr.flush()


def keras_frames_of(exc: BaseException) -> list[str]:
    """Keras and TensorFlow frames of an exception's traceback, innermost last."""
    import traceback

    from fitscope.instrument.tracing import keras_frames

    return keras_frames(traceback.extract_tb(exc.__traceback__))


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` on one line, with tensor values printed inside it elided.

    Example:
        >>> one_line(ValueError("convert (PerReplica:{\\n 0: [1, 2]\\n}) to a Tensor."))
        'ValueError: convert (PerReplica:{…}) to a Tensor.'
    """
    text = re.sub(r"\{[^{}]*\}", "{…}", str(exc), flags=re.S)
    text = " ".join(text.split())
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
