"""Lessons: one subpackage or module per notebook; a lesson never imports another lesson.

``generator`` (00, 01), ``backends`` (01b), ``multiprocessing`` (02), ``tfdata`` (03),
``distributed`` (04).
"""

from __future__ import annotations
