"""Every notebook of the collection runs top to bottom in quick mode in the venv's kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import COLLECTION, NOTEBOOKS, child_pids, shm_semaphores


def test_the_collection_list_matches_the_folder():
    on_disk = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert on_disk == sorted(COLLECTION)


@pytest.mark.parametrize("name", COLLECTION)
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("name", COLLECTION)
def test_has_one_title_and_hidden_solution_cells(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    titles = [line for c in nb.cells if c.cell_type == "markdown"
              for line in c.source.splitlines() if line.startswith("# ")]
    assert len(titles) == 1
    hidden = [c for c in nb.cells if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden and all(c.cell_type == "code" for c in hidden)


@pytest.mark.notebook
@pytest.mark.parametrize("name", COLLECTION)
def test_runs_top_to_bottom_in_quick_mode(name, jupyter_path, tmp_path):
    sems_before, kids_before = shm_semaphores(), child_pids()
    out = tmp_path / name
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("notebook_runner.py")), str(NOTEBOOKS / name),
         str(out), str(tmp_path)],
        env={**os.environ, "FITSCOPE_QUICK": "1"}, capture_output=True, text=True, timeout=1800)
    assert out.exists(), run.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    errors = [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors and run.returncode == 0, errors or run.stderr[-3000:]
    kernel_line = nb.cells[-1].outputs[0].text
    assert kernel_line.strip() == f"KERNEL {sys.executable}", "the kernel is not the venv's"
    assert child_pids() - kids_before == set(), "processes survived the notebook"
    assert shm_semaphores() - sems_before == set(), "semaphores leaked"
    print(f"{name}: {nb.metadata['fitscope_run_s']} s in quick mode")
