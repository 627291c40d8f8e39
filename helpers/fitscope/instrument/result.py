"""RunResult: everything one measured run produced, saved to and loaded from JSON.

A class can pool results from many machines: every learner saves ``result.save("me.json")``.

Example:
    >>> r = RunResult(name="demo")
    >>> RunResult.from_json(r.to_json()).name
    'demo'
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fitscope.instrument.bounds import Bounds
from fitscope.instrument.budget import CpuBudget
from fitscope.instrument.printed import (
    CORES_BUSY,
    MEASURED_S,
    STEPS_PER_S,
    figure,
    quantity_fact,
    role_cpu,
)
from fitscope.instrument.sampling import CpuSamples
from fitscope.instrument.tables import ShowsItself, Table, fmt
from fitscope.instrument.throughput import Throughput
from fitscope.instrument.tracing import Span

__all__ = ["RunResult", "ProcessOutcome", "load_folder"]


@dataclass
class ProcessOutcome:
    """How one process of a sandboxed run ended.

    ``how`` is one phrase: "exited with code 0", "raised ValueError: ...", "killed by watchdog",
    "killed at memory cap", "ended during the run", "killed at cleanup".
    """

    pid: int
    command: str
    how: str
    exit_code: int | None = None
    signal: int | None = None
    exception: str | None = None
    peak_memory_bytes: int = 0


#: Facts a run's table shows when the run has them, with the label each gets.
FACT_LABELS = {
    "next_calls_by_role": "next() calls by thread role",
    "main_after_peek": "next() calls on the main thread after the shape peek",
    "cores_busy": "cores busy during training",
    "train_cpu_by_role": "CPU s during training, by thread role",
    "free_cpus": "CPUs other processes left free, over the whole call (first step included)",
    "intra_op_threads": "TensorFlow intra-op threads",
}


def new_run_id() -> str:
    """A run's id, made once when the run is: the same string in every display of it, and kept
    when the run is saved and loaded (``id()`` is neither).

    Example:
        >>> new_run_id().startswith("run-"), new_run_id() != new_run_id()
        (True, True)
    """
    return f"run-{uuid.uuid4().hex[:12]}"


@dataclass
class RunResult(ShowsItself):
    """Trace, CPU samples, throughput, budget, bounds, process outcomes and facts of one run.

    In a notebook it shows itself as a table of what was measured with ``reading`` (the sentence
    a scenario wrote from the run's own numbers) under it; ``str()`` is that sentence. The table
    carries, hidden, each figure it prints of the run's quantities under ``run_id``
    (:mod:`fitscope.instrument.printed`), which the consistency check compares across cells.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    cpu: CpuSamples = field(default_factory=CpuSamples)
    throughput: Throughput = field(default_factory=Throughput)
    budget: CpuBudget | None = None
    bounds: Bounds | None = None
    outcomes: list[ProcessOutcome] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    reading: str = ""
    run_id: str = field(default_factory=new_run_id)

    def __repr__(self) -> str:
        return (
            f"RunResult({self.name!r}: {len(self.spans)} spans, {len(self.cpu.t_ns)} CPU "
            f"samples, {self.throughput.steps} steps, {len(self.outcomes)} process outcomes)"
        )

    def table(self) -> Table:
        """What was measured, one row per quantity, read by :attr:`reading` (or a plain summary)."""
        tp, rows = self.throughput, []
        if tp.steps:
            rows += [
                ("steps timed", tp.steps),
                ("time measured", f"{figure(tp.elapsed_s)} s"),
                ("throughput", self._steps_per_s()),
            ]
        if self.bounds is not None:
            rows += [
                (
                    "ideal time: overlapped / one after the other",
                    f"{figure(self.bounds.overlapped_s)} s / {figure(self.bounds.sequential_s)} s",
                )
            ]
        if self.budget is not None:
            rows.append(("CPU budget", self.budget.describe()))
        rows += [
            (label, self.facts[key])
            for key, label in FACT_LABELS.items()
            if self.facts.get(key) is not None
        ]
        rows += [(f"process {o.pid} ({o.command})", o.how) for o in self.outcomes]
        return Table(
            ("quantity", "measured"),
            rows,
            reading=self.reading or self._summary(),
            title=self.name,
            facts=self.printed_facts(),
        )

    def printed_facts(self) -> list[dict[str, str]]:
        """A :func:`~fitscope.instrument.printed.quantity_fact` for each of the run's quantities
        its table prints, as printed (its summary line prints the same figures).

        Example:
            >>> r = RunResult("r", throughput=Throughput(steps=4, elapsed_s=2.0), run_id="run-1")
            >>> [(f["quantity"], f["printed"]) for f in r.printed_facts()]
            [('time measured, from the end of the warm-up step', '2.00 s'), ('steps/s', \
'2.0 steps/s')]
        """
        tp, said = self.throughput, []
        if tp.steps:
            said += [(MEASURED_S, f"{figure(tp.elapsed_s)} s"), (STEPS_PER_S, self._steps_per_s())]
        cores, by_role = self.facts.get("cores_busy"), self.facts.get("train_cpu_by_role")
        if isinstance(cores, int | float):
            said.append((CORES_BUSY, fmt(cores)))
        if isinstance(by_role, dict):  # printed "role: 0.048" in a row of CPU seconds
            said += [(role_cpu(role), f"{fmt(s)} s") for role, s in by_role.items()]
        return [quantity_fact(self.run_id, q, printed) for q, printed in said]

    def _steps_per_s(self) -> str:
        return f"{self.throughput.steps_per_s:.1f} steps/s"

    def _summary(self) -> str:
        tp = self.throughput
        if not tp.steps:
            return f"{self.name}."
        text = f"{self.name}: {tp.steps} steps in {figure(tp.elapsed_s)} s ({self._steps_per_s()})"
        if self.bounds is not None and tp.elapsed_s > 0:
            text += (
                f", {100 * self.bounds.efficiency(tp.elapsed_s):.0f}% of the ideal overlapped bound"
            )
        return text + "."

    @property
    def bound_steps_per_s(self) -> tuple[float, float] | None:
        """(overlapped, sequential) bound as steps/s for the measured steps, or None."""
        if self.bounds is None or not self.throughput.steps:
            return None
        steps = self.throughput.steps
        return steps / self.bounds.overlapped_s, steps / self.bounds.sequential_s

    def spans_of(self, category: str) -> list[Span]:
        return [s for s in self.spans if s.category == category]

    def windows(self, category: str = "train", leave_out: str = "ui") -> list[tuple[int, int]]:
        """Time windows of ``category`` spans with ``leave_out`` spans cut out (e.g. drawing)."""
        cut = sorted((s.start_ns, s.end_ns) for s in self.spans_of(leave_out))
        out: list[tuple[int, int]] = []
        for s in sorted(self.spans_of(category), key=lambda s: s.start_ns):
            pieces = [(s.start_ns, s.end_ns)]
            for a, b in cut:
                pieces = [
                    p
                    for lo, hi in pieces
                    for p in ((lo, min(hi, a)), (max(lo, b), hi))
                    if p[1] > p[0]
                ]
            out.extend(pieces)
        return out

    def save_chrome_trace(self, path: str | Path) -> Path:
        """Write the spans as a Chrome trace JSON (one track per OS thread, named by role).

        Open it at https://ui.perfetto.dev (Open trace file) or in chrome://tracing.
        """
        from fitscope.instrument.tracing import chrome_trace

        origin = min((s.start_ns for s in self.spans), default=0)
        path = Path(path)
        path.write_text(
            json.dumps(chrome_trace(self.spans, self.environment.get("pid", 0), origin, self.roles))
        )
        return path

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cpu"] = self.cpu.to_dict()
        d["roles"] = {str(k): v for k, v in self.roles.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        return cls(
            name=d["name"],
            params=d.get("params", {}),
            spans=[Span(**s) for s in d.get("spans", [])],
            cpu=CpuSamples.from_dict(d["cpu"]) if d.get("cpu") else CpuSamples(),
            throughput=Throughput(**d["throughput"]) if d.get("throughput") else Throughput(),
            budget=CpuBudget(**d["budget"]) if d.get("budget") else None,
            bounds=Bounds(**d["bounds"]) if d.get("bounds") else None,
            outcomes=[ProcessOutcome(**o) for o in d.get("outcomes", [])],
            roles={int(k): v for k, v in d.get("roles", {}).items()},
            facts=d.get("facts", {}),
            environment=d.get("environment", {}),
            reading=d.get("reading", ""),
            **({"run_id": d["run_id"]} if d.get("run_id") else {}),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        return cls.from_json(Path(path).read_text())


def load_folder(folder: str | Path) -> list[RunResult]:
    """Every RunResult saved as ``*.json`` in ``folder`` (e.g. a class's pooled runs), by file name.

    Files that are not RunResults are skipped, so a shared folder may hold other things.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = RunResult(name="laptop").save(Path(d) / "a.json")
        >>> [r.name for r in load_folder(d)]
        ['laptop']
    """
    results = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            results.append(RunResult.load(path))
        except (ValueError, KeyError, TypeError):
            continue
    return results
