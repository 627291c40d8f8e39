"""Every reading follows from its numbers: the consistency check fails on made-up results that
over-claim and passes on honest ones. tests/test_notebooks.py runs it on every executed notebook.
"""

from __future__ import annotations

import json

import pytest

from fitscope import verdicts
from fitscope.instrument.tables import Stack, Table
from fitscope.verdicts import consistency
from fitscope.verdicts.claims import PartEvidence
from fitscope.verdicts.quantities import one_run_readings, quantity_fact, same_value

# 03's case: parallel map x1.26 for NumPy (undecided by C11's rule), x1.09 for pure Python.
NUMPY_PYTHON = (
    verdicts.compare([1.26, 1.3], [1.0, 1.02]),
    verdicts.compare([1.09, 1.1], [1.0, 1.02]),
)


@pytest.mark.parametrize(
    "reading",
    [
        "x0.71 (179.6 → 127.7 per s): little or no gain, under the x1.15 a real gain needs.",
        "4 workers: x0.93, a gain over 2 workers.",
        "x1.02 faster (0.51 → 0.50 s, one run each)",
        "prefetch 0.56 s (bound 0.46, 119% efficient).",
        "Fastest here: cache: 0.31 s measured against an ideal 0.20 s.",
        "C4 DEPENDS: sleeping: 1.50 s (INCONCLUSIVE); python: 1.95 s (DOES NOT HOLD); B = 2.",
        "C11 HOLDS: x1.26 for GIL-releasing work (INCONCLUSIVE), x1.09 for Python (INCONCLUSIVE).",
        # 01b's review: a share of the bound is never printed below 0 or above 100 %
        "each reached this share of its own possible saving: TensorFlow \u2212102 %, JAX 362 %.",
        "JAX 126 % of its possible saving (0.30 s; 0.45 s ideal, 0.79 s one after the other).",
        "sleeping: -59 % of the possible saving, inside the noise",
    ],
)
def test_an_over_claiming_reading_fails(reading):
    assert consistency.check_reading(reading), reading
    assert not consistency.check(reading).ok


@pytest.mark.parametrize(
    "reading",
    [
        "29 % slower (179.6 → 127.7 per s, one run each)",
        "x1.39 faster (0.500 → 0.360 s, medians of 3)",
        "no measurable difference: inside the spread (x1.02; 0.500 → 0.490 s, medians of 3)",
        "x1.06 (261.3 → 277.0 per s): little or no gain, under the x1.15 a real gain needs.",
        "no run is fastest: 'a' and 'b' cannot be told apart, no measurable difference",
        "'b' is fastest: x1.54 faster than 'c', the next best (0.810 → 0.525 s, medians of 2)",
        "prefetch: 0.56 s, 82 % of the ideal bound",
        "C4 DOES NOT HOLD: sleeping: 1.50 s (INCONCLUSIVE); python: 1.95 s (DOES NOT HOLD); B = 2.",
        "JAX 12 % of its possible saving (0.750 s; 0.450 s ideal, 0.790 s one after the other).",
        "TensorFlow slower than one after the other by 0.11 s (0.90 s against 0.79 s).",
    ],
)
def test_a_reading_that_follows_from_its_numbers_passes(reading):
    assert consistency.check_reading(reading) == []


def test_the_rules_own_readings_pass():
    made = [
        verdicts.compare([179.6], [127.7], unit="per s"),
        verdicts.compare([0.5, 0.52], [0.36, 0.37]),
        verdicts.fastest({"a": [1.0, 1.1], "b": [0.5, 0.55]}),
        verdicts.fastest({"a": [1.0, 1.1], "b": [1.05, 1.0]}),
        verdicts.c4(
            PartEvidence("sleeping", 1.5, 2.0, 1.0), PartEvidence("python", 1.95, 2.0, 1.0), 2
        ),
        verdicts.c11(*NUMPY_PYTHON, 2),
        verdicts.c11(*NUMPY_PYTHON, 1),
        verdicts.c12(
            "JAX",
            [
                dict(
                    name="waiting",
                    measured_s=0.7,
                    sequential_s=2.0,
                    overlapped_s=1.0,
                    pure_python=False,
                )
            ],
            2,
            20,
        ),
        verdicts.Scorecard(
            [
                verdicts.c9(["a", "a"]),
                verdicts.c10(
                    verdicts.compare([1.9, 2.0], [1.0, 1.05]),
                    True,
                    verdicts.compare([10, 10.5], [10.4, 10.2], "per s"),
                ),
            ]
        ),
    ]
    result = consistency.check(*made)
    assert result.ok, result.text()
    assert "follows from its numbers" in str(result)


