"""fitscope.lessons.tfdata (notebook 03) on tiny workloads: structure and logic, never timings."""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitscope import verdicts
from fitscope.best_of_each import (
    BestOfEach,
    Workload,
    generator_best,
    processes_best,
    tfdata_fit,
)
from fitscope.instrument.bounds import bounds, peak_concurrency, stage_bounds
from fitscope.instrument.budget import CpuBudget
from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.result import RunResult
from fitscope.instrument.threads import MAIN, TF_DATA, ThreadRoles
from fitscope.instrument.throughput import Throughput
from fitscope.instrument.tracing import Span
from fitscope.lessons.tfdata.examples import (
    EXAMPLE3_VARIANTS,
    Example3Runs,
    article_example3,
    example3_runs,
    rotations,
    tfdata_verdicts,
)
from fitscope.lessons.tfdata.gil import GilRuns, gil_reading, py_function_map
from fitscope.lessons.tfdata.pipelines import (
    FIELDS,
    VARIANTS,
    PipelineParams,
    build_pipeline,
    shape_of,
)
from fitscope.lessons.tfdata.runs import (
    PipelineRun,
    PipelineRuns,
    _graph_spans,
    measure_pipeline,
    overlap_share,
)
from fitscope.lessons.tfdata.sources import generator_vs_slices
from fitscope.lessons.tfdata.variants import tfdata_panel, tfdata_pipeline
from fitscope.show.against import AgainstBounds
from fitscope.show.charts import pipeline_timeline
from fitscope.verdicts.compare import MIN_GAIN
from fitscope.verdicts.consistency import check_reading
from fitscope.verdicts.tfdata_claims import c10_parts
from fitscope.verdicts.verdict import DEPENDS, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE
from fitscope.workloads import graph_costs as costs
from fitscope.workloads.graph_costs import graph_ops

TINY = PipelineParams(
    open_ms=1.0,
    read_ms=0.5,
    map_ms=0.5,
    train_ms=0.5,
    files=2,
    elements=8,
    epochs=2,
    vector_batch=3,
)
MAIN_TID = threading.main_thread().native_id


@pytest.fixture(scope="module")
def runs():
    return {v: tfdata_pipeline(v, TINY) for v in VARIANTS}


# -- inputs ----------------------------------------------------------------------------------
bad = st.one_of(
    st.just(-1),
    st.just(10**9),
    st.just(math.nan),
    st.just(math.inf),
    st.just("7"),
    st.none(),
    st.just(True),
    st.just(2.5),
)


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(
        [
            "open_ms",
            "read_ms",
            "map_ms",
            "train_ms",
            "files",
            "elements",
            "epochs",
            "buffer",
            "parallel",
            "cycle_length",
            "vector_batch",
        ]
    ),
    value=bad,
)
def test_bad_params_give_one_sentence(field, value):
    if field.endswith("_ms") and value == 2.5:
        return  # a fractional cost is fine
    with pytest.raises(FitscopeInputError) as e:
        PipelineParams(**{**vars(TINY), field: value})
    assert str(e.value).endswith(".") and "\n" not in str(e.value)


def test_more_files_than_elements_and_unknown_variants_are_refused():
    with pytest.raises(FitscopeInputError, match="at least the number of files"):
        PipelineParams(files=9, elements=8)
    with pytest.raises(FitscopeInputError, match="variant must be one of"):
        build_pipeline(TINY, "turbo")
    with pytest.raises(FitscopeInputError, match="variant must be one of"):
        tfdata_pipeline("turbo", TINY)
    with pytest.raises(FitscopeInputError, match="ms per batch"):
        Workload(ms_per_batch=0)
    with pytest.raises(FitscopeInputError, match="kind must be one of"):
        py_function_map("fortran", 1.0, 4)
    with pytest.raises(FitscopeInputError, match="source must be one of"):
        generator_vs_slices("csv")
    with pytest.raises(FitscopeInputError, match="variant must be one of"):
        article_example3("prefetch twice")


# -- the pipelines' graphs -------------------------------------------------------------------
@pytest.mark.parametrize(
    "variant, present, absent",
    [
        (
            "naive",
            {"FlatMapDataset", "MapDataset", "SleepDataset"},
            {"PrefetchDataset", "ParallelInterleaveDatasetV4", "ParallelMapDatasetV2"},
        ),
        ("prefetch", {"PrefetchDataset", "FlatMapDataset"}, {"ParallelInterleaveDatasetV4"}),
        (
            "parallel interleave",
            {"PrefetchDataset", "ParallelInterleaveDatasetV4"},
            {"ParallelMapDatasetV2"},
        ),
        (
            "parallel map",
            {"ParallelInterleaveDatasetV4", "ParallelMapDatasetV2"},
            {"BatchDatasetV2"},
        ),
        (
            "vectorised map",
            {"BatchDatasetV2", "ParallelMapDatasetV2", "UnbatchDataset"},
            {"CacheDatasetV2"},
        ),
        ("cache", {"CacheDatasetV2", "UnbatchDataset"}, set()),
    ],
)
def test_each_variant_really_has_its_transformations(variant, present, absent):
    ds = build_pipeline(TINY, variant)
    ops = graph_ops(ds)
    assert present <= set(ops) and not absent & set(ops)
    injected = ds.options().experimental_optimization.inject_prefetch
    assert injected is (False if variant == "naive" else None)
    assert ds.options().threading.max_intra_op_parallelism == 1


