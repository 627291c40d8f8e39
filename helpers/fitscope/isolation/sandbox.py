"""Run an experiment as a fresh Python interpreter, watched, capped and cleaned up.

Anything that needs a process-wide setting (intra-op threads, logical devices, a distribution
strategy, a multiprocessing start method) runs here, never in the learner's kernel, and never by
forking the kernel. The child starts in a new session (its own process group), so the whole
tree can be stopped at once; a small reaper process (:mod:`fitscope.isolation.reaper`) stops that
tree if the
kernel itself dies mid-run, even by ``kill -9``. The sandbox enforces a wall-clock watchdog and a
memory cap on the
whole tree (its PSS of anonymous and shared memory,
:func:`~fitscope.isolation.watch.memory_bytes`: a page forked processes share counts once),
streams live counters back (:func:`report`), records how each
process ended, and removes any POSIX semaphores or shared-memory blocks the run left in /dev/shm.

Example:
    >>> r = run_python(code="from fitscope.isolation.sandbox import report; report(step=1)",
    ... timeout_s=30)
    >>> r.root.how, r.messages[0]["step"]
    ('exited with code 0', 1)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitscope.instrument.errors import check_positive
from fitscope.instrument.paths import IMPORT_ROOT
from fitscope.instrument.result import ProcessOutcome
from fitscope.isolation.outcome import exceptions_in, outcomes, rename
from fitscope.isolation.reaper import Reaper, remove_new_shm, shm_entries
from fitscope.isolation.template import ForkedRun, fork_run, wait_for_templates
from fitscope.isolation.watch import (
    MESSAGE_PREFIX,
    Progress,
    messages,
    report,
    short_command,
    watch,
)

__all__ = [
    "report",
    "run_python",
    "SandboxResult",
    "Progress",
    "exceptions_in",
    "MESSAGE_PREFIX",
]

_FITSCOPE_PARENT = str(IMPORT_ROOT)


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
    started: str = "started fresh"  # or "forked from a template", or why a preload run was not

    @property
    def root(self) -> ProcessOutcome:
        return self.outcomes[0]

    @property
    def peak_memory_bytes(self) -> int:
        return max((m for _, m in self.memory), default=0)


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
    is not part of the run. ``started`` says how it started (and why fresh, if it was).
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
    argv = [str(path), *map(str, args)]
    wait_for_templates()  # a template still importing would compete with this run for the CPU
    shm_before = shm_entries()
    reaper = Reaper()
    try:
        try:
            proc, started = _launch(argv, _child_env(env), workdir.name, preload)
        except BaseException:
            reaper.release()
            raise
        start, started_at = time.perf_counter(), time.time()
        reaper.tell(str(proc.pid))
        w = watch(
            proc,
            start,
            timeout_s=timeout_s,
            cap_bytes=int(memory_cap_mb * 2**20),
            poll_s=poll_s,
            term_grace_s=term_grace_s,
            on_poll=on_poll,
        )
        wall_s = time.perf_counter() - start
    finally:
        leftovers = remove_new_shm(shm_before)
        reaper.release()
        workdir.cleanup()
    if isinstance(proc, ForkedRun):  # /proc shows the template's command: name the run's
        rename(w.seen, short_command(proc.template_args), short_command([sys.executable, *argv]))
    stderr = "".join(w.err)
    exceptions = exceptions_in(stderr)
    return SandboxResult(
        outcomes=outcomes(proc.pid, proc.returncode, w.seen, w.stopped_by, exceptions),
        messages=messages(w.out),
        stdout="".join(line for line in w.out if not line.startswith(MESSAGE_PREFIX)),
        stderr=stderr,
        wall_s=wall_s,
        stopped_by=w.stopped_by,
        memory=w.memory,
        cpu=w.cpu,
        pss=w.pss,
        poll_s=poll_s,
        leftovers_removed=leftovers,
        survivors=w.survivors,
        exceptions=exceptions,
        started_at=started_at,
        started=started,
    )


def _launch(
    argv: list[str], env: dict[str, str], cwd: str, preload: Sequence[str]
) -> tuple[subprocess.Popen[str] | ForkedRun, str]:
    """The run's root process, forked from the template for ``preload`` if there is one and it
    may fork, else a fresh interpreter in a session of its own; and how it started."""
    if preload:
        forked = fork_run(preload, env, argv[0], argv[1:], cwd)
        if isinstance(forked, ForkedRun):
            return forked, "forked from a template"
        started = f"started fresh: {forked}"
    else:
        started = "started fresh"
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    return proc, started


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    """A run's environment: this one's, unbuffered, ``env`` added, fitscope importable."""
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_FITSCOPE_PARENT, child_env.get("PYTHONPATH", "")) if p
    )
    return child_env
