"""Which remedy fits, chosen by the measurement, each with the most it could save.

The choice follows the larger part of the input share first, where the repeats rank them
(:func:`.verdict.larger_part`): *waiting* (the training thread idle for its next batch) calls for
more producers and prefetch, by where the data is made (the kind of source, the thread that made
it), whether making a batch computes (CPU a sizeable share of wall: if that is Python, it holds
the GIL and only processes run it side by side; Pillow, NumPy and TensorFlow's ops release it,
which CPU against wall cannot tell) or waits (threads wait side by side), and the backend;
*contention* (the step slowed by the data work sharing the CPU) calls for cheaper data work,
fewer data threads, or more cores. A part gets remedies only when it is measured beyond the noise
(:func:`beyond_noise`). A producer remedy's saving is fitscope's ideal-overlap bound for one
step with its producers on this machine's B CPUs; a contention remedy's is the step in fit less
the contention measured; never more. Every figure a remedy quotes is one the diagnosis's table
shows: the medians of the repeats (:func:`fitscope.core.estimate.median_spread`'s median),
printed and read by :mod:`.figures` (its names importable from here too). Nothing here runs:
:func:`.remedy_trial.try_first` runs the first remedy that needs no change to the learner's code.

Example:
    >>> r = Remedy("Pass workers=2", "batches wait", bound_s=0.020, now_s=0.040)
    >>> r.sentence()
    'Pass workers=2: batches wait; at best 20 ms a step instead of 40 ms (the ideal-overlap bound).'
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fitscope.diagnose.figures import (
    beyond_noise,
    busy_share,
    clock_cpus,
    ms,
)
from fitscope.diagnose.measure import Measurement
from fitscope.diagnose.sources import (
    ARRAYS,
    GENERATOR,
    GRAIN,
    ITERATOR,
    PYDATASET,
    TF_DATA,
    TORCH,
)
from fitscope.diagnose.verdict import CONTENTION, WAITING, larger_part
from fitscope.instrument.bounds import stage_bounds

__all__ = [
    "Remedy",
    "beyond_noise",
    "busy_share",
    "ms",
    "choose",
    "notes",
]

MAX_WORKERS = 16  # the most workers a remedy proposes for batches that mostly wait
NO_PROCESSES = "not tried here: diagnose starts no worker processes from a running program"
START_SAFELY = (
    " (Keras starts these workers with multiprocessing.Pool in Python's default start method, "
    "on Linux fork up to Python 3.13, which would fork a process already running TensorFlow's "
    'or JAX\'s threads: call multiprocessing.set_start_method("forkserver") (or "spawn") '
    'as the first line under if __name__ == "__main__": before fit, and define the PyDataset '
    "class in a module the workers can import, not in a notebook cell)"
)

GRAIN_SPAWN = (
    " (Grain starts these workers with spawn: each imports your main module again, so keep "
    'the training under if __name__ == "__main__":)'
)


@dataclass(frozen=True)
class Remedy:
    """What to do, why it fits, its bound and today's step (s), and what trying it measured."""

    how: str
    why: str
    bound_s: float
    now_s: float
    producers: int = 1  # how many batches can be made at once: the bound's workers
    try_workers: int = 0  # > 0: can be tried as is, with this many worker threads
    not_tried: str = ""
    tried_s: float | None = None
    tried_reading: str = ""  # the tried run against today's repeats, by verdicts.compare
    bound_name: str = "the ideal-overlap bound"
    escapes_gil: bool = False  # moves Python data work off this process's GIL (processes, ops)

    @property
    def saves(self) -> bool:
        """Whether its bound is at least 5% under today's step."""
        return self.bound_s < 0.95 * self.now_s

    def sentence(self) -> str:
        """How, why, the most it could save and, if tried, what it did, in one sentence."""
        best = (
            f"at best {ms(self.bound_s)} a step instead of {ms(self.now_s)} ({self.bound_name})"
            if self.saves
            else f"its bound ({ms(self.bound_s)} a step) is no better than now ({ms(self.now_s)})"
        )
        if self.tried_s is not None:
            best += (
                "; tried here, against the step in fit now: "
                + (self.tried_reading or f"{ms(self.tried_s)} a step")
                + (
                    f"; {ms(self.tried_s)} is under its bound: the bound's cost estimate was high"
                    if self.tried_s < self.bound_s
                    else ""
                )
            )
        elif self.not_tried:
            best += f"; {self.not_tried}"
        return f"{self.how}: {self.why}; {best}."


