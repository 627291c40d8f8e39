"""Inside a real Jupyter kernel: thread roles by id, and CPU attribution by the sampler."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.kernel


def test_kernel_threads_are_the_baseline_and_tensorflow_threads_are_new(kernel):
    out = kernel("""
import json, threading
import fitscope
from fitscope.instrument.threads import ThreadRoles, KERNEL, MAIN, TF_CREATED
roles = ThreadRoles.current()
python_threads = {t.native_id: t.name for t in threading.enumerate()}
tf_ids = roles.warm_up_tensorflow()
print(json.dumps({
    "main": roles.main, "main_role": roles.role(roles.main),
    "kernel_roles": {n: roles.role(tid) for tid, n in python_threads.items() if tid != roles.main},
    "tf": sorted(tf_ids), "tf_roles": sorted({roles.role(t) for t in tf_ids}),
    "overlap": sorted(set(tf_ids) & roles.baseline),
}))
""")
    facts = json.loads(out)
    assert facts["main_role"] == "main"
    assert len(facts["kernel_roles"]) >= 3  # IOPub, Heartbeat, Control, ... before TensorFlow
    assert set(facts["kernel_roles"].values()) == {"kernel/ui"}
    assert facts["tf"] and facts["tf_roles"] == ["threads TensorFlow created"]
    assert facts["overlap"] == []


def test_sampler_attributes_a_busy_thread_inside_the_kernel(kernel):
    out = kernel("""
import json, threading, time
from fitscope.instrument.sampling import Sampler
box = {}
def spin():
    box["tid"] = threading.get_native_id()
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
with Sampler(interval_s=0.01) as s:
    t = threading.Thread(target=spin); t.start(); t.join()
per = s.samples.by_thread_s()
print(json.dumps({"tid": box["tid"], "busy": per[box["tid"]],
                  "top": max(per, key=per.get)}))
""")
    facts = json.loads(out)
    assert facts["top"] == facts["tid"]
    assert 0.25 <= facts["busy"] <= 0.4


def test_bad_input_is_one_sentence_in_the_kernel(kernel):
    out = kernel(
        """
import fitscope
from fitscope.experiments.article_fit import GeneratorFitParams
GeneratorFitParams(steps=-1)
""",
        failing=True,
    )
    assert out.strip() == "⚠ steps per epoch must be at least 3 and at most 100000, not -1."
