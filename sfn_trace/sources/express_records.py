"""Express executions: their CloudWatch Logs execution records, re-enveloped as history events.

An Express state machine keeps no execution history (no GetExecutionHistory, no
DescribeExecution). With logging on, level ``ALL`` and ``includeExecutionData``, it writes one
CloudWatch Logs record per history event instead, carrying the same events in a different
envelope (docs/aws-reference.md section 6, recorded on AWS)::

    {"id": "2", "type": "PassStateEntered",
     "details": {"input": "{\\"a\\":1}", "inputDetails": {"truncated": false}, "name": "LogInput"},
     "previous_event_id": "0", "event_timestamp": "1713959670680",
     "execution_arn": "arn:aws:states:eu-central-1:123456789012:express:SM:execName:4135...",
     "redrive_count": "0"}

Every scalar of the envelope is a string, ``event_timestamp`` is epoch milliseconds, and
``details`` is the content of the event's ``*EventDetails`` member (same member names), so a
record becomes the API's event dict and goes through :meth:`HistoryEvent.from_api` like any
other event: nothing past this module knows the events came from logs. A record whose payload
was cut (escaped input/output over 248 KB) says ``truncated`` (``true`` or ``"true"``), and the
tracer reads that document as ``unknown``.
https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html

Pure: no AWS call (see :mod:`sfn_trace.sources.aws.express`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sfn_trace.errors import ExitCode, InputError, SfnTraceError
from sfn_trace.model.events import HistoryEvent, details_member

EXPRESS_MAX_DURATION = timedelta(minutes=5)
"""An Express execution runs at most five minutes
(https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html)."""

LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")


class ExpressLoggingError(SfnTraceError):
    """The state machine's logging cannot hold the history: exit 4, the answer cannot be had
    from what AWS kept (docs/design.md: "data not included")."""

    exit_code = ExitCode.INCOMPLETE


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """``loggingConfiguration`` of DescribeStateMachine."""

    level: str
    include_execution_data: bool
    log_group_arns: tuple[str, ...]

    @classmethod
    def from_api(cls, raw: Any) -> LoggingConfig:
        raw = raw if isinstance(raw, Mapping) else {}
        arns = []
        for destination in raw.get("destinations") or ():
            group = (destination or {}).get("cloudWatchLogsLogGroup") or {}
            if isinstance(group.get("logGroupArn"), str):
                arns.append(group["logGroupArn"])
        return cls(
            level=str(raw.get("level") or "OFF").upper(),
            include_execution_data=raw.get("includeExecutionData") is True,
            log_group_arns=tuple(arns),
        )

    def problem(self, state_machine_arn: str) -> str | None:
        """One line naming the setting that keeps the history out of the logs, or None.

        Level ``ERROR`` and ``FATAL`` log only failure events; without
        ``includeExecutionData`` the records carry no input or output.
        https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-log-level
        """
        needed = (
            "set its loggingConfiguration to level ALL with includeExecutionData true "
            "(only executions that start afterwards can be traced)"
        )
        if self.level == "OFF" or not self.log_group_arns:
            return f"logging is off for {state_machine_arn}: {needed}"
        if self.level != "ALL":
            return (
                f"logging level of {state_machine_arn} is {self.level}, which logs failure "
                f"events only: {needed}"
            )
        if not self.include_execution_data:
            return (
                f"the logs of {state_machine_arn} exclude execution data "
                f"(includeExecutionData false), so they hold no input or output: {needed}"
            )
        return None


def log_group_name(arn_or_name: str) -> str:
    """``arn:aws:logs:R:A:log-group:NAME:*`` -> ``NAME``; a plain name is returned as is."""
    text = arn_or_name.strip()
    if not text.startswith("arn:"):
        return text
    _, _, rest = text.partition(":log-group:")
    if not rest:
        raise InputError(f"not a CloudWatch Logs log group ARN: {arn_or_name!r}")
    return rest[:-2] if rest.endswith(":*") else rest


def log_group_region(arn_or_name: str) -> str | None:
    """The region of a log group ARN (None for a plain name)."""
    parts = arn_or_name.split(":")
    return parts[3] or None if arn_or_name.startswith("arn:") and len(parts) > 3 else None


def filter_pattern(execution_arn: str) -> str:
    """The CloudWatch Logs JSON filter pattern selecting one execution's records.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html"""
    return f'{{ $.execution_arn = "{execution_arn}" }}'


