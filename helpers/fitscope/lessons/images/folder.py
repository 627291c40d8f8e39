"""The image folder as a learner first sees it, and what a model learned from it.

Example:
    >>> learned({"accuracy": [0.3, 0.6]}, classes=10).reading.split(":")[0]
    'After 2 epochs the training accuracy was 60%, against 10% by chance'
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitscope.instrument.tables import ShowsItself, Table

__all__ = ["FolderSummary", "folder_summary", "Learned", "learned"]


@dataclass
class FolderSummary(ShowsItself):
    """How many files of each class, their size on disk and in pixels, and one of each class."""

    root: Path
    per_class: dict[str, int]
    megabytes: float
    smallest: tuple[int, int]
    largest: tuple[int, int]
    examples: list[tuple[str, bytes]]

    @property
    def reading(self) -> str:
        n = sum(self.per_class.values())
        return (
            f"{n} JPEG files in {len(self.per_class)} class folders, {self.megabytes:.1f} MB "
            f"on disk; the images measure from {self.smallest[0]}×{self.smallest[1]} to "
            f"{self.largest[0]}×{self.largest[1]} pixels, so the pipeline must resize them."
        )

    def table(self) -> Table:
        return Table(
            ("class folder", "files"),
            sorted(self.per_class.items()),
            reading=self.reading,
            title=f"The image folder ({self.root.name})",
        )

    def _repr_html_(self) -> str:
        pictures = "".join(
            f"<figure style='display:inline-block;margin:2px;text-align:center'><img alt='"
            f"{html.escape(name)}' width='96' src='data:image/jpeg;base64,"
            f"{base64.b64encode(data).decode()}'><figcaption>{html.escape(name)}</figcaption>"
            "</figure>"
            for name, data in self.examples
        )
        return f"<div>{pictures}</div>" + self.table()._repr_html_()


def folder_summary(
    root: Path, paths: Sequence[str], labels: Sequence[int], classes: Sequence[str]
) -> FolderSummary:
    """Count ``paths`` by label, measure every image's size (headers only) and pick one a class."""
    from PIL import Image

    sizes = []
    for p in paths:
        with Image.open(p) as im:
            sizes.append(im.size)
    first: dict[int, str] = {}
    for p, label in zip(paths, labels):
        first.setdefault(int(label), p)
    counts = Counter(classes[int(label)] for label in labels)
    return FolderSummary(
        Path(root),
        dict(counts),
        sum(Path(p).stat().st_size for p in paths) / 1e6,
        min(sizes, key=lambda s: s[0] * s[1]),
        max(sizes, key=lambda s: s[0] * s[1]),
        [(classes[k], Path(p).read_bytes()) for k, p in sorted(first.items())],
    )


@dataclass
class Learned(ShowsItself):
    """The training accuracy after each epoch, against chance."""

    accuracy: list[float]
    classes: int

    @property
    def reading(self) -> str:
        chance = 1 / self.classes
        word = "above" if self.accuracy[-1] > 1.5 * chance else "not clearly above"
        n = len(self.accuracy)
        return (
            f"After {n} epoch{'s' * (n != 1)} the training accuracy was "
            f"{self.accuracy[-1]:.0%}, against {chance:.0%} by chance: {word} chance."
        )

    def table(self) -> Table:
        return Table(
            ("epoch", "training accuracy"),
            [(i + 1, f"{a:.0%}") for i, a in enumerate(self.accuracy)],
            reading=self.reading,
        )


def learned(history: Any, classes: int) -> Learned:
    """From a ``History`` (or its ``.history`` dict): accuracy per epoch against 1/classes."""
    logs = getattr(history, "history", history)
    return Learned([float(a) for a in logs["accuracy"]], classes)
