"""CloudWatch Logs lines of a Lambda log group, split per invocation. Pure.

Lambda writes one stream per execution environment, and one environment runs one invocation
at a time, so within a stream everything between an invocation's ``START`` and its
``REPORT`` belongs to it — including ``print()`` lines that carry no request id. Lines that
do carry one say so explicitly:

- platform lines, Text format: ``START RequestId: <id> Version: $LATEST``, ``END RequestId:
  <id>``, ``REPORT RequestId: <id>\\tDuration: ...``;
- application lines, Text format: ``[INFO]\\t<timestamp>\\t<id>\\t<message>`` (Python),
  ``<timestamp>\\t<id>\\tINFO\\t<message>`` (Node.js);
- JSON format: ``{"requestId": "<id>", ...}`` and platform records
  ``{"type": "platform.start", "record": {"requestId": "<id>", ...}}``.

See https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html

What in a line is the platform's own, and never a function's (``--redact`` keeps only that):
:func:`platform_parts` cuts a text platform line into the platform's fixed fields and the rest,
and :data:`LOG_LEVELS`, :data:`PLATFORM_TYPES`, :data:`RUNTIME_STATUSES`,
:func:`is_request_id`, :func:`is_version` and :func:`is_timestamp` say which values of a JSON
line's members have the platform's shape.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine
from sfn_trace.model.visits import LambdaInvocation

__all__ = [
    "LOG_LEVELS",
    "PLATFORM_TYPES",
    "RUNTIME_STATUSES",
    "InvocationLogs",
    "LambdaLogs",
    "LogLine",
    "assign",
    "group_by_request",
    "is_request_id",
    "is_timestamp",
    "is_version",
    "platform_parts",
]


_PLATFORM = re.compile(r"^(START|END|REPORT) RequestId: (\S+)")
_PYTHON_TEXT = re.compile(r"^\[[A-Z]+\]\t[^\t]*\t([0-9A-Fa-f-]{36})\t")
_NODE_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT[^\t]*\t([0-9A-Fa-f-]{36})\t")


def line_request_id(message: str) -> tuple[str | None, str | None]:
    """(request id, platform kind) a line names explicitly; kind is START/END/REPORT."""
    match = _PLATFORM.match(message)
    if match:
        return match.group(2), match.group(1)
    match = _PYTHON_TEXT.match(message) or _NODE_TEXT.match(message)
    if match:
        return match.group(1), None
    if message.startswith("{"):
        try:
            record = json.loads(message)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            return None, None
        if isinstance(record, dict):
            kind = {
                "platform.start": "START",
                "platform.runtimeDone": "END",
                "platform.report": "REPORT",
            }.get(str(record.get("type")))
            inner = record.get("record")
            rid = record.get("requestId")
            if rid is None and isinstance(inner, dict):
                rid = inner.get("requestId")
            return (str(rid) if rid is not None else None), kind
    return None, None


def group_by_request(lines: Iterable[LogLine]) -> tuple[dict[str, list[LogLine]], list[LogLine]]:
    """Lines per request id, and the START lines (for time-window matching).

    Within a stream, a line without an id belongs to the invocation opened by the last
    ``START`` and not yet closed by its ``REPORT``.
    """
    by_stream: dict[str, list[LogLine]] = defaultdict(list)
    for line in lines:
        by_stream[line.stream].append(line)
    by_request: dict[str, list[LogLine]] = defaultdict(list)
    starts: list[LogLine] = []
    for stream_lines in by_stream.values():
        stream_lines.sort(key=lambda line: line.timestamp)
        current: str | None = None
        for line in stream_lines:
            rid, kind = line_request_id(line.message)
            if kind == "START":
                current = rid
                starts.append(line)
            owner = rid or current
            if owner is not None:
                by_request[owner].append(line)
            if kind == "REPORT" and rid == current:
                current = None
    return by_request, starts


def assign(
    invocations: Sequence[LambdaInvocation], log_group: str, lines: Iterable[LogLine]
) -> dict[int, InvocationLogs]:
    """Each invocation's lines: by request id, else by the START within its time window."""
    by_request, starts = group_by_request(lines)
    known = {i.request_id for i in invocations if i.request_id}
    free = sorted(
        (s for s in starts if line_request_id(s.message)[0] not in known),
        key=lambda s: s.timestamp,
    )
    found: dict[int, InvocationLogs] = {}
    for invocation in sorted(invocations, key=lambda i: (_ms(i.start) or 0, i.start_event_id)):
        if invocation.request_id:
            own = by_request.get(invocation.request_id, [])
            found[invocation.start_event_id] = InvocationLogs(
                request_id=invocation.request_id,
                log_group=log_group,
                log_stream=own[0].stream if own else None,
                matched_by="request_id",
                lines=tuple(own),
            )
            continue
        start = _claim_start(invocation, free)
        if start is None:
            continue
        rid = line_request_id(start.message)[0]
        own = by_request.get(rid, []) if rid else []
        found[invocation.start_event_id] = InvocationLogs(
            request_id=rid,
            log_group=log_group,
            log_stream=start.stream,
            matched_by="time_window",
            lines=tuple(own),
        )
    return found


