"""Each rewritten rule tests what its claim says, part by part, on made-up evidence: the cases
issue 32 found read wrongly (01's sleeping generator at 74 % of the possible saving, fit at 1.51
cores, JAX's dispatch and callback pattern, the warm-up step counted against step 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fitscope import scorecard, verdicts
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import RunResult
from fitscope.instrument.threads import MAIN
from fitscope.instrument.tracing import Span
from fitscope.verdicts import consistency, evidence
from fitscope.verdicts.answer import answer
from fitscope.verdicts.claims import PartEvidence, c6_parts, step_order
from fitscope.verdicts.images import Pipeline, article_advice
from fitscope.verdicts.verdict import DEPENDS, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE

# 01's sleeping generator: 0.418 s against 0.64 s one after the other and 0.34 s ideal.
SLEEPING = dict(name="sleeping generator", measured_s=0.418, sequential_s=0.64, overlapped_s=0.34)
PYTHON = PartEvidence("CPU-bound Python generator", 0.63, 0.64, 0.34)


def test_c4_a_partial_overlap_beyond_the_spread_holds_and_says_the_saving_reached():
    part = PartEvidence(**SLEEPING, spread_s=0.05)
    assert round(part.saving(), 2) == 0.74 and part.judge() == HOLDS
    v = verdicts.c4(part, PYTHON, 2)
    assert "74 % of the possible saving, beyond the 0.05 s spread (HOLDS)" in v.because
    assert "3 % of the possible saving" in v.because and PYTHON.judge() == DOES_NOT_HOLD
    assert v.verdict == DEPENDS and verdicts.rejudge(v) == v


def test_c4_without_repeats_reads_the_saving_against_the_default_noise():
    part = PartEvidence(**SLEEPING)  # noise 15 % of 0.64 s: 0.096 s, under the 0.22 s saved
    assert part.judge() == HOLDS and "beyond the 0.10 s 15 % noise" in part.describe()


def test_c4_a_saving_inside_the_spread_is_undecided_and_never_decided_against():
    part = PartEvidence(**SLEEPING, spread_s=0.25)  # the 0.22 s saved is inside 0.25 s
    assert part.judge() == INCONCLUSIVE and part.lean() == HOLDS
    v = verdicts.c4(part, PYTHON, 2)
    assert v.verdict == INCONCLUSIVE  # not DOES NOT HOLD from the Python part alone
    assert "74 % of the possible saving, inside the 0.25 s spread" in v.because
    assert "(INCONCLUSIVE, leans HOLDS: deciding it needs" in v.because
    assert "not decided against it" in v.because and verdicts.rejudge(v) == v


@pytest.mark.parametrize(
    "measured, spread, verdict",
    [
        (0.66, None, DOES_NOT_HOLD),  # above the sum, inside the noise: no overlap
        (0.80, None, INCONCLUSIVE),  # a slow-down beyond the noise: the bounds were not paid
        (0.25, 0.02, INCONCLUSIVE),  # faster than the ideal bound: the estimate was high
        (0.60, 0.20, INCONCLUSIVE),  # the noise is two thirds of the possible saving
    ],
)
def test_c4_part_cases(measured, spread, verdict):
    part = PartEvidence("waiting", measured, 0.64, 0.34, spread)
    assert part.judge() == verdict
    if measured == 0.80:  # 01 beside other jobs: 0.62 s against 0.20 s read "no saving"
        said = part.describe()
        assert "slower than one after the other, 25 % longer, beyond the 0.10 s 15 % noise" in said
        assert "the run paid more than the costs its bounds stand on (INCONCLUSIVE" in said


def test_c5_fit_on_more_than_one_core_refutes_the_training_half():
    v = verdicts.c5(1.80, 1.51, 2)
    assert v.verdict == DOES_NOT_HOLD  # as C3 reads the same evidence
    assert verdicts.c3(1.51, 2, True, 30).verdict == DOES_NOT_HOLD
    assert "training stays on one core (DOES NOT HOLD)" in v.because
    assert "inference spreads across cores (HOLDS)" in v.because
    undecided_predict = verdicts.c5(1.2, 1.51, 2)  # the other half undecided: still refuted
    assert undecided_predict.verdict == DOES_NOT_HOLD and verdicts.rejudge(v) == v


def test_c5_holds_only_when_both_halves_hold():
    assert verdicts.c5(1.8, 1.0, 2).verdict == HOLDS
    assert verdicts.c5(1.0, 1.0, 2).verdict == DOES_NOT_HOLD  # inference did not spread
    assert verdicts.c5(1.8, 1.2, 2).verdict == INCONCLUSIVE


def _parts(v: verdicts.Verdict) -> list[str]:
    return [p for p, _ in c6_parts(v.evidence)]


def test_c6_on_jax_the_loop_holds_the_callbacks_do_not_the_order_holds():
    """Begin callbacks and next() on main, end callbacks on a pool, spans overlapping only
    because a step's begin is its dispatch."""
    v = verdicts.c6(
        16,
        32,
        15,
        16,
        budget=2,
        backend="JAX",
        callback_threads=2,
        begins_on_main=16,
        overlaps_off_loop=15,
        next_on_main=(16, 16),
    )
    assert _parts(v) == [HOLDS, DOES_NOT_HOLD, HOLDS]
    assert v.verdict == DOES_NOT_HOLD  # a conjunction with one part that does not hold
    assert "(a) the loop called 16 of 16 begin callbacks on the main thread (HOLDS)" in v.because
    assert "next() ran on the main thread for 16 of 16 calls" in v.because
    assert "(b) 16 of 32 callbacks ran on the main thread (2 threads ran callbacks)" in v.because
    assert "not a step computed (HOLDS)" in v.because and verdicts.rejudge(v) == v


