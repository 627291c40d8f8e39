"""Is my input pipeline starving my training, by how much, and which remedy fits?

:func:`diagnose` answers on whatever backend Keras is bound to, in a few seconds; ``python -m
fitscope diagnose SCRIPT.py`` answers for an ordinary training script (:mod:`.cli`). The pieces:
:mod:`.sources` (what the data is), :mod:`.measure` (the data, the step, the two together,
each one ``fit`` of :mod:`.timed_fits`), :mod:`.remedies` (which remedy fits, and the most it
could save; :mod:`.remedy_trial` tries one), :mod:`.report` (the :class:`Diagnosis` that shows
itself, with :mod:`.verdict`'s verdict), :mod:`.figures` (how they all print and read a figure).
Importing this package imports no Keras.

Example:
    >>> from fitscope.diagnose import verdict_of
    >>> verdict_of([0.0, 0.01, 0.02])
    ('not input-bound', '')
"""

from __future__ import annotations

from fitscope.diagnose.report import Diagnosis, verdict_of
from fitscope.diagnose.run import diagnose

__all__ = ["diagnose", "Diagnosis", "verdict_of"]
