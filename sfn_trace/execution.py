"""What the pipeline traces: one execution's facts, events and (when known) definition.

Produced by :mod:`sfn_trace.fetch` from AWS or by :mod:`sfn_trace.sources` from a file;
consumed by :mod:`sfn_trace.trace`. Plain frozen values: no boto3 dicts past this point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sfn_trace.definition import Definition
from sfn_trace.history import EventKind, HistoryEvent

TERMINAL_STATUS = {
    EventKind.EXECUTION_SUCCEEDED: "SUCCEEDED",
    EventKind.EXECUTION_FAILED: "FAILED",
    EventKind.EXECUTION_ABORTED: "ABORTED",
    EventKind.EXECUTION_TIMED_OUT: "TIMED_OUT",
}


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """DescribeExecution's facts, or what a history file lets us infer."""

    arn: str | None = None
    name: str | None = None
    status: str | None = None
    state_machine_arn: str | None = None
    start: datetime | None = None
    stop: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExecutionData:
    info: ExecutionInfo
    events: tuple[HistoryEvent, ...]
    definition: Definition | None = None
    source: str = "file"
    """Where the data came from: ``"aws"`` or the file path."""
    warnings: tuple[str, ...] = ()
    """One-line notes for stderr: data that could not be fetched but did not stop the trace."""


def infer_info(events: tuple[HistoryEvent, ...], arn: str | None = None) -> ExecutionInfo:
    """Execution facts from the events alone (for history files without DescribeExecution).

    The status is the last terminal event's; ``ExecutionRedriven`` after it reopens the
    execution, and a history without a terminal event is still ``RUNNING`` (or was cut).
    """
    status: str | None = "RUNNING" if events else None
    stop: datetime | None = None
    for event in events:
        if event.kind in TERMINAL_STATUS:
            status, stop = TERMINAL_STATUS[event.kind], event.timestamp
        elif event.kind is EventKind.EXECUTION_REDRIVEN:
            status, stop = "RUNNING", None
    start = events[0].timestamp if events else None
    return ExecutionInfo(arn=arn, status=status, start=start, stop=stop)
