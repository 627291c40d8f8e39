"""`python -m fitscope report`: every claim measured in quick mode, each row decided by its rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fitscope import verdicts
from fitscope.instrument.errors import FitscopeInputError
from fitscope.lessons import backends
from fitscope.scorecard import measure_scorecard, scorecard_from_json, scorecard_in_sandbox

VERDICTS = {verdicts.HOLDS, verdicts.DOES_NOT_HOLD, verdicts.DEPENDS, verdicts.INCONCLUSIVE}


def _report(*args: str, json_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fitscope", "report", "--json", str(json_path), *args],
        env={**os.environ, "FITSCOPE_QUICK": "1"},
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "card.json"
    run = _report(json_path=path)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout, path.read_text()


def test_every_claim_has_one_row_with_its_evidence(card):
    _, text = card
    data = json.loads(text)
    assert [r["id"] for r in data["rows"] if not r["backend"]] == [f"C{i}" for i in range(1, 12)]
    by_backend = [(r["id"], r["backend"]) for r in data["rows"] if r["backend"]]
    installed = [backends.LABELS[b] for b in backends.BACKENDS if backends.is_installed(b)]
    assert sorted(by_backend) == sorted((c, b) for c in ("C1", "C12") for b in installed)
    assert data["backends_not_installed"] == [
        b for b in backends.BACKENDS if not backends.is_installed(b)
    ]
    for row in data["rows"]:
        assert row["verdict"] in VERDICTS and row["because"] and row["evidence"], row["id"]
        assert row["claim"] == verdicts.CLAIMS[row["id"]].text
    assert data["budget"] > 0 and data["environment"]["versions"]


def test_each_verdict_is_the_rule_applied_to_its_own_evidence(card):
    _, text = card
    for v in scorecard_from_json(text):
        assert verdicts.rejudge(v) == v, v.claim_id


def test_the_printed_table_names_every_claim_and_the_budget(card):
    stdout, _ = card
    assert "Scorecard (B = " in stdout
    for i in range(1, 13):
        assert f"\nC{i} " in stdout


def test_intra_op_threads_reach_the_tensorflow_parts(tmp_path):
    path = tmp_path / "card.json"
    run = _report("--intra-op", "1", "--parts", "generator", json_path=path)
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads(path.read_text())
    c3 = next(r for r in data["rows"] if r["id"] == "C3")
    assert c3["evidence"]["threads_free"] is False, (
        "one intra-op thread should reach the measuring process"
    )
    assert data["intra_op_threads"] == 1
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ


def test_bad_settings_are_one_sentence():
    with pytest.raises(FitscopeInputError):
        scorecard_in_sandbox(intra_op_threads=0)
    with pytest.raises(FitscopeInputError):
        measure_scorecard(parts=("everything",))
