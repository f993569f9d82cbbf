"""Redaction: an execution with every payload value replaced, except the tracked field's.

``--redact`` applies :func:`redact` to the :class:`~sfn_trace.model.execution.ExecutionData` before
it is traced, rendered or bundled, so reports and bundles can leave the team. The trace of the
field is unchanged (same statuses, paths, values and findings), and a note in the warnings
says that the data is redacted. What changes:

- every JSON document the history carries (state input and output, effective parameters,
  task results, execution input and output, assigned variables, causes that are JSON): keys
  and structure are kept (so every JSONPath, and so the whole trace of the field, stays the
  same), and each leaf value becomes a type-preserving placeholder:

  ====================  =================================================================
  string                ``"<redacted:12 chars>"`` (its length in characters)
  number                ``0``
  boolean               ``false`` (a placeholder too: a flag can be as telling as a string)
  null                  ``null`` (kept: null versus missing is what the tracer reports)
  ====================  =================================================================

- the value of every member named like the field is kept whole (and a variable named like
  the field): it is what the report is about;
- a few identifiers of AWS's own envelope are kept, because the report needs them to name
  the Lambda function and find its logs and they are not user data: ``FunctionName`` in a
  ``lambda:invoke`` task's parameters (it is written in the definition anyway), the request
  id in a Lambda result (``SdkResponseMetadata.RequestId``, the ``x-amzn-RequestId`` header)
  and ``requestId``/``errorType`` in a Lambda error cause;
- a cause that is not JSON keeps only AWS's own prefix naming the state and event ("An error
  occurred while executing the state 'S' (entered at the event id #7).") and any
  ``RequestId: <id>``; the rest becomes ``<redacted:N chars>``. A payload that is not JSON
  becomes a placeholder that the tracer still reads as "not JSON";
- Lambda log lines: a text platform line (``START``/``END``/``REPORT RequestId: ...``) keeps
  only the platform's own fixed fields, each when its value has the platform's shape (a UUID
  request id, ``Version: $LATEST`` or a number, durations in ms, memory in MB, X-Ray ids):
  whatever else it carries, from the first other part on (text a function printed after
  them, or a line it wrote to look like one), becomes ``<redacted:N chars>``.
  JSON-format lines are redacted like payloads, keeping only the members whose values are
  provably not payload: ``level`` when it is a known level (``INFO``, ``ERROR``, ...),
  ``type`` when it is a platform event type (``platform.report``, ...), ``timestamp`` and
  ``time`` when they are ISO 8601 times, ``requestId``/``AWSRequestID`` (and the record's)
  when they are UUIDs, and in a platform event's ``record`` its ``version``, ``status`` and
  numeric ``metrics`` (sources/lambda_logs.py says what the platform's shapes are). Every
  other line becomes ``<redacted:N chars>``.

Not payload, so kept: state names, event ids and timestamps, ARNs, error names, resources,
warnings, and the definition (it is code; its literals, if any, stay). Object keys are kept,
so a document keyed by data (an e-mail address as a key) still shows those keys.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sfn_trace.model import jsontext
from sfn_trace.model.events import NOT_JSON, EventKind, HistoryEvent, Payload
from sfn_trace.model.execution import ExecutionData
from sfn_trace.sources.lambda_logs import (
    LOG_LEVELS,
    PLATFORM_TYPES,
    RUNTIME_STATUSES,
    is_request_id,
    is_timestamp,
    is_version,
    platform_parts,
)

# Lambda envelope members kept verbatim, as paths of object keys from the document root.
_KEPT_IN_PARAMETERS = (("FunctionName",),)
_KEPT_IN_RESULT = (
    ("SdkResponseMetadata", "RequestId"),
    ("SdkHttpMetadata", "HttpHeaders", "x-amzn-RequestId"),
)
_KEPT_IN_CAUSE = (("requestId",), ("errorType",))
_KEPT_IN_LOG_RECORD: tuple[tuple[tuple[str, ...], Callable[[Any], bool]], ...] = (
    (("requestId",), is_request_id),
    (("AWSRequestID",), is_request_id),
    (("record", "requestId"), is_request_id),
    (("level",), lambda value: isinstance(value, str) and value.upper() in LOG_LEVELS),
    (("timestamp",), is_timestamp),
    (("time",), is_timestamp),
    (("type",), lambda value: isinstance(value, str) and value in PLATFORM_TYPES),
)
"""Members of a JSON log line kept when their value passes the check: nothing else."""
_KEPT_IN_PLATFORM_RECORD: tuple[tuple[tuple[str, ...], Callable[[Any], bool]], ...] = (
    (("record", "version"), is_version),
    (("record", "status"), lambda value: isinstance(value, str) and value in RUNTIME_STATUSES),
)
"""Members kept in addition when the line's ``type`` is a platform event type."""

