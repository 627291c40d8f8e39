"""Results show themselves: HTML table plus reading in JupyterLab, one line in a log, never a
repr."""

from __future__ import annotations

from IPython.core.formatters import DisplayFormatter

from fitscope import verdicts
from fitscope.instrument.bounds import Bounds
from fitscope.instrument.result import RunResult
from fitscope.instrument.tables import Stack, Table, text_table
from fitscope.instrument.throughput import Throughput


def shown(obj: object) -> dict[str, str]:
    """What JupyterLab receives for a cell whose value is ``obj``."""
    return DisplayFormatter().format(obj)[0]


def test_table_escapes_and_reads() -> None:
    t = Table(["a<b"], [["<x>"]], reading="Read me.", title="T")
    bundle = shown(t)
    assert "&lt;x&gt;" in bundle["text/html"] and "<p>Read me.</p>" in bundle["text/html"]
    assert str(t) == "Read me."
    assert bundle["text/plain"].splitlines() == ["T", "a<b", "<x>", "Read me."]


def test_text_table_aligns_and_cuts() -> None:
    out = text_table(["name", "n"], [["long name here", 1.23456], ["x", {"a": 1}]], width=12)
    assert out.splitlines()[1] == "long name he"
    assert all(len(line) <= 12 for line in out.splitlines())
    assert "1.23" in text_table(["n"], [[1.23456]])


def test_verdict_and_scorecard_never_show_a_repr() -> None:
    v = verdicts.c9(["ab", "ab"])
    card = verdicts.Scorecard([v, verdicts.c9(["a", "b"])])
    for obj in (v, card):
        bundle = shown(obj)
        assert "Verdict(" not in bundle["text/plain"] and "<table>" in bundle["text/html"]
    assert str(card) == "C9 DOES NOT HOLD; C9 INCONCLUSIVE."
    assert "1 DOES NOT HOLD, 1 INCONCLUSIVE" in shown(card)["text/html"]
    assert "\n" not in str(v)


def test_run_result_reads_its_own_numbers() -> None:
    r = RunResult(
        name="demo",
        throughput=Throughput(steps=10, elapsed_s=2.0),
        bounds=Bounds(sequential_s=4.0, overlapped_s=1.0),
        facts={"cores_busy": 1.5},
    )
    assert str(r) == "demo: 10 steps in 2.00 s (5.0 steps/s), 50% of the ideal overlapped bound."
    html = shown(r)["text/html"]
    assert "cores busy during training" in html and "1.5" in html
    assert shown(r)["text/plain"] == str(r), "a dataclass's own repr must not win"
    r.reading = "Measured, then read."
    assert str(RunResult.from_json(r.to_json())) == "Measured, then read."


def test_stack_shows_every_part() -> None:
    s = Stack([Table(["x"], [[1]], reading="one"), "a sentence"], reading="both")
    html = shown(s)["text/html"]
    assert "<p>one</p>" in html and "a sentence" in html and html.endswith("<p>both</p>")


def test_a_finished_cell_leaves_no_stale_progress_line(jupyter_path, tmp_path) -> None:
    """In a real kernel, a counter that never got past "starting…" says how its cell ended."""
    import nbformat

    from fitscope.execute import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from fitscope.show.live import StepCounter\n"
            "StepCounter.shown().next_run('the tf.data service')"
        )
    ]
    nbformat.write(nb, tmp_path / "in.ipynb")
    execute_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", timeout_s=120, cwd=tmp_path)
    [out] = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs
    assert out["data"]["text/html"] == "<small>the tf.data service: done</small>"
    assert out["data"]["text/plain"] == "the tf.data service: done"  # not an object's repr
