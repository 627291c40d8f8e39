"""The scorecard: quick measurements for every claim C1–C12, each decided by its rule, and the
article's advice (row A1) as notebook 05 measured it on this machine.

C1, C6 and C12 also get a row per installed Keras backend (each measured in a fresh interpreter);
a backend that is not installed gets one sentence, no row. Every row names the backend it was
measured on, a claim gets one row per backend, and the card ends with the tally counted from its
rows and the answer to the article's question (:mod:`fitscope.verdicts.answer`).

From a terminal::

    python -m fitscope report                 # measure and print the table
    python -m fitscope report --json card.json
    python -m fitscope report --intra-op 1    # TensorFlow parts with 1 intra-op thread
    python -m fitscope report --parts generator tfdata
    python -m fitscope report --fresh         # measure every part again

A part this machine already measured under the same conditions (a notebook's verdicts, or an
earlier scorecard: :mod:`fitscope.verdicts.evidence`) is reused, and its rows say which run they
came from; the rest is measured now.

The card, its table and its JSON are :mod:`fitscope.scorecard_card`'s (importable from here too).
Every row is a :class:`~fitscope.verdicts.claims.Verdict` whose evidence is complete:
``verdicts.rejudge(row) == row`` holds after a JSON round trip, so a saved card can be checked.

Example:
    >>> card = scorecard_from_json(scorecard_to_json(verdicts.Scorecard([verdicts.c9(["a", "a"])])))
    >>> card[0].verdict
    'DOES NOT HOLD'
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fitscope import verdicts
from fitscope.instrument.backends import BACKENDS, LABELS, is_installed
from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.environment import environment_facts
from fitscope.instrument.errors import check_choice, check_int
from fitscope.isolation.sandbox import Progress, run_python
from fitscope.isolation.sandbox import report as send_to_sandbox
from fitscope.scorecard_card import (
    SourcedScorecard,
    named_backend,
    scorecard_from_json,
    scorecard_table,
    scorecard_to_json,
)
from fitscope.verdicts import evidence

__all__ = [
    "SourcedScorecard",
    "measure_scorecard",
    "scorecard_in_sandbox",
    "scorecard_to_json",
    "scorecard_from_json",
    "scorecard_table",
    "main",
]


def _scenario1(say: Callable[[str], None]) -> list[verdicts.Verdict]:
    from fitscope.lessons.generator import comparisons as compare
    from fitscope.lessons.generator import fit as s1

    say(
        "C1–C6: a generator passed to fit (the article's model, a compute-heavy one, the GIL, "
        "predict)"
    )
    article = s1.generator_fit(kind="sleep", ms_per_batch=0, batch_size=32, width=0)
    big = s1.generator_fit(kind="sleep", ms_per_batch=0, batch_size=512, width=1024)
    gil = compare.gil_comparison(width=256, batch_size=256)
    predict_fit = compare.predict_vs_fit(width=1024, batch_size=512)
    return list(compare.scenario1_scorecard(article, big, gil, predict_fit))


def _trainer(say: Callable[[str], None]) -> list[verdicts.Verdict]:
    from fitscope.lessons.trainer import article as mp_trainer

    say("C7–C8: the article's multiprocessing trainer under fork, spawn and forkserver (sandboxed)")
    runs = mp_trainer.article_runs()
    runs["fork, labels fixed"] = mp_trainer.article_trainer(
        "fork", fix_labels=True, build_parent_model=True
    )
    return list(runs.verdicts())


def _tfdata(say: Callable[[str], None]) -> list[verdicts.Verdict]:
    from fitscope.lessons.tfdata import examples as tfdata_examples
    from fitscope.lessons.tfdata import gil, variants

    say("C10–C11: tf.data prefetch, and parallel map of GIL-releasing and CPU-bound Python work")
    pipelines = variants.compare_variants(variants=("naive", "prefetch"))
    arrays = tfdata_examples.example3_runs()  # all three, rotated: the twins' noise too
    return list(tfdata_examples.tfdata_verdicts(pipelines, arrays, gil.gil_runs()))


def _distributed(say: Callable[[str], None]) -> list[verdicts.Verdict]:
    from fitscope.lessons.distributed import strategies as distributed

    say("C9: MultiWorkerMirroredStrategy with 2 local worker processes (sandboxed)")
    return [distributed.multiworker_training().verdict()]


def _backends(say: Callable[[str], None]) -> list[verdicts.Verdict]:
    from fitscope.lessons import backends

    say(
        "C1, C6 and C12 per Keras backend: the same generator on each installed backend (fresh "
        "interpreters)"
    )
    measured = backends.by_backend(
        *(backends.measure_or_say(b, say=say) for b in backends.BACKENDS)
    )
    return list(backends.backend_verdicts(measured))


PARTS: dict[str, Callable[[Callable[[str], None]], list[verdicts.Verdict]]] = {
    "generator": _scenario1,
    "trainer": _trainer,
    "tfdata": _tfdata,
    "distributed": _distributed,
    "backends": _backends,
}


MEASURED_BY = {
    "generator": "notebook 01",
    "trainer": "notebook 02",
    "tfdata": "notebook 03",
    "distributed": "notebook 04",
    "backends": "notebook 01b",
}
"""The notebook that measures (and keeps) each part's evidence on this machine."""


