"""How a sandboxed run ended: the tracebacks in its stderr, each process's outcome, its result.

:func:`exceptions_in` reads every Python traceback in a run's stderr and says which process
raised it; :func:`outcomes` classifies how the script and each process it started ended;
:func:`read_result` reads the JSON file a run was to write, or says in one sentence why the run
did not finish.

Example:
    >>> exceptions_in("Traceback (most recent call last):\\n  x\\nValueError: bad")
    [('main', 'ValueError: bad')]
"""

from __future__ import annotations

import json
import os
import re
import signal
from typing import TYPE_CHECKING, Any

from fitscope.instrument.result import ProcessOutcome

if TYPE_CHECKING:
    from fitscope.isolation.sandbox import SandboxResult

__all__ = ["exceptions_in", "outcomes", "rename", "why_not_finished", "read_result"]

_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Failure)\b")


def exceptions_in(stderr: str) -> list[tuple[str, str]]:
    """(origin, exception line) for every Python traceback in ``stderr``.

    ``origin`` is the multiprocessing process name when the traceback was headed
    "Process <name>:", "spawned child" when it passed through multiprocessing's spawn or
    forkserver start-up (a child that died before it could run), else "main".
    """
    out: list[tuple[str, str]] = []
    origin, in_traceback, previous, started_as_child = "main", False, "", False
    for line in stderr.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            match = re.match(r"^Process (.+):$", previous)
            origin = match.group(1) if match else origin if in_traceback else "main"
            started_as_child = started_as_child if in_traceback else False
            in_traceback = True
        elif in_traceback and re.search(r"multiprocessing/(spawn|forkserver)\.py", line):
            started_as_child = True
        elif in_traceback and line and not line[0].isspace():
            if line.startswith(("During handling", "The above exception")):
                pass
            elif _EXC_LINE.match(line) or ":" in line:
                out.append(
                    ("spawned child" if origin == "main" and started_as_child else origin, line)
                )
                in_traceback = False
        if line.strip():
            previous = line
    return out


def rename(seen: dict[int, dict[str, Any]], inherited: str, command: str) -> None:
    """A process forked from a template (or from a run forked from one) shows the template's
    command line in ``/proc``; it is the run's, as it would be after a fresh start."""
    for info in seen.values():
        if info["command"] == inherited:
            info["command"] = command


def _stopped(stopped_by: str) -> str:
    return f"killed by {stopped_by}" if stopped_by == "watchdog" else "killed at memory cap"


def outcomes(
    pid: int,
    rc: int | None,
    seen: dict[int, dict[str, Any]],
    stopped_by: str | None,
    exceptions: list[tuple[str, str]],
) -> list[ProcessOutcome]:
    """How the script (``pid``, exit code ``rc``: negative for a signal) and each process seen
    in its session ended; the script's first."""
    main_exc = [e for origin, e in exceptions if origin == "main"]
    if stopped_by:
        how = _stopped(stopped_by)
    elif rc is not None and rc < 0:
        how = f"killed by signal {signal.Signals(-rc).name}"
    elif rc == 0:
        how = "exited with code 0"
    elif main_exc:
        how = f"raised {main_exc[-1]}"
    else:
        how = f"exited with code {rc}"
    root_info = seen.get(pid, {"command": "", "peak": 0})
    out = [
        ProcessOutcome(
            pid=pid,
            command=root_info["command"],
            how=how,
            exit_code=rc if rc is not None and rc >= 0 else None,
            signal=-rc if rc is not None and rc < 0 else None,
            exception=main_exc[-1] if main_exc else None,
            peak_memory_bytes=root_info["peak"],
        )
    ]
    for other, info in seen.items():
        if other == pid:
            continue
        if stopped_by and info.get("killed_at_cleanup", info.get("alive")):
            how = _stopped(stopped_by)
        elif info.get("killed_at_cleanup"):
            how = "killed at cleanup"
        else:
            how = "ended during the run"
        out.append(
            ProcessOutcome(
                pid=other, command=info["command"], how=how, peak_memory_bytes=info["peak"]
            )
        )
    return out


def why_not_finished(run: SandboxResult) -> str:
    """Why a run did not finish, in a few words: its last exception, else how its script ended.

    Example:
        >>> from fitscope.isolation.sandbox import run_python
        >>> why_not_finished(run_python(code="raise KeyError('x')"))
        "KeyError: 'x'"
    """
    return run.exceptions[-1][1] if run.exceptions else run.root.how


def read_result(run: SandboxResult, path: str | os.PathLike[str], what: str) -> Any:
    """The JSON that ``run`` wrote to ``path``; if it wrote none, RuntimeError("<what> did not
    finish: <why>").

    Example:
        >>> from fitscope.isolation.sandbox import run_python
        >>> read_result(run_python(code="print(1)"), "/nonexistent", "the probe")
        Traceback (most recent call last):
        RuntimeError: the probe did not finish: exited with code 0
    """
    if not os.path.exists(path):
        raise RuntimeError(f"{what} did not finish: {why_not_finished(run)}")
    with open(path) as f:
        return json.load(f)