# A Lambda START is logged after Step Functions schedules the task and before it records the
# result; allow for clock skew between the two services.
_SKEW_MS = 2_000


def _claim_start(invocation: LambdaInvocation, free: list[LogLine]) -> LogLine | None:
    begin, end = _ms(invocation.start), _ms(invocation.end)
    if begin is None:
        return None
    for position, start in enumerate(free):
        if start.timestamp < begin - _SKEW_MS:
            continue
        if end is not None and start.timestamp > end + _SKEW_MS:
            break
        return free.pop(position)
    return None


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def mentions(line: LogLine, field_name: str) -> bool:
    return field_name in line.message


_TEXT_APP = re.compile(r"^\[(?P<level>[A-Z]+)\]\t[^\t]*\t[0-9A-Fa-f-]{36}\t(?P<message>.*)$", re.S)
_NODE_APP = re.compile(
    r"^\d{4}-\d\d-\d\dT[^\t]*\t[0-9A-Fa-f-]{36}\t(?P<level>[A-Z]+)\t(?P<message>.*)$", re.S
)


def readable(message: str) -> str:
    """A log line without what its heading already says (request id, timestamp, JSON
    envelope): ``[INFO] No poll results to mark as complete``, ``REPORT Duration: 7.42 ms``.
    Plain ``print()`` text is returned as it is."""
    text = message.rstrip("\n")
    match = _PLATFORM.match(text)
    if match:
        rest = text[match.end() :].strip()
        if match.group(1) == "START":
            return "START"
        return f"{match.group(1)} {rest}".strip().replace("\t", ", ")
    match = _TEXT_APP.match(text) or _NODE_APP.match(text)
    if match:
        return f"[{match['level']}] {match['message']}"
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            return text
        if isinstance(record, dict):
            return _readable_json(record, text)
    return text


def _readable_json(record: dict[str, object], text: str) -> str:
    kind = record.get("type")
    inner = record.get("record")
    if kind == "platform.start":
        return "START"
    if kind == "platform.runtimeDone":
        status = inner.get("status") if isinstance(inner, dict) else None
        return f"END {status}" if status else "END"
    if kind == "platform.report" and isinstance(inner, dict):
        metrics = inner.get("metrics")
        if isinstance(metrics, dict):
            parts = [f"{key}: {value}" for key, value in metrics.items()]
            return "REPORT " + ", ".join(parts)
        return "REPORT"
    if "message" in record:
        level = record.get("level", "")
        message = record["message"]
        shown = message if isinstance(message, str) else json.dumps(message)
        error = record.get("errorType")
        return f"[{level}] {shown}" + (f" ({error})" if error else "")
    return text


