"""fitscope.lessons.trainer (notebook 02): the article's trainer in the sandbox, the right ways,
verdicts, panel.

The scripts run are notebook 02's ``%%writefile`` cells, read from the notebook (what a lesson
function runs when given no file), so these tests check the code the learner reads.
"""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import ipywidgets as w
import psutil
import pytest
from conftest import shm_semaphores

from fitscope import verdicts
from fitscope.instrument.errors import FitscopeInputError
from fitscope.isolation.launcher import Limits, ProcessRecorder
from fitscope.isolation.sandbox import Progress
from fitscope.isolation.scripts import cell_text
from fitscope.lessons.trainer import article as mt
from fitscope.lessons.trainer import remedies as rw
from fitscope.show.live import LiveProcesses
from fitscope.verdicts import consistency

NOTEBOOK = "02_multiprocessing_trainer.ipynb"
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S, CAP_MB = 15.0, 700.0  # short watchdog (room for a slow TensorFlow import), small cap


def _gone(pids):
    return all(
        not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE for p in pids
    )


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_the_article_trainer_leaves_nothing_behind(method):
    sems_before = shm_semaphores()
    r = mt.article_trainer(method, timeout_s=TIMEOUT_S, memory_cap_mb=CAP_MB)
    f = r.facts
    pids = [p["pid"] for p in f["processes"]]
    assert len(pids) >= 2, f  # the script and at least one child were seen
    assert _gone(pids), "a process of the run survived"
    assert f["survivors"] == []
    assert shm_semaphores() - sems_before == set(), "a semaphore or shared-memory file leaked"
    assert f["wall_s"] <= TIMEOUT_S + 5
    growth = max(f["max_memory_growth_mb_per_s"], 0.0)
    assert f["peak_memory_mb"] <= CAP_MB + growth * f["poll_s"] * 1.5 + 20
    assert not f["parent"]["changed"], "only the parent can change the parent's model"


@pytest.fixture(scope="module")
def fork_run():
    return mt.article_trainer("fork")


def test_under_fork_the_trainer_fails_on_the_label_shape_and_the_parent_hangs(fork_run):
    f = fork_run.facts
    assert f["trainer"]["steps"] == 0
    assert "(32,)" in f["trainer"]["error"] and "(32, 1)" in f["trainer"]["error"]
    assert f["parent"]["built"] is False and f["reached_end_of_script"]
    assert f["hung_at_exit"] and fork_run.outcomes[0].how.startswith("killed")
    assert f["producer"]["batches"] > 0


def test_a_run_and_a_set_of_runs_show_themselves_as_tables_with_their_reading(fork_run):
    text = str(fork_run)
    assert text.startswith("article trainer under fork: ") and "\n" not in text
    assert "never built" in text and "<table" in fork_run._repr_html_() and "Traceback" not in text
    rows = dict(fork_run.table().rows)
    assert rows["trainer"] == "0 steps" and rows["parent's model"] == "never built"
    runs = mt.ArticleRuns({"fork": fork_run})
    assert runs.table().rows[0][0] == fork_run.name
    assert str(runs) == (
        "In 1 of 1 runs the parent's model ended as it started (1 never built): no step "
        "reached the "
        "model the script holds."
    )


def test_verdicts_follow_the_rules_on_the_measured_evidence(fork_run):
    f = fork_run.facts
    runs = mt.ArticleRuns({"fork": fork_run})
    (evidence,) = runs.evidence()
    assert evidence == {
        "method": "fork",
        "useful_updates": 0,
        "error": f["trainer"]["error"],
        "hang": f["hung_at_exit"],
        "unbounded_growth": f["unbounded_growth"],
    }
    c7, c8 = runs.verdicts()
    assert c7 == verdicts.c7([evidence]) and c7.verdict == verdicts.HOLDS
    causes = runs.causes()
    assert c8 == verdicts.c8(causes) and c8.verdict == verdicts.DOES_NOT_HOLD
    assert any(f["trainer"]["error"] in c for c in causes)
    assert any("never built" in c for c in causes)
    assert all(verdicts.SYNCHRONISATION not in c for c in causes)


