"""The pins agree everywhere, the two commands exist, and the README says what it must."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

from conftest import ROOT
from packaging.requirements import Requirement


def _requirements(path):
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_binder_requirements_are_identical_to_the_root_pins():
    assert (ROOT / "binder" / "requirements.txt").read_text() == (
        ROOT / "requirements.txt"
    ).read_text()


def test_environment_yml_takes_the_pins_from_requirements_txt():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M)
    assert re.search(r"^\s*-\s*-r requirements\.txt\s*$", text, re.M)
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_every_requirement_is_pinned_exactly():
    for path in (ROOT / "requirements.txt", ROOT / "requirements-test.txt"):
        for line in _requirements(path):
            req = Requirement(line)
            assert str(req.specifier).startswith("=="), f"{path.name}: {line} is not pinned"


def test_tensorflow_pins_by_platform():
    reqs = [Requirement(line) for line in _requirements(ROOT / "requirements.txt")]
    linux = {"sys_platform": "linux", "platform_machine": "x86_64"}
    mac = {"sys_platform": "darwin", "platform_machine": "arm64"}
    on_linux = {r.name for r in reqs if r.marker is None or r.marker.evaluate(linux)}
    on_mac = {r.name for r in reqs if r.marker is None or r.marker.evaluate(mac)}
    assert "tensorflow-cpu" in on_linux and "tensorflow" not in on_linux
    assert "tensorflow" in on_mac and "tensorflow-cpu" not in on_mac


def test_installed_package_declares_the_same_pins():
    declared = {str(Requirement(r)) for r in metadata.requires("fitscope") if "extra" not in r}
    pinned = {str(Requirement(line)) for line in _requirements(ROOT / "requirements.txt")}
    assert declared == pinned


def test_postbuild_installs_the_package_and_silences_the_news():
    text = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in text and "pip install" in text and "overrides.json" in text
    assert '"fetchNews": "false"' in (ROOT / "binder" / "overrides.json").read_text()


def test_readme_starts_with_the_two_commands_and_the_binder_badge():
    readme = (ROOT / "README.md").read_text()
    first_block = readme[: readme.index("```", readme.index("```") + 3)]
    assert "make lab" in first_block and "make test" in first_block
    assert "urlpath=lab/tree/notebooks/00_start_here.ipynb" in readme
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "bench:", "html:"):
        assert re.search(rf"^{target}", makefile, re.M), target
    assert "--ip=127.0.0.1" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_make_test_runs_lint_and_the_type_check_before_pytest():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint typecheck\b", makefile, re.M)
    assert "ruff check ." in makefile and "ruff format --check ." in makefile
    assert re.search(r"^typecheck:.*\n\t\$\(VENV\)/bin/mypy$", makefile, re.M)


def test_the_type_check_is_strict_on_instrument_and_basic_elsewhere(tmp_path):
    """The project's mypy configuration on made-up modules: a wrong return type fails anywhere,
    an unannotated function only in a strict layer."""
    source = 'def half(n):\n    return n / 2\n\n\ndef name() -> int:\n    return "x"\n'
    for layer in ("instrument", "show"):
        (tmp_path / "fitscope" / layer).mkdir(parents=True)
        (tmp_path / "fitscope" / layer / "__init__.py").write_text("")
        (tmp_path / "fitscope" / layer / "made_up.py").write_text(source)
    (tmp_path / "fitscope" / "__init__.py").write_text("")
    mypy = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    done = subprocess.run(
        [*mypy, "--cache-dir", str(tmp_path / "cache"), "-p", "fitscope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    findings = {
        (line.split(":")[0], line.rsplit("[", 1)[-1].rstrip("]"))
        for line in done.stdout.splitlines()
        if ": error: " in line
    }
    assert findings == {
        ("fitscope/instrument/made_up.py", "no-untyped-def"),
        ("fitscope/instrument/made_up.py", "return-value"),
        ("fitscope/show/made_up.py", "return-value"),
    }


def test_the_version_is_one_number_everywhere_and_the_changelog_names_it():
    import fitscope

    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert re.search(rf"^version: {re.escape(version)}$", (ROOT / "CITATION.cff").read_text(), re.M)
    assert fitscope.__version__ == version
    assert re.search(rf"^## {re.escape(version)}\b", (ROOT / "CHANGELOG.md").read_text(), re.M)


def test_contributing_says_how_to_run_every_check_make_test_runs():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for command in ("make test", "make lint", "make typecheck", "make bench"):
        assert command in text, command
    assert "tests/test_layers.py" in text


def test_no_module_of_the_package_is_over_400_lines():
    """One job per module: a module past 400 lines is split by job (CONTRIBUTING.md)."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "helpers" / "fitscope").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
