"""The machine and the software this run measures: versions against the pins, B, memory, mode.

Example:
    >>> isinstance(quick_mode(), bool)
    True
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.tables import Table

__all__ = [
    "quick_mode",
    "pinned_versions",
    "installed_version",
    "version_mismatches",
    "memory_limit_bytes",
    "environment_facts",
    "environment_line",
    "this_machine",
    "BACKEND_LABELS",
    "keras_backend",
    "on_backend",
]

# The product packages whose versions matter to what the notebooks measure.
WATCHED = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "ipywidgets", "jupyterlab")


def quick_mode() -> bool:
    """True when FITSCOPE_QUICK is set (CI): workloads shrink, the logic stays the same."""
    return os.environ.get("FITSCOPE_QUICK", "").strip() not in ("", "0", "false", "no")


def pinned_versions() -> dict[str, str]:
    """Pins that apply on this platform, read from fitscope's own metadata (requirements.txt)."""
    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    try:
        declared = metadata.requires("fitscope") or []
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return pins
    for text in declared:
        req = Requirement(text)
        if req.marker and "extra" in str(req.marker):
            continue
        if req.marker is None or req.marker.evaluate():
            pins[req.name.lower()] = str(req.specifier).removeprefix("==")
    return pins


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def version_mismatches() -> list[str]:
    """One phrase per watched package whose installed version differs from its pin."""
    out = []
    for name, pinned in pinned_versions().items():
        if name in WATCHED:
            have = installed_version(name)
            if have != pinned:
                out.append(f"{name} {have or 'missing'} (pinned {pinned})")
    return out


def memory_limit_bytes(cgroup_root: str | Path = "/sys/fs/cgroup") -> int | None:
    """The cgroup memory limit of this process (v2 memory.max or v1 limit), None if unlimited."""
    root = Path(cgroup_root)
    for candidate in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        try:
            text = candidate.read_text().strip()
        except OSError:
            continue
        if text != "max" and int(text) < 2**60:
            return int(text)
    return None


BACKEND_LABELS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}
"""Keras's backend names (``keras.backend.backend()``) as people write them."""


def keras_backend() -> str | None:
    """The Keras backend this process uses, by its usual name; None where Keras is not imported
    (importing it here would bind the process to a backend).

    Example:
        >>> keras_backend() in (None, *BACKEND_LABELS.values())
        True
    """
    keras = sys.modules.get("keras")
    if keras is None or not hasattr(keras, "backend"):
        return None
    name = str(keras.backend.backend())
    return BACKEND_LABELS.get(name, name)


def on_backend(env: Mapping[str, Any]) -> str:
    """How a reading starts: the backend a result's environment recorded when it was measured.

    Example:
        >>> on_backend({"keras_backend": "JAX"}), on_backend({})
        ('On the JAX backend', 'With Keras')
    """
    name = env.get("keras_backend")
    return f"On the {name} backend" if name else "With Keras"


def environment_facts() -> dict[str, Any]:
    """Versions, CPU budget and memory of this machine, as measured now."""
    budget = cpu_budget()
    vm = psutil.virtual_memory()
    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "versions": {n: v for n in WATCHED if (v := installed_version(n))},
        "mismatches": version_mismatches(),
        "budget": budget.describe(),
        "cpus": budget.cpus,
        "logical_cpus": os.cpu_count(),
        "memory_total_bytes": vm.total,
        "memory_available_bytes": vm.available,
        "memory_limit_bytes": memory_limit_bytes(),
        "quick": quick_mode(),
        "proc_available": Path("/proc/self/task").is_dir(),
        "executable": sys.executable,
        "pid": os.getpid(),
        "keras_backend": keras_backend(),
    }


def environment_line(env: dict[str, Any] | None = None) -> str:
    """One line for the top of a notebook, e.g. ``Python 3.11.7 · tensorflow-cpu 2.21.0 · ...``."""
    env = env or environment_facts()
    parts = [f"Python {env['python']}"]
    parts += [f"{name} {version}" for name, version in env["versions"].items()]
    parts.append(env["budget"])
    limit = env["memory_limit_bytes"]
    memory = f"memory {env['memory_available_bytes'] / 2**30:.1f} GiB free"
    parts.append(memory + (f" (limit {limit / 2**30:.1f} GiB)" if limit else ""))
    parts.append("quick mode" if env["quick"] else "full mode")
    line = " · ".join(parts)
    if env["mismatches"]:
        line += "\n⚠ differs from the pinned versions: " + "; ".join(env["mismatches"])
    if not env["proc_available"]:
        line += "\n⚠ no /proc here: per-thread CPU sampling needs Linux (Binder works)."
    return line


def this_machine() -> Table:
    """Versions, CPU budget B and memory as one table, read in one sentence (pins, B, memory)."""
    env, budget = environment_facts(), cpu_budget()
    limit = env["memory_limit_bytes"]
    rows = [
        ("Python", env["python"]),
        *env["versions"].items(),
        ("CPU budget", f"{budget.describe()}, set by the {budget.source}"),
        ("memory available", f"{env['memory_available_bytes'] / 2**30:.1f} GiB"),
        ("container memory limit", f"{limit / 2**30:.1f} GiB" if limit else "none"),
        ("mode", "quick" if env["quick"] else "full"),
    ]
    pins = (
        "Versions match the pins"
        if not env["mismatches"]
        else "Differs from the pins: " + "; ".join(env["mismatches"])
    )
    return Table(
        ("", "this machine"),
        rows,
        title="Your environment",
        reading=f"{pins}; {budget.describe()}.",
    )