def test_made_up_results_that_over_claim_fail():
    slower = verdicts.compare([179.6], [127.7], unit="per s")
    called_a_gain = {**slower.facts(), "word": verdicts.FASTER, "sentence": "x0.71: a gain"}
    assert consistency.check_facts(called_a_gain)
    close = verdicts.fastest({"a": [1.0, 1.1], "b": [1.05, 1.0]})
    named_anyway = {**close.facts(), "winner": "a", "sentence": "'a' is fastest: x1.02 faster"}
    assert consistency.check_facts(named_anyway)
    sleeping = PartEvidence("sleeping", 1.9, 2.0, 1.0, spread_s=0.6)  # undecided, shows nothing
    honest = verdicts.c4(sleeping, PartEvidence("python", 1.95, 2.0, 1.0), 2)
    from_undecided = verdicts.Verdict("C4", verdicts.DEPENDS, honest.because, honest.evidence)
    assert any(
        "combine to DOES NOT HOLD" in p for p in consistency.check_facts(from_undecided.facts())
    )
    card = verdicts.Scorecard([verdicts.c9(["a", "a"]), verdicts.c9(["a", "a"])])
    wrong = {**card.facts(["TensorFlow", "TensorFlow"]), "tally": "Of these 15 claims: 2 HOLDS."}
    problems = consistency.check_facts(wrong)
    assert any("has 2 rows" in p for p in problems) and any("the tally" in p for p in problems)


def test_a_saved_notebook_is_checked_through_its_outputs(tmp_path):
    honest = verdicts.c11(*NUMPY_PYTHON, 2)
    forged = verdicts.Verdict("C11", verdicts.HOLDS, honest.because, honest.evidence)
    table = Table(["x"], [[1]], reading="prefetch 0.08 s (bound 0.12, 160% efficient).")

    def output(value):
        return {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/plain": str(value), "text/html": value._repr_html_()},
        }

    cells = [
        {"cell_type": "code", "source": "", "outputs": [output(honest)]},
        {"cell_type": "code", "source": "", "outputs": [output(forged), output(table)]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    found = consistency.check_notebook(path)
    assert {p.where for p in found} == {"nb.ipynb, cell 1"}
    assert any("its rule on its evidence gives INCONCLUSIVE" in p.what for p in found)
    assert any("above 100 %" in p.what for p in found)


def test_conjunctions_and_leaning_parts_are_read_by_their_own_rule():
    refuted = verdicts.c5(1.8, 1.51, 2)  # parts HOLDS and DOES NOT HOLD: a conjunction
    jax = verdicts.c6(16, 32, 15, 16, 2, "JAX", 2, begins_on_main=16, overlaps_off_loop=15)
    leaning = verdicts.c4(
        PartEvidence("sleeping", 0.418, 0.64, 0.34, spread_s=0.25),
        PartEvidence("python", 0.63, 0.64, 0.34),
        2,
    )
    assert consistency.check(refuted, jax, leaning).ok
    assert consistency.check_reading(f"C5 DEPENDS: {refuted.because}")
    against = f"C4 DOES NOT HOLD: {leaning.because}"  # decided against what a part shows
    assert any("combine to INCONCLUSIVE" in p for p in consistency.check_reading(against))


OLD_C4 = (
    "C4 DOES NOT HOLD: sleeping generator: 0.42 s against an overlapped bound of 0.34 s and a "
    "sequential sum of 0.64 s (INCONCLUSIVE, between the bounds, near neither); CPU-bound "
    "Python generator: 0.63 s against an overlapped bound of 0.34 s and a sequential sum of "
    "0.64 s (DOES NOT HOLD); B = 2."
)


def test_a_claim_decided_against_what_an_undecided_part_shows_fails():
    found = consistency.check_reading(OLD_C4)  # 04's case: 73 % of the saving, called no overlap
    assert any("an undecided part shows the opposite: sleeping generator" in p for p in found)
    quiet = OLD_C4.replace("0.42 s against", "0.60 s against")  # 13 %: shows nothing
    assert consistency.check_reading(quiet) == []
    faster = "C11 DOES NOT HOLD: numpy: x1.40 faster (INCONCLUSIVE); python: x1.01 (DOES NOT HOLD)"
    assert any("shows the opposite: numpy" in p for p in consistency.check_reading(faster))
    inside = "C11 DOES NOT HOLD: numpy: no measurable difference: inside the spread (x1.40; a) "
    assert consistency.check_reading(inside + "(INCONCLUSIVE); python (DOES NOT HOLD)") == []
    # quick run at eafe539: the two NumPy maps' own costs x1.30 apart: a speed-up shows nothing
    unlike = (
        "C11 DOES NOT HOLD: parallel against sequential: for GIL-releasing work x1.06 faster "
        "(0.131 → 0.124 s, medians of 2) (INCONCLUSIVE: the two runs' own costs of one call, "
        "each timed alone, differ x1.30, more than the x1.15 one run can tell apart: not like "
        "with like, so their times decide nothing); for CPU-bound Python in py_function x1.01 "
        "(DOES NOT HOLD), with B = 2."
    )
    assert consistency.check_reading(unlike) == []
    assert consistency.check_reading(unlike.replace(", so their times decide nothing", ""))


def test_one_quantity_printed_twice_with_two_values_fails(tmp_path):
    def cell(text):
        out = {"output_type": "stream", "name": "stdout", "text": text}
        return {"cell_type": "code", "source": "", "outputs": [out]}

    texts = [
        "The one-device baseline: 63.7 steps/s, one run.",
        "Against it, 82 % slower. The one-device baseline: 75.7 steps/s.",
        "The one-device baseline: 63.70 steps/s again.",  # the same value, more digits
        "On JAX, the step alone: 17.8 ms; on PyTorch, the step alone: 26.2 ms.",
        "Exercise, sleeping generator: 0.42 s; again, sleeping generator: 0.61 s.",  # new work
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell(t) for t in texts]}))
    found = consistency.check_notebook(path)
    assert [p.where for p in found] == ["nb.ipynb, cell 0 and cell 1"]
    assert "63.7 steps/s (cell 0) and 75.7 steps/s (cell 1)" in found[0].what
    same = [("a", "step alone here: 0.42 s"), ("b", "step alone here: 0.4 s")]
    assert consistency.check_quantities(same) == []  # 0.42 rounds to 0.4