def choose(m: Measurement) -> list[Remedy]:
    """The remedies that fit this measurement: the larger part's first where the repeats rank
    the two (:func:`larger_part`), else the larger median's; each part's biggest saving first.
    A part not measured beyond the noise (:func:`beyond_noise`) gets none; a remedy whose bound
    saves nothing is left out, unless it can be tried as is (then trying shows why it does not
    help)."""
    workers = max(2, int(m.run.budget.cpus if m.run.budget else 1))
    waiting = [r for r in _by_source(m, workers, m.data.computes) if r.saves or r.try_workers]
    # Data work that computes may be Python holding the GIL, which the step's own Python waits
    # for: with a CPU to spare, that part of the contention goes away with the work moved off
    # the GIL (worker processes, TF ops); on one CPU the step and the data share its time
    # wherever the data runs.
    spare = (m.run.budget.cpus if m.run.budget else 1.0) >= 2
    off_gil = [r for r in waiting if r.escapes_gil] if m.data.computes and spare else []
    contention = off_gil + [r for r in _for_contention(m) if r.saves]
    each = {WAITING: [p[1] for p in m.parts], CONTENTION: [p[2] for p in m.parts]}
    found = {WAITING: sorted(waiting, key=lambda r: r.bound_s), CONTENTION: contention}
    medians = {WAITING: m.waiting_share, CONTENTION: m.contention_share}
    larger = larger_part(each[WAITING], each[CONTENTION], m.alone_noise)[0]
    first = larger or max(medians, key=medians.__getitem__)
    order = sorted(each, key=lambda k: k != first)  # the larger part first
    chosen = [r for k in order if beyond_noise(each[k], m.alone_noise) for r in found[k]]
    return list(dict.fromkeys(chosen))  # a remedy that fits both parts is said once


def _for_contention(m: Measurement) -> list[Remedy]:
    """Cheaper data work, fewer data threads, more cores: each at best removes the contention.

    The figures are the table's: the step in fit and the contention, medians of the repeats.
    """
    now = m.step_in_fit_s
    bound = now * (1 - m.contention_share)
    why = (
        f"the data work slows the step by sharing the CPU with it: {m.contention_share:.0%} of "
        "a step in fit"
    )

    def remedy(how: str) -> Remedy:
        return Remedy(
            how, why, bound, now, bound_name=f"the step in fit less its {m.contention_share:.0%}"
        )

    cached = "Cache" in m.source.stages()  # a pipeline that caches already: not again
    found = [
        remedy(
            "Make the data work cheaper: "
            + ("" if cached else ".cache() a tf.data pipeline after its costly stages, or ")
            + "make the batches once and keep them, or do less work a batch"
        )
    ]
    if m.source.kind == GRAIN and m.source.workers > 1:
        found.append(
            remedy(
                "Give Grain fewer threads (grain.ReadOptions(num_threads=...) a small number) "
                "or fewer mp_prefetch workers, so the step keeps its cores"
            )
        )
    elif m.source.workers > 1 or "ParallelMap" in m.source.stages():
        found.append(
            remedy(
                "Give the data fewer threads (workers=, num_parallel_calls= a small number), "
                "so the step keeps its cores"
            )
        )
    found.append(remedy("Train on more CPU cores, or on an accelerator that frees the CPU"))
    return found


