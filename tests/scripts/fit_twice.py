"""Two fits: a first with ``validation_split`` on arrays, then fine-tuning at a lower learning
rate with the first layer frozen; the script checks the second fit trained.

A correct diagnosis: of the first fit only; verdict not known by construction; the data is made
by tf.data's threads on TensorFlow and on the main thread between steps on JAX; with
``--then continue`` both fits train as the script asked. Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.random((1280, 10), dtype=np.float32)
y = x @ rng.random((10, 1), dtype=np.float32)
model = keras.Sequential(
    [keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
)
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
first = model.fit(x, y, validation_split=0.2, batch_size=32, epochs=1, verbose=0)
model.layers[0].trainable = False
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
second = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
assert "val_loss" in first.history and len(second.history["loss"]) == 2
print("TRAINED")
