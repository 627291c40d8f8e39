"""One run's quantities, printed by its displays, carried as facts the consistency check compares.

A real traced fit shown by its table, its CPU chart, its role table and its timeline gives one
value for each quantity across cells; the same notebook with one figure altered in one display
(its text and its fact) is a finding naming both cells. Every display of a run carries the
figures it prints (:mod:`fitscope.instrument.printed`), so a refactor cannot drop them unseen.
"""

from __future__ import annotations

import copy
import html
import json
import re

import pytest

from fitscope.experiments.article_fit import GeneratorFitParams, generator_fit
from fitscope.instrument.printed import (
    CORES_BUSY,
    MEASURED_S,
    QUANTITY,
    STEPS_PER_S,
    TRAIN_CPU_S,
    TRAIN_WALL_S,
    WARM_UP_STEP,
    role_cpu,
    role_share,
)
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import FACTS_CLASS
from fitscope.instrument.threads import MAIN
from fitscope.instrument.throughput import Throughput
from fitscope.instrument.tracing import Span
from fitscope.lessons.generator.fit import cpu_by_role
from fitscope.show.charts import throughput
from fitscope.show.comparison import Comparison
from fitscope.show.cpu_charts import cpu_by_thread
from fitscope.show.timelines import timeline
from fitscope.verdicts import consistency

TINY = dict(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=12, epochs=2)


@pytest.fixture(scope="module")
def run():
    return generator_fit(GeneratorFitParams(**TINY))


def _html_output(value):
    """An execute_result as Jupyter saves a fitscope table (its HTML and its sentence)."""
    data = {"text/plain": str(value), "text/html": value._repr_html_()}
    return {"output_type": "execute_result", "data": data, "metadata": {}}


def _notebook(tmp_path, cells, name="nb.ipynb"):
    """A saved notebook, one code cell per list of outputs."""
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": o} for o in cells]}
    path = tmp_path / name
    path.write_text(json.dumps(nb))
    return path


def _facts(outputs):
    """Every fact the outputs carry, in their HTML or (a chart) in their metadata."""
    found = []
    for out in outputs:
        page = "".join(out.get("data", {}).get("text/html", ""))
        found += consistency._output_facts(out, page)
    return [f for f in found if f.get("kind") == QUANTITY]


def _shown(outputs):
    """The words the outputs show (HTML as text, a chart's printed summary)."""
    words = []
    for out in outputs:
        page = "".join(out.get("data", {}).get("text/html", ""))
        words.append(consistency._html_text(page) if page else "".join(out.get("text", "")))
    return "\n".join(words)


def _cells(run):
    """The run shown four ways, as a notebook's cells: its table, the CPU chart, the role table,
    the timeline."""
    return [
        [_html_output(run)],
        cpu_by_thread(run).outputs(),
        [_html_output(cpu_by_role(run))],
        timeline(run).outputs(),
    ]


def test_a_traced_run_shown_four_ways_gives_each_quantity_one_value(run, tmp_path):
    cells = _cells(run)
    path = _notebook(tmp_path, cells)
    found = consistency.check_notebook(path)
    assert found.ok, [p.what for p in found]
    facts = [_facts(c) for c in cells]
    assert {f["run"] for c in facts for f in c} == {run.run_id}, "one id in every display"
    said = {}
    for c in facts:
        for f in c:
            said.setdefault(f["quantity"], []).append(f["printed"])
    # cores busy and the main thread's CPU are each printed by three displays: compared
    assert len(said[CORES_BUSY]) == 3 and len(said[role_cpu(MAIN)]) == 3
    assert len(said[role_share(MAIN)]) == 2


