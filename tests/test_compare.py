"""The one comparison rule on made-up numbers: slow-downs, spreads, one run each, the fastest,
positions against bounds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitscope import verdicts
from fitscope.instrument.errors import FitscopeInputError
from fitscope.verdicts import (
    BEATS_BOUND,
    FASTER,
    MIN_GAIN,
    NO_DIFFERENCE,
    SLOWER,
    UNDECIDED,
    Spread,
    compare,
    fastest,
    position,
    share_of_bound,
)


def test_a_slow_down_is_called_one():
    c = compare([179.6], [127.7], unit="per s")
    assert c.word == SLOWER and c.ratio < 1
    assert c.sentence.startswith("29 % slower") and "gain" not in c.sentence


def test_a_speed_up_from_repeats_quotes_medians():
    c = compare([0.50, 0.52, 0.49], [0.36, 0.35, 0.37])
    assert c.word == FASTER and c.decided
    assert c.sentence == "x1.39 faster (0.500 → 0.360 s, medians of 3)"


def test_times_and_rates_read_the_same_way():
    assert compare([2.0, 2.1], [1.0, 1.1]).word == FASTER  # less time: faster
    assert compare([2.0, 2.1], [1.0, 1.1], unit="steps/s").word == SLOWER  # lower rate: slower


def test_overlapping_ranges_are_no_difference():
    c = compare([0.50, 0.47, 0.53], [0.49, 0.46, 0.52])
    assert c.word == NO_DIFFERENCE and "inside the spread" in c.sentence and not c.decided


def test_a_difference_beyond_the_spread_but_under_five_percent_is_none():
    c = compare([1.00, 1.001], [0.97, 0.971])
    assert c.word == NO_DIFFERENCE and "5 %" in c.sentence


@pytest.mark.parametrize(
    "before, after, word", [(0.50, 0.47, UNDECIDED), (0.50, 0.40, FASTER), (0.40, 0.50, SLOWER)]
)
def test_one_run_each_decides_only_past_min_gain(before, after, word):
    c = compare(before, after)
    assert c.word == word
    assert ("one run" in c.sentence) and ((word == UNDECIDED) == ("undecided" in c.sentence))


def test_one_run_against_repeats():
    assert compare([0.5, 0.6, 0.55], 0.52).word == NO_DIFFERENCE  # inside their range
    assert compare([0.5, 0.51], 0.47).word == UNDECIDED  # outside, but under x1.15
    assert compare([0.5, 0.51], 0.30).word == FASTER


def test_nonpositive_values_are_refused():
    with pytest.raises(FitscopeInputError):
        compare([0.0], [1.0])
    with pytest.raises(FitscopeInputError):
        compare([], [1.0])


def test_fastest_only_beyond_the_spread():
    f = fastest({"a": [1.0, 1.1], "b": [0.5, 0.55], "c": [0.8, 0.82]})
    assert f.winner == "b" and f.order == ("b", "c", "a") and "'c', the next best" in f.sentence
    close = fastest({"in memory": [0.40, 0.43], "prefetch": [0.41, 0.42]})
    assert close.winner is None and "cannot be told apart" in close.sentence
    assert fastest({"x": [10.0], "y": [30.0]}, unit="steps/s").winner == "y"
    with pytest.raises(FitscopeInputError):
        fastest({"only": [1.0]})


def test_no_fastest_prints_both_ranges_and_the_runs_between_it_beats():
    """05's review: "no run is fastest: 'tf.data prefetch' and 'PyDataset processes' cannot be
    told apart (x1.43 ...)" beside A1's "x1.42 faster" against the generator: the sentence
    printed no ranges, and named the slowest by median while the runner-up was beaten."""
    runs = {
        "tf.data prefetch": [0.0169, 0.018, 0.0192],
        "PyDataset threads": [0.0300, 0.0312, 0.0330],
        "PyDataset processes": [0.0175, 0.0401, 0.0601],
    }
    f = fastest(runs)
    assert f.winner is None
    assert f.sentence.startswith(
        "no run is fastest: 'tf.data prefetch' (repeats 0.0169–0.0192 s) and "
        "'PyDataset processes' (repeats 0.0175–0.0601 s) cannot be told apart, "
    )
    assert "'PyDataset threads', between the two by median, is slower than 'tf.data" in f.sentence
    close = fastest({"a": [1.0, 1.1], "b": [1.05, 1.0]})
    assert "between" not in close.sentence and "(repeats 1.00–1.05 s)" in close.sentence
    assert "(one run, 1.00 s)" in fastest({"a": 1.0, "b": 1.05}).sentence


def test_no_pair_is_compared_when_the_runs_costs_differ():
    """Review r3 F-2, 02 cell 37: "no run is fastest: their own costs of the same work differ
    x2.03 …; 'PyDataset' against 'bounded queue': x1.53 faster (100.0 → 153.4 steps/s, one run
    each)" — the refusal said the runs are unlike, then the clause compared them."""
    f = fastest(
        {"bounded queue": [100.0], "PyDataset": [153.4]},
        unit="steps/s",
        costs={"bounded queue": 1.0, "PyDataset": 2.03},
    )
    assert f.winner is None and f.sentence.startswith("no run is fastest")
    assert "x2.03" in f.sentence and "not compared" in f.sentence
    assert "x1.53" not in f.sentence and "faster" not in f.sentence
    assert "against" not in f.sentence and "machine changed" not in f.sentence  # not measured
    # the whole class: any costs apart past MIN_GAIN with one run each, whichever side is ahead
    for ratio in (1.16, 1.28, 1.71):
        r = fastest({"one": 129.0, "two": 100.0}, unit="steps/s", costs={"one": 1, "two": ratio})
        assert r.winner is None and not re.search(r"x\d+\.\d+ faster|% slower", r.sentence)


