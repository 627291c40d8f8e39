"""The best set-up of each scenario (notebooks 01, 02, 03) on one workload, against its bound.

One workload (:class:`Workload`): a sleep-like producer cost per batch (standing for I/O) and
the article's Dense(1) model trained by ``fit``. Scenario 01's best is a Python generator that
sleeps (:func:`generator_best`); scenario 02's worker processes filling a bounded queue for the
main process, which trains (one sandbox: :func:`processes_best`); scenario 03's reads interleaved
in parallel inside the graph, a parallel map and a prefetch (:func:`tfdata_fit`). Each is one run,
measured in its own cell; :class:`BestOfEach` puts runs already measured side by side, as a chart
and a table with its reading.

Example:
    >>> Workload(steps=10).batch_size
    32
    >>> generator_best(Workload(steps=20, epochs=1))                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fitscope.core.alone import step_alone
from fitscope.core.clock import StepClock
from fitscope.instrument.bounds import peak_concurrency, stage_bounds
from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_int, check_positive
from fitscope.instrument.measure import measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Stack, Table
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.show.against import AgainstBounds
from fitscope.verdicts.compare import Fastest, fastest
from fitscope.workloads.article import FEATURES, article_model
from fitscope.workloads.graph_costs import stage_cost, tensorflow, timed_sleep

__all__ = ["Workload", "BestOfEach", "generator_best", "processes_best", "tfdata_fit"]

CYCLE = 4  # reads the interleave keeps going at once


@dataclass(frozen=True)
class Workload:
    """One workload for every scenario's best set-up: a sleep-like producer cost per batch and the
    article's Dense(1) model trained by ``fit``."""

    ms_per_batch: float = 4.0
    batch_size: int = 32
    steps: int = 100
    epochs: int = 2

    def __post_init__(self) -> None:
        check_positive("ms per batch", self.ms_per_batch, maximum=1000)
        check_int("batch size", self.batch_size, 1, 8192)
        check_int("steps per epoch", self.steps, 3, 100_000)
        check_int("epochs", self.epochs, 1, 1000)

    @classmethod
    def default(cls, **overrides: Any) -> Workload:
        """Sized for the mode: enough steps that each set-up's steady state shows."""
        return cls(**{"steps": 40 if quick_mode() else 100, "epochs": 2, **overrides})


def _step_in_fit(model: Any, batch: tuple[Any, Any], steps: int = 24) -> tuple[float, float]:
    """(wall s, process CPU s) of one step of ``fit`` on ``batch`` held in memory: the consumer's
    cost in ``fit``'s own loop, timed by the measurement core (``train_on_batch`` adds Python
    overhead per call, which made the bound high)."""
    timing = step_alone(model, batch, steps)
    return timing.step_s, timing.cpu_s


def tfdata_fit(workload: Workload | None = None) -> RunResult:
    """``fit`` fed by the best tf.data set-up for ``workload``: reads interleaved in parallel
    (sleep-like, in the graph), batches made by a parallel map, prefetch."""
    w = workload or Workload.default()
    total = w.steps * w.epochs
    with measured_run() as run:
        tf = tensorflow()

        def make_batch(i: Any, read_times: Any) -> Any:
            seed = tf.stack([i, i + 1])
            x = tf.random.stateless_uniform([w.batch_size, FEATURES], seed=seed)
            y = tf.cast(
                tf.random.stateless_uniform([w.batch_size], seed=seed + 7) > 0.5, tf.float32
            )
            return x, y

        def reads(n: int) -> Any:
            return tf.data.Dataset.range(n).interleave(
                lambda i: timed_sleep(tf.data.Dataset.from_tensors(i), w.ms_per_batch),
                cycle_length=CYCLE,
                num_parallel_calls=CYCLE,
                deterministic=False,
            )

        width = peak_concurrency([tuple(t) for _, t in reads(8 * CYCLE).as_numpy_iterator()])
        ds = (
            reads(total)
            .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )
        model = article_model(0)
        t_c1, cpu_c1 = _step_in_fit(model, next(iter(ds.take(1))))
        t_p1, cpu_p1 = stage_cost("sleep", w.ms_per_batch)
        trace_cb = StepClock(run.tracer)
        with run.sampling():
            model.fit(
                ds,
                steps_per_epoch=w.steps,
                epochs=w.epochs,
                verbose=0,
                shuffle=False,
                callbacks=[trace_cb],
            )
        result = run.result(f"tf.data (parallel interleave x{CYCLE}, prefetch) → fit", vars(w))
    ends = trace_cb.batch_ends_ns
    if (done := len(ends) - 1) > 0:
        workers = max(CYCLE, width)  # reads tf.data ran at once, measured up front
        result.bounds = stage_bounds(
            [("read", done * t_p1, done * cpu_p1, workers, True)],
            done * t_c1,
            done * cpu_c1,
            run.budget.cpus,
        )
        result.throughput = throughput_from_ends(ends[1:], w.batch_size, ends[0])
    result.facts.update(
        steps=len(ends),
        measured_s=result.throughput.elapsed_s,
        reads_at_once=width,
        costs_per_step=dict(t_p1=t_p1, cpu_p1=cpu_p1, t_c1=t_c1, cpu_c1=cpu_c1),
    )
    return result


