"""Cross-check fitscope against TensorFlow's own profiler on the same run.

``profiled`` wraps any scenario call in ``tf.profiler.experimental.start/stop`` and reads the
host threads the profiler saw from its XPlane file (``plugins/profile/<run>/<host>.xplane.pb``,
the file TensorBoard's Profile tab opens). The profiler names each thread by TensorFlow's own
thread id, not the OS id, so :func:`side_by_side` puts its threads next to fitscope's lanes by
role and reports whether any profiler id is an OS thread id of the run.

:func:`profile_fit` trains with the profiler on for a number of marked steps, and
:func:`xprof_input_wait` reads the XProf input-pipeline analyser's "% of the total step time
sampled is waiting for input" from that capture, offline (``xprof`` is a test dependency, imported
only there): the yardstick fitscope's waiting share is calibrated against (docs/calibration.md).

Example:
    >>> run = profiled(lambda: generator_fit(steps=10, epochs=1), "logs")  # doctest: +SKIP
    >>> run.threads[0].name                                                 # doctest: +SKIP
    'python'
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table

__all__ = [
    "ProfilerThread",
    "ProfiledRun",
    "profiled",
    "host_threads",
    "side_by_side",
    "XProfInputWait",
    "XProfFit",
    "profile_fit",
    "xprof_input_wait",
]


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


class ToolsSideBySide(TypedDict):
    """What :func:`side_by_side` returns."""

    profiler: dict[str, tuple[int, float]]
    fitscope: dict[str, tuple[int, float]]
    ids_shared: int


def side_by_side(run: ProfiledRun) -> ToolsSideBySide:
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


class XProfInputWait(NamedTuple):
    """What XProf's input-pipeline analyser says about a capture's marked steps.

    ``percent`` is its "% of the total step time sampled is waiting for input": the input time of
    every marked step (the training thread blocked in ``IteratorGetNext``, plus host-to-device
    copies) over their total step time. ``step_s`` is the median marked step, ``conclusion`` the
    analyser's own sentence.
    """

    percent: float
    step_s: float
    steps: int
    conclusion: str


class XProfFit(NamedTuple):
    """A fit measured by :func:`profile_fit`: XProf's reading, and what the profiler cost a step.

    Both step times are medians of the intervals between step ends, taken by the same clock in the
    same ``fit``: before the profiler started, and while it recorded.
    """

    xprof: XProfInputWait
    plain_step_s: float
    profiled_step_s: float

    @property
    def overhead(self) -> float:
        """The profiler's own cost, as a fraction of the unprofiled step (0.2 is 20 % slower)."""
        return self.profiled_step_s / self.plain_step_s - 1


def profile_fit(
    model: Any,
    data: Any,
    logdir: str | Path,
    steps: int = 30,
    plain_steps: int = 10,
    **fit_kwargs: Any,
) -> XProfFit:
    """One ``fit`` of ``1 + plain_steps + steps`` steps on the TensorFlow backend: the first step
    (graph tracing) untimed, then ``plain_steps`` timed without the profiler, then ``steps`` with
    TensorFlow's profiler on, each step marked as XProf's analysers need (a ``train`` trace with
    its step number: without marks XProf reports "No step time measured").

    ``data`` must give all those batches in one epoch (a generator, a repeated ``tf.data``
    dataset, arrays with enough rows); ``fit_kwargs`` go to ``fit``.

    Example:
        >>> run = profile_fit(model, batches(), "logs/xprof")  # doctest: +SKIP
        >>> f"{run.xprof.percent:.0f} % waiting, profiler +{run.overhead:.0%}"  # doctest: +SKIP
        '94 % waiting, profiler +3%'
    """
    import keras
    import tensorflow as tf

    first, last = 1 + plain_steps, plain_steps + steps
    ends: list[float] = []
    mark: list[Any] = []
    recording = [False]

    def begin(batch: int, logs: Any = None) -> None:
        if batch == first:
            tf.profiler.experimental.start(str(logdir))
            recording[0] = True
        if batch >= first:
            mark.append(tf.profiler.experimental.Trace("train", step_num=batch, _r=1))
            mark[-1].__enter__()

    def end(batch: int, logs: Any = None) -> None:
        ends.append(time.perf_counter())
        if mark:
            mark.pop().__exit__(None, None, None)
        if batch == last:
            tf.profiler.experimental.stop()
            recording[0] = False

    marks = keras.callbacks.LambdaCallback(on_train_batch_begin=begin, on_train_batch_end=end)
    try:
        model.fit(
            data, steps_per_epoch=last + 1, epochs=1, verbose=0, callbacks=[marks], **fit_kwargs
        )
    finally:
        if recording[0]:  # fit stopped with the profiler on: a later start would fail
            tf.profiler.experimental.stop()
    if len(ends) != last + 1:
        raise RuntimeError(f"fit ran {len(ends)} steps of {last + 1}: the data ran out")
    gaps = [b - a for a, b in zip(ends, ends[1:])]  # gaps[i] is step i + 1
    return XProfFit(
        xprof_input_wait(logdir),
        statistics.median(gaps[:plain_steps]),
        statistics.median(gaps[plain_steps:]),
    )


def xprof_input_wait(logdir: str | Path) -> XProfInputWait:
    """XProf's input-pipeline analysis of the newest capture under ``logdir``, read offline.

    The capture's ``.xplane.pb`` goes through xprof's own converter
    (``xprof.convert.raw_to_tool_data.xspace_to_tool_data(paths, "input_pipeline_analyzer",
    ...)``, the code behind TensorBoard's Profile tab); its JSON holds one row per marked step
    with the step's ``stepTimeMs`` and its input time ``infeedTimeMs``. The percentage is computed
    as XProf computes the one it prints (total input time over total step time), because the
    printed sentence states it only when the program is MODERATELY or HIGHLY input-bound, or NOT
    input-bound with under 3 % of "All Others" time.

    Example:
        >>> xprof_input_wait("logs/xprof").percent  # doctest: +SKIP
        93.7
    """
    from xprof.convert.raw_to_tool_data import xspace_to_tool_data

    files = sorted(
        Path(logdir).glob("plugins/profile/*/*.xplane.pb"), key=lambda p: p.stat().st_mtime
    )
    if not files:
        raise FileNotFoundError(f"no profiler output under {logdir}")
    raw, _ = xspace_to_tool_data([str(files[-1])], "input_pipeline_analyzer", {})
    if raw is None:
        raise RuntimeError(f"xprof could not analyse {files[-1]}")
    table = json.loads(raw)[1]  # [0] diagnostics, [1] steps, [2] host ops, [3] advice
    conclusion = table["p"].get("input_conclusion", "")
    columns = [c["id"] for c in table["cols"]]
    rows = [[cell.get("v") for cell in row["c"]] for row in table["rows"]]
    if not rows:
        raise ValueError(f"XProf found no marked steps in {files[-1]}: {conclusion}")
    step_ms = [row[columns.index("stepTimeMs")] for row in rows]
    input_ms = [row[columns.index("infeedTimeMs")] for row in rows]
    return XProfInputWait(
        100 * sum(input_ms) / sum(step_ms), statistics.median(step_ms) / 1e3, len(rows), conclusion
    )
