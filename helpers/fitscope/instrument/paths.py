"""Where fitscope lives on disk: the one module that derives paths from a file's place.

Example:
    >>> (PACKAGE_DIR / "instrument" / "paths.py").exists()
    True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE_DIR", "IMPORT_ROOT", "CHECKOUT"]

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../fitscope
IMPORT_ROOT = PACKAGE_DIR.parent  # the folder a fresh interpreter puts on its path to import it
CHECKOUT = IMPORT_ROOT.parent  # the repository, when fitscope runs from a clone (helpers/ in it)
