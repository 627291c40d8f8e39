"""Each claim's rule on made-up evidence, including every INCONCLUSIVE case."""

from __future__ import annotations

import pytest

from fitscope import verdicts
from fitscope.verdicts.claims import PartEvidence
from fitscope.verdicts.compare import compare
from fitscope.verdicts.verdict import (
    DEPENDS,
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_APPLICABLE,
)


@pytest.mark.parametrize(
    "main, total, verdict",
    [
        (0, 998, DOES_NOT_HOLD),
        (99, 998, DOES_NOT_HOLD),
        (900, 1000, HOLDS),
        (500, 1000, DEPENDS),
        (0, 4, INCONCLUSIVE),
    ],
)
def test_c1(main, total, verdict):
    v = verdicts.c1(main, total, peeked=2, peeked_on_main=2)
    assert v.verdict == verdict and v.claim_id == "C1" and str(total) in v.because


@pytest.mark.parametrize(
    "main, proc, samples, verdict",
    [
        (0.3, 1.0, 50, DOES_NOT_HOLD),
        (0.8, 1.0, 50, HOLDS),
        (0.5, 1.0, 50, INCONCLUSIVE),
        (0.01, 0.02, 50, INCONCLUSIVE),
        (0.1, 1.0, 2, INCONCLUSIVE),
    ],
)
def test_c2(main, proc, samples, verdict):
    assert verdicts.c2(main, proc, samples).verdict == verdict


def test_c2_on_a_model_too_small_to_tell():
    v = verdicts.c2(0.9, 1.0, 50, 2, step_ms=0.9)
    assert v.verdict == INCONCLUSIVE and "too small" in v.because
    assert verdicts.c2(0.9, 1.0, 50, 2, step_ms=40).verdict == HOLDS


def test_rejudge_gives_back_every_verdict():
    made_up = [
        verdicts.c1(0, 98, 2, 2, 2),
        verdicts.c2(0.1, 1.0, 50, 2, 30),
        verdicts.c3(1.0, 2, True, 30, 0.8),
        verdicts.c4(PartEvidence("a", 1.0, 2.0, 1.0), PartEvidence("b", 2.0, 2.0, 1.0), 2),
        verdicts.c5(1.8, 1.6, 2, 2.0),
        verdicts.c6(10, 10, 0, 5),
        verdicts.c7([{"method": "fork"}]),
        verdicts.c8(["x"]),
        verdicts.c9(["a", "a"]),
        verdicts.c10(compare([1.5, 1.6], [1.0, 1.1]), True, compare([9, 10], [10, 9], "per s")),
        verdicts.c11(compare([1.4, 1.5], [1.0, 1.02]), compare([1.0, 1.1], [1.0, 1.1]), 2),
    ]
    for v in made_up:
        assert verdicts.rejudge(v) == v


@pytest.mark.parametrize(
    "cores, budget, free, step_ms, verdict",
    [
        (1.4, 2, True, 30, DOES_NOT_HOLD),
        (1.0, 2, True, 30, HOLDS),
        (1.0, 2, False, 30, INCONCLUSIVE),
        (1.2, 2, True, 30, INCONCLUSIVE),
        (1.0, 1, True, 30, INCONCLUSIVE),
        (2.0, 1.5, True, 30, INCONCLUSIVE),
        (1.0, 2, True, 1.0, INCONCLUSIVE),
        (1.6, 16, True, None, DOES_NOT_HOLD),
    ],
)
def test_c3(cores, budget, free, step_ms, verdict):
    v = verdicts.c3(cores, budget, free, step_ms)
    assert v.verdict == verdict and f"B = {budget:g}" in v.because


@pytest.mark.parametrize(
    "cores, free_cpus, verdict",
    [(0.9, 0.8, INCONCLUSIVE), (0.9, 1.9, HOLDS), (1.4, 0.8, DOES_NOT_HOLD), (0.9, None, HOLDS)],
)
def test_c3_on_a_crowded_machine(cores, free_cpus, verdict):
    v = verdicts.c3(cores, 2, True, 30, free_cpus=free_cpus)
    assert v.verdict == verdict
    assert ("Other processes left only" in v.because) == (verdict == INCONCLUSIVE)


