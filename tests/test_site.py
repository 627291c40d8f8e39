"""`make html`: the site rendered from the notebooks the notebook tests executed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import COLLECTION, ROOT

EXECUTED = ROOT / "artefacts" / "executed"


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
        images = re.findall(r'<img[^>]+src="([^"]+)"', text)
        assert images, f"{page} shows no figure"
        for src in images:
            assert not src.startswith("data:"), "figures are files next to the pages"
            assert (out / src).is_file() and (out / src).stat().st_size > 1000, src
