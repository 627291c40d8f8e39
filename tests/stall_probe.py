"""The reply stall in 40 lines, without a kernel or a notebook (see docs/troubleshooting.md).

``python tests/stall_probe.py [RUNS]`` plays, RUNS times, what nbclient does on a cell whose outputs
go into an ``ipywidgets.Output``: it waits for the cell's reply with jupyter_client's asyncio shell
channel while it sends a ``comm_msg`` on that same channel (nbclient syncs the widget's outputs
back to the kernel). The "kernel" is a plain ROUTER whose reply reaches the client's pipe just
before that send. ``Session.send`` sends on a plain shadow of the asyncio socket; the send
processes libzmq's pending commands, which clears the socket's edge-triggered file descriptor,
and pyzmq never re-reads ``ZMQ_EVENTS``: the pending poll sleeps until its timeout with the reply
ready in the socket. It prints how long the reply waited unread, without and with the fix
(:func:`fitscope.execute.rewake_after_send`); the notebook-level check is
``benchmarks/stall_stress.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from types import SimpleNamespace

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from fitscope.execute import rewake_after_send

POLL_S = 2.0


async def reply_wait_s(rewake: bool, poll_s: float = POLL_S) -> float:
    """Seconds a pending ``get_msg`` takes to see a reply that landed while the client sent."""
    session = Session()
    actx, ctx = zmq.asyncio.Context(), zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = actx.socket(zmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    channel = AsyncZMQSocketChannel(dealer, session)
    kc = SimpleNamespace(shell_channel=channel)
    if rewake:
        rewake_after_send(kc)
    try:
        kc.shell_channel.send(session.msg("execute_request", {"code": ""}))
        ident = router.recv_multipart()[0]
        waiting = asyncio.ensure_future(channel.get_msg(timeout=poll_s))
        await asyncio.sleep(0.1)  # the poll is registered with the event loop
        session.send(router, "execute_reply", {"status": "ok"}, ident=ident)
        time.sleep(0.1)  # the reply is in the client's pipe; the loop has not looked since
        kc.shell_channel.send(session.msg("comm_msg", {"data": {}}))  # nbclient's widget sync
        started = time.monotonic()
        reply = await waiting
        assert reply["msg_type"] == "execute_reply"
        return time.monotonic() - started
    finally:
        dealer.close(linger=0)
        router.close(linger=0)
        actx.term()
        ctx.term()


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for rewake in (False, True):
        waits = [round(asyncio.run(reply_wait_s(rewake)), 3) for _ in range(runs)]
        print(
            json.dumps(
                {
                    "fix": rewake,
                    "poll_timeout_s": POLL_S,
                    "reply_unread_s": waits,
                    "stalled": sum(w > 0.5 * POLL_S for w in waits),
                    "runs": runs,
                }
            )
        )
