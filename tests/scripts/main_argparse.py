"""A script with ``if __name__ == "__main__":`` and argparse flags (``--epochs``,
``--batch-size``, ``--units``), run with its own arguments after the script's name.

A correct diagnosis: verdict not known by construction; the data (arrays) is made by tf.data's
threads on TensorFlow and on the main thread between steps on JAX; the batch size the flags
chose (64) is the one measured. Backends: tensorflow, jax.
"""

import argparse

import keras
import numpy as np


def train(epochs: int, batch_size: int, units: int) -> keras.Model:
    rng = np.random.default_rng(0)
    x = rng.random((2048, 12), dtype=np.float32)
    y = (x[:, 0] > x[:, 1]).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--units", type=int, default=16)
    args = parser.parse_args()
    train(args.epochs, args.batch_size, args.units)
    print("TRAINED")


if __name__ == "__main__":
    main()
