"""Nothing outlives its kernel: kill -9 a real kernel mid-run, and every sandboxed process goes.

For each kind of sandboxed run, a fresh IPython kernel starts the run through
:func:`fitscope.isolation.sandbox.run_python` (the scripts are the notebooks' ``%%writefile``
cells, driven by their command lines as the lessons drive them), the test waits until the run's
processes are up, sends SIGKILL to the kernel and then checks, for 5 s at most, that every process
of the run is gone (none left running, zombies do not count) and that no /dev/shm entry the run's
processes had mapped at the kill is left. The time from the kill to the last process gone is
appended to artefacts/kernel_death.jsonl, with the count of other new, unmapped /dev/shm entries:
other engineers' and other tests' runs create and remove such entries at the same time, so those
cannot be told apart from ours and are only logged.
"""

from __future__ import annotations

import json
import os
import signal
import time

import psutil
import pytest
from conftest import ROOT

from fitscope.isolation.reaper import session_members, shm_entries

pytestmark = pytest.mark.kernel

DEADLINE_S = 5.0
LOG = ROOT / "artefacts" / "kernel_death.jsonl"

PYDATASET_PROCESSES = """
import multiprocessing as mp, sys, time
import numpy as np
import keras


class Slow(keras.utils.PyDataset):
    def __len__(self):
        return 100_000

    def __getitem__(self, i):
        time.sleep(0.01)
        return np.zeros((8, 4), "float32"), np.zeros((8, 1), "float32")


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1], force=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(Slow(workers=2, use_multiprocessing=True), epochs=1, verbose=0)
"""

# kind -> (the notebook cell's script, or sandboxed code; its arguments; processes under the run's
# root before the kill)
TRAINER = ("02_multiprocessing_trainer.ipynb", "article_trainer.py")
RUNS = {
    "article trainer, fork": (TRAINER, ["--start-method", "fork"], 1),  # the producer
    "article trainer, spawn": (TRAINER, ["--start-method", "spawn"], 2),
    "article trainer, forkserver": (TRAINER, ["--start-method", "forkserver"], 2),
    "multi-worker workers": (
        ("04_beyond_one_process.ipynb", "multiworker.py"),
        ["launch", "--workers", "2", "--steps", "100000"],
        2,
    ),
    "tf.data service processes": (
        ("04_beyond_one_process.ipynb", "data_service.py"),
        ["processes", "--elements", "100000"],
        3,
    ),
    "PyDataset process workers": (PYDATASET_PROCESSES, ["forkserver"], 3),
    "article trainer, spawn, forked from the template": (TRAINER, ["--start-method", "spawn"], 2),
}


def _kernel_code(kind: str) -> str:
    code, args, _ = RUNS[kind]
    preload = ("tensorflow", "keras") if "template" in kind else ()
    run = f"args={args!r}, timeout_s=600, memory_cap_mb=6000, preload={preload!r})"
    if isinstance(code, str):
        return f"from fitscope.isolation import run_python\nrun_python(code={code!r}, {run}\n"
    return (
        "from fitscope.isolation import run_python\n"
        "from fitscope.isolation.scripts import script_file\n"
        f"with script_file(None, *{code!r}) as path:\n"
        f"    run_python(path, {run}\n"
    )


def _live(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _shm_inodes(pids: set[int]) -> set[int]:
    """Inodes of the /dev/shm files these processes map (by inode: glibc maps a temporary name)."""
    inodes = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                inodes |= {int(line.split()[4]) for line in f if "/dev/shm/" in line}
        except (OSError, ValueError, IndexError):
            continue
    return inodes


def _entries_with(inodes: set[int]) -> set[str]:
    found = set()
    for path in shm_entries():
        try:
            if os.stat(path).st_ino in inodes:
                found.add(path)
        except OSError:
            continue
    return found


def _unmapped_new_shm(before: set[str]) -> set[str]:
    new = shm_entries() - before
    mapped = _shm_inodes({p.pid for p in psutil.process_iter()}) if new else set()
    return {path for path in new if path not in _entries_with(mapped)}


def _children(pid: int, reaper: bool, recursive: bool = False) -> set[int]:
    """Live children of ``pid`` that are (or are not) the sandbox's reaper."""
    found = set()
    for c in psutil.Process(pid).children(recursive=recursive):
        try:
            if ("reaper.py" in " ".join(c.cmdline())) == reaper:
                found.add(c.pid)
        except psutil.Error:
            continue
    return found


def _wait_for_run(kernel_pid: int, at_least: int, timeout_s: float = 240) -> tuple[int, set[int]]:
    """(the run's root pid, every process of the run) once ``at_least`` processes are under the
    root."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for root in _children(kernel_pid, reaper=False, recursive=True):  # or the template's
            if len(session_members(root) - {root}) >= at_least:
                time.sleep(0.5)  # mid-run, not at the very first fork
                return root, session_members(root) | {root}
        time.sleep(0.1)
    raise AssertionError(f"the run did not reach {at_least} processes in {timeout_s} s")


@pytest.mark.parametrize("kind", RUNS)
def test_killing_the_kernel_leaves_no_process_and_no_shm_entry(kind, jupyter_path):
    from jupyter_client.manager import start_new_kernel

    quick = "0" if kind == "tf.data service processes" else "1"
    km, kc = start_new_kernel(
        kernel_name="python3",
        env={**os.environ, "FITSCOPE_QUICK": quick, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    run: set[int] = set()
    reaper: set[int] = set()
    try:
        kernel_pid = km.provisioner.pid
        shm_before = shm_entries()
        kc.execute(_kernel_code(kind))
        sid, run = _wait_for_run(kernel_pid, RUNS[kind][2])
        run |= _children(kernel_pid, reaper=False) - {sid}  # the template, if any, goes too
        reaper = _children(kernel_pid, reaper=True)
        ours = _shm_inodes(run)
        assert len(reaper) == 1, "the sandbox started no reaper"
        os.kill(kernel_pid, signal.SIGKILL)
        killed = time.monotonic()
        left = run
        while time.monotonic() - killed < DEADLINE_S:
            left = {p for p in run | session_members(sid) if _live(p)}
            if not left:
                break
            time.sleep(0.01)
        gone_s = time.monotonic() - killed
        shm_left = _entries_with(ours)
        while shm_left and time.monotonic() - killed < DEADLINE_S:
            time.sleep(0.05)
            shm_left = _entries_with(ours)
        LOG.parent.mkdir(exist_ok=True)
        with LOG.open("a") as log:
            log.write(
                json.dumps(
                    {
                        "kind": kind,
                        "processes": len(run),
                        "last_gone_s": round(gone_s, 3),
                        "survivors": len(left),
                        "shm_mapped_at_kill": len(ours),
                        "shm_left": len(shm_left),
                        "other_unmapped_new_shm": len(_unmapped_new_shm(shm_before)),
                    }
                )
                + "\n"
            )
        assert not left, (
            f"{len(left)} of {len(run)} processes outlived the kernel by {DEADLINE_S} s"
        )
        reaper_state = {pid: (_live(pid) and psutil.Process(pid).status()) for pid in reaper}
        assert not shm_left, (
            f"left in /dev/shm: {sorted(shm_left)}; reaper (pid: state) {reaper_state}"
        )
        time.sleep(0.3)
        assert not any(_live(p) for p in reaper), "the reaper did not exit after its work"
    finally:
        for pid in run | reaper:  # never leave this test's processes behind, even when it fails
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        kc.stop_channels()
        km.shutdown_kernel(now=True)
