"""Arrays in memory into a subclassed model built from custom layers.

A correct diagnosis: verdict not known by construction (a small step against slicing arrays);
the data is made by tf.data's threads on TensorFlow (Keras feeds arrays through tf.data there)
and on the main thread between steps on JAX. Backends: tensorflow, jax.
"""

import keras
import numpy as np


class Residual(keras.layers.Layer):
    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(units, activation="relu")
        self.outer = keras.layers.Dense(units)

    def call(self, x):
        return keras.ops.relu(x + self.outer(self.inner(x)))


class Classifier(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.stem = keras.layers.Dense(64, activation="relu")
        self.blocks = [Residual(64) for _ in range(2)]
        self.head = keras.layers.Dense(3)

    def call(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


rng = np.random.default_rng(0)
x = rng.random((2048, 20), dtype=np.float32)
y = rng.integers(0, 3, 2048)
model = Classifier()
model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
print("TRAINED")
