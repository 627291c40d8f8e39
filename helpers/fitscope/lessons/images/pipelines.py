"""The diagnosed pipelines as rows of one table, and pipelines diagnosed on one backend side by
side (no advice: :mod:`.side_by_side` decides the article's advice on TensorFlow's).

Example:
    >>> row({"backend": "tensorflow", "step_in_fit_s": 0.02, "step_alone_s": 0.01,
    ...      "overlapped_s": 0.01, "input_share": 0.5, "verdict": "highly input-bound",
    ...      "data_where": "tf.data's threads"}, "generator")[3:5]
    ('50', '50%')
"""

from __future__ import annotations

from typing import Any

from fitscope.instrument.backends import LABELS
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.tables import Table
from fitscope.verdicts.compare import fastest

__all__ = ["COLUMNS", "row", "named", "on_one_backend"]

COLUMNS = (
    "pipeline",
    "backend",
    "data made on",
    "steps/s in fit",
    "share of the bound",
    "input share (verdict)",
    "bound: step alone, steps/s",
    "ideal overlap on B CPUs, steps/s",
)


def _share(share: float) -> str:
    """A share of the step-alone bound; one past 100 % says the bound was beaten."""
    return f"{share:.0%}" + (" (beat it: the step alone was measured slow)" if share > 1 else "")


def row(d: dict[str, Any], name: str) -> tuple[str, ...]:
    """One table row from a diagnosis's ``to_dict()``."""
    return (
        name,
        d["backend"],
        d["data_where"],
        f"{1 / d['step_in_fit_s']:.3g}",
        _share(d["step_alone_s"] / d["step_in_fit_s"]),
        f"{d['input_share']:.0%} ({d['verdict']})",
        f"{1 / d['step_alone_s']:.3g}",
        f"{1 / d['overlapped_s']:.3g}",
    )


def named(keyword: str) -> str:
    """A pipeline's name from its keyword: words apart, tf.data spelt as the library is.

    Example:
        >>> named("tf_data_prefetch"), named("PyDataset_threads")
        ('tf.data prefetch', 'PyDataset threads')
    """
    return keyword.replace("tf_data", "tf.data").replace("_", " ")


def on_one_backend(**diagnoses: Any) -> Table:
    """Diagnoses made on one backend side by side, with the columns of :func:`side_by_side` and
    no advice: which pipeline was fastest in ``fit``, by the spread rule over each one's repeats.

    Example:
        >>> d = {"backend": "jax", "step_in_fit_s": 0.02, "step_alone_s": 0.01,
        ...      "overlapped_s": 0.01, "input_share": 0.5, "verdict": "highly input-bound",
        ...      "data_where": "the main thread", "steps_in_fit_s": [0.02, 0.021, 0.019]}
        >>> fast = {**d, "step_in_fit_s": 0.01, "steps_in_fit_s": [0.01, 0.011, 0.0105]}
        >>> class D(dict):
        ...     def to_dict(self): return self
        >>> on_one_backend(generator=D(d), Grain=D(fast)).reading[:36]
        "On JAX, 'Grain' is fastest: x1.90 fa"
    """
    found = {named(name): d.to_dict() for name, d in diagnoses.items()}
    backends = {d["backend"] for d in found.values()}
    if len(backends) != 1:
        raise FitscopeInputError(
            f"on_one_backend compares diagnoses made on one backend, not {sorted(backends)}."
        )
    label = LABELS.get(backends.pop(), "?")
    spread = fastest({n: d["steps_in_fit_s"] for n, d in found.items()}, "s").sentence
    return Table(
        COLUMNS,
        [row(d, name) for name, d in found.items()],
        reading=f"On {label}, {spread}.",
        title=f"The pipelines on {label}, one model",
    )