def test_c5_on_a_crowded_machine():
    assert verdicts.c5(1.8, 1.0, 2, free_cpus=1.0).verdict == INCONCLUSIVE
    assert verdicts.c5(1.8, 1.0, 2, free_cpus=2.0).verdict == HOLDS
    assert verdicts.c5(1.8, 1.6, 2, free_cpus=1.0).verdict == DOES_NOT_HOLD


def test_c4_parts_and_combination():
    overlapped = PartEvidence("sleep", 1.05, 2.0, 1.0)
    sequential = PartEvidence("python", 1.95, 2.0, 1.0)
    partial = PartEvidence("python", 1.5, 2.0, 1.0)  # half the saving, beyond the 0.30 s noise
    too_close = PartEvidence("tiny", 1.0, 1.05, 1.0)
    assert overlapped.judge() == HOLDS and sequential.judge() == DOES_NOT_HOLD
    assert partial.judge() == HOLDS and too_close.judge() == INCONCLUSIVE
    assert verdicts.c4(overlapped, sequential, 2).verdict == DEPENDS
    assert verdicts.c4(overlapped, overlapped, 2).verdict == HOLDS
    assert verdicts.c4(sequential, sequential, 1).verdict == DOES_NOT_HOLD


@pytest.mark.parametrize(
    "pred, fit, budget, verdict",
    [
        (1.8, 1.6, 2, DOES_NOT_HOLD),
        (1.8, 1.0, 2, HOLDS),
        (1.8, 1.2, 2, INCONCLUSIVE),
        (1.0, 1.0, 1, INCONCLUSIVE),
    ],
)
def test_c5(pred, fit, budget, verdict):
    assert verdicts.c5(pred, fit, budget).verdict == verdict


@pytest.mark.parametrize(
    "on_main, total, overlap, steps, verdict",
    [
        (10, 10, 0, 5, HOLDS),
        (9, 10, 0, 5, DOES_NOT_HOLD),
        (10, 10, 1, 5, DOES_NOT_HOLD),
        (0, 0, 0, 0, INCONCLUSIVE),
    ],
)
def test_c6(on_main, total, overlap, steps, verdict):
    assert verdicts.c6(on_main, total, overlap, steps).verdict == verdict


def test_c7():
    bad = {"method": "fork", "useful_updates": 0, "error": "ValueError: shapes"}
    good = {"method": "spawn", "useful_updates": 100}
    assert verdicts.c7([bad, good]).verdict == HOLDS
    assert verdicts.c7([good]).verdict == DOES_NOT_HOLD
    assert verdicts.c7([]).verdict == INCONCLUSIVE
    # the watchdog stopped children still starting: no hang, no failure, decides nothing
    cut = {"method": "spawn", "undecided": "children still starting"}
    assert verdicts.c7([cut]).verdict == INCONCLUSIVE and "hang" not in verdicts.c7([cut]).because
    assert verdicts.c7([cut, good]).verdict == INCONCLUSIVE  # the cut run could still fail
    assert verdicts.c7([cut, bad]).verdict == HOLDS
    assert "ValueError" in verdicts.c7([bad]).because


def test_c8():
    assert verdicts.c8(["label shape error", "unbounded queue"]).verdict == DOES_NOT_HOLD
    assert verdicts.c8([verdicts.SYNCHRONISATION]).verdict == HOLDS
    assert verdicts.c8([verdicts.SYNCHRONISATION, "exit hang"]).verdict == DEPENDS
    assert verdicts.c8([]).verdict == INCONCLUSIVE


def test_c9():
    assert verdicts.c9(["ab12", "ab12"]).verdict == DOES_NOT_HOLD
    assert verdicts.c9(["ab12", "cd34"]).verdict == INCONCLUSIVE
    assert verdicts.c9(["ab12"]).verdict == INCONCLUSIVE


def _times(ratio, spread=0.02, n=3):
    """Made-up repeats: before around ``ratio`` s, after around 1 s, each ±``spread``."""
    return compare(
        [ratio * (1 + d) for d in (-spread, 0, spread)][:n],
        [1 + d for d in (-spread, 0, spread)][:n],
    )


