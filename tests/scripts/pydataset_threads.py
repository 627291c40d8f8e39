"""A ``keras.utils.PyDataset`` with two worker threads (``workers=2``,
``use_multiprocessing=False``) whose ``__getitem__`` sleeps 40 ms, as a reader of files would.

A correct diagnosis: highly input-bound, known by construction (two threads deliver a batch
about every 20 ms against a step of a couple of milliseconds); the data is made by the
PyDataset worker threads. Backends: tensorflow, jax.
"""

import time

import keras
import numpy as np


class Files(keras.utils.PyDataset):
    def __init__(self, batches: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.batches = batches

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int):
        time.sleep(0.04)
        rng = np.random.default_rng(index)
        x = rng.random((32, 10), dtype=np.float32)
        return x, x.max(axis=1)


model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(Files(200, workers=2, use_multiprocessing=False), steps_per_epoch=10, verbose=0)
print("TRAINED")
