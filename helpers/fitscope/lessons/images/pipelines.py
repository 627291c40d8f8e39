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
from fitscope.verdicts.compare import FASTER, MIN_GAIN, NO_DIFFERENCE, compare, fastest
from fitscope.verdicts.quantities import ROW

__all__ = [
    "COLUMNS",
    "alike",
    "row",
    "named",
    "on_one_backend",
    "share_of_step_alone",
    "more_input_bound",
]

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


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def share_of_step_alone(d: dict[str, Any]) -> str:
    """Steps/s in ``fit`` as a share of the step alone's, never printed above 100 %: the input
    share's other part, 1 - input share (the median over repeats of step alone / step in fit),
    so the two columns are one quantity; without repeats, the medians' ratio. A step in
    fit quicker than the step alone is either inside the spread of the two's repeats (at the
    bound) or beyond it, by :func:`fitscope.verdicts.compare.compare` (the step alone was then
    measured slow: it cannot be beaten).

    Example:
        >>> share_of_step_alone({"step_alone_s": 0.01, "step_in_fit_s": 0.02})
        '50%'
        >>> share_of_step_alone({"step_alone_s": 0.01, "step_in_fit_s": 0.02, "input_share": 0.47})
        '53%'
        >>> share_of_step_alone({"step_alone_s": 0.0219, "step_in_fit_s": 0.016,
        ...     "steps_alone_s": [0.0158, 0.035, 0.0219],
        ...     "steps_in_fit_s": [0.0152, 0.016, 0.0288]}).split(":")[0]
        'at the step alone (16 ms in fit against 21.9 ms alone'
        >>> share_of_step_alone({"step_alone_s": 0.03, "step_in_fit_s": 0.02,
        ...     "steps_alone_s": [0.03, 0.031, 0.029], "steps_in_fit_s": [0.02, 0.021, 0.019]})
        'faster than the step alone: it was measured slow (20 ms in fit against 30 ms alone)'
    """
    alone, fit = d["step_alone_s"], d["step_in_fit_s"]
    if fit >= alone:
        return f"{1 - d.get('input_share', 1 - alone / fit):.0%}"
    c = compare(d.get("steps_alone_s") or [alone], d.get("steps_in_fit_s") or [fit], "s")
    times = f"{_ms(fit)} in fit against {_ms(alone)} alone"
    if c.word == FASTER:
        return f"faster than the step alone: it was measured slow ({times})"
    inside = "inside the spread of their repeats" if c.word == NO_DIFFERENCE else c.sentence
    return f"at the step alone ({times}: {inside})"


