"""A ``tf.data.Dataset`` of two batches (64 samples in batches of 32), trained for many epochs.

A correct diagnosis: refused in one sentence that says what it saw (two batches) and what to do
that can be followed, exit 2, no traceback. Backends: tensorflow, jax.
"""

import keras
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
x = rng.random((64, 6), dtype=np.float32)
dataset = tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1))).batch(32)
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(dataset, epochs=20, verbose=0)
print("TRAINED")
