"""Per-sample weights (``sample_weight``) beside arrays ``x`` and ``y``.

A correct diagnosis: verdict not known by construction; the data is made by tf.data's threads
on TensorFlow and on the main thread between steps on JAX. Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.random((1536, 16), dtype=np.float32)
y = x @ rng.random((16, 1), dtype=np.float32)
recent = np.linspace(0.2, 1.0, 1536).astype(np.float32)  # later samples count more
model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(16), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, sample_weight=recent, batch_size=32, epochs=1, verbose=0)
print("TRAINED")