def generator_best(workload: Workload | None = None) -> RunResult:
    """Scenario 01's best: a Python generator that sleeps, fed to ``fit`` (on the TensorFlow
    backend ``tf.data``'s threads call it, so it overlaps training)."""
    from fitscope.experiments.article_fit import generator_fit

    w = workload or Workload.default()
    return generator_fit(
        kind="sleep",
        ms_per_batch=w.ms_per_batch,
        batch_size=w.batch_size,
        width=0,
        steps=w.steps,
        epochs=w.epochs,
    )


def processes_best(workload: Workload | None = None) -> RunResult:
    """Scenario 02's best: worker processes fill a bounded queue for the main process, which
    trains (in a sandbox). A run that did not finish raises RuntimeError saying why (the
    sandbox's reason): it has no throughput or bounds to set beside the others."""
    from fitscope.lessons.trainer.remedies import queue_trainer

    w = workload or Workload.default()
    run = queue_trainer(
        kind="sleep", ms_per_batch=w.ms_per_batch, batch_size=w.batch_size, steps=w.steps * w.epochs
    )
    if not run.facts.get("finished") or run.bounds is None:
        why = run.facts.get("why_not") or "no step was measured"
        raise RuntimeError(f"the bounded-queue run did not finish: {why}")
    return run


class BestOfEach(ShowsItself, list):
    """(row name, RunResult) of set-ups already measured on one workload: a chart against the
    bounds, a table, and which is fastest by the one comparison rule.

    Example:
        >>> from fitscope.instrument.throughput import Throughput
        >>> best = BestOfEach([(n, RunResult(n, throughput=Throughput(steps=9, elapsed_s=t)))
        ...                    for n, t in (("a", 1.0), ("b", 0.5))])
        >>> best.fastest().winner
        'b'
    """

    def rows(self) -> list[tuple[str, float, float | None, float | None]]:
        """(name, measured s, overlapped bound s, one-after-the-other s) per set-up."""
        return [
            (
                name,
                r.throughput.elapsed_s,
                r.bounds.overlapped_s if r.bounds else None,
                r.bounds.sequential_s if r.bounds else None,
            )
            for name, r in self
        ]

    def costs(self) -> dict[str, float]:
        """Each set-up's own cost per step of the same workload, one after the other (seconds):
        measured with each run, so a gap between them is the machine changing."""
        return {
            name: r.bounds.sequential_s / r.throughput.steps
            for name, r in self
            if r.bounds and r.throughput.steps and r.bounds.sequential_s > 0
        }

    def fastest(self) -> Fastest:
        """The fastest set-up, named only beyond what one run each can decide, and only when
        the runs paid about the same costs (:func:`~fitscope.verdicts.compare.fastest`)."""
        return fastest({name: r.throughput.elapsed_s for name, r in self}, costs=self.costs())

    def chart(self) -> Any:
        from fitscope.show.charts import comparison

        return comparison(self.rows(), title="Best set-up of each scenario on one workload")

    def table(self) -> Table:
        against = "; ".join(
            f"{name}: {AgainstBounds(t, b, seq).header()}"  # as the chart's header reads it
            for name, t, b, seq in self.rows()
            if b
        )
        return Table(
            ("set-up", "measured (s)", "ideal (s)", "one after the other (s)"),
            self.rows(),
            reading=f"{against}. {self.fastest().sentence}.",
            facts=[self.fastest().facts()],
        )

    def _repr_html_(self) -> str:
        return Stack([self.chart(), self.table()])._repr_html_()