MISSING = ("measure", "name")
"""What the scorecard does with a part this machine has no current evidence for: measure it now,
or name the notebook that measures it (notebook 04, so that its cell stays short)."""


KEPT_ONLY = {"images": "notebook 05"}
"""Parts only a notebook measures (05's image pipeline): the scorecard shows their kept verdict
(the article's advice, row A1) and says where to measure it when there is none."""


def _in_process(conditions: dict[str, Any]) -> str:
    """The label of the Keras backend a part measured in its own process."""
    name = conditions.get("keras_backend") or "tensorflow"
    return LABELS.get(name, name)


def _one_row_each(rows: list[tuple[verdicts.Verdict, str, str]]) -> SourcedScorecard:
    """One row per claim and backend, in claim then backend order: where two parts decided the
    same claim on the same backend (C1 and C6 in notebook 01 and, per backend, in 01b), the
    per-backend row stays and its source says when the other run found otherwise."""
    kept: dict[tuple[str, str], tuple[verdicts.Verdict, str, str]] = {}
    for v, backend, source in rows:
        key = (v.claim_id, backend)
        if key not in kept:
            kept[key] = (v, backend, source)
            continue
        old = kept[key]
        stay, other = (
            ((v, backend, source), old)
            if named_backend(v) and not named_backend(old[0])
            else (old, (v, backend, source))
        )
        note = (
            f" ({other[2]} found {other[0].verdict})" if other[0].verdict != stay[0].verdict else ""
        )
        kept[key] = (stay[0], stay[1], stay[2] + note)
    order = [LABELS[b] for b in BACKENDS]
    ranked = sorted(
        kept.values(),
        key=lambda r: (
            r[0].claim_id[0] != "C",  # the claims C1–C12 first, then the advice (A1)
            int(r[0].claim_id[1:]),
            order.index(r[1]) if r[1] in order else len(order),
        ),
    )
    return SourcedScorecard([r[0] for r in ranked], [r[2] for r in ranked], [r[1] for r in ranked])


def measure_scorecard(
    say: Callable[[str], None] = print,
    parts: tuple[str, ...] = tuple(PARTS),
    fresh: bool = False,
    missing: str = "measure",
) -> SourcedScorecard:
    """Decide the claims of ``parts`` in this process (TensorFlow's settings as they are).

    A part this machine already measured under the same conditions (versions, B, mode, intra-op
    threads, Keras backend; see :mod:`fitscope.verdicts.evidence`) is not measured again unless
    ``fresh``; what is measured is kept for next time. A part with no such evidence is measured
    now, or with ``missing="name"`` left out, with one line naming the notebook that measures it
    (:data:`MEASURED_BY`). ``say`` gets one line per part. Each row names its backend; a claim
    decided on the same backend by two parts gets one row.
    """
    for part in parts:
        check_choice("part", part, tuple(PARTS))
    check_choice("missing", missing, MISSING)
    rows: list[tuple[verdicts.Verdict, str, str]] = []
    for part in parts:
        kept = None if fresh else evidence.load(part)
        if kept is not None:
            say(_kept_line(part, kept.origin()))
            here = _in_process(kept.conditions)
            rows += [(v, named_backend(v) or here, kept.origin()) for v in kept.verdicts]
            continue
        if missing == "name":
            say(
                f"{part}: no evidence on this machine under today's conditions (versions, B and "
                f"mode), so its rows are left out; run {MEASURED_BY[part]} for them, or "
                f"`python -m fitscope report --parts {part}` in a terminal to measure them here"
            )
            continue
        measured = evidence.keep(part, verdicts.Scorecard(PARTS[part](say)), "the scorecard")
        here = _in_process(evidence.conditions())
        rows += [(v, named_backend(v) or here, "measured now") for v in measured]
    if parts == tuple(PARTS):
        rows += _kept_only(say)
    return _one_row_each(rows)


def _kept_line(part: str, origin: str) -> str:
    """The line for a part whose verdicts are kept evidence: where and when it was measured.

    Example:
        >>> _kept_line("images", "notebook 05 at 2026-12-07 13:06 UTC")[:64]
        'images: evidence from notebook 05 at 2026-12-07 13:06 UTC (same '
    """
    return (
        f"{part}: evidence from {origin} (same versions, B and mode), not measured again: its "
        "rows give that run's figures, and a new run of that notebook measures them afresh"
    )


