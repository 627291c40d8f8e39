"""Notebook 03's GIL caveat: a map through ``tf.py_function``, sequential or parallel, over work
that releases the GIL (NumPy) or holds it (pure Python).

:func:`py_function_map` measures one such map; :class:`GilRuns` shows maps already measured, by
(kind, parallel calls), as a table whose reading compares parallel with sequential by the one
rule; :func:`gil_runs` measures all four one after the other (for the scorecard).

Example:
    >>> r = py_function_map("numpy", 1.0, elements=6, parallel=2)        # doctest: +SKIP
    >>> r.facts["calls"]                                                 # doctest: +SKIP
    6
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from fitscope.core.estimate import per_call
from fitscope.instrument.bounds import stage_bounds
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_choice, check_int, check_positive
from fitscope.instrument.measure import MeasuredRun, measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Tracer
from fitscope.lessons.tfdata.pipelines import default_repeats
from fitscope.show.against import AgainstBounds
from fitscope.verdicts.compare import MIN_GAIN, Compared, compare, costs_apart, figure
from fitscope.verdicts.tfdata_claims import beyond_the_gil
from fitscope.workloads.article import batch_work
from fitscope.workloads.graph_costs import AUTOTUNE, parallel_calls, tensorflow

__all__ = ["GIL_KINDS", "GilRuns", "gil_reading", "py_function_map", "gil_runs"]

GIL_KINDS = ("numpy", "python")

ONE_AT_A_TIME = "the GIL lets one thread run Python at a time"
"""Why pure Python's ideal bound is one thread's pace, whatever the parallel calls."""


def py_function_map(
    kind: str = "python",
    ms: float = 4.0,
    elements: int | None = None,
    parallel: int = 1,
    repeats: int | None = None,
) -> RunResult:
    """A map through ``tf.py_function`` doing ``kind`` work (see
    :func:`fitscope.workloads.article.batch_work`), measured ``repeats`` times: the median run,
    every run's time in ``facts["repeats_s"]``.

    ``parallel`` is num_parallel_calls (1: a sequential map; 0: AUTOTUNE). Each call is traced
    from inside the Python function, so its span carries the OS thread that ran it. The ideal
    bound splits the work over the parallel calls, except pure Python's (``kind`` "python"):
    the GIL lets one thread run Python at a time, so its bound is one thread's pace. The reading
    quotes the median of the repeats against that bound (:func:`gil_reading`).
    """
    check_choice("kind", kind, ("python", "numpy", "sleep"))
    check_positive("ms per element", ms, maximum=1000)
    elements = check_int(
        "elements", elements if elements is not None else (24 if quick_mode() else 60), 2, 100_000
    )
    check_int("parallel calls (0 = AUTOTUNE)", parallel, 0, 256)
    repeats = check_int("repeats", default_repeats() if repeats is None else repeats, 1, 100)
    with measured_run() as run:  # one run scaffold, a fresh tracer a repeat
        runs = sorted(
            (_py_map_once(run, kind, ms, elements, parallel) for _ in range(repeats)),
            key=lambda r: r.throughput.elapsed_s,
        )
    chosen = runs[(len(runs) - 1) // 2]
    chosen.facts["repeats_s"] = [r.throughput.elapsed_s for r in runs]
    chosen.reading = gil_reading(chosen)
    return chosen


def gil_reading(r: RunResult) -> str:
    """One map's sentence: the median of its repeats (the number :class:`GilRuns` compares)
    against its ideal bound, in the words every time against a bound is read with (a bound
    beaten is said, never a share above 100 %), and which repeat the table shows.

    Example:
        >>> from fitscope.instrument.bounds import Bounds
        >>> from fitscope.instrument.throughput import Throughput
        >>> r = RunResult("py_function map (python, parallel=2)",
        ...               throughput=Throughput(steps=24, elapsed_s=0.11),
        ...               bounds=Bounds(sequential_s=0.14, overlapped_s=0.14),
        ...               params={"kind": "python"},
        ...               facts={"repeats_s": [0.11, 0.13], "workers": 2})
        >>> print(gil_reading(r))
        py_function map (python, parallel=2): 24 steps in 0.120 s, the median of 2 repeats (the \
table shows the faster, 0.110 s): faster than the ideal bound: the cost estimate was high (0.120 s \
against 0.140 s). The bound is one thread's pace, not the work split over the 2 calls: the GIL \
lets one thread run Python at a time.
    """
    times = r.facts["repeats_s"]
    n, median = len(times), statistics.median(times)
    if n == 1:
        which = "one run"
    elif n % 2:
        which = f"the median of {n} repeats (the table shows that repeat)"
    else:
        shown = "the faster" if n == 2 else "the faster of the middle two"
        one = figure(r.throughput.elapsed_s)
        which = f"the median of {n} repeats (the table shows {shown}, {one} s)"
    text = f"{r.name}: {r.throughput.steps} steps in {figure(median)} s, {which}"
    if r.bounds is not None:
        text += f": {AgainstBounds(times, r.bounds.overlapped_s).header()}"
    text += "."
    if r.params.get("kind") == "python" and r.facts.get("workers", 1) > 1:
        text += (
            f" The bound is one thread's pace, not the work split over the {r.facts['workers']} "
            f"calls: {ONE_AT_A_TIME}."
        )
    return text


def _py_map_once(run: MeasuredRun, kind: str, ms: float, elements: int, parallel: int) -> RunResult:
    run.tracer = Tracer()
    tf = tensorflow()
    work = batch_work(kind, ms)
    wall_1, cpu_1 = per_call(work, 5)
    t_1 = wall_1 if kind == "sleep" else cpu_1  # CPU time: what a call takes with a core to itself
    traced = run.tracer.traced(f"{kind} work", "tf.data")(work)

    def call(x: Any) -> Any:
        traced()
        return x

    py = lambda x: tf.py_function(call, [x], tf.int64)  # noqa: E731
    ds = tf.data.Dataset.range(elements)
    ds = (
        ds.map(py)
        if parallel == 1
        else ds.map(py, num_parallel_calls=parallel_calls(parallel), deterministic=False)
    )
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ends: list[int] = []
    with run.sampling():
        it = iter(ds)
        start = time.perf_counter_ns()
        for _ in it:
            ends.append(time.perf_counter_ns())
        del it  # after the last element was timed
    workers = 1 if parallel == 1 else run.budget.affinity if parallel == AUTOTUNE else parallel
    splits = 1 if kind == "python" else workers  # ONE_AT_A_TIME
    work_tids = run.tracer.tids("tf.data")
    main = threading.main_thread().native_id
    result = run.result(
        f"py_function map ({kind}, parallel={parallel or 'AUTOTUNE'})",
        dict(kind=kind, ms=ms, elements=elements, parallel=parallel),
        tf_data_tids=work_tids,
        throughput=throughput_from_ends(ends, 1, start),
    )
    result.bounds = stage_bounds(
        [(kind, elements * t_1, elements * cpu_1, splits, kind == "sleep")],
        0.0,
        0.0,
        run.budget.cpus,  # the budget run.result() gave ``result``
    )
    result.facts.update(
        measured_s=result.throughput.elapsed_s,
        threads_that_ran_python=len(work_tids),
        calls_on_main=sum(1 for s in result.spans_of("tf.data") if s.tid == main),
        calls=len(result.spans_of("tf.data")),
        calls_s=sum(s.duration_s for s in result.spans_of("tf.data")),
        workers=workers,
        cost_per_call=(t_1, cpu_1),
    )
    return result


_GIL_BOUND = (
    " The pure-Python maps' ideal time is one thread's pace whatever the parallel calls: "
    f"{ONE_AT_A_TIME}, so the bound does not split that work over them."
)


_SEQUENTIAL_THREADS = (
    " A sequential map ran its calls on more than one thread over its run, yet one call at a "
    "time: tf.data may hand the next call to another of its threads, so a count of threads is "
    "not a count of calls at once."
)


class GilRuns(ShowsItself, dict):
    """py_function maps by (kind, parallel calls): time, bound, threads, and the speed-ups."""

    def comparison(self, kind: str) -> Compared:
        """The parallel map against the sequential one for ``kind`` work, by the one rule."""
        return compare(self[(kind, 1)].facts["repeats_s"], self[(kind, 2)].facts["repeats_s"])

    def table(self) -> Table:
        """Each map's median of its repeats, the number the reading compares (F-13: one run's
        time beside the sentence's medians read two values for one run)."""
        rows = [
            (
                kind,
                par,
                figure(statistics.median(r.facts["repeats_s"])),
                len(r.facts["repeats_s"]),
                figure(r.bounds.overlapped_s),
                r.facts["threads_that_ran_python"],
            )
            for (kind, par), r in self.items()
        ]
        return Table(
            (
                "work",
                "parallel calls",
                "measured (s), median of the repeats",
                "repeats",
                "ideal (s)",
                "threads that ran Python",
            ),
            rows,
            reading=f"Parallel against sequential: NumPy {self.comparison('numpy')}; "
            f"pure Python {self.comparison('python')}."
            + self.unlike()
            + self.outside_the_gil()
            + _GIL_BOUND
            + _SEQUENTIAL_THREADS
            * any(
                r.facts["threads_that_ran_python"] > 1 for (_, par), r in self.items() if par == 1
            ),
            facts=[self.comparison(k).facts() for k in GIL_KINDS],
        )

    def apart(self, kind: str) -> float:
        """How far the sequential and parallel ``kind`` maps' own costs of one call, each timed
        alone before its run, lie apart (:func:`~fitscope.verdicts.compare.costs_apart`)."""
        if not all((kind, p) in self for p in (1, 2)):
            return 1.0
        return costs_apart(
            {str(p): self[(kind, p)].facts.get("cost_per_call", (0.0,))[0] for p in (1, 2)}
        )

    def cost_ratio(self, kind: str) -> float:
        """The parallel ``kind`` map's own cost of one call over the sequential map's, each timed
        alone before its run (1.0 where either is missing): what C11 reads unlike runs with."""
        costs = [self[(kind, p)].facts.get("cost_per_call", (0.0,))[0] for p in (1, 2)
                 if (kind, p) in self]  # fmt: skip
        return costs[1] / costs[0] if len(costs) == 2 and min(costs) > 0 else 1.0

    def unlike(self) -> str:
        """The sentence for each kind whose two maps measured one call more than ``MIN_GAIN``
        apart: the same work measured unalike, so its comparison says nothing of the parallel map
        (C11 reads the same :meth:`apart`); "" where every pair is alike.

        Example:
            >>> r1, r2 = RunResult("x"), RunResult("y")
            >>> r1.facts, r2.facts = {"cost_per_call": (0.0035, 0)}, {"cost_per_call": (0.0024, 0)}
            >>> GilRuns({("python", 1): r1, ("python", 2): r2}).unlike()[:71]
            " The pure-Python maps' own costs of one call, timed alone, differ x1.46"
        """
        said = ""
        for kind, label in zip(GIL_KINDS, ("NumPy", "pure-Python")):
            if self.apart(kind) > MIN_GAIN:
                one, two = (1000 * self[(kind, p)].facts["cost_per_call"][0] for p in (1, 2))
                said += (
                    f" The {label} maps' own costs of one call, timed alone, differ "
                    f"x{self.apart(kind):.2f} ({one:.2f} ms before the sequential run, {two:.2f} "
                    f"ms before the parallel one), more than the x{MIN_GAIN:g} one run can tell "
                    "apart: not like with like, so that comparison says nothing of the parallel "
                    "map."
                )
        return said

    def python_limit(self) -> float | None:
        """The most a parallel map can gain on pure Python: the sequential map's middle run over
        its Python calls' time (they hold the GIL, so only the rest can overlap); None where
        unmeasured. C11's pure-Python part reads it (:func:`~fitscope.verdicts.c11`).

        Example:
            >>> from fitscope.instrument.throughput import Throughput
            >>> r = RunResult("x", throughput=Throughput(steps=10, elapsed_s=0.5))
            >>> r.facts = {"calls_s": 0.4, "repeats_s": [0.5]}
            >>> GilRuns({("python", 1): r}).python_limit()
            1.25
        """
        r = self.get(("python", 1))
        if r is None or not r.facts.get("calls_s"):
            return None
        return r.throughput.elapsed_s / min(r.facts["calls_s"], r.throughput.elapsed_s)

    def outside_the_gil(self) -> str:
        """What a parallel map can gain on pure Python (:meth:`python_limit`): the time of the
        sequential map spent outside the Python calls (tf.data's own work, the hand-over, the
        consumer), the only part two threads can overlap while the calls hold the GIL.

        Example:
            >>> from fitscope.instrument.throughput import Throughput
            >>> r = RunResult("x", throughput=Throughput(steps=10, elapsed_s=0.5))
            >>> r.facts = {"calls_s": 0.4, "repeats_s": [0.5]}
            >>> print(GilRuns({("python", 1): r}).outside_the_gil().strip())
            In the sequential map's middle run, the pure-Python calls took 80 % of its time: \
holding the GIL, they run one at a time at any B, so a parallel map can gain only on the other \
20 % (up to about x1.25).
        """
        limit = self.python_limit()
        if limit is None:
            return ""
        text = (
            " In the sequential map's middle run, the pure-Python calls took "
            f"{100 / limit:.0f} % of its time: holding the GIL, they run one at a time at "
            "any B, so a parallel map can gain only on the other "
            f"{100 * (1 - 1 / limit):.0f} % (up to about x{limit:.2f})."
        )
        parallel = ("python", 2) in self
        why = beyond_the_gil(self.comparison("python").ratio, limit) if parallel else ""
        return text + (f" {why[0].upper()}{why[1:]}." if why else "")


def gil_runs(ms: float = 4.0, **kwargs: Any) -> GilRuns:
    """:func:`py_function_map` for NumPy (releases the GIL) and pure Python, 1 and 2 parallel
    calls, one after the other (the scorecard's; notebook 03 runs each in its own cell)."""
    from fitscope.show.live import StepCounter

    counter, runs = StepCounter.in_notebook(), GilRuns()
    for kind in GIL_KINDS:
        for par in (1, 2):
            counter.next_run(f"{kind}, {par} parallel call(s) ({len(runs) + 1} of 4)")
            runs[(kind, par)] = py_function_map(kind, ms, parallel=par, **kwargs)
    counter.next_run("all 4 measured")
    return runs
