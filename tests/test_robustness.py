"""Every panel survives bad input, an interrupt and repeated runs, as a learner would use it."""

from __future__ import annotations

import importlib
import json
import math
import threading

import pytest
from conftest import child_pids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitscope.instrument.errors import FitscopeInputError

# Each panel of the collection: (module, factory, a tiny valid workload for a quick run).
PANELS = {
    "generator_fit_panel": (
        "fitscope.lessons.generator.fit",
        "generator_fit_panel",
        dict(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=5, epochs=1),
    ),
    "tfdata_panel": (
        "fitscope.lessons.tfdata.variants",
        "tfdata_panel",
        dict(open_ms=1.0, read_ms=0.5, map_ms=0.5, train_ms=0.5, elements=16),
    ),
    "trainer_panel": (
        "fitscope.lessons.trainer.article",
        "trainer_panel",
        dict(start_method="fork", seconds=5.0, memory_cap_mb=600.0, producer_ms=5.0),
    ),
    "multiworker_panel": (
        "fitscope.lessons.distributed.strategies",
        "multiworker_panel",
        dict(steps=3, per_worker_batch=8),
    ),
}
# Ten runs each: the panels that start processes run them in sandboxes, so the kernel-thread
# check covers the in-kernel panels and the trainer's (its sandbox's reader threads must end too).
TEN_RUNS = ["generator_fit_panel", "tfdata_panel", "trainer_panel"]

BAD_VALUES = st.one_of(
    st.just(0),
    st.just(-1),
    st.just(-0.5),
    st.just(10**12),
    st.just(math.nan),
    st.just(math.inf),
    st.just("seven"),
    st.none(),
    st.just([1, 2]),
)


def _panel(key: str):
    module, factory, tiny = PANELS[key]
    panel = getattr(importlib.import_module(module), factory)(time_budget_s=30)
    panel.set(**tiny)  # runs that accept a value stay short
    return panel, tiny


@pytest.fixture(scope="module", params=sorted(PANELS))
def panel_and_tiny(request):
    return _panel(request.param)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_bad_values_give_one_sentence_and_leave_the_panel_usable(panel_and_tiny, data):
    panel, tiny = panel_and_tiny
    name = data.draw(st.sampled_from(sorted(panel.inputs)))
    value = data.draw(BAD_VALUES)
    before = panel.values()
    try:
        panel.set(**{name: value})
    except (
        Exception
    ):  # the widget itself refused the value (e.g. a str in an IntText): state unchanged
        assert panel.values() == before
        return
    result = panel.run(from_button=True)
    if result is None:  # rejected: one sentence, no traceback, Run enabled again
        assert "\n" not in panel.message and "Traceback" not in panel.message
        assert panel.message.endswith(".") and not panel.button.disabled
    panel.set(**{name: before[name]})
    assert panel.values() == before


def test_an_unknown_control_is_one_sentence(panel_and_tiny):
    panel, _ = panel_and_tiny
    with pytest.raises(FitscopeInputError) as e:
        panel.set(no_such_control=1)
    assert "\n" not in str(e.value)


def test_keyboard_interrupt_stops_the_run_the_sampler_and_every_process(panel_and_tiny):
    """Kernel › Interrupt arrives in whatever the run is doing: here, the live display's 3rd
    call."""
    panel, tiny = panel_and_tiny
    original = panel._live_display
    kids = child_pids()

    class InterruptAtThirdCall:
        def __init__(self, output, counter):
            self.inner, self.calls = original(output, counter), 0

        def __getattr__(self, attr):
            value = getattr(self.inner, attr)
            if not callable(value):
                return value

            def counted(*args, **kwargs):
                self.calls += 1
                if self.calls == 3:
                    raise KeyboardInterrupt
                return value(*args, **kwargs)

            return counted

    panel._live_display = InterruptAtThirdCall
    try:
        panel.set(**tiny)
        assert panel.run(from_button=True) is None
    finally:
        panel._live_display = original
    assert "Interrupt" in panel.message and not panel.button.disabled
    assert not [t for t in threading.enumerate() if t.name == "fitscope-sampler"]
    assert child_pids() - kids == set(), "processes survived the interrupt"
    assert panel.run(**tiny) is not None, "the panel works again after the interrupt"


@pytest.mark.kernel
@pytest.mark.parametrize("key", TEN_RUNS)
def test_ten_runs_after_a_warm_run_keep_the_kernel_thread_count(kernel, key):
    module, factory, tiny = PANELS[key]
    out = kernel(
        f"""
import json, time
import fitscope
from fitscope.instrument.sampling import thread_ids
from {module} import {factory}
panel = {factory}(time_budget_s=30)
panel.run(**{tiny!r})
time.sleep(1.0)
warm = len(thread_ids())
counts = []
for _ in range(10):
    panel.run(**{tiny!r})
    time.sleep(1.0)
    counts.append(len(thread_ids()))
print(json.dumps({{"warm": warm, "counts": counts}}))
""",
        timeout=600,
    )
    facts = json.loads(out.strip().splitlines()[-1])
    assert max(facts["counts"]) <= facts["warm"], facts
