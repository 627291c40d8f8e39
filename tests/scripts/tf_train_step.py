"""A custom ``train_step`` in TensorFlow's style (``tf.GradientTape``), fed arrays.

A correct diagnosis: verdict not known by construction; the data is made by tf.data's threads.
Backends: tensorflow only (the step calls TensorFlow).
"""

import keras
import numpy as np
import tensorflow as tf


class TapeModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


inputs = keras.Input((12,))
hidden = keras.layers.Dense(32, activation="relu")(inputs)
model = TapeModel(inputs, keras.layers.Dense(1)(hidden))
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(0)
x = rng.random((1024, 12), dtype=np.float32)
model.fit(x, x.sum(axis=1, keepdims=True), batch_size=32, epochs=1, verbose=0)
print("TRAINED")
