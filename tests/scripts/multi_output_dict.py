"""A functional model with two named outputs, fed dicts of arrays for inputs and targets, one
loss and one loss weight per output.

A correct diagnosis: verdict not known by construction; the data is made by tf.data's threads
on TensorFlow and on the main thread between steps on JAX. Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
pixels = rng.random((1024, 32), dtype=np.float32)
kind = rng.integers(0, 4, 1024)
size = pixels.mean(axis=1, keepdims=True)

inputs = keras.Input((32,), name="pixels")
trunk = keras.layers.Dense(32, activation="relu")(inputs)
outputs = {
    "kind": keras.layers.Dense(4, activation="softmax", name="kind")(trunk),
    "size": keras.layers.Dense(1, name="size")(trunk),
}
model = keras.Model(inputs, outputs)
model.compile(
    optimizer="adam",
    loss={"kind": "sparse_categorical_crossentropy", "size": "mse"},
    loss_weights={"kind": 1.0, "size": 0.5},
)
model.fit({"pixels": pixels}, {"kind": kind, "size": size}, batch_size=32, epochs=1, verbose=0)
print("TRAINED")
