"""sfn_trace.sources.files.load_history_file: the accepted file shapes, and one clear line for
the rest.

Every unreadable input is an InputError: exit code 2 and a one-line message that names the file.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.errors import ExitCode, InputError
from sfn_trace.model.events import EventKind
from sfn_trace.sources.files import load_history_file, read_json

ARN = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"

EVENTS: list[dict[str, Any]] = [
    {
        "id": 1,
        "previousEventId": 0,
        "timestamp": "2025-11-17T05:48:59.714000+00:00",
        "type": "ExecutionStarted",
        "executionStartedEventDetails": {"input": '{"k": "v"}', "roleArn": "role"},
    },
    {
        "id": 2,
        "previousEventId": 0,
        "timestamp": "2025-11-17T05:48:59.751000+00:00",
        "type": "PassStateEntered",
        "stateEnteredEventDetails": {"name": "P", "input": '{"k": "v"}'},
    },
    {
        "id": 3,
        "previousEventId": 2,
        "timestamp": "2025-11-17T05:48:59.788000+00:00",
        "type": "PassStateExited",
        "stateExitedEventDetails": {"name": "P", "output": '{"k": null}'},
    },
    {
        "id": 4,
        "previousEventId": 3,
        "timestamp": 1763358539.825,
        "type": "ExecutionSucceeded",
        "executionSucceededEventDetails": {"output": '{"k": null}'},
    },
]

DEFINITION = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


def check_loaded(data: Any) -> None:
    assert [e.id for e in data.events] == [1, 2, 3, 4]
    assert [e.kind for e in data.events] == [
        EventKind.EXECUTION_STARTED,
        EventKind.STATE_ENTERED,
        EventKind.STATE_EXITED,
        EventKind.EXECUTION_SUCCEEDED,
    ]
    assert data.info.status == "SUCCEEDED"
    assert data.info.start == datetime(2025, 11, 17, 5, 48, 59, 714000, tzinfo=timezone.utc)
    assert data.info.stop is not None and data.info.stop.year == 2025


def test_aws_cli_form(tmp_path: Path) -> None:
    path = write(tmp_path / "h.json", {"events": EVENTS})
    data = load_history_file(path)
    check_loaded(data)
    assert data.definition is None
    assert data.source == str(path)
    assert data.info.arn is None


def test_aws_cli_form_with_next_token_and_arn(tmp_path: Path) -> None:
    path = write(tmp_path / "h.json", {"events": EVENTS, "nextToken": "t", "executionArn": ARN})
    data = load_history_file(str(path))
    check_loaded(data)
    assert data.info.arn == ARN


def test_bare_list(tmp_path: Path) -> None:
    check_loaded(load_history_file(write(tmp_path / "h.json", EVENTS)))


def test_reversed_order(tmp_path: Path) -> None:
    # get-execution-history --reverse-order
    check_loaded(load_history_file(write(tmp_path / "h.json", {"events": EVENTS[::-1]})))


@pytest.mark.parametrize("name", ["h.json.gz", "h.json"])
def test_gzip(tmp_path: Path, name: str) -> None:
    # recognised by its magic bytes, whatever the file is called
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps({"events": EVENTS}).encode()))
    check_loaded(load_history_file(path))


def test_with_definition(tmp_path: Path) -> None:
    history = write(tmp_path / "h.json", {"events": EVENTS})
    definition = write(tmp_path / "d.json", DEFINITION)
    data = load_history_file(history, definition)
    assert data.definition is not None
    assert set(data.definition.states) == {"P"}


def test_utf8_bom_and_non_ascii(tmp_path: Path) -> None:
    events = [dict(EVENTS[0], executionStartedEventDetails={"input": '{"clé": "日本"}'})]
    path = tmp_path / "h.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(events, ensure_ascii=False).encode("utf-8"))
    data = load_history_file(path)
    assert data.events[0].input is not None
    assert data.events[0].input.value == {"clé": "日本"}
    assert data.info.status is None  # no terminal event: running or cut, the file cannot say


# --- one clear line, exit code 2 --------------------------------------------------------------


def expect_input_error(path: Path, *fragments: str, definition: Path | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_history_file(path, definition)
    error = caught.value
    assert error.exit_code is ExitCode.USAGE
    assert int(error.exit_code) == 2
    assert str(error) == error.message
    assert "\n" not in error.message and error.message.strip() == error.message
    assert len(error.message) < 300
    for fragment in fragments:
        assert fragment in error.message
    return error.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    expect_input_error(path, "not found", str(path))


def test_directory(tmp_path: Path) -> None:
    expect_input_error(tmp_path, "is a directory", str(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    expect_input_error(path, "empty", str(path))


def test_whitespace_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.json"
    path.write_text(" \n\t\r\n  ", encoding="utf-8")
    expect_input_error(path, "empty")


def test_empty_gzip(tmp_path: Path) -> None:
    path = tmp_path / "h.json.gz"
    path.write_bytes(gzip.compress(b"\n"))
    expect_input_error(path, "empty")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"events": [', "line 1"),
        ("events: []", "line 1 column 1"),
        ('{"events": []}\n{"events": []}', "line 2"),
        ('{"events": [1,]}', "line 1"),
        ("<html>Access Denied</html>", "line 1 column 1"),
    ],
)
def test_not_json(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "h.json"
    path.write_text(text, encoding="utf-8")
    expect_input_error(path, "not valid JSON", where, str(path))


def test_json_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    expect_input_error(path, "nested too deeply")


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"executions": []}, 'expected an object with "events"'),
        (DEFINITION, 'expected an object with "events"'),
        ({"events": {"id": 1}}, '"events" must be a list'),
        ({"events": "[]"}, '"events" must be a list'),
        ("just a string", '"events" must be a list'),
        (42, '"events" must be a list'),
        (None, '"events" must be a list'),
        ({"events": [EVENTS[0], "event"]}, "event #2 is not an object"),
        ([EVENTS[0], EVENTS[1], [1, 2]], "event #3 is not an object"),
        ({"events": [{"type": "ExecutionStarted"}]}, "not a history event"),
        ({"events": [{"id": 1}]}, "not a history event"),
        ([{"id": "first", "type": "ExecutionStarted"}], "not a history event"),
    ],
    ids=[
        "dict-without-events",
        "a-definition",
        "events-dict",
        "events-string",
        "top-string",
        "top-number",
        "top-null",
        "event-string",
        "event-list",
        "event-without-id",
        "event-without-type",
        "event-id-not-int",
    ],
)
def test_wrong_shape(tmp_path: Path, document: Any, fragment: str) -> None:
    path = write(tmp_path / "h.json", document)
    expect_input_error(path, fragment)


def test_event_without_id_names_the_file_and_position(tmp_path: Path) -> None:
    path = write(tmp_path / "h.json", {"events": [EVENTS[0], {"type": "PassStateEntered"}]})
    expect_input_error(path, str(path), "#2")


@pytest.mark.parametrize("document", [{"events": []}, []], ids=["cli-form", "list"])
def test_no_events(tmp_path: Path, document: Any) -> None:
    path = write(tmp_path / "h.json", document)
    expect_input_error(path, "no events", str(path))


def test_gzip_cut_in_the_middle(tmp_path: Path) -> None:
    whole = gzip.compress(json.dumps({"events": EVENTS * 20}).encode())
    path = tmp_path / "h.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    expect_input_error(path, "gzip", str(path))


def test_gzip_magic_then_garbage(tmp_path: Path) -> None:
    path = tmp_path / "h.json.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    expect_input_error(path, "gzip")


@pytest.mark.parametrize(
    "content",
    [
        b'{"events": [{"id": 1, "type": "ExecutionStarted", "x": "\xff\xfe"}]}',
        b'{"events": [], "note": "caf\xe9"}',  # latin-1
    ],
    ids=["invalid-bytes", "latin-1"],
)
def test_non_utf8(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "h.json"
    path.write_bytes(content)
    expect_input_error(path, "not UTF-8", str(path))


def test_non_utf8_inside_gzip(tmp_path: Path) -> None:
    path = tmp_path / "h.json.gz"
    path.write_bytes(gzip.compress(b'["\xc3\x28"]'))
    expect_input_error(path, "not UTF-8")


def test_bad_definition_beside_a_good_history(tmp_path: Path) -> None:
    history = write(tmp_path / "h.json", {"events": EVENTS})
    expect_input_error(history, "definition not found", definition=tmp_path / "missing.json")
    not_asl = write(tmp_path / "d.json", {"events": EVENTS})
    expect_input_error(history, "not an Amazon States Language definition", definition=not_asl)


def test_read_json_names_what_it_reads(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^bundle not found"):
        read_json(tmp_path / "x.json", "bundle")
    path = write(tmp_path / "ok.json", {"a": [1, None]})
    assert read_json(path) == {"a": [1, None]}