def test_c6_s_callback_part_names_the_state_a_plain_callback_changes():
    """Review r8: on JAX the callbacks ran on a pool because every callback was async_safe
    (fitscope's clock, Keras's own); a run with a plain callback that read the loss ran them all
    on the main thread. Part (b) says both, and still does not hold: a fit with no callbacks of
    the user's runs them on a pool."""
    order = dict(begins_on_main=16, overlaps_off_loop=15)
    v = verdicts.c6(
        16, 32, 15, 16, backend="JAX", callback_threads=4, plain_callback=(48, 48), **order
    )
    assert _parts(v) == [HOLDS, DOES_NOT_HOLD, HOLDS]
    # r9: the thread count is this run's, so it stands before the other run's figure
    assert "16 of 32 callbacks ran on the main thread (4 threads ran callbacks): Keras" in v.because
    assert "with a plain callback that read the loss, 48 of 48 ran on the main thread" in v.because
    assert "what a fit with no callbacks of yours does" in v.because
    assert verdicts.rejudge(v) == v  # the evidence keeps it
    on_main = verdicts.c6(32, 32, 0, 16, backend="TensorFlow", plain_callback=(48, 48))
    assert "plain callback" not in on_main.because  # nothing moved: nothing to say


def test_c6_an_overlap_on_the_loops_own_thread_breaks_the_order():
    v = verdicts.c6(32, 32, 2, 16, begins_on_main=16, overlaps_off_loop=0)
    assert _parts(v) == [HOLDS, HOLDS, DOES_NOT_HOLD] and v.verdict == DOES_NOT_HOLD


def test_c6_all_on_main_in_order_holds_and_unrecorded_splits_decide_nothing():
    assert verdicts.c6(32, 32, 0, 16, backend="TensorFlow").verdict == HOLDS
    unknown = verdicts.c6(16, 32, 3, 16)  # which callbacks ran off main: not recorded
    assert _parts(unknown) == [INCONCLUSIVE, DOES_NOT_HOLD, INCONCLUSIVE]


def test_c6_counts_the_steps_after_the_warm_up():
    v = verdicts.c6(32, 32, 0, 16)
    assert "0 of the 15 steps after the warm-up" in v.because


def _stepped(
    ends: list[tuple[int, int, int]], on_main: int, epochs: tuple[int, ...] = ()
) -> RunResult:
    """A made-up run: step spans (start, end, end callback's thread) and epoch edges (marks),
    thread 1 the main one."""
    spans = [Span(f"step {i}", "train", a, b, tid) for i, (a, b, tid) in enumerate(ends)]
    spans += [Span(f"epoch {i + 1}", "epoch", t, t, 1) for i, t in enumerate(epochs)]
    r = RunResult("made up", spans=spans, roles={1: MAIN, 2: "callback pool"})
    r.facts = {"callbacks_on_main": on_main}
    return r


