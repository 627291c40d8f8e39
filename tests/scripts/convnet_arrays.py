"""A convnet on image arrays held in memory: each step convolves 64 images of 32x32x3 through
three convolutions (tens of milliseconds of compute) while a batch is a slice of an array.

A correct diagnosis: not input-bound, known by construction (slicing arrays is far cheaper
than the step); the data is made by tf.data's threads on TensorFlow and on the main thread
between steps on JAX. Backends: tensorflow, jax.
"""

import keras
import numpy as np

rng = np.random.default_rng(0)
images = rng.random((1280, 32, 32, 3), dtype=np.float32)
labels = rng.integers(0, 10, 1280)
model = keras.Sequential(
    [
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10),
    ]
)
model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
model.fit(images, labels, batch_size=64, epochs=1, verbose=0)
print("TRAINED")
