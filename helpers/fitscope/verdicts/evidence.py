"""This machine's own earlier verdicts, kept so the scorecard measures only what is missing.

A notebook that decides claims keeps its verdicts (with their evidence) here, under the
conditions they were measured in: the package versions, the CPU budget B, quick or full mode,
the intra-op thread setting and the Keras backend of the measuring process. The scorecard
(``python -m fitscope report``) reuses a part's verdicts only when every condition is the same
now, and says where each verdict came from;
anything missing or stale is measured again (``--fresh`` measures everything). Every verdict
still comes from a live measurement on this machine: an earlier one, named, or one made now.

The folder is ``results/evidence`` at the top of the repository (git ignores it), or
``$FITSCOPE_EVIDENCE``.

Example:
    >>> sorted(conditions())
    ['budget', 'intra_op_threads', 'keras_backend', 'quick_mode', 'versions']
    >>> keep("distributed", card, "notebook 04")              # doctest: +SKIP
    >>> load("distributed").origin()                           # doctest: +SKIP
    'notebook 04 at 2026-11-30 00:41 UTC'
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fitscope.instrument.budget import cpu_budget
from fitscope.instrument.environment import environment_facts, quick_mode
from fitscope.instrument.paths import CHECKOUT
from fitscope.verdicts.claims import rejudge
from fitscope.verdicts.verdict import Scorecard, Verdict

__all__ = ["Kept", "folder", "conditions", "keep", "load"]


def folder() -> Path:
    """Where kept verdicts live: ``$FITSCOPE_EVIDENCE`` or ``results/evidence`` in the
    repository."""
    default = CHECKOUT / "results" / "evidence"
    return Path(os.environ.get("FITSCOPE_EVIDENCE") or default)


def conditions() -> dict[str, Any]:
    """What must be the same for an earlier verdict to stand for one measured now."""
    return {
        "versions": environment_facts().get("versions", {}),
        "budget": cpu_budget().cpus,
        "quick_mode": quick_mode(),
        "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
        "keras_backend": os.environ.get("KERAS_BACKEND") or "tensorflow",  # Keras's default
    }


def _path(part: str, now: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(now, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return folder() / f"{part}-{digest}.json"


@dataclass(frozen=True)
class Kept:
    """A part's verdicts as measured earlier on this machine: where, when, and under what."""

    part: str
    verdicts: Scorecard
    source: str
    saved_at: str
    conditions: dict[str, Any]

    def origin(self) -> str:
        """Where the evidence came from, e.g. "notebook 02 at 2026-11-30 00:41 UTC"."""
        return f"{self.source} at {self.saved_at}"


def keep(part: str, card: Scorecard, source: str) -> Scorecard:
    """Keep ``card`` as this machine's evidence for ``part`` (measured by ``source``); return it."""
    now = conditions()
    path = _path(part, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": v.claim_id, "verdict": v.verdict, "because": v.because, "evidence": v.evidence}
        for v in card
    ]
    saved_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {"part": part, "source": source, "saved_at": saved_at, "conditions": now, "rows": rows},
            default=str,
            indent=1,
        )
    )
    tmp.replace(path)  # whole or not at all, also with two notebooks writing at once
    return card


def load(part: str) -> Kept | None:
    """The kept verdicts of ``part`` if they were measured under today's conditions and today's
    rules give them again from their evidence, else None."""
    now = conditions()
    path = _path(part, now)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if json.loads(json.dumps(now, default=str)) != data.get("conditions"):
        return None
    card = Scorecard(
        Verdict(r["id"], r["verdict"], r["because"], r["evidence"]) for r in data["rows"]
    )
    if not all(_judged_by_todays_rule(v) for v in card):  # kept by an older fitscope
        return None
    return Kept(part, card, data["source"], data["saved_at"], data["conditions"])


def _judged_by_todays_rule(v: Verdict) -> bool:
    try:
        return rejudge(v) == v
    except (KeyError, TypeError, ValueError):
        return False