def test_step_order_leaves_out_the_warm_up_and_finds_jaxs_dispatch_pattern():
    """PyTorch's case: only the warm-up step overlaps step 1, so nothing counts; JAX's case: each
    step begins (is dispatched) before the end callback of the one before, which ran on a pool."""
    warm_up = _stepped([(0, 50, 1), (40, 60, 1), (60, 70, 1), (70, 80, 1)], on_main=8)
    assert step_order(warm_up) == {
        "begins_on_main": 4,
        "overlapping_steps": 0,
        "overlaps_off_loop": 0,
    }
    # the core's step clock counts a begin and an end a step; the epoch marks are no callbacks
    # it counts (01's case: 22 of 24 begins when the edges were taken off again)
    with_edges = _stepped([(0, 10, 1), (10, 20, 1), (20, 30, 1)], on_main=6, epochs=(0, 20))
    assert step_order(with_edges)["begins_on_main"] == 3
    jax = _stepped([(0, 15, 2), (10, 25, 2), (20, 35, 2), (30, 45, 2)], on_main=4)
    order = step_order(jax)
    assert order == {"begins_on_main": 4, "overlapping_steps": 2, "overlaps_off_loop": 2}
    assert _parts(verdicts.c6(4, 8, steps=4, **order)) == [HOLDS, DOES_NOT_HOLD, HOLDS]


def test_conjunction_and_never_against():
    assert verdicts.combine([INCONCLUSIVE, DOES_NOT_HOLD]) == DOES_NOT_HOLD
    from fitscope.verdicts.parts import combine_for, never_against

    assert combine_for("C6", [HOLDS, DOES_NOT_HOLD, HOLDS]) == DOES_NOT_HOLD
    assert combine_for("C4", [HOLDS, DOES_NOT_HOLD]) == DEPENDS
    assert never_against(DOES_NOT_HOLD, [HOLDS, None]) == INCONCLUSIVE
    assert never_against(HOLDS, [HOLDS]) == HOLDS


# 05's case: generator and tf.data at 11.5 and 12.4 steps/s, the arrays-in-memory control's input
# share 11 % (11 %, 0 %, 21 %), tf.data's 15 % (10 %, 18 %, 15 %), the step alone on 1.75 CPUs.
GEN = Pipeline(
    "generator", "moderately input-bound", 0.15, 0.075, 0.087, 0.08, False,
    [0.087, 0.084, 0.090], [0.15, 0.12, 0.19],
)  # fmt: skip
TFD = Pipeline(
    "tf.data prefetch", "moderately input-bound", 0.15, 0.075, 0.081, 0.08, True,
    [0.081, 0.088, 0.080], [0.10, 0.18, 0.15],
)  # fmt: skip
ARRAYS = Pipeline(
    "arrays", "moderately input-bound", 0.11, 0.075, 0.084, 0.075, False,
    [0.084, 0.075, 0.095], [0.11, 0.0, 0.21], step_cores=1.75,
)  # fmt: skip


def test_the_advice_inside_its_own_noise_names_cpu_contention_and_decides_nothing():
    v = article_advice([GEN, TFD], 2.0, ARRAYS)
    assert v.verdict == INCONCLUSIVE and v.claim_id == "A1"
    assert "no measurable difference" in v.because
    # inside the control's noise is no evidence either way (review r6): never "no longer"
    assert "inside the noise floor: whether the input is still the bottleneck is INCONCLUSIVE" in (
        v.because
    )
    assert "no longer the bottleneck" not in v.because
    assert "keeps 1.75 of 2 CPUs busy" in v.because and "CPU contention" in v.because
    assert verdicts.rejudge(v) == v and "trains faster" in v.claim


def test_the_advice_compares_only_diagnoses_whose_step_alone_agrees():
    """Review r6: 05's A1 read the generator x1.88 slower than tf.data while their diagnoses'
    steps alone, the same model's step, were 13.9 and 10.1 ms (x1.38): not like with like."""
    fast = replace(TFD, step_in_fit_s=0.05, steps_in_fit_s=[0.05, 0.051, 0.049])
    moved = article_advice([GEN, replace(fast, step_alone_s=GEN.step_alone_s / 1.38)], 2.0)
    assert moved.verdict == INCONCLUSIVE and "Not like with like" in moved.because
    assert "x1.38 apart" in moved.because and verdicts.rejudge(moved) == moved
    assert article_advice([GEN, fast], 2.0).verdict == HOLDS


def test_the_bottleneck_is_read_beyond_tf_datas_own_step_alone_noise_too():
    """Code review: shares of 7-10 % above a 2 % control but inside their own diagnosis's 12 %
    step-alone noise (so it was inconclusive) are never "still the bottleneck"."""
    from fitscope.verdicts.images import _bottleneck

    noisy = replace(TFD, verdict=INCONCLUSIVE.lower(), shares=[0.07, 0.08, 0.10], input_share=0.08)
    said = _bottleneck(replace(noisy, alone_noise=0.12), 0.02)
    assert said.endswith("whether the input is still the bottleneck is INCONCLUSIVE"), said
    decided = _bottleneck(replace(noisy, alone_noise=0.04), 0.02)
    assert decided.endswith(": the input is still the bottleneck"), decided
    # its diagnosis read the same shares inside a 12 % noise as none: said so, not "under 5%"
    none = _bottleneck(replace(noisy, verdict="not input-bound", alone_noise=0.12), 0.02)
    assert "(inside its 12% step-alone noise): the input is no longer" in none, none


