"""A ``keras.utils.PyDataset`` in two worker processes (``workers=2``,
``use_multiprocessing=True``) whose ``__getitem__`` sleeps 40 ms, in a script guarded by
``if __name__ == "__main__":`` as processes need.

A correct diagnosis: highly input-bound, known by construction (two processes deliver a batch
about every 20 ms against a step of a couple of milliseconds); the data is made by worker
processes; no process is forked after JAX started its threads (JAX warns "os.fork() ... will
likely lead to a deadlock", keras-team/keras#20619), and a remedy that starts processes says
how to start them safely. Backends: tensorflow, jax.
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
        return x, x.min(axis=1)


def main() -> None:
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    data = Files(200, workers=2, use_multiprocessing=True)
    model.fit(data, steps_per_epoch=10, verbose=0)
    print("TRAINED")


if __name__ == "__main__":
    main()
