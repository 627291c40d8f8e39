"""A right way: worker processes make batches into a bounded queue; the main process trains.

Run through ``fitscope.isolation.sandbox.run_python``::

    python queue_trainer.py --start-method forkserver --workers 2 --steps 200 --kind python --ms 2

The workers share the batches out between them, put each one into a ``multiprocessing.Queue``
of ``--maxsize`` (a full queue makes a worker wait, so memory stays bounded), and end with a
sentinel. The main process, the only one that imports Keras, trains on every batch, then receives
every sentinel, joins the workers and closes the queue: nothing is left behind. Keras is imported
inside ``main`` so that spawn and forkserver workers, which import this file, stay light.
"""

import argparse
import multiprocessing
import queue as queue_module
import time
from multiprocessing.queues import Queue
from typing import Any

import numpy as np

from fitscope.isolation.sandbox import report
from fitscope.workloads.article import batch_work

SENTINEL = None


def make_batches(worker, count, batch_size, kind, ms, out, stop):
    """Worker process: ``count`` batches into ``out`` (waiting while it is full), then a
    sentinel."""
    work = batch_work(kind, ms)
    rng = np.random.default_rng(worker)
    made = 0
    while made < count and not stop.is_set():
        work()
        batch = (
            rng.random((batch_size, 10), dtype=np.float32),
            rng.integers(0, 2, (batch_size, 1)).astype(np.float32),
        )
        while not stop.is_set():
            try:
                out.put(batch, timeout=0.1)
                made += 1
                break
            except queue_module.Full:
                continue
    report(role=f"worker {worker}", batches=made, done=True)
    out.put(SENTINEL)


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start-method", choices=("spawn", "forkserver"), default="forkserver")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--kind", default="python")
    p.add_argument("--ms", type=float, default=2.0)
    p.add_argument("--width", type=int, default=0)
    p.add_argument("--maxsize", type=int, default=8)
    p.add_argument("--seconds", type=float, default=60.0, help="stop training after this long")
    return p.parse_args()


def main():
    args = parse()
    multiprocessing.set_start_method(args.start_method)
    from fitscope.instrument.measure import cost_per_call
    from fitscope.isolation.scripts import weights_checksum
    from fitscope.workloads.article import article_model

    def checksum(model):
        return weights_checksum(w.numpy() for w in model.weights)

    model = article_model(args.width)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, 10), dtype=np.float32)
    y = rng.integers(0, 2, (args.batch_size, 1)).astype(np.float32)
    model.train_on_batch(x, y)  # builds and traces the train step before anything is timed
    calls = max(3, min(20, args.steps))
    t_p1, cpu_p1 = cost_per_call(batch_work(args.kind, args.ms), calls)
    t_c1, cpu_c1 = cost_per_call(lambda: model.train_on_batch(x, y), calls, time.process_time)
    before = checksum(model)
    report(
        role="main",
        event="costs",
        checksum=before,
        t_p1=t_p1,
        cpu_p1=cpu_p1,
        t_c1=t_c1,
        cpu_c1=cpu_c1,
    )

    batches: Queue[Any] = multiprocessing.Queue(maxsize=args.maxsize)
    stop = multiprocessing.Event()
    shares = [
        args.steps // args.workers + (i < args.steps % args.workers) for i in range(args.workers)
    ]
    workers = [
        multiprocessing.Process(
            target=make_batches,
            name=f"worker {i}",
            args=(i, n, args.batch_size, args.kind, args.ms, batches, stop),
        )
        for i, n in enumerate(shares)
    ]
    for w in workers:
        w.start()

    deadline = time.perf_counter() + args.seconds
    ends, sentinels, last = [], 0, 0.0
    start_ns = time.perf_counter_ns()
    while sentinels < len(workers):
        item = batches.get()
        if item is SENTINEL:
            sentinels += 1
            continue
        if stop.is_set():
            continue  # draining after an early stop
        model.train_on_batch(*item)
        ends.append(time.perf_counter_ns() - start_ns)
        now = time.perf_counter()
        if now - last >= 0.1:
            report(role="main", steps=len(ends), backlog=batches.qsize())
            last = now
        if now > deadline:
            stop.set()
    for w in workers:
        w.join()
    batches.close()
    batches.join_thread()
    report(
        role="main",
        event="done",
        steps=len(ends),
        step_ends_ns=ends,
        checksum=checksum(model),
        checksum_before=before,
        worker_exit_codes=[w.exitcode for w in workers],
        stopped_early=stop.is_set(),
    )


if __name__ == "__main__":
    main()
