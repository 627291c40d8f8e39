"""A real image folder, made on this machine: one sub-folder of JPEG files per class.

Notebook 05 needs what a real image pipeline reads: files on disk, JPEG decoding, images of
different sizes. :func:`image_folder` draws them on first use (Pillow and NumPy, nothing
downloaded): ten classes of shapes and textures, each in a random colour on a random background,
at a random place and size, with noise, saved as JPEG. The same seed gives the same bytes. The
folder is cached under the user's cache folder (``$XDG_CACHE_HOME/fitscope`` or
``~/.cache/fitscope``; ``FITSCOPE_CACHE`` overrides it) and written whole before it is used, so an
interrupted first run is simply redone.

Example:
    >>> root = image_folder(per_class=2, where=tmp_path)      # doctest: +SKIP
    >>> sorted(p.name for p in root.iterdir())[:3]              # doctest: +SKIP
    ['checker', 'circle', 'cross']
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fitscope.instrument.environment import quick_mode
from fitscope.instrument.errors import check_int

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "CLASSES",
    "PER_CLASS",
    "QUICK_PER_CLASS",
    "SIZES",
    "image_folder",
    "draw",
    "cache_dir",
    "fingerprint",
]

CLASSES = (
    "circle",
    "square",
    "triangle",
    "ring",
    "cross",
    "h-stripes",
    "v-stripes",
    "checker",
    "dots",
    "diagonal",
)
PER_CLASS, QUICK_PER_CLASS = 200, 100
SIZES = (128, 192)  # each side drawn in [128, 192) pixels
NOISE = 14.0  # standard deviation of the added pixel noise (0-255 scale)
QUALITY = 85
VERSION = 1  # bump when the drawing changes: the cache folder's name carries it
DONE = "COMPLETE"


def cache_dir() -> Path:
    """``FITSCOPE_CACHE``, else ``$XDG_CACHE_HOME/fitscope``, else ``~/.cache/fitscope``."""
    if os.environ.get("FITSCOPE_CACHE"):
        return Path(os.environ["FITSCOPE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fitscope"


def _colour(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(lo, hi, 3))
    return r, g, b


def draw(label: int, rng: np.random.Generator) -> Image.Image:
    """One image of class ``label``: its shape or texture, random colours, place, size and noise."""
    from PIL import Image, ImageDraw

    w, h = (int(s) for s in rng.integers(*SIZES, 2))
    image = Image.new("RGB", (w, h), _colour(rng, 0, 110))
    pen, ink = ImageDraw.Draw(image), _colour(rng, 130, 256)
    r = int(min(w, h) * rng.uniform(0.22, 0.38))
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
    box = (cx - r, cy - r, cx + r, cy + r)
    step = int(rng.integers(8, 16))
    name = CLASSES[label]
    if name == "circle":
        pen.ellipse(box, fill=ink)
    elif name == "square":
        pen.rectangle(box, fill=ink)
    elif name == "triangle":
        pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=ink)
    elif name == "ring":
        pen.ellipse(box, outline=ink, width=max(4, r // 4))
    elif name == "cross":
        pen.rectangle((cx - r, cy - r // 4, cx + r, cy + r // 4), fill=ink)
        pen.rectangle((cx - r // 4, cy - r, cx + r // 4, cy + r), fill=ink)
    elif name in ("h-stripes", "v-stripes"):
        for k in range(0, max(w, h), 2 * step):
            pen.rectangle(
                (0, k, w, k + step) if name == "h-stripes" else (k, 0, k + step, h), fill=ink
            )
    elif name == "checker":
        for i in range(0, w, step):
            for j in range(0, h, step):
                if (i // step + j // step) % 2:
                    pen.rectangle((i, j, i + step, j + step), fill=ink)
    elif name == "dots":
        for _ in range(int(rng.integers(12, 24))):
            x, y, d = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(4, 9))
            pen.ellipse((x - d, y - d, x + d, y + d), fill=ink)
    else:  # diagonal stripes
        for k in range(-h, w, 2 * step):
            pen.polygon([(k, 0), (k + step, 0), (k + step + h, h), (k + h, h)], fill=ink)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0.0, NOISE, (h, w, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def image_folder(per_class: int | None = None, seed: int = 0, where: Path | None = None) -> Path:
    """The folder ``<class>/<index>.jpg`` for every class, drawn now if not cached yet.

    ``per_class`` images of each class (default 200, 100 in quick mode), drawn from ``seed``; the
    folder sits in ``where`` (default :func:`cache_dir`) and its name says what is in it.
    """
    per_class = check_int(
        "images per class", per_class or (QUICK_PER_CLASS if quick_mode() else PER_CLASS), 1, 10_000
    )
    base = Path(where) if where is not None else cache_dir()
    root = base / f"jpeg_folder-v{VERSION}-seed{seed}-{per_class}"
    if (root / DONE).exists():
        return root
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".drawing-", dir=base))
    try:
        for label, name in enumerate(CLASSES):
            (tmp / name).mkdir()
            for i in range(per_class):
                rng = np.random.default_rng([seed, label, i])
                draw(label, rng).save(tmp / name / f"{i:05d}.jpg", quality=QUALITY)
        (tmp / DONE).write_text(fingerprint(tmp) + "\n")
        if not (root / DONE).exists():
            shutil.rmtree(root, ignore_errors=True)  # a folder left by an interrupted run
            tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def fingerprint(root: Path) -> str:
    """SHA-256 over every JPEG's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).glob("*/*.jpg")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
