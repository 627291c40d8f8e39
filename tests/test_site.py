"""`make html`: the site rendered from the notebooks the notebook tests executed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import COLLECTION, ROOT

EXECUTED = ROOT / "artefacts" / "executed"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEMP = "/tmp/pytest-of-root/pytest-3/test_x0"


def test_every_page_and_image_of_the_site_exists(tmp_path):
    if not EXECUTED.exists():
        pytest.skip("no executed notebooks: the notebook tests run first in `make test`")
    out = tmp_path / "build"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "build_site.py"),
            str(EXECUTED),
            str(out),
            *COLLECTION,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-1000:]
    index = (out / "index.html").read_text()
    pages = [name.replace(".ipynb", ".html") for name in COLLECTION]
    for page in pages:
        assert f'href="{page}"' in index
        text = (out / page).read_text()
        assert 'href="index.html"' in text, f"{page} has no navigation"
        assert "KERNEL" not in text and "print('KERNEL'" not in text, f"{page}: the harness cell"
        assert not re.search(r"/tmp/|pytest-of-", text), f"{page}: a temporary path"
        assert "starting…" not in text, f"{page}: a stale progress line"
        assert not re.search(r'<script[^>]+src="https?:', text), f"{page} loads a script online"
        assert "unpkg.com" not in text and WIDGET_VIEW not in text, f"{page}: a CDN widget view"
        images = re.findall(r'<img[^>]+src="([^"]+)"', text)
        assert images, f"{page} shows no figure"
        for src in images:
            assert not src.startswith("data:"), "figures are files next to the pages"
            assert (out / src).is_file() and (out / src).stat().st_size > 1000, src
        if "fitscope-static-widget" in text:  # a panel: shown as it was left, its frame an image
            panel = text.split("fitscope-static-widget", 1)[1]
            assert re.search(r'class="widget-output"><img[^>]*\ssrc="[^"]+"', panel), page


def test_a_static_copy_drops_the_harness_and_temp_paths_and_renders_widgets():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from build_site import static_copy
    finally:
        sys.path.pop(0)
    import nbformat

    nb = nbformat.v4.new_notebook()
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    nb.cells = [
        nbformat.v4.new_code_cell("panel", outputs=[nbformat.v4.new_output(
            "display_data", data={WIDGET_VIEW: view, "text/plain": "VBox(...)"})]),
        nbformat.v4.new_code_cell("print(path)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text=f"{TEMP}/run.trace.json\n")]),
        nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"),
    ]
    png = "iVBORw0KGgo="
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_h", "IPY_MODEL_o"]}},
        "h": {"model_name": "HTMLModel", "state": {"value": "<h3>Panel</h3>"}},
        "o": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "display_data", "data": {"image/png": png}, "metadata": {}}]}},
    }, "version_major": 2, "version_minor": 0}}
    page = static_copy(nb)
    assert len(page.cells) == 2 and "widgets" not in page.metadata
    shown = page.cells[0].outputs[0]["data"]
    assert WIDGET_VIEW not in shown and "<h3>Panel</h3>" in shown["text/html"]
    assert f'<img src="data:image/png;base64,{png}"' in shown["text/html"]
    assert page.cells[1].outputs[0]["text"] == "run.trace.json\n"
    assert len(nb.cells) == 3, "the executed notebook itself is left as it was"