def test_c10():
    flat = _times(1.0)
    assert verdicts.c10(_times(1.9), True, flat).verdict == DEPENDS
    assert verdicts.c10(_times(1.9), True, _times(1.3)).verdict == HOLDS
    assert verdicts.c10(_times(1.0), False, flat).verdict == DOES_NOT_HOLD
    assert verdicts.c10(_times(0.8), True, flat).verdict == DOES_NOT_HOLD  # a slow-down
    assert verdicts.c10(_times(1.05), True, flat).verdict == INCONCLUSIVE  # a gain, if small


def test_c10_a_gain_inside_the_spread_or_from_one_run_decides_nothing():
    wide = compare([1.9, 1.0, 3.0], [1.0, 1.1, 0.9])  # x1.9 median, the ranges meet
    assert verdicts.c10(wide, True, _times(1.0)).verdict == DOES_NOT_HOLD  # arrays decide alone
    assert "INCONCLUSIVE part" in verdicts.c10(wide, True, _times(1.0)).because
    one_run = compare(1.1, 1.0)  # x1.1 from one run each: undecided
    assert verdicts.c10(one_run, True, one_run).verdict == INCONCLUSIVE


@pytest.mark.parametrize(
    "gil, cpu, budget, verdict",
    [
        (1.8, 1.0, 2, DEPENDS),
        (1.8, 1.5, 2, HOLDS),
        (1.0, 1.0, 2, DOES_NOT_HOLD),
        (1.2, 1.0, 2, INCONCLUSIVE),  # x1.2 faster, short of x1.3: never decided against
        (1.1, 1.0, 2, INCONCLUSIVE),  # x1.1 beyond the spread: a gain, if small
        (0.9, 1.0, 2, DOES_NOT_HOLD),  # a slow-down and no difference
        (1.2, 1.2, 2, INCONCLUSIVE),
        (1.8, 1.0, 1, INCONCLUSIVE),
    ],
)
def test_c11(gil, cpu, budget, verdict):
    assert verdicts.c11(_times(gil), _times(cpu), budget).verdict == verdict


def test_c11_a_median_past_the_threshold_inside_the_spread_is_not_a_speed_up():
    wide = compare([1.4, 0.9, 2.0], [1.0, 0.95, 1.05])  # x1.4 median, ranges meet
    assert verdicts.speedup_part(wide, 1.3, 1.15) == INCONCLUSIVE
    assert verdicts.c11(wide, _times(1.0), 2).verdict == DOES_NOT_HOLD
    assert verdicts.c11(wide, wide, 2).verdict == INCONCLUSIVE


def test_sentences_quote_the_budget_when_given():
    assert verdicts.c1(0, 100, 2, 2, budget=1).because.endswith("with B = 1.")
    assert "B = 16" in verdicts.c2(0.1, 1.0, 10, budget=16).because
    assert "B = 2" in verdicts.c6(5, 5, 0, 3, budget=2).because
    assert "thresholds" in verdicts.c2(0.5, 1.0, 50).because


def test_every_claim_has_a_rule_and_a_scorecard_renders():
    assert set(verdicts.CLAIMS) == {f"C{i}" for i in range(1, 13)}
    for cid in verdicts.CLAIMS:
        assert callable(getattr(verdicts, cid.lower()))
    card = verdicts.Scorecard([verdicts.c9(["a", "a"])])
    assert "<table>" in card._repr_html_() and "C9" in str(card)


def _part(name, measured, sequential=2.0, overlapped=1.0, pure_python=False):
    return dict(
        name=name,
        measured_s=measured,
        sequential_s=sequential,
        overlapped_s=overlapped,
        pure_python=pure_python,
    )


@pytest.mark.parametrize(
    "measured, verdict",
    [(2.1, HOLDS), (1.75, HOLDS), (1.1, DOES_NOT_HOLD), (0.95, DOES_NOT_HOLD), (1.5, DEPENDS)],
)
def test_c12_one_kind_against_the_bounds(measured, verdict):
    v = verdicts.c12("JAX", [_part("waiting", measured)], budget=2, step_ms=20)
    assert v.verdict == verdict and v.claim_id == "C12"
    assert v.because.startswith("on the JAX backend") and "B = 2" in v.because


