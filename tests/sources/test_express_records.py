"""sfn_trace.sources.express_records: CloudWatch Logs execution records back into history
events (pure).

Two kinds of input: records written in the real format recorded on AWS
(docs/aws-reference.md section 6, every envelope scalar a string), and Standard histories
re-enveloped into that format (``tests/express_records.py``): the line-ingest fixtures and the
whole recorded corpus must give the same trace from their records as from their history, apart
from the execution facts.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

import pytest

from sfn_trace.errors import ExitCode, InputError
from sfn_trace.model.events import EventKind, HistoryEvent, details_member
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.snapshot import Status
from sfn_trace.report.trace.json import to_document
from sfn_trace.sources.express_records import (
    ExpressLoggingError,
    LoggingConfig,
    filter_pattern,
    log_group_name,
    log_group_region,
    record_to_api,
    records_notes,
    records_to_events,
)
from sfn_trace.sources.files import load_history_file, read_json
from sfn_trace.trace import Verdict, analyze
from tests.data import (
    DEFINITION,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
)
from tests.data import SCENARIOS as SCENARIOS_FILE
from tests.express_records import EXPRESS_ARN, to_messages

FIELD = "poll_results_s3_key"
NEVER_PRESENT = "sfn_trace_field_that_no_history_holds"

# The record of docs/aws-reference.md section 6, as AWS logged it (real logs, LocalStack snapshot).
REAL_ARN = (
    "arn:aws:states:eu-central-1:123456789012:express:SM:execName:"
    "4135929f-08fa-4de4-a5a2-4f1b8bd4ea54"
)


def real(event_id: int, event_type: str, previous: int, ms: int, **details: Any) -> str:
    return json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "details": details,
            "previous_event_id": str(previous),
            "event_timestamp": str(ms),
            "execution_arn": REAL_ARN,
            "redrive_count": "0",
        }
    )


T = 1713959670680


def real_execution(output: str = '{"a":1}', truncated: Any = False) -> list[str]:
    """A Pass-state Express execution in the real record format."""
    return [
        real(1, "ExecutionStarted", 0, T - 3, input='{"a":1}',
             inputDetails={"truncated": False}, roleArn="arn:aws:iam::123456789012:role/r"),
        real(2, "PassStateEntered", 0, T, input='{"a":1}', inputDetails={"truncated": False},
             name="LogInput"),
        real(3, "PassStateExited", 2, T + 2, output=output,
             outputDetails={"truncated": truncated}, name="LogInput"),
        real(4, "ExecutionSucceeded", 3, T + 4, output=output,
             outputDetails={"truncated": truncated}),
    ]  # fmt: skip


def express_data(messages: list[str], arn: str = REAL_ARN, **extra: Any) -> ExecutionData:
    records = records_to_events(messages, arn)
    return ExecutionData(info=infer_info(records.events, arn=arn), events=records.events, **extra)


# --- the real record format -------------------------------------------------------------------


def test_the_reference_record_becomes_the_api_event() -> None:
    (message,) = [m for m in real_execution() if '"PassStateEntered"' in m]
    event = HistoryEvent.from_api(record_to_api(json.loads(message)))
    assert (event.id, event.type, event.kind, event.previous_id) == (
        2,
        "PassStateEntered",
        EventKind.STATE_ENTERED,
        0,
    )
    assert event.name == "LogInput"
    assert event.input is not None and event.input.text == '{"a":1}'
    assert not event.input.truncated
    # epoch milliseconds, exactly (no float rounding)
    assert event.timestamp == datetime(2024, 4, 24, 11, 54, 30, 680000, tzinfo=timezone.utc)


def test_a_real_express_execution_traces() -> None:
    result = analyze(express_data(real_execution()), "a")
    assert result.verdict is Verdict.INTACT
    assert result.execution.status == "SUCCEEDED"
    assert [t.visit.state for t in result.visits] == ["LogInput"]
    assert result.visits[0].input.status is Status.SET


def test_records_are_sorted_by_integer_id_not_text() -> None:
    messages = real_execution()
    extra = [
        real(i, "PassStateEntered" if i % 2 else "PassStateExited", i - 1, T + i, name="P",
             **({"input": "{}"} if i % 2 else {"output": "{}"}))
        for i in range(5, 13)
    ]  # fmt: skip
    shuffled = [*messages, *extra]
    random.Random(6).shuffle(shuffled)
    events = records_to_events(shuffled, REAL_ARN).events
    assert [e.id for e in events] == list(range(1, 13))


@pytest.mark.parametrize("flag", [True, "true", "TRUE"], ids=["bool", "string", "upper"])
def test_truncated_records_make_the_statuses_unknown(flag: Any) -> None:
    result = analyze(express_data(real_execution('{"a":1', truncated=flag)), "a")
    assert result.verdict is Verdict.UNKNOWN
    assert result.exit_code == ExitCode.INCOMPLETE
    (trace,) = result.visits
    assert trace.output.status is Status.UNKNOWN
    assert result.final.status is Status.UNKNOWN


@pytest.mark.parametrize("flag", [False, "false"], ids=["bool", "string"])
def test_untruncated_flags_in_both_spellings(flag: Any) -> None:
    result = analyze(express_data(real_execution(truncated=flag)), "a")
    assert result.verdict is Verdict.INTACT


def test_records_without_execution_data_are_unknown_never_null() -> None:
    # includeExecutionData=false: details lose input/output (ExecutionSucceeded.details == {}).
    messages = [
        real(1, "ExecutionStarted", 0, T, roleArn="arn:aws:iam::123456789012:role/r"),
        real(2, "PassStateEntered", 0, T + 1, name="LogInput"),
        real(3, "PassStateExited", 2, T + 2, name="LogInput"),
        real(4, "ExecutionSucceeded", 3, T + 3),
    ]
    result = analyze(express_data(messages), "a")
    assert result.verdict is Verdict.UNKNOWN
    assert {t.input.status for t in result.visits} == {Status.UNKNOWN}


def test_other_executions_duplicates_and_junk_are_counted_not_traced() -> None:
    messages = real_execution()
    other = json.loads(messages[1])
    other["execution_arn"] = REAL_ARN.replace("execName", "another")
    conflicting = json.loads(messages[2])
    conflicting["details"]["output"] = '{"a":2}'
    records = records_to_events(
        [
            *messages,
            messages[1],  # delivered twice
            json.dumps(other),
            json.dumps(conflicting),
            "START RequestId: not a record",
            '{"id": "x", "type": "PassStateEntered"}',
            "[1, 2]",
        ],
        REAL_ARN,
    )
    assert [e.id for e in records.events] == [1, 2, 3, 4]
    assert records.events[2].output is not None and records.events[2].output.text == '{"a":1}'
    assert (records.duplicates, records.other_executions, records.conflicts) == (1, 1, 1)
    assert records.unreadable == 3
    notes = records_notes(records)
    assert len(notes) == 3 and all("\n" not in n for n in notes)


def test_details_member_names_follow_the_api() -> None:
    assert details_member("TaskStateEntered") == "stateEnteredEventDetails"
    assert details_member("MapStateExited") == "stateExitedEventDetails"
    assert details_member("TaskScheduled") == "taskScheduledEventDetails"
    assert details_member("MapRunFailed") == "mapRunFailedEventDetails"


def test_details_logged_as_json_text_are_read() -> None:
    record = json.loads(real_execution()[1])
    record["details"] = json.dumps(record["details"])
    event = HistoryEvent.from_api(record_to_api(record))
    assert event.name == "LogInput" and event.input is not None


# --- logging configuration -------------------------------------------------------------------

SM = "arn:aws:states:eu-central-1:123456789012:stateMachine:SM"
GROUP_ARN = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/vendedlogs/states/SM:*"


def config(level: str = "ALL", data: bool = True, destinations: bool = True) -> LoggingConfig:
    raw: dict[str, Any] = {"level": level, "includeExecutionData": data}
    if destinations:
        raw["destinations"] = [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}]
    return LoggingConfig.from_api(raw)


def test_logging_all_with_data_is_enough() -> None:
    assert config().problem(SM) is None
    assert config().log_group_arns == (GROUP_ARN,)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (config(level="OFF"), "logging is off"),
        (config(destinations=False), "logging is off"),
        (LoggingConfig.from_api(None), "logging is off"),
        (config(level="ERROR"), "logging level of"),
        (config(level="FATAL"), "is FATAL, which logs failure events only"),
        (config(data=False), "includeExecutionData false"),
    ],
    ids=["off", "no-destination", "absent", "error", "fatal", "no-data"],
)
def test_each_missing_setting_is_one_line_naming_what_is_needed(
    setting: LoggingConfig, expected: str
) -> None:
    problem = setting.problem(SM)
    assert problem is not None and expected in problem
    assert "level ALL with includeExecutionData true" in problem
    assert "\n" not in problem
    assert ExpressLoggingError(problem).exit_code == ExitCode.INCOMPLETE


def test_log_group_names_and_regions() -> None:
    assert log_group_name(GROUP_ARN) == "/aws/vendedlogs/states/SM"
    assert log_group_name(GROUP_ARN[:-2]) == "/aws/vendedlogs/states/SM"
    assert log_group_name("/plain/name") == "/plain/name"
    assert log_group_region(GROUP_ARN) == "eu-central-1"
    assert log_group_region("/plain/name") is None
    with pytest.raises(InputError):
        log_group_name("arn:aws:logs:eu-central-1:123456789012:destination:x")


def test_filter_pattern_selects_one_execution() -> None:
    assert filter_pattern(REAL_ARN) == f'{{ $.execution_arn = "{REAL_ARN}" }}'


# --- re-enveloped Standard histories: the same trace -------------------------------------------


def same_trace(standard: ExecutionData, field: str, *, stringify: bool = False) -> None:
    raw = read_json(standard.source)["events"]
    messages = to_messages(raw, stringify=stringify)
    random.Random(len(messages)).shuffle(messages)  # delivery order is not id order
    express = express_data(
        messages, EXPRESS_ARN, definition=standard.definition, source=standard.source
    )
    assert len(express.events) == len(standard.events)
    expected, got = analyze(standard, field), analyze(express, field)
    assert got.verdict is expected.verdict
    for name in ("first_null", "lost_at"):
        want, have = getattr(expected, name), getattr(got, name)
        assert (have and (have.visit.seq, have.became, have.path)) == (
            want and (want.visit.seq, want.became, want.path)
        ), name
    expected_json, got_json = to_document(expected), to_document(got)
    expected_json.pop("execution")
    got_json.pop("execution")
    assert got_json == expected_json


SCENARIOS = json.loads(SCENARIOS_FILE.read_text())


@pytest.mark.parametrize("stringify", [False, True], ids=["as-logged", "all-strings"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_line_ingest_runs_trace_the_same_from_records(
    scenario: dict[str, Any], stringify: bool
) -> None:
    standard = load_history_file(fixture_history(scenario["name"]), DEFINITION)
    same_trace(standard, scenario.get("field", FIELD), stringify=stringify)
    got = analyze(
        express_data(
            to_messages(read_json(standard.source)["events"]),
            EXPRESS_ARN,
            definition=standard.definition,
        ),
        FIELD,
    )
    expected = scenario["expected"]
    assert got.verdict.value == expected["verdict"]
    assert (got.first_null and got.first_null.visit.state) == (
        expected["first_null"] and expected["first_null"]["state"]
    )


def _fields(standard: ExecutionData) -> list[str]:
    """A field the execution input holds, one its output holds, and one nothing holds."""
    fields: list[str] = []
    for event in (standard.events[0], standard.events[-1]):
        for payload in (event.input, event.output):
            value = payload.value if payload is not None else None
            if isinstance(value, dict) and value:
                fields.append(sorted(value)[0])
    return [*dict.fromkeys(fields), NEVER_PRESENT]


@pytest.mark.parametrize("stringify", [False, True], ids=["as-logged", "all-strings"])
@pytest.mark.parametrize("name", corpus_names())
def test_every_corpus_history_traces_the_same_from_records(name: str, stringify: bool) -> None:
    standard = load_history_file(corpus_history(name), corpus_definition(name))
    for field in _fields(standard):
        same_trace(standard, field, stringify=stringify)
