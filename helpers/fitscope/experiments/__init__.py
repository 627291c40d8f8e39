"""Experiments more than one lesson runs: your own ``model.fit`` traced (:mod:`.traced`), and
the article's generator fit built from a few parameters, here or in a fresh process.

Example:
    >>> from fitscope.experiments import GeneratorFitParams
    >>> GeneratorFitParams.default(steps=10).steps
    10
"""

from __future__ import annotations

from fitscope.instrument.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "traced": ("traced_fit", "TracedFit", "Cost", "step_alone"),
        "article_fit": (
            "SOURCES",
            "GENERATOR",
            "PYDATASET_THREADS",
            "PYDATASET_PROCESSES",
            "GeneratorFitParams",
            "generator_fit",
            "fit_in_sandbox",
        ),
    },
)
