"""Render notebooks the tests already executed into a static site.

``python docs/build_site.py SRC OUT NAME.ipynb ...`` (names in reading order).

SRC holds executed notebooks (the notebook tests leave them in ``artefacts/executed/``); nothing is
executed again. OUT gets an ``index.html``, one page per notebook with previous/next links, and
every figure as its own PNG file next to the pages.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import sys
from pathlib import Path

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
    return ('<nav style="padding:8px 16px;border-bottom:1px solid #ccc;font-family:sans-serif">'
            + " · ".join(links) + "</nav>")


def _figures_to_files(body: str, out: Path, files: str) -> str:
    """Write each PNG a result embedded in its HTML output (``data:`` URI) as a file next to the
    page."""
    count = 0

    def to_file(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        name = f"{files}/figure_{count}.png"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(base64.b64decode(match.group(1)))
        return f'src="{name}"'

    return re.sub(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"', to_file, body)


def build(src: Path, out: Path, names: list[str]) -> list[Path]:
    """Write the site; returns the pages written (index first)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    notebooks = [(n, nbformat.read(src / n, as_version=4)) for n in names]
    pages = [(Path(n).with_suffix(".html").name, _title(nb, n)) for n, nb in notebooks]
    exporter = HTMLExporter(template_name="lab")
    exporter.register_preprocessor(ExtractOutputPreprocessor(), enabled=True)
    written = []
    for i, ((name, nb), (page, _)) in enumerate(zip(notebooks, pages)):
        files = f"{Path(name).stem}_files"
        body, resources = exporter.from_notebook_node(
            nb, resources={"output_files_dir": files, "unique_key": Path(name).stem})
        for filename, data in resources.get("outputs", {}).items():
            target = out / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        body = _figures_to_files(body, out, files)
        tag = re.search(r"<body[^>]*>", body)
        body = body[:tag.end()] + _nav(pages, i) + body[tag.end():]
        (out / page).write_text(body, encoding="utf-8")
        written.append(out / page)
    items = "".join(f'<li><a href="{p}">{html.escape(t)}</a> <small>({n})</small></li>'
                    for (p, t), (n, _) in zip(pages, notebooks))
    index = out / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>fitscope notebooks</title>"
        "</head><body style='font-family:sans-serif;max-width:50em;margin:2em auto'>"
        "<h1>fitscope notebooks</h1><p>What really runs on which thread when Keras trains "
        "a model, measured. These pages were rendered from a test run in quick mode on "
        "the machine that built them; run the notebooks to measure your own.</p>"
        f"<ol>{items}</ol></body></html>",
        encoding="utf-8",
    )
    return [index, *written]


if __name__ == "__main__":
    source, target, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    missing = [n for n in names if not (source / n).exists()]
    if missing:
        raise SystemExit(f"not executed yet: {', '.join(missing)} (run `make test` first)")
    for path in build(source, target, names):
        print(path)
