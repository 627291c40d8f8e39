"""One clear sentence for bad input, instead of a traceback wall.

fitscope raises :class:`FitscopeInputError` for values a learner typed (in a widget or a call).
Inside IPython, :func:`fitscope.show.ipython.install_ipython_handler` shows it as that sentence.

Example:
    >>> check_positive("steps", 10)
    10
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FitscopeInputError", "check_positive", "check_int", "check_choice"]


class FitscopeInputError(ValueError):
    """A value given to fitscope is not usable; the message is one sentence saying why."""


def check_positive(name: str, value: Any, maximum: float | None = None) -> float:
    """``value`` as a finite number > 0 (and <= maximum), else FitscopeInputError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FitscopeInputError(f"{name} must be a number, not {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise FitscopeInputError(f"{name} must be a finite number above 0, not {value!r}.")
    if maximum is not None and value > maximum:
        raise FitscopeInputError(f"{name} must be at most {maximum:g}, not {value!r}.")
    return value


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as a whole number in [minimum, maximum], else FitscopeInputError."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise FitscopeInputError(f"{name} must be a whole number, not {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise FitscopeInputError(f"{name} must be at least {minimum}{upper}, not {value}.")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else FitscopeInputError."""
    if value not in choices:
        raise FitscopeInputError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return str(value)
