"""The quantities of one run that its displays print, one name each, and the fact that carries one.

A display of a run (its table, its CPU chart, its role table, its timeline, a comparison) embeds,
hidden in its HTML or its output's metadata, one fact per figure it prints: the run's id
(:attr:`fitscope.instrument.result.RunResult.run_id`), the quantity's name from here and the value
as the reader sees it. The consistency check (:mod:`fitscope.verdicts.quantities`, which
re-exports these names) compares them across a notebook: one quantity of one run printed with two
values is a finding. A figure printed in another unit is another quantity (a role's CPU seconds
and its share of the CPU), never one quantity in two forms.

The names live here, in the lowest layer, because a run's own table (:mod:`~.result`) prints
figures too.

Example:
    >>> quantity_fact("run-1a2b", CORES_BUSY, "0.71")["quantity"]
    'cores busy during training'
    >>> role_cpu("main"), role_share("main")
    ('CPU s during training: main', 'share of the CPU during training: main')
"""

from __future__ import annotations

__all__ = [
    "CORES_BUSY",
    "MEASURED_S",
    "QUANTITY",
    "STEPS_PER_S",
    "TRAIN_CPU_S",
    "TRAIN_WALL_S",
    "WARM_UP_STEP",
    "figure",
    "quantity_fact",
    "role_cpu",
    "role_share",
]

QUANTITY = "quantity"
"""The ``kind`` of a machine-readable printed quantity (:func:`quantity_fact`)."""

STEPS_PER_S = "steps/s"
"""Steps per second over the steps after the warm-up step."""
MEASURED_S = "time measured, from the end of the warm-up step"
"""The wall time the steps/s are read over (from the end of the first step to the last's)."""
TRAIN_WALL_S = "wall time inside the training steps after the first"
"""The training windows' wall time (the steps after the first, drawing cut out): what the CPU
figures are read over, without the time between steps."""
TRAIN_CPU_S = "CPU s during training"
"""CPU seconds of every thread (the sampler's left out) inside :data:`TRAIN_WALL_S`."""
CORES_BUSY = "cores busy during training"
""":data:`TRAIN_CPU_S` over :data:`TRAIN_WALL_S`."""
WARM_UP_STEP = "warm-up step"
"""The first training step's wall time (it traces the graph; throughput counts from its end)."""


def role_cpu(role: str) -> str:
    """The name of one thread role's CPU seconds during training (a part of :data:`TRAIN_CPU_S`)."""
    return f"{TRAIN_CPU_S}: {role}"


def role_share(role: str) -> str:
    """The name of one thread role's share of :data:`TRAIN_CPU_S`, printed as a percentage."""
    return f"share of the CPU during training: {role}"


def quantity_fact(run: str, quantity: str, printed: str) -> dict[str, str]:
    """The facts block entry for one quantity of one run as printed (a table, a chart, a
    sentence: :func:`fitscope.instrument.tables.facts_html`); ``run`` names the run, the same
    wherever it is shown (the id the result carries), and ``printed`` is the value as shown.

    Example:
        >>> quantity_fact("run-3", "main-thread CPU during training", "0.11 s")["kind"]
        'quantity'
    """
    return {"kind": QUANTITY, "run": run, "quantity": quantity, "printed": printed}


def figure(x: float) -> str:
    """A measured value as every table, reading and comparison prints it: three digits, so that
    a ratio beside it reads from them (one decimal from 100).

    Example:
        >>> figure(0.1204), figure(0.5), figure(153.44)
        ('0.120', '0.500', '153.4')
    """
    return f"{x:.1f}" if x >= 99.95 else f"{x:#.3g}"
