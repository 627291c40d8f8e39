"""Execute one notebook with nbclient and save the executed copy: ``python notebook_runner.py IN OUT CWD``.

The notebook tests call this in a fresh interpreter rather than inside pytest's process: in the
pytest process, nbclient sometimes received a finished cell's reply only when the per-cell
timeout ran out (the kernel was idle all along), which turned a 2 s cell into a 300 s one.
"""

from __future__ import annotations

import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT_S = 300


def main(src: str, dst: str, cwd: str) -> int:
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": cwd}})
    started = time.perf_counter()
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        print(str(e).splitlines()[-1], file=sys.stderr)
        status = 1
    nb.metadata["fitscope_run_s"] = round(time.perf_counter() - started, 1)
    nbformat.write(nb, dst)
    return status


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
