"""A ``tf.data`` pipeline as the tutorials write it: ``from_tensor_slices``, ``map`` (a
normalisation and a random flip) with ``num_parallel_calls=AUTOTUNE``, ``cache``, ``shuffle``,
``batch``, ``prefetch(AUTOTUNE)``.

A correct diagnosis: verdict not known by construction (cheap maps, cached after the first
pass); the data is made by tf.data's threads. Backends: tensorflow, jax.
"""

import keras
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
images = rng.integers(0, 256, (1024, 16, 16, 1), dtype=np.uint8)
labels = rng.integers(0, 5, 1024)


def prepare(image, label):
    image = tf.image.random_flip_left_right(tf.cast(image, tf.float32) / 255.0)
    return image, label


dataset = (
    tf.data.Dataset.from_tensor_slices((images, labels))
    .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    .cache()
    .shuffle(256)
    .batch(32)
    .prefetch(tf.data.AUTOTUNE)
)
model = keras.Sequential(
    [
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ]
)
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(dataset, epochs=2, verbose=0)
print("TRAINED")
