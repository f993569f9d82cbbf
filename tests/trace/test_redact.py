"""sfn_trace.trace.redact: reports and bundles of a redacted execution hold no payload value but the
tracked field's, and the trace of the field is unchanged."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from sfn_trace.model.events import NOT_JSON, HistoryEvent, Payload
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.snapshot import Status
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.sources.bundle import bundle_bytes, bundle_document
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import analyze
from sfn_trace.trace.field import snapshot
from sfn_trace.trace.redact import (
    placeholder,
    redact,
    redact_log_message,
    redact_value,
    redaction_note,
)
from tests.data import DEFINITION, fixture_history, fixture_names

FIELD = "poll_results_s3_key"
NAMES = fixture_names()


def _data(name: str) -> ExecutionData:
    return load_target_file(fixture_history(name), DEFINITION)


def test_leaves_become_type_preserving_placeholders() -> None:
    document = {
        "name": "Ada Lovelace",
        "n": 42,
        "ratio": 1.5,
        "vip": True,
        "gone": None,
        "tags": ["a", 7, {"deep": "secret"}],
        FIELD: {"kept": "whole", "n": 3},
        "nested": {FIELD: None, "other": "x"},
    }
    assert redact_value(document, FIELD) == {
        "name": "<redacted:12 chars>",
        "n": 0,
        "ratio": 0,
        "vip": False,
        "gone": None,
        "tags": ["<redacted:1 char>", 0, {"deep": "<redacted:6 chars>"}],
        FIELD: {"kept": "whole", "n": 3},
        "nested": {FIELD: None, "other": "<redacted:1 char>"},
    }
    assert placeholder("ünïcode") == "<redacted:7 chars>"


@pytest.mark.parametrize("name", NAMES)
def test_the_trace_of_the_field_is_unchanged(name: str) -> None:
    data = _data(name)
    redacted = redact(data, FIELD)
    assert redacted.warnings == (*data.warnings, redaction_note(FIELD))
    assert redact(redacted, FIELD).warnings == redacted.warnings
    # With the same warnings, every rendering of the trace is identical.
    same_notes = dataclasses.replace(redacted, warnings=data.warnings)
    for output_format in (TraceFormat.JSON, TraceFormat.CSV, TraceFormat.TABLE):
        # the definition's data flow is replayed on the real values (as the CLI does)
        redacted_trace = analyze(same_notes, FIELD, replay_source=data)
        expected = render(Command.TRACE, output_format, analyze(data, FIELD))
        assert render(Command.TRACE, output_format, redacted_trace) == expected


def _leaves(value: Any, field: str) -> Iterator[Any]:
    """Every leaf value of a document that is not inside a member named ``field``."""
    if isinstance(value, dict):
        for key, member in value.items():
            if key != field:
                yield from _leaves(member, field)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, field)
    else:
        yield value


def _field_values(value: Any, field: str) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, member in value.items():
            if key == field:
                yield member
            yield from _field_values(member, field)
    elif isinstance(value, list):
        for item in value:
            yield from _field_values(item, field)


def _documents(event: HistoryEvent) -> Iterator[Any]:
    for payload in (event.input, event.output, event.parameters):
        if payload is not None and payload.value is not NOT_JSON:
            yield payload.value
    if event.cause:
        try:
            yield json.loads(event.cause)
        except ValueError:
            yield event.cause
    for _, payload in event.assigned_variables or ():
        yield payload.value


def _secrets(data: ExecutionData) -> set[str]:
    """The original string leaves a redacted output must not show.

    Excluded, because they are shown legitimately: text inside the field's values (the
    execution id is part of the S3 key), the definition's literals, and the Lambda envelope
    kept on purpose (function names, request ids).
    """
    documents = [d for e in data.events for d in _documents(e)]
    kept_text = " ".join(
        json.dumps(v, ensure_ascii=False) for d in documents for v in _field_values(d, FIELD)
    )
    kept_text += data.definition.text if data.definition else ""
    for trace in analyze(data, FIELD).visits:
        if trace.invocation is not None:
            kept_text += f" {trace.invocation.function} {trace.invocation.request_id}"
    strings = {leaf for d in documents for leaf in _leaves(d, FIELD) if isinstance(leaf, str)}
    return {s for s in strings if len(s) >= 4 and s not in kept_text}


@pytest.mark.parametrize("name", ["flat_split_drops_key", "hierarchical_create_groups_drops_key"])
def test_no_payload_value_but_the_fields_leaves_in_any_output(name: str) -> None:
    data = _data(name)
    secrets = _secrets(data)
    assert len(secrets) > 20, "the fixture should carry payload strings to hide"
    unredacted = bundle_bytes(bundle_document(data), compress=False).decode("utf-8")
    assert all(s in unredacted or json.dumps(s)[1:-1] in unredacted for s in secrets)
    redacted = redact(data, FIELD)
    result = analyze(redacted, FIELD)
    outputs = {fmt.value: render(Command.TRACE, fmt, result) for fmt in TraceFormat}
    assert "redacted" in outputs["markdown"]
    outputs["bundle"] = bundle_bytes(
        bundle_document(redacted, redacted_field=FIELD), compress=False
    ).decode("utf-8")
    assert json.loads(outputs["bundle"])["redacted_field"] == FIELD
    for label, text in outputs.items():
        shown = sorted(s for s in secrets if s in text or json.dumps(s)[1:-1] in text)
        assert not shown, f"{label} shows payload values: {shown[:5]}"
    # Numbers and booleans too: every leaf of every redacted document is a placeholder, or
    # one of the Lambda identifiers kept on purpose.
    envelope = {
        value
        for trace in result.visits
        if trace.invocation is not None
        for value in (trace.invocation.function, trace.invocation.request_id)
    }
    for event in redacted.events:
        for document in _documents(event):
            for leaf in _leaves(document, FIELD):
                placeholder_text = isinstance(leaf, str) and leaf.startswith("<redacted:")
                assert leaf in (0, False, None) or placeholder_text or leaf in envelope, leaf
                assert leaf is not True


def test_the_lambda_envelope_is_kept() -> None:
    data = _data("flat_split_drops_key")
    before = [t.invocation for t in analyze(data, FIELD).visits]
    after = [t.invocation for t in analyze(redact(data, FIELD), FIELD).visits]
    assert after == before and any(i is not None and i.request_id for i in after)


def test_causes_keep_only_aws_identifiers() -> None:
    cause = json.dumps(
        {
            "errorMessage": "customer 4711 not found",
            "errorType": "KeyError",
            "requestId": "6f7d1c9e-8d3b-4b8e-9f4a-2f7f0c1d2e3f",
            "stackTrace": ["  File handler.py, line 3"],
        }
    )
    event = HistoryEvent.from_api(
        {
            "id": 5,
            "previousEventId": 4,
            "type": "TaskFailed",
            "taskFailedEventDetails": {
                "error": "KeyError",
                "cause": cause,
                "resourceType": "lambda",
            },
        }
    )
    data = ExecutionData(info=_data("flat_intact").info, events=(event,))
    redacted = json.loads(redact(data, FIELD).events[0].cause or "")
    assert redacted == {
        "errorMessage": "<redacted:23 chars>",
        "errorType": "KeyError",
        "requestId": "6f7d1c9e-8d3b-4b8e-9f4a-2f7f0c1d2e3f",
        "stackTrace": ["<redacted:25 chars>"],
    }
    text = (
        "An error occurred while executing the state 'Load' (entered at the event id #7). "
        "The JSONPath '$.secret' could not be found in the input '{\"a\": \"hunter2\"}'"
    )
    plain = dataclasses.replace(event, cause=text)
    redacted_text = redact(dataclasses.replace(data, events=(plain,)), FIELD).events[0].cause
    assert redacted_text is not None and "hunter2" not in redacted_text
    assert redacted_text.startswith(
        "An error occurred while executing the state 'Load' (entered at the event id #7)."
    )


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ('not json but mentions "poll_results_s3_key"', Status.UNKNOWN),
        ('{"cut": "without its flag', Status.UNKNOWN),
        ("plain text", Status.UNKNOWN),  # not JSON: what it holds cannot be known
    ],
)
def test_a_payload_that_is_not_json_keeps_its_status(text: str, status: Status) -> None:
    event = HistoryEvent.from_api(
        {
            "id": 2,
            "previousEventId": 0,
            "type": "PassStateEntered",
            "stateEnteredEventDetails": {"name": "P", "input": text},
        }
    )
    data = ExecutionData(info=_data("flat_intact").info, events=(event,))
    payload = redact(data, FIELD).events[0].input
    assert isinstance(payload, Payload)
    assert snapshot(payload, FIELD, absent="").status is status
    assert snapshot(event.input, FIELD, absent="").status is status
    assert snapshot(event.input, FIELD, absent="").status is status
    assert "plain text" not in payload.text and "cut" not in payload.text


def test_assigned_variables_are_redacted_except_the_field() -> None:
    event = HistoryEvent.from_api(
        {
            "id": 3,
            "previousEventId": 2,
            "type": "PassStateExited",
            "stateExitedEventDetails": {
                "name": "P",
                "output": "{}",
                "assignedVariables": {FIELD: '"s3://b/k"', "user": '{"email": "a@b.c"}'},
            },
        }
    )
    data = ExecutionData(info=_data("flat_intact").info, events=(event,))
    variables = dict(redact(data, FIELD).events[0].assigned_variables or ())
    assert variables[FIELD].text == '"s3://b/k"'
    assert json.loads(variables["user"].text) == {"email": "<redacted:5 chars>"}


REQUEST = "6f7d1c9e-8d3b-4b8e-9f4a-2f7f0c1d2e3f"


def test_log_messages() -> None:
    start = f"START RequestId: {REQUEST} Version: $LATEST"
    assert redact_log_message(start, FIELD) == start
    assert redact_log_message("[INFO] wrote customer 4711\n", FIELD) == "<redacted:26 chars>"
    record = json.dumps({"requestId": REQUEST, "level": "INFO", "message": "hi", FIELD: "k"})
    assert json.loads(redact_log_message(record, FIELD)) == {
        "requestId": REQUEST,
        "level": "INFO",
        "message": "<redacted:2 chars>",
        FIELD: "k",
    }


@pytest.mark.parametrize(
    "line",
    [
        f"START RequestId: {REQUEST} Version: $LATEST\n",
        f"START RequestId: {REQUEST} Version: 12",
        f"END RequestId: {REQUEST}\n",
        f"REPORT RequestId: {REQUEST}\tDuration: 2.30 ms\tBilled Duration: 3 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 39 MB\tInit Duration: 120.52 ms\t\n",
        f"REPORT RequestId: {REQUEST}\tDuration: 718.65 ms\tBilled Duration: 800 ms \t"
        "Memory Size: 128 MB\tMax Memory Used: 14 MB\t\n"
        "XRAY TraceId: 1-5e34a614-10bd0f1fb44f07bc535a1d2e\tSegmentId: 07f5a1b2c3d4e5f6\t"
        "Sampled: true\t\n",
        f"REPORT RequestId: {REQUEST}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout",
    ],
)
def test_platform_lines_with_only_the_platforms_fields_are_kept(line: str) -> None:
    assert redact_log_message(line, FIELD) == line


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            f"START RequestId: {REQUEST} Version: $LATEST card 4111-1111\n",
            f"START RequestId: {REQUEST} Version: $LATEST <redacted:14 chars>",
        ),
        (
            f"END RequestId: {REQUEST} customer=alice@example.com",
            f"END RequestId: {REQUEST} <redacted:26 chars>",
        ),
        (
            f"REPORT RequestId: {REQUEST}\tDuration: 2.30 ms\tpassword: hunter2\t"
            "Memory Size: 128 MB",
            f"REPORT RequestId: {REQUEST}\tDuration: 2.30 ms\t<redacted:37 chars>",
        ),
        (  # a field's value of another shape is not the platform's
            f"START RequestId: {REQUEST} Version: alice@example.com",
            f"START RequestId: {REQUEST} <redacted:26 chars>",
        ),
        (  # text glued to a value
            f"REPORT RequestId: {REQUEST}\tDuration: 2.30 msX",
            f"REPORT RequestId: {REQUEST}\t<redacted:18 chars>",
        ),
        (  # a function's line dressed up as a platform line, without a request id
            "START RequestId: alice@example.com Version: $LATEST",
            "START RequestId: <redacted:34 chars>",
        ),
        (
            f"END RequestId: {REQUEST}-and-more",
            "END RequestId: <redacted:45 chars>",
        ),
    ],
)
def test_text_appended_to_a_platform_line_is_redacted(line: str, redacted: str) -> None:
    assert redact_log_message(line, FIELD) == redacted


def test_json_members_keep_only_values_of_the_platforms_shape() -> None:
    payload = {
        "level": "customer alice@example.com",
        "type": "card 4111-1111-1111-1111",
        "timestamp": "2024-05-01 by alice",
        "time": {"user": "alice"},
        "requestId": "alice@example.com",
        "AWSRequestID": "bob",
        "message": "hello",
    }
    redacted = json.loads(redact_log_message(json.dumps(payload), FIELD))
    assert redacted == {
        "level": "<redacted:26 chars>",
        "type": "<redacted:24 chars>",
        "timestamp": "<redacted:19 chars>",
        "time": {"user": "<redacted:5 chars>"},
        "requestId": "<redacted:17 chars>",
        "AWSRequestID": "<redacted:3 chars>",
        "message": "<redacted:5 chars>",
    }


def test_json_members_of_the_platforms_shape_are_kept() -> None:
    line = {
        "timestamp": "2024-05-01T12:00:00.123Z",
        "level": "WARN",
        "requestId": REQUEST,
        "AWSRequestID": REQUEST,
        "message": {"customer": "alice"},
        "logger": "root",
    }
    assert json.loads(redact_log_message(json.dumps(line), FIELD)) == {
        **line,
        "message": {"customer": "<redacted:5 chars>"},
        "logger": "<redacted:4 chars>",
    }


def test_json_platform_events_keep_their_record_fields_only() -> None:
    report = {
        "time": "2024-05-01T12:00:00.123Z",
        "type": "platform.report",
        "record": {
            "requestId": REQUEST,
            "status": "success",
            "metrics": {"durationMs": 2.3, "billedDurationMs": 3, "maxMemoryUsedMB": 39},
            "note": "appended by someone",
        },
    }
    redacted = json.loads(redact_log_message(json.dumps(report), FIELD))
    assert redacted == {**report, "record": {**report["record"], "note": "<redacted:19 chars>"}}
    start = {
        "time": "2024-05-01T12:00:00Z",
        "type": "platform.start",
        "record": {"requestId": REQUEST, "version": "$LATEST; drop table"},
    }
    redacted = json.loads(redact_log_message(json.dumps(start), FIELD))
    assert redacted["record"] == {"requestId": REQUEST, "version": "<redacted:19 chars>"}
    # Outside a platform event, a record's members are payload.
    fake = {"type": "mine", "record": {"status": "success", "metrics": {"n": 4711}}}
    redacted = json.loads(redact_log_message(json.dumps(fake), FIELD))
    assert redacted == {
        "type": "<redacted:4 chars>",
        "record": {"status": "<redacted:7 chars>", "metrics": {"n": 0}},
    }


def test_lambda_logs_are_redacted_too() -> None:
    from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine

    data = _data("flat_split_drops_key")
    start = f"START RequestId: {REQUEST} Version: $LATEST"
    lines = (LogLine(1, start, "s"), LogLine(2, "secret", "s"))
    logs = LambdaLogs(
        by_attempt={4: InvocationLogs(REQUEST, "/aws/lambda/f", "s", "request_id", lines)}
    )
    redacted = redact(dataclasses.replace(data, lambda_logs=logs), FIELD).lambda_logs
    assert redacted is not None
    messages = [line.message for line in redacted.by_attempt[4].lines]
    assert messages == [start, "<redacted:6 chars>"]
