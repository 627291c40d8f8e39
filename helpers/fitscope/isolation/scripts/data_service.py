"""tf.data service: a dispatcher and workers offloading a compute-heavy map, against the local
pipeline.

Roles:
- ``inprocess`` (default): dispatcher, workers and client in this one interpreter.
- ``processes``: this process is the client; it starts the dispatcher and each worker as a child
  process (about 500 MiB each), and stops them with SIGTERM at the end.
- ``dispatcher`` / ``worker``: one server, serving until it is stopped (``join()`` never returns).

The client first runs the same pipeline locally (sequential map), then through the service
(``distributed_epoch``: each element once), timing both to the last element, and reports
wall time, process CPU and whether every element arrived exactly once.

Example:
    $ python -m fitscope.isolation.scripts.data_service inprocess --elements 200 --size 256 --rounds
    8
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from fitscope.isolation.sandbox import report
from fitscope.isolation.scripts import finish_child, free_ports, start_module, wait_for_ports


def heavy_pipeline(tf, elements: int, size: int, rounds: int):
    """Element i -> (i, a scalar): ``rounds`` chained ``size``x``size`` matmuls (CPU-bound); the
    pipeline measured when no ``--pipeline`` is given (notebook 04 writes the same in a cell)."""

    def work(i):
        x = tf.random.stateless_uniform((size, size), seed=tf.stack([i, 0]))
        for _ in range(rounds):
            x = tf.tanh(tf.matmul(x, x) / size)
        return i, tf.reduce_sum(x)

    return tf.data.Dataset.range(elements).map(work)


def load_pipeline(path: str):
    """The pipeline function ``f(tf, elements, size, rounds)``: the one whose source the JSON
    file at ``path`` holds (``{"source": ..., "name": ...}``, a notebook cell's), or
    :func:`heavy_pipeline`."""
    if not path:
        return heavy_pipeline
    code = json.loads(Path(path).read_text())
    namespace: dict = {}
    exec(compile(code["source"], "<notebook cell>", "exec"), namespace)  # the learner's own code
    return namespace[code["name"]]


def _drain(dataset) -> dict:
    """Wall s, process CPU s, first-element s and element ids, from the first request to the last
    element."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ids, first = [], None
    for i, _ in dataset:
        ids.append(int(i))
        first = first or time.perf_counter() - wall0
    return {
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "first_element_s": first,
        "ids": ids,
    }


def client(args: argparse.Namespace, service: str, mode: str) -> None:
    import tensorflow as tf

    make = load_pipeline(args.pipeline)

    def pipeline():
        return make(tf, args.elements, args.size, args.rounds)

    _drain(make(tf, 2, args.size, args.rounds))  # trace, warm up
    for event, dataset in (
        ("local", pipeline()),
        (
            "service",
            pipeline().apply(
                tf.data.experimental.service.distribute(
                    processing_mode="distributed_epoch", service=service
                )
            ),
        ),
    ):
        run = _drain(dataset)
        ids = run.pop("ids")
        report(
            event=event,
            mode=mode,
            elements=len(ids),
            each_once=sorted(ids) == list(range(args.elements)),
            **run,
        )


def inprocess(args: argparse.Namespace) -> int:
    import tensorflow as tf

    svc = tf.data.experimental.service
    dispatcher = svc.DispatchServer(svc.DispatcherConfig(port=0))
    address = dispatcher.target.split("://")[1]
    workers = [
        svc.WorkerServer(svc.WorkerConfig(dispatcher_address=address, port=0))
        for _ in range(args.workers)
    ]
    report(event="servers", dispatcher=dispatcher.target, workers=len(workers), mode="inprocess")
    client(args, dispatcher.target, "inprocess")
    report(event="stopping", how="the servers end with this process")
    return 0


def processes(args: argparse.Namespace) -> int:
    port, *worker_ports = free_ports(1 + args.workers)
    children = [
        (
            "dispatcher",
            start_module(
                "data_service", ["dispatcher", "--port", str(port)], {}, Path("dispatcher.stderr")
            ),
            Path("dispatcher.stderr"),
        )
    ]
    for i, wp in enumerate(worker_ports):
        log = Path(f"worker{i}.stderr")
        children.append(
            (
                f"worker {i}",
                start_module(
                    "data_service",
                    ["worker", "--port", str(wp), "--dispatcher", f"localhost:{port}"],
                    {},
                    log,
                ),
                log,
            )
        )
    report(
        event="servers",
        dispatcher=f"grpc://localhost:{port}",
        workers=args.workers,
        mode="processes",
        child_pids=[p.pid for _, p, _ in children],
    )
    try:  # measure only once every server listens: their start-up would compete for the cores
        ready = wait_for_ports([port, *worker_ports], timeout_s=120)
        report(event="servers ready", ready=ready)
        client(args, f"grpc://localhost:{port}", "processes")
    finally:
        for _, proc, _ in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc, log in children:
            finish_child(name, proc, log)
    return 0


def serve(args: argparse.Namespace) -> int:
    import tensorflow as tf

    svc = tf.data.experimental.service
    if args.role == "dispatcher":
        server = svc.DispatchServer(svc.DispatcherConfig(port=args.port))
    else:
        server = svc.WorkerServer(
            svc.WorkerConfig(dispatcher_address=args.dispatcher, port=args.port)
        )
    report(event="serving", role=args.role, port=args.port)
    server.join()  # returns only when the process is stopped
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fitscope.isolation.scripts.data_service")
    parser.add_argument("role", choices=("inprocess", "processes", "dispatcher", "worker"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--elements", type=int, default=200)
    parser.add_argument("--size", type=int, default=256, help="matrix size of the map's matmuls")
    parser.add_argument("--rounds", type=int, default=8, help="chained matmuls per element")
    parser.add_argument("--pipeline", default="", help="JSON of a pipeline function's source")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dispatcher", default="")
    args = parser.parse_args(argv)
    if args.role == "inprocess":
        return inprocess(args)
    if args.role == "processes":
        return processes(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
