"""``tf.data.Dataset.from_generator`` around a generator that sleeps 40 ms a batch, batched and
repeated by tf.data.

A correct diagnosis: highly input-bound, known by construction (a step of a couple of
milliseconds waits about 40 ms for each batch); the data is made by tf.data's threads.
Backends: tensorflow, jax (Keras iterates a tf.data.Dataset on either).
"""

import time

import keras
import numpy as np
import tensorflow as tf


def rows():
    rng = np.random.default_rng(0)
    while True:
        time.sleep(0.04)
        x = rng.random((32, 10), dtype=np.float32)
        yield x, x.mean(axis=1, keepdims=True)


spec = (tf.TensorSpec((32, 10), tf.float32), tf.TensorSpec((32, 1), tf.float32))
dataset = tf.data.Dataset.from_generator(rows, output_signature=spec)
model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(dataset, steps_per_epoch=10, epochs=1, verbose=0)
print("TRAINED")
