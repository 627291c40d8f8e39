"""IPython's side of fitscope: a FitscopeInputError shows as its one sentence, not a traceback.

Example:
    >>> install_ipython_handler()  # outside IPython there is nothing to install
    False
"""

from __future__ import annotations

from typing import Any

from fitscope.instrument.errors import FitscopeInputError

__all__ = ["install_ipython_handler"]


def install_ipython_handler() -> bool:
    """In IPython, show FitscopeInputError as its sentence only. Returns True if installed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def show_sentence(
        shell: Any, etype: type, evalue: BaseException, tb: Any, tb_offset: int | None = None
    ) -> None:
        print(f"⚠ {evalue}")

    shell.set_custom_exc((FitscopeInputError,), show_sentence)
    return True