def test_c12_inconclusive_cases():
    short = verdicts.c12("JAX", [_part("waiting", 1.9)], budget=2, step_ms=3.0)
    assert short.verdict == INCONCLUSIVE and "too short" in short.because
    one_cpu = verdicts.c12(
        "PyTorch", [_part("pure Python", 1.9, pure_python=True)], budget=1, step_ms=20
    )
    assert one_cpu.verdict == INCONCLUSIVE
    close = verdicts.c12(
        "JAX", [_part("waiting", 1.0, sequential=1.1, overlapped=1.0)], budget=2, step_ms=20
    )
    assert close.verdict == INCONCLUSIVE
    bands_meet = verdicts.c12("JAX", [_part("waiting", 1.3, sequential=1.3, overlapped=1.0)], 2, 20)
    assert bands_meet.verdict == INCONCLUSIVE
    assert verdicts.c12("JAX", [_part("waiting", 1.9)], budget=1, step_ms=20).verdict == HOLDS


def test_c12_combines_the_decided_kinds():
    overlapped, starved = _part("waiting", 1.05), _part("waiting + loss read", 1.95)
    assert verdicts.c12("JAX", [overlapped, starved], 2, 20).verdict == DEPENDS
    assert verdicts.c12("PyTorch", [starved, starved], 2, 20).verdict == HOLDS
    undecided = _part("pure Python", 1.9, pure_python=True)
    assert verdicts.c12("TensorFlow", [overlapped, undecided], 1, 20).verdict == DOES_NOT_HOLD


def test_c12_is_never_held_against_an_undecided_part_that_overlapped():
    """01b quick run: "C12 HOLDS" with its waiting part at 0.25 s against an ideal bound of
    0.43 s (INCONCLUSIVE: the bound beaten), which shows an overlap; the consistency check
    flagged the verdict as decided against that part."""
    from fitscope.verdicts import consistency

    beaten = _part("waiting", 0.25, sequential=0.71, overlapped=0.43)
    starved = _part("waiting + loss read", 0.70, sequential=0.71, overlapped=0.43)
    v = verdicts.c12("JAX", [beaten, starved], 2, 28.4)
    assert v.verdict == INCONCLUSIVE and "(INCONCLUSIVE, leans DOES NOT HOLD, faster" in v.because
    assert "shows the effect the decided part denies" in v.because
    assert consistency.check_reading(f"C12 {v.verdict}: {v.because}") == []
    assert verdicts.rejudge(v) == v
    short = _part("waiting", 0.9, sequential=2.0, overlapped=1.0)  # a step under 5 ms: undecided
    assert verdicts.c12("JAX", [short], 2, 3.0).because.count("leans DOES NOT HOLD") == 1
    same = verdicts.c12("JAX", [_part("waiting", 0.9), _part("pure Python", 1.9)], 2, 20)
    assert same.verdict == DEPENDS and "leans" not in same.because


def test_the_answer_blames_the_loss_reading_callback_where_only_its_part_held():
    """04 review N-6: "on JAX, main-thread data slowed some work (C4, C12)" where only the
    'waiting + loss read' part held; 01b reads that part as a dependency on the callback."""
    from fitscope.verdicts.answer import answer

    waiting = _part("waiting", 0.23, sequential=0.47, overlapped=0.23)
    python = _part("pure Python", 0.31, sequential=0.47, overlapped=0.24, pure_python=True)
    loss = {**_part("waiting + loss read", 0.46, sequential=0.47, overlapped=0.24), "loss_read": 1}
    v = verdicts.c12("JAX", [waiting, python, loss], 2, 20)
    assert v.verdict == DEPENDS and verdicts.rejudge(v) == v
    said = answer([(v, "JAX")])
    assert "Overlap: a loss-reading callback serialised data and step (C12)." in said.sentences
    assert not any("main-thread data" in s for s in said.sentences)
    assert any("a callback reads the loss every step" in p for p in said.checklist)
    assert not any("making data added" in p for p in said.checklist)
    starved = verdicts.c12("JAX", [{**waiting, "measured_s": 0.46}, python, loss], 2, 20)
    said = answer([(starved, "JAX")])
    assert "Overlap: main-thread data slowed some work (C12)." in said.sentences
    assert any("making data added" in p for p in said.checklist)
    assert not any("a callback reads the loss" in p for p in said.checklist)


