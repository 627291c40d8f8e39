"""Reproduce the nbclient reply stall and show where the reply waits (see docs/troubleshooting.md).

``python tests/stall_probe.py NOTEBOOK [CELL_TIMEOUT_S]`` executes NOTEBOOK with *plain* nbclient
(one long poll per reply, no slicing) and watches every execute request: once the kernel's IOPub
"idle" for it has arrived but its shell reply has not been read for 5 s, it prints STALL with
``pollin``: whether the client's own shell socket has a message ready (``zmq.EVENTS & POLLIN``,
which reads no message). It also prints how long after the kernel made it each late reply was read.
Rare: seen in 2 of 4 runs of notebook 01 in default mode under ``taskset -c 0`` on a busy 2-core
machine, e.g. ``cd notebooks && taskset -c 0 python ../tests/stall_probe.py 01_generator_with_fit.ipynb 600``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import nbformat
import zmq
from nbclient import NotebookClient


def main(src: str, timeout_s: float = 600) -> dict[str, Any]:
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3")
    idle_at: dict[str, float] = {}
    replied: set[str] = set()
    executes: set[str] = set()
    stalls: list[dict[str, Any]] = []
    late: list[float] = []

    async def watch(kc: Any) -> None:
        while True:
            await asyncio.sleep(1)
            for mid, t in list(idle_at.items()):
                if mid in executes and mid not in replied and time.time() - t > 5 \
                        and mid not in {s["msg_id"] for s in stalls}:
                    ready = bool(kc.shell_channel.socket.getsockopt(zmq.EVENTS) & zmq.POLLIN)
                    stalls.append({"msg_id": mid, "idle_s_ago": round(time.time() - t, 1), "pollin": ready})
                    print("STALL", stalls[-1], flush=True)

    async def start() -> Any:
        kc = await NotebookClient.async_start_new_kernel_client(client)
        shell_get, iopub_get, execute = kc.shell_channel.get_msg, kc.iopub_channel.get_msg, kc.execute

        async def shell(timeout: float | None = None) -> Any:
            msg = await shell_get(timeout=timeout)
            replied.add(msg["parent_header"].get("msg_id"))
            lag = time.time() - msg["header"]["date"].timestamp()
            if lag > 2:
                late.append(round(lag, 1))
                print(f"late reply: read {lag:.1f} s after the kernel made it", flush=True)
            return msg

        async def iopub(timeout: float | None = None) -> Any:
            msg = await iopub_get(timeout=timeout)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle_at.setdefault(msg["parent_header"].get("msg_id"), time.time())
            return msg

        def execute_and_note(*args: Any, **kwargs: Any) -> str:
            msg_id = execute(*args, **kwargs)
            executes.add(msg_id)
            return msg_id

        kc.shell_channel.get_msg, kc.iopub_channel.get_msg, kc.execute = shell, iopub, execute_and_note
        asyncio.ensure_future(watch(kc))
        return kc

    client.async_start_new_kernel_client = start
    started = time.time()
    client.execute()
    return {"stalls": stalls, "late_replies_s": late, "total_s": round(time.time() - started, 1)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], *(float(a) for a in sys.argv[2:3]))))
