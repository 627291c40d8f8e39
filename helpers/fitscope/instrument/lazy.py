"""Names a package exports but loads on first use, so importing a layer stays cheap.

Importing :mod:`fitscope` or one of its layers must not import TensorFlow, Keras or matplotlib:
a layer's ``__init__`` lists its public names with the module that defines each, and
:func:`lazy_exports` gives it the ``__getattr__`` (PEP 562) that imports that module when a name
is first used.

Example:
    >>> getattr_, dir_, names = lazy_exports("fitscope.instrument", {"tracing": ("Span",)})
    >>> getattr_("Span").__name__
    'Span'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, whose ``modules`` (by name
    relative to it) define the names listed with each."""
    names = {name: module for module, exported in modules.items() for name in exported}

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{names[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, list(names)