def test_c1_names_its_backend_and_rejudges():
    v = verdicts.c1(40, 40, 2, 2, budget=2, backend="JAX")
    assert v.verdict == HOLDS and v.because.startswith("on the JAX backend")
    assert verdicts.rejudge(v) == v
    w = verdicts.c12(
        "JAX", [_part("waiting", 1.05), _part("pure Python", 1.9, pure_python=True)], 2, 20
    )
    assert verdicts.rejudge(w) == w


@pytest.mark.parametrize(
    "parts, verdict",
    [
        ([INCONCLUSIVE, DOES_NOT_HOLD], DOES_NOT_HOLD),
        ([HOLDS, INCONCLUSIVE], HOLDS),
        ([INCONCLUSIVE, INCONCLUSIVE], INCONCLUSIVE),
        ([HOLDS, DOES_NOT_HOLD], DEPENDS),
        ([HOLDS, HOLDS], HOLDS),
        ([NOT_APPLICABLE, HOLDS], HOLDS),
    ],
)
def test_undecided_parts_decide_nothing(parts, verdict):
    assert verdicts.combine(parts) == verdict


def test_c4_from_an_undecided_and_a_decided_part_prints_each():
    sleeping = PartEvidence("sleeping generator", 1.9, 2.0, 1.0, spread_s=0.6)  # 10 %, noisy
    python = PartEvidence("Python generator", 1.95, 2.0, 1.0)
    v = verdicts.c4(sleeping, python, 2)
    assert sleeping.judge() == INCONCLUSIVE and sleeping.lean() is None
    assert v.verdict == DOES_NOT_HOLD
    assert "10 % of the possible saving, inside the 0.60 s spread (INCONCLUSIVE:" in v.because
    assert "(DOES NOT HOLD)" in v.because
    assert "decides nothing" in v.because and verdicts.rejudge(v) == v


def test_c10_and_c11_print_each_part_with_its_verdict():
    v = verdicts.c10(_times(1.3), True, _times(1.25))
    assert v.verdict == HOLDS and v.because.count("(HOLDS)") == 1 and "; HOLDS)" in v.because
    w = verdicts.c11(_times(1.26), _times(1.0), 2)  # NumPy x1.26, Python no difference
    assert w.verdict == INCONCLUSIVE and "(INCONCLUSIVE, leans HOLDS:" in w.because
    assert "(DOES NOT HOLD)" in w.because and "not decided against it" in w.because


def test_c10_a_gain_beyond_the_spread_short_of_x1_2_is_never_no_gain():
    """Review r3 F-5, 03 quota cell 91: "with a costly producer, prefetch against none: x1.17
    faster (1.03 → 0.88 s, medians of 2) (overlap visible on the timeline; DOES NOT HOLD)", and
    04 said "prefetch gave no gain". A gain beyond the spread short of the rule's x1.2 now leans
    HOLDS and says it is smaller than x1.2; the claim is not decided against it."""
    costly = compare([1.02, 1.04], [0.87, 0.89])  # medians 1.03 → 0.88 s: x1.17, beyond spread
    assert costly.word == verdicts.FASTER and costly.ratio == 1.17
    arrays = compare([45.0, 60.0], [55.0, 58.0], "per s")  # inside the spread, up to x1.29
    v = verdicts.c10(costly, True, arrays)
    assert v.verdict == INCONCLUSIVE and "DOES NOT HOLD" not in v.because
    assert "leans HOLDS: a gain, smaller than the x1.2 the rule needs" in v.because
    assert verdicts.rejudge(v) == v
    # the class: any part faster beyond the spread, whatever the other part and the factor
    flat = _times(1.0)
    for ratio in (1.06, 1.1, 1.17):
        assert verdicts.c10(_times(ratio), True, flat).verdict != DOES_NOT_HOLD
        assert verdicts.c10(flat, True, _times(ratio)).verdict != DOES_NOT_HOLD
        assert verdicts.c11(_times(ratio), flat, 2).verdict != DOES_NOT_HOLD
    hidden = verdicts.c10(_times(1.5), False, flat)  # faster, though no overlap was drawn
    assert hidden.verdict == INCONCLUSIVE and "no overlap visible" in hidden.because