def test_one_figure_altered_in_one_display_is_two_values_naming_both_cells(run, tmp_path):
    cells = copy.deepcopy(_cells(run))
    roles = cells[2][0]["data"]
    cores = next(f["printed"] for f in _facts(cells[2]) if f["quantity"] == CORES_BUSY)
    other = f"{float(cores) + 1.37:.2f}"
    page = roles["text/html"]
    said, fact = f"kept {cores} cores busy", f'"quantity": "{CORES_BUSY}", "printed": "{cores}"'
    assert said in page and fact in page
    page = page.replace(said, f"kept {other} cores busy")
    roles["text/html"] = page.replace(fact, fact.replace(f'"{cores}"', f'"{other}"'))
    found = consistency.check_notebook(_notebook(tmp_path, cells, name="altered.ipynb"))
    assert [p.where for p in found] == ["altered.ipynb, cell 0 and cell 2"]
    assert found[0].what.endswith("one quantity, two values")
    assert f"'{CORES_BUSY}' of run '{run.run_id}'" in found[0].what
    assert "(cell 2)" in found[0].what and other in found[0].what


def test_a_run_keeps_its_id_when_saved_and_loaded_and_two_runs_differ(run):
    again = RunResult.from_json(run.to_json())
    assert again.run_id == run.run_id and [f["run"] for f in again.printed_facts()][:1] == [
        run.run_id
    ]
    assert RunResult("a").run_id != RunResult("a").run_id


def _long_warm_up_run():
    """A made-up run: a warm-up step of 1 s, then 4 steps of 0.1 s on the main thread."""
    ms = 1_000_000
    steps = [Span("step", "train", 0, 1000 * ms, 7)]
    steps += [
        Span("step", "train", (1000 + 100 * i) * ms, (1100 + 100 * i) * ms, 7) for i in range(4)
    ]
    return RunResult(
        "made up",
        spans=steps,
        throughput=Throughput(steps=4, elapsed_s=0.4),
        roles={7: MAIN},
        facts={"cores_busy": 0.93, "train_cpu_by_role": {MAIN: 0.372}},
    )


@pytest.mark.parametrize(
    "display, quantities",
    [
        (lambda r: [_html_output(r)], {MEASURED_S, STEPS_PER_S, CORES_BUSY, role_cpu(MAIN)}),
        (
            lambda r: cpu_by_thread(r).outputs(),
            {TRAIN_CPU_S, TRAIN_WALL_S, CORES_BUSY, role_cpu(MAIN), role_share(MAIN)},
        ),
        (lambda r: [_html_output(cpu_by_role(r))], {CORES_BUSY, role_cpu(MAIN), role_share(MAIN)}),
        (lambda r: throughput(r).outputs(), {STEPS_PER_S}),
        (lambda r: [_html_output(Comparison({"a": r}))], {MEASURED_S, STEPS_PER_S}),
    ],
    ids=["run table", "CPU chart", "role table", "throughput chart", "comparison"],
)
def test_every_display_of_a_run_carries_what_it_prints(run, display, quantities):
    """The guard: each display emits a fact for each of its run's quantities, and each fact's
    value is what the display shows (its number, beside the unit its column or sentence
    names)."""
    _carries(run, display(run), quantities)


def test_the_timeline_carries_the_warm_up_step_it_prints():
    made_up = _long_warm_up_run()
    chart = timeline(made_up)
    assert "(warm-up, 1 s)" in chart.summary
    _carries(made_up, chart.outputs(), {WARM_UP_STEP})


def _carries(run, outputs, quantities):
    facts = _facts(outputs)
    assert quantities <= {f["quantity"] for f in facts}
    assert {f["run"] for f in facts} == {run.run_id}
    words = html.unescape(_shown(outputs))
    for f in facts:
        number = re.match(r"[\d.,e+]+", f["printed"]).group(0)
        assert number in words, (f["quantity"], f["printed"])


def test_a_chart_shown_in_a_cell_keeps_its_facts_where_the_check_reads_them(run):
    chart = cpu_by_thread(run)
    image, printed = chart.outputs()
    assert set(image["data"]) == {"image/png", "text/plain"}, "no HTML output under the chart"
    assert image["metadata"][FACTS_CLASS] == list(chart.facts)
    assert printed["text"] == chart.summary + "\n"
    assert chart.facts[0]["printed"] in chart.html().split("<script")[0]
