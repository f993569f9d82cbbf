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
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine
from sfn_trace.model.visits import LambdaInvocation

__all__ = ["InvocationLogs", "LambdaLogs", "LogLine", "assign", "group_by_request"]


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
