"""A model never compiled, then fit. Run plainly, Keras raises "You must call `compile()`".

A correct diagnosis: one sentence that the model is not compiled, exit 2, no traceback.
Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.random((512, 4), dtype=np.float32)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.fit(x, x.sum(axis=1), batch_size=32, verbose=0)
print("TRAINED")
