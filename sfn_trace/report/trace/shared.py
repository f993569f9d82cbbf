"""What the trace's renderers share about a result: the culprit finding the report
details, how a document's status is said, and a visit's log lines."""

from __future__ import annotations

from sfn_trace.model.result import Finding, TraceResult, VisitTrace
from sfn_trace.model.snapshot import Snapshot, Status


def culprit(result: TraceResult) -> Finding | None:
    """The finding whose visit the report details: inside a Distributed Map child, the
    child's own (its documents are the ones that tell what happened)."""
    found = result.first_null or result.lost_at
    return found.leaf if found is not None else None


def status_words(snapshot: Snapshot) -> str:
    return {
        Status.NULL: "it only as null",
        Status.MISSING: "no copy of it",
        Status.UNKNOWN: "something that could not be seen",
    }.get(snapshot.status, snapshot.status.value)


def log_lines(trace: VisitTrace) -> list[str]:
    """The log lines of the visit's last Lambda invocation (none when logs were not fetched
    or none were found)."""
    call = trace.last_call
    if call is None or call.logs is None:
        return []
    return [line.message.rstrip("\n") for line in call.logs.lines]
