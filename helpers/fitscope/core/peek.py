"""How many batches Keras takes from a generator before ``fit`` starts, to learn their shapes.

The one reader of that number (Keras keeps it in a private module): every "after the peek"
count in fitscope reads it here.

Example:
    >>> peeked_batches()  # doctest: +SKIP
    2
"""

from __future__ import annotations

__all__ = ["peeked_batches"]


def peeked_batches() -> int:
    """The batches Keras's generator adapter takes before ``fit``'s first step (Keras 3: 2)."""
    from keras.src.trainers.data_adapters import data_adapter_utils

    return int(data_adapter_utils.NUM_BATCHES_FOR_TENSOR_SPEC)
