"""Execute notebooks outside JupyterLab (to pre-run them before a class) without the reply stall.

Plain nbclient (and so ``jupyter nbconvert --execute`` and papermill) waits for a cell's reply
with one long ZMQ poll. We saw that poll miss its wake-up: the kernel had sent the reply (its
header time says so) and sat idle, and the client went on waiting until the cell timeout.
Polling the shell and IOPub channels in short slices makes a missed wake-up cost at most one
slice: each new poll looks at the socket's pending messages at once. Nothing changes in the kernel.

Two ways to use it (both need nbclient / nbconvert, which JupyterLab installs):

    jupyter nbconvert --to notebook --output-dir executed \\
        --NotebookExporter.preprocessors=fitscope.execute.SlicedExecutePreprocessor notebooks/*.ipynb

    python -m fitscope.execute notebooks/00_start_here.ipynb executed/00_start_here.ipynb

Example:
    >>> import asyncio
    >>> from queue import Empty
    >>> calls = []
    >>> async def never(timeout=None):
    ...     calls.append(timeout)
    ...     raise Empty
    >>> try:
    ...     asyncio.run(sliced(never, slice_s=0.01)(timeout=0.035))
    ... except Empty:
    ...     print(len(calls) >= 3, max(calls) <= 0.01)
    True True
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from queue import Empty
from typing import Any

__all__ = ["sliced", "slice_channels", "execute_notebook"]  # + SlicedPollClient, SlicedExecutePreprocessor (lazy)

SLICE_S = 1.0


def sliced(get_msg: Callable[..., Awaitable[Any]],
           slice_s: float = SLICE_S) -> Callable[..., Awaitable[Any]]:
    """Wrap a channel's async ``get_msg(timeout)`` so it polls in ``slice_s`` slices up to ``timeout``."""
    async def get_msg_in_slices(timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = slice_s if deadline is None else min(slice_s, max(0.0, deadline - time.monotonic()))
            try:
                return await get_msg(timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


def slice_channels(kc: Any, slice_s: float = SLICE_S) -> Any:
    """Make a kernel client's shell and IOPub channels poll in slices; returns the client."""
    for channel in (kc.shell_channel, kc.iopub_channel):
        channel.get_msg = sliced(channel.get_msg, slice_s)
    return kc


@functools.cache
def _sliced_client_class(base: type) -> type:
    class Sliced(base):  # type: ignore[misc, valid-type]
        async def async_start_new_kernel_client(self) -> Any:
            return slice_channels(await super().async_start_new_kernel_client())

    Sliced.__name__ = Sliced.__qualname__ = f"Sliced{base.__name__}"
    Sliced.__doc__ = f"{base.__name__} with its shell and IOPub channels polled in slices."
    return Sliced


def __getattr__(name: str) -> Any:  # nbclient / nbconvert are imported only when asked for
    if name == "SlicedPollClient":
        from nbclient import NotebookClient

        return _sliced_client_class(NotebookClient)
    if name == "SlicedExecutePreprocessor":
        from nbconvert.preprocessors import ExecutePreprocessor

        return _sliced_client_class(ExecutePreprocessor)
    raise AttributeError(name)


def execute_notebook(src: str | Path, dst: str | Path, timeout_s: float = 300,
                     cwd: str | Path | None = None, kernel_name: str = "python3") -> float:
    """Execute ``src`` top to bottom, write the executed copy to ``dst``; return the seconds it took.

    A failing cell raises nbclient's ``CellExecutionError`` after the copy is written.
    """
    import nbformat

    nb = nbformat.read(src, as_version=4)
    client = __getattr__("SlicedPollClient")(
        nb, timeout=timeout_s, kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd or Path(src).resolve().parent)}})
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
    return time.perf_counter() - started


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m fitscope.execute NOTEBOOK.ipynb EXECUTED.ipynb")
    print(f"executed in {execute_notebook(sys.argv[1], sys.argv[2]):.1f} s")
