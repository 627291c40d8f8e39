"""What measuring a Keras backend in a fresh interpreter costs: start-up time and memory.

For each installed backend (JAX first: it is what the backends lesson adds), REPEATS times:
the sandboxed experiment with one small variant, reporting the time until Keras was imported
and the train step compiled ("ready"), the whole run's wall time, and the peak memory of the
interpreter (RssAnon + RssShmem, as the sandbox caps it). Also the peak RSS of a bare interpreter
after ``import jax`` and after ``import keras`` with KERAS_BACKEND=jax, against
``import tensorflow``: what a kernel would carry if it imported them itself.

A figure to read, never a pass/fail test. Results also go to artefacts/backend_startup.json.
Run: .venv/bin/python benchmarks/backend_startup.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from fitscope.isolation.sandbox import run_python
from fitscope.lessons import backends

REPEATS = 3
PEAK_RSS = (
    "{statement}\nimport resource\nfrom fitscope.isolation.sandbox import report\n"
    "report(peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)
IMPORTS = {
    "import jax": ("import jax", {}),
    "KERAS_BACKEND=jax import keras": ("import keras", {"KERAS_BACKEND": "jax"}),
    "import tensorflow": ("import tensorflow", {}),
}


def peak_rss_mib(statement: str, env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall s) of a fresh interpreter that runs ``statement``."""
    run = run_python(code=PEAK_RSS.format(statement=statement), env=env, timeout_s=120)
    return run.messages[-1]["peak_rss_kib"] / 1024, run.wall_s


def main() -> None:
    small = backends.BackendParams(steps=8, width=256, batch_size=128)
    order = [b for b in ("jax", "tensorflow", "torch") if backends.is_installed(b)]
    results: dict[str, object] = {"experiment": {}, "imports": {}}
    for backend in order:
        runs = [
            backends.measure(backend, small, variants=("waiting",), say=None)
            for _ in range(REPEATS)
        ]
        row = {
            "ready_s": statistics.median(r.startup_s for r in runs),
            "import_keras_s": statistics.median(r.import_s for r in runs),
            "run_wall_s": statistics.median(r.wall_s for r in runs),
            "peak_memory_mib": statistics.median(r.peak_memory_bytes for r in runs) / 2**20,
            "device": runs[0].device,
            "version": runs[0].version,
        }
        results["experiment"][backends.LABELS[backend]] = row
        print(
            f"{backends.LABELS[backend]:10s} {row['version']:8s} ready in {row['ready_s']:.1f} s "
            f"(import keras {row['import_keras_s']:.1f} s); one small variant "
            f"{row['run_wall_s']:.1f} s "
            f"in all; peak {row['peak_memory_mib']:.0f} MiB (median of {REPEATS}, {row['device']})"
        )
    for backend in ("jax", "torch"):
        if not backends.is_installed(backend):
            print(backends.not_installed_sentence(backend))
    for label, (statement, env) in IMPORTS.items():
        if "jax" in label and not backends.is_installed("jax"):
            continue
        mib, wall = peak_rss_mib(statement, env)
        results["imports"][label] = {"peak_rss_mib": mib, "wall_s": wall}
        print(f"fresh interpreter, {label:32s} peak RSS {mib:5.0f} MiB, {wall:.1f} s")
    out = Path(__file__).resolve().parent.parent / "artefacts" / "backend_startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