def _by_source(m: Measurement, w: int, busy: bool) -> list[Remedy]:
    src, b = m.source, m.run.budget.cpus if m.run.budget else 1.0

    def remedy(how: str, why: str, workers: int, **kw: Any) -> Remedy:
        c = m.costs
        if busy:
            bound = c.bounds(1, workers, b).overlapped_s
        else:  # batches that wait need no CPU to wait: B does not cap their workers
            stage = ("data", c.producer_s, c.producer_cpu_s or 0.0, workers, True)
            bound = stage_bounds([stage], c.train_s, c.train_cpu_s or 0.0, b).overlapped_s
        if workers > 1:  # not the table's bound, which has the one producer measured
            kw.setdefault("bound_name", f"the ideal-overlap bound with {workers} producers")
        return Remedy(how, why, bound, m.step_in_fit_s, workers, **kw)

    counts = clock_cpus(m.data.clock, b)
    cpu = f"CPU {busy_share(m.data.cpu_s, m.data.wall_s, counts)} on {m.data.clock}"
    in_parallel = (
        f"making a batch computed ({cpu}): where that computing is Python, it holds the GIL "
        "and only processes run it side by side; libraries such as Pillow and NumPy release "
        "the GIL inside their C code, so threads may run that part at once (CPU against wall "
        "does not tell which)"
        if busy
        else f"your batches mostly wait ({cpu}), and threads wait side by side"
    )
    pydataset = f"workers={w}, use_multiprocessing={busy}"
    tf_ops = remedy(
        "Write the batch-making as TensorFlow ops in tf.data.Dataset.range(n)"
        ".map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)"
        ".prefetch(tf.data.AUTOTUNE)",
        "tf.data runs TensorFlow ops on its own threads, without the GIL",
        w,
        escapes_gil=True,
    )
    if src.kind in (GENERATOR, ITERATOR):
        return [
            remedy(
                f"Make batch i in a keras.utils.PyDataset's __getitem__(i) with {pydataset}"
                + (START_SAFELY if busy else ""),
                in_parallel,
                w,
                not_tried=NO_PROCESSES
                if busy
                else "not tried here: it needs your batch code as __getitem__(i)",
                escapes_gil=busy,
            ),
            remedy(
                f"Wrap the {src.kind} as it is in a PyDataset with 2 worker threads",
                "it still makes one batch at a time (under a lock); "
                + (
                    "TensorFlow already calls it on a tf.data thread beside the step, so "
                    "only the hand-over of each batch changes: the tried run says by how much"
                    if m.backend == "tensorflow"
                    else "it moves it off the thread that runs the step, so a batch is made "
                    "while a step runs"
                ),
                1,
                try_workers=2,
            ),
            *([tf_ops] if importlib.util.find_spec("tensorflow") else []),
        ]
    if src.kind == PYDATASET and src.in_processes:
        # Batches that compute overlap in up to B workers; batches that mostly wait overlap in as
        # many as one batch's time holds steps (capped at MAX_WORKERS).
        per_step = max(m.step_alone_s, 1e-6)
        enough = w if busy else max(w, min(MAX_WORKERS, math.ceil(m.data.wall_s / per_step)))
        if src.workers >= enough:
            return []
        return [
            remedy(
                f"Raise your PyDataset's workers to {enough}" + START_SAFELY,
                f"batches are made in {src.workers} worker process(es), "
                + (f"each computing ({cpu})" if busy else f"each mostly waiting ({cpu})"),
                enough,
                not_tried=NO_PROCESSES,
            )
        ]
    if src.kind == PYDATASET:
        how = f"Pass {pydataset} to your PyDataset"
        if busy:
            return [
                remedy(how + START_SAFELY, in_parallel, w, not_tried=NO_PROCESSES, escapes_gil=True)
            ]
        # batches that wait overlap in as many threads as one batch's time holds steps
        per_step = max(m.step_alone_s, 1e-6)
        enough = max(w, min(MAX_WORKERS, math.ceil(m.data.wall_s / per_step)))
        if src.workers >= enough:
            return []
        how = f"Pass workers={enough}, use_multiprocessing=False to your PyDataset"
        return [remedy(how, in_parallel, enough, try_workers=enough)]
    if src.kind == TF_DATA:
        stages, found = src.stages(), []
        if "Prefetch" not in stages:
            found.append(
                remedy(
                    "End the pipeline with .prefetch(tf.data.AUTOTUNE)",
                    "it makes the next batches while a step runs",
                    1,
                )
            )
        if "Map" in stages:  # a serial map; a parallel one is "ParallelMap"
            found.append(
                remedy(
                    "Give its .map(...) num_parallel_calls=tf.data.AUTOTUNE",
                    "a map without it makes one element at a time",
                    w,
                )
            )
        if "Cache" not in stages:
            found.append(
                remedy(
                    "Add .cache() after the costly stages, if the data fits in memory "
                    "and is the same every epoch",
                    "from the second epoch on, batches are read from memory",
                    1,
                )
            )
        return found
    if src.kind == ARRAYS and m.backend != "tensorflow":
        return [
            remedy(
                "Feed tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)"
                ".prefetch(tf.data.AUTOTUNE) instead of the arrays",
                f"on {m.backend}, Keras slices arrays on the main thread between steps; "
                "tf.data slices ahead on its own threads",
                1,
            )
        ]
    if src.kind == GRAIN:
        return _for_grain(m, w, busy, remedy, in_parallel, cpu)
    if src.kind == TORCH and src.workers < w:
        return [
            remedy(
                f"Build the DataLoader with num_workers={w}, persistent_workers=True",
                f"it makes batches in {src.data.num_workers} worker process(es) now",
                w,
                not_tried=NO_PROCESSES,
            )
        ]
    return []


