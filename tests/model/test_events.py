"""sfn_trace.model.events: API dicts -> typed, frozen events; payloads parsed lazily.

Event dicts here are shaped as GetExecutionHistory returns them (docs/aws-reference.md
section 1): one ``*EventDetails`` member per event, payloads as JSON text.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from sfn_trace.errors import ExitCode, InputError
from sfn_trace.model import events as history
from sfn_trace.model.events import (
    NOT_JSON,
    EventKind,
    HistoryEvent,
    Payload,
    events_from_api,
    parse_timestamp,
    state_type_of,
)

TS = "2025-11-17T05:48:59.714000+00:00"


def raw(event_type: str, event_id: int = 2, previous: int = 1, **members: Any) -> dict[str, Any]:
    """An API-style event dict; ``members`` are top-level keys (usually one details member)."""
    return {
        "id": event_id,
        "previousEventId": previous,
        "timestamp": TS,
        "type": event_type,
        **members,
    }


# --- detail members ---------------------------------------------------------------------------


def test_state_entered() -> None:
    event = HistoryEvent.from_api(
        raw(
            "TaskStateEntered",
            stateEnteredEventDetails={
                "name": "Convert",
                "input": '{"a": 1}',
                "inputDetails": {"truncated": False},
            },
        )
    )
    assert event.kind is EventKind.STATE_ENTERED
    assert event.state_type == "Task"
    assert event.name == "Convert"
    assert event.input == Payload('{"a": 1}')
    assert event.input is not None and event.input.value == {"a": 1}
    assert event.output is None
    assert event.data_included is True
    assert (event.id, event.previous_id) == (2, 1)


def test_state_exited_with_assigned_variables() -> None:
    event = HistoryEvent.from_api(
        raw(
            "PassStateExited",
            stateExitedEventDetails={
                "name": "Remember",
                "output": '{"b": null}',
                "outputDetails": {"truncated": False},
                "assignedVariables": {"key": '"s3://bucket/k"', "count": "3"},
                "assignedVariablesDetails": {"truncated": False},
            },
        )
    )
    assert event.kind is EventKind.STATE_EXITED
    assert event.state_type == "Pass"
    assert event.name == "Remember"
    assert event.output == Payload('{"b": null}')
    assert event.assigned_variables == (
        ("key", Payload('"s3://bucket/k"')),
        ("count", Payload("3")),
    )
    assert event.variables_truncated is False


def test_assigned_variables_truncated_and_decoded_values() -> None:
    # Some tools decode variable values into objects: they become JSON text again.
    event = HistoryEvent.from_api(
        raw(
            "PassStateExited",
            stateExitedEventDetails={
                "name": "Remember",
                "output": "{}",
                "assignedVariables": {"obj": {"k": None}, "n": 1},
                "assignedVariablesDetails": {"truncated": True},
            },
        )
    )
    assert event.variables_truncated is True
    assert event.assigned_variables is not None
    values = {name: payload.value for name, payload in event.assigned_variables}
    assert values == {"obj": {"k": None}, "n": 1}


def test_exit_without_assigned_variables() -> None:
    event = HistoryEvent.from_api(
        raw("PassStateExited", stateExitedEventDetails={"name": "P", "output": "{}"})
    )
    assert event.assigned_variables is None
    assert event.variables_truncated is False


def test_task_scheduled_parameters() -> None:
    event = HistoryEvent.from_api(
        raw(
            "TaskScheduled",
            taskScheduledEventDetails={
                "resourceType": "lambda",
                "resource": "invoke",
                "region": "us-east-1",
                "parameters": '{"FunctionName":"f","Payload":{"x":1}}',
                "timeoutInSeconds": 60,
            },
        )
    )
    assert event.kind is EventKind.TASK_SCHEDULED
    assert event.resource_type == "lambda"
    assert event.resource == "invoke"
    assert event.parameters == Payload('{"FunctionName":"f","Payload":{"x":1}}')
    assert event.input is None
    assert event.state_type is None


def test_lambda_function_scheduled_input() -> None:
    event = HistoryEvent.from_api(
        raw(
            "LambdaFunctionScheduled",
            lambdaFunctionScheduledEventDetails={
                "resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "input": '{"x": 1}',
                "inputDetails": {"truncated": False},
            },
        )
    )
    assert event.kind is EventKind.TASK_SCHEDULED
    assert event.input == Payload('{"x": 1}')
    assert event.parameters is None
    assert event.resource == "arn:aws:lambda:us-east-1:123456789012:function:f"


def test_task_succeeded_output() -> None:
    event = HistoryEvent.from_api(
        raw(
            "TaskSucceeded",
            taskSucceededEventDetails={
                "resourceType": "lambda",
                "resource": "invoke",
                "output": '{"Payload": {"k": null}}',
                "outputDetails": {"truncated": False},
            },
        )
    )
    assert event.kind is EventKind.TASK_SUCCEEDED
    assert event.output == Payload('{"Payload": {"k": null}}')
    assert event.data_included is True


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("TaskFailed", EventKind.TASK_FAILED),
        ("TaskTimedOut", EventKind.TASK_FAILED),
        ("LambdaFunctionFailed", EventKind.TASK_FAILED),
        ("ActivityScheduleFailed", EventKind.TASK_FAILED),
        ("ActivitySucceeded", EventKind.TASK_SUCCEEDED),
        ("LambdaFunctionStarted", EventKind.TASK_STARTED),
        ("TaskSubmitted", EventKind.TASK_SUBMITTED),
        ("MapIterationAborted", EventKind.MAP_ITERATION_ENDED),
        ("ParallelStateFailed", EventKind.PARALLEL_FAILED),
        ("MapStateSucceeded", EventKind.MAP_SUCCEEDED),
        ("WaitStateAborted", EventKind.STATE_ABORTED),
        ("FailStateEntered", EventKind.STATE_ENTERED),
    ],
)
def test_kinds(event_type: str, kind: EventKind) -> None:
    assert HistoryEvent.from_api(raw(event_type)).kind is kind


def test_task_failed_error_and_cause() -> None:
    event = HistoryEvent.from_api(
        raw(
            "TaskFailed",
            taskFailedEventDetails={
                "resourceType": "lambda",
                "resource": "invoke",
                "error": "Lambda.ServiceException",
                "cause": "boom",
            },
        )
    )
    assert (event.error, event.cause) == ("Lambda.ServiceException", "boom")


def test_map_iteration_started() -> None:
    event = HistoryEvent.from_api(
        raw("MapIterationStarted", mapIterationStartedEventDetails={"name": "Fan", "index": 3})
    )
    assert event.kind is EventKind.MAP_ITERATION_STARTED
    assert (event.name, event.index) == ("Fan", 3)


def test_map_state_started_length() -> None:
    event = HistoryEvent.from_api(raw("MapStateStarted", mapStateStartedEventDetails={"length": 7}))
    assert event.kind is EventKind.MAP_STARTED
    assert event.length == 7
    # a length of 0 (distributed Map with ItemReader) is a value, not "absent"
    zero = HistoryEvent.from_api(raw("MapStateStarted", mapStateStartedEventDetails={"length": 0}))
    assert zero.length == 0


def test_map_run_started_arn() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:mapRun:sm/label:uuid"
    event = HistoryEvent.from_api(
        raw("MapRunStarted", mapRunStartedEventDetails={"mapRunArn": arn})
    )
    assert event.kind is EventKind.MAP_RUN
    assert event.map_run_arn == arn


def test_map_run_redriven() -> None:
    event = HistoryEvent.from_api(
        raw("MapRunRedriven", mapRunRedrivenEventDetails={"mapRunArn": "arn:x", "redriveCount": 2})
    )
    assert event.kind is EventKind.MAP_RUN
    assert (event.map_run_arn, event.redrive_count) == ("arn:x", 2)


def test_evaluation_failed() -> None:
    event = HistoryEvent.from_api(
        raw(
            "EvaluationFailed",
            previous=0,
            evaluationFailedEventDetails={
                "error": "States.QueryEvaluationError",
                "cause": "The JSONata expression '$x' returned nothing",
                "location": "Arguments",
                "state": "State0",
            },
        )
    )
    assert event.kind is EventKind.EVALUATION_FAILED
    assert event.name == "State0"
    assert event.location == "Arguments"
    assert event.error == "States.QueryEvaluationError"
    assert event.cause == "The JSONata expression '$x' returned nothing"
    assert event.previous_id == 0


def test_execution_redriven() -> None:
    event = HistoryEvent.from_api(
        raw("ExecutionRedriven", executionRedrivenEventDetails={"redriveCount": 1})
    )
    assert event.kind is EventKind.EXECUTION_REDRIVEN
    assert event.redrive_count == 1


def test_execution_started_and_succeeded_payloads() -> None:
    started = HistoryEvent.from_api(
        raw(
            "ExecutionStarted",
            event_id=1,
            previous=0,
            executionStartedEventDetails={"input": '{"k": 1}', "roleArn": "r"},
        )
    )
    succeeded = HistoryEvent.from_api(
        raw("ExecutionSucceeded", executionSucceededEventDetails={"output": '{"k": 2}'})
    )
    assert started.kind is EventKind.EXECUTION_STARTED
    assert started.input == Payload('{"k": 1}')
    assert succeeded.kind is EventKind.EXECUTION_SUCCEEDED
    assert succeeded.output == Payload('{"k": 2}')


def test_events_without_details_member() -> None:
    event = HistoryEvent.from_api(raw("MapStateSucceeded"))
    assert event.kind is EventKind.MAP_SUCCEEDED
    assert event.name is None and event.input is None and event.output is None
    assert event.data_included is True  # nothing to include


def test_decoded_payload_becomes_text_again() -> None:
    event = HistoryEvent.from_api(
        raw(
            "PassStateEntered",
            stateEnteredEventDetails={"name": "P", "input": {"a": None, "é": [1]}},
        )
    )
    assert event.input is not None
    assert json.loads(event.input.text) == {"a": None, "é": [1]}
    assert event.input.value == {"a": None, "é": [1]}


def test_unknown_event_type_is_kept() -> None:
    event = HistoryEvent.from_api(
        raw("QuantumStateCollapsed", quantumStateCollapsedEventDetails={"name": "Q", "input": "1"})
    )
    assert event.kind is EventKind.UNKNOWN
    assert event.type == "QuantumStateCollapsed"
    assert event.id == 2
    assert event.name == "Q"
    assert event.data_included is True


def test_events_are_frozen() -> None:
    event = HistoryEvent.from_api(raw("PassStateEntered"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.id = 3  # type: ignore[misc]


def test_state_type_of() -> None:
    assert state_type_of("MapStateExited") == "Map"
    assert state_type_of("WaitStateAborted") == "Wait"
    assert state_type_of("TaskScheduled") is None
    assert state_type_of("StateEntered") is None


def test_previous_event_id_missing_or_null_is_root() -> None:
    no_previous = {"id": 1, "type": "ExecutionStarted"}
    assert HistoryEvent.from_api(no_previous).previous_id == 0
    assert HistoryEvent.from_api({**no_previous, "previousEventId": None}).previous_id == 0
    assert HistoryEvent.from_api({**no_previous, "previousEventId": "x"}).previous_id == 0


def test_integer_strings_are_accepted() -> None:
    event = HistoryEvent.from_api(
        {
            "id": "7",
            "previousEventId": "6",
            "type": "MapIterationStarted",
            "mapIterationStartedEventDetails": {"name": "M", "index": "2"},
        }
    )
    assert (event.id, event.previous_id, event.index) == (7, 6, 2)


# --- timestamps -------------------------------------------------------------------------------

EPOCH = 1_700_000_000.5
EPOCH_DT = datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (TS, datetime(2025, 11, 17, 5, 48, 59, 714000, tzinfo=timezone.utc)),
        (
            "2025-11-17T07:48:59.714+02:00",
            datetime(2025, 11, 17, 5, 48, 59, 714000, tzinfo=timezone.utc),
        ),
        ("2025-11-17T05:48:59Z", datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc)),
        ("2025-11-17T05:48:59.714Z", datetime(2025, 11, 17, 5, 48, 59, 714000, timezone.utc)),
        ("2025-11-17T05:48:59", datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc)),
        (EPOCH, EPOCH_DT),
        (1_700_000_000, EPOCH_DT - timedelta(microseconds=500000)),
        (str(EPOCH), EPOCH_DT),
        (datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ],
)
def test_timestamps(value: Any, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


def test_aware_datetime_keeps_its_offset() -> None:
    tz = timezone(timedelta(hours=-7))
    value = datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)
    assert parse_timestamp(value) is value


@pytest.mark.parametrize(
    "value",
    [None, "", "yesterday", "2025-13-45T99:00:00Z", True, float("nan"), 1e300, {"t": 1}, [1]],
    ids=["none", "empty", "word", "bad-date", "bool", "nan", "huge", "dict", "list"],
)
def test_garbage_timestamps_are_none(value: Any) -> None:
    assert parse_timestamp(value) is None


def test_timestamp_on_event() -> None:
    event = HistoryEvent.from_api({**raw("PassStateEntered"), "timestamp": EPOCH})
    assert event.timestamp == EPOCH_DT
    garbage = HistoryEvent.from_api({**raw("PassStateEntered"), "timestamp": "not a time"})
    assert garbage.timestamp is None
    missing = {"id": 1, "type": "ExecutionStarted"}
    assert HistoryEvent.from_api(missing).timestamp is None


# --- payloads ---------------------------------------------------------------------------------


def test_payload_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting_loads(text: str) -> Any:
        calls.append(text)
        return json.loads(text)

    monkeypatch.setattr(
        history, "jsontext", SimpleNamespace(loads=counting_loads, dumps=json.dumps)
    )
    payload = Payload('{"a": [1, 2]}')
    assert calls == []  # nothing parsed on construction
    first = payload.value
    second = payload.value
    assert first == {"a": [1, 2]}
    assert second is first
    assert calls == ['{"a": [1, 2]}']


def test_payload_not_json_is_kept_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting_loads(text: str) -> Any:
        calls.append(text)
        return json.loads(text)

    monkeypatch.setattr(
        history, "jsontext", SimpleNamespace(loads=counting_loads, dumps=json.dumps)
    )
    payload = Payload("{not json")
    assert payload.value is NOT_JSON
    assert payload.value is NOT_JSON
    assert len(calls) == 1  # the failure is remembered too
    assert payload.text == "{not json"
    assert repr(NOT_JSON) == "NOT_JSON"


def test_payload_json_null_is_not_not_json() -> None:
    assert Payload("null").value is None
    assert Payload('"text"').value == "text"


def test_payload_equality_and_repr() -> None:
    assert Payload("{}") == Payload("{}")
    assert Payload("{}") != Payload("{}", truncated=True)
    assert hash(Payload("{}")) == hash(Payload("{}"))
    assert "truncated" in repr(Payload("{}", truncated=True))
    long = repr(Payload('{"k": "' + "x" * 200 + '"}'))
    assert long.endswith("...')") and len(long) < 100


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('{"poll_results_s3_key": null}', "poll_results_s3_key", True),
        ('{"a": {"b": 1}}', "b", True),
        ('{"other": 1}', "poll_results_s3_key", False),
        ('{"Fx": 1, "xF": 2}', "F", False),  # a longer key containing the name is not the name
        ('{"a b": 1}', "a b", True),
        ('{"a\\"b": 1}', 'a"b', True),  # a quote in the key, escaped in JSON
        ('{"\\u0046": 1}', "F", True),  # "F" spelled with a \u escape: must force the parse
        ('{"x": "\\u00e9"}', "zzz", True),  # any \u escape forces the parse
    ],
)
def test_may_contain_key(text: str, key: str, expected: bool) -> None:
    payload = Payload(text)
    assert payload.may_contain_key(key) is expected
    if expected is False:
        # "False" is a promise: the parsed document really has no such member
        assert key not in _all_keys(payload.value)


def _all_keys(document: Any) -> set[str]:
    keys: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            keys.update(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return keys


def test_escaped_key_is_found_after_the_parse() -> None:
    payload = Payload('{"\\u0046": 1}')
    assert payload.may_contain_key("F")
    assert payload.value == {"F": 1}


def test_may_contain_key_non_ascii_key_in_raw_utf8() -> None:
    # AWS payloads carry raw UTF-8, not \u escapes
    assert Payload('{"clé": 1}').may_contain_key("clé")
    assert Payload('{"日本": 1}').may_contain_key("日本")
    assert not Payload('{"cle": 1}').may_contain_key("clé")


def test_may_contain_key_escaped_slash() -> None:
    payload = Payload('{"a\\/b": 1}')
    assert payload.value == {"a/b": 1}
    assert payload.may_contain_key("a/b")


# --- truncation and includeExecutionData ------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), ("false", False), (None, False)],
)
def test_truncated_flags(flag: Any, expected: bool) -> None:
    event = HistoryEvent.from_api(
        raw(
            "TaskStateExited",
            stateExitedEventDetails={
                "name": "T",
                "output": "{}",
                "outputDetails": {"truncated": flag},
                "assignedVariables": {"v": "1"},
                "assignedVariablesDetails": {"truncated": flag},
            },
        )
    )
    assert event.output is not None
    assert event.output.truncated is expected
    assert event.variables_truncated is expected


def test_input_truncated_flag() -> None:
    event = HistoryEvent.from_api(
        raw(
            "PassStateEntered",
            stateEnteredEventDetails={
                "name": "P",
                "input": '{"a":',
                "inputDetails": {"truncated": "true"},
            },
        )
    )
    assert event.input == Payload('{"a":', truncated=True)


@pytest.mark.parametrize(
    ("event_type", "member"),
    [
        ("ExecutionStarted", "executionStartedEventDetails"),
        ("ExecutionSucceeded", "executionSucceededEventDetails"),
        ("PassStateEntered", "stateEnteredEventDetails"),
        ("PassStateExited", "stateExitedEventDetails"),
        ("TaskSucceeded", "taskSucceededEventDetails"),
        ("LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails"),
    ],
)
def test_execution_data_not_included(event_type: str, member: str) -> None:
    # includeExecutionData=false: the details member is there, without input/output
    details: dict[str, Any] = {"name": "S"} if "State" in event_type else {}
    event = HistoryEvent.from_api(raw(event_type, **{member: details}))
    assert event.data_included is False
    assert event.input is None and event.output is None


def test_data_included_for_events_without_payloads() -> None:
    event = HistoryEvent.from_api(raw("TaskStarted", taskStartedEventDetails={}))
    assert event.data_included is True
    present = HistoryEvent.from_api(
        raw("PassStateEntered", stateEnteredEventDetails={"name": "P", "input": ""})
    )
    assert present.data_included is True
    assert present.input == Payload("")
    assert present.input is not None and present.input.value is NOT_JSON


# --- not events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"type": "PassStateEntered"},
        {"id": 1},
        {"id": None, "type": "PassStateEntered"},
        {"id": "one", "type": "PassStateEntered"},
        {"id": [1], "type": "PassStateEntered"},
        {},
    ],
    ids=["no-id", "no-type", "null-id", "text-id", "list-id", "empty"],
)
def test_not_an_event(value: dict[str, Any]) -> None:
    with pytest.raises(InputError) as caught:
        HistoryEvent.from_api(value)
    assert caught.value.exit_code is ExitCode.USAGE
    assert "not a history event" in caught.value.message
    assert "\n" not in caught.value.message


def test_not_an_event_message_is_brief() -> None:
    with pytest.raises(InputError) as caught:
        HistoryEvent.from_api({"type": "X", "blob": "y" * 10_000})
    assert len(caught.value.message) < 200


# --- events_from_api --------------------------------------------------------------------------


def test_events_from_api_sorts_by_id() -> None:
    events = [
        raw("ExecutionSucceeded", event_id=4, previous=3),
        raw("PassStateExited", event_id=3, previous=2),
        raw("PassStateEntered", event_id=2, previous=0),
        raw("ExecutionStarted", event_id=1, previous=0),
    ]
    converted = events_from_api(events)
    assert isinstance(converted, tuple)
    assert [e.id for e in converted] == [1, 2, 3, 4]
    assert [e.type for e in converted] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_events_from_api_accepts_any_iterable_and_empty() -> None:
    assert events_from_api(iter([])) == ()
    converted = events_from_api(raw("PassStateEntered", event_id=i) for i in (3, 1, 2))
    assert [e.id for e in converted] == [1, 2, 3]


def test_events_from_api_rejects_a_non_event() -> None:
    with pytest.raises(InputError) as caught:
        events_from_api([raw("ExecutionStarted", event_id=1), {"type": "PassStateEntered"}])
    assert "#2" in caught.value.message  # which event, counted from 1 in the input
    assert "not a history event" in caught.value.message
