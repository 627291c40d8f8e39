"""Run an experiment as a fresh Python interpreter, watched, capped and cleaned up.

Anything that needs a process-wide setting (intra-op threads, logical devices, a distribution
strategy, a multiprocessing start method) runs here, never in the learner's kernel, and never by
forking the kernel. The child starts in a new session (its own process group), so the whole
tree can be stopped at once; a small reaper process (:mod:`fitscope.isolation.reaper`) stops that
tree if the
kernel itself dies mid-run, even by ``kill -9``. The sandbox enforces a wall-clock watchdog and a
memory cap on the
whole tree (RssAnon + RssShmem), streams live counters back (:func:`report`), records how each
process ended, and removes any POSIX semaphores or shared-memory blocks the run left in /dev/shm.

Example:
    >>> r = run_python(code="from fitscope.isolation.sandbox import report; report(step=1)",
    ... timeout_s=30)
    >>> r.root.how, r.messages[0]["step"]
    ('exited with code 0', 1)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from fitscope.instrument.errors import check_positive
from fitscope.instrument.paths import IMPORT_ROOT, PACKAGE_DIR
from fitscope.instrument.result import ProcessOutcome
from fitscope.instrument.sampling import pss_bytes, rss_bytes
from fitscope.isolation.reaper import remove_new_shm, session_members, shm_entries
from fitscope.isolation.template import ForkedRun, fork_run, wait_for_templates

__all__ = [
    "report",
    "run_python",
    "SandboxResult",
    "Progress",
    "exceptions_in",
    "MESSAGE_PREFIX",
]

MESSAGE_PREFIX = "@@fitscope "
_FITSCOPE_PARENT = str(IMPORT_ROOT)
_REAPER = str(PACKAGE_DIR / "isolation" / "reaper.py")


def report(**values: Any) -> None:
    """Child side: send live counters to the sandbox that started this process.

    Works from the script and from any process it starts (they share its stdout).
    """
    values.setdefault("pid", os.getpid())
    values.setdefault("t", time.time())
    sys.stdout.write(MESSAGE_PREFIX + json.dumps(values) + "\n")
    sys.stdout.flush()


@dataclass
class Progress:
    """What the sandbox knows at one poll; passed to ``on_poll``.

    ``memory_bytes`` and ``cpu_s`` (user + system CPU seconds so far) are per live process.
    """

    t_s: float
    memory_bytes: dict[int, int]
    new_messages: list[dict[str, Any]]
    cpu_s: dict[int, float] = field(default_factory=dict)


@dataclass
class SandboxResult:
    """Outcome of one sandboxed run. ``outcomes[0]`` is the script's own process."""

    outcomes: list[ProcessOutcome]
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str
    wall_s: float
    stopped_by: str | None
    memory: list[tuple[float, int]] = field(default_factory=list)
    cpu: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    pss: list[tuple[float, int]] = field(default_factory=list)
    poll_s: float = 0.1
    leftovers_removed: list[str] = field(default_factory=list)
    survivors: list[int] = field(default_factory=list)
    exceptions: list[tuple[str, str]] = field(default_factory=list)
    started_at: float = 0.0  # epoch seconds of t = 0 (the script's start) in memory and cpu

    @property
    def root(self) -> ProcessOutcome:
        return self.outcomes[0]

    @property
    def peak_memory_bytes(self) -> int:
        return max((m for _, m in self.memory), default=0)


_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Failure)\b")


def exceptions_in(stderr: str) -> list[tuple[str, str]]:
    """(origin, exception line) for every Python traceback in ``stderr``.

    ``origin`` is the multiprocessing process name when the traceback was headed
    "Process <name>:", "spawned child" when it passed through multiprocessing's spawn or
    forkserver start-up (a child that died before it could run), else "main".

    Example:
        >>> exceptions_in("Traceback (most recent call last):\\n  x\\nValueError: bad")
        [('main', 'ValueError: bad')]
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


def _cpu_seconds(pid: int) -> float | None:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


COMMAND_CHARS = 70
"""A process's command is shown up to this many characters, each path by its last part."""


def short_command(argv: Sequence[str]) -> str:
    """A command line as a table shows it: paths by their last part, at most ``COMMAND_CHARS``.

    Example:
        >>> short_command(["/venv/bin/python", "/tmp/fitscope-sandbox-x1/experiment.py"])
        'python experiment.py'
        >>> short_command(["python", "-c", "from multiprocessing.forkserver import main; " * 3])
        'python -c from multiprocessing.forkserver import main; from multiproc…'
    """
    words = [Path(w).name if w.startswith("/") else w for w in argv]
    text = re.sub(r"(?<![\w.])/(?:[^\s'\"/]+/)+", "", " ".join(words).strip())
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 1] + "…"


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return ""
    return short_command([a for a in argv if a])


