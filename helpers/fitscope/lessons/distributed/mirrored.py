"""``MirroredStrategy`` over N logical CPU devices against one device, each in a sandboxed
interpreter of its own, running the ``mirrored.py`` script that notebook 04 writes in a
``%%writefile`` cell (given by its path, or with none given, that cell's text read from the
notebook). Every run has a wall-clock watchdog and a memory cap; the result shows itself as a
table with its reading.

Example:
    >>> r = mirrored_training(script="mirrored.py", devices=2, steps=10)  # doctest: +SKIP
    >>> list(r.facts["runs"])                                             # doctest: +SKIP
    ['one device', '2 devices']
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.checks import Checks
from fitscope.instrument.environment import environment_facts, quick_mode
from fitscope.instrument.errors import FitscopeInputError, check_int
from fitscope.instrument.result import ProcessOutcome, RunResult
from fitscope.instrument.tables import Table
from fitscope.isolation import TENSORFLOW, run_python
from fitscope.isolation.scripts import script_file
from fitscope.show.live import StepCounter
from fitscope.verdicts.compare import SLOWER, compare

NOTEBOOK = "04_beyond_one_process.ipynb"

__all__ = ["MirroredRun", "mirrored_training"]


class MirroredRun(RunResult):
    """One device against MirroredStrategy over logical devices: speed, CPU, results, in words."""

    def table(self) -> Table:
        rows = [
            (
                label,
                r["steps_per_s"],
                r["cores_busy"],
                r["cpu_ms_per_step"],
                f"{r['loss']:.4g}",
                r["checksum"][:12],
            )
            for label, r in self.facts["runs"].items()
        ]
        if "against" in self.facts:  # the earlier run this one is read against
            then = self.facts["against"]
            many = then["speedup"] * then["one_steps_per_s"]
            rows.append((f"{then['devices']} devices (earlier run)", many, "", "", "", ""))
        rows.append(
            (
                "largest weight difference",
                "",
                "",
                "",
                "",
                f"{self.facts['max_weight_difference']:.2g}",
            )
        )
        return Table(
            ("run", "steps/s", "cores busy", "CPU ms per step", "final loss", "weights"),
            rows,
            reading=str(self),
            title=self.name,
        )

    def must_hold(self) -> Checks:
        """What holds on any machine: the replicas give one device's results; nothing survives."""
        return Checks(
            [
                (
                    "the weights match one device's (largest difference under 1e-4)",
                    self.facts["max_weight_difference"] < 1e-4,
                ),
                ("no process survived", self.facts["survivors"] == []),
            ]
        )

    def __str__(self) -> str:
        f = self.facts
        one, many = f["runs"].values()
        n, budget = f["devices"], self.budget.cpus if self.budget else 1.0
        ratio = f["cpu_per_step_ratio"]
        text = (
            f"With B = {budget:g}, {n} replicas ran {many['steps_per_s']:.1f} steps/s against "
            f"{one['steps_per_s']:.1f} on one device: "
            f"{compare(one['steps_per_s'], many['steps_per_s'], 'steps/s')}. "
            f"One device kept {one['cores_busy']:.2f} cores busy and {n} replicas "
            f"{many['cores_busy']:.2f}: logical devices are not cores, every replica's ops run on "
            f"the same {budget:g} CPU(s). "
        )
        cpu = compare(one["cpu_ms_per_step"], many["cpu_ms_per_step"], "ms")
        if cpu.word == SLOWER:  # more CPU a step with replicas
            text += (
                f"Each step cost x{ratio:.2f} the CPU ({many['cpu_ms_per_step']:.1f} ms against "
                f"{one['cpu_ms_per_step']:.1f} ms). What the rest paid for is not timed here: "
                "a replicated step also splits each batch and sums the replicas' gradients."
            )
        else:
            text += f"CPU a step, {n} replicas against one device: {cpu.sentence}."
        return text + self._against_earlier()

    def _against_earlier(self) -> str:
        """This run's replicas against an earlier run's, each over its own run's one device:
        one device's steps/s moves between runs on a shared machine, so raw steps/s of two
        runs are not compared."""
        if "against" not in self.facts:
            return ""
        then, n = self.facts["against"], self.facts["devices"]
        one_now = next(iter(self.facts["runs"].values()))["steps_per_s"]
        moved = max(one_now, then["one_steps_per_s"]) / min(one_now, then["one_steps_per_s"])
        reading = compare(then["speedup"], self.facts["speedup"], "x one device's steps/s")
        return (
            f" Against the earlier run's {then['devices']} replicas: one device moved "
            f"x{moved:.2f} between the runs ({then['one_steps_per_s']:.1f} → {one_now:.1f} "
            "steps/s), so each run is read over its own one device: "
            f"{then['devices']} replicas x{then['speedup']:.2f} of one device, {n} replicas "
            f"x{self.facts['speedup']:.2f}: {reading.sentence} (this reads whatever moved one "
            "device as moving both runs alike)."
        )