def test_the_advice_tests_throughput_then_says_where_the_bottleneck_is():
    fast = replace(
        TFD, step_in_fit_s=0.05, steps_in_fit_s=[0.05, 0.051, 0.049], input_share=0.3,
        shares=[0.3, 0.28, 0.33],
    )  # fmt: skip
    v = article_advice([GEN, fast], 2.0, ARRAYS)
    assert v.verdict == HOLDS and "beyond the noise floor: the input is still" in v.because
    # 05's run: tf.data at 7 % (7 %, 6 %, 31 %) against a control reaching 9 %
    straddles = replace(fast, input_share=0.07, shares=[0.07, 0.06, 0.31])
    said = article_advice([GEN, straddles], 2.0, replace(ARRAYS, shares=[0.0, 0.09, 0.02])).because
    assert "7% (7%, 6%, 31%) has repeats on both sides of the noise floor" in said
    assert "no longer the bottleneck" not in said
    slow = replace(TFD, step_in_fit_s=0.12, steps_in_fit_s=[0.12, 0.125, 0.118])
    assert article_advice([GEN, slow], 2.0, ARRAYS).verdict == DOES_NOT_HOLD
    spare_cpus = replace(ARRAYS, step_cores=0.9)
    same = article_advice([replace(GEN, input_share=0.4), TFD], 2.0, spare_cpus)
    assert same.verdict == DOES_NOT_HOLD and "contention" not in same.because
    no_bottleneck = article_advice([replace(GEN, input_share=0.05), TFD], 2.0, spare_cpus)
    assert no_bottleneck.verdict == INCONCLUSIVE and "no bottleneck" in no_bottleneck.because
    one_run = [replace(p, steps_in_fit_s=[]) for p in (GEN, TFD)]
    assert article_advice(one_run, 2.0).verdict == INCONCLUSIVE  # x1.07 from one run each


def test_the_scorecard_shows_the_kept_advice_after_the_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("FITSCOPE_EVIDENCE", str(tmp_path))
    advice = article_advice([GEN, TFD], 2.0, ARRAYS)
    evidence.keep("images", verdicts.Scorecard([advice]), "notebook 05")
    said: list[str] = []
    rows = scorecard._kept_only(said.append)
    assert [r[0] for r in rows] == [advice] and rows[0][2].startswith("notebook 05 at")
    card = scorecard._one_row_each([*rows, (verdicts.c9(["a", "a"]), "TensorFlow", "now")])
    assert [v.claim_id for v in card] == ["C9", "A1"]
    assert "A1" in scorecard.scorecard_table(card) and card.check().ok


def test_the_answer_is_short_one_sentence_per_family_and_cites_its_rows():
    jax = verdicts.c6(16, 32, 15, 16, 2, "JAX", 2, begins_on_main=16, overlaps_off_loop=15)
    sleeping = PartEvidence(**SLEEPING)
    rows = [
        (verdicts.c1(0, 30, 2, 2, 2, backend="TensorFlow"), "TensorFlow"),
        (verdicts.c1(30, 30, 2, 2, 2, backend="JAX"), "JAX"),
        (verdicts.c1(30, 30, 2, 2, 2, backend="PyTorch"), "PyTorch"),
        (verdicts.c2(0.1, 1.0, 50, 2, 30), "TensorFlow"),
        (verdicts.c3(1.51, 2, True, 30), "TensorFlow"),
        (verdicts.c4(sleeping, PYTHON, 2), "TensorFlow"),
        (verdicts.c5(1.8, 1.51, 2), "TensorFlow"),
        (verdicts.c6(32, 32, 0, 16, 2, "TensorFlow"), "TensorFlow"),
        (jax, "JAX"),
        (verdicts.c6(32, 32, 0, 16, 2, "PyTorch"), "PyTorch"),
        (verdicts.c7([{"method": "fork", "useful_updates": 0, "error": "E"}]), "TensorFlow"),
        (verdicts.c8([verdicts.SYNCHRONISATION]), "TensorFlow"),
        (verdicts.c9(["a", "a"]), "TensorFlow"),
        (article_advice([GEN, TFD], 2.0, ARRAYS), "TensorFlow"),
    ]
    said = answer(rows)
    words = len(" ".join(said.sentences).split())
    assert words <= 120, " ".join(said.sentences)
    loop = next(s for s in said.sentences if s.startswith("The loop"))
    assert "on JAX, main-thread loop and in-order steps held" in loop
    assert "not callbacks there" in loop and "on TensorFlow and PyTorch, all held" in loop
    overlap = next(s for s in said.sentences if s.startswith("Overlap"))
    assert "one kind of generator work overlapped" in overlap  # C4 DEPENDS
    assert not any("did not overlap" in s for s in said.sentences)
    assert not any(s.startswith("tf.data") for s in said.sentences)  # A1 undecided: unsaid


