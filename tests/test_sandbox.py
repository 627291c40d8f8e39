"""The sandbox: watchdog, memory cap, killing the whole tree, semaphore clean-up, outcomes."""

from __future__ import annotations

import psutil
import pytest
from conftest import shm_semaphores

from fitscope.instrument.errors import FitscopeInputError
from fitscope.isolation.sandbox import exceptions_in, run_python

TREE = """
import multiprocessing as mp, sys, time
from fitscope.isolation.sandbox import report

def sleeper():
    time.sleep(600)

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    lock = mp.Lock()                      # a named POSIX semaphore under spawn/forkserver
    kids = [mp.Process(target=sleeper) for _ in range(2)]
    for k in kids:
        k.start()
    report(children=[k.pid for k in kids])
    time.sleep(600)
"""


def _all_gone(pids):
    return all(
        not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE for p in pids
    )


def test_a_clean_script_reports_messages_and_exits():
    r = run_python(
        code="from fitscope.isolation.sandbox import report\n"
        "for i in range(3): report(step=i)\nprint('hi')"
    )
    assert r.root.how == "exited with code 0" and r.root.exit_code == 0
    assert [m["step"] for m in r.messages] == [0, 1, 2]
    assert r.stdout.strip() == "hi" and r.stopped_by is None and r.survivors == []


def test_an_exception_is_recorded_with_its_text():
    r = run_python(code="raise ValueError('target shape (32,) vs (32, 1)')")
    assert r.root.how == "raised ValueError: target shape (32,) vs (32, 1)"
    assert r.root.exit_code == 1


def test_exceptions_are_attributed_to_multiprocessing_children():
    err = (
        'Process Process-2:\nTraceback (most recent call last):\n  File "x", line 1\n'
        "ValueError: bad shape\nTraceback (most recent call last):\n  File \"y\"\nKeyError: 'k'\n"
    )
    assert exceptions_in(err) == [("Process-2", "ValueError: bad shape"), ("main", "KeyError: 'k'")]


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"] * 3 + ["spawn"])
def test_watchdog_kills_the_whole_tree_and_leaves_nothing(method):
    sems_before = shm_semaphores()
    timeout = 4.0
    r = run_python(code=TREE, args=[method], timeout_s=timeout, poll_s=0.1, term_grace_s=1.0)
    assert r.stopped_by == "watchdog" and r.root.how == "killed by watchdog"
    assert r.wall_s <= timeout + 5
    kids = r.messages[0]["children"] if r.messages else []
    assert len(kids) == 2, r.stderr[-2000:]
    assert _all_gone([o.pid for o in r.outcomes] + kids), "a process survived"
    assert r.survivors == []
    assert shm_semaphores() == sems_before, "a semaphore or shared-memory file leaked"


def test_memory_cap_kills_within_one_poll():
    code = (
        "import time\nblocks = []\nwhile True:\n"
        "    blocks.append(b'x' * 20_000_000)\n    time.sleep(0.02)\n"
    )
    cap_mb, poll = 300, 0.1
    r = run_python(code=code, memory_cap_mb=cap_mb, poll_s=poll, timeout_s=60)
    assert r.stopped_by == "memory cap" and r.root.how == "killed at memory cap"
    steps = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(r.memory, r.memory[1:]) if b[0] > a[0]]
    growth = max(steps)
    assert r.peak_memory_bytes <= cap_mb * 2**20 + growth * poll * 1.5 + 20 * 2**20
    assert r.peak_memory_bytes > cap_mb * 2**20
    assert _all_gone([o.pid for o in r.outcomes])


def test_live_counters_reach_on_poll_while_running():
    seen = []
    code = (
        "import time\nfrom fitscope.isolation.sandbox import report\n"
        "for i in range(5):\n    report(i=i)\n    time.sleep(0.1)\n"
    )
    run_python(
        code=code, poll_s=0.05, on_poll=lambda p: seen.extend(m["i"] for m in p.new_messages)
    )
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout_s": -1}, {"timeout_s": float("nan")}, {"memory_cap_mb": 0}, {"poll_s": "fast"}],
)
def test_bad_limits_give_one_sentence(kwargs):
    with pytest.raises(FitscopeInputError) as e:
        run_python(code="pass", **kwargs)
    assert str(e.value).endswith(".") and "\n" not in str(e.value)


def test_cpu_and_pss_per_process_are_recorded():
    code = (
        "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end:\n    pass\n"
    )
    r = run_python(code=code, poll_s=0.05, timeout_s=30)
    seen = max(c.get(r.root.pid, 0.0) for _, c in r.cpu)
    assert 0.7 <= seen <= 1.3
    assert r.pss and all(b > 0 for _, b in r.pss[:-1])
    assert all(b - a >= 0.9 for (a, _), (b, _) in zip(r.pss, r.pss[1:]))


def test_cleanup_leaves_other_processes_semaphores_alone():
    """A semaphore created elsewhere during the run (here: by the test itself) is not removed."""
    import multiprocessing

    held = []

    def create_one(progress):
        if not held:
            held.append(multiprocessing.get_context("spawn").Semaphore())

    before = shm_semaphores()
    r = run_python(code="import time; time.sleep(1.0)", timeout_s=30, on_poll=create_one)
    new = shm_semaphores() - before
    assert held and new, "the test's own semaphore should exist in /dev/shm"
    assert not set(r.leftovers_removed) & new


def test_a_child_that_died_while_starting_is_not_blamed_on_the_script():
    stderr = (
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        '  File "/usr/lib/python3.11/multiprocessing/spawn.py", line 122, in spawn_main\n'
        "FileNotFoundError: [Errno 2] No such file or directory\n"
    )
    assert exceptions_in(stderr) == [
        ("spawned child", "FileNotFoundError: [Errno 2] No such file or directory")
    ]


def test_the_reaper_exits_with_a_run_that_ends_normally():
    """The reaper is told 'done' and exits with the run (test_kernel_death checks the other case,
    a kernel killed mid-run)."""
    r = run_python(code="from fitscope.isolation.sandbox import report\nreport(step=1)")
    assert r.root.how == "exited with code 0"
    reapers = [
        p
        for p in psutil.Process().children()
        if p.status() != psutil.STATUS_ZOMBIE and "reaper.py" in " ".join(p.cmdline())
    ]
    assert reapers == []


def test_read_result_returns_what_the_run_wrote_or_says_why_it_did_not_finish(tmp_path):
    from fitscope.isolation import read_result

    out = tmp_path / "result.json"
    wrote = run_python(code=f"import json\njson.dump({{'loss': 0.5}}, open({str(out)!r}, 'w'))")
    assert read_result(wrote, out, "the fit") == {"loss": 0.5}
    failed = run_python(code="raise ValueError('bad shape')")
    with pytest.raises(RuntimeError, match="^the fit did not finish: ValueError: bad shape$"):
        read_result(failed, tmp_path / "none.json", "the fit")
    stopped = run_python(code="import time\ntime.sleep(60)", timeout_s=1)
    with pytest.raises(RuntimeError, match="did not finish: killed by watchdog$"):
        read_result(stopped, tmp_path / "none.json", "the fit")
