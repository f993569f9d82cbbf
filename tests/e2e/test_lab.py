"""The lab itself (``fixtures/lab.py``) and the committed line-ingest fixtures.

The end-to-end tests trust the lab to behave like the part of AWS they need: ASL really
executed, Lambda results and errors shaped as on AWS, one request id per invocation with its
own CloudWatch lines. These tests pin that down, so a moto upgrade that breaks it fails here
first rather than as a puzzling tracer failure.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.lab import Lab
from fixtures.line_ingest import scenarios
from fixtures.line_ingest.handlers import MARK_COMPLETE
from fixtures.line_ingest.scenarios import FIXTURES, SEED, Fixture
from tests.data import fixture_describe, fixture_history, fixture_logs

INVOKE = "arn:aws:states:::lambda:invoke"
TERMINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def invoke(function: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        **extra,
    }


def events_of(history: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in history if e["type"] == kind]


def details(event: dict[str, Any]) -> dict[str, Any]:
    """The event's one ``*EventDetails`` member ({} for the types that have none)."""
    members = [v for k, v in event.items() if k.endswith("EventDetails")]
    return dict(members[0]) if members else {}


# -- the lab ------------------------------------------------------------------------------


@pytest.mark.moto_server
def test_a_two_state_definition_runs_to_succeeded(lab: Lab) -> None:
    definition = {
        "StartAt": "Shape",
        "States": {
            "Shape": {"Type": "Pass", "Parameters": {"key.$": "$.k"}, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    machine = lab.deploy_state_machine(unique("two-states"), definition)
    arn = lab.run(machine, "first-run", {"k": "v"})

    assert arn == f"{machine.replace(':stateMachine:', ':execution:')}:first-run"
    assert arn.startswith(f"arn:aws:states:us-west-2:{lab.account}:execution:")
    assert lab.describe(arn)["status"] == "SUCCEEDED"
    history = lab.history(arn)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == list(range(1, 7))
    assert json.loads(details(history[-1])["output"]) == {"key": "v"}


@pytest.mark.moto_server
def test_a_handler_result_is_the_task_result_with_its_request_id(lab: Lab) -> None:
    function = unique("echo")
    lab.deploy_function(function, lambda event, context: {"seen": event["x"], "n": 2})
    machine = lab.deploy_state_machine(
        unique("echo-machine"), {"StartAt": "Call", "States": {"Call": invoke(function, End=True)}}
    )
    arn = lab.run(machine, input={"x": "hello"})

    (succeeded,) = events_of(lab.history(arn), "TaskSucceeded")
    result = json.loads(details(succeeded)["output"])
    (invocation,) = lab.invocations_of(function)
    assert result["Payload"] == {"seen": "hello", "n": 2}
    assert result["StatusCode"] == 200
    # AWS's shape (moto alone records only StatusCode and Payload): the request id links
    # the event to the function's log lines.
    assert result["SdkResponseMetadata"] == {"RequestId": invocation.request_id}
    assert result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"] == invocation.request_id
    assert result["ExecutedVersion"] == "$LATEST"
    assert invocation.event == {"x": "hello"}
    assert invocation.result == {"seen": "hello", "n": 2}


@pytest.mark.moto_server
def test_without_aws_metadata_the_task_result_has_motos_bare_shape(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lab, "aws_lambda_metadata", False)
    function = unique("bare")
    lab.deploy_function(function, lambda event, context: "pong")
    machine = lab.deploy_state_machine(
        unique("bare-machine"), {"StartAt": "Call", "States": {"Call": invoke(function, End=True)}}
    )
    arn = lab.run(machine)

    (succeeded,) = events_of(lab.history(arn), "TaskSucceeded")
    result = json.loads(details(succeeded)["output"])
    assert "SdkResponseMetadata" not in result  # moto fidelity gap 5
    assert result["Payload"] == "pong" and result["StatusCode"] == 200


@pytest.mark.moto_server
def test_a_raising_handler_is_a_task_failure_that_catch_handles(lab: Lab) -> None:
    class QuotaExceeded(Exception):
        pass

    def fails(event: dict[str, Any], context: Any) -> None:
        raise QuotaExceeded("too many lines")

    function = unique("fails")
    lab.deploy_function(function, fails)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": invoke(
                function,
                Catch=[
                    {"ErrorEquals": ["QuotaExceeded"], "ResultPath": "$.error", "Next": "Fallback"}
                ],
                End=True,
            ),
            "Fallback": {"Type": "Pass", "End": True},
        },
    }
    machine = lab.deploy_state_machine(unique("catching"), definition)
    arn = lab.run(machine, input={"k": 1})

    history = lab.history(arn)
    (failed,) = events_of(history, "TaskFailed")
    failure = details(failed)
    cause = json.loads(failure["cause"])
    (invocation,) = lab.invocations_of(function)
    assert failure["error"] == "QuotaExceeded"
    assert cause["errorType"] == "QuotaExceeded"
    assert cause["errorMessage"] == "too many lines"
    assert cause["requestId"] == invocation.request_id
    assert any("raise QuotaExceeded" in frame for frame in cause["stackTrace"])
    assert lab.describe(arn)["status"] == "SUCCEEDED"
    assert [details(e)["name"] for e in events_of(history, "PassStateEntered")] == ["Fallback"]
    output = json.loads(details(history[-1])["output"])
    assert output["error"]["Error"] == "QuotaExceeded"


