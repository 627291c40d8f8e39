"""Trying a remedy on the spot: the first that :func:`.remedies.choose` found runnable as is.

Only a remedy that needs no change to the learner's code is tried (a generator or a PyDataset
wrapped with worker threads): warmed up, then traced like the repeats' runs in fit, and read
against them by the one comparison rule (:func:`fitscope.verdicts.compare.compare`), both over
their whole windows, pauses included: worker threads keep a queue, whose steps are read so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

from fitscope.diagnose.measure import Measurement
from fitscope.diagnose.remedies import Remedy
from fitscope.diagnose.timed_fits import traced_fit, warm_up
from fitscope.verdicts.compare import compare

__all__ = ["WORKER_THREADS", "try_first"]

WORKER_THREADS = "PyDataset worker threads (ran Python)"
TRIED_RUNS = 3
"""The tried remedy runs once, over as many steps as this many repeats: a queue that filled
while fit's loop paused gives a burst of steps at no cost, and over a repeat's few timed steps
one burst reads as a remedy faster than its batches can be made (on PyTorch, 27.9 ms a step
from a generator that sleeps 40 ms a batch, wrapped in two worker threads)."""


def try_first(
    model: Any, m: Measurement, remedies: list[Remedy], say: Callable[[str], None]
) -> tuple[list[Remedy], Any]:
    """Try the first remedy that can run as is: (remedies with its result, its run or None)."""
    for i, r in enumerate(remedies):
        if r.try_workers:
            say(f"trying: {r.how}")
            threaded = partial(m.source.threaded, workers=r.try_workers)
            warm_up(model, threaded, m.source, "the remedy")
            timing, run = traced_fit(
                model,
                TRIED_RUNS * m.steps,  # one run, as long as the repeats it is read against
                threaded,
                m.costs,
                r.producers,
                m.source,
                f"tried: {r.how}",
                WORKER_THREADS,
                m.backend_threads,
            )
            # worker threads keep a queue, so the tried run is its whole window's mean (see
            # timed_fit): the repeats it is read against are read over their whole windows too
            before = [t.whole_window().step_s * 1e3 for t in m.together]
            now = compare(before, [timing.step_s * 1e3], "ms")
            reading = f"{now.sentence}, each read over its whole window, pauses included"
            tried = dataclasses.replace(r, tried_s=timing.step_s, tried_reading=reading)
            return remedies[:i] + [tried] + remedies[i + 1 :], run
    return remedies, None