def _read_lines(stream: Any, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


def run_python(
    script: str | Path | None = None,
    *,
    code: str | None = None,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout_s: float = 60.0,
    memory_cap_mb: float = 1500.0,
    poll_s: float = 0.1,
    on_poll: Callable[[Progress], None] | None = None,
    term_grace_s: float = 1.0,
    preload: Sequence[str] = (),
) -> SandboxResult:
    """Run ``script`` (a path) or ``code`` (its text, saved as a real ``__main__`` script).

    ``env`` adds to this process's environment (e.g. ``{"TF_NUM_INTRAOP_THREADS": "1"}``).
    The watchdog stops the tree after ``timeout_s`` (SIGTERM, then SIGKILL after
    ``term_grace_s``); crossing ``memory_cap_mb`` kills it at once. ``on_poll`` is called from
    the calling thread every ``poll_s`` seconds, so a notebook can draw live from it.
    With ``preload`` (e.g. :data:`~fitscope.isolation.template.TENSORFLOW`), the run is forked
    from a template interpreter that has imported those modules and nothing more
    (:mod:`fitscope.isolation.template`), started the first time a run asks for it; its start-up
    is not part of the run.
    """
    if (script is None) == (code is None):
        raise ValueError("give either a script path or code, not both")
    check_positive("timeout_s", timeout_s, maximum=24 * 3600)
    check_positive("memory_cap_mb", memory_cap_mb)
    check_positive("poll_s", poll_s, maximum=10)
    workdir = tempfile.TemporaryDirectory(prefix="fitscope-sandbox-")
    path = Path(script) if script is not None else Path(workdir.name) / "experiment.py"
    if code is not None:
        path.write_text(code)
    child_env = _child_env(env)

    wait_for_templates()  # a template still importing would compete with this run for the CPU
    shm_before = shm_entries()
    cap_bytes = int(memory_cap_mb * 2**20)
    reaper = _start_reaper()
    start, started_at = time.perf_counter(), time.time()
    try:
        proc: subprocess.Popen | ForkedRun | None = None
        if preload:
            proc = fork_run(preload, child_env, str(path), [str(a) for a in args], workdir.name)
            start, started_at = time.perf_counter(), time.time()
        if proc is None:
            proc = subprocess.Popen(
                [sys.executable, str(path), *args],
                cwd=workdir.name,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
    except BaseException:
        _release_reaper(reaper)
        raise
    _tell_reaper(reaper, str(proc.pid))
    out_lines: list[str] = []
    err_lines: list[str] = []
    readers = [
        threading.Thread(target=_read_lines, args=(s, sink), daemon=True)
        for s, sink in ((proc.stdout, out_lines), (proc.stderr, err_lines))
    ]
    for r in readers:
        r.start()

    seen: dict[int, dict[str, Any]] = {}
    memory: list[tuple[float, int]] = []
    cpu: list[tuple[float, dict[int, float]]] = []
    pss: list[tuple[float, int]] = []
    stopped_by: str | None = None
    n_read = 0
    try:
        while True:
            members = session_members(proc.pid) | ({proc.pid} if proc.poll() is None else set())
            usage = {pid: rss_bytes(pid) for pid in members}
            for pid in members:
                info = seen.setdefault(pid, {"command": _command(pid), "peak": 0, "alive": True})
                info["peak"] = max(info["peak"], usage[pid])
            for pid, info in seen.items():
                info["alive"] = pid in members
            t = time.perf_counter() - start
            total = sum(usage.values())
            memory.append((t, total))
            cpu_now = {pid: c for pid in members if (c := _cpu_seconds(pid)) is not None}
            cpu.append((t, cpu_now))
            if not pss or t - pss[-1][0] >= 1.0:  # PSS is slow to read: at most once a second
                pss.append((t, sum(pss_bytes(pid) or 0 for pid in members)))
            messages = _messages(out_lines)
            if on_poll is not None:
                on_poll(Progress(t, usage, messages[n_read:], cpu_now))
            n_read = len(messages)
            if not members:
                break
            if total > cap_bytes:
                stopped_by = "memory cap"
                _signal_all(proc.pid, members, signal.SIGKILL)
            elif t > timeout_s:
                stopped_by = "watchdog"
                _stop(proc.pid, members, term_grace_s)
            if stopped_by:
                break
            try:
                proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                pass
    finally:
        survivors = _cleanup(proc, seen, term_grace_s)
        for r in readers:
            r.join(timeout=2)
        leftovers = remove_new_shm(shm_before)
        _release_reaper(reaper)
        workdir.cleanup()

    if isinstance(proc, ForkedRun):  # /proc shows the template's command: name the run's
        _rename(
            seen,
            short_command(proc.template_args),
            short_command([sys.executable, str(path), *map(str, args)]),
        )
    stderr = "".join(err_lines)
    exceptions = exceptions_in(stderr)
    outcomes = _outcomes(proc, seen, stopped_by, exceptions)
    return SandboxResult(
        outcomes=outcomes,
        messages=_messages(out_lines),
        stdout="".join(line for line in out_lines if not line.startswith(MESSAGE_PREFIX)),
        stderr=stderr,
        wall_s=time.perf_counter() - start,
        stopped_by=stopped_by,
        memory=memory,
        cpu=cpu,
        pss=pss,
        poll_s=poll_s,
        leftovers_removed=leftovers,
        survivors=survivors,
        exceptions=exceptions,
        started_at=started_at,
    )


def _rename(seen: dict[int, dict[str, Any]], inherited: str, command: str) -> None:
    """A process forked from a template (or from a run forked from one) shows the template's
    command line in ``/proc``; it is the run's, as it would be after a fresh start."""
    for info in seen.values():
        if info["command"] == inherited:
            info["command"] = command


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    """A run's environment: this one's, unbuffered, ``env`` added, fitscope importable."""
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_FITSCOPE_PARENT, child_env.get("PYTHONPATH", "")) if p
    )
    return child_env


