"""Binder's build, the way repo2docker runs it, as far as this machine allows without a container.

repo2docker (a test pin) decides from the repository which build pack applies and what it will
run; this test asks repo2docker's own code (build-pack detection, the Python version it reads from
runtime.txt, its pre-assemble and post-build scripts) and runs those same steps here, in a fresh
virtual environment of that Python made from a copy of the working tree: the ``pip install -r
binder/requirements.txt`` line, then ``./binder/postBuild`` from the repository root. Then notebook
00 runs in quick mode with that environment's own plain ``jupyter nbconvert --execute`` and
kernel, as an instructor pre-runs a notebook (so this is also the nbconvert check).

What it cannot reproduce without a container engine: repo2docker's base image (its own Python
from conda-forge, Ubuntu's system packages), the non-root user and the container's limits
(tests/test_browser.py runs every notebook in JupyterLab under a real 1-CPU quota and 2 GiB
limit).
It takes a few minutes (the pip install): it is marked ``notebook``, like the other long runs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT
from notebook_runner import CELL_TIMEOUT_S, run_watching_for_stalls

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pythonjsonlogger.*"),
]


def _working_tree_copy(dst: Path) -> Path:
    """Tracked and untracked-but-not-ignored files, modes kept: what a clone of this tree holds."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def _build_plan(repo: Path) -> dict:
    """What repo2docker would build from ``repo``: its build pack and the scripts it would run."""
    from repo2docker.app import Repo2Docker

    for cls in Repo2Docker().buildpacks:
        pack = cls(str(repo))
        if pack.detect():
            break
    cwd = os.getcwd()
    os.chdir(repo)  # some build packs read their files relative to the current directory
    try:
        return {
            "pack": type(pack).__name__,
            "python": pack.python_version,
            "preassemble": [s for _, s in pack.get_preassemble_scripts()],
            "assemble": [s for _, s in pack.get_assemble_scripts()],
            "post_build": pack.get_post_build_scripts(),
        }
    finally:
        os.chdir(cwd)


def test_binder_builds_with_repo2dockers_steps_and_runs_notebook_00(tmp_path):
    repo = _working_tree_copy(tmp_path / "repo")
    plan = _build_plan(repo)
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert plan["pack"] == "PythonBuildPack", plan
    assert runtime == f"python-{plan['python']}", (runtime, plan["python"])
    assert plan["post_build"] == ["binder/postBuild"], plan
    assert plan["assemble"] == [], plan  # nothing beyond the pip line and postBuild

    python = shutil.which(f"python{plan['python']}")
    if python is None:
        if os.environ.get("CI"):
            pytest.fail(f"python{plan['python']} (binder/runtime.txt) is not on PATH")
        pytest.skip(f"python{plan['python']} (binder/runtime.txt) is not on PATH")
    env_dir = tmp_path / "env"
    subprocess.run([python, "-m", "venv", str(env_dir)], check=True, timeout=300)
    build_env = {
        **os.environ,
        "KERNEL_PYTHON_PREFIX": str(env_dir),
        "NB_PYTHON_PREFIX": str(env_dir),
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    build_env.pop("PYTHONPATH", None)
    build_env.pop("VIRTUAL_ENV", None)
    for script in plan["preassemble"]:  # the `pip install -r binder/requirements.txt` line
        step = subprocess.run(
            ["bash", "-c", script],
            cwd=repo,
            env=build_env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert step.returncode == 0, f"{script}\n{step.stderr[-3000:]}"
    for script in plan[
        "post_build"
    ]:  # as repo2docker: chmod +x, then run it from the repository root
        path = repo / script
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        step = subprocess.run(
            [f"./{script}"], cwd=repo, env=build_env, capture_output=True, text=True, timeout=600
        )
        assert step.returncode == 0, f"{script} failed:\n{step.stderr[-3000:]}"

    overrides = env_dir / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(overrides.read_text()) == json.loads(
        (ROOT / "binder" / "overrides.json").read_text()
    )
    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import fitscope; print(fitscope.__file__)"],
        cwd=tmp_path,
        env=build_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0 and where.stdout.strip().startswith(str(repo)), where.stderr[
        -2000:
    ]

    nb = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.prefix)"))
    src = repo / "notebooks" / "00_check.ipynb"
    nbformat.write(nb, src)
    data = tmp_path / "jupyter-data"  # no user-level kernelspec may shadow the environment's own
    run_env = {
        **build_env,
        "FITSCOPE_QUICK": "1",
        "JUPYTER_DATA_DIR": str(data),
        "JUPYTER_PATH": "",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
    }
    run, stall = run_watching_for_stalls(  # a stall (idle client and kernel) fails in seconds
        [
            str(env_dir / "bin" / "jupyter"),
            "nbconvert",
            "--execute",
            "--to",
            "notebook",
            "--output",
            "00_executed.ipynb",
            f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}",
            str(src),
        ],
        cwd=src.parent,
        env=run_env,
        timeout_s=600,
    )
    assert stall is None, f"{stall}\n{run.stderr[-2000:]}"
    assert run.returncode == 0, run.stderr[-3000:]
    done = nbformat.read(src.parent / "00_executed.ipynb", as_version=4)
    assert done.cells[-1].outputs[0].text.strip() == f"KERNEL {env_dir}", (
        "the kernel is not the Binder env's"
    )