def test_the_answer_stays_about_120_words_whatever_the_verdicts():
    """The longest answer there can be: every claim decided with its longest phrase, the
    per-backend claims split between TensorFlow and JAX, the loop's parts split too."""
    from fitscope.verdicts.answer import _FAMILIES
    from fitscope.verdicts.verdict import Verdict

    rows = [
        (Verdict("C1", HOLDS, "x"), "JAX"),
        (Verdict("C1", DOES_NOT_HOLD, "x"), "TensorFlow"),
        (verdicts.c6(16, 32, 15, 16, 2, "JAX", 2, begins_on_main=16, overlaps_off_loop=15), "JAX"),
        (verdicts.c6(32, 32, 0, 16, 2, "TensorFlow"), "TensorFlow"),
    ]
    for _, ids, words in _FAMILIES:
        for cid in ids:
            longest = sorted((len(w.split()), v) for (c, v), w in words.items() if c == cid)
            backends = ("JAX", "TensorFlow") if cid == "C12" else ("TensorFlow",)
            rows += [(Verdict(cid, longest[-1 - i][1], "x"), b) for i, b in enumerate(backends)]
    said = " ".join(answer(rows).sentences)
    assert said.count("(C") == 5 and len(said.split()) <= 125, said
    loss = dict(name="+ loss", measured_s=1.9, sequential_s=2.0, overlapped_s=1.0)
    c12 = verdicts.c12("JAX", [{**loss, "pure_python": False, "loss_read": True}], 2, 20)
    rows = [(c12, b) if v.claim_id == "C12" and b == "JAX" else (v, b) for v, b in rows]
    said = " ".join(answer(rows).sentences)  # C12's longest phrase: the loss-reading callback
    assert "callback" in said and len(said.split()) <= 125, said


def test_the_answer_stays_about_120_words_with_claims_decided_in_part():
    """The longest answer with every claim that has parts (C4, C10, C11, C12) decided by some of
    them only: their phrases, and the last sentence naming them, count too."""
    import itertools

    from fitscope.verdicts.answer import _FAMILIES
    from fitscope.verdicts.verdict import DEPENDS, Verdict

    note = " The 1 INCONCLUSIVE part decides nothing: the verdict is the decided parts'."
    base = [
        (Verdict("C1", HOLDS, "x"), "JAX"),
        (Verdict("C1", DOES_NOT_HOLD, "x"), "TensorFlow"),
        (verdicts.c6(16, 32, 15, 16, 2, "JAX", 2, begins_on_main=16, overlaps_off_loop=15), "JAX"),
        (verdicts.c6(32, 32, 0, 16, 2, "TensorFlow"), "TensorFlow"),
    ]

    def length(rows):
        return len(" ".join(answer(rows).sentences).split())

    options = []  # per claim and backend, every row it can be: whole, or in part (one decided)
    for _, ids, words in _FAMILIES:
        for cid in ids:
            for b in ("JAX", "TensorFlow") if cid == "C12" else ("TensorFlow",):
                can = [v for c, v in words if c == cid]
                parted = cid == "C12" or cid in ("C4", "C10", "C11")
                options.append(
                    [(Verdict(cid, v, "x"), b) for v in can]
                    + [
                        (Verdict(cid, v, "x" + note), b)
                        for v in can
                        if parted and (cid == "C12" or v != DEPENDS)  # two parts: one decided
                    ]
                )
    rows = [max(o, key=lambda r: length([*base, r])) for o in options]
    c12 = [i for i, o in enumerate(options) if o[0][0].claim_id == "C12"]
    longest = max(
        length([*base, *rows[: c12[0]], a, b, *rows[c12[1] + 1 :]])
        for a, b in itertools.product(options[c12[0]], options[c12[1]])
    )
    assert answer([*base, *rows]).sentences[-1].startswith("Undecided in part: C4")
    assert longest <= 125


