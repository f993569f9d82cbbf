"""Turn a Standard history into the CloudWatch Logs records an Express machine would write.

The record format is the one recorded on AWS (docs/aws-reference.md section 6): every scalar of the
envelope is a string, ``event_timestamp`` is epoch milliseconds, ``details`` is the content of
the event's ``*EventDetails`` member. ``stringify=True`` also writes the scalars *inside*
``details`` as strings (``"index": "3"``, ``"truncated": "false"``), the variant AWS was seen to
log for ``truncated``; a reader must accept both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sfn_trace.model.events import parse_timestamp

EXPRESS_ARN = (
    "arn:aws:states:eu-central-1:123456789012:express:line-ingest-express:run-42:"
    "4135929f-4e8a-4a3b-9a06-9f0f7e1d2c3b"
)


def to_record(
    event: Mapping[str, Any], execution_arn: str, *, stringify: bool = False
) -> dict[str, Any]:
    details: Any = {}
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            details = _strings(value) if stringify else dict(value)
    moment = parse_timestamp(event.get("timestamp"))
    assert isinstance(moment, datetime), event
    return {
        "id": str(event["id"]),
        "type": event["type"],
        "details": details,
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": str(round(moment.timestamp() * 1000)),
        "execution_arn": execution_arn,
        "redrive_count": "0",
    }


def to_messages(
    events: Iterable[Mapping[str, Any]],
    execution_arn: str = EXPRESS_ARN,
    *,
    stringify: bool = False,
) -> list[str]:
    """One compact JSON message per event, as ``FilterLogEvents`` returns them."""
    return [
        json.dumps(to_record(e, execution_arn, stringify=stringify), separators=(",", ":"))
        for e in events
    ]


# Members that hold JSON documents (as text on AWS): their content is data, not envelope.
_DOCUMENTS = frozenset({"input", "output", "parameters", "assignedVariables"})


def _strings(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: v if k in _DOCUMENTS else _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
