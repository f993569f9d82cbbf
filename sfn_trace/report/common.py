"""What every renderer shares: how a moment is written."""

from __future__ import annotations

from datetime import datetime, timezone

from sfn_trace.model.confirm import Confirmation
from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.model.snapshot import Status


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verdict_sentence(result: TraceResult, field: str, final: str) -> str:
    """What the verdict says, as one sentence without its full stop, in every format's
    words: ``field`` and ``final`` (the document the verdict was read from) as the format
    writes them (plain, or a code span and escaped text)."""
    status = result.final.status
    holds = {Status.NULL: "it only as null", Status.MISSING: "no copy of it"}.get(
        status, "a null copy beside set ones"
    )
    return {
        Verdict.LOST: f"{field} was set, but {final} holds {holds}",
        Verdict.INTACT: f"{final} holds {field} set",
        Verdict.NEVER_SET: f"{field} occurs, but is never set in any document",
        Verdict.ABSENT: f"no document of the execution holds {field}",
        Verdict.UNKNOWN: "the answer depends on data the history does not hold",
    }[result.verdict]


CONFIRMATION_WORDS = {
    "confirmed": "confirmed by AWS TestState",
    "disagrees": "AWS TestState disagrees",
    "unconfirmed": "unconfirmed",
}
"""How a ``--confirm`` verdict is said to people: "confirmed by AWS TestState" only when it
is."""


def aws_trail(confirmation: Confirmation) -> str:
    """The field in AWS's documents, step by step, with where it sits whenever that
    changes: ``InputPath set at $.k → Result null at $.Payload.k → ResultSelector null at
    $.k → OutputPath null``."""
    parts = []
    previous: tuple[object, str | None] | None = None
    for step in confirmation.aws_steps:
        text = f"{step.step} {step.status.value}"
        if (step.status, step.path) != previous and step.path is not None:
            text += f" at {step.path}"
        parts.append(text)
        previous = (step.status, step.path)
    return " → ".join(parts)
