"""Per-thread CPU clocks, the background sampler, and process memory."""

from __future__ import annotations

import os
import threading
import time

from fitscope.instrument.sampling import (
    Sampler,
    rss_bytes,
    thread_cpu_ns,
    thread_ids,
    tree_memory_bytes,
)


def _spin(seconds: float, out: dict) -> None:
    out["tid"] = threading.get_native_id()
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_thread_clock_matches_the_threads_own_clock():
    me = threading.get_native_id()
    a = thread_cpu_ns(me)
    own = time.thread_time_ns()
    b = thread_cpu_ns(me)
    assert a <= own <= b
    assert me in thread_ids()
    assert thread_cpu_ns(2**22 + 12345) is None  # no such thread


def test_sampler_attributes_a_busy_thread_to_its_own_id():
    out: dict = {}
    with Sampler(interval_s=0.01) as s:
        t = threading.Thread(target=_spin, args=(0.3, out))
        t.start()
        t.join()
    busy = s.samples.cpu_s(out["tid"])
    assert 0.25 <= busy <= 0.4
    others = {tid: v for tid, v in s.samples.by_thread_s().items() if tid != out["tid"]}
    assert busy > max(others.values())
    assert s.samples.sampler_tid not in s.samples.by_thread_s()
    assert len(s.samples.t_ns) >= 5 and s.samples.peak_memory_bytes > 0


def test_memory_counts_this_process():
    assert rss_bytes(os.getpid()) > 10 * 2**20
    assert os.getpid() in tree_memory_bytes()
    assert rss_bytes(2**22 + 12345) == 0


def test_without_proc_there_are_no_thread_ids(monkeypatch):
    import fitscope.instrument.sampling as sampling

    def missing(path):
        raise FileNotFoundError(path)

    monkeypatch.setattr(sampling.os, "listdir", missing)
    assert sampling.thread_ids() == []
    with Sampler(interval_s=0.01) as s:
        time.sleep(0.03)
    assert s.samples.by_thread_s() == {}
