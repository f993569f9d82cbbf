"""A replayable bundle: everything one trace was made from, in one versioned JSON document.

``sfn-trace <arn> --field F --save-bundle incident.json.gz`` writes it;
``sfn-trace incident.json.gz --field F`` (or any other field) reads it back with no AWS call
and gives byte-identical JSON output. Shape (schema ``sfn-trace-bundle/1``)::

    {
      "schema": "sfn-trace-bundle/1",
      "tool": {"name": "sfn-trace", "version": "0.1.0"},
      "command": ["sfn-trace", "arn:...", "--field", "F", "--save-bundle", "b.json.gz"],
      "fetched_at": "2025-11-17T06:02:11.123456+00:00",
      "source": "aws",
      "redacted_field": null,
      "execution": {"executionArn": ..., "name": ..., "status": ..., "stateMachineArn": ...,
                    "startDate": ..., "stopDate": ...},
      "definition": "<the ASL text that ran, as DescribeStateMachineForExecution gave it>",
      "warnings": ["what could not be fetched, as the live run reported it"],
      "events": [<every history event, AWS CLI JSON shape, ISO 8601 timestamps>],
      "logs": null | {"log_groups": {...}, "warnings": [...], "invocations": [...]},
      "teststate": [<TestState answers, only with --confirm>]
    }

``execution`` uses DescribeExecution's member names. ``events`` are rebuilt from the typed
:class:`~sfn_trace.model.events.HistoryEvent` values by :func:`event_to_api`: every member the
tracer reads is kept exactly (payload texts byte for byte, ids, links, timestamps to the
microsecond); detail members sfn-trace never reads (``roleArn``, ``region``,
``timeoutInSeconds``, ``heartbeatInSeconds``, ``taskCredentials``, ``workerName``, alias
and version ARNs) are not carried, because the typed events do not keep them.

Gzip-compressed when the file name ends in ``.gz`` (any bundle is recognised by content, not
by name). Written atomically. A bundle from a newer sfn-trace, or a corrupt or cut one, is an
:class:`~sfn_trace.errors.InputError`: one line, exit 2.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfn_trace import __version__
from sfn_trace.errors import InputError
from sfn_trace.model import execution as _execution
from sfn_trace.model import jsontext
from sfn_trace.model.confirm import Exchange
from sfn_trace.model.definition import Definition

# _PAYLOAD_MEMBER: which payload member an event must carry; its absence means "execution
# data not included", and event_to_api must keep that (the same table the reader uses).
from sfn_trace.model.events import (
    _PAYLOAD_MEMBER,
    EventKind,
    HistoryEvent,
    details_member,
    events_from_api,
    timestamp_warning,
)
from sfn_trace.model.events import parse_timestamp as _parse_timestamp
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.options import MAX_INPUT
from sfn_trace.model.text import quote, quote_repr
from sfn_trace.sources.files import read_json

SCHEMA_NAME = "sfn-trace-bundle"
VERSION = 1
SCHEMA = f"{SCHEMA_NAME}/{VERSION}"

_SCHEMA_RE = re.compile(rf"^{SCHEMA_NAME}/(\d+)$")


@dataclass(frozen=True)
class Bundle:
    """A bundle read back: the execution data to trace, and how it was made."""

    data: ExecutionData
    tool_version: str | None
    command: tuple[str, ...]
    fetched_at: str | None
    redacted_field: str | None
    """The field kept by ``--redact`` (every other payload value is a placeholder: statuses
    of any field, null versus set versus missing, are still right, its values are not)."""
    original_source: str | None
    """Where the bundled data came from when it was written (``"aws"`` or a file path)."""


# --- events back to the API shape ------------------------------------------------------------


def event_to_api(event: HistoryEvent) -> dict[str, Any]:
    """``event`` as GetExecutionHistory returns it (AWS CLI JSON: ISO 8601 timestamps).

    The inverse of :meth:`HistoryEvent.from_api`: ``HistoryEvent.from_api(event_to_api(e))
    == e`` for every event (asserted over the recorded AWS corpus).
    """
    raw: dict[str, Any] = {}
    if event.timestamp is not None:
        raw["timestamp"] = event.timestamp.isoformat()
    raw["type"] = event.type
    raw["id"] = event.id
    raw["previousEventId"] = event.previous_id
    details = _details(event)
    if details:
        raw[details_member(event.type)] = details
    return raw


def _details(event: HistoryEvent) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if event.name is not None:
        details["state" if event.kind is EventKind.EVALUATION_FAILED else "name"] = event.name
    # A payload member the event should carry but that is absent means "execution data not
    # included"; a member present as JSON null is included-but-null. Keep the difference.
    expected = _PAYLOAD_MEMBER.get(event.kind)
    for key, payload in (("input", event.input), ("output", event.output)):
        if payload is not None:
            details[key] = payload.text
            details[f"{key}Details"] = {"truncated": payload.truncated}
        elif key == expected and event.data_included:
            details[key] = None
    if event.parameters is not None:
        details["parameters"] = event.parameters.text
    for key, value in (
        ("error", event.error),
        ("cause", event.cause),
        ("resourceType", event.resource_type),
        ("resource", event.resource),
        ("index", event.index),
        ("length", event.length),
        ("mapRunArn", event.map_run_arn),
        ("redriveCount", event.redrive_count),
        ("roleArn", event.role_arn),
        ("location", event.location),
    ):
        if value is not None:
            details[key] = value
    if event.assigned_variables is not None:
        details["assignedVariables"] = {name: p.text for name, p in event.assigned_variables}
    if event.assigned_variables is not None or event.variables_truncated:
        details["assignedVariablesDetails"] = {"truncated": event.variables_truncated}
    return details


# --- writing ---------------------------------------------------------------------------------


def bundle_document(
    data: ExecutionData,
    *,
    command: Sequence[str] = (),
    fetched_at: datetime | None = None,
    redacted_field: str | None = None,
    teststate: Sequence[Exchange] | None = None,
) -> dict[str, Any]:
    """The bundle of ``data`` as a JSON-ready dict (``fetched_at``: now when not given).

    ``redacted_field``: ``data`` went through :func:`sfn_trace.trace.redact.redact` for that field.
    ``teststate``: the TestState answers of ``--confirm``, stored under ``teststate`` (None:
    the member is left out, as in every bundle written without ``--confirm``).
    """
    info = data.info
    moment = fetched_at or datetime.now(timezone.utc)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "sfn-trace", "version": __version__},
        "command": list(command),
        "fetched_at": moment.isoformat(),
        "source": data.source,
        "redacted_field": redacted_field,
        "execution": {
            "executionArn": info.arn,
            "name": info.name,
            "status": info.status,
            "stateMachineArn": info.state_machine_arn,
            "startDate": info.start.isoformat() if info.start else None,
            "stopDate": info.stop.isoformat() if info.stop else None,
        },
        "definition": data.definition.text if data.definition is not None else None,
        "warnings": list(data.warnings),
        "events": [event_to_api(e) for e in data.events],
        "logs": _logs_json(getattr(data, "lambda_logs", None)),
    }
    if teststate is not None:
        document["teststate"] = [exchange.as_json() for exchange in teststate]
    return document


def bundle_bytes(document: Mapping[str, Any], *, compress: bool) -> bytes:
    """Serialised bundle; gzip output is deterministic (no file name, mtime 0). Strict
    RFC 8259 JSON (:func:`sfn_trace.model.jsontext.dumps`)."""
    raw = (jsontext.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw


def is_bundle(document: Any) -> bool:
    """Whether a parsed JSON document claims to be a bundle (of any version)."""
    return (
        isinstance(document, Mapping)
        and isinstance(document.get("schema"), str)
        and document["schema"].startswith(f"{SCHEMA_NAME}/")
    )


def read_bundle(path: str | Path, max_input: int = MAX_INPUT) -> Bundle:
    """Read a bundle file (plain or gzip, at most ``max_input`` bytes of JSON); every
    failure is a one-line InputError."""
    document = read_json(path, "bundle", max_input)
    if not is_bundle(document):
        raise InputError(f"{path}: not an sfn-trace bundle (no {SCHEMA_NAME} schema)")
    return bundle_from_document(document, str(path))


def bundle_from_document(document: Mapping[str, Any], origin: str) -> Bundle:
    """A parsed bundle document -> :class:`Bundle`; ``origin`` names it in messages."""
    schema = document.get("schema")
    match = _SCHEMA_RE.match(schema) if isinstance(schema, str) else None
    if match is None:
        shown = quote_repr(schema) if isinstance(schema, str) else quote(repr(schema))
        raise InputError(f"{origin}: unknown bundle schema {shown}")
    # A version of thousands of digits is newer than this one: Python refuses to read it as
    # a number (ValueError past 4,300 digits), and the line quotes it cut.
    version = match.group(1).lstrip("0")
    if len(version) > len(str(VERSION)) or int(version or "0") > VERSION:
        raise InputError(
            f"{origin}: bundle written by a newer sfn-trace ({quote(schema)}); upgrade sfn-trace "
            f"(this version reads {SCHEMA})"
        )
    execution = _member(document, "execution", Mapping, origin)
    raw_events = _member(document, "events", list, origin)
    for position, raw in enumerate(raw_events, start=1):
        if not isinstance(raw, Mapping):
            raise InputError(f"{origin}: bundle event #{position} is not an object")
    try:
        events = events_from_api(raw_events)
    except InputError as error:
        raise error.around(f"{origin}: ") from None
    if not events:
        raise InputError(f"{origin}: the bundle holds no events")
    definition_text = document.get("definition")
    if definition_text is not None and not isinstance(definition_text, str):
        raise InputError(f"{origin}: bundle member 'definition' must be the definition's text")
    definition = (
        Definition.from_text(definition_text, origin=f"{origin} (definition)")
        if definition_text is not None
        else None
    )
    warnings = _member(document, "warnings", list, origin, default=[])
    command = _member(document, "command", list, origin, default=[])
    tool = document.get("tool")
    data = ExecutionData(
        info=ExecutionInfo(
            arn=_str(execution.get("executionArn")),
            name=_str(execution.get("name")),
            status=_str(execution.get("status")),
            state_machine_arn=_str(execution.get("stateMachineArn")),
            start=_parse_timestamp(execution.get("startDate")),
            stop=_parse_timestamp(execution.get("stopDate")),
        ),
        events=events,
        definition=definition,
        source=origin,
        warnings=_with(
            tuple(quote(str(w)) for w in warnings), timestamp_warning(raw_events, events)
        ),
    )
    logs = _logs_from_json(document.get("logs"), origin)
    if logs is not None:
        data = dataclasses.replace(data, lambda_logs=logs)  # type: ignore[call-arg]
    if "teststate" in document:  # bundles written without --confirm have no such member
        data = dataclasses.replace(data, teststate=_teststate_from_json(document, origin))
    return Bundle(
        data=data,
        tool_version=_str(tool.get("version")) if isinstance(tool, Mapping) else None,
        command=tuple(str(c) for c in command),
        fetched_at=_str(document.get("fetched_at")),
        redacted_field=_str(document.get("redacted_field")),
        original_source=_str(document.get("source")),
    )


def _with(warnings: tuple[str, ...], warning: str | None) -> tuple[str, ...]:
    """The bundle's saved warnings and one more, unless it was saved already."""
    return (*warnings, warning) if warning and warning not in warnings else warnings


