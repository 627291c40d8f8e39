"""Spans: what ran, on which OS thread, from when to when.

A span is recorded from any thread with two ``perf_counter_ns`` reads and a list append (atomic
under the GIL, so no lock is needed and a fork can never inherit a held one). The OS thread id
is read inside the thread that did the work; a span whose thread is unknown (timed inside a
TensorFlow graph) keeps ``tid=None`` rather than a made-up id.

Example:
    >>> tracer = Tracer()
    >>> with tracer.span("load", "io"):
    ...     pass
    >>> [s.label for s in tracer.spans()]
    ['load']
"""

from __future__ import annotations

import functools
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

__all__ = ["Span", "Tracer", "graph_timed", "chrome_trace", "keras_frames", "os_thread_name"]

T = TypeVar("T")
_TRACERS: weakref.WeakSet[Tracer] = weakref.WeakSet()


def os_thread_name(tid: int, pid: int | str = "self") -> str:
    """The kernel's name for a thread (/proc/<pid>/task/<tid>/comm), or '' if it is gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Span:
    """One timed piece of work. Times are ``perf_counter_ns`` values; an instant has end ==
    start."""

    label: str
    category: str
    start_ns: int
    end_ns: int
    tid: int | None
    thread: str = ""
    os_name: str = ""

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


class Tracer:
    """Collects spans from any thread of this process.

    Example:
        >>> tracer = Tracer()
        >>> gen = tracer.wrap_generator(iter(range(3)))
        >>> list(gen), len(tracer.spans("generator"))  # the 4th next() is the one that ends it
        ([0, 1, 2], 4)
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.origin_ns = time.perf_counter_ns()
        # tf.timestamp() is wall-clock seconds; this offset maps it onto perf_counter_ns.
        self._wall_minus_perf_ns = time.time_ns() - time.perf_counter_ns()
        self._records: list[tuple[str, str, int, int, int | None]] = []
        self._names: dict[int, tuple[str, str]] = {}
        self.stacks: dict[int, list[traceback.FrameSummary]] = {}
        _TRACERS.add(self)

    # -- recording -------------------------------------------------------------------------
    def record(self, label: str, category: str, start_ns: int, end_ns: int) -> None:
        """Record a span that ran on the calling thread."""
        tid = threading.get_native_id()
        if tid not in self._names:
            self._names[tid] = (threading.current_thread().name, os_thread_name(tid))
        self._records.append((label, category, start_ns, end_ns, tid))

    def mark(self, label: str, category: str = "mark") -> None:
        """Record an instant (e.g. an epoch edge) on the calling thread."""
        now = time.perf_counter_ns()
        self.record(label, category, now, now)

    def span(self, label: str, category: str = "work") -> _SpanContext:
        """Time the body of a ``with`` block on the calling thread."""
        return _SpanContext(self, label, category)

    def traced(
        self, label: str | None = None, category: str = "work"
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: every call of the function becomes a span."""

        def decorate(fn: Callable[..., T]) -> Callable[..., T]:
            name = label or fn.__name__

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> T:
                start = time.perf_counter_ns()
                try:
                    return fn(*args, **kwargs)
                finally:
                    self.record(name, category, start, time.perf_counter_ns())

            return wrapper

        return decorate

    def wrap_generator(
        self,
        gen: Iterator[T],
        label: str = "next()",
        category: str = "generator",
        capture_stacks: bool = False,
    ) -> Iterator[T]:
        """A generator yielding from ``gen``, recording every ``next()`` as a span on the thread
        that called it.

        With ``capture_stacks``, the call stack seen inside the first ``next()`` on each thread
        is kept in ``self.stacks[tid]``: it shows who (Keras, tf.data) called the generator.
        """

        def traced() -> Iterator[T]:
            while True:
                start = time.perf_counter_ns()
                if capture_stacks:
                    tid = threading.get_native_id()
                    if tid not in self.stacks:
                        self.stacks[tid] = traceback.extract_stack()[:-1]
                try:
                    item = next(gen)
                except StopIteration:
                    return
                finally:
                    self.record(label, category, start, time.perf_counter_ns())
                yield item

        return traced()

    def sync_graph_clock(self, wall_minus_perf_ns: int) -> int:
        """Map ``tf.timestamp()`` onto perf_counter_ns with an offset read through TensorFlow
        just now (the one taken at creation assumes the wall clock never stepped since);
        returns how far it moved the graph spans added from now on (ns).

        Example:
            >>> t = Tracer()
            >>> abs(t.sync_graph_clock(time.time_ns() - time.perf_counter_ns())) < 10**9
            True
        """
        shift = self._wall_minus_perf_ns - wall_minus_perf_ns
        self._wall_minus_perf_ns = wall_minus_perf_ns
        return shift

    def add_graph_span(
        self, label: str, start_s: float, end_s: float, category: str = "tf.data"
    ) -> None:
        """Record a span timed inside a TensorFlow graph with ``tf.timestamp()`` (wall seconds).

        The thread that ran it is not known, so the span keeps ``tid=None``.
        """
        to_perf = self._wall_minus_perf_ns
        self._records.append(
            (label, category, int(start_s * 1e9) - to_perf, int(end_s * 1e9) - to_perf, None)
        )

    # -- reading ---------------------------------------------------------------------------
    def spans(self, category: str | None = None) -> list[Span]:
        """All spans so far (optionally of one category), in the order they ended."""
        out = []
        for label, cat, start, end, tid in list(self._records):
            if category is not None and cat != category:
                continue
            thread, os_name = self._names.get(tid, ("", "")) if tid is not None else ("", "")
            out.append(Span(label, cat, start, end, tid, thread, os_name))
        return out

    def tids(self, category: str) -> set[int]:
        """OS thread ids that recorded spans of ``category``."""
        return {r[4] for r in list(self._records) if r[1] == category and r[4] is not None}

    def records(self) -> list[dict[str, Any]]:
        """Spans as plain dicts (JSON-ready)."""
        return [asdict(s) for s in self.spans()]

    def clear(self) -> None:
        self._records = []
        self.stacks = {}

    def _after_fork_in_child(self) -> None:
        self.pid = os.getpid()
        self._records = []
        self._names = {}
        self.stacks = {}


class _SpanContext:
    """The ``with tracer.span(...)`` object: a plain class, about 3x cheaper than
    @contextmanager."""

    __slots__ = ("_tracer", "_label", "_category", "_start")

    def __init__(self, tracer: Tracer, label: str, category: str) -> None:
        self._tracer, self._label, self._category = tracer, label, category

    def __enter__(self) -> None:
        self._start = time.perf_counter_ns()

    def __exit__(self, *exc: object) -> None:
        self._tracer.record(self._label, self._category, self._start, time.perf_counter_ns())


def keras_frames(stack: list[Any]) -> list[str]:
    """The Keras and TensorFlow frames of a captured stack, as 'package/file.py:function'.

    Example:
        >>> import traceback
        >>> keras_frames(traceback.extract_stack())
        []
    """
    out = []
    for frame in stack:
        path = frame.filename.replace(os.sep, "/")
        for package in ("keras/", "tensorflow/"):
            if f"site-packages/{package}" in path:
                out.append(
                    package + path.split(f"site-packages/{package}", 1)[1] + f":{frame.name}"
                )
    return out


def chrome_trace(
    spans: list[Span], pid: int, origin_ns: int, roles: dict[int, str] | None = None
) -> dict[str, Any]:
    """Spans as a Chrome trace: ph "X" events in µs, one tid per OS thread, thread_name metadata.

    Spans with no known thread go to a separate track named for what they are.
    """
    roles = roles or {}
    events: list[dict[str, Any]] = []
    named: set[int] = set()
    graph_pid = pid + 1_000_000_000  # a separate "process" row, so no OS tid is made up
    for s in spans:
        ev = {"name": s.label, "cat": s.category, "ts": (s.start_ns - origin_ns) / 1e3}
        if s.end_ns > s.start_ns:
            ev.update(ph="X", dur=(s.end_ns - s.start_ns) / 1e3)
        else:
            ev.update(ph="i", s="t")
        if s.tid is None:
            ev.update(pid=graph_pid, tid=0)
        else:
            ev.update(pid=pid, tid=s.tid)
            if s.tid not in named:
                named.add(s.tid)
                role = roles.get(s.tid, "")
                label = " · ".join(x for x in (role, s.os_name or s.thread, f"tid {s.tid}") if x)
                events.append(
                    {
                        "ph": "M",
                        "name": "thread_name",
                        "pid": pid,
                        "tid": s.tid,
                        "args": {"name": label},
                    }
                )
        events.append(ev)
    events.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": f"pid {pid}"}})
    if any(s.tid is None for s in spans):
        events.append(
            {
                "ph": "M",
                "name": "process_name",
                "pid": graph_pid,
                "args": {"name": "timed inside the TensorFlow graph (thread not recorded)"},
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def graph_timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a tf.data map function so each element carries its own start/end ``tf.timestamp()``.

    The wrapped function returns ``(fn(x), times)`` with ``times = [start_s, end_s]``; feed the
    times to :meth:`Tracer.add_graph_span` where the element is consumed. No Python runs inside
    the graph, so a parallel map is not serialised by the GIL.

    Example:
        >>> import tensorflow as tf
        >>> ds = tf.data.Dataset.range(2).map(graph_timed(lambda x: x * 2))
        >>> [int(v) for v, _ in ds.as_numpy_iterator()]
        [0, 2]
    """
    import tensorflow as tf

    def timed(*args: Any) -> Any:
        start = tf.timestamp()
        with tf.control_dependencies([start]):
            args = tf.nest.map_structure(tf.identity, args)
        out = fn(*args)
        with tf.control_dependencies(tf.nest.flatten(out)):
            end = tf.timestamp()
        return out, tf.stack([start, end])

    return timed


def _reset_tracers_in_child() -> None:
    for tracer in list(_TRACERS):
        tracer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_tracers_in_child)