def test_the_answer_cites_only_decided_rows_and_names_the_undecided():
    """04's review read "Cores: the math ran mostly off the main thread (C2, C3, C5)" with C3
    and C5 INCONCLUSIVE, and "no generator work overlapped training" from a C4 decided by one
    part while the other was INCONCLUSIVE."""
    from fitscope.verdicts.verdict import Verdict

    note = " The 1 INCONCLUSIVE part decides nothing: the verdict is the decided parts'."
    rows = [
        (Verdict("C2", verdicts.DOES_NOT_HOLD, "6 %.", {}), "TensorFlow"),
        (verdicts.c3(1.0, 1), "TensorFlow"),
        (verdicts.c5(0.67, 0.94, 1), "TensorFlow"),
        (Verdict("C4", verdicts.DOES_NOT_HOLD, "sleeping: 30 %." + note, {}), "TensorFlow"),
        (Verdict("C11", verdicts.HOLDS, "NumPy x1.32." + note, {}), "TensorFlow"),
    ]
    said = answer(rows).sentences
    cores = next(s for s in said if s.startswith("Cores"))
    assert cores == "Cores: math mostly off the main thread (C2)."
    overlap = next(s for s in said if s.startswith("Overlap"))
    assert "no decided generator work overlapped" in overlap
    assert not any("both kinds" in s for s in said)
    assert said[-1] == "Undecided: C3, C5; in part: C4, C11."


def test_each_repeat_of_a_cached_pipeline_builds_its_own_and_fills_its_own_cache():
    """03's cache study: no repeat reads a cache an earlier repeat filled; the pass that fills
    the cache and the passes that read it are reported apart."""
    from fitscope.lessons.tfdata import PipelineParams, build_pipeline, measure_pipeline

    p = PipelineParams(
        open_ms=1, read_ms=0.5, map_ms=0.5, train_ms=0.5, files=2, elements=8, epochs=3
    )
    built = []

    def build():
        built.append(build_pipeline(p, "cache"))
        return built[-1]

    run = measure_pipeline(build, p, "cache", repeats=3)
    assert len(built) == 3 and run.facts["fresh_per_repeat"]
    assert [len(r["later_s"]) for r in run.facts["passes_s"]] == [2, 2, 2]
    produced = min(s.start_ns for s in run.spans_of("tf.data"))
    began = min(s.start_ns for s in run.spans_of("wait"))
    assert produced > began - 5_000_000  # made in this repeat, not read from an earlier one's
    assert run.facts["spans_by_label"]["read"] == 8
    assert "The pass that fills the cache took" in str(run) and "built its own" in str(run)
    assert "(median of 3 repeats), the 6 passes that read it" in str(run)  # r8: never "each"
    once = measure_pipeline(build_pipeline(p, "cache"), p, "cache", repeats=3)
    assert len(once.facts["repeats_s"]) == 1 and once.facts["cache_kept_to_one_repeat"]
    assert "a dataset object keeps its cache" in str(once)
    same = build_pipeline(p, "cache")
    with pytest.raises(FitscopeInputError, match="same dataset twice"):
        measure_pipeline(lambda: same, p, "cache", repeats=2)


def test_a_cause_is_never_read_from_a_difference_the_spread_swallows():
    """05's Pillow case: x1.54 by the best repeats, x1.34 by the medians, inside the spread."""
    from fitscope.lessons.images.threads import ThreadScaling

    r = ThreadScaling("decode + resize", 64, [0.154, 0.134, 0.100], [0.065, 0.100, 0.110], 2.0)
    assert "no measurable difference" in r.reading and "(best repeats)" in r.reading
    assert "does not tell whether the work released the GIL" in r.reading
    assert "kept them one at a time" not in r.reading


def test_the_advice_is_not_decided_against_a_speed_up_its_spread_swallows():
    """05 beside other jobs: generator 0.0299 s, tf.data 0.0206 s a step (x1.45, medians of 3),
    inside the spread: DOES NOT HOLD said more than its numbers."""
    gen = replace(GEN, step_in_fit_s=0.0299, steps_in_fit_s=[0.0299, 0.027, 0.045])
    tfd = replace(TFD, step_in_fit_s=0.0206, steps_in_fit_s=[0.0206, 0.021, 0.040])
    v = article_advice([gen, tfd], 2.0, ARRAYS)
    assert "no measurable difference" in v.because and v.verdict == INCONCLUSIVE
    assert "The repeats allow up to x2.18: a speed-up the spread swallows" in v.because
    assert verdicts.rejudge(v) == v


