"""Quick mode, pins read from the package metadata, memory limits, the environment line."""

from __future__ import annotations

from conftest import ROOT

from fitscope.instrument import environment as envmod


def test_quick_mode_follows_the_variable(monkeypatch):
    monkeypatch.setenv("FITSCOPE_QUICK", "1")
    assert envmod.quick_mode()
    monkeypatch.setenv("FITSCOPE_QUICK", "0")
    assert not envmod.quick_mode()
    monkeypatch.delenv("FITSCOPE_QUICK")
    assert not envmod.quick_mode()


def test_pins_come_from_requirements_txt():
    pins = envmod.pinned_versions()
    text = (ROOT / "requirements.txt").read_text()
    assert f"keras=={pins['keras']}" in text
    assert f"tensorflow-cpu=={pins['tensorflow-cpu']}" in text
    assert envmod.version_mismatches() == []  # the venv make test builds is the pinned one


def test_memory_limit_from_cgroup_files(tmp_path):
    (tmp_path / "memory.max").write_text("max\n")
    assert envmod.memory_limit_bytes(tmp_path) is None
    (tmp_path / "memory.max").write_text(f"{2 * 2**30}\n")
    assert envmod.memory_limit_bytes(tmp_path) == 2 * 2**30


def test_environment_line_names_versions_budget_and_mode(monkeypatch):
    monkeypatch.setenv("FITSCOPE_QUICK", "1")
    env = envmod.environment_facts()
    line = envmod.environment_line(env)
    assert f"Python {env['python']}" in line and "B = " in line and "quick mode" in line
    env["mismatches"] = ["keras 3.0.0 (pinned 3.15.1)"]
    assert "differs from the pinned versions" in envmod.environment_line(env)
