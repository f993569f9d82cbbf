"""A small builder of API-shaped history events for tests that need a precise sequence.

Recorded histories (the AWS corpus, the moto-recorded line-ingest fixtures) are preferred;
this builder is for shapes they do not contain, such as data that was not included.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sfn_trace.model.events import details_member

_T0 = datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc)


class History:
    """Append events; ``previous`` defaults to the last event appended."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    @property
    def last(self) -> int:
        return self.events[-1]["id"] if self.events else 0

    def add(self, type_: str, previous: int | None = None, **details: Any) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": self.last if previous is None else previous,
            "timestamp": (_T0 + timedelta(milliseconds=37 * event_id)).isoformat(),
            "type": type_,
        }
        if details:
            event[details_member(type_)] = {
                k: json.dumps(v) if k in ("input", "output", "parameters") else v
                for k, v in details.items()
            }
        self.events.append(event)
        return event_id

    def start(self, document: Any) -> int:
        return self.add("ExecutionStarted", 0, input=document, roleArn="arn:aws:iam::1:role/r")

    def pass_state(self, name: str, document_in: Any, document_out: Any) -> int:
        self.add("PassStateEntered", name=name, input=document_in)
        return self.add("PassStateExited", name=name, output=document_out)

    def succeed(self, document: Any) -> int:
        return self.add("ExecutionSucceeded", output=document)

    def document(self) -> dict[str, Any]:
        return {"events": self.events}

    def write(self, path: Any) -> Any:
        path.write_text(json.dumps(self.document()), encoding="utf-8")
        return path
