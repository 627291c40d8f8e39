"""Which threads do an image pipeline's work, measured: threads side by side, and tf.data's CPU.

- :func:`in_threads` calls a function over the same items on one thread, then on two at once.
  Whatever part of each call holds the GIL runs one call at a time, so the GIL-holding part of
  the work is at most the two threads' time over one thread's: a bound true on any machine,
  tight only when two CPUs are free (on one CPU it says at most 100%).
- :func:`cpu_by_thread` iterates a ``tf.data`` pipeline from this (main) thread and samples
  every thread's CPU: the decoding shows up on the threads that appeared for the pipeline.

Example:
    >>> r = in_threads(lambda n: sum(range(n)), [20_000] * 64)
    >>> r.calls, r.held_at_most > 0
    (64, True)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.sampling import Sampler, thread_ids
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.verdicts.compare import FASTER, SLOWER, UNDECIDED, compare

__all__ = ["ThreadScaling", "in_threads", "PipelineCpu", "cpu_by_thread"]


@dataclass
class ThreadScaling(ShowsItself):
    """One thread's time and two threads' time for the same calls, and what that bounds."""

    what: str
    calls: int
    ones: list[float]  # each repeat's time, one thread
    twos: list[float]  # each repeat's time, two threads
    budget: float

    @property
    def held_at_most(self) -> float:
        """The GIL-holding share of one thread's time is at most two threads' time over it
        (the best repeat of each)."""
        return min(self.twos) / min(self.ones)

    @property
    def reading(self) -> str:
        """The comparison from all the repeats; the GIL's share, a bound from the best repeats,
        only where the comparison decided a gain, never beside a difference it cannot tell."""
        c = compare(self.ones, self.twos)
        head = (
            f"{self.what}: {self.calls} calls took {min(self.ones) * 1e3:.0f} ms on one "
            f"thread and {min(self.twos) * 1e3:.0f} ms on two at once (best repeats); two "
            f"threads against one, over all repeats: {c.sentence}"
        )
        if self.budget < 2:
            return head + (
                f"; with B = {self.budget:g} CPU over a run, two threads can run at once only "
                "until a quota period's share is spent, so a gain here cannot show how much "
                "of the work left the GIL: INCONCLUSIVE."
            )
        if c.word == FASTER:
            outside = max(0.0, 1 - self.held_at_most)
            return head + (
                f"; with B = {self.budget:g} CPUs the calls ran side by side: at most "
                f"{min(1.0, self.held_at_most):.0%} of the work held the GIL (the best repeats), "
                f"at least {outside:.0%} ran outside it."
            )
        if c.word == SLOWER:
            return head + (
                f"; with B = {self.budget:g} CPUs two threads were slower than one: something "
                "kept them from running side by side (the GIL, or the other CPU busy), and "
                "taking turns cost more; this run cannot tell which."
            )
        if c.word == UNDECIDED:
            return head + "; repeat to decide whether the work released the GIL."
        return head + (
            f"; with B = {self.budget:g} CPUs two threads did not measurably gain over one, "
            "which does not tell whether the work released the GIL: repeat with more calls, "
            "or with both CPUs free."
        )

    def table(self) -> Table:
        one, two = min(self.ones), min(self.twos)
        rows = [
            ("1 thread", f"{one * 1e3:.0f} ms", "x1.00"),
            ("2 threads at once", f"{two * 1e3:.0f} ms", f"x{one / two:.2f}"),
        ]
        return Table(
            ("how", f"time for {self.calls} calls (best)", "speed-up"),
            rows,
            reading=self.reading,
            title=f"{self.what}: one thread against two",
        )


def in_threads(
    fn: Callable[[Any], Any], items: Sequence[Any], what: str = "", repeats: int = 3
) -> ThreadScaling:
    """``fn`` over ``items`` on one thread, then on two threads at once, ``repeats`` times each.

    One call comes first, untimed (it opens files, fills caches).
    """
    fn(items[0])
    one, two = [], []
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fn, items[:2]))
        for _ in range(repeats):
            start = time.perf_counter()
            for item in items:
                fn(item)
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            list(pool.map(fn, items))
            two.append(time.perf_counter() - start)
    name = what or getattr(fn, "__name__", "the calls")
    return ThreadScaling(name, len(items), one, two, cpu_budget().cpus)


@dataclass
class PipelineCpu(ShowsItself):
    """CPU seconds by thread while the main thread took batches from a pipeline."""

    batches: int
    wall_s: float
    main_s: float
    new_s: float  # threads that appeared once the pipeline's iterator started
    other_s: float  # threads that were there before (TensorFlow's pools, the kernel)
    new_threads: int

    @property
    def off_main_share(self) -> float:
        """The share of the CPU spent on the threads that appeared for the pipeline."""
        total = self.main_s + self.new_s + self.other_s
        return self.new_s / total if total > 0 else 0.0

    @property
    def reading(self) -> str:
        return (
            f"Taking {self.batches} batches from the main thread cost the main thread "
            f"{self.main_s * 1e3:.0f} ms of CPU, and {self.new_threads} threads that "
            f"appeared for the pipeline {self.new_s * 1e3:.0f} ms (threads that were there "
            f"before, {self.other_s * 1e3:.0f} ms): {self.off_main_share:.0%} of the CPU was "
            "spent on the pipeline's own threads."
        )

    def table(self) -> Table:
        rows = [
            ("main thread (took the batches)", f"{self.main_s * 1e3:.0f} ms"),
            (
                f"{self.new_threads} threads that appeared for the pipeline",
                f"{self.new_s * 1e3:.0f} ms",
            ),
            ("threads that were there before", f"{self.other_s * 1e3:.0f} ms"),
        ]
        return Table(
            ("threads", "CPU"),
            rows,
            reading=self.reading,
            title=f"CPU by thread, {self.batches} batches in {self.wall_s:.2f} s",
        )


def cpu_by_thread(dataset: Iterable[Any], batches: int) -> PipelineCpu:
    """Take ``batches`` batches from ``dataset`` on this thread, sampling every thread's CPU."""
    main, before = threading.get_native_id(), set(thread_ids())
    with Sampler(interval_s=0.01) as sampler:
        start = time.perf_counter()
        it = iter(dataset)
        for _, _ in zip(range(batches), it):
            pass
        wall = time.perf_counter() - start
    by_thread = sampler.samples.by_thread_s()  # leaves out the sampler's own thread
    new = {t: s for t, s in by_thread.items() if t not in before and t != main}
    other = sum(s for t, s in by_thread.items() if t in before and t != main)
    del it  # tf.data's iterator threads end when it is collected
    return PipelineCpu(
        batches,
        wall,
        by_thread.get(main, 0.0),
        sum(new.values()),
        other,
        sum(1 for s in new.values() if s > 0),
    )
