"""CPU budget from affinity and cgroup quotas (v1 and v2 fixtures), and the ideal bounds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitscope.instrument.bounds import bounds, overlapped_bound, sequential_bound
from fitscope.instrument.budget import cgroup_quota, cpu_budget


def _v2(tmp_path, rel, files):
    (tmp_path / "cgroup").write_text(f"0::{rel}\n")
    for sub, content in files.items():
        d = tmp_path / "fs" / sub.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        (d / "cpu.max").write_text(content)
    return tmp_path / "cgroup", tmp_path / "fs"


def _v1(tmp_path, controller, rel, quota, period=100000):
    (tmp_path / "cgroup").write_text(
        f"12:memory:{rel}\n4:{controller}:{rel}\n1:name=systemd:{rel}\n"
    )
    d = tmp_path / "fs" / controller / rel.lstrip("/")
    d.mkdir(parents=True)
    (d / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (d / "cpu.cfs_period_us").write_text(f"{period}\n")
    return tmp_path / "cgroup", tmp_path / "fs"


def test_v2_quota_like_binder(tmp_path):
    proc, fs = _v2(
        tmp_path, "/user.slice/pod", {"/user.slice/pod": "100000 100000\n", "/": "max 100000\n"}
    )
    assert cgroup_quota(proc, fs) == (1.0, 2)
    b = cpu_budget(proc, fs, affinity=16)
    assert b.cpus == 1.0 and b.source == "cgroup v2 CPU quota"
    assert b.describe().startswith("B = 1 CPU (")


def test_v2_unlimited_and_a_tighter_parent(tmp_path):
    proc, fs = _v2(tmp_path, "/a/b", {"/a/b": "max 100000", "/a": "150000 100000"})
    assert cgroup_quota(proc, fs) == (1.5, 2)
    assert cpu_budget(proc, fs, affinity=1).cpus == 1.0  # affinity is the tighter limit
    (tmp_path / "x").mkdir()
    proc, fs = _v2(tmp_path / "x", "/", {"/": "max 100000"})
    assert cgroup_quota(proc, fs) == (None, 2)


def test_v1_quota_and_no_quota(tmp_path):
    proc, fs = _v1(tmp_path, "cpu,cpuacct", "/docker/abc", 50000)
    assert cgroup_quota(proc, fs) == (0.5, 1)
    assert cpu_budget(proc, fs, affinity=4).cpus == 0.5
    (tmp_path / "y").mkdir()
    proc, fs = _v1(tmp_path / "y", "cpu", "/", -1)
    assert cgroup_quota(proc, fs) == (None, 1)
    assert cpu_budget(proc, fs, affinity=3).cpus == 3.0


def test_a_hybrid_host_reads_the_v1_quota_beside_an_empty_v2_line(tmp_path):
    proc, fs = _v1(tmp_path, "cpu", "/fitscope-test", 100000)
    proc.write_text("4:cpu:/fitscope-test\n2:cpuacct:/\n0::/\n")  # v1 controllers, unified v2 too
    (fs / "cpu.max").write_text("max 100000\n")
    assert cgroup_quota(proc, fs) == (1.0, 1)
    assert cpu_budget(proc, fs, affinity=2).describe().startswith("B = 1 CPU")


def test_no_cgroup_file_means_affinity_only(tmp_path):
    b = cpu_budget(tmp_path / "missing", tmp_path, affinity=2)
    assert (b.cpus, b.quota, b.cgroup_version) == (2.0, None, None)


def test_this_machine_has_a_positive_budget():
    b = cpu_budget()
    assert 0 < b.cpus <= b.affinity


def test_bounds_by_hand():
    assert sequential_bound(2.0, 3.0) == 5.0
    # producer split over 4 workers but only 2 CPUs
    assert overlapped_bound(8.0, 1.0, workers=4, budget=2.0) == 4.0
    # all CPU-bound on one CPU: no overlap is possible, the bound is the sum
    assert overlapped_bound(2.0, 3.0, 1, 1.0, cpu_p=2.0, cpu_c=3.0) == 5.0
    b = bounds(1.0, 1.0, budget=2.0)
    assert b.efficiency(2.0) == 0.5 and math.isnan(b.efficiency(0))
    with pytest.raises(ValueError):
        overlapped_bound(1, 1, workers=0)


times = st.floats(0, 1e4, allow_nan=False)


@given(times, times, st.integers(1, 64), st.floats(0.1, 64))
def test_overlapped_never_beats_any_single_limit(t_p, t_c, workers, budget):
    b = overlapped_bound(t_p, t_c, workers, budget, cpu_p=t_p, cpu_c=t_c)
    assert b >= t_c and b >= t_p / min(workers, budget) - 1e-9
    assert b >= (t_p + t_c) / budget - 1e-9
    if budget >= 1 and workers == 1:
        assert b <= sequential_bound(t_p, t_c) + 1e-9


@given(times, times, st.integers(1, 64), st.floats(0.1, 64), times, times)
def test_the_overlap_bound_never_exceeds_one_after_the_other(
    t_p, t_c, workers, budget, cpu_p, cpu_c
):
    """CPU seconds over wall (a burst under a quota) must not make overlap look slower."""
    b = bounds(t_p, t_c, workers, budget, cpu_p, cpu_c)
    assert b.overlapped_s <= b.sequential_s
