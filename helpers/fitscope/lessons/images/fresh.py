"""The notebook's own cells, diagnosed in a fresh interpreter by ``python -m fitscope diagnose``.

Another Keras backend, or PyDataset worker processes, need an interpreter of their own: the
kernel is bound to TensorFlow, and it is never forked. :func:`as_script` collects what two
expressions need from the notebook (the functions and classes the cells defined, the modules and
plain values they use, transitively) and writes them as ``your_pipeline.py`` next to a
``train.py`` that calls ``fit``. :func:`diagnose_elsewhere` runs

    python -m fitscope diagnose --backend NAME --json diagnosis.json train.py

in fitscope's sandbox (a watchdog, a memory cap for the whole tree, nothing left behind). With
worker processes the interpreter uses the forkserver start method, and the fork server imports
``your_pipeline`` first, with Keras on its light NumPy backend: every worker is forked from it,
so none imports TensorFlow and no process running TensorFlow is ever forked.

Example:
    >>> pipeline, train = as_script("len(CLASSES)", "SIZE", {"CLASSES": ("a", "b"), "SIZE": 8})
    >>> "SIZE = 8" in pipeline, "model.fit(SIZE, epochs=1)" in train
    (True, True)
"""

from __future__ import annotations

import dis
import inspect
import json
import linecache
import re
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from fitscope.instrument.errors import FitscopeInputError
from fitscope.instrument.tables import ShowsItself, Table
from fitscope.isolation.sandbox import run_python
from fitscope.verdicts.compare import TOO_CLOSE
from fitscope.verdicts.quantities import ROW

__all__ = ["as_script", "diagnose_elsewhere", "FreshDiagnosis"]

PLAIN = (int, float, str, bool, type(None))
GLOBAL_LOADS = ("LOAD_GLOBAL", "LOAD_NAME")
LAUNCH = """\
import os
os.chdir({folder!r})  # first: worker processes find train.py from the folder multiprocessing saw
import multiprocessing, multiprocessing.forkserver, runpy, sys
if __name__ == "__main__":
    if {processes!r}:  # the fork server imports the pipeline on Keras's NumPy backend, first
        multiprocessing.set_start_method("forkserver")
        multiprocessing.set_forkserver_preload(["your_pipeline"])
        os.environ["KERAS_BACKEND"] = "numpy"
        multiprocessing.forkserver.ensure_running()
        os.environ.pop("KERAS_BACKEND")
    sys.argv = ["fitscope"] + {argv!r}
    runpy.run_module("fitscope", run_name="__main__", alter_sys=True)
"""


