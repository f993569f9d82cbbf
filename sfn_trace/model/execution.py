"""What the pipeline traces: one execution's facts, events and (when known) definition.

Produced by :mod:`sfn_trace.sources.aws` from AWS or by :mod:`sfn_trace.sources.files` from a file;
consumed by :mod:`sfn_trace.trace`. Plain frozen values: no boto3 dicts past this point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sfn_trace.model.confirm import Exchange
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventKind, HistoryEvent

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
class LogLine:
    timestamp: int
    """Epoch milliseconds, as CloudWatch Logs gives it."""
    message: str
    stream: str
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class InvocationLogs:
    """The lines of one invocation, and how they were found."""

    request_id: str | None
    log_group: str
    log_stream: str | None
    matched_by: str
    """``request_id`` or ``time_window`` (docs/json-output.md)."""
    lines: tuple[LogLine, ...]


@dataclass(frozen=True)
class LambdaLogs:
    """What the log fetch found for one execution."""

    by_attempt: Mapping[int, InvocationLogs] = field(default_factory=dict)
    """Keyed by the attempt's ``TaskScheduled``/``LambdaFunctionScheduled`` event id."""
    log_groups: Mapping[str, str] = field(default_factory=dict)
    """Function name -> the log group read for it."""
    warnings: tuple[str, ...] = ()
    """One line per function whose logs could not be read, and why."""


@dataclass(frozen=True, slots=True)
class ExecutionData:
    info: ExecutionInfo
    events: tuple[HistoryEvent, ...]
    definition: Definition | None = None
    source: str = "file"
    """Where the data came from: ``"aws"`` or the file path."""
    warnings: tuple[str, ...] = ()
    """One-line notes for stderr: data that could not be fetched but did not stop the trace."""
    lambda_logs: LambdaLogs | None = None
    """The Lambda invocations' log lines; None when logs were not fetched."""
    map_runs: tuple[MapRunData, ...] = ()
    """What was fetched about the Distributed Map runs the history started (DescribeMapRun,
    and the child executions when followed); empty when nothing was fetched."""
    teststate: tuple[Exchange, ...] | None = None
    """TestState answers a bundle carries (``--confirm --save-bundle``), reused by a replay
    instead of asking AWS again; None when the data holds none."""


def infer_info(
    events: tuple[HistoryEvent, ...], arn: str | None = None, *, unended: str | None = None
) -> ExecutionInfo:
    """Execution facts from the events alone (for history files without DescribeExecution).

    The status is the last terminal event's; ``ExecutionRedriven`` after it reopens the
    execution. A history without a terminal event (or none after its last redrive) does not
    say whether the execution is still running or the history was cut: its status is
    ``unended``, None (unknown) unless the caller has evidence that it may still run (an
    Express execution younger than its five-minute limit: ``"RUNNING"``). The verdict treats
    only a ``RUNNING`` status as such evidence (:mod:`sfn_trace.trace.verdict`).
    """
    status: str | None = unended if events else None
    stop: datetime | None = None
    for event in events:
        if event.kind in TERMINAL_STATUS:
            status, stop = TERMINAL_STATUS[event.kind], event.timestamp
        elif event.kind is EventKind.EXECUTION_REDRIVEN:
            status, stop = unended, None
    start = events[0].timestamp if events else None
    return ExecutionInfo(arn=arn, status=status, start=start, stop=stop)


@dataclass(frozen=True, slots=True)
class MapRunCounts:
    """``itemCounts`` / ``executionCounts`` of DescribeMapRun."""

    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    total: int = 0
    results_written: int = 0

    @classmethod
    def from_api(cls, raw: Any) -> MapRunCounts | None:
        if not isinstance(raw, Mapping):
            return None

        def count(key: str) -> int:
            try:
                return int(raw.get(key) or 0)
            except (TypeError, ValueError, OverflowError):
                return 0

        return cls(
            pending=count("pending"),
            running=count("running"),
            succeeded=count("succeeded"),
            failed=count("failed"),
            timed_out=count("timedOut"),
            aborted=count("aborted"),
            total=count("total"),
            results_written=count("resultsWritten"),
        )

    def summary(self) -> str:
        """``10 total: 9 succeeded, 1 failed`` (zero counts left out)."""
        parts = [
            f"{value} {name}"
            for name, value in (
                ("succeeded", self.succeeded),
                ("failed", self.failed),
                ("timed out", self.timed_out),
                ("aborted", self.aborted),
                ("running", self.running),
                ("pending", self.pending),
            )
            if value
        ]
        return f"{self.total} total" + (f": {', '.join(parts)}" if parts else "")


@dataclass(frozen=True, slots=True)
class MapRunDescription:
    """DescribeMapRun, converted once at the boundary."""

    arn: str
    status: str | None = None
    start: datetime | None = None
    stop: datetime | None = None
    item_counts: MapRunCounts | None = None
    execution_counts: MapRunCounts | None = None
    redrive_count: int | None = None


@dataclass(frozen=True, slots=True)
class ChildExecution:
    """One child execution of a Map Run: ListExecutions' facts, and its data once fetched."""

    number: int
    """1-based, in start order (oldest first): not an item index."""
    arn: str
    name: str
    status: str | None = None
    start: datetime | None = None
    stop: datetime | None = None
    data: ExecutionData | None = None
    error: str | None = None
    """Why the child could not be read (one line); None when ``data`` is set or not fetched."""


@dataclass(frozen=True, slots=True)
class MapRunData:
    """What sources.aws learnt about one Map Run."""

    arn: str
    description: MapRunDescription | None = None
    followed: bool = False
    listed: int | None = None
    """How many children ListExecutions returned (None: not listed)."""
    children: tuple[ChildExecution, ...] = ()
    """The children that were fetched and traced (the first N in start order)."""
    note: str | None = None
    """Why the children were not (all) followed, when that is not the user's choice."""