def test_a_beaten_bound_decides_no_part():
    beaten = PartEvidence("waiting", 0.6, 2.0, 1.0)
    assert beaten.judge() == INCONCLUSIVE and "cost estimate was high" in beaten.describe()
    v = verdicts.c12("JAX", [_part("waiting", 0.7)], budget=2, step_ms=20)
    assert v.verdict == INCONCLUSIVE and "cost estimate was high" in v.because


def test_c6_per_backend_names_it_and_its_callback_threads():
    jax = verdicts.c6(16, 32, 3, 16, budget=2, backend="JAX", callback_threads=2, begins_on_main=16)
    assert jax.verdict == DOES_NOT_HOLD and jax.because.startswith("on the JAX backend")
    assert "2 threads ran callbacks" in jax.because and verdicts.rejudge(jax) == jax
    tf = verdicts.c6(16, 16, 0, 16, budget=2, backend="TensorFlow", callback_threads=1)
    assert tf.verdict == HOLDS and "1 thread ran" in tf.because


def test_c12_is_not_judged_where_its_premise_is_false():
    v = verdicts.c12("TensorFlow", [_part("waiting", 1.9)], 2, 20, next_on_main=(0, 30))
    assert v.verdict == NOT_APPLICABLE and "premise" in v.because and "TensorFlow" in v.because
    assert verdicts.rejudge(v) == v
    on_main = verdicts.c12("JAX", [_part("waiting", 1.9)], 2, 20, next_on_main=(30, 30))
    assert on_main.verdict == HOLDS and verdicts.rejudge(on_main) == on_main


def test_c5_on_a_crowded_machine_names_what_it_leaves_undecided():
    """A call near one core on a crowded machine decides nothing, and the sentence says why."""
    v = verdicts.c5(0.79, 1.22, 2.0, free_cpus=1.4)
    assert v.verdict == INCONCLUSIVE and "1.4 CPUs free" in v.because
    fit_on_one = verdicts.c5(1.6, 1.0, 2.0, free_cpus=1.4)
    assert fit_on_one.verdict == INCONCLUSIVE and "1.4 CPUs free" in fit_on_one.because
    assert "1.4 CPUs free" not in verdicts.c5(1.6, 1.6, 2.0, free_cpus=1.4).because


def test_c11_no_gain_on_a_crowded_machine_decides_nothing():
    """Review r3 F-4, 03 default cells 53-58 and 91: the NumPy parallel map read "no measurable
    difference" with only 0.877 / 0.902 CPUs left free by other processes (B = 2), and C11 was
    DOES NOT HOLD, while C3 and C5 call the same crowding undecided."""
    same = compare([0.200, 0.210, 0.196], [0.201, 0.205, 0.199])  # no measurable difference
    assert verdicts.c11(same, same, 2).verdict == DOES_NOT_HOLD  # free CPUs unknown: as before
    crowded = verdicts.c11(same, same, 2, free_cpus=0.877)
    assert crowded.verdict == INCONCLUSIVE and "0.9 CPUs free" in crowded.because
    assert "DOES NOT HOLD" not in crowded.because and verdicts.rejudge(crowded) == crowded
    free = verdicts.c11(same, same, 2, free_cpus=1.9)  # room for two cores: no gain decides
    assert free.verdict == DOES_NOT_HOLD and "CPUs free," not in free.because
    gain = verdicts.c11(_times(1.8), same, 2, free_cpus=0.877)  # a gain measured still counts
    assert gain.verdict == HOLDS and "INCONCLUSIVE part decides nothing" in gain.because


