"""RunResult JSON round trip, time windows, throughput, and the figures on a made-up result."""

from __future__ import annotations

from collections import Counter

import matplotlib.colors as mcolors
import pytest
from made_up import MS, made_up_result

from fitscope.instrument.result import RunResult
from fitscope.instrument.sampling import CpuSamples
from fitscope.instrument.throughput import throughput_from_ends
from fitscope.instrument.tracing import Span
from fitscope.show import charts as plots
from fitscope.show import process_charts
from fitscope.show.palette import process_colour


def test_json_round_trip_is_exact(tmp_path):
    r = made_up_result()
    again = RunResult.load(r.save(tmp_path / "r.json"))
    assert again == r
    assert repr(r).startswith("RunResult('made up'")


def test_windows_cut_out_ui_spans():
    r = made_up_result()
    windows = r.windows("train", leave_out="ui")
    assert (40 * MS, 41 * MS) not in windows
    assert sum(b - a for a, b in windows) == 10 * 8 * MS - 1 * MS


def test_cpu_inside_windows_interpolates_cumulative_clocks():
    r = made_up_result()
    assert r.cpu.cpu_s(300) == pytest.approx(0.060)
    assert r.cpu.cpu_s(300, [(0, 50 * MS)]) == pytest.approx(0.030)
    assert r.cpu.cpu_s(300, [(5 * MS, 15 * MS)]) == pytest.approx(0.006)
    assert 999 not in r.cpu.by_thread_s()


def test_throughput_from_step_ends():
    ends = [i * 10 * MS for i in range(1, 101)]
    t = throughput_from_ends(ends, 32, 0, window_s=0.25)
    assert t.steps == 100 and t.steps_per_s == pytest.approx(100)
    assert t.samples_per_s == pytest.approx(3200)
    assert all(r == pytest.approx(100, rel=0.05) for r in t.steps_per_s_series)
    assert throughput_from_ends([], 32, 0).steps == 0


def _palette():
    return {mcolors.to_hex(c) for c in plots.OKABE_ITO.values()} | {"#999999"}


def test_timeline_lanes_extents_and_palette():
    chart = plots.timeline(made_up_result())
    ax = chart.figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("main\ntid 100")
    assert labels[1].startswith("tf.data threads (ran Python)\ntid 200")
    assert labels[-1] == "in-graph timing (thread not recorded)"
    bars = list(ax.collections)
    blue = mcolors.to_hex(plots.CATEGORY_COLOURS["train"])
    train = [c for c in bars if mcolors.to_hex(c.get_facecolor()[0]) == blue]
    extents = sorted(
        (round(p.get_extents().x0 * 1e3, 3), round(p.get_extents().x1 * 1e3, 3))
        for c in train
        for p in c.get_paths()
    )
    assert extents == [(i * 10.0, i * 10.0 + 8.0) for i in range(10)]
    xmax = max(p.get_extents().x1 for c in bars for p in c.get_paths())
    assert xmax == pytest.approx(0.098, abs=1e-3)  # last train step ends at 98 ms
    colours = {mcolors.to_hex(c.get_facecolor()[0]) for c in bars}
    assert colours <= _palette()
    assert "10 train spans (main 10)" in chart.summary and "1 ui spans" in chart.summary


def test_cpu_chart_stacks_roles_and_ranks_threads():
    chart = plots.cpu_by_thread(made_up_result())
    bars_ax = chart.figure.axes[1]
    labels = [t.get_text() for t in bars_ax.get_yticklabels()]
    assert labels[0] == "threads TensorFlow created · tid 300"
    assert all("999" not in lab for lab in labels), "the sampler's own thread is left out"
    assert "0.90 cores busy" in chart.summary


def test_throughput_chart_draws_the_bound():
    r = made_up_result()
    chart = plots.throughput(r)
    ax = chart.figure.axes[0]
    bound = r.throughput.steps / r.bounds.overlapped_s
    assert r.bound_steps_per_s == (pytest.approx(bound), pytest.approx(r.throughput.steps / 0.1))
    hlines = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert hlines == [pytest.approx(bound)]
    assert ax.get_ylabel() == "steps/s" and ax.get_xlabel().endswith("(s)")
    dotted = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert dotted == [pytest.approx(r.throughput.steps / 0.1)], "one after the other is drawn too"
    chart.figure.draw_without_rendering()  # lays the figure out
    legend = chart.figure.legends[0].get_window_extent()
    assert not legend.overlaps(ax.get_window_extent()), "the legend sits outside the data"
    assert f"{bound:.1f} steps/s" in chart.summary
    assert chart.png().startswith(b"\x89PNG")