def _start_reaper() -> subprocess.Popen[str]:
    """The reaper (:mod:`fitscope.isolation.reaper`): its own session, stdin a pipe only this
    process holds."""
    return subprocess.Popen(
        [sys.executable, "-I", _REAPER],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _tell_reaper(reaper: subprocess.Popen[str], line: str) -> None:
    assert reaper.stdin is not None  # started with stdin=PIPE
    try:
        reaper.stdin.write(line + "\n")
        reaper.stdin.flush()
    except OSError:  # the reaper is gone: the run goes on, without protection against our death
        pass


def _release_reaper(reaper: subprocess.Popen[str]) -> None:
    """The run ended here, normally: the reaper leaves its tree alone and exits."""
    _tell_reaper(reaper, "done")
    assert reaper.stdin is not None  # started with stdin=PIPE
    try:
        reaper.stdin.close()
    except OSError:
        pass
    try:
        reaper.wait(timeout=5)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


def _messages(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in list(lines):
        if line.startswith(MESSAGE_PREFIX):
            try:
                out.append(json.loads(line[len(MESSAGE_PREFIX) :]))
            except json.JSONDecodeError:
                continue
    return out


def _signal_all(sid: int, pids: set[int], sig: int) -> None:
    try:
        os.killpg(sid, sig)
    except OSError:
        pass
    for pid in pids:  # members that left the process group but not the session
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _stop(sid: int, pids: set[int], grace_s: float) -> None:
    """SIGTERM the tree, then SIGKILL whatever is still there after ``grace_s``."""
    _signal_all(sid, pids, signal.SIGTERM)
    deadline = time.perf_counter() + grace_s
    while time.perf_counter() < deadline:
        if not session_members(sid):
            return
        time.sleep(0.02)
    _signal_all(sid, session_members(sid) | pids, signal.SIGKILL)


def _cleanup(
    proc: subprocess.Popen | ForkedRun, seen: dict[int, dict[str, Any]], grace_s: float
) -> list[int]:
    """Stop anything of the run still alive, reap the script; return pids that survived."""
    left = session_members(proc.pid)
    if proc.poll() is None:
        left.add(proc.pid)
    for pid in left:
        seen.setdefault(pid, {"command": _command(pid), "peak": 0})["killed_at_cleanup"] = True
    if left:
        _stop(proc.pid, left, grace_s)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    time.sleep(0.05)
    return sorted(session_members(proc.pid))


def _outcomes(
    proc: subprocess.Popen | ForkedRun,
    seen: dict[int, dict[str, Any]],
    stopped_by: str | None,
    exceptions: list[tuple[str, str]],
) -> list[ProcessOutcome]:
    rc = proc.returncode
    main_exc = [e for origin, e in exceptions if origin == "main"]
    if stopped_by:
        how = f"killed by {stopped_by}" if stopped_by == "watchdog" else "killed at memory cap"
    elif rc is not None and rc < 0:
        how = f"killed by signal {signal.Signals(-rc).name}"
    elif rc == 0:
        how = "exited with code 0"
    elif main_exc:
        how = f"raised {main_exc[-1]}"
    else:
        how = f"exited with code {rc}"
    root_info = seen.get(proc.pid, {"command": _command(proc.pid), "peak": 0})
    outcomes = [
        ProcessOutcome(
            pid=proc.pid,
            command=root_info["command"],
            how=how,
            exit_code=rc if rc is not None and rc >= 0 else None,
            signal=-rc if rc is not None and rc < 0 else None,
            exception=main_exc[-1] if main_exc else None,
            peak_memory_bytes=root_info["peak"],
        )
    ]
    for pid, info in seen.items():
        if pid == proc.pid:
            continue
        if stopped_by and info.get("killed_at_cleanup", info.get("alive")):
            how = f"killed by {stopped_by}" if stopped_by == "watchdog" else "killed at memory cap"
        elif info.get("killed_at_cleanup"):
            how = "killed at cleanup"
        else:
            how = "ended during the run"
        outcomes.append(
            ProcessOutcome(
                pid=pid, command=info["command"], how=how, peak_memory_bytes=info["peak"]
            )
        )
    return outcomes
