"""Spans from any thread, the generator wrapper, tf.data threads, fork safety, Chrome trace."""

from __future__ import annotations

import json
import threading

from fitscope.instrument.tracing import Tracer, chrome_trace, graph_timed
from fitscope.isolation.sandbox import run_python


def test_span_decorator_and_mark_record_the_calling_thread():
    tracer = Tracer()
    with tracer.span("load", "io"):
        pass

    @tracer.traced()
    def step(x):
        return x + 1

    assert step(1) == 2
    tracer.mark("epoch 1", "epoch")
    spans = tracer.spans()
    assert [s.label for s in spans] == ["load", "step", "epoch 1"]
    me = threading.get_native_id()
    assert all(s.tid == me for s in spans)
    assert spans[0].end_ns >= spans[0].start_ns and spans[2].end_ns == spans[2].start_ns
    assert spans[1].thread == threading.current_thread().name


def test_spans_from_many_threads_keep_their_own_ids():
    tracer = Tracer()
    seen: dict[int, int] = {}

    def worker():
        seen[threading.get_native_id()] = 0
        for i in range(500):
            with tracer.span(f"w{i}", "work"):
                pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = tracer.spans("work")
    assert len(spans) == 8 * 500
    assert {s.tid for s in spans} == set(seen)
    for tid in seen:
        assert sum(1 for s in spans if s.tid == tid) == 500


def test_generator_wrapper_on_tf_data_threads_reads_ids_inside_them():
    import tensorflow as tf

    tracer = Tracer()
    inside: list[int] = []

    def gen():
        while True:
            inside.append(threading.get_native_id())
            yield 1.0

    traced = tracer.wrap_generator(gen(), capture_stacks=True)
    ds = tf.data.Dataset.from_generator(
        lambda: traced, output_signature=tf.TensorSpec((), tf.float32)
    )
    values = list(ds.take(20).as_numpy_iterator())
    assert len(values) == 20
    spans = tracer.spans("generator")
    assert len(spans) >= 20
    assert {s.tid for s in spans} == set(inside)
    assert threading.get_native_id() not in {s.tid for s in spans}, "tf.data called next() itself"
    for tid, stack in tracer.stacks.items():
        assert any("from_generator_op" in f.filename for f in stack), tid


def test_graph_timed_spans_keep_an_unknown_thread():
    import tensorflow as tf

    tracer = Tracer()
    ds = tf.data.Dataset.range(6).map(graph_timed(lambda x: x * 2), num_parallel_calls=2)
    with tracer.span("consume", "train"):
        for value, (t0, t1) in ds.as_numpy_iterator():
            tracer.add_graph_span(f"map {value}", t0, t1)
    consume = tracer.spans("train")[0]
    graph = tracer.spans("tf.data")
    assert len(graph) == 6 and all(s.tid is None for s in graph)
    slack = 5_000_000  # tf.timestamp has µs resolution on the wall clock
    for s in graph:
        assert s.end_ns >= s.start_ns
        assert consume.start_ns - slack <= s.start_ns <= consume.end_ns + slack


def test_chrome_trace_fields():
    tracer = Tracer()
    with tracer.span("a", "train"):
        pass
    tracer.mark("epoch 1", "epoch")
    tracer.add_graph_span("g", 1.0, 1.001)
    me = threading.get_native_id()
    trace = chrome_trace(tracer.spans(), 42, tracer.origin_ns, roles={me: "main"})
    events = trace["traceEvents"]
    x = [e for e in events if e["ph"] == "X" and e["pid"] == 42]
    assert x[0]["tid"] == me and x[0]["dur"] >= 0 and isinstance(x[0]["ts"], float)
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert len(names) == 1 and names[0]["tid"] == me and "main" in names[0]["args"]["name"]
    assert any(e["ph"] == "i" for e in events)
    graph = [e for e in events if e.get("name") == "g"]
    assert graph[0]["pid"] != 42, "a span with no known thread must not borrow a real tid"
    json.dumps(trace)
    records = json.loads(json.dumps(tracer.records()))
    assert [r["label"] for r in records] == ["a", "epoch 1", "g"]
    assert records[0]["tid"] == me and records[2]["tid"] is None


def test_fork_child_starts_with_an_empty_tracer_and_its_own_pid():
    code = """
import json, os
from fitscope.instrument.tracing import Tracer
tracer = Tracer()
with tracer.span("parent", "work"):
    pass
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    before = len(tracer.spans())
    with tracer.span("child", "work"):
        pass
    os.write(w, json.dumps([before, [s.label for s in tracer.spans()], tracer.pid]).encode())
    os._exit(0)
os.waitpid(pid, 0)
child = json.loads(os.read(r, 4096))
print(json.dumps({"child": child, "child_pid": pid, "parent": [s.label for s in tracer.spans()]}))
"""
    result = run_python(code=code, timeout_s=60)
    assert result.root.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    before, labels, pid = out["child"]
    assert before == 0 and labels == ["child"] and pid == out["child_pid"]
    assert out["parent"] == ["parent"]
