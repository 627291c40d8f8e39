"""A JAX script that chooses its backend itself, ``os.environ["KERAS_BACKEND"] = "jax"`` before
importing Keras, and is run without ``--backend``; after fit it checks it trained on JAX.

A correct diagnosis: on JAX, as the script asked (or one sentence naming ``--backend jax``);
verdict not known by construction; the data (arrays) is made on the main thread between
steps. Backends: jax only, its own choice.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
x = rng.random((1024, 8), dtype=np.float32)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, x.sum(axis=1), batch_size=32, epochs=1, verbose=0)
assert keras.backend.backend() == "jax", keras.backend.backend()
print("TRAINED")
