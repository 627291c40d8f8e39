"""MirroredStrategy over N logical CPU devices, or one device with no strategy, training with fit.

Logical devices are fixed per process: they are set here before any TensorFlow op, and the
RuntimeError TensorFlow raises if that is too late is left to end the process (swallowing it
leaves ``fit`` hanging). ``--late`` runs an op first, to show that error.
Writes the trained weights to ``--out`` (an .npz) and reports throughput and CPU.

Example:
    $ python -m fitscope.isolation.scripts.mirrored --devices 2 --steps 30 --out /tmp/w.npz
"""

from __future__ import annotations

import argparse
import sys
import time

from fitscope.isolation.sandbox import report
from fitscope.isolation.scripts import one_line, weights_checksum

FEATURES = 256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fitscope.isolation.scripts.mirrored")
    parser.add_argument(
        "--devices", type=int, default=2, help="logical CPU devices (1: no strategy)"
    )
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64, help="global batch")
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--late", action="store_true", help="run an op before setting devices")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    if args.late:
        tf.constant(1.0) + 1.0
    cpu = tf.config.list_physical_devices("CPU")[0]
    if args.devices > 1:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.devices)]
            )
        except RuntimeError as e:  # reported, then re-raised: never swallowed
            report(event="error", error=one_line(e))
            raise
    import keras

    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = (
        tf.distribute.MirroredStrategy(names) if args.devices > 1 else tf.distribute.get_strategy()
    )
    report(event="devices", devices=names, replicas=strategy.num_replicas_in_sync)
    keras.utils.set_random_seed(args.seed)
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((FEATURES,)),
                keras.layers.Dense(args.width, activation="relu"),
                keras.layers.Dense(args.width, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy"
        )
    rng = np.random.default_rng(0)
    x = rng.random((args.batch * 8, FEATURES), dtype=np.float32)
    y = (x.mean(axis=1) > 0.5).astype(np.float32)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(args.batch, drop_remainder=True)
    )

    ends: list[tuple[float, float]] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            ends.append((time.perf_counter(), time.process_time()))
            if batch % 10 == 0:
                report(event="step", step=batch + 1)

    history = model.fit(
        dataset, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()]
    )
    weights = [v.numpy() for v in model.weights]
    np.savez(args.out, *weights)
    (w0, c0), (w1, c1) = ends[0], ends[-1]  # from the end of the first step: tracing left out
    report(
        event="trained",
        replicas=strategy.num_replicas_in_sync,
        steps=len(ends),
        loss=float(history.history["loss"][-1]),
        checksum=weights_checksum(weights),
        timed_steps=len(ends) - 1,
        wall_s=w1 - w0,
        cpu_s=c1 - c0,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
