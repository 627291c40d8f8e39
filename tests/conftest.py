"""Shared fixtures: a kernelspec that points at this venv's interpreter, and a live kernel."""

from __future__ import annotations

import glob
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# The collection, in reading order. A notebook missing from disk, or on disk but not listed, fails.
COLLECTION = [
    "00_start_here.ipynb",
    "01_generator_with_fit.ipynb",
    "01b_which_backend.ipynb",
    "02_multiprocessing_trainer.ipynb",
    "03_tfdata_prefetch.ipynb",
    "04_beyond_one_process.ipynb",
    "05_your_image_pipeline.ipynb",
]
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright drives it (never `playwright install`)


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """JUPYTER_PATH with a "python3" kernelspec running *this* interpreter.

    JUPYTER_PATH is searched before the user's data dir, so a user-level "python3"
    kernelspec cannot shadow the venv's kernel.
    """
    path = tmp_path_factory.mktemp("jupyter")
    spec = path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (fitscope tests)",
                "language": "python",
            }
        )
    )
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(path)
    yield path
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.fixture(scope="module")
def kernel(jupyter_path: Path) -> Iterator[object]:
    """A real IPython kernel (the venv's) and a client; yields a function that runs code in it."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, "FITSCOPE_QUICK": "1"})

    def run(code: str, timeout: float = 180, failing: bool = False) -> str:
        """Execute ``code``; return its stdout, or fail the test with the kernel's error.

        With ``failing``, the cell must end in error but publish no traceback.
        """
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        assert not errors, "\n".join(errors)
        assert reply["content"]["status"] == ("error" if failing else "ok")
        return "".join(out)

    yield run
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def shm_semaphores() -> set[str]:
    return set(glob.glob("/dev/shm/sem.*")) | set(glob.glob("/dev/shm/psm_*"))


def child_pids() -> set[int]:
    """Live descendants of this process, but not the template interpreters runs are forked from:
    they are kept between runs on purpose (test_template checks that they end). A run forked
    from one is counted."""
    from fitscope.isolation.template import template_pids

    kept, found = template_pids(), set()
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.pid not in kept:
                found.add(p.pid)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium through Playwright; fails in CI, skips elsewhere, if missing."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip(
            f"{CHROMIUM} is not installed. Install Debian's Chromium as root: "
            "`apt-get update && apt-get install -y chromium` (.ci/run does this in CI)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()