def test_c11_a_pure_python_gain_beyond_the_gil_limit_holds_nothing():
    """03 quick run: C11's pure-Python part read HOLDS at x2.25, while 03's GIL table said a
    gain beyond its x1.75 limit (the calls hold the GIL) is not the parallel map's; review r7:
    it then leaned HOLDS, towards a gain the GIL cannot give. It leans nowhere: the NumPy part,
    no gain, decides."""
    numpy = compare([0.20, 0.21], [0.20, 0.205])  # no measurable difference
    python = compare([0.27, 0.28, 0.26], [0.12, 0.125, 0.118])  # x2.25 faster, beyond spread
    assert python.ratio == 2.25 and verdicts.c11(numpy, python, 2).verdict == DEPENDS
    v = verdicts.c11(numpy, python, 2, gil_limit=1.75)
    assert v.verdict == DOES_NOT_HOLD and "(HOLDS)" not in v.because and "leans" not in v.because
    assert "the x2.25 measured is beyond the x1.75 a parallel map can gain" in v.because
    assert verdicts.rejudge(v) == v
    accepted = _times(1.5)  # x1.5: within what the GIL allows, as before
    for limit in (None, 1.75):
        w = verdicts.c11(numpy, accepted, 2, gil_limit=limit)
        assert w.verdict == DEPENDS and "beyond" not in w.because
    assert verdicts.c11(_times(1.8), python, 2, gil_limit=1.75).verdict == HOLDS  # NumPy decides


def test_c4_parts_read_within_the_spread_of_the_bounds_cost_measurements():
    """Review r3 F-8, 01 quick cell 58: "sleeping generator: 0.26 s against 0.29 s one after
    the other and 0.15 s ideal: 20 % of the possible saving, inside the 0.04 s 15 % noise (DOES
    NOT HOLD)" while the step estimate the bounds stand on had measurements 123 % apart (cell 51).
    The margin is now max(15 % of the sum, that spread of the sum), and a margin that swallows
    the possible saving leaves the part INCONCLUSIVE."""
    fixed = PartEvidence("sleeping generator", 0.26, 0.29, 0.15)
    assert fixed.judge() == DOES_NOT_HOLD  # the spread unknown: as before
    unsure = PartEvidence("sleeping generator", 0.26, 0.29, 0.15, bound_spread=1.23)
    assert unsure.noise_s() == pytest.approx(1.23 * 0.29)
    assert unsure.judge() == INCONCLUSIVE and "DOES NOT HOLD" not in unsure.describe()
    assert "123 % spread of the bound's cost measurements" in unsure.describe()
    python = PartEvidence("CPU-bound Python generator", 0.29, 0.30, 0.15, bound_spread=1.23)
    v = verdicts.c4(unsure, python, 2)
    assert v.verdict == INCONCLUSIVE and verdicts.rejudge(v) == v
    # 01 default: the 89 % spread swallows a 0.20 s possible saving the 15 % (0.08 s) did not
    default = PartEvidence("sleeping generator", 0.33, 0.53, 0.33, bound_spread=0.89)
    assert default.judge() == INCONCLUSIVE
    # a spread under the 15 % floor changes nothing: the margin is the larger of the two
    small = PartEvidence("sleeping generator", 0.26, 0.29, 0.15, bound_spread=0.05)
    assert small.noise_s() == fixed.noise_s() and small.describe() == fixed.describe()


def test_c6_claim_text_names_every_part_its_rule_tests():
    """Review r3 F-21: C6's text read "The Python loop that drives fit runs on the main thread,
    one step after the other", while on JAX the verdict DOES NOT HOLD rested on its callbacks
    part alone ("24 of 48 callbacks ran on the main thread"), which the text did not name. The
    text now names the callbacks, as docs/claims.md and the article do."""
    from fitscope.verdicts.claims import c6_parts
    from fitscope.verdicts.verdict import CLAIMS

    text = CLAIMS["C6"].text
    for said in ("loop", "callbacks", "main thread", "one step after the other"):
        assert said in text
    jax = verdicts.c6(24, 48, 23, 24, 2, "JAX", 2, begins_on_main=24, overlaps_off_loop=23)
    parts = [p for p, _ in c6_parts(jax.evidence)]
    assert jax.verdict == DOES_NOT_HOLD and parts == [HOLDS, DOES_NOT_HOLD, HOLDS]
    assert "callbacks" in jax.claim  # the part that decided it is in the claim it decides
