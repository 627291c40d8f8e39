"""Cross-check fitscope against TensorFlow's own profiler on the same run.

``profiled`` wraps any scenario call in ``tf.profiler.experimental.start/stop`` and reads the
host threads the profiler saw from its XPlane file (``plugins/profile/<run>/<host>.xplane.pb``,
the file TensorBoard's Profile tab opens). The profiler names each thread by TensorFlow's own
thread id, not the OS id, so :func:`side_by_side` puts its threads next to fitscope's lanes by
role and reports whether any profiler id is an OS thread id of the run.

Example:
    >>> run = profiled(lambda: generator_fit(steps=10, epochs=1), "logs")  # doctest: +SKIP
    >>> run.threads[0].name                                                 # doctest: +SKIP
    'python'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table

__all__ = ["ProfilerThread", "ProfiledRun", "profiled", "host_threads", "side_by_side"]


class ProfilerThread(NamedTuple):
    """One host thread as the profiler recorded it: name, TensorFlow's id, events, busy time."""

    name: str
    profiler_id: int
    events: int
    busy_s: float

    @property
    def kind(self) -> str:
        """The name without the id TensorFlow appends ("tf_Compute/123" is "tf_Compute")."""
        return re.sub(r"/-?\d+$", "", self.name)


@dataclass
class ProfiledRun(ShowsItself):
    """A run measured by fitscope with TensorFlow's profiler on; shows both tools side by side."""

    result: RunResult
    logdir: Path
    threads: list[ProfilerThread]

    def table(self) -> Table:
        both = side_by_side(self)
        rows = [
            ("profiler", kind, n, f"{busy:.3f} s in recorded events")
            for kind, (n, busy) in both["profiler"].items()
        ]
        rows += [
            ("fitscope", role, n, f"{cpu:.3f} s of CPU")
            for role, (n, cpu) in both["fitscope"].items()
        ]
        return Table(
            ("tool", "thread kind or role", "threads", "time"),
            rows,
            title="TensorFlow's profiler next to fitscope, same run",
            reading=f"{both['ids_shared']} of the {len(self.threads)} thread ids the profiler "
            "recorded are OS thread ids fitscope saw.",
        )


def host_threads(logdir: str | Path) -> list[ProfilerThread]:
    """Host threads in the newest XPlane file under ``logdir``, busiest first."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(
        Path(logdir).glob("plugins/profile/*/*.xplane.pb"), key=lambda p: p.stat().st_mtime
    )
    if not files:
        raise FileNotFoundError(f"no profiler output under {logdir}")
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    out = []
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            busy_ps = _union_ps([(e.offset_ps, e.offset_ps + e.duration_ps) for e in line.events])
            out.append(ProfilerThread(line.name, line.id, len(line.events), busy_ps / 1e12))
    return sorted(out, key=lambda t: -t.busy_s)


def _union_ps(intervals: list[tuple[int, int]]) -> int:
    """Total length covered by (possibly nested) intervals: profiler events nest."""
    total, end = 0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def profiled(run: Callable[[], RunResult], logdir: str | Path) -> ProfiledRun:
    """Call ``run`` with TensorFlow's profiler on and read the host threads it recorded."""
    import tensorflow as tf

    logdir = Path(logdir)
    tf.profiler.experimental.start(str(logdir))
    try:
        result = run()
    finally:
        tf.profiler.experimental.stop()
    return ProfiledRun(result, logdir, host_threads(logdir))


def side_by_side(run: ProfiledRun) -> dict[str, object]:
    """Profiler threads by kind next to fitscope's threads by role, and whether their ids match.

    Returns {"profiler": {kind: (threads, busy s)}, "fitscope": {role: (threads, CPU s)},
    "ids_shared": number of profiler ids that are OS thread ids fitscope saw}.
    """
    prof: dict[str, tuple[int, float]] = {}
    for t in run.threads:
        n, busy = prof.get(t.kind, (0, 0.0))
        prof[t.kind] = (n + 1, busy + t.busy_s)
    ours: dict[str, tuple[int, float]] = {}
    for tid, seconds in run.result.cpu.by_thread_s().items():
        role = run.result.roles.get(tid, "unknown")
        n, cpu = ours.get(role, (0, 0.0))
        ours[role] = (n + 1, cpu + seconds)
    os_ids = set(run.result.cpu.cpu_ns) | {s.tid for s in run.result.spans if s.tid is not None}
    return {
        "profiler": prof,
        "fitscope": ours,
        "ids_shared": sum(1 for t in run.threads if t.profiler_id in os_ids),
    }
