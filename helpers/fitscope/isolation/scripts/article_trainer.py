"""The article's example 2, rebuilt in our own code with its flaws, as a real ``__main__`` script.

Flaws kept on purpose: an unbounded ``multiprocessing.Queue``; children that are never joined;
training in a child process (on its own copy of the model); labels of shape (32,) against an
output of shape (32, 1). Run it only through ``fitscope.isolation.sandbox.run_python`` (watchdog,
memory
cap, clean-up)::

    python article_trainer.py --start-method fork [--fix-labels] [--build-parent-model]
                              [--producer-ms 0]

What we add is instrumentation only, sent with ``fitscope.isolation.sandbox.report``: batches the
producer
made and the queue's backlog; steps the trainer completed and its weight checksum; the parent's
weight checksum (or that its model was never built) when the children start, at the end of the
script, and every 0.2 s from a daemon thread while the interpreter exits.
"""

import argparse
import atexit
import multiprocessing
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from fitscope.isolation.sandbox import report
from fitscope.isolation.scripts import weights_checksum

REPORT_S = 0.1


def checksum(model):
    """The model's weight checksum, or None while it has no weights (never built)."""
    return (
        weights_checksum(w.numpy() for w in model.weights)
        if model.built and model.weights
        else None
    )


def backlog(queue):
    try:
        return queue.qsize()
    except NotImplementedError:  # macOS
        return None


def data_generator(batch_size, queue, producer_ms=0.0):
    made, last = 0, 0.0
    while True:
        if producer_ms:
            time.sleep(producer_ms / 1e3)
        data = np.random.rand(batch_size, 10)
        labels = np.random.randint(0, 2, batch_size)
        queue.put((data, labels))
        made += 1
        now = time.monotonic()
        if now - last >= REPORT_S:
            report(role="producer", batches=made, backlog=backlog(queue))
            last = now


def training_loop(model, queue, fix_labels=False):
    report(role="trainer", steps=0, checksum=checksum(model), built=model.built)
    steps, last = 0, 0.0
    while True:
        data, labels = queue.get()
        if fix_labels:
            labels = labels.reshape(-1, 1)
        with tf.GradientTape() as tape:
            predictions = model(data)
            loss = keras.losses.binary_crossentropy(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        steps += 1
        now = time.monotonic()
        if steps == 1 or now - last >= REPORT_S:
            report(role="trainer", steps=steps, checksum=checksum(model), built=model.built)
            last = now


def watch_parent(model):
    """Daemon thread: the parent model's checksum, also while the interpreter exits."""
    while True:
        time.sleep(0.2)
        report(role="parent", event="watch", checksum=checksum(model), built=model.built)


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start-method", choices=("fork", "spawn", "forkserver"), default="fork")
    p.add_argument("--fix-labels", action="store_true", help="reshape labels to (32, 1)")
    p.add_argument(
        "--build-parent-model",
        action="store_true",
        help="build the parent's model before starting the children",
    )
    p.add_argument("--producer-ms", type=float, default=0.0, help="sleep per batch in the producer")
    return p.parse_args()


if __name__ == "__main__":
    args = parse()
    multiprocessing.set_start_method(args.start_method)
    atexit.register(report, role="parent", event="interpreter exit")  # runs before mp's join
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    if args.build_parent_model:
        model.build((None, 10))
    report(role="parent", event="model made", checksum=checksum(model), built=model.built)
    queue = multiprocessing.Queue()

    generator_process = multiprocessing.Process(
        target=data_generator, args=(32, queue, args.producer_ms)
    )
    generator_process.start()

    training_process = multiprocessing.Process(
        target=training_loop, args=(model, queue, args.fix_labels)
    )
    training_process.start()

    report(
        role="parent",
        event="end of script",
        checksum=checksum(model),
        built=model.built,
        children={"producer": generator_process.pid, "trainer": training_process.pid},
    )
    threading.Thread(target=watch_parent, args=(model,), daemon=True).start()
    # The article's script ends here: nothing joins the children or closes the queue.
