"""Render notebooks the tests already executed into a static site.

``python docs/build_site.py SRC OUT NAME.ipynb ...`` (names in reading order).

SRC holds executed notebooks (the notebook tests leave them in ``artefacts/executed/``); nothing is
executed again. OUT gets an ``index.html``, one page per notebook with previous/next links, every
figure as its own PNG file next to the pages, and the glossary as ``glossary.html`` (the
notebooks' links to it lead there).

The site works offline: nothing on a page loads from the network. Widgets (the panels) are
rendered as static HTML from the state the notebook saved (their controls as they were set,
their last frame as an image), so no widget manager is fetched from a CDN; a self-check quiz
shows every choice folded over its explanation; the template's
script tags that point to a CDN (require.js, MathJax: no notebook uses math) are left out. The
test harness's own cell and the temporary folder the tests ran in are left out of the pages.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExtractOutputPreprocessor


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _nav(pages: list[tuple[str, str]], i: int) -> str:
    links = ['<a href="index.html">All notebooks</a>']
    if i > 0:
        links.append(f'<a href="{pages[i - 1][0]}">← {html.escape(pages[i - 1][1])}</a>')
    if i + 1 < len(pages):
        links.append(f'<a href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} →</a>')
    return (
        '<nav style="padding:8px 16px;border-bottom:1px solid #ccc;font-family:sans-serif">'
        + " · ".join(links)
        + "</nav>"
    )


GLOSSARY_LINK = "../docs/glossary.md"  # how the notebooks link it; the site has its own page
HARNESS = re.compile(r"import sys; print\('KERNEL', sys\.\w+\)")  # the notebook runner's cell
TEMP_DIRS = re.compile(r"(?<![\w.])/tmp/(?:[^\s'\"<>/]+/)+")  # where the tests ran: name only
EXTERNAL_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>')
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
QUIZ = 'class="fitscope-quiz"'  # fitscope.show.Quiz's HTML: each choice folded over its explanation
BOXES = {"VBoxModel": "column", "HBoxModel": "row", "BoxModel": "row", "GridBoxModel": "grid"}


def _widget_html(models: dict[str, Any], model_id: str) -> str:
    """Static HTML of one widget from its saved state: boxes, text, controls, Output images."""
    model = models.get(model_id)
    if model is None:
        return ""
    name, state = model["model_name"], model["state"]
    desc = html.escape(state.get("description") or "")
    if name in BOXES:
        inner = "".join(
            _widget_html(models, c.removeprefix("IPY_MODEL_")) for c in state.get("children", [])
        )
        style = (
            "display:grid;grid-template-columns:repeat(3,240px);gap:4px"
            if BOXES[name] == "grid"
            else f"display:flex;flex-direction:{BOXES[name]};gap:6px"
        )
        return f'<div class="widget-box" style="{style}">{inner}</div>'
    if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):
        value = state.get("value", "")
        return f"<div>{value if name != 'LabelModel' else html.escape(value)}</div>"
    if name == "ButtonModel":
        return f"<button disabled>{desc}</button>"
    if name == "OutputModel":
        return (
            '<div class="widget-output">'
            + "".join(_output_html(o) for o in state.get("outputs", []))
            + "</div>"
        )
    if "value" in state or "index" in state:  # a control: show the value it was set to
        labels = state.get("_options_labels")
        value = (
            labels[state["index"]]
            if labels and state.get("index") is not None
            else state.get("value")
        )
        return (
            f'<label style="font-size:90%">{desc} <input disabled '
            f'value="{html.escape(str(value), quote=True)}" size="10"></label>'
        )
    return ""


def _output_html(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        return (
            f'<pre style="white-space:pre-wrap;word-break:normal">'
            f"{html.escape(''.join(output.get('text', '')))}</pre>"
        )
    data = output.get("data", {})
    if "image/png" in data:
        alt = html.escape("".join(data.get("text/plain", "")), quote=True)
        png = "".join(data["image/png"]).replace("\n", "")
        return f'<img src="data:image/png;base64,{png}" alt="{alt}"/>'
    if "text/html" in data:
        return "".join(data["text/html"])
    return f"<pre>{html.escape(''.join(data.get('text/plain', '')))}</pre>"


def static_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as a page shows it: no harness cell, no temp folders, widgets as HTML."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [
        c for c in nb.cells if not (c.cell_type == "code" and HARNESS.fullmatch(c.source.strip()))
    ]
    models = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = TEMP_DIRS.sub("", "".join(out["text"]))
            data = out.get("data", {})
            for mime in ("text/plain", "text/html"):
                if mime in data:
                    data[mime] = TEMP_DIRS.sub("", "".join(data[mime]))
            if WIDGET_VIEW in data and QUIZ in "".join(data.get("text/html", "")):
                del data[WIDGET_VIEW]  # a quiz's own static form: every choice folded
            elif WIDGET_VIEW in data:
                view = _widget_html(models, data.pop(WIDGET_VIEW)["model_id"])
                data["text/html"] = (
                    f'<div class="fitscope-static-widget">{view}<p><small>A '
                    "static copy of the panel as the run left it: run the "
                    "notebook to use it.</small></p></div>"
                )
    return nb


def _figures_to_files(body: str, out: Path, files: str) -> str:
    """Write each PNG or JPEG a result embedded in its HTML output (``data:`` URI) as a file next
    to the page."""
    count = 0

    def to_file(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        name = f"{files}/figure_{count}.{'jpg' if match.group(1) == 'jpeg' else 'png'}"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(base64.b64decode(match.group(2)))
        return f'src="{name}"'

    return re.sub(r'src="data:image/(png|jpeg);base64,([A-Za-z0-9+/=\s]+)"', to_file, body)


def build(src: Path, out: Path, names: list[str]) -> list[Path]:
    """Write the site; returns the pages written (index first)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    notebooks = [(n, static_copy(nbformat.read(src / n, as_version=4))) for n in names]
    pages = [(Path(n).with_suffix(".html").name, _title(nb, n)) for n, nb in notebooks]
    exporter = HTMLExporter(template_name="lab")
    exporter.register_preprocessor(ExtractOutputPreprocessor(), enabled=True)
    written = []
    for i, ((name, nb), (page, _)) in enumerate(zip(notebooks, pages)):
        files = f"{Path(name).stem}_files"
        body, resources = exporter.from_notebook_node(
            nb, resources={"output_files_dir": files, "unique_key": Path(name).stem}
        )
        for filename, data in resources.get("outputs", {}).items():
            target = out / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        body = _figures_to_files(EXTERNAL_SCRIPT.sub("", body), out, files)
        tag = re.search(r"<body[^>]*>", body)
        body = body[: tag.end()] + _nav(pages, i) + body[tag.end() :]
        body = body.replace(f'href="{GLOSSARY_LINK}"', 'href="glossary.html"')
        (out / page).write_text(body, encoding="utf-8")
        written.append(out / page)
    items = "".join(
        f'<li><a href="{p}">{html.escape(t)}</a> <small>({n})</small></li>'
        for (p, t), (n, _) in zip(pages, notebooks)
    )
    index = out / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>fitscope notebooks</title>"
        "</head><body style='font-family:sans-serif;max-width:50em;margin:2em auto'>"
        "<h1>fitscope notebooks</h1><p>What really runs on which thread when Keras trains "
        "a model, measured. These pages were rendered from a test run in quick mode on "
        "the machine that built them; run the notebooks to measure your own.</p>"
        f"<ol>{items}</ol><p><a href='glossary.html'>Glossary</a>: every term and threshold the "
        "notebooks use.</p></body></html>",
        encoding="utf-8",
    )
    return [index, *written, glossary_page(out)]


def glossary_page(out: Path) -> Path:
    """``docs/glossary.md`` as ``glossary.html``, with a link back to the index."""
    from nbconvert.filters.markdown import markdown2html

    text = (Path(__file__).parent / "glossary.md").read_text(encoding="utf-8")
    page = out / "glossary.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Glossary</title></head>"
        "<body style='font-family:sans-serif;max-width:50em;margin:2em auto'>"
        f"{_nav([], 0)}{markdown2html(text)}</body></html>",
        encoding="utf-8",
    )
    return page


if __name__ == "__main__":
    source, target, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    missing = [n for n in names if not (source / n).exists()]
    if missing:
        raise SystemExit(f"not executed yet: {', '.join(missing)} (run `make test` first)")
    for path in build(source, target, names):
        print(path)