def _kept_only(say: Callable[[str], None]) -> list[tuple[verdicts.Verdict, str, str]]:
    """The rows of ``KEPT_ONLY`` parts this machine kept under today's conditions; a sentence
    for each one it did not."""
    rows = []
    for part, notebook in KEPT_ONLY.items():
        kept = evidence.load(part)
        if kept is None:
            say(f"{part}: the article's advice is measured only by {notebook}; run it for its row")
            continue
        say(_kept_line(part, kept.origin()))
        here = _in_process(kept.conditions)
        rows += [(v, named_backend(v) or here, kept.origin()) for v in kept.verdicts]
    return rows


_SAY_AS_MESSAGES = "FITSCOPE_REPORT_SAY_AS_MESSAGES"
_SANDBOX_CODE = """\
from fitscope.scorecard import main
if __name__ == "__main__":
    raise SystemExit(
        main(["report", "--json", {path!r}, "--parts", *{parts!r}, *{fresh!r}, "--missing",
              {missing!r}])
    )
"""


def scorecard_in_sandbox(
    intra_op_threads: int | None = None,
    timeout_s: float = 1500.0,
    memory_cap_mb: float = 4000.0,
    say: Callable[[str], None] = print,
    parts: tuple[str, ...] = tuple(PARTS),
    fresh: bool = False,
    missing: str = "measure",
) -> SourcedScorecard:
    """:func:`measure_scorecard` in a fresh interpreter, with TF_NUM_INTRAOP_THREADS set before
    import; ``missing`` as there.

    Every sandbox the scorecard starts inherits the setting, so all TensorFlow parts use it.
    """
    env = {}
    if intra_op_threads is not None:
        env["TF_NUM_INTRAOP_THREADS"] = str(check_int("intra-op threads", intra_op_threads, 1, 256))
    with tempfile.TemporaryDirectory(prefix="fitscope-report-") as tmp:
        path = os.path.join(tmp, "card.json")
        code = _SANDBOX_CODE.format(
            path=path,
            parts=list(parts),
            fresh=["--fresh"] if fresh else [],
            missing=check_choice("missing", missing, MISSING),
        )

        def progress(p: Progress) -> None:  # each part's line as soon as the interpreter says it
            for m in p.new_messages:
                if "say" in m:
                    say(m["say"])

        run = run_python(
            code=code,
            env={**env, _SAY_AS_MESSAGES: "1"},
            timeout_s=timeout_s,
            memory_cap_mb=memory_cap_mb,
            on_poll=progress,
        )
        if not os.path.exists(path):
            why = run.exceptions[-1][1] if run.exceptions else run.root.how
            raise RuntimeError(f"the scorecard did not finish in its fresh interpreter: {why}")
        return scorecard_from_json(Path(path).read_text())


def main(argv: list[str]) -> int:
    """``report [--json PATH] [--intra-op N]`` (called by ``python -m fitscope``)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="fitscope report", description="Measure every claim C1-C12 and print the scorecard."
    )
    parser.add_argument("report")
    parser.add_argument(
        "--json", metavar="PATH", help="also save the card (rows with evidence) as JSON"
    )
    parser.add_argument(
        "--intra-op",
        type=int,
        metavar="N",
        help="run the TensorFlow parts in a fresh interpreter with N intra-op threads",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=list(PARTS),
        default=list(PARTS),
        help="measure only these parts (default: all)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="measure every part again, even where this machine's evidence is current",
    )
    parser.add_argument(
        "--missing",
        choices=MISSING,
        default="measure",
        help="a part with no current evidence: measure it now (default), or name the notebook "
        "that measures it",
    )
    args = parser.parse_args(argv)
    parts = tuple(args.parts)

    def say(line: str) -> None:
        line = line if line.startswith("· ") else f"· {line}"
        if os.environ.get(_SAY_AS_MESSAGES):
            send_to_sandbox(say=line)  # read live by scorecard_in_sandbox
        else:
            print(line, flush=True)

    if args.intra_op is not None:
        card = scorecard_in_sandbox(
            args.intra_op, say=say, parts=parts, fresh=args.fresh, missing=args.missing
        )
    else:
        card = measure_scorecard(say, parts, fresh=args.fresh, missing=args.missing)
    budget = cpu_budget()
    print(
        f"\nScorecard ({budget.describe()}"
        + (f", {args.intra_op} intra-op thread(s)" if args.intra_op else "")
        + ")\n"
    )
    print(scorecard_table(card))
    print(
        "\n"
        + "\n".join(
            textwrap.fill(line, 100, subsequent_indent="  " if line[:1] == "-" else "")
            for line in str(card.answer()).splitlines()
        )
    )
    if args.json:
        Path(args.json).write_text(
            scorecard_to_json(
                card,
                {
                    "budget": budget.cpus,
                    "intra_op_threads": args.intra_op,
                    "environment": environment_facts(),
                    "backends_not_installed": [b for b in BACKENDS if not is_installed(b)],
                },
            )
        )
        print(f"\nsaved {args.json}", file=sys.stderr)
    return 0
