"""The scorecard reuses this machine's own earlier verdicts only under the same conditions."""

from __future__ import annotations

import pytest

from fitscope import scorecard as report
from fitscope import verdicts
from fitscope.verdicts import evidence


@pytest.fixture(autouse=True)
def evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FITSCOPE_EVIDENCE", str(tmp_path))
    return tmp_path


def _card() -> verdicts.Scorecard:
    return verdicts.Scorecard([verdicts.c9(["ab", "ab"])])


def test_kept_verdicts_come_back_with_where_and_when_they_were_measured():
    assert evidence.load("distributed") is None
    assert evidence.keep("distributed", _card(), "notebook 04") == _card()
    kept = evidence.load("distributed")
    assert kept.verdicts == _card() and kept.source == "notebook 04"
    assert kept.origin().startswith("notebook 04 at ") and kept.origin().endswith(" UTC")


def test_kept_verdicts_are_stale_when_the_conditions_differ(monkeypatch):
    evidence.keep("distributed", _card(), "notebook 04")
    now = evidence.conditions()
    monkeypatch.setattr(evidence, "conditions", lambda: {**now, "budget": now["budget"] + 1})
    assert evidence.load("distributed") is None
    monkeypatch.setattr(evidence, "conditions", lambda: {**now, "versions": {"tensorflow": "0.0"}})
    assert evidence.load("distributed") is None


def test_kept_verdicts_are_stale_when_todays_rule_reads_their_evidence_otherwise(evidence_folder):
    """A verdict kept by an older fitscope, whose rule or wording has changed since."""
    evidence.keep("distributed", _card(), "notebook 04")
    (path,) = evidence_folder.glob("distributed-*.json")
    path.write_text(path.read_text().replace('"verdict": "DOES NOT HOLD"', '"verdict": "HOLDS"'))
    assert evidence.load("distributed") is None


def test_another_intra_op_setting_or_mode_is_other_evidence(monkeypatch):
    evidence.keep("distributed", _card(), "notebook 04")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    assert evidence.load("distributed") is None
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    assert evidence.load("distributed") is not None
    monkeypatch.setenv("FITSCOPE_QUICK", "0" if evidence.conditions()["quick_mode"] else "1")
    assert evidence.load("distributed") is None


def test_the_scorecard_measures_only_what_is_missing_and_fresh_measures_all(monkeypatch):
    measured = []

    def part(say):
        measured.append("distributed")
        return [verdicts.c9(["cd", "cd"])]

    monkeypatch.setitem(report.PARTS, "distributed", part)
    evidence.keep("distributed", _card(), "notebook 04")
    said = []
    card = report.measure_scorecard(said.append, ("distributed",))
    assert measured == [] and card == _card() and card.sources[0].startswith("notebook 04 at ")
    assert "not measured again" in said[0]
    assert card.table().rows[0][-1] == card.sources[0]
    fresh = report.measure_scorecard(said.append, ("distributed",), fresh=True)
    assert measured == ["distributed"] and fresh.sources == ["measured now"]
    assert evidence.load("distributed").source == "the scorecard"  # kept for next time
    back = report.scorecard_from_json(report.scorecard_to_json(fresh))
    assert back == fresh and back.sources == ["measured now"]