def _made_up(**changes) -> mt.ArticleRuns:
    facts = {
        "start_method": "fork",
        "fix_labels": True,
        "stopped_by": None,
        "hung_at_exit": False,
        "unbounded_growth": False,
        "child_errors": [],
        "child_exceptions": 0,
        "children_died_unpickling": 0,
        "memory_growth_mb_per_s": 0.0,
        "parent": {"built": True, "changed": False},
        "trainer": {"steps": 50, "error": None, "started": True},
        "wall_s": 10.0,
        "producer": {"backlog": 3, "memory_growth_mb_per_s": 0.0},
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            facts[key] = {**facts[key], **value}
        else:
            facts[key] = value
    return mt.ArticleRuns({"a": mt.ArticleRun(name="made up", facts=facts)})


def test_verdicts_on_made_up_evidence():
    lost = _made_up()
    assert lost.evidence()[0]["useful_updates"] == 0
    assert any(c.startswith("lost updates") for c in lost.causes())
    updated = _made_up(parent={"changed": True})
    (ev,) = updated.evidence()
    assert ev["useful_updates"] == 50 and verdicts.c7([ev]).verdict == verdicts.DOES_NOT_HOLD
    deadlock = _made_up(stopped_by="watchdog", trainer={"steps": 0, "started": True})
    assert "made no step and raised no error" in deadlock.evidence()[0]["error"]
    assert any("stuck in its first step" in c for c in deadlock.causes())
    # the review's default run: both children still importing TensorFlow at the watchdog
    slow_start = _made_up(
        stopped_by="watchdog",
        hung_at_exit=False,
        reached_interpreter_exit=True,
        trainer={"steps": None, "started": False},
        producer={"batches": 0},
    )
    (ev,) = slow_start.evidence()
    assert "still starting" in ev["undecided"] and "hang" not in ev
    assert verdicts.c7([ev]).verdict == verdicts.INCONCLUSIVE
    assert not any("hung" in c or "stuck" in c for c in slow_start.causes())
    reading = slow_start.reading()
    assert "children still starting" in reading and "undecided" in reading
    assert verdicts.c7([ev, lost.evidence()[0]]).verdict == verdicts.HOLDS  # lost updates
    spawn = _made_up(
        start_method="spawn",
        fix_labels=False,
        children_died_unpickling=2,
        child_errors=["child while starting: FileNotFoundError: x"],
        child_exceptions=2,
        parent={"built": False},
        trainer={"steps": None},
    )
    causes = spawn.causes()
    assert any(
        c.startswith("both children died while starting") and c.endswith("(spawn)") for c in causes
    )
    assert verdicts.c8(causes).verdict == verdicts.DOES_NOT_HOLD


def test_a_parent_stopped_at_exit_after_its_children_ended_is_not_read_as_a_hang():
    """F-22 (02 quota cell 13): "hung waiting for its children until the watchdog stopped it"
    with both children "ended during the run"; the hang is read only if a child was alive."""
    from types import SimpleNamespace as NS

    from fitscope.lessons.trainer.article import _alive_at_stop
    from fitscope.lessons.trainer.article_reading import _exit

    ended = NS(
        outcomes=[NS(pid=1, how="killed by watchdog"), NS(pid=2, how="ended during the run")]
    )
    assert _alive_at_stop(ended, {"producer": 2, "trainer": 2}) == []
    alive = NS(outcomes=[NS(pid=1, how="killed by watchdog"), NS(pid=3, how="killed by watchdog")])
    assert _alive_at_stop(alive, {"producer": 3}) == ["producer"]
    runs = _made_up(
        start_method="spawn",
        stopped_by="watchdog",
        reached_interpreter_exit=True,
        hung_at_exit=False,
        exit_undecided=True,
    )
    f = runs["a"].facts
    assert "hung" not in _exit(f) and "undecided" in _exit(f)
    assert not any("hung" in c for c in runs.causes())
    assert "hung waiting" in _exit({**f, "hung_at_exit": True, "exit_undecided": False})


def test_with_fixed_labels_the_child_trains_a_copy_and_the_parent_is_unchanged():
    r = mt.article_trainer(
        "fork", fix_labels=True, build_parent_model=True, producer_ms=1.0, timeout_s=TIMEOUT_S
    )
    t, parent = r.facts["trainer"], r.facts["parent"]
    assert parent["built"] and not parent["changed"] and parent["reports"] >= 2
    assert t["error"] is None
    if t["steps"]:  # a machine too slow for one step in the watchdog's time proves nothing here
        assert t["checksum_first"] == parent["checksum_start"]  # fork copied the weights
        assert t["checksum_last"] != parent["checksum_last"]


def test_the_bounded_queue_shuts_down_cleanly_and_trains_in_the_main_process(tmp_path):
    script = tmp_path / "queue_trainer.py"  # the file the notebook's cell writes, run by its path
    script.write_text(cell_text(NOTEBOOK, script.name))
    sems_before = shm_semaphores()
    r = rw.queue_trainer(
        script=script, steps=30, kind="sleep", ms_per_batch=1.0, start_method="spawn"
    )
    f = r.facts
    assert f["finished"] and f["steps"] == 30 and sum(f["worker_batches"]) == 30
    assert f["worker_exit_codes"] == [0, 0] and f["survivors"] == [] and not f["stopped_early"]
    assert f["max_backlog"] <= f["maxsize"] and f["weights_changed"]
    assert f["leftovers_removed"] == [] and shm_semaphores() - sems_before == set()
    assert r.outcomes[0].how == "exited with code 0"
    assert r.throughput.steps == 29 and r.bounds.overlapped_s <= r.bounds.sequential_s


def test_the_cells_pydataset_trains_with_worker_processes_against_its_bounds():
    r = rw.pydataset_trainer(kind="sleep", ms_per_batch=1.0, width=0, steps=20)
    assert r.facts["finished"] and r.facts["survivors"] == [], r.facts.get("why_not")
    assert r.bound_steps_per_s is not None and r.bounds.overlapped_s <= r.bounds.sequential_s
    assert r.throughput.steps == 19 and r.name.startswith("PyDataset, 2 worker process(es)")
    assert rw.RightWays({"best": r}).chart().summary.startswith("Comparison:")
    assert rw.RightWays({"best": r}).fastest() is None  # one run: nothing to compare
    unfinished = rw.RightWayRun(name="never ran", facts={"finished": False, "peak_memory_mb": None})
    ways = rw.RightWays({"best": r, "x": unfinished})
    assert ways.chart().summary.endswith("Did not finish: never ran.")
    # the page escapes its text: a reading with an apostrophe ("the bound's") must still be found
    assert "did not finish" in str(unfinished) and html.escape(str(r)) in ways._repr_html_()


SCRIPTS = ["article_trainer.py", "pydataset_trainer.py", "queue_trainer.py"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_notebooks_scripts_pass_ruff(name, tmp_path):
    """Ruff skips ``%%writefile`` cells in a notebook, so the scripts are checked as files."""
    path = tmp_path / name
    path.write_text(cell_text(NOTEBOOK, name))
    for check in (["check"], ["format", "--check"]):
        ruff = [sys.executable, "-m", "ruff", *check, "--config", "pyproject.toml", str(path)]
        done = subprocess.run(ruff, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_article_script_keeps_the_articles_flaws():
    text = cell_text(NOTEBOOK, "article_trainer.py")
    assert "queue = multiprocessing.Queue()" in text  # unbounded
    assert ".join(" not in text and "labels = np.random.randint(0, 2, batch_size)" in text


def test_a_script_not_written_yet_is_named_in_one_sentence():
    with pytest.raises(FitscopeInputError) as e:
        mt.article_trainer("fork", script="no_such_script.py")
    assert str(e.value) == (
        "no_such_script.py does not exist: run the cell that writes it "
        "(%%writefile article_trainer.py) first."
    )
    with pytest.raises(FitscopeInputError, match="writes nothing.py"):
        cell_text(NOTEBOOK, "nothing.py")


@pytest.mark.parametrize(
    "call",
    [
        lambda: mt.article_trainer("threads"),
        lambda: mt.article_trainer("fork", producer_ms=-1),
        lambda: mt.article_trainer("fork", timeout_s=0),
        lambda: mt.article_trainer("fork", memory_cap_mb=50),
        lambda: mt.article_trainer("fork", memory_cap_mb=float("nan")),
        lambda: mt.article_trainer("fork", memory_cap_mb=100_000),
        lambda: rw.RightWayParams(workers=0),
        lambda: rw.RightWayParams(start_method="fork"),
        lambda: rw.RightWayParams(kind="gpu"),
        lambda: rw.queue_trainer(maxsize=0),
    ],
)
def test_bad_api_input_gives_one_sentence(call):
    with pytest.raises(FitscopeInputError) as e:
        call()
    message = str(e.value)
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize(
    "values, start",
    [
        ({"memory_cap_mb": 50}, "memory cap (MB) must be at least 300"),
        ({"seconds": -1}, "seconds must be a finite number above 0"),
        ({"seconds": 10_000}, "seconds must be at most"),
        ({"producer_ms": -2}, "producer ms per batch must be"),
    ],
)
def test_panel_rejects_bad_values_in_one_sentence(values, start):
    panel = mt.trainer_panel(time_budget_s=30)
    panel.set(**values)
    assert panel.run(from_button=True) is None
    assert panel.message.startswith(start) and "\n" not in panel.message
    assert not panel.button.disabled


def test_panel_runs_with_a_live_view_and_charts_after():
    panel = mt.trainer_panel(time_budget_s=30)
    with pytest.raises(FitscopeInputError):
        panel.set(nonsense=1)
    r = panel.run(start_method="fork", seconds=TIMEOUT_S, memory_cap_mb=CAP_MB)
    live = panel.last_live
    assert isinstance(live, LiveProcesses) and live.frames >= 2 and live.polls > 0
    assert len(set(live.pngs)) == len(live.pngs)
    assert panel.message.startswith(f"Done: {r}")
    assert r.facts["survivors"] == []
    memory, cpu = mt.process_charts(r)
    assert memory.summary.startswith("Memory:") and "parent" in memory.summary
    assert cpu.summary.startswith("CPU by process:")


def test_live_counters_read_the_scripts_reports():
    live = LiveProcesses(w.Output(), w.HTML(), min_interval_s=0.0, max_share=1.0)
    rec = ProcessRecorder(live)
    live.start("made up", Limits(10, 500))
    rec(
        Progress(
            0.1,
            {7: 300 * 2**20},
            [
                {
                    "role": "parent",
                    "event": "end of script",
                    "built": False,
                    "pid": 7,
                    "t": 1.0,
                    "children": {"producer": 8, "trainer": 9},
                },
                {"role": "producer", "batches": 120, "backlog": 100, "pid": 8, "t": 1.0},
            ],
            {7: 1.0},
        )
    )
    text = live.counter.value
    assert "120 batches made" in text and "100 waiting" in text and "never built" in text
    live.finish()
    assert rec.label(8) == "producer (8)" and live.frames >= 2


def test_a_right_way_faster_than_its_bound_says_the_bound_was_beaten():
    from fitscope.instrument.bounds import Bounds
    from fitscope.instrument.throughput import Throughput

    def run(elapsed_s: float) -> str:
        return str(
            rw.RightWayRun(
                name="r",
                throughput=Throughput(steps=10, elapsed_s=elapsed_s),
                bounds=Bounds(sequential_s=2.0, overlapped_s=1.0),
                facts={},
            )
        )

    assert verdicts.BEATS_BOUND in run(0.8)
    assert verdicts.BEATS_BOUND not in run(1.2)
    # F-1 (02 cell 52): inside the 15 % its header reads, it is at the bound, not beyond it
    assert verdicts.BEATS_BOUND not in run(0.9) and "at the ideal bound" in run(0.9)


def test_a_right_way_slower_than_the_sum_says_why_as_traced_runs_do():
    """F-23: the bounded queue "74 % slower than one after the other" came with no reason; the
    right ways' chart now carries the same clause the traced runs get."""
    from fitscope.instrument.bounds import Bounds
    from fitscope.instrument.throughput import Throughput
    from fitscope.show.against import SLOWER_WHY

    def run(name: str, elapsed_s: float) -> rw.RightWayRun:
        return rw.RightWayRun(
            name=name,
            throughput=Throughput(steps=10, elapsed_s=elapsed_s),
            bounds=Bounds(sequential_s=1.15, overlapped_s=0.6),
            facts={},
        )

    ways = rw.RightWays({"queue": run("queue", 1.99), "pydataset": run("pydataset", 0.7)})
    summary = ways.chart().summary
    assert summary.count(SLOWER_WHY) == 1
    assert (
        "slower than one after the other: 73 % longer (1.99 s against 1.15 s) " + SLOWER_WHY
        in summary
    )


def test_no_way_is_called_fastest_when_the_machine_changed_between_runs():
    """One run each: a gap in the runs' own costs per step is the machine, not the way."""
    from fitscope.instrument.bounds import Bounds
    from fitscope.instrument.throughput import Throughput
    from fitscope.verdicts.compare import costs_apart

    def run(name, elapsed_s, sequential_s):
        return rw.RightWayRun(
            name=name,
            throughput=Throughput(steps=10, elapsed_s=elapsed_s),
            bounds=Bounds(sequential_s=sequential_s, overlapped_s=0.5),
        )

    same = rw.RightWays({"a": run("a", 1.0, 2.0), "b": run("b", 0.5, 2.1)})
    assert costs_apart(same.costs()) < 1.15 and same.fastest().winner == "b"
    apart = rw.RightWays({"a": run("a", 1.0, 2.0), "b": run("b", 0.5, 2.6)})
    assert costs_apart(apart.costs()) == pytest.approx(1.3) and apart.fastest().winner is None
    reading = apart.table().reading
    assert "no run is fastest: their own costs" in reading
    assert consistency.check_reading(reading) == []
