"""Imbalanced classes trained with ``class_weight``, fed arrays.

A correct diagnosis: verdict not known by construction; the data is made by tf.data's threads
on TensorFlow and on the main thread between steps on JAX; the report should say that
``class_weight`` weighs the fit it trains. Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.random((1536, 16), dtype=np.float32)
y = (rng.random(1536) < 0.1).astype("int32")  # one in ten is positive
model = keras.Sequential(
    [
        keras.Input((16,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["auc"])
model.fit(x, y, batch_size=32, epochs=1, class_weight={0: 1.0, 1: 9.0}, verbose=0)
print("TRAINED")