def test_comparison_chart_draws_both_bounds():
    chart = plots.comparison([("naive", 2.0, 1.0, 2.5), ("prefetch", 1.25, 1.0, 2.5)])
    assert (
        "prefetch 1.25 s (ideal 1.00, one after the other 2.50: 83 % of its possible saving)"
        in chart.summary
    )
    ax = chart.figure.axes[0]
    colours = Counter(mcolors.to_hex(p.get_facecolor()) for p in ax.patches)
    roles = ("blue", "bluish green", "vermillion")
    assert colours == {plots.OKABE_ITO[k].lower(): 2 for k in roles}
    assert (
        "faster than the ideal bound: the cost estimate was high (0.800 s against 1.00 s)"
        in plots.comparison([("x", 0.8, 1.0, 2.0)]).summary
    )
    assert (
        "slower than one after the other: 50 % longer (3.00 s against 2.00 s)"
        in plots.comparison([("y", 3.0, 1.0, 2.0)]).summary
    )


def test_a_long_warm_up_step_gets_its_own_panel_and_next_is_drawn_over_steps():
    r = made_up_result()
    first = r.spans[1]
    r.spans[1] = Span(first.label, "train", -200 * MS, first.end_ns, first.tid, first.thread)
    r.spans.append(Span("next()", "generator", 20 * MS, 23 * MS, 100))  # inside step 2, on main
    chart = plots.timeline(r)
    warm, main = chart.figure.axes
    assert main.get_xlim()[0] == pytest.approx(0.200, abs=0.01), "starts where the warm-up ended"
    assert warm.get_xlim()[1] == pytest.approx(0.208, abs=0.01)
    assert "warm-up, 208 ms" in chart.summary
    orange = mcolors.to_hex(plots.CATEGORY_COLOURS["generator"])
    z = {mcolors.to_hex(c.get_facecolor()[0]): c.get_zorder() for c in main.collections}
    assert z[orange] > z[mcolors.to_hex(plots.CATEGORY_COLOURS["train"])]


def test_one_colour_per_role_and_meaning():
    assert plots.ROLE_COLOURS["main"] == plots.CATEGORY_COLOURS["train"]
    roles = {k: v for k, v in plots.ROLE_COLOURS.items() if "ran Python" not in k}
    assert len(set(roles.values())) == len(roles), "two roles share a colour"
    assert plots.OTHER_COLOUR not in plots.ROLE_COLOURS.values()
    a = process_charts.memory_by_process(
        {"parent (1)": ([0, 1], [1, 2]), "producer (2)": ([0, 1], [1, 2])}
    )
    b = process_charts.memory_by_process(
        {"producer (7)": ([0, 1], [1, 2]), "parent (6)": ([0, 1], [1, 2])}
    )
    look = {
        line.get_label().split(" (")[0]: line.get_color()
        for chart in (a, b)
        for line in chart.figure.axes[0].get_lines()
    }
    assert look["parent"] == process_colour("parent (9)") != look["producer"]
    pairs = {
        (line.get_label().split(" (")[0], line.get_color())
        for chart in (a, b)
        for line in chart.figure.axes[0].get_lines()
    }
    assert len(pairs) == len({p[0] for p in pairs}), "a process role changed colour"


def test_long_titles_wrap_instead_of_being_cut():
    name = "a very long run name that goes on and on, with the ideal bound at its very end"
    chart = plots.comparison([("a", 1.0, 0.5, 2.0)], title=name)
    title = chart.figure.axes[0].get_title()
    assert "\n" in title and title.replace("\n", " ") == name
    fig = chart.figure
    fig.draw_without_rendering()
    box = chart.figure.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1


def test_cores_busy_above_b_is_explained_not_hidden():
    r = made_up_result()
    assert "above B" not in plots.cpu_by_thread(r).summary
    r.cpu = CpuSamples(sampler_tid=999)
    for k in range(11):  # tid 300 reads 3 cores busy: more than B = 2 allows
        r.cpu.add(k * 10 * MS, {100: k * 2 * MS, 300: k * 30 * MS}, 0)
    chart = plots.cpu_by_thread(r)
    assert "3.2 cores busy is above B = 2" in chart.summary
    assert chart.figure.axes[0].get_ylim()[1] > 3.2, "the peak is drawn, not cut off"


def _run(elapsed_s: float, overlapped_s: float, sequential_s: float, **facts) -> RunResult:
    from fitscope.instrument.bounds import Bounds
    from fitscope.instrument.throughput import Throughput

    return RunResult(
        "r",
        throughput=Throughput(steps=20, elapsed_s=elapsed_s),
        bounds=Bounds(sequential_s, overlapped_s),
        facts=facts,
    )


