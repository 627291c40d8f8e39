"""Notebook 03's sources: ``from_generator`` against ``from_tensor_slices`` on the same arrays.

:func:`generator_vs_slices` measures one source; :class:`SourceRuns` shows sources already
measured, by name, as a table with its reading.

Example:
    >>> r = generator_vs_slices("from_tensor_slices", samples=96, epochs=1)  # doctest: +SKIP
    >>> r.facts["next_calls"]                                                 # doctest: +SKIP
    0
"""

from __future__ import annotations

import math
import time
from typing import Any

from fitscope.instrument.errors import check_choice, check_int
from fitscope.instrument.measure import measured_run
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.lessons.tfdata.examples import example3_arrays
from fitscope.workloads.graph_costs import tensorflow

__all__ = ["SourceRun", "SourceRuns", "generator_vs_slices"]


def _listed(xs: list[float], scale: float = 1e3) -> str:
    """Values (scaled: seconds to ms by default) to three significant figures, as far as epochs
    that differ by tens of percent support (F-29b: "6067.2, 4331.6 batches/s").

    Example:
        >>> _listed([6067.2, 4331.6, 13419.3], 1), _listed([0.0003124, 0.0124])
        ('6,070, 4,330, 13,400', '0.312, 12.4')
    """
    return ", ".join(_three_figures(scale * x) for x in xs)


def _three_figures(x: float) -> str:
    if x == 0:
        return "0"
    digits = 2 - math.floor(math.log10(abs(x)))
    rounded = round(x, digits)
    return f"{rounded:,.0f}" if digits <= 0 else f"{rounded:,.{digits}f}"


class SourceRun(RunResult):
    """One source's run: per epoch, the iterator's start, batches/s and the used-up iterator's
    deletion, and where ``next()`` ran."""

    def __str__(self) -> str:
        f = self.facts
        if not f.get("batches_per_s"):
            return f"{self.name}: no batch was delivered."
        where = (
            f"; the generator's next() ran on the main thread {f['next_calls_on_main']} of "
            f"{f['next_calls']} times"
            if f.get("next_calls")
            else ""
        )
        return (
            f"{self.name}: {len(f['batches_per_s'])} epoch(s) of {f['batches_per_epoch']} "
            f"batches; each epoch's iterator started in {_listed(f['iterator_start_s'])} ms and "
            f"delivered {_listed(f['batches_per_s'], 1)} batches/s{where}."
        )

    def table(self) -> Table:
        f = self.facts
        rows = [
            ("iterator start per epoch (ms)", _listed(f["iterator_start_s"])),
            ("batches/s per epoch", _listed(f["batches_per_s"], 1)),
            ("deleting the used-up iterator (ms)", _listed(f["iterator_delete_s"])),
        ]
        if f.get("next_calls"):
            rows.append(
                (
                    "next() calls on the main thread",
                    f"{f['next_calls_on_main']} of {f['next_calls']}",
                )
            )
        return Table(("quantity", self.name), rows, reading=str(self))


def generator_vs_slices(
    source: str = "from_generator",
    samples: int | None = None,
    epochs: int = 3,
    batch_size: int = 32,
    seed: int = 0,
) -> SourceRun:
    """Iterate in-memory arrays in batches, per epoch a new iterator, as ``fit`` does.

    ``source`` is "from_generator" (a Python generator slicing the arrays, + prefetch) or
    "from_tensor_slices" (+ batch + prefetch). Facts: each epoch's iterator start (iter() to first
    batch), batches/s to the last batch, and how long deleting the exhausted iterator took.
    """
    check_choice("source", source, ("from_generator", "from_tensor_slices"))
    data, labels = example3_arrays(samples, seed)
    samples = len(data)
    check_int("epochs", epochs, 1, 100)
    check_int("batch size", batch_size, 1, 8192)
    with measured_run() as run:
        tf, tracer = tensorflow(), run.tracer
        if source == "from_generator":

            def batches() -> Any:
                for i in range(0, samples, batch_size):
                    yield data[i : i + batch_size], labels[i : i + batch_size]

            spec = (tf.TensorSpec((None, 10), tf.float32), tf.TensorSpec((None,), tf.float32))
            ds = tf.data.Dataset.from_generator(
                lambda: tracer.wrap_generator(batches()), output_signature=spec
            )
        else:
            ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(batch_size)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        starts, rates, teardowns = [], [], []
        with run.sampling():
            for epoch in range(epochs):
                tracer.mark(f"epoch {epoch + 1}", "epoch")
                t0 = time.perf_counter_ns()
                it = iter(ds)
                ends = []
                for _ in it:
                    ends.append(time.perf_counter_ns())
                    tracer.record("batch", "train", ends[-2] if len(ends) > 1 else t0, ends[-1])
                t1 = time.perf_counter_ns()
                del it  # timed apart: deleting an exhausted iterator can block
                teardowns.append((time.perf_counter_ns() - t1) / 1e9)
                starts.append((ends[0] - t0) / 1e9)
                rates.append((len(ends) - 1) / max((ends[-1] - ends[0]) / 1e9, 1e-9))
        result = run.result(
            f"{source} + prefetch",
            dict(source=source, samples=samples, epochs=epochs, batch_size=batch_size),
            tf_data_tids=tracer.tids("generator"),
        )
    main = run.roles.main
    result.facts.update(
        iterator_start_s=starts,
        iterator_delete_s=teardowns,
        batches_per_s=rates,
        batches_per_epoch=-(-samples // batch_size),
        next_calls_on_main=sum(1 for s in result.spans_of("generator") if s.tid == main),
        next_calls=len(result.spans_of("generator")),
    )
    return SourceRun(**vars(result))


class SourceRuns(ShowsItself, dict):
    """:func:`generator_vs_slices` runs by source: per epoch, iterator start, batches/s,
    deletion."""

    def table(self) -> Table:
        rows = [
            (
                source,
                _listed(r.facts["iterator_start_s"]),
                _listed(r.facts["batches_per_s"], 1),
                _listed(r.facts["iterator_delete_s"]),
            )
            for source, r in self.items()
        ]
        gen = self.get("from_generator")
        reading = (
            f"The generator's next() ran on the main thread {gen.facts['next_calls_on_main']} "
            f"of {gen.facts['next_calls']} times (TensorFlow backend)."
            if gen
            else ""
        )
        return Table(
            (
                "source",
                "iterator start per epoch (ms)",
                "batches/s per epoch",
                "deleting the used-up iterator (ms)",
            ),
            rows,
            reading=reading,
        )
