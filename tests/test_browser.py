"""A real browser: JupyterLab in Debian's Chromium runs a notebook and its widgets render.

As on Binder, the JupyterLab server and its kernels run in a container limit: a cgroup with a
1-CPU quota and 2 GiB (tests/cgroup_limits.py; `taskset -c 0` where no cgroup can be made). This
is the collection's one-CPU condition; tests/test_notebooks.py runs each notebook on all CPUs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
import pytest
from cgroup_limits import CgroupUnavailable, ContainerLimits
from conftest import CHROMIUM, COLLECTION, NOTEBOOKS, ROOT, shm_semaphores
from notebook_runner import TreeMemory

from fitscope.verdicts import consistency

ARTEFACTS = ROOT / "artefacts"

pytestmark = pytest.mark.browser


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, jupyter_path):
    """A JupyterLab server on a free port with a token, fresh settings and workspace."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip(
            f"{CHROMIUM} is not installed. Install Debian's Chromium as root: "
            "`apt-get update && apt-get install -y chromium` (.ci/run does this in CI)"
        )
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(NOTEBOOKS, root)  # the browser saves notebooks; keep the committed ones clean
    settings = home / "settings"
    settings.mkdir()
    shutil.copy(ROOT / "binder" / "overrides.json", settings / "overrides.json")
    limits, limit = None, "none (default mode, all CPUs)"
    if not SCREENSHOTS:
        try:
            limits = ContainerLimits(cpus=1.0, memory_bytes=MEMORY_LIMIT_BYTES).__enter__()
            limit = f"cgroup v{limits.version}: 1 CPU quota, 2 GiB"
        except CgroupUnavailable as e:
            limit = f"taskset -c 0 ({e})"
            warnings.warn(
                f"{e}: JupyterLab falls back to `taskset -c 0`, which hides cores "
                "instead of throttling them, and has no memory limit",
                stacklevel=1,
            )
    confine = limits.prefix() if limits else [] if SCREENSHOTS else ["taskset", "-c", "0"]
    token, port = secrets.token_hex(16), _free_port()
    env = {  # without PYTEST_CURRENT_TEST: the kernels show TensorFlow's C++ log, as a learner's do
        **{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
        "FITSCOPE_QUICK": "0" if SCREENSHOTS else "1",
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabServerApp.app_settings_dir={settings}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen([*confine, *cmd], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARVED_LIMIT_S
    while not _answers(f"{url}/api/status?token={token}"):  # or it exited, or the limit passed
        ended = proc.poll()
        if ended is not None or time.monotonic() > deadline:
            proc.kill()
            if limits:
                limits.__exit__()
            why = (
                f"exited ({ended})"
                if ended is not None
                else f"did not answer in {STARVED_LIMIT_S:g} s"
            )
            pytest.fail(f"JupyterLab {why}:\n" + (home / "lab.log").read_text()[-3000:])
        time.sleep(0.5)
    yield Lab(url, token, proc.pid, root, limits, limit)
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    if limits:
        limits.__exit__()


MEMORY_LIMIT_BYTES = 2 * 2**30
RUNS_LOG = ARTEFACTS / "notebook_runs.jsonl"
# How long a step may take when it waits for an event of the server or the kernel under the 1-CPU
# quota while another CPU-heavy job shares the machine (a save of 03 took over 60 s in CI). Each
# wait returns as soon as its event happens; the limit only bounds a failure.
STARVED_LIMIT_S = 600.0


@dataclass
class Lab:
    """The running server: where it listens, its pid, its notebooks folder and its limit."""

    url: str
    token: str
    pid: int
    root: Path
    limits: ContainerLimits | None
    limit: str

    def call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """One REST call to the server."""
        request = urllib.request.Request(
            f"{self.url}{path}?token={self.token}", data=body, method=method
        )
        with urllib.request.urlopen(request, timeout=STARVED_LIMIT_S) as reply:
            return reply.read()


def _shown_code_cells(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code" and not c.metadata.get("jupyter", {}).get("source_hidden")
    )


def _prompts(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".map(p => p.textContent.trim())"
    )


def _run_all_and_wait(page, shown_code_cells: int, timeout_s: float) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator(".jp-Notebook").first.wait_for(timeout=STARVED_LIMIT_S * 1000)
    # The kernel is connected and idle (the status bar names its state), not merely starting.
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(
        timeout=STARVED_LIMIT_S * 1000
    )
    # Run All marks every cell at once ([*] while queued, in the page itself); a click that lands
    # while the menu is still opening can run only the selected cell, so check and try again.
    for _attempt in range(3):
        page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(ALL_QUEUED, timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"Run All did not start: prompts {_prompts(page)}")
    # The real end: every code cell whose input is shown has a number in its prompt (cells with
    # hidden input show no prompt), none is "[*]", and the execution indicator is idle again.
    # A stall (a cell still pending while the kernel has been idle for STALL_IDLE_S) fails at
    # once, saying so, instead of waiting out the limit (docs/troubleshooting.md).
    deadline, idle_since = time.monotonic() + timeout_s, None
    while True:
        state = page.evaluate(RUN_STATE, shown_code_cells)
        if state["done"]:
            return
        now = time.monotonic()
        idle_since = (idle_since or now) if state["pending"] and state["kernel_idle"] else None
        if idle_since is not None and now - idle_since > STALL_IDLE_S:
            raise AssertionError(
                f"stall: a cell has been pending for {STALL_IDLE_S:g} s with "
                f"the kernel idle (prompts {state['prompts']})"
            )
        if now > deadline:
            raise AssertionError(f"Run All did not finish in {timeout_s:g} s: {state['prompts']}")
        time.sleep(1)


STALL_IDLE_S = 20.0

# Run All has queued or run every code cell: none shows the empty prompt "[ ]:".
ALL_QUEUED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .every(p => p.textContent.trim() !== '[ ]:')"""

# Whether Run All has ended, and whether a cell is pending while the kernel is idle.
RUN_STATE = """(expected) => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .map(p => p.textContent.trim());
    const numbered = prompts.filter(t => /^\\[\\d+\\]:?$/.test(t)).length;
    const pending = prompts.some(t => t.includes('*'));
    const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const idle = !!ind && ind.dataset.status === 'idle';
    const status = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
        .map(x => x.textContent).join(' ');
    return {done: numbered === expected && !pending && idle, pending: pending,
            kernel_idle: idle && status.includes('| Idle'), prompts: prompts.join(' ')};
}"""

# The stall stress check's JupyterLab path: FITSCOPE_BROWSER_REPEAT=N runs each notebook N times
# (`pytest tests/test_browser.py -k "run_all and 00_start"`); `make test` runs each once.
REPEAT = int(os.environ.get("FITSCOPE_BROWSER_REPEAT", "1"))

# `make screenshots` sets this: JupyterLab runs the notebook in default mode, as a learner does.
SCREENSHOTS = bool(os.environ.get("FITSCOPE_SCREENSHOTS"))

# Per notebook with a panel: a control to change after Run All (its label and a new value), then
# Run. A notebook not listed here has no panel.
# 00's panel goes back to the first run's workload (the exercises changed it), as the README's
# throughput picture shows it.
PANEL_CHANGE = {
    "00_start_here.ipynb": (
        "steps per epoch",
        "100" if SCREENSHOTS else "12",
        {"data work": "sleep", "ms per batch": "2"},
    ),
    "01_generator_with_fit.ipynb": ("steps per epoch", "12"),
    "01b_which_backend.ipynb": ("steps", "10"),
    "02_multiprocessing_trainer.ipynb": ("seconds (watchdog)", "6"),
    "03_tfdata_prefetch.ipynb": ("elements per epoch", "24"),
    "04_beyond_one_process.ipynb": ("steps", "4"),
}

# The README's screenshots (`make screenshots` copies them into docs/img/): the live panel of one
# notebook, per notebook the figure of the cell whose source contains the text, one quiz answered.
PANEL_SHOT = "00_start_here.ipynb"
FIGURE_SHOTS = {
    "00_start_here.ipynb": ("show.timeline(result)", "timeline.png"),
    "01b_which_backend.ipynb": ("show.backend_diagram()", "backend_diagram_lab.png"),
}
QUIZ_SHOT = "00_start_here.ipynb"
SHOTS = ARTEFACTS / "screens"

# Collects every distinct PNG shown inside a widget output, as the page changes.
WATCH_FRAMES = """() => {
    window.__frames = new Set();
    const seen = (node) => {
        if (node.tagName === 'IMG' && node.src.startsWith('data:image/png') &&
        node.closest('.widget-output'))
            window.__frames.add(node.src);
        if (node.querySelectorAll) node.querySelectorAll('.widget-output img').forEach(seen);
    };
    new MutationObserver(ms => ms.forEach(m => m.addedNodes.forEach(seen)))
        .observe(document.body, {childList: true, subtree: true});
}"""


PANEL_STATUS = """() => {
    const b = [...document.querySelectorAll('.widget-button')]
        .filter(x => x.textContent.includes('Run')).pop();
    const status = [...b.parentElement.children].filter(x => !x.classList.contains('widget-button'))
        .map(x => x.textContent).join(' ').trim();
    return {status: status, disabled: b.disabled};
}"""


# Counts the panel's status changing to "Running…" from now on.
WATCH_RUNNING = """() => {
    window.__runs = 0;
    const b = [...document.querySelectorAll('.widget-button')]
        .filter(x => x.textContent.includes('Run')).pop();
    new MutationObserver(() => {
        const status = [...b.parentElement.children].filter(x =>
        !x.classList.contains('widget-button'))
            .map(x => x.textContent).join(' ').trim();
        if (status.startsWith('Running')) window.__runs += 1;
    }).observe(b.parentElement, {childList: true, subtree: true, characterData: true});
}"""


def _frames_counted(page) -> int:
    # textContent, not innerText: JupyterLab skips rendering cells outside the viewport
    # (content-visibility), and innerText of a skipped cell is empty.
    text = page.evaluate("() => document.querySelector('.jp-Notebook').textContent")
    return max((int(m) for m in re.findall(r"frame (\d+) ·", text)), default=0)


def _shut_down_kernels(lab: Lab) -> None:
    """End every kernel session of the server, so the next run starts in a fresh kernel."""
    for session in json.loads(lab.call("GET", "/api/sessions")):
        lab.call("DELETE", f"/api/sessions/{session['id']}")


@pytest.fixture
def fresh_kernels(lab):
    """After each run: its kernel shut down (a repeated notebook must not reuse a warm one)."""
    yield
    _shut_down_kernels(lab)


def _saved_copy(page, lab: Lab, name: str, dst: Path) -> nbformat.NotebookNode:
    """Save the notebook from the page (Ctrl+S), wait for the server's answer to that save, and
    read the file JupyterLab wrote.

    Two events, each with its own limit: the page starts the save (a request for the notebook's
    contents: its check of the file on disk, then the PUT), and the server answers the PUT. A
    starved server only delays the second; a key press that never reached JupyterLab fails the
    first, saying so."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    path = f"/api/contents/{name}"

    def about_the_notebook(request) -> bool:
        return urllib.parse.unquote(urllib.parse.urlparse(request.url).path) == path

    def the_save(response) -> bool:
        return about_the_notebook(response.request) and response.request.method == "PUT"

    def modified() -> str:
        return json.loads(lab.call("GET", path))["last_modified"]

    before = modified()
    page.keyboard.press("Escape")
    try:
        with page.expect_response(the_save, timeout=STARVED_LIMIT_S * 1000) as answer:
            try:
                with page.expect_request(about_the_notebook, timeout=SAVE_STARTS_S * 1000):
                    page.keyboard.press("Control+s")
            except PlaywrightTimeout as e:
                raise AssertionError(f"Ctrl+S started no save in {SAVE_STARTS_S:g} s") from e
    except PlaywrightTimeout as e:
        raise AssertionError(f"JupyterLab did not answer the save in {STARVED_LIMIT_S:g} s") from e
    reply = answer.value
    assert reply.ok, f"the save failed: {reply.status} {reply.status_text}"
    assert modified() != before, "the save was answered, yet the file's last_modified is unchanged"
    shutil.copy(lab.root / name, dst)
    return nbformat.read(dst, as_version=4)


# Ctrl+S starts a save in the page at once; the request needs no server time to be sent.
SAVE_STARTS_S = 60.0


def _no_children_left(pid: int, tree: set[int] = frozenset(), timeout_s: float = 120) -> list[str]:
    """The server's child processes, and those of ``tree`` (the kernels' processes before they
    were shut down: one orphaned on the way out is no longer the server's), still alive
    ``timeout_s`` after its kernels were shut down."""
    deadline = time.monotonic() + timeout_s
    while True:
        procs = {p.pid: p for p in psutil.Process(pid).children(recursive=True)}
        for other in tree - set(procs):
            try:
                procs[other] = psutil.Process(other)
            except psutil.NoSuchProcess:
                continue
        left = []
        for p in procs.values():
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{p.pid} {p.name()}")
            except psutil.NoSuchProcess:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


@pytest.mark.parametrize("name", COLLECTION * REPEAT)
def test_run_all_in_jupyterlab(lab, browser, fresh_kernels, name, tmp_path):
    """Run All under Binder's limit: the real end, no errors, widgets rendered and live; change a
    control and Run; a click on the closing quiz explains the picked choice; then the saved
    notebook's readings follow from its numbers, it printed
    B = 1 CPU, stayed under 2 GiB without an OOM kill, and left no process or semaphore behind."""
    ARTEFACTS.mkdir(exist_ok=True)
    stem = Path(name).stem
    sems_before = shm_semaphores()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset")
    page.evaluate(WATCH_FRAMES)
    started = time.monotonic()
    with TreeMemory(root=lab.pid) as memory:
        try:
            _run_all_and_wait(page, _shown_code_cells(NOTEBOOKS / name), timeout_s=900)
        finally:
            page.screenshot(path=str(ARTEFACTS / f"{stem}.png"), full_page=True)
            (ARTEFACTS / f"{stem}.txt").write_text(
                f"prompts: {_prompts(page)}\n\n" + page.locator(".jp-Notebook").inner_text()
            )
        run_s = time.monotonic() - started
        text = page.evaluate("() => document.querySelector('.jp-Notebook').textContent")
        assert "Error displaying widget" not in text and "Loading widget" not in text
        assert (
            page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            .filter(has_text="Traceback")
            .count()
            == 0
        )
        assert not re.search(r"Traceback \(most recent call last\)", text)
        if name in PANEL_CHANGE:
            _change_a_control_and_run(page, name)
        else:  # a notebook without a panel (05 diagnoses the learner's code)
            assert page.locator(".widget-button", has_text="Run").count() == 0
        _answer_the_quiz(page, name)
        if name in FIGURE_SHOTS:
            _shoot_figure(page, *FIGURE_SHOTS[name])
        saved = _saved_copy(page, lab, name, tmp_path / name)
    context.close()
    tree = {p.pid for p in psutil.Process(lab.pid).children(recursive=True)}
    _shut_down_kernels(lab)
    assert _no_children_left(lab.pid, tree) == [], "processes survived the notebook's kernel"
    assert shm_semaphores() - sems_before == set(), "semaphores leaked"
    found = consistency.check_notebook(tmp_path / name)  # every reading follows from its numbers
    assert found.ok, "\n".join(f"{p.where}: {p.what}" for p in found)
    if SCREENSHOTS:  # default mode on all CPUs, no limit
        return
    printed = "".join(
        o.get("text", "") for c in saved.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "B = 1 CPU" in printed, "the environment line should report the one-CPU budget"
    cgroup = lab.limits.stats() if lab.limits else {}
    assert cgroup.get("oom_kills") in (0, None), f"a kernel or a child was OOM-killed: {cgroup}"
    peak = memory.peak_bytes
    assert 0 < peak < MEMORY_LIMIT_BYTES, f"kernel and children peaked at {peak / 2**20:.0f} MiB"
    with RUNS_LOG.open("a") as log:
        log.write(
            json.dumps(
                {
                    "notebook": name,
                    "condition": "JupyterLab, one CPU quota",
                    "limit": lab.limit,
                    "offline": False,
                    "run_s": round(run_s, 1),
                    "peak_memory_mib": round(peak / 2**20),
                    "cgroup": cgroup,
                }
            )
            + "\n"
        )


def _change_a_control_and_run(page, name: str) -> None:
    """The panel rendered and drew live frames; change a control, click Run, see it end Done."""
    stem = Path(name).stem
    assert page.locator(".widget-button", has_text="Run").count() >= 1, "the panel did not render"
    # Each run draws a frame before its clock starts and one after its last step (frames in
    # between, off the training thread, only once a run is long enough to afford them).
    assert _frames_counted(page) >= 2, "the live panel drew fewer than 2 frames"
    assert page.evaluate("() => window.__frames.size") >= 3, "the live image did not change"

    label, value, *others = PANEL_CHANGE[name]
    for other, setting in (others[0] if others else {}).items():
        control = page.locator(".widget-inline-hbox", has_text=other)
        if control.locator("select").count():
            control.locator("select").first.select_option(setting)
        else:
            control.locator("input").first.fill(setting)
            control.locator("input").first.press("Tab")
    field = page.locator(".widget-inline-hbox", has_text=label).locator("input").first
    field.fill(value)
    field.press("Tab")
    page.evaluate(WATCH_RUNNING)
    page.locator(".widget-button", has_text="Run").last.click()
    # The new run really started (the status said "Running…") and then ended with "Done".
    page.wait_for_function(
        f"""() => {{
        const now = ({PANEL_STATUS})();
        return window.__runs > 0 && !now.status.startsWith('Running') && !now.disabled;
    }}""",
        timeout=STARVED_LIMIT_S * 1000,
    )
    status = page.evaluate(PANEL_STATUS)["status"]
    assert status.startswith("Done"), f"the panel's run ended with: {status}"
    page.screenshot(path=str(ARTEFACTS / f"{stem}-after-rerun.png"), full_page=True)
    if name == PANEL_SHOT:
        SHOTS.mkdir(parents=True, exist_ok=True)
        live = (
            page.locator(".widget-vbox", has=page.locator("h3"))
            .first.locator(".widget-output")
            .first
        )
        frame = live.locator("img").first  # the frame itself, not the full-width output area
        frame.scroll_into_view_if_needed()
        frame.screenshot(path=str(SHOTS / "throughput.png"))


def _shoot_figure(page, source: str, png: str) -> None:
    """A screenshot of the figure that the code cell whose source contains ``source`` drew."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    figure = (
        page.locator(".jp-CodeCell", has_text=source).locator(".jp-OutputArea-output img").first
    )
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(SHOTS / png))


def _answer_the_quiz(page, name: str) -> None:
    """Click a wrong choice, then the right one, of the first question of the notebook's closing
    quiz (``show.self_check("NN")``), as a learner does: each click changes the feedback line under
    the question to that choice's verdict and explanation, sent back by the kernel."""
    from playwright.sync_api import expect

    from fitscope.show.quiz import QUIZZES

    key = name.split("_")[0]
    question = QUIZZES[key][0]
    quiz = page.locator(".jp-CodeCell", has_text=f'self_check("{key}")').locator(".widget-vbox")
    first = quiz.first.locator(".widget-radio").first  # the question's buttons, then its feedback
    feedback = first.locator("xpath=following-sibling::*[1]")
    # Rendered already (Run All left no "Loading widget"): a page-side wait, no kernel in it.
    expect(feedback).to_contain_text("Pick a choice", timeout=SAVE_STARTS_S * 1000)
    wrong = next(i for i in range(len(question.choices)) if i != question.right)
    for picked in (wrong, question.right):
        first.get_by_label(question.choices[picked][0], exact=True).check()
        expect(feedback).to_have_text(question.feedback(picked), timeout=STARVED_LIMIT_S * 1000)
    if name == QUIZ_SHOT:
        SHOTS.mkdir(parents=True, exist_ok=True)
        quiz.first.scroll_into_view_if_needed()
        quiz.first.screenshot(path=str(SHOTS / "quiz_answered.png"))