def test_a_pipeline_yields_every_element_of_every_epoch_once():
    rows = [e.numpy() for e in build_pipeline(TINY, "parallel map")]
    assert len(rows) == TINY.total_elements and len(rows[0]) == len(FIELDS)
    pairs = sorted((int(r[0]), int(r[1])) for r in rows)
    assert pairs == sorted([(f, i) for f in range(2) for i in range(4)] * 2)
    for r in rows:  # every piece of in-graph work ends after it starts
        assert r[3] >= r[2] and r[5] >= r[4] and r[7] >= r[6]


# -- runs: spans, threads, bounds ------------------------------------------------------------
def test_consumer_spans_are_on_the_calling_thread_and_graph_spans_have_no_thread(runs):
    for variant, r in runs.items():
        f = r.facts
        assert f["elements"] == TINY.total_elements == r.throughput.steps
        assert len(r.spans_of("train")) == len(r.spans_of("wait")) == TINY.total_elements
        assert f["train_spans_on"] == [MAIN_TID] and r.roles[MAIN_TID] == MAIN
        assert all(s.tid is None for s in r.spans_of("tf.data")), variant
        assert len(r.spans_of("epoch")) == TINY.epochs
        assert 0 < f["first_element_s"] <= f["measured_s"]


@pytest.mark.parametrize(
    "variant, opens, reads, maps",
    [
        ("naive", 4, 16, 16),
        ("prefetch", 4, 16, 16),
        ("parallel interleave", 4, 16, 16),
        ("parallel map", 4, 16, 16),
        ("vectorised map", 4, 16, 6),
        ("cache", 2, 8, 3),
    ],
)
def test_each_piece_of_work_is_one_graph_span(runs, variant, opens, reads, maps):
    # vectorised: batches of 3 from 8 elements = 3 calls an epoch; cache: the first epoch only
    assert runs[variant].facts["spans_by_label"] == {"open": opens, "read": reads, "map": maps}


class _Row:
    def __init__(self, *values):
        self.values = values

    def numpy(self):
        return self.values


def test_two_maps_that_agree_to_the_microsecond_are_still_two_spans():
    from fitscope.instrument.tracing import Tracer

    # file, index, open start/end, read start/end, map start/end: both maps ran at once
    rows = [_Row(0, 0, 1.0, 1.1, 1.1, 1.2, 1.3, 1.4), _Row(0, 1, 1.0, 1.1, 1.15, 1.25, 1.3, 1.4)]
    for vectorised, maps in ((False, 2), (True, 1)):  # a vectorised batch shares one map call
        tracer = Tracer()
        _graph_spans(tracer, rows, vectorised)
        labels = [s.label for s in tracer.spans("tf.data")]
        assert labels.count("map") == maps and labels.count("open") == 1
        assert labels.count("read") == 2


def test_bounds_and_efficiency_follow_from_the_measured_costs(runs):
    for r in runs.values():
        f = r.facts
        assert r.bounds.overlapped_s <= r.bounds.sequential_s
        against = AgainstBounds(f["repeats_s"], r.bounds.overlapped_s, r.bounds.sequential_s)
        assert f["efficiency"] == against.header() and f["against_kind"] == against.kind
        assert "efficient" not in f["efficiency"]  # a share is never read above 100 %
        assert r.bounds.sequential_s == pytest.approx(
            sum(s["wall_s"] for s in f["stages"]) + f["consumer_s"]
        )
    assert [s["workers"] for s in runs["naive"].facts["stages"]] == [1]
    interleave = runs["parallel interleave"].facts["stages"]
    assert [s["name"] for s in interleave] == ["open + read", "map"]
    assert interleave[1]["workers"] == 1 and runs["parallel map"].facts["stages"][1]["workers"] >= 1
    assert interleave[0]["only_waits"] and not interleave[1]["only_waits"]
    # the cache pays the producer once: half the producer work of two epochs without it
    cached, vectorised = runs["cache"].facts["stages"], runs["vectorised map"].facts["stages"]
    assert cached[0]["wall_s"] == pytest.approx(vectorised[0]["wall_s"] / 2)


def test_a_waiting_stage_gets_as_many_workers_as_tf_data_really_ran(runs):
    for variant in ("parallel interleave", "parallel map", "vectorised map", "cache"):
        r = runs[variant]
        source = [(s.start_ns, s.end_ns) for s in r.spans_of("tf.data") if s.label != "map"]
        configured = min(TINY.cycle_length, TINY.files)
        assert r.facts["stages"][0]["workers"] == max(configured, peak_concurrency(source))
    assert runs["prefetch"].facts["stages"][0]["workers"] == 1


