"""A Python generator that sleeps 40 ms a batch (a slow reader) against a step of a couple of
milliseconds.

A correct diagnosis: highly input-bound, known by construction (the step waits about 40 ms for
each batch); the data is made by tf.data's threads on TensorFlow (Keras wraps a generator in
tf.data there) and on the main thread on JAX. Backends: tensorflow, jax.
"""

import time

import keras
import numpy as np


def batches():
    rng = np.random.default_rng(0)
    while True:
        time.sleep(0.04)
        x = rng.random((32, 10), dtype=np.float32)
        yield x, (x.sum(axis=1) > 5).astype("float32")


model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(batches(), steps_per_epoch=10, epochs=1, verbose=0)
print("TRAINED")