def _member(
    document: Mapping[str, Any], key: str, kind: type, origin: str, default: Any = None
) -> Any:
    value = document.get(key, default)
    if not isinstance(value, kind):
        what = "an object" if kind is Mapping else "a list"
        raise InputError(f"{origin}: bundle member {quote_repr(key)} must be {what}")
    return value


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _teststate_from_json(document: Mapping[str, Any], origin: str) -> tuple[Exchange, ...]:
    items = _member(document, "teststate", list, origin)
    try:
        return tuple(Exchange.from_json(item) for item in items)
    except ValueError as exc:
        malformed = f"bundle member 'teststate' is malformed ({quote(exc)})"
        raise InputError(f"{origin}: {malformed}") from None


# --- Lambda log lines ------------------------------------------------------------------------
#
# ``ExecutionData.lambda_logs`` (a LambdaLogs of InvocationLogs of LogLine) is stored as plain
# JSON and rebuilt with whatever classes sfn_trace.model.execution defines, so a bundle keeps the
# lines that the live run matched to each invocation.


def _logs_json(logs: Any) -> dict[str, Any] | None:
    if logs is None:
        return None
    return {
        "log_groups": dict(getattr(logs, "log_groups", {}) or {}),
        "warnings": list(getattr(logs, "warnings", ()) or ()),
        "invocations": [
            {
                "scheduled_event_id": event_id,
                "request_id": found.request_id,
                "log_group": found.log_group,
                "log_stream": found.log_stream,
                "matched_by": found.matched_by,
                "lines": [dataclasses.asdict(line) for line in found.lines],
            }
            for event_id, found in sorted((getattr(logs, "by_attempt", {}) or {}).items())
        ],
    }


def _logs_from_json(document: Any, origin: str) -> Any:
    if document is None:
        return None
    lambda_logs = getattr(_execution, "LambdaLogs", None)
    invocation_logs = getattr(_execution, "InvocationLogs", None)
    log_line = getattr(_execution, "LogLine", None)
    if lambda_logs is None or invocation_logs is None or log_line is None:
        return None
    try:
        return lambda_logs(
            by_attempt={
                int(item["scheduled_event_id"]): invocation_logs(
                    request_id=item.get("request_id"),
                    log_group=item["log_group"],
                    log_stream=item.get("log_stream"),
                    matched_by=item["matched_by"],
                    lines=tuple(log_line(**line) for line in item["lines"]),
                )
                for item in document["invocations"]
            },
            log_groups=dict(document.get("log_groups") or {}),
            warnings=tuple(quote(str(w)) for w in document.get("warnings") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{origin}: bundle member 'logs' is malformed ({quote(exc)})") from None


__all__ = [
    "SCHEMA",
    "Bundle",
    "bundle_bytes",
    "bundle_document",
    "bundle_from_document",
    "event_to_api",
    "is_bundle",
    "read_bundle",
]
