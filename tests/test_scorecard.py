"""`python -m fitscope report`: every claim measured in quick mode, each row decided by its rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from fitscope import verdicts
from fitscope.instrument.errors import FitscopeInputError
from fitscope.lessons import backends
from fitscope.scorecard import (
    _one_row_each,
    measure_scorecard,
    scorecard_from_json,
    scorecard_in_sandbox,
    scorecard_to_json,
)
from fitscope.verdicts import evidence

# 03's case: parallel map x1.26 for NumPy (undecided by C11's rule), x1.09 for pure Python.
NUMPY_PYTHON = (
    verdicts.compare([1.26, 1.3], [1.0, 1.02]),
    verdicts.compare([1.09, 1.1], [1.0, 1.02]),
)

VERDICTS = {
    verdicts.HOLDS,
    verdicts.DOES_NOT_HOLD,
    verdicts.DEPENDS,
    verdicts.INCONCLUSIVE,
    verdicts.NOT_APPLICABLE,
}
PER_BACKEND = ("C1", "C6", "C12")
REF = re.compile(
    r"(C\d+) on ([A-Za-z]+): (HOLDS|DOES NOT HOLD|DEPENDS|INCONCLUSIVE|NOT APPLICABLE)"
)


def _refs_match_rows(data: dict) -> None:
    """Every row the answer and the checklist cite exists, with the verdict they quote."""
    rows = {(r["id"], r["backend"]): r["verdict"] for r in data["rows"]}
    cited = [m for line in data["answer"] + data["checklist"] for m in REF.findall(line)]
    assert cited and data["checklist"]
    for cid, backend, verdict in cited:
        assert rows[cid, backend] == verdict, (cid, backend)


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


def test_every_claim_has_one_row_per_backend_with_its_evidence(card):
    _, text = card
    data = json.loads(text)
    once = [r["id"] for r in data["rows"] if r["id"] not in PER_BACKEND]
    # The article's advice (A1) is measured only by notebook 05: its row is there when 05 has
    # kept its verdict on this machine (the notebook tests run 05 before this file).
    advice = ["A1"] if evidence.load("images") is not None else []
    assert once == [f"C{i}" for i in range(2, 12) if f"C{i}" not in PER_BACKEND] + advice
    by_backend = [(r["id"], r["backend"]) for r in data["rows"] if r["id"] in PER_BACKEND]
    installed = [backends.LABELS[b] for b in backends.BACKENDS if backends.is_installed(b)]
    assert sorted(by_backend) == sorted((c, b) for c in PER_BACKEND for b in installed)
    assert data["backends_not_installed"] == [
        b for b in backends.BACKENDS if not backends.is_installed(b)
    ]
    for row in data["rows"]:
        assert row["verdict"] in VERDICTS and row["because"] and row["evidence"], row["id"]
        claim = verdicts.CLAIMS.get(row["id"]) or verdicts.ADVICE[row["id"]]
        assert row["claim"] == claim.text and row["backend"]
    assert data["budget"] > 0 and data["environment"]["versions"]
    claims = 12 + len(advice)
    assert data["tally"].startswith(f"Of these {len(data['rows'])} rows ({claims} claims")
    _refs_match_rows(data)


def test_each_verdict_is_the_rule_applied_to_its_own_evidence(card):
    _, text = card
    for v in scorecard_from_json(text):
        assert verdicts.rejudge(v) == v, v.claim_id


def test_the_printed_table_names_every_claim_and_the_budget(card):
    stdout, _ = card
    assert "Scorecard (B = " in stdout and "\nOf these " in stdout
    assert "For your own training:" in stdout
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


def test_a_part_with_no_evidence_is_named_not_measured_when_asked(monkeypatch):
    """04's scorecard cell took 18-43 s in default mode when 01b had not run: it measured every
    Keras backend again. With ``missing="name"`` it names the notebook instead."""
    from fitscope import scorecard

    def never(say):
        raise AssertionError("a missing part was measured")

    monkeypatch.setattr(evidence, "load", lambda part: None)
    monkeypatch.setitem(scorecard.PARTS, "backends", never)
    said: list[str] = []
    card = measure_scorecard(said.append, ("backends",), missing="name")
    assert len(card) == 0 and "run notebook 01b" in said[0] and "--parts backends" in said[0]
    assert card.check().ok and str(card.answer())  # an empty card reads and checks
    with pytest.raises(FitscopeInputError):
        measure_scorecard(parts=("backends",), missing="skip")


def _made_up_rows():
    part = dict(
        name="waiting", measured_s=1.9, sequential_s=2.0, overlapped_s=1.0, pure_python=False
    )
    return [
        (verdicts.c1(0, 98, 2, 2, 2), "TensorFlow", "notebook 01"),  # in the kernel: no backend
        (verdicts.c6(10, 10, 0, 10, 2), "TensorFlow", "notebook 01"),
        (verdicts.c3(1.6, 2, True, 30, 1.8), "TensorFlow", "notebook 01"),
        (verdicts.c1(0, 30, 2, 2, 2, backend="TensorFlow"), "TensorFlow", "notebook 01b"),
        (
            verdicts.c6(9, 10, 0, 10, 2, backend="TensorFlow", callback_threads=2),
            "TensorFlow",
            "notebook 01b",
        ),
        (
            verdicts.c12("TensorFlow", [part], 2, 20, next_on_main=(0, 30)),
            "TensorFlow",
            "notebook 01b",
        ),
        (verdicts.c1(30, 30, 2, 2, 2, backend="JAX"), "JAX", "notebook 01b"),
        (verdicts.c12("JAX", [part], 2, 20, next_on_main=(30, 30)), "JAX", "notebook 01b"),
        (verdicts.c11(*NUMPY_PYTHON, 2), "TensorFlow", "notebook 03"),
        (verdicts.c9(["a", "b"]), "TensorFlow", "notebook 04"),
    ]


def test_one_row_per_claim_and_backend_a_right_tally_and_an_answer_from_the_rows():
    card = _one_row_each(_made_up_rows())
    keys = list(zip([v.claim_id for v in card], card.backends))
    assert len(keys) == len(set(keys)) == 8
    assert keys[:3] == [("C1", "TensorFlow"), ("C1", "JAX"), ("C3", "TensorFlow")]
    c6 = card[keys.index(("C6", "TensorFlow"))]
    assert c6.evidence["backend"] == "TensorFlow"  # the per-backend row stays
    assert card.sources[keys.index(("C6", "TensorFlow"))].endswith("(notebook 01 found HOLDS)")
    assert verdicts.tally(card) == (
        "Of these 8 rows (6 claims, some judged once per backend): "
        "2 HOLDS, 3 DOES NOT HOLD, 2 INCONCLUSIVE, 1 NOT APPLICABLE."
    )
    table = card.table()
    assert table.columns[:2] == ("id", "backend") and table.reading == verdicts.tally(card)
    data = json.loads(scorecard_to_json(card))
    _refs_match_rows(data)
    assert "true on JAX, not on TensorFlow" in data["answer"][0]
    back = scorecard_from_json(scorecard_to_json(card))
    assert back == card and back.backends == card.backends and back.sources == card.sources
    assert "For your own training" in card._repr_html_()


def test_an_undecided_row_is_never_an_answer():
    card = _one_row_each([(verdicts.c1(1, 3, 2, 2, 2, backend="JAX"), "JAX", "notebook 01b")])
    said = card.answer()
    assert "undecided on JAX" in said.sentences[0]
    assert (
        said.checklist[-1].startswith("Undecided here")
        and "C1 on JAX: INCONCLUSIVE" in (said.checklist[-1])
    )