def test_a_count_of_more_than_its_whole_is_caught_and_a_fair_count_is_not():
    """01's C6 read '62 of 60 begin callbacks' (the epoch edges counted as begins)."""
    said = "(a) the loop called 62 of 60 begin callbacks on the main thread (DOES NOT HOLD)."
    assert consistency.check_reading(said) == [f"a count of more than its whole: {said}"]
    fair = (
        "0 of the 59 steps after the warm-up; step 3 of 10; 122 of 122 callbacks; 1.5 of 2 CPUs; "
        "after 4 repeats in 10 s of a 12 s budget."
    )
    assert consistency.check_reading(fair) == []


def test_the_advice_decided_against_a_gain_its_spread_swallowed_is_caught():
    """05's reading before the rule was fixed."""
    said = (
        "A1 DOES NOT HOLD: a step in fit, generator against tf.data prefetch: no measurable "
        "difference: inside the spread (x1.45; 0.0299 → 0.0206 s, medians of 3)"
    )
    assert consistency.check_reading(said) == [
        f"A1 DOES NOT HOLD against a speed-up inside the spread (x1.45): {said[18:]}"
    ]
    assert consistency.check_reading(said.replace("x1.45", "x1.05")) == []


def test_a_fastest_refused_for_costs_apart_is_checked_with_those_costs():
    """03's best of each, beside a busy run: 'no run is fastest: their own costs of the same work
    differ x1.16' was read again without the costs and flagged as naming no winner."""
    from fitscope.verdicts.compare import fastest
    from fitscope.verdicts.consistency import check_facts

    refused = fastest({"03": 0.0682, "02": 0.23}, costs={"03": 1.0, "02": 1.16})
    assert refused.winner is None and refused.sentence.startswith("no run is fastest")
    assert check_facts(refused.facts()) == []
    named = {**refused.facts(), "winner": "03"}  # a sentence naming a winner its rule refuses
    assert check_facts(named) != []


def _notebook(tmp_path, *values, name="nb.ipynb"):
    """A saved notebook whose code cells show ``values`` (results or text), one a cell."""

    def output(value):
        if isinstance(value, str):
            return {"output_type": "stream", "name": "stdout", "text": value}
        html = value._repr_html_()
        return {
            "output_type": "display_data",
            "data": {"text/plain": str(value), "text/html": html},
        }

    cells = [{"cell_type": "code", "source": "", "outputs": [output(v)]} for v in values]
    path = tmp_path / name
    path.write_text(json.dumps({"cells": cells}))
    return path


def _diagnosis(share="50%", step_ms="26.8 ms", said_share="50%", said_step="26.8 ms"):
    """A made-up diagnosis as fitscope.diagnose prints it: its table and its sentence."""
    rows = [
        ("input share: median (repeats)", f"{share} (61%, {share}, 37%)"),
        ("step in fit: median (repeats)", f"{step_ms} (26.8 ms, 28.1 ms, 22.5 ms)"),
        ("step alone, batch in memory", "14.1 ms (10.4 ms, 14.1 ms, 14.1 ms)"),
    ]
    reading = (
        f"Highly input-bound on TensorFlow: a step took {said_step} in fit against 14.1 ms with "
        f"its batch held in memory, and the input share was {said_share} (medians of 3 repeats)."
    )
    return Table(["quantity", "measured"], rows, reading=reading, title="fitscope.diagnose")