def row(d: dict[str, Any], name: str) -> tuple[str, ...]:
    """One table row from a diagnosis's ``to_dict()``."""
    return (
        name,
        d["backend"],
        d["data_where"],
        f"{1 / d['step_in_fit_s']:.3g}",
        share_of_step_alone(d),
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


def alike(alone: dict[str, float]) -> list[list[str]]:
    """The largest groups of runs whose steps alone lie within ``MIN_GAIN`` of each other (as
    printed, two decimals), their order kept: one, or more where equally large groups differ.

    Example:
        >>> alike({"generator": 0.0139, "threads": 0.0104, "processes": 0.0112, "tf.data": 0.0101})
        [['threads', 'processes', 'tf.data']]
        >>> alike({"generator": 0.00967, "threads": 0.0116, "processes": 0.013, "tf.data": 0.0137})
        [['threads', 'processes'], ['processes', 'tf.data']]
    """
    names = sorted(alone, key=alone.__getitem__)
    groups = [
        [n for n in names[i:] if round(alone[n] / alone[first], 2) <= MIN_GAIN]
        for i, first in enumerate(names)
    ]
    size = max(len(g) for g in groups)
    tops = [g for i, g in enumerate(groups) if len(g) == size and g not in groups[:i]]
    return [[n for n in alone if n in g] for g in tops]


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
    alone = {n: d["step_alone_s"] for n, d in found.items()}
    spread = (  # r9: the rule 05's side-by-side applies, on one backend too
        fastest({n: d["steps_in_fit_s"] for n, d in found.items()}, "s").sentence
        if len(alike(alone)[0]) == len(alone)
        else f"no pipeline is compared: their steps alone, the same model's step, lie more "
        f"than x{MIN_GAIN:g} apart ("
        + ", ".join(f"'{n}' {_ms(a)}" for n, a in alone.items())
        + "), so their steps in fit decide nothing"
    )
    return Table(
        COLUMNS,
        [row(d, name) for name, d in found.items()],
        reading=f"On {label}, {spread}.",
        title=f"The pipelines on {label}, one model",
    )


def more_input_bound(**diagnoses: Any) -> Table:
    """Which diagnosis was more input-bound (keyword: its name, as a backend), by the spread
    rule on the input share's repeats: ranges apart decide, ranges that meet are no measurable
    difference, and a side with one repeat has no spread to decide with.

    A share is a share of a step, so only like with like compare: where the steps measured
    alone (batch in memory) are more than ``MIN_GAIN`` apart, or one was not measured, the
    shares are printed with both steps and not compared (F-10: a 244 ms JAX step against a
    15.6 ms TensorFlow step is not input-bound on any pipeline).

    Example:
        >>> class D(dict):
        ...     def to_dict(self): return self
        >>> tf = D(verdict="highly input-bound", input_share=0.39, shares=[0.26, 0.39, 0.51],
        ...        data_where="tf.data's threads", step_in_fit_s=0.028, step_alone_s=0.0156)
        >>> jax = D(tf, verdict="inconclusive", input_share=0.08, shares=[0.0, 0.08, 0.27],
        ...         data_where="the main thread", step_in_fit_s=0.03, step_alone_s=0.016)
        >>> more_input_bound(TensorFlow=tf, JAX=jax).reading[:60]
        'No backend was measurably more input-bound: TensorFlow 39% ('
        >>> more_input_bound(TensorFlow=tf, JAX=D(jax, shares=[0.0, 0.08, 0.2])).reading[:47]
        'TensorFlow was more input-bound than JAX: 39% ('
        >>> more_input_bound(TensorFlow=tf, JAX=D(jax, step_alone_s=0.244)).reading[:73]
        'Not like with like: measured alone, a step took 15.6 ms on TensorFlow and'
    """
    found = {name: d.to_dict() for name, d in diagnoses.items()}
    if len(found) != 2:
        raise FitscopeInputError("more_input_bound compares two diagnoses.")
    (a, da), (b, db) = sorted(found.items(), key=lambda item: -item[1]["input_share"])

    def each(d: dict[str, Any]) -> list[float]:
        return list(d.get("shares") or [d["input_share"]])

    def said(d: dict[str, Any]) -> str:
        xs = each(d)
        spread = f"{min(xs):.0%} to {max(xs):.0%}" if len(xs) > 1 else "one repeat"
        return f"{d['input_share']:.0%} ({spread}, {d['verdict']})"

    def alone(d: dict[str, Any]) -> str:
        return f"{d['step_alone_s'] * 1e3:.3g} ms" if d.get("step_alone_s") else "not measured"

    rows = [
        (
            name,
            d["verdict"],
            f"{d['input_share']:.0%} ({', '.join(f'{s:.0%}' for s in each(d))})",
            d["data_where"],
            alone(d),
            f"{d['step_in_fit_s'] * 1e3:.3g} ms",
        )
        for name, d in found.items()
    ]
    shares = f"{a} {said(da)} against {b} {said(db)}"
    steps = [d.get("step_alone_s") or 0.0 for d in (da, db)]
    apart = max(steps) / min(steps) if min(steps) > 0 else float("inf")
    if apart > MIN_GAIN:
        reading = (
            f"Not like with like: measured alone, a step took {alone(da)} on {a} and "
            f"{alone(db)} on {b}"
            + (f", x{apart:.2f} apart" if apart != float("inf") else "")
            + f", more than the x{MIN_GAIN:g} a comparison allows. An input share is a share of "
            f"a step, so shares of different steps are not compared: {shares}."
        )
    elif min(len(each(da)), len(each(db))) < 2:
        reading = (
            f"Which was more input-bound is not decided: {shares}; a side with one repeat has "
            "no spread to tell a difference from noise."
        )
    elif min(each(da)) > max(each(db)):
        reading = (
            f"{a} was more input-bound than {b}: {said(da)} against {said(db)}; the ranges of "
            "their repeats lie apart."
        )
    else:
        reading = (
            f"No backend was measurably more input-bound: {shares}; the ranges of their "
            "repeats meet, so the difference is inside the noise."
        )
    return Table(
        (
            "diagnosis",
            "verdict",
            ROW["input share"],
            "data made on",
            ROW["step alone"],
            "step in fit",
        ),
        rows,
        reading=reading,
        title="Which was more input-bound: the input share, repeat by repeat",
    )
