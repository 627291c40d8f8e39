"""`make html`: the site rendered from the notebooks the notebook tests executed.

Named to be collected after tests/test_notebooks.py, which writes artefacts/executed/ earlier in
the same `make test` run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse

import pytest
from conftest import COLLECTION, NOTEBOOKS, ROOT

EXECUTED = ROOT / "artefacts" / "executed"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEMP = "/tmp/pytest-of-root/pytest-3/test_x0"


def _skip_without_executed_notebooks(names: list[str]) -> None:
    """Alone, these tests skip; in CI (`make test`, notebooks first) a missing one fails."""
    missing = [n for n in COLLECTION if n not in names]
    if missing:
        reason = f"not executed: {', '.join(missing)} (the notebook tests run first in `make test`)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def test_every_page_and_image_of_the_site_exists(tmp_path):
    _skip_without_executed_notebooks([n for n in COLLECTION if (EXECUTED / n).exists()])
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
        nbformat.v4.new_code_cell(
            "panel",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={WIDGET_VIEW: view, "text/plain": "VBox(...)"}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "print(path)",
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text=f"{TEMP}/run.trace.json\n")
            ],
        ),
        nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"),
    ]
    png = "iVBORw0KGgo="
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {
                "box": {
                    "model_name": "VBoxModel",
                    "state": {"children": ["IPY_MODEL_h", "IPY_MODEL_o"]},
                },
                "h": {"model_name": "HTMLModel", "state": {"value": "<h3>Panel</h3>"}},
                "o": {
                    "model_name": "OutputModel",
                    "state": {
                        "outputs": [
                            {
                                "output_type": "display_data",
                                "data": {"image/png": png},
                                "metadata": {},
                            }
                        ]
                    },
                },
            },
            "version_major": 2,
            "version_minor": 0,
        }
    }
    page = static_copy(nb)
    assert len(page.cells) == 2 and "widgets" not in page.metadata
    shown = page.cells[0].outputs[0]["data"]
    assert WIDGET_VIEW not in shown and "<h3>Panel</h3>" in shown["text/html"]
    assert f'<img src="data:image/png;base64,{png}"' in shown["text/html"]
    assert page.cells[1].outputs[0]["text"] == "run.trace.json\n"
    assert len(nb.cells) == 3, "the executed notebook itself is left as it was"


def _builds_a_panel(path) -> bool:
    nb = json.loads(path.read_text())
    return any(
        re.search(r"_panel\(", "".join(c["source"]))
        for c in nb["cells"]
        if c["cell_type"] == "code"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`make html`'s site, built from the notebooks the notebook tests executed."""
    names = [n for n in COLLECTION if (EXECUTED / n).exists()]
    _skip_without_executed_notebooks(names)
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_site.py"), str(EXECUTED), str(out), *names],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out, names


@pytest.mark.browser
def test_the_site_renders_its_panels_with_the_network_blocked(browser, site):
    """Every page loads nothing from the network, and each panel shows its last frame."""
    out, names = site
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def offline(route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")) or urllib.parse.urlparse(url).hostname in (
            "localhost",
            "127.0.0.1",
        ):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", offline)
    for name in names:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
        page.goto((out / name.replace(".ipynb", ".html")).as_uri(), wait_until="load")
        # A panel (a widget with a Run button) shows its last frame; 05 has none, only results.
        panels = page.locator(".fitscope-static-widget").filter(has=page.locator("button"))
        if _builds_a_panel(NOTEBOOKS / name):
            assert panels.count() >= 1, f"{name}: its panel is not on the page"
        for i in range(panels.count()):
            frame = panels.nth(i).locator(".widget-output img").first
            frame.scroll_into_view_if_needed()
            assert frame.is_visible(), f"{name}: panel {i + 1} shows no frame"
        broken = page.evaluate(
            "() => [...document.images].filter(i => !i.complete || "
            "i.naturalWidth === 0).map(i => i.getAttribute('src'))"
        )
        assert broken == [], f"{name}: images that did not load: {broken[:3]}"
        text = page.inner_text("body")
        assert "Loading widget" not in text and "KERNEL /" not in text
        assert errors == [], f"{name}: script errors {errors[:3]}"
        if name == COLLECTION[0]:
            page.screenshot(path=str(ROOT / "artefacts" / "site-offline.png"), full_page=False)
        page.close()
    context.close()
    assert blocked == [], f"the pages tried to load from the network: {sorted(set(blocked))[:5]}"
