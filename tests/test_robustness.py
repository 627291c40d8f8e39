"""Every panel survives bad input, an interrupt and repeated runs, as a learner would use it."""

from __future__ import annotations

import importlib
import json
import math
import threading

import pytest
from fitscope.errors import FitscopeInputError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Each panel of the collection: (module, factory, a tiny valid workload for a quick run).
PANELS = {
    "generator_fit_panel": ("fitscope.scenarios", "generator_fit_panel",
                            dict(kind="sleep", ms_per_batch=1.0, batch_size=16, width=0, steps=5, epochs=1)),
}

BAD_VALUES = st.one_of(st.just(0), st.just(-1), st.just(-0.5), st.just(10**12), st.just(math.nan),
                       st.just(math.inf), st.just("seven"), st.none(), st.just([1, 2]))


def _panel(key: str):
    module, factory, tiny = PANELS[key]
    return getattr(importlib.import_module(module), factory)(time_budget_s=30), tiny


@pytest.fixture(scope="module", params=sorted(PANELS))
def panel_and_tiny(request):
    return _panel(request.param)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_bad_values_give_one_sentence_and_leave_the_panel_usable(panel_and_tiny, data):
    panel, tiny = panel_and_tiny
    name = data.draw(st.sampled_from(sorted(panel.inputs)))
    value = data.draw(BAD_VALUES)
    before = panel.values()
    try:
        panel.set(**{name: value})
    except Exception:  # the widget itself refused the value (e.g. a str in an IntText): state unchanged
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


def test_keyboard_interrupt_stops_the_run_and_the_sampler(panel_and_tiny):
    panel, tiny = panel_and_tiny
    original = panel._live_display

    class InterruptAtThirdStep:
        def __init__(self, output, counter):
            self.inner, self.steps = original(output, counter), 0

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def step(self, *args, **kwargs):
            self.steps += 1
            if self.steps == 3:
                raise KeyboardInterrupt
            return self.inner.step(*args, **kwargs)

    panel._live_display = InterruptAtThirdStep
    try:
        panel.set(**tiny)
        assert panel.run(from_button=True) is None
    finally:
        panel._live_display = original
    assert "Interrupt" in panel.message and not panel.button.disabled
    assert not [t for t in threading.enumerate() if t.name == "fitscope-sampler"]
    assert panel.run(**tiny) is not None, "the panel works again after the interrupt"


@pytest.mark.kernel
@pytest.mark.parametrize("key", sorted(PANELS))
def test_ten_runs_after_a_warm_run_keep_the_kernel_thread_count(kernel, key):
    module, factory, tiny = PANELS[key]
    out = kernel(f"""
import json, time
import fitscope
from fitscope.sampling import thread_ids
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
""", timeout=600)
    facts = json.loads(out.strip().splitlines()[-1])
    assert max(facts["counts"]) <= facts["warm"], facts