def _for_grain(
    m: Measurement,
    w: int,
    busy: bool,
    remedy: Callable[..., Remedy],
    in_parallel: str,
    cpu: str,
) -> list[Remedy]:
    """Grain's own knobs: more prefetch threads for batches that wait, worker processes
    (``mp_prefetch``, or a DataLoader's ``worker_count``) for Python that keeps its thread busy.
    """
    made, processes = m.source.grain
    loader = type(m.source.data).__name__ == "DataLoader"
    per_step = max(m.step_alone_s, 1e-6)
    enough = w if busy else max(w, min(MAX_WORKERS, math.ceil(m.data.wall_s / per_step)))
    if made >= enough and (processes or not busy):
        return []
    now = (
        f"it makes batches in {made} worker process(es) now, "
        + (f"each computing ({cpu})" if busy else f"each mostly waiting ({cpu})")
        if processes
        else in_parallel
    )
    if busy or processes or loader:
        how = (
            f"Build the grain.DataLoader with worker_count={enough}"
            if loader
            else f"End the pipeline with .mp_prefetch(grain.MultiprocessingOptions("
            f"num_workers={enough})), an IterDataset method: call it on what "
            ".to_iter_dataset() returns"
        )
        return [remedy(how + GRAIN_SPAWN, now, enough, not_tried=NO_PROCESSES, escapes_gil=busy)]
    return [
        remedy(
            "Read it through .to_iter_dataset(read_options=grain.ReadOptions("
            f"num_threads={enough}, prefetch_buffer_size={2 * enough})) "
            f"(now {made or 'no'} prefetch thread{'' if made == 1 else 's'})",
            now,
            enough,
            not_tried="not tried here: it needs your pipeline built with these options",
        )
    ]


def notes(m: Measurement) -> list[str]:
    """What the backend does with data, where it matters for this source (sentences)."""
    seq = m.costs.bounds(1, 1, 1.0).sequential_s
    out = []
    if m.backend == "jax":
        out.append(
            "On JAX, fit makes the next batch while a step runs only as long as nothing "
            "waits for the step: this was measured with no per-batch callback; one with "
            "on_train_batch_end (verbose=1's progress bar is one) makes every step wait, "
            f"up to {ms(seq)} a step (the one-after-the-other bound); "
            "steps_per_execution=k in compile() waits only once every k steps."
        )
    elif m.backend == "torch":
        out.append(
            "On PyTorch, fit waits for each step on the main thread, so data made on the "
            "main thread never overlaps a step: only workers make it overlap."
        )
    elif m.backend == "tensorflow" and m.source.kind in (GENERATOR, ITERATOR):
        out.append(
            "On TensorFlow, Keras runs a generator on tf.data's threads after peeking at "
            "its first batches, and prefetches: it already overlaps the step, one batch "
            "at a time."
        )
    if m.backend == "tensorflow" and m.source.kind == ARRAYS:
        out.append("On TensorFlow, Keras already feeds arrays through tf.data with prefetch.")
    return out
