"""``validation_data`` and a user callback that counts the batches it sees and records the
validation loss; after fit the script checks the callback saw every batch of every epoch.

A correct diagnosis: verdict not known by construction; the data is made by tf.data's threads
on TensorFlow and on the main thread between steps on JAX; the callback's state after the
script's own fit is what the script alone would leave. Backends: tensorflow, jax.
"""

import keras
import numpy as np


class Count(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0
        self.val_losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.val_losses.append(logs["val_loss"])


rng = np.random.default_rng(0)
x = rng.random((1280, 10), dtype=np.float32)
y = x.sum(axis=1)
model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
count = Count()
model.fit(
    x[:1024],
    y[:1024],
    validation_data=(x[1024:], y[1024:]),
    batch_size=32,
    epochs=2,
    callbacks=[count],
    verbose=0,
)
assert count.batches == 2 * 32 and len(count.val_losses) == 2, (count.batches, count.val_losses)
print("TRAINED")
