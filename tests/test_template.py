"""Runs forked from a template interpreter: what they keep, what is theirs, and cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest
from conftest import child_pids, shm_semaphores

from fitscope.instrument.paths import IMPORT_ROOT
from fitscope.isolation import template
from fitscope.isolation.launcher import sandbox_facts
from fitscope.isolation.sandbox import _child_env, run_python
from fitscope.isolation.template import TENSORFLOW, close_template

PROBE = """
import json, os, random, sys
from fitscope.isolation.sandbox import report
from fitscope.isolation.template import preloaded
import threading
report(argv=sys.argv[1:], cwd=os.getcwd(), sid=os.getsid(0) == os.getpid(),
       main=threading.main_thread().native_id == threading.get_native_id() == os.getpid(),
       threads=os.environ.get("TF_NUM_INTRAOP_THREADS"), preloaded=preloaded(),
       already=[m for m in ("tensorflow", "keras") if m in sys.modules], draw=random.random())
"""


def _templates() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children()
        if "fitscope.isolation.forked" in " ".join(p.cmdline())
    ]


@pytest.fixture(autouse=True)
def _no_template_left():
    close_template()
    yield
    close_template()
    assert not _templates(), "close_template left the template running"


def test_a_forked_run_gets_its_own_arguments_session_and_late_environment():
    one = run_python(
        code=PROBE,
        args=["a", "1"],
        env={"TF_NUM_INTRAOP_THREADS": "1"},
        preload=TENSORFLOW,
        timeout_s=120,
    )
    two = run_python(code=PROBE, args=["b"], preload=TENSORFLOW, timeout_s=120)
    first, second = one.messages[0], two.messages[0]
    assert one.root.exit_code == 0 and two.root.exit_code == 0, one.stderr + two.stderr
    assert first["argv"] == ["a", "1"] and second["argv"] == ["b"]
    assert first["cwd"] != second["cwd"] and os.path.basename(first["cwd"]).startswith("fitscope")
    assert first["sid"] and second["sid"]
    assert first["main"] and second["main"], "the main thread's id is the template's"  # by id
    assert first["threads"] == "1" and second["threads"] is None
    assert first["already"] == ["tensorflow", "keras"]  # imported by the template, not the run
    assert first["preloaded"]["modules"] == list(TENSORFLOW)
    assert first["draw"] != second["draw"], "runs forked from one template share random state"
    assert len(_templates()) == 1, "the second run did not reuse the template"


def test_a_forked_run_starts_multiprocessing_from_its_own_directory():
    # a fresh interpreter notes its directory when it imports multiprocessing; a child process
    # started by path looks for the main script there
    code = (
        "import multiprocessing.process, os\n"
        f"print(multiprocessing.process.ORIGINAL_DIR == os.getcwd() != {os.getcwd()!r})"
    )
    r = run_python(code=code, preload=("multiprocessing",), timeout_s=60)
    assert r.stdout.strip() == "True"


def test_tensorflow_has_never_run_in_a_forked_run():
    code = (
        "import tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)  # raises once TF has run\n"
        "print(tf.reduce_sum(tf.ones(3)).numpy())"
    )
    r = run_python(code=code, preload=TENSORFLOW, timeout_s=120)
    assert r.root.how == "exited with code 0", r.stderr[-800:]
    assert r.stdout.strip() == "3.0"


def test_exceptions_exit_codes_and_the_watchdog_work_as_for_a_fresh_interpreter():
    failed = run_python(code="raise ValueError('bad shape')", preload=TENSORFLOW, timeout_s=120)
    assert failed.root.how == "raised ValueError: bad shape" and failed.root.exit_code == 1
    code = run_python(code="import sys; sys.exit(3)", preload=TENSORFLOW, timeout_s=120)
    assert code.root.exit_code == 3
    before = shm_semaphores()
    tree = (
        "import multiprocessing as mp, time\nif __name__ == '__main__':\n"
        "    mp.set_start_method('fork'); lock = mp.Lock()\n"
        "    kid = mp.Process(target=time.sleep, args=(600,)); kid.start(); time.sleep(600)\n"
    )
    stopped = run_python(code=tree, preload=TENSORFLOW, timeout_s=3)
    assert stopped.root.how == "killed by watchdog" and stopped.survivors == []
    pids = [o.pid for o in stopped.outcomes]
    assert len(pids) == 2 and not any(
        psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids
    )
    assert shm_semaphores() <= before


def _gone(p: psutil.Process) -> bool:
    return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE


def test_an_import_time_variable_gets_its_own_template_and_the_oldest_goes_first():
    assert template.MAX_TEMPLATES == 2
    run_python(code="pass", preload=("json",), timeout_s=60)
    (first,) = _templates()
    run_python(code="pass", preload=("json",), env={"KERAS_BACKEND": "jax"}, timeout_s=60)
    (second,) = [t for t in _templates() if t != first]
    run_python(code="pass", preload=("json",), timeout_s=60)  # the first again: it is reused
    assert len(_templates()) == 2 and first in _templates()
    run_python(code="pass", preload=("json",), env={"KERAS_BACKEND": "torch"}, timeout_s=60)
    live = _templates()
    assert len(live) == 2 and first in live and second not in live
    deadline = time.monotonic() + 5
    while not _gone(second) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(second), "the least recently used template was not closed"


def test_the_first_run_that_asks_starts_the_template_and_later_runs_reuse_it():
    assert not _templates()
    run_python(code="pass", timeout_s=60)  # a run without preload starts none
    assert not _templates()
    run_python(code="pass", preload=("json",), timeout_s=60)
    (started,) = _templates()
    run_python(code="pass", preload=("json",), timeout_s=60)
    assert _templates() == [started] and all(t.ready for t in template._live)


def test_no_run_starts_while_a_template_is_still_importing():
    template.start(TENSORFLOW, _child_env(None))  # seconds of importing, as a run's would be
    run_python(code="pass", timeout_s=60)  # a plain run, not forked from it
    assert all(t.ready is not None for t in template._live), "the run started beside an import"


def test_a_forked_run_and_its_forked_children_show_the_runs_command():
    code = (
        "import multiprocessing as mp, time\nif __name__ == '__main__':\n"
        "    mp.set_start_method('fork'); kid = mp.Process(target=time.sleep, args=(1,))\n"
        "    kid.start(); kid.join()\n"
    )
    kids = child_pids()
    r = run_python(code=code, args=["--flag"], preload=("json",), timeout_s=60)
    assert [o.command for o in r.outcomes] == ["python experiment.py --flag"] * 2
    assert child_pids() - kids == set() and len(template.template_pids()) == 1


def test_the_template_exits_with_the_interpreter_that_started_it():
    script = (
        "import json, psutil\nfrom fitscope.isolation.sandbox import run_python\n"
        "run_python(code='pass', preload=('json',), timeout_s=60)\n"
        "print(json.dumps([p.pid for p in psutil.Process().children()]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(IMPORT_ROOT)}
    for how in ("exits", "is killed"):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                script
                + (
                    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"
                    if how == "is killed"
                    else ""
                ),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        out, _ = proc.communicate(timeout=120)
        children = json.loads(out.splitlines()[-1])
        assert children, "the run left no template to check"
        deadline = time.monotonic() + 5
        while any(psutil.pid_exists(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(psutil.pid_exists(p) for p in children), f"template outlived: {how}"


def test_without_a_template_the_run_starts_fresh(monkeypatch):
    monkeypatch.setattr(template, "START_TIMEOUT_S", 0.01)  # no template can be ready this fast
    r = run_python(code=PROBE, preload=TENSORFLOW, timeout_s=120)
    assert r.root.exit_code == 0 and r.messages[0]["preloaded"] is None
    assert r.started == "started fresh: no template could be started"


def test_a_template_with_a_second_thread_does_not_fork_and_the_run_starts_fresh(tmp_path):
    (tmp_path / "spinner.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    code = "import spinner\n" + PROBE
    r = run_python(code=code, preload=("spinner",), env=env, timeout_s=60)
    assert r.started == "started fresh: the template had 2 threads"
    assert r.root.exit_code == 0 and r.messages[0]["preloaded"] is None, r.stderr
    assert len(_templates()) == 1, "the template is kept: the next fork checks again"
    one = run_python(code="pass", preload=("json",), timeout_s=60)
    assert one.started == "forked from a template", "a one-thread template forks"
    assert sandbox_facts(r)["sandbox_start"] == r.started


def test_numpys_thread_pool_is_stopped_to_fork_and_restarted_in_the_run():
    code = "import os\nprint(len(os.listdir('/proc/self/task')))"
    fresh = run_python(code="import numpy\n" + code, timeout_s=60)
    forked = run_python(code="import numpy\n" + code, preload=("numpy",), timeout_s=60)
    assert forked.started == "forked from a template", forked.started
    assert forked.stdout == fresh.stdout, "the run's threads differ from a fresh start's"


def test_what_an_import_sets_in_the_environment_does_not_make_a_new_template(monkeypatch):
    code = "import os\nprint(os.environ.get('TF2_BEHAVIOR'))"
    first = run_python(code=code, preload=TENSORFLOW, timeout_s=120)
    (used,) = _templates()
    monkeypatch.setenv("TF2_BEHAVIOR", "1")  # what importing TensorFlow does to the kernel's
    again = run_python(code=code, preload=TENSORFLOW, timeout_s=120)
    assert _templates() == [used] and first.root.exit_code == again.root.exit_code == 0
    monkeypatch.setenv("TF2_BEHAVIOR", "0")  # a value TensorFlow's import did not set: new one
    run_python(code=code, preload=TENSORFLOW, timeout_s=120)
    assert len(_templates()) == 2


CONTRACT_PROBE = """
import json, multiprocessing, multiprocessing.process, os, random, sys, threading
import numpy
from fitscope.isolation.sandbox import report
here = os.path.dirname(os.path.abspath(sys.argv[0]))
env = {k: v for k, v in os.environ.items() if k != "FITSCOPE_PRELOADED"}
report(
    argv=[os.path.basename(sys.argv[0]), *sys.argv[1:]],
    orig_argv=[sys.orig_argv[0], os.path.basename(sys.orig_argv[1]), *sys.orig_argv[2:]],
    cwd=os.getcwd() == here == multiprocessing.process.ORIGINAL_DIR,
    path0=sys.path[0] == here,
    path=sys.path[1:],
    session=os.getsid(0) == os.getpgid(0) == os.getpid(),
    stdio=[os.readlink(f"/proc/self/fd/{fd}").split(":")[0] for fd in (0, 1, 2)],
    main_thread=threading.main_thread().native_id == threading.get_native_id() == os.getpid(),
    threads=[len(os.listdir("/proc/self/task")), threading.active_count()],
    start_method=multiprocessing.get_start_method(allow_none=True),
    environment=env,
    seeds=[random.random(), float(numpy.random.random())],
)
"""


def test_a_forked_run_observes_what_a_fresh_one_does_entry_by_entry():
    from fitscope.isolation.forked import LIKE_FRESH

    def probe(**kwargs):
        r = run_python(code=CONTRACT_PROBE, args=["--x", "1"], timeout_s=60, **kwargs)
        assert r.root.exit_code == 0, r.stderr
        return r.started, r.messages[0]

    (how, fresh), (how_a, forked), (how_b, again) = (
        probe(),
        probe(preload=("numpy",)),
        probe(preload=("numpy",), env={"TF_NUM_INTRAOP_THREADS": "1"}),
    )
    assert how == "started fresh" and how_a == how_b == "forked from a template"
    names = [name for name, _ in LIKE_FRESH]
    assert set(names) <= set(fresh), "an entry of the contract that the probe does not observe"
    for name in set(fresh) - {"seeds", "pid", "t"}:
        assert forked[name] == fresh[name], (
            f"{name}: forked {forked[name]!r}, fresh {fresh[name]!r}"
        )
    assert again["environment"]["TF_NUM_INTRAOP_THREADS"] == "1"
    assert len({tuple(p["seeds"]) for p in (fresh, forked, again)}) == 3, "shared random state"
