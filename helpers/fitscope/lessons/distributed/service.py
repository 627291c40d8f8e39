"""Notebook 04's tf.data service: a compute-heavy map run locally, then through a dispatcher
and workers, each mode in a sandboxed interpreter (servers' ``join()`` never returns, so they
live where they can always be stopped). The script, pipeline included, is the one notebook 04
writes in a ``%%writefile`` cell (``data_service.py``), or with none given, that cell's text.

A run (:class:`ServiceRun`) shows itself as a chart of both times against the ideal bound, with
a reading built from its own numbers.

Example:
    >>> processes_mode_allowed()[0] in (True, False)
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil

from fitscope.instrument.bounds import bounds
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import environment_facts, memory_limit_bytes, quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_choice, check_int
from fitscope.instrument.printed import figure
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Stack, Table
from fitscope.isolation import (
    TENSORFLOW,
    SandboxResult,
    launcher_outcomes,
    run_python,
    sandbox_facts,
)
from fitscope.isolation.scripts import script_file
from fitscope.show.live import StepCounter
from fitscope.verdicts.compare import FASTER, SLOWER, Compared, compare

__all__ = [
    "PROCESSES_MODE_BYTES",
    "ServiceRun",
    "processes_mode_allowed",
    "data_service",
    "separate_processes",
]

# Separate dispatcher, 2 workers and a client need about 2 GiB (measured): too much for Binder.
PROCESSES_MODE_BYTES = 2 * 2**30


def _reading(c: Compared, more: str = "more", fewer: str = "fewer") -> str:
    """A comparison of amounts in words: ``more``/``fewer`` (by how many times) beyond what the
    comparison's rule needs, else the rule's own words (undecided, no measurable difference).

    Example:
        >>> _reading(compare(1.0, 1.5, "cores")), _reading(compare(1.0, 1.05, "cores"))[:9]
        ('more, x1.50', 'undecided')
    """
    if c.word in (FASTER, SLOWER):
        return f"{more if c.word == FASTER else fewer}, x{max(c.ratio, 1 / c.ratio):.2f}"
    return c.sentence.split(" (")[0]


class ServiceRun(RunResult):
    """The local pipeline against the service: times to the last element, the bound, the reading."""

    def chart(self) -> Any:
        from fitscope.show.charts import comparison

        f = self.facts
        return comparison(
            [
                ("local pipeline", f["local"]["wall_s"], None),
                # No one-after-the-other bar: that sum is the local pipeline's own time, drawn
                # above, and the sentence reads the service against it (one reading, one unit).
                (
                    "tf.data service",
                    f["service"]["wall_s"],
                    self.bounds.overlapped_s if self.bounds else None,
                ),
            ],
            title=f"{f['elements']} elements: time to the last one",
        )

    def table(self) -> Table:
        f = self.facts
        rows = [
            (label, part["elements_per_s"], part["cores_busy"], part["first_element_s"])
            for label, part in (("local pipeline", f["local"]), ("tf.data service", f["service"]))
        ]
        rows.append(
            ("servers", "; ".join(f["servers_stopped"]), "each element once:", f["each_once"])
        )
        return Table(
            ("run", "elements/s", "cores busy", "first element (s)"), rows, reading=str(self)
        )

    def _repr_html_(self) -> str:
        return Stack([self.chart(), self.table()])._repr_html_()

    def must_hold(self) -> Checks:
        """What holds on any machine: each element arrived once; no server survived."""
        return Checks(
            [
                ("each element arrived exactly once", self.facts["each_once"]),
                ("no process survived", self.facts["survivors"] == []),
            ]
        )

    def local_rates(self) -> list[float]:
        """The local pipeline's elements/s in this run and in the earlier runs of the same
        pipeline it was given (``earlier``): one run's difference inside their spread is none.
        """
        f = self.facts
        return [*f.get("earlier_local_per_s", []), f["local"]["elements_per_s"]]

    def __str__(self) -> str:
        """What the run measured, in words built from its own numbers."""
        f = self.facts
        local, service = f["local"], f["service"]
        budget = self.budget.cpus if self.budget else 1.0
        bound_rate = f["elements"] / self.bounds.overlapped_s if self.bounds else float("nan")
        idle = max(budget - local["cores_busy"], 0.0)
        rates = self.local_rates()
        earlier = (
            f"The same local pipeline ran {' and '.join(figure(x) for x in rates)} elements/s "
            f"in this notebook's {len(rates)} runs of it (x{max(rates) / min(rates):.2f} apart), "
            "so the service is read against all of them. "
            if len(rates) > 1
            else ""
        )
        text = (
            f"With B = {budget:g}, the local pipeline delivered {figure(local['elements_per_s'])} "
            "elements/s "
            f"and kept {local['cores_busy']:.2f} cores busy; the service's {f['workers']} workers "
            f"delivered {figure(service['elements_per_s'])} elements/s with "
            f"{service['cores_busy']:.2f} cores busy. {earlier}The service against the local "
            f"pipeline: {compare(rates, service['elements_per_s'], 'elements/s')}. "
            f"The ideal bound for {f['workers']} workers sharing {budget:g} CPU(s) is "
            f"{figure(bound_rate)} elements/s"
            + (
                " (the service beat it: the costs the bound is built from were estimated high). "
                if service["elements_per_s"] > bound_rate
                else ". "
            )
        )
        per_local = 1e3 * local["all_cpu_s"] / local["elements"]
        per_service = 1e3 * service["all_cpu_s"] / service["elements"]
        w = f["workers"]
        text += (
            f"Cores busy, the {w} workers against the local pipeline "
            f"({service['cores_busy']:.2f} against {local['cores_busy']:.2f}, which had left "
            f"{idle:.2f} CPU(s) idle; on one machine the workers share its cores): "
            f"{_reading(compare(local['cores_busy'], service['cores_busy'], 'cores'))}. "
        )
        text += (
            f"CPU an element, through the service against locally ({per_service:.1f} ms "
            f"against {per_local:.1f} ms): "
            f"{_reading(compare(per_local, per_service, 'ms'), 'less', 'more')}"
        )
        return text + (
            f"; the first element arrived after {figure(service['first_element_s'])} s against "
            f"{figure(local['first_element_s'])} s locally."
        )


def processes_mode_allowed() -> tuple[bool, str]:
    """Whether the separate-processes mode of :func:`data_service` may run here, and why.

    Only outside quick mode, and only with PROCESSES_MODE_BYTES free under any cgroup limit,
    after what this kernel already uses (on Binder the limit covers the kernel too).
    """
    if quick_mode():
        return False, "quick mode runs the in-process mode only"
    available = psutil.virtual_memory().available
    limit = memory_limit_bytes()
    room = min(available, limit - psutil.Process().memory_info().rss) if limit else available
    if room < PROCESSES_MODE_BYTES:
        return False, (
            f"only {room / 2**30:.1f} GiB of memory is free; separate processes need "
            f"about {PROCESSES_MODE_BYTES / 2**30:.0f} GiB"
        )
    return True, f"{room / 2**30:.1f} GiB free"


def _tree_cpu_s(r: SandboxResult, end_epoch: float, wall_s: float) -> float:
    """CPU seconds the whole sandboxed tree used in the window ending at ``end_epoch``."""
    a, b = end_epoch - wall_s - r.started_at, end_epoch - r.started_at
    start: dict[int, float] = {}
    end: dict[int, float] = {}  # first sample at or after b; the last one of a process gone sooner
    done: set[int] = set()
    for t, per_pid in r.cpu:
        for pid, v in per_pid.items():
            if t <= a:
                start[pid] = v
            if pid not in done:
                end[pid] = v
                if t >= b:
                    done.add(pid)
    return sum(v - start.get(pid, 0.0) for pid, v in end.items())


def data_service(
    script: str | Path | None = None,
    mode: str = "inprocess",
    elements: int | None = None,
    workers: int = 2,
    size: int = 256,
    rounds: int = 32,
    timeout_s: float = 180.0,
    memory_cap_mb: float | None = None,
    earlier: ServiceRun | None = None,
) -> ServiceRun:
    """A compute-heavy map run locally, then through a tf.data service (dispatcher + workers).

    ``script`` is the file notebook 04's cell wrote (``data_service.py``; with None, that cell's
    text): its ``heavy_pipeline(tf, elements, size, rounds)`` builds the dataset.

    ``mode`` "inprocess" runs servers and client in one sandboxed interpreter; "processes" runs
    each server as its own process (about 2 GiB; see :func:`processes_mode_allowed`), stopped
    with SIGTERM at the end. Both runs are timed to the last element. The bound is
    :func:`fitscope.instrument.budget.bounds` for the local work shared over ``workers`` and the CPU
    budget. ``earlier``, a run of the same pipeline (elements, size, rounds), adds its local
    pipeline's rate to this one's: the service is then read against both, so a difference
    inside how far the local runs differ is no difference.
    """
    check_choice("mode", mode, ("inprocess", "processes"))
    if mode == "processes":
        allowed, why = processes_mode_allowed()
        if not allowed:
            raise FitscopeInputError(f"the separate-processes mode cannot run here: {why}.")
    elements = check_int(
        "elements", elements if elements is not None else (60 if quick_mode() else 120), 4, 100_000
    )
    check_int("workers", workers, 1, 4)
    check_int("matrix size", size, 8, 2048)
    check_int("rounds", rounds, 1, 1000)
    cap = memory_cap_mb or (1500.0 if mode == "inprocess" else 3500.0)
    args = [mode, "--workers", workers, "--elements", elements, "--size", size, "--rounds", rounds]
    StepCounter.in_notebook().next_run(
        f"the tf.data service in a fresh interpreter (watchdog {timeout_s:g} s)"
    )
    with script_file(script, "04_beyond_one_process.ipynb", "data_service.py") as path:
        r = run_python(
            path,
            args=[str(a) for a in args],
            timeout_s=timeout_s,
            memory_cap_mb=cap,
            preload=TENSORFLOW,
        )
    got = {m["event"]: m for m in r.messages if m.get("event") in ("local", "service")}
    if set(got) != {"local", "service"}:
        raise RuntimeError(
            f"the tf.data service run did not finish ({r.root.how}, "
            f"stopped by {r.stopped_by}): {r.stderr[-500:]}"
        )
    budget = cpu_budget()
    local, service = got["local"], got["service"]
    for part in (local, service):
        part["tree_cpu_s"] = _tree_cpu_s(r, part["t"], part["wall_s"])
        # in-process, the process's own clock is exact; otherwise the servers' CPU counts too
        part["all_cpu_s"] = part["cpu_s"] if mode == "inprocess" else part["tree_cpu_s"]
        part["cores_busy"] = part["all_cpu_s"] / part["wall_s"]
        part["elements_per_s"] = part["elements"] / part["wall_s"]
        part["after_first_per_s"] = (part["elements"] - 1) / max(
            part["wall_s"] - part["first_element_s"], 1e-9
        )
    b = bounds(local["wall_s"], 0.0, workers, budget.cpus, cpu_p=local["cpu_s"])
    same = dict(elements=elements, size=size, rounds=rounds)
    if earlier is not None and any(earlier.params.get(k) != v for k, v in same.items()):
        raise FitscopeInputError(
            f"the earlier run measured another pipeline ({earlier.params}); compare runs of "
            f"the same one ({same})."
        )
    earlier_rates = earlier.local_rates() if earlier is not None else []
    servers = [m for m in r.messages if m.get("event") == "child ended"]
    facts = {
        "mode": mode,
        "elements": elements,
        "workers": workers,
        "local": local,
        "service": service,
        "speedup": local["wall_s"] / service["wall_s"],
        "earlier_local_per_s": earlier_rates,
        "each_once": local["each_once"] and service["each_once"],
        "servers_stopped": [f"{m['name']}: {m['how']}" for m in servers]
        or ["dispatcher and workers: ended with their process"],
        **sandbox_facts(r),
    }
    return ServiceRun(
        name=f"tf.data service ({mode}, {workers} workers) against the local pipeline",
        params=dict(mode=mode, elements=elements, workers=workers, size=size, rounds=rounds),
        outcomes=launcher_outcomes(r),
        budget=budget,
        bounds=b,
        facts=facts,
        environment=environment_facts(),
    )


def separate_processes(**kwargs: Any) -> ServiceRun | Stack:
    """:func:`data_service` with each server its own process where that may run here; otherwise
    the one sentence that says why not (see :func:`processes_mode_allowed`)."""
    allowed, why = processes_mode_allowed()
    if not allowed:
        return Stack([], reading=f"The separate-processes mode was not run: {why}.")
    return data_service(mode="processes", **kwargs)