def _plain(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return isinstance(value, PLAIN)


def _class_source(cls: type) -> str:
    """A class's source from its methods' cell (inspect cannot find classes defined in cells)."""
    for f in vars(cls).values():
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        lines = linecache.getlines(code.co_filename)
        for i, line in enumerate(lines):
            if re.match(rf"class {cls.__name__}\b", line):
                return "".join(inspect.getblock(lines[i:]))
    raise FitscopeInputError(f"The source of class {cls.__name__} cannot be found.")


def _names(code: types.CodeType) -> set[str]:
    """The global names ``code`` (and the code nested in it) reads."""
    found = {i.argval for i in dis.get_instructions(code) if i.opname in GLOBAL_LOADS}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


def _collect(names: set[str], ns: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(import lines, value lines, sources) for ``names`` and what they use, transitively."""
    imports, values, sources, seen, todo = [], [], [], set(), sorted(names)
    here = ns.get("__name__", "__main__")
    while todo:
        name = todo.pop()
        if name in seen or name not in ns:
            continue  # a builtin, an attribute name, or a local
        seen.add(name)
        value = ns[name]
        if isinstance(value, types.ModuleType):
            imports.append(
                f"import {value.__name__}" + (f" as {name}" if name != value.__name__ else "")
            )
        elif isinstance(value, PurePath):  # under the home folder as ~/…: no machine's path shown
            home = Path.home()
            if Path(value).is_relative_to(home):
                tail = "~/" + Path(value).relative_to(home).as_posix()
                values.append(f"{name} = Path({tail!r}).expanduser()")
            else:
                values.append(f"{name} = Path({str(value)!r})")
            imports.append("from pathlib import Path")
        elif _plain(value):
            values.append(f"{name} = {value!r}")
        elif (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ != here:
            imports.append(
                f"from {value.__module__} import {value.__qualname__}"
                + (f" as {name}" if name != value.__qualname__ else "")
            )
        elif inspect.isfunction(value) or inspect.isclass(value):
            if inspect.isclass(value):
                src = _class_source(value)
                codes = [f.__code__ for f in vars(value).values() if hasattr(f, "__code__")]
                todo += sorted(_base_names(src))
            else:
                src, codes = inspect.getsource(value), [value.__code__]
            sources.append(src)
            todo += sorted(set().union(*(_names(c) for c in codes)))
        else:
            raise FitscopeInputError(
                f"{name} ({type(value).__name__}) cannot be written into a "
                "script: use a function, a class, a module or a plain value."
            )
    return sorted(set(imports)), sorted(values), sources[::-1]


def _base_names(source: str) -> set[str]:
    """The names a class statement's bases use (``keras`` in ``class A(keras.utils.PyDataset)``)."""
    first = source.splitlines()[0]
    return set(re.findall(r"[A-Za-z_]\w*", first.split("(", 1)[1])) if "(" in first else set()


def as_script(
    model: str, data: str, ns: dict[str, Any], steps: int | None = None
) -> tuple[str, str]:
    """(your_pipeline.py, train.py): what ``model`` and ``data`` (expressions) need, from ``ns``."""
    names = _names(compile(model, "<model>", "eval")) | _names(compile(data, "<data>", "eval"))
    imports, values, sources = _collect(names, ns)
    pipeline = "\n".join(
        [
            "# The notebook's cells that the training below uses.",
            *imports,
            "",
            *values,
            "",
            *sources,
        ]
    )
    per_epoch = f", steps_per_epoch={steps}" if steps else ""
    ends = (  # r8: data that never ends never ends an epoch without steps_per_epoch
        "    # `fitscope diagnose` stops after this fit; run on its own, data that never ends\n"
        "    # needs steps_per_epoch= too: the batches in one pass over your files\n"
    )
    ends = "" if steps else ends
    train = (
        f'from your_pipeline import *\n\nif __name__ == "__main__":\n'
        f"    model = {model}\n{ends}    model.fit({data}, epochs=1{per_epoch})\n"
    )
    return pipeline, train


@dataclass
class FreshDiagnosis(ShowsItself):
    """What ``python -m fitscope diagnose`` wrote (its JSON), printed, and how the run ended."""

    command: str
    found: dict[str, Any]
    report: str
    wall_s: float
    peak_memory_mb: float
    script: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.found

    @property
    def reading(self) -> str:
        return self.found["reading"]

    def table(self) -> Table:
        """The diagnosis's figures as its own table prints them (a median and its repeats), so
        every number its sentence and remedies quote is in a row here."""
        f = self.found
        rows = [
            ("verdict", f["verdict"]),
            ("data source", f["source"]),
            (ROW["input share"], _shares(f["input_share"], f["shares"])),
            (ROW["waiting share"], _shares(f["waiting_share"], f["waiting_shares"])),
            (ROW["contention share"], _shares(f["contention_share"], f["contention_shares"])),
            (ROW["step in fit"], _times(f["step_in_fit_s"], f["steps_in_fit_s"])),
            (ROW["step alone"], _times(f["step_alone_s"], f["steps_alone_s"])),
            *(
                [("step-alone noise: its runs before and after the fit", noise)]
                if (noise := f.get("alone_noise_text"))
                else []
            ),
            (
                ROW["step alone, the pipeline beside it"],
                _times(f["step_under_load_s"], f["steps_under_load_s"]),
            ),
            (
                ROW["one batch made alone"],
                f"{_ms(f['data_s'])} wall, {_ms(f['data_cpu_s'])} CPU on {f['data_clock']} "
                f"({f['data_busy']})",
            ),
            ("data thread (after Keras's peek)", f"{f['data_thread']}: {f['data_where']}"),
            (
                "bounds a step: ideal overlap / one after the other",
                f"{_ms(f['overlapped_s'])} / {_ms(f['sequential_s'])}: "
                + (
                    f"fit was {f['position']}"
                    if f["position"] != TOO_CLOSE
                    else "too close to tell overlap from none"
                ),
            ),
            ("CPU budget", f["budget"]),
            (
                "the fresh interpreter",
                f"{self.wall_s:.1f} s, its processes peaked at {self.peak_memory_mb:.0f} MB",
            ),
        ]
        rows += [(f"remedy {i + 1}", s) for i, s in enumerate(f["remedies"])]
        return Table(
            ("quantity", "measured"),
            rows,
            reading=self.reading,
            title=f"{self.command}  ({f['backend']})",
        )


def _ms(seconds: float) -> str:
    """As ``fitscope diagnose`` prints a time: 3 significant digits, in ms (µs under 0.1 ms)."""
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.3g} µs"


def _shares(median: float, each: list[float]) -> str:
    return f"{median:.0%} ({', '.join(f'{s:.0%}' for s in each)})"


def _times(median: float, each: list[float]) -> str:
    return f"{_ms(median)} ({', '.join(_ms(t) for t in each)})"


def diagnose_elsewhere(
    model: str,
    data: str,
    ns: dict[str, Any],
    backend: str = "tensorflow",
    processes: bool = False,
    steps: int | None = None,
    timeout_s: float = 120.0,
    memory_cap_mb: float = 1100.0,
) -> FreshDiagnosis:
    """Diagnose ``model`` fed ``data`` (expressions over ``ns``) in a fresh interpreter.

    ``processes``: the data starts worker processes (forkserver, as the module says); ``steps``
    goes to ``--steps`` (steps a measured run trains).
    """
    pipeline, train = as_script(model, data, ns)
    argv = [
        "diagnose",
        "--backend",
        backend,
        *(["--steps", str(steps)] if steps else []),
        "--json",
        "diagnosis.json",
        "train.py",
    ]
    print(  # r9: a silent cell of 20-30 s looks hung
        f"python -m fitscope diagnose on {backend}, in a fresh interpreter (watchdog "
        f"{timeout_s:.0f} s): starting, then measuring; the table follows when it is done",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="fitscope-05-") as tmp:
        (Path(tmp) / "your_pipeline.py").write_text(pipeline)
        (Path(tmp) / "train.py").write_text(train)
        run = run_python(
            code=LAUNCH.format(folder=tmp, processes=processes, argv=argv),
            env={"PYTHONPATH": tmp},
            timeout_s=timeout_s,
            memory_cap_mb=memory_cap_mb,
        )
        out = Path(tmp) / "diagnosis.json"
        if not out.exists():
            why = run.stderr.strip().splitlines()[-1:] or [run.root.how]
            raise RuntimeError(
                f"the fresh interpreter wrote no diagnosis ({run.root.how}): {why[0]}"
            )
        found = json.loads(out.read_text())
    return FreshDiagnosis(
        "python -m fitscope " + " ".join(argv),
        found,
        run.stdout,
        run.wall_s,
        run.peak_memory_bytes / 2**20,
        pipeline + "\n# train.py\n" + train,
    )