# --- what is the platform's own (for --redact) ----------------------------------------------

LOG_LEVELS: Final = frozenset(
    {"TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"}
)
"""The levels of Lambda's JSON log format and of the usual logging libraries (upper case)."""

PLATFORM_TYPES: Final = frozenset(
    {
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
        "platform.restoreStart",
        "platform.restoreRuntimeDone",
        "platform.restoreReport",
        "platform.telemetrySubscription",
        "platform.logsDropped",
        "platform.extension",
    }
)
"""The platform events' ``type`` values
(https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html)."""

RUNTIME_STATUSES: Final = frozenset({"success", "failure", "error", "timeout"})
"""A platform record's ``status`` (same page)."""

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_VERSION = re.compile(r"\$LATEST|[1-9][0-9]{0,9}")
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d[0-9:.,+\-Z ]{0,24}")


def is_request_id(value: object) -> bool:
    """A Lambda request id: a UUID."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_version(value: object) -> bool:
    """A function version as the platform names it: ``$LATEST`` or a published number."""
    return isinstance(value, str) and _VERSION.fullmatch(value) is not None


def is_timestamp(value: object) -> bool:
    """An ISO 8601 date and time (``2024-05-01T12:00:00.123Z``), and nothing else."""
    if not (isinstance(value, str) and _ISO_MOMENT.fullmatch(value)):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_MS = r"\d+(?:\.\d+)? ms"
_FIELDS: dict[str, dict[str, str]] = {
    "START": {"Version": _VERSION.pattern},
    "END": {},
    "REPORT": {
        "Duration": _MS,
        "Billed Duration": _MS,
        "Memory Size": r"\d+ MB",
        "Max Memory Used": r"\d+ MB",
        "Init Duration": _MS,
        "Restore Duration": _MS,
        "Billed Restore Duration": _MS,
        "Status": "|".join(sorted(RUNTIME_STATUSES)),
        "Error Type": r"(?:Runtime|Sandbox|Function|Extension)\.[A-Za-z]+",
        "XRAY TraceId": r"1-[0-9a-f]{8}-[0-9a-f]{24}",
        "SegmentId": r"[0-9a-f]{16}",
        "Sampled": "true|false",
    },
}
"""Each text platform line's fixed fields after its request id, and the shape of their
values: ``START RequestId: <id> Version: $LATEST``, ``END RequestId: <id>``, ``REPORT
RequestId: <id>\tDuration: 2.30 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory
Used: 39 MB\tInit Duration: 120.52 ms`` (and X-Ray's ``XRAY TraceId: ...\tSegmentId:
...\tSampled: true``; https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)."""
_FIELD_AT = {
    kind: re.compile(
        r"[ \t\r\n]+(?:"
        + "|".join(f"{re.escape(name)}: (?:{shape})" for name, shape in fields.items())
        + r")(?=[ \t\r\n]|$)"
    )
    if fields
    else None
    for kind, fields in _FIELDS.items()
}


def platform_parts(message: str) -> tuple[str, str] | None:
    """A text platform line (``START``/``END``/``REPORT RequestId: ...``) cut in two: what
    the platform wrote (its keyword, a request id that is a UUID, then each of its fixed
    fields whose value has the field's shape, with the whitespace between them) and the rest,
    from the first part that is none of these to the end ("" when there is none). None for
    any other line.

    A function can write a line that starts like a platform line, or text that follows one:
    the rest is what such a line adds.
    """
    match = _PLATFORM.match(message)
    if match is None:
        return None
    kind = match.group(1)
    if not is_request_id(match.group(2)):
        start = match.start(2)
        return message[:start], message[start:]
    position = match.end()
    field_at = _FIELD_AT[kind]
    while field_at is not None and (found := field_at.match(message, position)):
        position = found.end()
    rest = message[position:]
    if not rest.strip():
        return message, ""
    return message[:position], rest