def test_the_variants_show_themselves_as_a_chart_and_a_table(runs):
    shown = PipelineRuns(runs.values())
    assert shown["naive"] is runs["naive"] and shown[0] is runs["naive"]
    assert [row[0] for row in shown.table().rows] == list(VARIANTS)
    assert str(shown).startswith(shown.fastest().sentence + ".") and "<img" in shown._repr_html_()
    assert shown.baseline() is runs["naive"]  # every run is also read against it
    assert str(runs["prefetch"]).startswith("prefetch: ") and "\n" not in str(runs["prefetch"])
    assert [row[0] for row in shown.gains().rows] == list(VARIANTS[1:])


def _made_up(name: str, *times: float) -> RunResult:
    return RunResult(
        name,
        facts={
            "variant": name,
            "measured_s": sorted(times)[len(times) // 2],
            "repeats_s": sorted(times),
        },
    )


def test_fastest_and_gains_are_named_only_beyond_the_spread():
    close = PipelineRuns([_made_up("a", 1.0, 1.1, 1.2), _made_up("b", 1.05, 1.1, 1.15)])
    assert close.fastest().winner is None
    assert close.gains().reading.startswith("No step was faster")
    apart = PipelineRuns(
        [_made_up("a", 2.0, 2.1, 2.2), _made_up("b", 1.0, 1.05, 1.1), _made_up("c", 0.9, 0.95, 1.0)]
    )
    assert apart.fastest().winner is None  # c is inside b's spread
    assert "'b', x2.00 faster" in apart.gains().reading


def _with_bounds(name: str, sequential_s: float, ahead: bool, *times: float) -> PipelineRun:
    from fitscope.instrument.bounds import Bounds

    r = PipelineRun(**vars(_made_up(name, *times)))
    r.bounds = Bounds(sequential_s=sequential_s, overlapped_s=sequential_s * 0.7)
    against = AgainstBounds(list(times), r.bounds.overlapped_s, r.bounds.sequential_s)
    r.facts.update(
        inject_prefetch=None if ahead else False,
        shape={"prefetched": ahead, "interleaved": False, "parallel_map": False, "cached": False},
        overlap_share=0.5 if ahead else 0.0,
        efficiency=against.header(),
        against_kind=against.kind,
        process_cpu_s=0.5,
        sequential_s=sequential_s,
    )
    return r


def test_a_run_is_read_against_the_measured_no_overlap_pipeline_too():
    """03's review: prefetch read "no faster than one after the other (2.131 s against 2.047 s)"
    while the naive pipeline, with no overlap by construction, took 2.99 s: x1.40 slower, ranges
    apart. The reading must show that overlap, and name a run slower than the sum, with why."""
    naive = _with_bounds("naive", 2.05, False, 2.9, 2.99, 3.1)
    prefetch = _with_bounds("prefetch", 2.05, True, 2.0, 2.13, 2.2)
    prefetch.facts["baseline"] = {
        "variant": "naive",
        "repeats_s": [2.9, 2.99, 3.1],
        "sequential_s": 2.05,
    }
    said = str(prefetch)
    assert "no faster than one after the other" in said
    assert "Against 'naive', measured with no overlap: x1.40 faster" in said
    assert "The overlap is real" in said
    assert "slower than one after the other" in str(naive) and "measured alone" in str(naive)
    reading = PipelineRuns([naive, prefetch]).table().reading
    assert "'prefetch' read no faster than the one-after-the-other sum, yet beat 'naive'" in reading
    assert "Slower than one after the other: 'naive'." in reading
    # less work (a vectorised map's smaller sum) beating naive shows no overlap
    less = _with_bounds("vectorised map", 1.2, True, 1.2, 1.25, 1.3)
    assert "yet beat" not in PipelineRuns([naive, less]).table().reading


def test_best_of_each_names_no_winner_when_the_runs_paid_different_costs():
    """03's review: "'03 tf.data' is fastest: x1.68 faster than '02' (one run each)" with
    one-after-the-other sums of 0.93, 1.41 and 0.98 s for the same workload."""
    from fitscope.instrument.bounds import Bounds
    from fitscope.instrument.throughput import Throughput

    def run(t: float, seq: float) -> RunResult:
        r = RunResult("x", throughput=Throughput(steps=10, elapsed_s=t))
        r.bounds = Bounds(sequential_s=seq, overlapped_s=seq / 2)
        return r

    best = BestOfEach([("01", run(1.37, 0.93)), ("02", run(0.57, 1.41)), ("03", run(0.33, 0.98))])
    assert best.fastest().winner is None
    assert "costs of the same work differ x1.52" in best.table().reading
    same = BestOfEach([("01", run(1.37, 0.93)), ("02", run(0.57, 0.95)), ("03", run(0.33, 0.98))])
    assert same.fastest().winner == "03"


def test_a_pipeline_written_as_the_notebook_does_is_measured_like_the_package_variant():
    tf = costs.tensorflow()
    opts = tf.data.Options()
    opts.threading.max_intra_op_parallelism = 1
    opts.experimental_optimization.inject_prefetch = False
    written = (
        tf.data.Dataset.range(TINY.files)
        .interleave(
            costs.file_reader(TINY.per_file, TINY.open_ms, TINY.read_ms),
            cycle_length=TINY.cycle_length,
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .map(costs.timed_map(TINY.map_ms), num_parallel_calls=tf.data.AUTOTUNE)
        .repeat(TINY.epochs)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(opts)
    )
    assert shape_of(written) == shape_of(build_pipeline(TINY, "parallel map"))
    r = measure_pipeline(written, TINY, "mine", repeats=2)
    assert r.facts["variant"] == "mine" and len(r.facts["repeats_s"]) == 2
    assert r.facts["measured_s"] in r.facts["repeats_s"]
    assert r.facts["elements"] == TINY.total_elements
    assert r.facts["spans_by_label"] == {"open": 4, "read": 16, "map": 16}
    assert "%" in r.facts["efficiency"] or "ideal bound" in r.facts["efficiency"]
    with pytest.raises(FitscopeInputError, match="works ahead"):
        r.must_hold()


def test_stage_bounds_reduce_to_the_formula_and_waiting_is_not_capped_by_b():
    one = stage_bounds([("p", 4.0, 4.0, 4, False)], 1.0, 0.5, 2.0)
    assert one.overlapped_s == bounds(4.0, 1.0, 4, 2.0, 4.0, 0.5).overlapped_s == 2.25
    assert one.sequential_s == 5.0
    waiting = stage_bounds([("read", 4.0, 0.0, 4, True)], 0.5, 0.0, 2.0)
    assert waiting.overlapped_s == 1.0  # 4 waiting workers, 2 CPUs: 4 s / 4
    two = stage_bounds([("read", 4.0, 0.2, 4, True), ("map", 3.0, 3.0, 1, False)], 1.0, 0.0, 2.0)
    assert two.overlapped_s == 3.0 and two.sequential_s == 8.0


def test_overlap_share_counts_only_time_covered_by_producer_work():
    r = RunResult(
        "x",
        spans=[
            Span("s", "train", 0, 10, 1),
            Span("s", "train", 20, 30, 1),
            Span("r", "tf.data", 5, 25, None),
            Span("r", "tf.data", 8, 9, None),
        ],
    )
    assert overlap_share(r) == pytest.approx(10 / 20)
    assert overlap_share(RunResult("empty")) == 0.0


def test_naive_run_does_not_overlap_its_own_producer(runs):
    # without a prefetch the consumer asks for each element and waits: the producer works only then
    assert runs["naive"].facts["overlap_share"] < 0.01
    assert str(runs["naive"].must_hold()) == "All 1 checks held."


def test_pipeline_timeline_packs_graph_spans_into_lanes(runs):
    chart = pipeline_timeline(runs["parallel map"])
    assert chart.summary.startswith("Pipeline timeline of ")
    labels = [t.get_text() for t in chart.figure.axes[0].get_yticklabels()]
    assert labels[0].startswith("main") and any(t.startswith("in-graph work") for t in labels)


# -- verdicts are the rules applied to the evidence ------------------------------------------
def _timed(name: str, elapsed: float, steps: int = 100, budget: float = 2.0, **facts) -> RunResult:
    return RunResult(
        name,
        throughput=Throughput(steps=steps, elapsed_s=elapsed),
        budget=CpuBudget(budget, int(max(budget, 1)), None, None),
        facts=facts,
    )


def _gil(*elapsed: float, budget: float = 2.0) -> dict:
    keys = [(kind, par) for kind in ("numpy", "python") for par in (1, 2)]
    return {k: _timed(str(k), t, budget=budget) for k, t in zip(keys, elapsed)}


@pytest.mark.parametrize(
    "naive_s, pre_s, share, off_s, on_s",
    [
        (2.0, 1.0, 0.9, 1.0, 1.0),
        (2.0, 1.0, 0.1, 1.0, 1.0),
        (1.1, 1.0, 0.9, 1.0, 0.5),
        (1.0, 1.0, 0.0, 1.0, 1.0),
    ],
)
def test_c10_verdict_is_the_rule_on_measured_numbers(naive_s, pre_s, share, off_s, on_s):
    pipelines = {"naive": _timed("n", naive_s), "prefetch": _timed("p", pre_s, overlap_share=share)}
    example3 = {"no prefetch, injection off": _timed("off", off_s), "prefetch": _timed("on", on_s)}
    v, _ = tfdata_verdicts(pipelines, example3, _gil(1.0, 1.0, 1.0, 1.0))
    rule = verdicts.c10(
        verdicts.compare(naive_s, pre_s),
        share >= verdicts.OVERLAP_VISIBLE_SHARE,
        verdicts.compare(1 / off_s, 1 / on_s, unit="per s"),
    )
    assert v.verdict == rule.verdict and v.claim_id == "C10"
    assert "with B = 2." in v.because and v.evidence["budget"] == 2.0


def test_c10_in_memory_part_is_decided_only_beyond_the_twin_pipelines_noise():
    """Review r4 N-1, 03 cell 12: "against injection off: 37 % slower (1646.1 → 1032.3 steps/s,
    medians of 2)" read DOES NOT HOLD, while the twin pipelines ("no prefetch" gets a prefetch
    injected, so it is ".prefetch" again) gave fits 1012, 1053 and 1036, 1730: x1.71 apart."""
    costly = verdicts.compare(
        [1.88, 1.9, 1.92], [0.98, 1.0, 1.02]
    )  # HOLDS: the in-memory part decides C10 between HOLDS and DEPENDS
    arrays = verdicts.compare(
        [1524.0, 1768.0], [1012.0, 1053.0], "per s"
    )  # 37 % slower, beyond spread
    twins = verdicts.compare([1036.0, 1730.0], [1012.0, 1053.0], "per s")
    assert verdicts.twin_noise(twins) == 1.71
    assert verdicts.c10(costly, True, arrays).verdict == DEPENDS  # without the twins: as before
    inside = verdicts.c10(costly, True, arrays, twin=twins)
    assert inside.verdict == HOLDS and c10_parts(inside.evidence)[1] == INCONCLUSIVE
    assert (
        "(INCONCLUSIVE: the twin pipelines differ by x1.71, at least as much as the gap (x1.59))"
        in (inside.because)
    )
    assert "DOES NOT HOLD" not in inside.because and verdicts.rejudge(inside) == inside
    quiet = verdicts.compare([1040.0, 1050.0], [1012.0, 1053.0], "per s")  # twins x1.04 apart
    beyond = verdicts.c10(costly, True, arrays, twin=quiet)  # the x1.59 gap is far beyond it
    assert beyond.verdict == DEPENDS and c10_parts(beyond.evidence)[1] == DOES_NOT_HOLD
    gain = verdicts.compare([600.0, 610.0], [1012.0, 1053.0], "per s")  # x1.71 faster
    assert c10_parts(verdicts.c10(costly, True, gain, twin=quiet).evidence)[1] == HOLDS
    flat = verdicts.compare([0.98, 1.0, 1.02], [0.98, 1.0, 1.02])
    swallowed = verdicts.c10(flat, True, gain, twin=twins)  # x1.71: no larger than the noise
    assert c10_parts(swallowed.evidence)[1] == INCONCLUSIVE
    assert swallowed.verdict == INCONCLUSIVE and "leans HOLDS: the twin pipelines" in (
        swallowed.because
    )  # a gain inside the noise is undecided, and the claim is not decided against it


@pytest.mark.parametrize(
    "twin_fits, part",
    [((1000.0, 1010.0), DOES_NOT_HOLD), ((1000.0, 1300.0), INCONCLUSIVE)],
)
def test_c10_no_difference_decides_against_only_where_x1_2_would_show_beyond_the_twins(
    twin_fits, part
):
    same = verdicts.compare([1000.0, 1010.0], [1005.0, 1008.0], "per s")  # no measurable difference
    twins = verdicts.compare(list(twin_fits), [1005.0, 1008.0], "per s")
    v = verdicts.c10(verdicts.compare([1.9, 1.91], [1.0, 1.01]), True, same, twin=twins)
    assert c10_parts(v.evidence)[1] == part


def _fits(variant: str, rates: tuple[float, ...], order: tuple[int, ...]) -> RunResult:
    return _timed(
        variant,
        1.0,
        repeats_steps_per_s=list(rates),
        run_order=list(order),
        prefetch_ops_in_graph=int(variant == "prefetch"),
        inject_prefetch=False if "injection off" in variant else None,
    )


def test_example3_reads_the_in_memory_gap_against_its_twins_and_says_the_order():
    """Review r4 N-1 on 03's numbers: the table says how far the twins lie apart and the order
    each repeat ran in, and C10's in-memory part is undecided inside the twins' noise."""
    fits = {"prefetch": (1012, 1053), "no prefetch": (1036, 1730)}
    fits["no prefetch, injection off"] = (1524, 1768)
    places = dict(zip(EXAMPLE3_VARIANTS, ((1, 3), (2, 1), (3, 2))))  # rotations(..., 2)
    example3 = Example3Runs({v: _fits(v, fits[v], places[v]) for v in EXAMPLE3_VARIANTS})
    reading = example3.table().reading
    assert "their fits differ by what this run cannot attribute, up to x1.71 here" in reading
    assert (
        "(1: 'prefetch', 'no prefetch', 'no prefetch, injection off'; 2: 'no prefetch', "
        "'no prefetch, injection off', 'prefetch')" in reading
    )
    pipelines = {"naive": _timed("n", 2.0), "prefetch": _timed("p", 1.0, overlap_share=0.9)}
    c10, _ = tfdata_verdicts(pipelines, example3, _gil(1.0, 1.0, 1.0, 1.0))
    assert "37 % slower" in c10.because and "(DOES NOT HOLD)" not in c10.because
    assert "the twin pipelines differ by x1.71, at least as much as the gap (x1.59)" in c10.because
    assert c10.verdict == HOLDS and check_reading(str(c10)) == []
    alone = {v: r for v, r in example3.items() if v != "no prefetch"}  # no twin: the gap decides
    assert tfdata_verdicts(pipelines, alone, _gil(1.0, 1.0, 1.0, 1.0))[0].verdict == DEPENDS


def test_rotated_repeats_run_no_pipeline_always_first():
    assert rotations(("a", "b", "c"), 3) == [("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b")]
    runs = example3_runs(samples=320, epochs=1, repeats=2)
    assert [runs[v].facts["run_order"] for v in EXAMPLE3_VARIANTS] == [[1, 3], [2, 1], [3, 2]]
    assert all(len(r.facts["repeats_steps_per_s"]) == 2 for r in runs.values())
    assert str(runs.must_hold()) == "All 4 checks held."
    assert "so none always ran first" in runs.table().reading


def test_a_gil_map_reads_its_median_and_says_a_bound_beaten():
    """Review r4 N-4 and N-12, 03 cell 57: "24 steps in 0.11 s (214.5 steps/s), 123% of the
    ideal overlapped bound", while the GIL table printed the median, 0.12 s."""
    from fitscope.instrument.bounds import Bounds

    r = RunResult(
        "py_function map (python, parallel=1)",
        throughput=Throughput(steps=24, elapsed_s=0.112),
        params={"kind": "python"},
        bounds=Bounds(sequential_s=0.1365, overlapped_s=0.1365),
        facts={"repeats_s": [0.112, 0.128], "workers": 1},
    )
    said = gil_reading(r)
    assert said.startswith(
        "py_function map (python, parallel=1): 24 steps in 0.120 s, the median of 2 repeats "
        "(the table shows the faster, 0.112 s): " + verdicts.BEATS_BOUND
    )
    assert check_reading(said) == [] and "GIL" not in said  # a sequential map splits nothing
    r.params["kind"], r.facts["workers"] = "python", 2
    assert "the GIL lets one thread run Python at a time" in gil_reading(r)


def test_the_pure_python_bound_is_one_threads_pace_whatever_the_parallel_calls():
    r = py_function_map("python", 1.0, elements=6, parallel=2, repeats=1)
    assert r.facts["workers"] == 2
    assert r.bounds.overlapped_s == pytest.approx(r.bounds.sequential_s)
    assert "not the work split over the 2 calls" in str(r)


@pytest.mark.parametrize("budget", [1.0, 2.0, 16.0])
def test_c11_verdict_is_the_rule_on_measured_numbers(budget):
    pipelines = {v: _timed(v, 1.0, budget=budget, overlap_share=0.5) for v in ("naive", "prefetch")}
    example3 = {v: _timed(v, 1.0) for v in ("no prefetch, injection off", "prefetch")}
    _, v = tfdata_verdicts(pipelines, example3, _gil(2.0, 1.0, 1.0, 1.0, budget=budget))
    assert (
        v.verdict
        == verdicts.c11(verdicts.compare(2.0, 1.0), verdicts.compare(1.0, 1.0), budget).verdict
    )
    assert f"B = {budget:g}" in v.because
    if budget < 2:
        assert v.verdict == verdicts.INCONCLUSIVE


def test_c11_reads_pure_python_against_the_limit_the_gil_table_names():
    """03 quick run: the GIL table called x2.25 beyond its x1.75 limit variation between the
    repeats, while C11's pure-Python part read HOLDS on it."""

    def run(*repeats: float, **facts) -> RunResult:
        return _timed("m", repeats[0], repeats_s=list(repeats), **facts)

    gil = {
        ("numpy", 1): run(0.20, 0.21),
        ("numpy", 2): run(0.20, 0.205),  # no measurable difference
        ("python", 1): run(0.27, 0.28, calls_s=0.27 / 1.75),  # the calls: 57 % of its time
        ("python", 2): run(0.12, 0.124),  # x2.25 faster
    }
    pipelines = {v: _timed(v, 1.0, overlap_share=0.5) for v in ("naive", "prefetch")}
    example3 = {v: _timed(v, 1.0) for v in ("no prefetch, injection off", "prefetch")}
    _, v = tfdata_verdicts(pipelines, example3, gil)
    assert "The x2.25 measured is beyond the x1.75" in GilRuns(gil).outside_the_gil()
    assert v.verdict == DOES_NOT_HOLD and "(INCONCLUSIVE: the x2.25" in v.because
    assert v.evidence["gil_limit"] == pytest.approx(1.75)
    gil[("python", 2)] = run(0.18, 0.185)  # x1.5: within the limit, read as before
    _, w = tfdata_verdicts(pipelines, example3, gil)
    assert "beyond" not in GilRuns(gil).outside_the_gil() + w.because
    assert w.verdict == DEPENDS and "(HOLDS)" in w.because


def test_maps_whose_own_cost_of_one_call_moved_are_not_compared_as_like():
    """Review r7, 03: the pure-Python maps' ideal bounds were 0.14 and 0.0951 s (x1.47) for the
    same calls, each timed alone before its run; the table and C11 read x1.62 as a speed-up."""

    from fitscope.instrument.bounds import Bounds

    def run(*repeats: float, call_s: float) -> RunResult:
        r = _timed("m", repeats[0], repeats_s=list(repeats), cost_per_call=(call_s, call_s))
        r.bounds, r.facts["threads_that_ran_python"] = Bounds(24 * call_s, 24 * call_s), 1
        return r

    gil = {
        ("numpy", 1): run(0.14, 0.15, call_s=0.0030),
        ("numpy", 2): run(0.08, 0.11, call_s=0.0031),  # alike: x1.03
        ("python", 1): run(0.19, 0.21, call_s=0.0058),
        ("python", 2): run(0.12, 0.13, call_s=0.0040),  # x1.45 apart
    }
    runs = GilRuns(gil)
    assert runs.apart("numpy") < MIN_GAIN < runs.apart("python")
    assert "pure-Python maps' own costs of one call, timed alone, differ x1.45" in runs.unlike()
    assert "NumPy" not in runs.unlike() and runs.unlike() in runs.table().reading
    pipelines = {v: _timed(v, 1.0, overlap_share=0.5) for v in ("naive", "prefetch")}
    example3 = {v: _timed(v, 1.0) for v in ("no prefetch, injection off", "prefetch")}
    _, v = tfdata_verdicts(pipelines, example3, gil)
    python_part = v.because.split("for CPU-bound Python")[1]
    assert "(INCONCLUSIVE: the two runs' own costs of one call" in python_part
    assert "leans" not in python_part and v.verdict == HOLDS  # NumPy's part decides alone
    # r9, 03: NumPy x1.66 faster from maps whose calls measured x1.30 apart, the parallel one
    # costlier: per each run's own cost still a gain, so the part leans HOLDS and C11 is not
    # decided against it by the pure-Python part alone
    gil[("numpy", 2)] = run(0.084, 0.086, call_s=0.0039)
    gil[("python", 2)] = run(0.24, 0.25, call_s=0.0058)  # 22 % slower: DOES NOT HOLD
    _, leaning = tfdata_verdicts(pipelines, example3, gil)
    numpy_part = leaning.because.split("for CPU-bound Python")[0]
    assert "(INCONCLUSIVE, leans HOLDS: the two runs' own costs" in numpy_part
    assert "taken per each run's own cost of a call, the parallel map ran x2.22" in numpy_part
    assert leaning.verdict == INCONCLUSIVE
    # quick run at 9d9232b: pure Python 6 % slower, its parallel calls measured x1.26 costlier:
    # per cost that reads x1.18 faster, yet the times showed no gain: no lean from a cost estimate
    gil[("python", 1)] = run(0.115, 0.116, call_s=0.0046)
    gil[("python", 2)] = run(0.122, 0.124, call_s=0.0058)
    _, slower = tfdata_verdicts(pipelines, example3, gil)
    python_part = slower.because.split("for CPU-bound Python")[1]
    assert "(INCONCLUSIVE: the two runs' own costs" in python_part and "leans" not in python_part
    assert "A sequential map ran its calls on more than one thread" not in runs.table().reading
    gil[("numpy", 1)].facts["threads_that_ran_python"] = 2  # r8, 03: '2' for a sequential map
    assert "yet one call at a time" in GilRuns(gil).table().reading


# -- the article's example 3, the GIL, from_generator -------------------------------------------
@pytest.mark.parametrize(
    "variant, prefetches, inject",
    [("prefetch", 1, None), ("no prefetch", 0, None), ("no prefetch, injection off", 0, False)],
)
def test_example3_builds_what_it_says(variant, prefetches, inject):
    r = article_example3(variant, samples=320, epochs=1)
    assert r.facts["prefetch_ops_in_graph"] == prefetches and r.facts["inject_prefetch"] is inject
    assert r.facts["steps"] == 10 and r.throughput.steps == 9


@pytest.mark.parametrize("kind", ["python", "numpy"])
def test_py_function_work_runs_on_tf_data_threads_once_per_element(kind):
    r = py_function_map(kind, 1.0, elements=6, parallel=2)
    calls = r.spans_of("tf.data")
    assert len(calls) == 6 == r.facts["calls"] and r.throughput.steps == 6
    assert all(s.tid != MAIN_TID and r.roles[s.tid] == TF_DATA for s in calls)
    assert r.facts["workers"] == 2 and r.bounds.overlapped_s <= r.bounds.sequential_s


def test_from_generator_runs_next_off_the_main_thread_and_starts_each_epoch_anew():
    r = generator_vs_slices("from_generator", samples=96, epochs=2, batch_size=32)
    f = r.facts
    assert f["batches_per_epoch"] == 3 and len(f["iterator_start_s"]) == 2
    assert f["next_calls"] == 2 * (3 + 1)  # each epoch: 3 batches and the next() that ends it
    assert f["next_calls_on_main"] == 0
    assert len(r.spans_of("train")) == 6
    assert generator_vs_slices("from_tensor_slices", samples=96, epochs=2).facts["next_calls"] == 0


# -- the comparison and the panel --------------------------------------------------------------
def test_best_of_each_puts_runs_measured_on_one_workload_side_by_side():
    tiny = Workload(ms_per_batch=1.0, batch_size=8, steps=6, epochs=1)
    results = [generator_best(tiny), processes_best(tiny), tfdata_fit(tiny)]
    best = BestOfEach(zip(("01 a", "02 b", "03 c"), results))
    rows = best.rows()
    assert best.fastest().sentence in str(best) and "<img" in best._repr_html_()
    for (_, measured, bound, sequential), r in zip(rows, results):
        assert measured == r.throughput.elapsed_s and bound == r.bounds.overlapped_s
        assert sequential == r.bounds.sequential_s
    assert "efficient" not in str(best)  # each share of a bound is read by the one rule
    assert results[0].facts["main_after_peek"] == 0
    assert results[1].facts["way"] == "bounded queue" and results[1].facts["finished"]
    assert results[2].throughput.steps == 5


def test_best_of_scenario_02_that_did_not_finish_says_why_instead_of_a_bound(monkeypatch):
    """Notebook 03 printed ``AttributeError: 'NoneType' object has no attribute 'overlapped_s'``
    when 02's queue script failed in its sandbox (an import it needs was gone): the run came back
    without bounds and nothing said why."""
    from fitscope.lessons.trainer import remedies

    def unfinished(**_: object) -> remedies.RightWayRun:
        run = remedies.RightWayRun(name="bounded queue")
        run.facts = {"finished": False, "why_not": "ImportError: cannot import name 'x'"}
        return run

    monkeypatch.setattr(remedies, "queue_trainer", unfinished)
    with pytest.raises(RuntimeError, match="did not finish: ImportError: cannot import name 'x'"):
        processes_best(Workload(ms_per_batch=1.0, batch_size=8, steps=6, epochs=1))


def test_panel_says_one_sentence_for_bad_values_and_then_runs():
    panel = tfdata_panel(time_budget_s=20)
    panel.set(cycle_length=0)
    assert panel.run(from_button=True) is None
    assert panel.message.startswith("cycle length must be at least 1")
    assert not panel.button.disabled
    panel.set(elements=2)
    with pytest.raises(FitscopeInputError, match="at least the number of files"):
        panel.run(cycle_length=2)
    r = panel.run(
        variant="parallel map", elements=16, open_ms=1.0, read_ms=0.5, map_ms=0.5, train_ms=0.5
    )
    assert r.facts["variant"] == "parallel map" and r.facts["elements"] == 32
    assert panel.message.startswith("Done:") and panel.last_live.frames >= 2
    assert len(r.spans_of("ui")) == panel.last_live.frames
    roles = ThreadRoles.current()
    assert roles.main in r.facts["train_spans_on"]


def test_the_gil_table_prints_the_medians_its_sentence_compares():
    """F-13 (03 quota cell 60): the table printed one run's time (0.137 s) while the sentence
    compared the medians of the repeats (0.20 s); and a ratio beyond the GIL's limit is named."""
    from fitscope.instrument.bounds import Bounds
    from fitscope.lessons.tfdata.gil import GilRuns

    def run(*repeats: float, calls_s: float = 0.0) -> RunResult:
        r = RunResult("m", throughput=Throughput(steps=24, elapsed_s=min(repeats)))
        r.bounds = Bounds(sequential_s=0.3, overlapped_s=0.15)
        r.facts = {"repeats_s": list(repeats), "threads_that_ran_python": 1, "calls_s": calls_s}
        return r

    runs = GilRuns(
        {
            ("numpy", 1): run(0.137, 0.263),
            ("numpy", 2): run(0.107, 0.213),
            ("python", 1): run(0.164, 0.376, calls_s=0.13),
            ("python", 2): run(0.163, 0.177),
        }
    )
    table = runs.table()
    medians = [row[2] for row in table.rows]
    assert medians == ["0.200", "0.160", "0.270", "0.170"]
    for m in ("0.200 → 0.160 s", "0.270 → 0.170 s"):
        assert m in table.reading
    assert "The x1.59 measured is beyond the x1.26 a parallel map can gain" in table.reading


def test_c10_a_gain_short_of_the_rule_inside_the_twins_gap_is_named_as_noise():
    """r8, 03: "x1.08 faster ... leans HOLDS: a gain, smaller than the x1.2 the rule needs"
    beside twins x1.16 apart; such a gap is the twins' noise, and the reading names it."""
    costly = verdicts.compare([1.88, 1.9, 1.92], [0.98, 1.0, 1.02])
    small = verdicts.compare([1000.0, 1010.0], [1080.0, 1090.0], "per s")  # x1.08, decided
    twins = verdicts.compare([1000.0, 1160.0], [1010.0, 1050.0], "per s")  # x1.16 apart
    v = verdicts.c10(costly, True, small, twin=twins)
    assert "at least as much as the gap (x1.08)" in v.because
    assert "smaller than the x1.2 the rule needs" not in v.because
    assert v.verdict == HOLDS  # the undecided part decides nothing
