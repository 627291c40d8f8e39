"""The stall's mechanism and its fix on bare ZMQ sockets (tests/stall_probe.py), and the watch."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from stall_probe import POLL_S, reply_wait_s

from fitscope.execute import KernelStallError, StallWatch, rewake_after_send, tree_cpu_s


def test_a_send_during_the_poll_leaves_the_reply_unread_until_the_poll_times_out():
    """The upstream bug: if this starts failing, a pyzmq/jupyter_client release fixed it."""
    assert asyncio.run(reply_wait_s(rewake=False)) > 0.8 * POLL_S


def test_rewake_after_send_wakes_the_pending_poll_at_once():
    assert asyncio.run(reply_wait_s(rewake=True)) < 0.2


def test_rewake_wraps_each_channel_once():
    sent: list[Any] = []
    channel = SimpleNamespace(send=sent.append, socket=None)
    kc = SimpleNamespace(shell_channel=channel)
    rewake_after_send(rewake_after_send(kc))
    kc.shell_channel.send("m")
    assert sent == ["m"]


def test_idle_needs_a_long_enough_window_of_low_cpu():
    watch = StallWatch(quiet_s=20)
    assert watch.idle([(0.0, 1.0), (19.0, 1.1)])
    assert not watch.idle([(0.0, 1.0), (19.0, 3.0)])  # a child process computing: not a stall
    assert not watch.idle([(0.0, 1.0), (5.0, 1.0)])  # too short a window to say
    assert not watch.idle([(0.0, 9.0), (19.0, 1.0)])  # the total fell: a process left the tree


def test_the_tree_keeps_the_cpu_of_a_child_that_ended():
    """A cell whose fresh interpreter computed for the whole window and then ended is not idle
    (05's worker-processes cell, under the one-CPU quota, was called a stall this way)."""
    before = tree_cpu_s(os.getpid())
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    subprocess.run([sys.executable, "-c", busy], check=True)
    after = tree_cpu_s(os.getpid())
    assert after - before >= 0.45


def test_a_stall_with_no_answer_to_the_nudges_raises_and_names_the_side():
    """A fake client whose kernel never answers: the watch raises KernelStallError, quickly."""

    async def scenario() -> tuple[float, str, list[dict[str, Any]]]:
        never: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def get_msg(timeout: float | None = None) -> Any:
            return await never

        ctx = zmq.asyncio.Context()
        socks = [ctx.socket(zmq.DEALER) for _ in range(2)]
        kc = SimpleNamespace(
            shell_channel=SimpleNamespace(get_msg=get_msg, socket=socks[0]),
            iopub_channel=SimpleNamespace(get_msg=get_msg, socket=socks[1]),
            execute=lambda code: "msg-1",
            kernel_info=lambda: "msg-2",
        )
        watch = StallWatch(quiet_s=2, nudge_wait_s=0.2)
        watch.idle = lambda cpu: True  # type: ignore[method-assign]  # this process is no kernel
        watch.attach(kc, kernel_pid=os.getpid())  # any live process: idle() is forced above
        kc.execute("x = 1\n")
        started = time.monotonic()
        try:
            with pytest.raises(KernelStallError) as e:
                await kc.shell_channel.get_msg(timeout=60)
        finally:
            watch.stop()
            for s in socks:
                s.close(linger=0)
            ctx.term()
        return time.monotonic() - started, str(e.value), watch.stalls

    took, message, stalls = asyncio.run(scenario())
    assert took < 10
    assert message.startswith("stall: the cell 'x = 1'") and "never started it" in message
    assert len(stalls) == 1 and stalls[0]["woken_by"] is None


def test_the_watch_finds_a_reply_waiting_unread_and_its_first_nudge_delivers_it():
    """The client-side stall for real (no fix): the watch sees it, re-reads the events, goes on."""

    async def scenario() -> tuple[float, list[dict[str, Any]]]:
        session = Session()
        actx, ctx = zmq.asyncio.Context(), zmq.Context()
        router = ctx.socket(zmq.ROUTER)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer, sub = actx.socket(zmq.DEALER), actx.socket(zmq.SUB)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        shell = AsyncZMQSocketChannel(dealer, session)

        def execute(code: str) -> str:
            msg = session.msg("execute_request", {"code": code})
            shell.send(msg)
            return msg["header"]["msg_id"]

        kc = SimpleNamespace(
            shell_channel=shell,
            iopub_channel=AsyncZMQSocketChannel(sub, session),
            execute=execute,
            kernel_info=lambda: None,
        )
        watch = StallWatch(quiet_s=2, nudge_wait_s=1)
        watch.idle = lambda cpu: True  # type: ignore[method-assign]  # this process is no kernel
        watch.attach(kc, kernel_pid=os.getpid())
        try:
            request = session.msg("execute_request", {})
            request["header"]["msg_id"] = kc.execute("panel.run()")
            ident = router.recv_multipart()[0]
            waiting = asyncio.ensure_future(kc.shell_channel.get_msg(timeout=30))
            await asyncio.sleep(0.1)
            session.send(router, "execute_reply", {"status": "ok"}, parent=request, ident=ident)
            time.sleep(0.1)
            shell.send(session.msg("comm_msg", {"data": {}}))  # no fix: the wake-up is lost
            started = time.monotonic()
            await waiting
            return time.monotonic() - started, watch.stalls
        finally:
            watch.stop()
            for s in (dealer, sub, router):
                s.close(linger=0)
            actx.term()
            ctx.term()

    took, stalls = asyncio.run(scenario())
    assert 1.5 < took < 6  # read when the watch called it (2 s of silence), not at the 30 s timeout
    assert len(stalls) == 1
    assert stalls[0]["reply_waiting_in_client"] and stalls[0]["woken_by"] == "re-read ZMQ_EVENTS"


def test_a_panel_run_fills_its_outputs_without_capturing_any():
    """What keeps plain nbconvert off the stall: no Output widget of a panel captures outputs.

    A captured output (``with output:``, which sets the widget's ``msg_id``) makes nbclient send
    the widget's outputs back on the shell channel while it waits for the cell's reply.
    """
    from fitscope.lessons.generator.fit import generator_fit_panel

    panel = generator_fit_panel(time_budget_s=30)
    captured: list[str] = []
    for out in (panel.live, panel.after):
        out.observe(lambda change: captured.append(change["new"]), names="msg_id")
    panel.run(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=12, epochs=2)
    assert [m for m in captured if m] == []
    kinds = [(o["output_type"], sorted(o.get("data", {}))) for o in panel.after.outputs]
    assert kinds[0] == ("display_data", ["image/png", "text/plain"])
    assert ("stream", []) in kinds and len(panel.live.outputs) == 1


def test_the_process_watch_calls_an_idle_tree_a_stall_and_a_busy_one_a_timeout():
    """How the tests run plain nbconvert: idle client and kernel = stall, busy = only slow."""
    import sys

    from notebook_runner import run_watching_for_stalls

    started = time.monotonic()
    done, stall = run_watching_for_stalls(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "time.sleep(60)",
        ],
        timeout_s=50,
        quiet_s=3,
    )
    assert stall is not None and stall.startswith("stall:") and time.monotonic() - started < 15
    assert done.returncode != 0
    done, stall = run_watching_for_stalls(
        [sys.executable, "-c", "while True: pass"], timeout_s=3, quiet_s=2
    )
    assert stall is not None and stall.startswith("timeout:")
    done, stall = run_watching_for_stalls([sys.executable, "-c", "print('ok')"], timeout_s=30)
    assert stall is None and done.returncode == 0 and done.stdout == "ok\n"