@pytest.mark.moto_server
def test_an_uncaught_handler_error_fails_the_execution(lab: Lab) -> None:
    function = unique("uncaught")
    lab.deploy_function(function, lambda event, context: 1 / 0)
    machine = lab.deploy_state_machine(
        unique("uncaught-machine"),
        {"StartAt": "Call", "States": {"Call": invoke(function, End=True)}},
    )
    arn = lab.run(machine)

    history = lab.history(arn)
    assert lab.describe(arn)["status"] == "FAILED"
    assert details(history[-1])["error"] == "ZeroDivisionError"
    lines = lab.log_lines(f"/aws/lambda/{function}")
    assert any(line.startswith("[ERROR] ZeroDivisionError: division by zero") for line in lines)


@pytest.mark.moto_server
def test_a_function_without_handler_or_without_function_fails_clearly(lab: Lab) -> None:
    orphan = unique("orphan")
    lab.lambda_.create_function(
        FunctionName=orphan,
        Runtime="python3.12",
        Role=lab.role_arn,
        Handler="lambda_function.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    definition = {
        "StartAt": "Orphan",
        "States": {
            "Orphan": invoke(
                orphan,
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e1", "Next": "Missing"}],
                End=True,
            ),
            "Missing": invoke(unique("never-deployed"), End=True),
        },
    }
    arn = lab.run(lab.deploy_state_machine(unique("orphans"), definition))

    errors = [details(e)["error"] for e in events_of(lab.history(arn), "TaskFailed")]
    assert errors == ["LabError", "Lambda.ResourceNotFoundException"]  # the latter as on AWS


@pytest.mark.moto_server
def test_log_lines_carry_the_request_id_in_the_function_log_group(lab: Lab) -> None:
    def chatty(event: dict[str, Any], context: Any) -> str:
        context.logger.info("Found poll_results_s3_key from %s: %s", "primary", event["k"])
        context.print("plain print")
        return "ok"

    text_fn, json_fn = unique("text-logs"), unique("json-logs")
    lab.deploy_function(text_fn, chatty)
    custom_group = f"/custom/{json_fn}"
    lab.deploy_function(json_fn, chatty, log_format="JSON", log_group=custom_group)
    definition = {
        "StartAt": "Text",
        "States": {
            "Text": invoke(text_fn, ResultPath=None, Next="Json"),
            "Json": invoke(json_fn, ResultPath=None, End=True),
        },
    }
    lab.run(lab.deploy_state_machine(unique("logging"), definition), input={"k": "the-key"})

    (text_call,) = lab.invocations_of(text_fn)
    rid = text_call.request_id
    assert text_call.log_group == f"/aws/lambda/{text_fn}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", text_call.log_stream)
    lines = lab.log_lines(text_call.log_group, rid)
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST\n"
    level, timestamp, line_rid, message = lines[1].rstrip("\n").split("\t")
    assert (level, line_rid) == ("[INFO]", rid)
    assert message == "Found poll_results_s3_key from primary: the-key"
    assert timestamp.endswith("Z") and datetime.fromisoformat(timestamp[:-1])
    assert lines[2] == f"END RequestId: {rid}\n"
    assert lines[3].startswith(f"REPORT RequestId: {rid}\tDuration: ")
    assert "\tBilled Duration: " in lines[3] and "\tMemory Size: 128 MB\t" in lines[3]
    # print() has no request id: it is in the stream, not in a request-id filter.
    stream = lab.logs.get_log_events(
        logGroupName=text_call.log_group, logStreamName=text_call.log_stream
    )["events"]
    assert "plain print\n" in [e["message"] for e in stream]

    (json_call,) = lab.invocations_of(json_fn)
    assert json_call.log_group == custom_group
    records = [json.loads(m) for m in lab.log_lines(custom_group) if m.startswith("{")]
    assert [r.get("type") for r in records] == ["platform.start", None, "platform.report"]
    assert records[0]["record"] == {"requestId": json_call.request_id, "version": "$LATEST"}
    assert records[1]["level"] == "INFO" and records[1]["requestId"] == json_call.request_id
    assert records[1]["logger"] == "root"
    assert records[2]["record"]["metrics"]["memorySizeMB"] == 128
    config = lab.lambda_.get_function_configuration(FunctionName=json_fn)
    assert config["LoggingConfig"]["LogGroup"] == custom_group
    assert config["LoggingConfig"]["LogFormat"] == "JSON"