_CAUSE_PREFIX = re.compile(
    r"An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\.?"
)
_REQUEST_ID = re.compile(r"RequestId: [0-9a-fA-F-]{36}")


def placeholder(text: str) -> str:
    """``"<redacted:12 chars>"`` for a 12-character string."""
    count = len(text)
    return f"<redacted:{count} char{'' if count == 1 else 's'}>"


def redact_value(value: Any, field: str) -> Any:
    """``value`` with every leaf replaced by its placeholder, except members named ``field``.

    An explicit stack, not recursion: a payload nests as deep as its writer chose."""
    root: list[Any] = [None]
    # (value to redact, the container its copy goes into, the key or index there)
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        node, into, at = stack.pop()
        if isinstance(node, dict):
            copy: dict[Any, Any] = {}
            into[at] = copy
            for key, member in node.items():
                if key == field:
                    copy[key] = member
                else:
                    copy[key] = None  # keeps the member order; filled from the stack
                    stack.append((member, copy, key))
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            into[at] = items
            stack.extend((item, items, index) for index, item in enumerate(node))
        else:
            into[at] = _redact_leaf(node)
    return root[0]


def _redact_leaf(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, str):
        return placeholder(value)
    return value  # None


def redaction_note(field: str) -> str:
    return (
        f"payload values other than {field}'s are redacted (strings, numbers and booleans "
        "replaced by placeholders; nulls, keys and structure kept)"
    )


def redact(data: ExecutionData, field: str) -> ExecutionData:
    """``data`` with every payload value but ``field``'s replaced (see the module docstring).

    A note joins ``data.warnings``, so every report and bundle made from it says so (and a
    trace of another field from a redacted bundle says whose values were kept).
    """
    events = tuple(_redact_event(event, field) for event in data.events)
    note = redaction_note(field)
    warnings = data.warnings if note in data.warnings else (*data.warnings, note)
    redacted = dataclasses.replace(data, events=events, warnings=warnings)
    logs = getattr(data, "lambda_logs", None)
    if logs is not None:
        redacted = dataclasses.replace(redacted, lambda_logs=_redact_logs(logs, field))  # type: ignore[call-arg]
    return redacted


def _redact_event(event: HistoryEvent, field: str) -> HistoryEvent:
    lambda_task = event.resource_type == "lambda"
    changes: dict[str, Any] = {}
    kept: tuple[tuple[str, ...], ...]
    if event.input is not None:
        changes["input"] = _redact_payload(event.input, field)
    if event.output is not None:
        result = event.kind in (EventKind.TASK_SUCCEEDED, EventKind.TASK_SUBMITTED)
        kept = _KEPT_IN_RESULT if lambda_task and result else ()
        changes["output"] = _redact_payload(event.output, field, kept)
    if event.parameters is not None:
        kept = _KEPT_IN_PARAMETERS if lambda_task else ()
        changes["parameters"] = _redact_payload(event.parameters, field, kept)
    if event.cause is not None:
        changes["cause"] = _redact_cause(event.cause, field)
    if event.assigned_variables is not None:
        changes["assigned_variables"] = tuple(
            (name, payload if name == field else _redact_payload(payload, field))
            for name, payload in event.assigned_variables
        )
    return dataclasses.replace(event, **changes) if changes else event


def _redact_payload(
    payload: Payload, field: str, kept: tuple[tuple[str, ...], ...] = ()
) -> Payload:
    value = payload.value
    if value is NOT_JSON:
        return Payload(_not_json_placeholder(payload, field), payload.truncated)
    redacted = _keep(value, redact_value(value, field), kept)
    return Payload(_dumps(redacted), payload.truncated)


def _not_json_placeholder(payload: Payload, field: str) -> str:
    # The tracer reads a non-JSON payload as "unknown" only when it may hold the field or
    # looks cut (sfn_trace.trace.field.snapshot); say so in the placeholder to keep that.
    text = placeholder(payload.text) + " (not JSON)"
    if payload.may_contain_key(field) or not payload.looks_complete():
        text += f" mentioning {json.dumps(field, ensure_ascii=False)}"
    return text


def _redact_cause(cause: str, field: str) -> str:
    try:
        value = _loads(cause)
    except ValueError:
        value = NOT_JSON
    if isinstance(value, (dict, list)):
        return _dumps(_keep(value, redact_value(value, field), _KEPT_IN_CAUSE))
    kept = [m.group(0) for m in _CAUSE_PREFIX.finditer(cause)]
    kept += [m.group(0) for m in _REQUEST_ID.finditer(cause)]
    rest = len(cause) - sum(len(k) for k in kept)
    return " ".join([*kept, f"<redacted:{rest} chars>"]) if rest > 0 else " ".join(kept)


