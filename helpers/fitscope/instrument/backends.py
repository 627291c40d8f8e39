"""Keras 3's backends by name: their labels, whether each is installed, and how to add one.

The one home of these facts: the lessons that measure each backend and ``diagnose`` both read
them here, so neither imports the other.

Example:
    >>> LABELS["jax"]
    'JAX'
    >>> is_installed("tensorflow")
    True
    >>> check_backend("theano")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fitscope.instrument.errors.FitscopeInputError: Keras backend must be one of ... not 'theano'.
"""

from __future__ import annotations

import importlib.util

from fitscope.instrument.environment import BACKEND_LABELS, installed_version
from fitscope.instrument.errors import FitscopeInputError, check_choice

__all__ = [
    "BACKENDS",
    "LABELS",
    "BackendNotInstalled",
    "is_installed",
    "check_backend",
    "not_installed_sentence",
    "installed_line",
]

BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras backends fitscope measures (Keras's own names)."""
LABELS = {name: BACKEND_LABELS[name] for name in BACKENDS}
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_HOW_TO_ADD = {
    "tensorflow": "`pip install -r requirements.txt` in this environment",
    "jax": "`pip install -r requirements.txt` in this environment (it pins JAX's CPU build)",
    "torch": (
        "`pip install torch --index-url https://download.pytorch.org/whl/cpu` in this "
        "environment (PyPI's Linux wheel also pulls several GB of CUDA libraries)"
    ),
}


class BackendNotInstalled(FitscopeInputError):
    """The Keras backend asked for is not importable here; the message says how to add it."""


def is_installed(backend: str) -> bool:
    """Whether the backend's package can be imported in this environment (it is not imported)."""
    module = _MODULES[check_choice("Keras backend", backend, BACKENDS)]
    return importlib.util.find_spec(module) is not None


def not_installed_sentence(backend: str) -> str:
    """One plain sentence: the backend is not installed, so it is not measured, and how to add
    it."""
    return (
        f"{LABELS[backend]} is not installed in this environment, so its Keras backend is not "
        f"measured here; to add it, run {_HOW_TO_ADD[backend]} and restart the kernel."
    )


def installed_line() -> str:
    """Which Keras backends this environment can measure, with versions, in one line."""
    tf_dist = "tensorflow-cpu" if installed_version("tensorflow-cpu") else "tensorflow"
    have = [
        f"{LABELS[b]} {installed_version(d) or '?'}"
        for b, d in (("tensorflow", tf_dist), ("jax", "jax"), ("torch", "torch"))
        if is_installed(b)
    ]
    missing = [LABELS[b] for b in BACKENDS if not is_installed(b)]
    return (
        "Keras backends installed: "
        + ", ".join(have)
        + (f"; not installed: {', '.join(missing)}" if missing else "")
        + "."
    )


def check_backend(backend: str) -> str:
    """``backend`` if it is a Keras backend installed here; else FitscopeInputError (one
    sentence)."""
    check_choice("Keras backend", backend, BACKENDS)
    if not is_installed(backend):
        raise BackendNotInstalled(not_installed_sentence(backend))
    return backend
