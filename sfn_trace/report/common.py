"""What every renderer shares: how a moment is written."""

from __future__ import annotations

from datetime import datetime, timezone

from sfn_trace.model.confirm import Confirmation


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
