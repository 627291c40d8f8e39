"""The one measurement core: the only code in fitscope that times a step or a batch.

One clock (:class:`~fitscope.core.clock.StepClock`, a Keras callback), one estimator
(:func:`~fitscope.core.estimate.per_step`: the mean of the intervals, interruptions left out;
repeats summed up by their median and spread), one step alone (``fit`` on a batch held in
memory), one reader of the batches Keras peeks at. The lessons' traced fit, the per-backend
runs, ``diagnose`` and the scorecard all measure through it, so one quantity is one number
everywhere. It sits just above ``instrument``; ``clock`` and ``alone`` need Keras, imported
once Keras is bound to its backend.

Example:
    >>> from fitscope.core import per_step
    >>> per_step([(1, 0.010), (1, 0.012)])
    0.011
"""

from __future__ import annotations

from fitscope.core.estimate import OUTLIER, in_order, median_spread, per_call, per_step

__all__ = ["OUTLIER", "in_order", "median_spread", "per_call", "per_step"]
