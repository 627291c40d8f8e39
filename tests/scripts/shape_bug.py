"""A user's shape bug: a generator yields batches of 7 features to a model built for 10. Run
plainly, Keras itself reports the mismatch in its first step.

A correct diagnosis: the user's error in one sentence (the shape mismatch, as Keras says it),
exit 2, no traceback, no steps trained on the bad batch. Backends: tensorflow, jax.
"""

import keras
import numpy as np


def batches():
    rng = np.random.default_rng(0)
    while True:
        yield rng.random((32, 7), dtype=np.float32), rng.random((32, 1), dtype=np.float32)


model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(batches(), steps_per_epoch=20, epochs=1, verbose=0)
print("TRAINED")