@pytest.mark.moto_server
def test_map_iterations_are_separate_invocations_with_their_own_lines(lab: Lab) -> None:
    def convert(event: dict[str, Any], context: Any) -> dict[str, Any]:
        context.log(f"converting item {event['index']}")
        return {"index": event["index"], "converted": True}

    function = unique("convert")
    lab.deploy_function(function, convert)
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Convert",
                    "States": {"Convert": invoke(function, End=True)},
                },
                "End": True,
            }
        },
    }
    arn = lab.run(
        lab.deploy_state_machine(unique("fan"), definition), input={"items": list("abcde")}
    )

    calls = lab.invocations_of(function)
    request_ids = {c.request_id for c in calls}
    assert len(calls) == 5 and len(request_ids) == 5
    assert sorted(c.event["index"] for c in calls) == [0, 1, 2, 3, 4]
    history = lab.history(arn)
    assert len(events_of(history, "MapIterationSucceeded")) == 5
    recorded = {
        json.loads(details(e)["output"])["SdkResponseMetadata"]["RequestId"]
        for e in events_of(history, "TaskSucceeded")
    }
    assert recorded == request_ids
    for call in calls:
        lines = lab.log_lines(call.log_group, call.request_id)
        assert len(lines) == 4  # START, the handler's line, END, REPORT
        assert f"converting item {call.event['index']}" in lines[1]
        assert all(call.request_id in line for line in lines)


# -- the committed line-ingest fixtures ---------------------------------------------------


def load(path: Path) -> Any:
    return json.loads(path.read_text())


COMMITTED = {"history": fixture_history, "describe": fixture_describe, "logs": fixture_logs}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_committed_fixture_is_a_complete_cli_shaped_history(fixture: Fixture) -> None:
    files = {kind: COMMITTED[kind](fixture.name) for kind in fixture.files}
    events = load(files["history"])["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] in TERMINAL
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(datetime.fromisoformat(e["timestamp"]).utcoffset() is not None for e in events)

    description = load(files["describe"])
    assert description["executionArn"] == fixture.execution_arn
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["input"]) == fixture.input()

    # The expectations name real visits: each finding's event is that state's exit.
    exits = {e["id"]: details(e)["name"] for e in events if e["type"].endswith("StateExited")}
    for finding in (fixture.expected.first_null, fixture.expected.lost_at):
        if finding is not None:
            assert exits[finding.event_id] == finding.state
    visited = set(exits.values())
    assert ("GroupChunksForMerge" in visited) == (fixture.path == "hierarchical")

    # Every Lambda task result names an invocation whose log lines were recorded.
    logs = load(files["logs"])
    by_id = {i["request_id"]: i for i in logs["invocations"]}
    recorded = [
        json.loads(details(e)["output"])["SdkResponseMetadata"]["RequestId"]
        for e in events
        if e["type"] == "TaskSucceeded"
    ]
    assert sorted(recorded) == sorted(by_id)
    (mark,) = [i for i in logs["invocations"] if i["function"] == MARK_COMPLETE]
    assert mark["result"]["batches_marked"] == fixture.expected.batches_marked
    assert any("Starting mark_batches_complete handler" in ln["message"] for ln in mark["lines"])


def test_the_seed_fixture_ends_like_the_incident() -> None:
    events = load(fixture_history(SEED.name))["events"]
    assert json.loads(details(events[-1])["output"]) == {
        "poll_results_s3_bucket": None,
        "poll_results_s3_key": None,
        "poll_results_s3_bucket_fallback": None,
        "poll_results_s3_key_fallback": None,
        "mark_complete_result": {"batches_marked": 0, "batch_ids": []},
    }
    logs = load(fixture_logs(SEED.name))
    (mark,) = [i for i in logs["invocations"] if i["function"] == MARK_COMPLETE]
    # MarkBatchesComplete logs in Lambda's JSON format (to a custom log group)
    assert mark["log_format"] == "JSON"
    messages = [json.loads(line["message"]).get("message") for line in mark["lines"]]
    assert "No poll results to mark as complete" in messages


@pytest.mark.moto_server
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_committed_fixture_matches_a_fresh_run(lab: Lab, fixture: Fixture) -> None:
    """Re-run each scenario: a stale fixture (definition or handlers changed) fails here."""
    fresh_name = str(uuid.uuid4())
    fresh = lab.history(scenarios.run(lab, fixture, execution_name=fresh_name))
    committed = load(fixture_history(fixture.name))["events"]

    def flow(events: list[dict[str, Any]], name: str) -> tuple[Counter[Any], Any]:
        steps = Counter((e["type"], details(e).get("name")) for e in events)
        output = details(events[-1])["output"].replace(name, "<execution>")
        return steps, json.loads(output)

    assert flow(fresh, fresh_name) == flow(committed, fixture.execution_name)