def _keep(original: Any, redacted: Any, paths: tuple[tuple[str, ...], ...]) -> Any:
    """Put the envelope members at ``paths`` back from ``original`` (strings only)."""
    for path in paths:
        source, target = original, redacted
        for key in path[:-1]:
            if not (isinstance(source, dict) and isinstance(source.get(key), dict)):
                break
            source, target = source[key], target[key]
        else:
            last = path[-1]
            if isinstance(source, dict) and isinstance(source.get(last), str):
                target[last] = source[last]
    return redacted


def _loads(text: str) -> Any:
    """JSON text as :func:`json.loads` reads it; a document nested deeper than Python's
    parser goes is read by :func:`sfn_trace.model.jsontext.loads` (ValueError when even that
    limit is passed)."""
    try:
        return json.loads(text)
    except RecursionError:
        return jsontext.loads(text)


def _dumps(value: Any) -> str:
    """Compact JSON as :func:`json.dumps` writes it; a document nested deeper than Python's
    encoder goes is written by :func:`sfn_trace.model.jsontext.dumps` (the same text)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        return jsontext.dumps(value, ensure_ascii=False, separators=(",", ":"), strict=False)


# --- Lambda log lines (ExecutionData.lambda_logs) ---------------------------------------------


def _redact_logs(logs: Any, field: str) -> Any:
    by_attempt: Mapping[int, Any] = getattr(logs, "by_attempt", {}) or {}
    return dataclasses.replace(
        logs,
        by_attempt={
            key: dataclasses.replace(
                found,
                lines=tuple(
                    dataclasses.replace(line, message=redact_log_message(line.message, field))
                    for line in found.lines
                ),
            )
            for key, found in by_attempt.items()
        },
    )


def redact_log_message(message: str, field: str) -> str:
    """One CloudWatch Logs message, redacted: a platform line keeps the platform's fields, a
    JSON line its structure and the members that are provably not payload (module
    docstring), any other line becomes a placeholder."""
    parts = platform_parts(message)
    if parts is not None:
        own, rest = parts
        if not rest:
            return message
        body = rest.lstrip(" \t")
        return own + rest[: len(rest) - len(body)] + placeholder(body.rstrip("\n"))
    if message.lstrip().startswith("{"):
        try:
            record = _loads(message)
        except ValueError:
            record = None
        if isinstance(record, dict):
            return _dumps(_keep_log_members(record, redact_value(record, field)))
    return placeholder(message.rstrip("\n"))


def _keep_log_members(record: dict[str, Any], redacted: dict[str, Any]) -> dict[str, Any]:
    """Put back the members of a JSON log line whose values are provably not payload."""
    kept = _KEPT_IN_LOG_RECORD
    kind = record.get("type")
    if isinstance(kind, str) and kind in PLATFORM_TYPES:
        kept += _KEPT_IN_PLATFORM_RECORD
        inner, copy = record.get("record"), redacted.get("record")
        metrics = inner.get("metrics") if isinstance(inner, dict) else None
        if isinstance(metrics, dict) and isinstance(copy, dict):
            numbers = copy["metrics"]
            for name, value in metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    numbers[name] = value
    for path, check in kept:
        source, target = record, redacted
        for key in path[:-1]:
            if not (isinstance(source.get(key), dict) and isinstance(target.get(key), dict)):
                break
            source, target = source[key], target[key]
        else:
            last = path[-1]
            if last in source and check(source[last]):
                target[last] = source[last]
    return redacted


__all__ = ["placeholder", "redact", "redact_log_message", "redact_value", "redaction_note"]


def with_children_data(
    data: ExecutionData, change: Callable[[ExecutionData], ExecutionData]
) -> ExecutionData:
    """``data`` with ``change`` applied to every fetched child's data (e.g. ``--redact``)."""
    if not data.map_runs:
        return data
    runs = tuple(
        dataclasses.replace(
            run,
            children=tuple(
                dataclasses.replace(c, data=change(c.data)) if c.data is not None else c
                for c in run.children
            ),
        )
        for run in data.map_runs
    )
    return dataclasses.replace(data, map_runs=runs)


def redact_all(data: ExecutionData, field: str) -> ExecutionData:
    """:func:`redact` applied to ``data`` and to every followed Distributed Map child."""
    return with_children_data(redact(data, field), lambda child: redact(child, field))