def mirrored_training(
    devices: int = 2,
    steps: int | None = None,
    global_batch: int = 64,
    width: int = 1024,
    timeout_s: float = 120.0,
    memory_cap_mb: float = 1500.0,
    script: str | Path | None = None,
    against: MirroredRun | None = None,
) -> MirroredRun:
    """Train the same model from the same seed on one device, then MirroredStrategy on ``devices``.

    ``script`` is the file notebook 04's cell wrote (``mirrored.py``); with None, that cell's text.
    ``against`` is an earlier run (other ``devices``): the reading compares the two runs'
    replicas each over its own run's one device.

    Each run is its own sandboxed process (logical devices are fixed per process), one after
    the other so they do not compete. Facts: steps/s, cores busy (process CPU / wall) and CPU per
    step of each, both final losses and checksums, and the largest weight difference.
    """
    check_int("logical devices", devices, 2, 8)
    # enough steps for a steady steps/s and CPU per step; more only buy precision
    steps = check_int(
        "steps", steps if steps is not None else (30 if quick_mode() else 40), 3, 100_000
    )
    check_int("global batch", global_batch, devices, 8192)
    if global_batch % devices:
        raise FitscopeInputError(
            f"global batch must split evenly over {devices} devices, not {global_batch}."
        )
    check_int("model width", width, 1, 4096)
    import numpy as np

    runs: dict[str, dict[str, Any]] = {}
    outcomes: list[ProcessOutcome] = []
    peak = 0
    with (
        tempfile.TemporaryDirectory(prefix="fitscope-mirrored-") as tmp,
        script_file(script, NOTEBOOK, "mirrored.py") as path,
    ):
        weights = {}
        counter = StepCounter.in_notebook()
        for label, n in (("one device", 1), (f"{devices} devices", devices)):
            out = Path(tmp) / f"{n}.npz"
            counter.next_run(
                f"MirroredStrategy, {label}, in a fresh interpreter (watchdog {timeout_s:g} s)"
            )
            args = [
                "--devices",
                n,
                "--steps",
                steps,
                "--batch",
                global_batch,
                "--width",
                width,
                "--out",
                out,
            ]
            r = run_python(
                path,
                args=[str(a) for a in args],
                timeout_s=timeout_s,
                memory_cap_mb=memory_cap_mb,
                preload=TENSORFLOW,
            )
            outcomes += r.outcomes
            peak = max(peak, r.peak_memory_bytes, max((b for _, b in r.pss), default=0))
            trained = next((m for m in r.messages if m.get("event") == "trained"), None)
            facts: dict[str, Any] = {
                "how": r.root.how,
                "stopped_by": r.stopped_by,
                "survivors": r.survivors,
                "wall_s": r.wall_s,
            }
            if trained is None:
                raise RuntimeError(
                    f"the {label} run did not finish ({r.root.how}): {r.stderr[-500:]}"
                )
            n_timed = trained["timed_steps"]
            facts.update(
                replicas=trained["replicas"],
                loss=trained["loss"],
                checksum=trained["checksum"],
                steps_per_s=n_timed / trained["wall_s"],
                cores_busy=trained["cpu_s"] / trained["wall_s"],
                cpu_ms_per_step=1e3 * trained["cpu_s"] / n_timed,
            )
            runs[label] = facts
            with np.load(out) as data:
                weights[label] = [data[k] for k in data.files]
        one, many = weights.values()
        max_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(one, many))
    single, multi = runs.values()
    facts = {
        "devices": devices,
        "steps": steps,
        "global_batch": global_batch,
        "runs": runs,
        "max_weight_difference": max_diff,
        "loss_difference": abs(single["loss"] - multi["loss"]),
        "speedup": multi["steps_per_s"] / single["steps_per_s"],
        "cpu_per_step_ratio": multi["cpu_ms_per_step"] / single["cpu_ms_per_step"],
        "peak_memory_bytes": peak,
        "survivors": [s for f in runs.values() for s in f["survivors"]],
    }
    if against is not None:
        facts["against"] = {
            "devices": against.facts["devices"],
            "one_steps_per_s": next(iter(against.facts["runs"].values()))["steps_per_s"],
            "speedup": against.facts["speedup"],
        }
    return MirroredRun(
        name=f"MirroredStrategy over {devices} logical CPU devices against one device",
        params=dict(devices=devices, steps=steps, global_batch=global_batch, width=width),
        outcomes=outcomes,
        budget=cpu_budget(),
        facts=facts,
        environment=environment_facts(),
    )