def test_a_result_printing_its_quantity_once_valued_passes(tmp_path):
    """The table's row and the sentence under it say one value: the same value, or the same
    value rounded (0.669 and 0.67; 0.895 and 0.89, rounded twice; 26.8 ms and 27 ms)."""
    run = Table(
        ["quantity", "measured"],
        [("throughput", "300.8 steps/s"), ("cores busy during training", 0.895)],
        reading="On the TensorFlow backend, training kept 0.89 cores busy at 300.8 steps/s.",
    )
    path = _notebook(tmp_path, _diagnosis(), _diagnosis(said_step="27 ms"), run)
    assert consistency.check_notebook(path).ok
    assert same_value("26.8 ms", "0.0268 s") and same_value("0.669", "0.67")
    assert not same_value("12.3 ms", "14.1 ms") and not same_value("50%", "0.5")


def test_a_result_printing_one_quantity_with_two_values_fails(tmp_path):
    """05's review: the diagnose table quoted one input share and its sentence another."""
    path = _notebook(tmp_path, _diagnosis(), _diagnosis(share="45%"))
    found = consistency.check_notebook(path)
    assert [p.where for p in found] == ["nb.ipynb, cell 1"]
    assert found[0].what == (
        "'input share' of one run printed as 45% (its table's 'input share: median (repeats)') "
        "and 50% (its reading: 'the input share was 50%'): one quantity, two values"
    )
    step = consistency.check_notebook(_notebook(tmp_path, _diagnosis(said_step="23.1 ms")))
    assert ["26.8 ms" in p.what and "23.1 ms" in p.what for p in step] == [True]


def test_different_quantities_and_different_runs_are_not_compared(tmp_path):
    """A step in fit against a step alone, two pipelines' diagnoses, two runs in one output, a
    median against its repeats: none is one quantity printed twice."""
    other = _diagnosis(share="28%", step_ms="19.9 ms", said_share="28%", said_step="19.9 ms")
    two_runs = Stack([_diagnosis(), other])  # two tables: not one run, left alone
    path = _notebook(tmp_path, _diagnosis(), other, two_runs)
    assert consistency.check_notebook(path).ok


def test_quantity_facts_of_one_run_across_cells_are_compared(tmp_path):
    """01's review: one run's main-thread CPU in a table, a chart and a later cell, as facts
    naming their run; the same run once-valued passes, two runs may differ."""

    def shown(run, printed):
        fact = quantity_fact(run, "main-thread CPU during training", printed)
        return Table(["main"], [[printed]], facts=[fact])

    once = _notebook(tmp_path, shown("big", "0.37 s"), shown("big", "0.370 s"), shown("a", "0.1 s"))
    assert consistency.check_notebook(once).ok
    twice = _notebook(tmp_path, shown("big", "0.37 s"), shown("big", "0.08 s"), name="two.ipynb")
    found = consistency.check_notebook(twice)
    assert [p.where for p in found] == ["two.ipynb, cell 0 and cell 1"]
    assert "of run 'big' printed as 0.37 s (cell 0) and 0.08 s (cell 1)" in found[0].what


def test_quick_and_default_mode_are_two_notebooks_each_checked_alone(tmp_path):
    quick = _notebook(tmp_path, _diagnosis(share="40%", said_share="40%"), name="quick.ipynb")
    default = _notebook(tmp_path, _diagnosis(), name="default.ipynb")
    assert consistency.check_notebook(quick).ok and consistency.check_notebook(default).ok


def test_the_words_read_are_diagnose_s_own():
    """A diagnosis as fitscope.diagnose shows it (its table, sentence and remedies) gives each of
    its figures at least twice, once-valued: if diagnose rewords one, this fails rather than the
    check going quiet (update quantities.ONE_RUN)."""
    from test_diagnose import THREADS, made_up

    _, d = made_up(THREADS)
    page = d._repr_html_()
    said = one_run_readings(page, consistency._html_text(page))
    twice = {q for q, _, _ in said if sum(q == s[0] for s in said) >= 2}
    assert twice >= {
        "step in fit",
        "step alone",
        "step alone, the pipeline beside it",
        "input share",
        "waiting share",
        "contention share",
        "one batch made alone",
    }
    assert consistency.check_one_run(page, consistency._html_text(page)) == []
