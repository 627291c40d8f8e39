"""MultiWorkerMirroredStrategy on localhost: a launcher that starts N workers, and one worker.

``python -m fitscope.isolation.scripts.multiworker launch --workers 2 --steps 40`` picks free ports,
writes
one TF_CONFIG per worker, starts each worker as a child and reports how each ended.
``--start 1`` starts fewer workers than the cluster lists: the strategy then waits silently for the
missing peer, and only the sandbox's wall-clock watchdog ends the run.

A worker trains a small MLP with a custom loop (``experimental_distribute_dataset``,
``strategy.run``, ``apply_gradients``), or with ``model.fit`` (``--loop fit``), and reports its
weight checksums: as built from its own seed outside the strategy, after creation inside the
strategy's scope, and after training.

Example:
    $ python -m fitscope.isolation.scripts.multiworker launch --workers 2 --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from fitscope.isolation.sandbox import report
from fitscope.isolation.scripts import (
    finish_child,
    free_ports,
    keras_frames_of,
    one_line,
    start_module,
    weights_checksum,
)

FEATURES = 10
EXAMPLES = 4096


def launch(args: argparse.Namespace) -> int:
    ports = free_ports(args.workers)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    children = []
    for i in range(args.start):
        config = {"cluster": cluster, "task": {"type": "worker", "index": i}}
        log = Path(f"worker{i}.stderr")
        worker_args = [
            "worker",
            "--steps",
            str(args.steps),
            "--batch",
            str(args.batch),
            "--seed",
            str(args.seed + (i if args.seeds == "different" else 0)),
            "--loop",
            args.loop,
            "--collective-timeout",
            str(args.collective_timeout),
        ]
        proc = start_module("multiworker", worker_args, {"TF_CONFIG": json.dumps(config)}, log)
        children.append((f"worker {i}", proc, log))
    report(
        event="launched",
        ports=ports,
        cluster=cluster,
        started=args.start,
        child_pids=[p.pid for _, p, _ in children],
    )
    for name, proc, log in children:
        finish_child(name, proc, log)
    return 0 if all(p.returncode == 0 for _, p, _ in children) else 1


def _model(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def _checksum(model) -> str:
    return weights_checksum(v.numpy() for v in model.weights)


def _data(global_batch: int):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)  # the same global data on every worker; the strategy shards it
    x = rng.random((EXAMPLES, FEATURES), dtype=np.float32)
    y = (x.sum(axis=1) > FEATURES / 2).astype(np.float32)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .repeat()
        .batch(global_batch, drop_remainder=True)
        .with_options(options)
    )


def worker(args: argparse.Namespace) -> int:
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    started = time.time()
    import keras
    import tensorflow as tf

    keras.config.disable_traceback_filtering()  # keep Keras's own frames in an error's traceback
    report(
        event="imported",
        index=index,
        seed=args.seed,
        intra_op_threads=os.environ.get("TF_NUM_INTRAOP_THREADS", "TensorFlow's default"),
    )
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=args.collective_timeout,
    )
    report(event="constructing strategy", index=index)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    workers = strategy.num_replicas_in_sync
    report(event="strategy ready", index=index, replicas=workers)
    own = _checksum(_model(args.seed))  # what this worker would start from alone
    global_batch = args.batch * workers
    with strategy.scope():
        model = _model(args.seed)
        optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    initial = _checksum(model)
    report(event="built", index=index, own_seed_checksum=own, initial_checksum=initial)
    try:
        losses, wall, cpu = (_fit if args.loop == "fit" else _custom_loop)(
            strategy, model, optimizer, _data(global_batch), global_batch, args.steps, index
        )
    except Exception as e:  # the worker's failure is a measurement: report it, then end
        report(
            event="error",
            index=index,
            error=one_line(e),
            keras_frames=[f for f in keras_frames_of(e) if f.startswith("keras/")][-3:],
        )
        raise
    report(
        event="trained",
        index=index,
        final_checksum=_checksum(model),
        losses=losses,
        steps=args.steps,
        train_wall_s=wall,
        train_cpu_s=cpu,
        global_batch=global_batch,
        launch_to_end_s=time.time() - started,
    )
    return 0


def _custom_loop(strategy, model, optimizer, dataset, global_batch, steps, index):
    import keras
    import tensorflow as tf

    iterator = iter(strategy.experimental_distribute_dataset(dataset))

    @tf.function
    def train_step(iterator):
        def step(x, y):
            with tf.GradientTape() as tape:
                per_example = keras.losses.binary_crossentropy(y[:, None], model(x, training=True))
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return strategy.reduce(
            tf.distribute.ReduceOp.SUM, strategy.run(step, args=next(iterator)), axis=None
        )

    losses = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        losses.append(float(train_step(iterator)))
        if i % 10 == 0 or i == steps - 1:
            report(event="step", index=index, step=i + 1, loss=losses[-1])
    return losses, time.perf_counter() - wall0, time.process_time() - cpu0


def _fit(strategy, model, optimizer, dataset, global_batch, steps, index):
    with strategy.scope():
        model.compile(optimizer=optimizer, loss="binary_crossentropy")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    history = model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return (
        [float(v) for v in history.history["loss"]],
        time.perf_counter() - wall0,
        time.process_time() - cpu0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fitscope.isolation.scripts.multiworker")
    parser.add_argument("role", choices=("launch", "worker"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start", type=int, default=None, help="workers to start (default all)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32, help="per-worker batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", choices=("different", "same"), default="different")
    parser.add_argument("--loop", choices=("custom", "fit"), default="custom")
    parser.add_argument("--collective-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.start is None:
        args.start = args.workers
    return launch(args) if args.role == "launch" else worker(args)


if __name__ == "__main__":
    sys.exit(main())