def test_a_quarter_of_the_saving_inside_the_noise_leans_and_is_never_decided_against():
    # 01's sleeping generator, default mode: 0.53 s against 0.59 s and 0.33 s ideal, 15 % noise
    part = PartEvidence("sleeping generator", 0.5258, 0.5912, 0.3338)
    assert part.saving() == pytest.approx(0.254, abs=0.001)
    assert part.judge() == "INCONCLUSIVE" and part.lean() == "HOLDS"
    assert "25 % of the possible saving, inside" in part.describe()
    # the same run a little slower: under a quarter of the saving, where half would show
    assert PartEvidence("sleeping generator", 0.56, 0.5912, 0.3338).judge() == "DOES NOT HOLD"


def test_c11_advice_says_what_was_measured_with_the_cpus_free():
    """Review r3 F-4, 04 default checklist: "Do not expect parallel map alone to speed up data
    work (C11 on TensorFlow: DOES NOT HOLD)" from a crowded 2-CPU box: true there, false on 16
    idle cores. The advice now says what was measured here, and with how many CPUs free."""
    from fitscope.verdicts.compare import compare

    same = compare([0.200, 0.210, 0.196], [0.201, 0.205, 0.199])
    decided = answer([(verdicts.c11(same, same, 2, free_cpus=1.6), "TensorFlow")]).checklist
    said = next(p for p in decided if "parallel map" in p)
    assert said.startswith("Here, with 1.6 CPUs free (B = 2), parallel map gave no measured gain")
    assert "measure yours" in said and "Do not expect" not in said
    crowded = answer([(verdicts.c11(same, same, 2, free_cpus=0.877), "TensorFlow")]).checklist
    assert not any("parallel map" in p for p in crowded)  # undecided: only in the undecided line
    assert any("C11 on TensorFlow: INCONCLUSIVE" in p for p in crowded)


def test_c10_answer_and_checklist_never_say_no_gain_where_prefetch_measured_faster():
    """Review r3 F-5, 04 quota: "tf.data: prefetch gave no gain in one case (C10)" and "Do not
    expect prefetch alone to raise throughput (C10 on TensorFlow: DOES NOT HOLD)" from a C10
    whose costly part measured x1.17 faster (1.03 → 0.88 s) beyond the spread, overlap visible."""
    from fitscope.verdicts.compare import compare

    costly = compare([1.02, 1.04], [0.87, 0.89])
    arrays = compare([45.0, 60.0], [55.0, 58.0], "per s")
    said = answer([(verdicts.c10(costly, True, arrays, 1.0), "TensorFlow")])
    text = " ".join(said.sentences + said.checklist)
    assert "no gain" not in text and "no measured gain" not in text and "Do not expect" not in text
    flat = compare([1.02, 1.04], [1.01, 1.03])  # no measurable difference: decided against
    same = compare([50.0, 51.0], [50.5, 50.0], "per s")
    nothing = answer([(verdicts.c10(flat, True, same, 1.0), "TensorFlow")])
    assert "tf.data: prefetch gave no measured gain (C10)." in nothing.sentences
    assert any(
        p.startswith("Here, with B = 1, prefetch gave no measured gain: measure yours")
        for p in nothing.checklist
    )


def test_the_bottleneck_follows_the_tf_data_diagnosis_decidedness():
    """Review r3 F-6, 05 quota cell 51: "tf.data prefetch's input share 25% (29%, 35%, 20%, 3%)
    is beyond the noise floor: the input is still the bottleneck (the arrays-in-memory control's
    shares reach 1%)" while its own diagnosis (cell 41) was "inconclusive (the 4 repeats put the
    input share between 3% and 35%, on both sides of the 5% and 20% lines)"."""
    fast = replace(
        TFD, verdict="inconclusive", step_in_fit_s=0.05, steps_in_fit_s=[0.05, 0.051, 0.049],
        input_share=0.25, shares=[0.29, 0.35, 0.20, 0.03],
    )  # fmt: skip
    floor = replace(ARRAYS, shares=[0.01, 0.0, 0.005], input_share=0.005)
    v = article_advice([GEN, fast], 1.0, floor)
    assert v.verdict == HOLDS  # throughput decides the advice; the bottleneck is words
    assert "still the bottleneck" not in v.because.replace("whether the input is still the", "")
    assert "25% (29%, 35%, 20%, 3%) is undecided by its own diagnosis" in v.because
    assert "whether the input is still the bottleneck is INCONCLUSIVE" in v.because
    # decided not input-bound, above a 1 % floor: no longer the bottleneck, never "still"
    low = replace(fast, verdict="not input-bound", input_share=0.03, shares=[0.03, 0.02, 0.04])
    said = article_advice([GEN, low], 1.0, floor).because
    assert "not input-bound by its own diagnosis" in said and "the input is still" not in said
    # decided input-bound with every repeat beyond the floor: still the bottleneck
    high = replace(fast, verdict="highly input-bound", shares=[0.29, 0.35, 0.21])
    assert (
        "beyond the noise floor: the input is still"
        in article_advice([GEN, high], 1.0, floor).because
    )
    # undecided only between moderately and highly (review r5: repeats 8-53 %): input-bound
    mid = replace(fast, shares=[0.08, 0.53, 0.30], input_share=0.30)
    said = article_advice([GEN, mid], 1.0, floor).because
    assert "beyond the noise floor: the input is still" in said and "INCONCLUSIVE" not in said