@dataclass(frozen=True, slots=True)
class Records:
    """What a set of log messages held for one execution."""

    events: tuple[HistoryEvent, ...]
    """The execution's events, one per distinct id, in id order."""
    unreadable: int = 0
    """Messages that are not execution records (not JSON, no id or type)."""
    duplicates: int = 0
    """Records delivered more than once (same id, same content)."""
    conflicts: int = 0
    """Records whose id another, different record already had (the first is kept)."""
    other_executions: int = 0
    """Records of other executions (a filter pattern that matched too much)."""


def record_to_api(record: Mapping[str, Any]) -> dict[str, Any]:
    """One execution record as a GetExecutionHistory event dict (what ``from_api`` reads)."""
    event_type = str(record["type"])
    raw: dict[str, Any] = {
        "id": int(record["id"]),
        "type": event_type,
        "previousEventId": _int(record.get("previous_event_id")),
        "timestamp": _from_ms(record.get("event_timestamp")),
    }
    details = record.get("details")
    if isinstance(details, Mapping) and details:
        raw[details_member(event_type)] = dict(details)
    elif isinstance(details, str) and details.strip():
        # Not seen on AWS, but a details member logged as JSON text is unambiguous.
        parsed = json.loads(details)
        if isinstance(parsed, Mapping) and parsed:
            raw[details_member(event_type)] = dict(parsed)
    return raw


def records_to_events(messages: Iterable[str | Mapping[str, Any]], execution_arn: str) -> Records:
    """The events of ``execution_arn`` in log messages (JSON text or decoded records).

    Records of other executions are dropped here rather than trusted to the filter pattern.
    CloudWatch Logs may deliver a record twice: one copy is kept.
    """
    by_id: dict[int, tuple[str, HistoryEvent]] = {}
    unreadable = duplicates = conflicts = others = 0
    for message in messages:
        try:
            record = json.loads(message) if isinstance(message, str) else message
            if not isinstance(record, Mapping):
                raise ValueError("not an object")
            if record.get("execution_arn") not in (None, execution_arn):
                others += 1
                continue
            event = HistoryEvent.from_api(record_to_api(record))
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError, InputError):
            unreadable += 1
            continue
        key = json.dumps(record, sort_keys=True, default=str)
        if event.id in by_id:
            if by_id[event.id][0] == key:
                duplicates += 1
            else:
                conflicts += 1
            continue
        by_id[event.id] = (key, event)
    events = tuple(by_id[i][1] for i in sorted(by_id))
    return Records(events, unreadable, duplicates, conflicts, others)


def records_notes(records: Records) -> list[str]:
    """One-line notes for what :func:`records_to_events` had to drop."""
    notes = []
    if records.unreadable:
        notes.append(f"{records.unreadable} log message(s) are not execution records; ignored")
    if records.duplicates:
        notes.append(f"{records.duplicates} execution record(s) were delivered twice; one kept")
    if records.conflicts:
        notes.append(
            f"{records.conflicts} execution record(s) repeat an event id with other content; "
            "the first was kept"
        )
    return notes


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _from_ms(value: Any) -> datetime | None:
    """Epoch milliseconds (a string in the records) as an exact UTC datetime."""
    try:
        ms = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    try:
        return datetime.fromtimestamp(ms // 1000, tz=timezone.utc) + timedelta(
            milliseconds=ms % 1000
        )
    except (OverflowError, OSError, ValueError):
        return None