def test_a_run_with_every_repeat_above_the_sum_is_called_slower():
    """Review r3 F-15, 03 default cell 22: "naive: 2.40 s measured (median of 3, 2.39–2.83 s) …
    no faster than one after the other (2.404 s against 2.003 s: 20 % longer, inside the 0.44 s
    spread)" - all three repeats above the 2.00 s sum, the margin the range one outlier made."""
    from fitscope.verdicts.bounds import slower_than_sum

    naive = [2.39, 2.404, 2.83]
    assert slower_than_sum(naive, 2.003, Spread.of(naive).width)
    said = share_of_bound(naive, 1.5, sequential_s=2.003)
    assert (
        "slower than one after the other: 20 % longer" in said and "every repeat above it" in said
    )
    assert "no faster" not in said and "inside the" not in said
    # one repeat at or under the sum: the slow-down stays inside the spread, said so
    mixed = share_of_bound([2.0, 2.404, 2.83], 1.5, sequential_s=2.003)
    assert "no faster than one after the other" in mixed and "inside the 0.83 s spread" in mixed
    # one run: the margin alone decides (no repeats to be all above)
    assert not slower_than_sum(2.1, 2.003, 0.3) and slower_than_sum(2.4, 2.003, 0.3)


def test_a_beaten_bound_is_flagged_never_over_100_percent():
    assert position(0.7, 2.0, 1.0) == BEATS_BOUND
    assert position([0.95, 0.96], 2.0, 1.0) == BEATS_BOUND  # beyond its own 0.01 s spread
    assert position(0.9, 2.0, 1.0) == verdicts.NEAR_OVERLAPPED  # within the 15 % tolerance
    assert share_of_bound(0.7, 1.0).startswith(BEATS_BOUND)
    assert share_of_bound(0.9, 1.0).startswith("at the ideal bound")
    assert share_of_bound(2.0, 1.0) == "50 % of the ideal bound"


times = st.lists(st.floats(0.01, 100.0), min_size=1, max_size=5)


@given(times, times)
def test_a_ratio_under_one_is_never_a_gain(before, after):
    c = compare(before, after)
    if c.ratio < 1:
        assert c.word != FASTER and "faster" not in c.sentence
        assert not re.search(r"\bgain", c.sentence)
    if c.ratio > 1:
        assert c.word != SLOWER and "slower" not in c.sentence


@given(times, times)
def test_overlapping_spreads_are_never_decided(before, after):
    a, b = Spread.of(before), Spread.of(after)
    c = compare(before, after)
    if a.meets(b) or (a.n == 1 and b.n == 1 and 1 / MIN_GAIN < c.ratio < MIN_GAIN):
        assert not c.decided


@given(st.dictionaries(st.sampled_from("abcd"), times, min_size=2))
def test_the_fastest_beats_every_other_beyond_the_spread(runs):
    f = fastest(runs)
    if f.winner is not None:
        assert all(
            compare(v, runs[f.winner]).word == FASTER for k, v in runs.items() if k != f.winner
        )


@given(st.floats(0.01, 10.0), st.floats(0.01, 10.0), st.floats(0.01, 10.0))
def test_share_of_bound_never_reads_over_100_percent(t, overlapped, extra):
    text = share_of_bound(t, overlapped)
    if "%" in text and "tolerance" not in text:
        assert int(text.split(" %")[0]) <= 100
    assert (position(t, overlapped + extra, overlapped) == BEATS_BOUND) == text.startswith(
        BEATS_BOUND
    )


def test_a_ratio_is_judged_as_printed():
    """x1.147 prints as x1.15: the reader sees the threshold reached, and so does the rule."""
    c = compare(1.147, 1.0)
    assert c.word == FASTER and c.sentence.startswith("x1.15 faster")


@given(times, times)
def test_an_undecided_ratio_as_printed_is_inside_the_threshold(before, after):
    c = compare(before, after)
    shown = re.search(r"x(\d+\.\d\d) (is inside|with one run)", c.sentence)
    if shown:
        assert 1 / MIN_GAIN < float(shown.group(1)) < MIN_GAIN, c.sentence


def test_a_time_over_the_sum_is_never_read_as_an_overlap():
    """03's case: 0.436 s against 0.401 s one after the other, a 9 % slow-down."""
    beyond = verdicts.share_of_bound([0.436, 0.43, 0.44], 0.3, sequential_s=0.401)
    assert "slower than one after the other: 9 % longer" in beyond
    inside = verdicts.share_of_bound([0.436, 0.40, 0.47], 0.3, sequential_s=0.401)
    assert "no faster than one after the other" in inside and "9 % longer" in inside
    assert "one after the other" not in verdicts.share_of_bound(0.35, 0.3, sequential_s=0.401)