def test_c10_checklist_names_the_case_that_gained():
    """Review r3 F-0/F-5, 04 quick: "With a producer that costs real time, add prefetch (C10 on
    TensorFlow: HOLDS)" while the costly-producer part read "no measurable difference: inside
    the spread (x0.99; 1.33 → 1.34 s)" and C10 held through the in-memory arrays alone (x3.94,
    291.3 → 1148.6 steps/s, medians of 2)."""
    from fitscope.verdicts.compare import compare

    costly = compare([1.33, 1.60, 1.20], [1.34, 1.36, 1.30])  # inside the spread, up to x1.23
    arrays = compare([154.0, 429.0], [889.0, 1408.0], "per s")
    v = verdicts.c10(costly, True, arrays, 2.0)
    assert v.verdict == HOLDS
    points = answer([(v, "TensorFlow")]).checklist
    said = next(p for p in points if "prefetch" in p)
    assert "costs real time, add prefetch" not in said
    assert said.startswith("Here prefetch raised throughput with in-memory arrays")
    assert "with a costly producer it was undecided" in said
    both = verdicts.c10(compare([1.2, 1.21], [0.9, 0.91]), True, arrays, 2.0)
    assert any("costs real time, add prefetch" in p for p in answer([(both, "TF")]).checklist)


def test_c10_an_undecided_gain_without_visible_overlap_decides_nothing():
    """Review: one run each, x1.05, no overlap on the timeline read DOES NOT HOLD, and the answer
    said 'prefetch gave no measured gain'."""
    from fitscope.verdicts import compare
    from fitscope.verdicts.tfdata_claims import c10_parts

    v = verdicts.c10(compare([2.0], [1.9]), False, compare([50, 52], [51, 50], "per s"))
    costly, arrays = c10_parts(v.evidence)
    assert costly == INCONCLUSIVE and arrays == DOES_NOT_HOLD  # the arrays part decides it


def test_the_checklist_says_every_backend_only_where_more_than_one_was_measured():
    """r8, 04: "here it was the same on every backend measured" on a card with C1 for TensorFlow
    alone."""
    from fitscope.verdicts.verdict import Verdict

    c1 = Verdict("C1", DOES_NOT_HOLD, "next() ran on a tf.data thread", {})
    one = next(p for p in answer([(c1, "TensorFlow")]).checklist if "which thread" in p)
    assert "every backend" not in one and "the one backend measured" in one
    two = answer([(c1, "TensorFlow"), (c1, "JAX")]).checklist
    assert any("the same on every backend measured" in p for p in two)


def test_c12_s_parts_say_their_saving_and_the_band_that_decided_them():
    """Review r9, 01b: JAX's pure-Python part read "0.389 s against an overlapped bound of
    0.274 s and a sequential sum of 0.452 s (HOLDS)" with no word that it reached 35 % of the
    possible saving, inside the 15 % band around the sum that the rule reads as no overlap."""
    part = dict(
        name="pure Python", measured_s=0.389, sequential_s=0.452, overlapped_s=0.274,
        pure_python=True,
    )  # fmt: skip
    v = verdicts.c12("JAX", [part], budget=2, step_ms=8)
    assert "(HOLDS, 35 % of the possible saving, within 15 % of the sum)" in v.because
    between = dict(part, measured_s=0.36)
    said = verdicts.c12("JAX", [between], budget=2, step_ms=8).because
    assert "(DEPENDS, 52 % of the possible saving, between the two 15 % bands)" in said
    assert consistency.check_reading(f"C12 HOLDS: {v.because}") == []