@pytest.mark.parametrize(
    ("t", "ideal", "seq", "kind"),
    [
        (0.24, 0.25, 0.61, "at"),  # 01b cell 37: header "at the ideal bound", end "faster than"
        (0.822, 0.49, 0.811, "no faster"),  # 01b cell 27: 1 % longer, inside the 15 %
        (0.54, 0.54, 0.72, "too close"),  # 01b quota cell 22: no share of the saving
        (0.90, 1.00, 1.05, "too close"),  # 01b quick cell 27: three readings before
        (0.70, 1.00, 2.00, "beats"),
        (3.00, 1.00, 2.00, "slower"),
        (0.24, 0.21, 0.58, "share"),
    ],
)
def test_one_run_is_read_one_way_by_header_sentence_and_closing(t, ideal, seq, kind):
    """F-1: the chart's header, the sentence's place between the bounds and the closing "each
    against its own bounds" come from one reading, with one margin."""
    from fitscope.lessons.backends.readings import _against_bounds, saving_words
    from fitscope.show.against import run_reading
    from fitscope.show.comparison import Comparison

    r = _run(t, ideal, seq)
    reading = run_reading(r)
    assert reading is not None and reading.kind == kind
    header = Comparison({"run": r}).chart().summary
    middle, closing = _against_bounds("run", r), saving_words("run", r)
    assert reading.header() in header
    assert f"({reading.where()}:" in middle
    assert closing == reading.saving("run")
    words = {
        "at": "at the ideal bound",
        "no faster": "no faster than one after the other",
        "too close": "the bounds too close to tell apart",
        "beats": "faster than the ideal bound",
        "slower": "slower than one after the other",
    }
    if kind in words:
        assert all(words[kind] in text for text in (header, middle, closing))
    for other, word in words.items():
        if other != kind and not (kind == "slower" and other == "no faster"):
            assert all(word not in text for text in (header, middle, closing)), (other, word)
    if kind == "too close":
        assert "saving" not in closing and "% of" not in closing


def test_a_traced_runs_header_uses_the_margin_its_closing_reads():
    """F-1 (01 quota cell 70): a traced run's header and its against_bound sentence both read it
    within the spread of its bound's cost measurements."""
    from fitscope.experiments.traced_facts import against_bound
    from fitscope.show.comparison import Comparison

    r = _run(0.18, 0.21, 0.27, costs_per_step={"spread": 0.88})
    text = against_bound(r)
    assert text.startswith("at the ideal bound") or "too close" in text
    assert text in Comparison({"r": r}).chart().summary


def test_a_slow_down_prints_one_number_everywhere():
    """F-1 (04 quota cell 31): one slow-down printed as 40 % (time, the chart's header against
    the sum) and 28 % (rate, the sentence against the local pipeline). The header and the
    sentences now print share_of_bound's number, and the service's chart no longer reads the
    service against the sum, which is the local pipeline's own time that its sentence reads."""
    from fitscope.instrument.bounds import Bounds
    from fitscope.lessons.distributed.service import ServiceRun
    from fitscope.show.against import AgainstBounds
    from fitscope.verdicts.bounds import share_of_bound

    a = AgainstBounds(1.03, 0.5, 0.74)
    assert share_of_bound(1.03, 0.5, sequential_s=0.74).endswith(a.header())
    assert "39 % longer" in a.header() and "39 % longer" in a.where()
    assert "39 % longer" in a.saving("service")
    service = ServiceRun(
        "s",
        bounds=Bounds(0.74, 0.74),
        facts={"elements": 60, "local": {"wall_s": 0.74}, "service": {"wall_s": 1.03}},
    )
    assert "one after the other" not in service.chart().summary


def test_other_load_counts_the_runs_own_worker_processes_as_its_own():
    """F-9 (01 cell 68): a PyDataset's worker processes were counted as "other processes"."""
    import subprocess
    import sys

    from fitscope.instrument.budget import OtherLoad

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    with OtherLoad() as load:
        child = subprocess.Popen([sys.executable, "-c", burn])
        child.wait()
    with OtherLoad() as alive:  # a child still running at the end is read from its clocks
        child = subprocess.Popen([sys.executable, "-c", burn])
        import time

        time.sleep(0.9)
    child.wait()
    assert load.own_s >= 0.55, load.own_s  # the child's 0.6 s of CPU, waited for
    assert alive.own_s >= 0.1, alive.own_s  # what the live child had used by the end


def test_other_load_counts_workers_reaped_by_a_fork_server_as_the_runs_own():
    """r8 (01 cell 68): a PyDataset's worker processes are started and waited for by the
    multiprocessing fork server, a child of ours that lives on: their CPU is in its children's
    times, not ours, and was counted as other processes' work."""
    import subprocess
    import sys

    from fitscope.instrument.budget import OtherLoad

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    server = (  # starts a worker, waits for it, then lives on past the block, as a server does
        f"import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', {burn!r}])\n"
        "print('reaped', flush=True)\ntime.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", server], stdout=subprocess.PIPE, text=True)
    try:
        with OtherLoad() as load:
            assert child.stdout is not None and child.stdout.readline() == "reaped\n"
        assert load.own_s >= 0.55, load.own_s  # the worker's 0.6 s, reaped by the server
    finally:
        child.kill()
        child.wait()


def test_a_run_over_its_sum_inside_a_wide_spread_is_said_to_be_over_it():
    """r8, 01 under the quota: "0.16 s (ideal 0.11, one after the other 0.13: the bounds too
    close ...)" left a run 23 % over its sum unsaid; inside the spread it is undecided, not gone."""
    from fitscope.show.against import AgainstBounds

    a = AgainstBounds([0.10, 0.16, 0.21], 0.11, 0.13)
    assert a.kind == "too close"
    assert "the run 23 % over the one-after-the-other sum, within that margin: undecided" in (
        a.header()
    )
    assert (
        "over the one-after-the-other" not in AgainstBounds([0.08, 0.12, 0.2], 0.11, 0.13).where()
    )
