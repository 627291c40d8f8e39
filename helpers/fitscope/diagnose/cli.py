"""``python -m fitscope diagnose [options] SCRIPT.py [its args]``: diagnose a script's first fit.

The script runs unchanged (with ``sys.argv`` set to its own arguments) until its first
``Model.fit``: that call is diagnosed, the report printed, and then, with ``--then continue``, the
fit runs as the script asked and the script goes on; with ``--then stop`` (the default) the
program ends there, exit 0, without training. Options come before SCRIPT.py. Bad input (an
unknown backend, a script that never calls fit or does not compile, data diagnose cannot use) is
one line on stderr and exit 2; an error of the script's own while it runs is one line and exit 1.

Example:
    $ python -m fitscope diagnose --backend jax --json d.json train.py --epochs 3
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import runpy
import sys
from pathlib import Path
from typing import Any

from fitscope.instrument.errors import FitscopeInputError, check_choice

__all__ = ["BACKENDS", "main", "parser"]

BACKENDS = ("tensorflow", "jax", "torch", "numpy")
MEASURED_ARGUMENTS = {
    "self",
    "x",
    "y",
    "batch_size",
    "epochs",
    "steps_per_epoch",
    "verbose",
    "sample_weight",
    "shuffle",
    "initial_epoch",
}  # fit's arguments the diagnosis uses or that change no step; the others it names


class _Stop(BaseException):
    """Unwinds the script after the report (its ``except Exception`` lets a BaseException by)."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fitscope diagnose", description=__doc__.splitlines()[0].split(": ", 1)[1]
    )
    p.add_argument("--backend", help="KERAS_BACKEND for the script: " + ", ".join(BACKENDS))
    p.add_argument("--steps", type=int, help="steps a measured run trains (default: about 0.5 s)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the diagnosis as JSON")
    p.add_argument("--trace", type=Path, metavar="PATH", help="write a Chrome/Perfetto trace")
    p.add_argument(
        "--then",
        choices=("continue", "stop"),
        default="stop",
        help="after the report: train as the script asked, or stop (default)",
    )
    p.add_argument("script", type=Path, help="an ordinary training script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the script, diagnose its first fit, print the report; the exit status."""
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not args.script.is_file():
            raise FitscopeInputError(f"There is no script at {args.script}.")
        own = script_backend(args.script)
        if args.backend is None and own is not None:
            _progress(f"following the script's own KERAS_BACKEND={own}")
        _set_backend(args.backend or own)
        return _run(args)
    except FitscopeInputError as e:
        print(f"fitscope diagnose: {e}", file=sys.stderr)
        return 2


def script_backend(script: Path) -> str | None:
    """The Keras backend a script sets for itself before importing Keras, if it names one as a
    literal: ``os.environ["KERAS_BACKEND"] = "jax"`` or ``os.environ.setdefault(...)``.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "train.py"
        >>> _ = path.write_text('import os\\nos.environ["KERAS_BACKEND"] = "jax"\\n')
        >>> script_backend(path)
        'jax'
    """
    try:
        tree = ast.parse(script.read_text())
    except (SyntaxError, UnicodeDecodeError):
        return None  # the script's own error is reported when it runs
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and ast.unparse(target.value) == "os.environ"
                    and ast.unparse(target.slice) in ("'KERAS_BACKEND'", '"KERAS_BACKEND"')
                ):
                    return str(node.value.value)
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "os.environ.setdefault"
            and len(node.args) == 2
        ):
            key, value = node.args
            if isinstance(key, ast.Constant) and key.value == "KERAS_BACKEND":
                if isinstance(value, ast.Constant):
                    return str(value.value)
    return None


def _set_backend(name: str | None) -> None:
    if name is None:
        return
    check_choice("--backend", name, BACKENDS)
    from fitscope.instrument.backends import BACKENDS as MEASURED
    from fitscope.instrument.backends import is_installed, not_installed_sentence

    if name in MEASURED and not is_installed(name):
        raise FitscopeInputError(not_installed_sentence(name))
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != name:
        raise FitscopeInputError(
            f"Keras is already imported here on another backend, so "
            f"--backend {name} cannot take effect."
        )
    os.environ["KERAS_BACKEND"] = name  # Keras reads it once, when first imported


def _run(args: argparse.Namespace) -> int:
    import keras

    from fitscope.diagnose.run import diagnose

    own = keras.Model.__dict__.get("fit")
    original = keras.Model.fit
    found: dict[str, Any] = {}

    def unpatch() -> None:
        if own is None:
            if "fit" in keras.Model.__dict__:
                del keras.Model.fit
        else:
            keras.Model.fit = own

    def first_fit(model: Any, *a: Any, **kw: Any) -> Any:
        unpatch()  # only the first fit is diagnosed; the rest train as they are
        call = inspect.signature(original).bind(model, *a, **kw).arguments
        x, y, weights = call.get("x"), call.get("y"), call.get("sample_weight")
        data = (
            x
            if y is None and weights is None and not hasattr(x, "shape")
            else (x, y)
            if weights is None
            else (x, y, weights)
        )
        try:
            found["diagnosis"] = d = diagnose(
                model,
                data,
                steps=args.steps,
                batch_size=call.get("batch_size") or 32,
                progress=_progress,
            )
        except FitscopeInputError as e:
            found["error"] = e
            raise _Stop from None
        left_out = [name for name in call if name not in MEASURED_ARGUMENTS]
        if left_out:
            d.notes.append(
                f"Measured without these arguments of your fit: {', '.join(left_out)} "
                "(the step alone and the step in fit both leave them out, so the comparison "
                "stays fair); --then continue trains with them."
            )
        _write(d, args)
        if args.then == "stop":
            raise _Stop
        return original(model, *a, **kw)

    keras.Model.fit = first_fit
    sys.argv, folder = [str(args.script), *args.args], str(args.script.resolve().parent)
    sys.path.insert(0, folder)  # as `python SCRIPT.py` would
    try:
        runpy.run_path(str(args.script), run_name="__main__")
    except _Stop:
        pass
    except SystemExit as e:
        if e.code not in (None, 0) and "diagnosis" in found:
            return e.code if isinstance(e.code, int) else 1
    except Exception as e:  # the script's own error: one line, as the script would have failed
        when = "after" if "diagnosis" in found else "before"
        said = (str(e).splitlines() or [""])[0].rstrip(".")
        print(
            f"fitscope diagnose: {args.script.name} raised {type(e).__name__} {when} its first "
            f"fit: {said}.",
            file=sys.stderr,
        )
        return 2 if isinstance(e, SyntaxError) else 1
    finally:
        unpatch()
        if folder in sys.path:
            sys.path.remove(folder)
    if "error" in found:
        raise found["error"]
    if "diagnosis" not in found:
        raise FitscopeInputError(
            f"{args.script.name} ended without calling Model.fit, so there "
            "was no training to diagnose."
        )
    return 0


def _progress(phrase: str) -> None:
    print(f"fitscope diagnose: {phrase}", file=sys.stderr, flush=True)


def _write(d: Any, args: argparse.Namespace) -> None:
    print(d.text())
    if args.json:
        args.json.write_text(d.to_json())
    if args.trace:
        d.save_chrome_trace(args.trace)
