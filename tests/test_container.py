"""fitscope.instrument.container: cpu.stat found and read (v1 and v2), and TensorFlow's pools under
a real quota."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cgroup_limits import CgroupUnavailable, ContainerLimits

from fitscope.instrument.container import Throttling, cpu_stat_path, throttling

V1 = "4:memory:/a\n2:cpu,cpuacct:/box\n0::/\n"
V2 = "0::/box\n"


def test_cpu_stat_is_found_on_cgroup_v1_even_beside_a_v2_line(tmp_path):
    (tmp_path / "cpu,cpuacct" / "box").mkdir(parents=True)
    (tmp_path / "cpu,cpuacct" / "box" / "cpu.stat").write_text(
        "nr_periods 50\nnr_throttled 20\nthrottled_time 1500000000\n"
    )
    (tmp_path / "cpu.stat").write_text("usage_usec 1\n")  # a v2 root without the cpu controller
    proc = tmp_path / "cgroup"
    proc.write_text(V1)
    path = cpu_stat_path(proc, tmp_path)
    assert path == tmp_path / "cpu,cpuacct" / "box" / "cpu.stat"
    assert throttling(path) == Throttling(50, 20, 1.5)


def test_cpu_stat_on_cgroup_v2_and_without_a_cpu_controller(tmp_path):
    (tmp_path / "box").mkdir()
    proc = tmp_path / "cgroup"
    proc.write_text(V2)
    (tmp_path / "box" / "cpu.stat").write_text("usage_usec 10\nuser_usec 5\nsystem_usec 5\n")
    path = cpu_stat_path(proc, tmp_path)
    assert path == tmp_path / "box" / "cpu.stat"
    assert throttling(path) is None  # no cpu controller: no CFS counters
    path.write_text("usage_usec 10\nnr_periods 7\nnr_throttled 3\nthrottled_usec 250000\n")
    assert throttling(path) == Throttling(7, 3, 0.25)
    assert Throttling(7, 3, 0.25) - Throttling(2, 1, 0.05) == Throttling(5, 2, 0.2)


MEASURE = """
import json
from fitscope.instrument.container import pool_use
u = pool_use(seconds=2.0, size=384)
print(json.dumps({"busy": u.busy_threads, "cpus_used": u.cpus_used, "visible": u.visible_cores,
                  "throttled": u.throttled and u.throttled.__dict__, "text": u.describe()}))
"""


@pytest.mark.kernel
def test_tensorflow_sizes_its_pools_for_the_host_and_the_quota_caps_it():
    """Under a 1-CPU quota the process still sees every core and TF still spreads its matmuls over
    several threads, but it never gets more than the quota (measured CPU <= 1 CPU, with slack for
    the 10 ms granularity of thread clocks at the edges)."""
    try:
        limits = ContainerLimits(cpus=1.0)
        limits.__enter__()
    except CgroupUnavailable as e:
        pytest.skip(str(e))
    try:
        run = subprocess.run(
            [*limits.prefix(), sys.executable, "-c", MEASURE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        facts = json.loads(run.stdout.strip().splitlines()[-1])
        stats = limits.stats()
    finally:
        limits.__exit__()
    assert facts["visible"] >= 1 and facts["busy"] >= 1
    assert facts["cpus_used"] <= 1.1, facts["text"]
    assert facts["throttled"] is not None and facts["throttled"]["periods"] > 0, facts["text"]
    assert stats["oom_kills"] in (0, None)
    print(facts["text"], stats)


def test_without_a_cgroup_filesystem_the_limits_say_why(monkeypatch, tmp_path):
    import cgroup_limits

    monkeypatch.setattr(cgroup_limits, "ROOT", tmp_path)  # an empty folder: no controllers mounted
    with pytest.raises(CgroupUnavailable, match="cgroup"):
        ContainerLimits().__enter__()
    assert list(tmp_path.iterdir()) == []  # nothing half-made is left
