"""The context object (asl/context.py), checked against what AWS recorded in ``$$``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sfn_trace.asl.context import execution_context, iso, known, visit_context
from sfn_trace.asl.jsonpath import is_unknown
from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import Payload, events_from_api, parse_timestamp
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.replay import ReplayStatus
from sfn_trace.model.visits import Visit
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history
from tests.history_builder import History


def recorded(name: str) -> tuple[list[Visit], Payload | None]:
    data = load_history_file(corpus_history(name), corpus_definition(name))
    tree = build_visits(data.events, data.definition)
    return list(tree.visits), tree.execution_input


def test_a_pass_state_has_no_retry_count_and_no_task_as_aws_recorded() -> None:
    visits, execution_input = recorded("test_base__test_query_context_object_values")
    visit = visits[0]
    assert visit.output is not None
    aws = visit.output.value["query_values_1"]["context_object"]
    info = ExecutionInfo(arn=aws["Execution"]["Id"])
    context = visit_context(visit, execution_context(execution_input, info))
    assert context.keys() == aws.keys()  # no Task outside a Task state
    assert context["State"].keys() == aws["State"].keys() == {"Name", "EnteredTime"}
    assert context["State"]["Name"] == aws["State"]["Name"]
    assert context["StateMachine"] == aws["StateMachine"]
    execution = context["Execution"]
    assert execution.keys() == aws["Execution"].keys()
    for member in ("Id", "Input", "Name"):
        assert execution[member] == aws["Execution"][member]
    # Without the ExecutionStarted event's roleArn, the role is unknown, never a guess
    assert is_unknown(execution["RoleArn"])
    assert execution["RedriveCount"] == aws["Execution"]["RedriveCount"] == 0


def test_a_service_task_counts_its_retries_and_has_no_task_token() -> None:
    visits, execution_input = recorded(
        "test_base_scenarios__test_lambda_service_invoke_with_retry_extended_input"
    )
    task = next(v for v in visits if v.type == "Task")
    assert len(task.attempts) == 4
    info = ExecutionInfo(arn="arn:aws:states:us-east-1:111111111111:execution:sm:run")
    resource = "arn:aws:states:::lambda:invoke"  # the definition's
    context = visit_context(task, execution_context(execution_input, info), resource)
    for number, attempt in enumerate(task.attempts):
        assert attempt.parameters is not None
        aws = attempt.parameters.value["Payload"]["ThisContextObject"]
        assert "Task" not in aws and aws["State"]["RetryCount"] == number
    assert "Task" not in context and context["State"]["RetryCount"] == 3
    assert context["State"].keys() == aws["State"].keys()


def test_a_task_waiting_for_a_token_has_an_unknown_token() -> None:
    visits, _ = recorded("test_base__test_query_context_object_values")
    task = dataclasses.replace(visits[0], type="Task")
    waits = visit_context(task, {}, "arn:aws:states:::sqs:sendMessage.waitForTaskToken")
    assert is_unknown(waits["Task"]["Token"])
    assert "Task" not in visit_context(task, {}, "arn:aws:states:::sqs:sendMessage")
    # an activity or a Lambda ARN: whether AWS gives a token there is not recorded
    assert "Task" in visit_context(task, {}, "arn:aws:states:us-east-1:1:activity:work")


def test_a_truncated_execution_input_is_unknown() -> None:
    cut = Payload('{"a": 1}', truncated=True)
    assert is_unknown(execution_context(cut, None)["Execution"]["Input"])
    assert execution_context(Payload('{"a": 1}'), None)["Execution"]["Input"] == {"a": 1}


def test_names_and_times_come_from_the_arn_and_the_start() -> None:
    start = parse_timestamp("2026-01-02T03:04:05.678901+01:00")
    assert start is not None
    info = ExecutionInfo(
        arn="arn:aws:states:eu-west-1:111111111111:execution:Machine:run-7", start=start
    )
    context = execution_context(None, info)
    assert context["Execution"]["Name"] == "run-7"
    assert context["Execution"]["StartTime"] == iso(start) == "2026-01-02T02:04:05.678Z"
    assert context["StateMachine"] == {
        "Id": "arn:aws:states:eu-west-1:111111111111:stateMachine:Machine",
        "Name": "Machine",
    }


def test_known_leaves_out_what_cannot_be_seen() -> None:
    context: dict[str, Any] = execution_context(Payload('{"x": {"Input": 1}}'), None)
    assert known(context) == {"Execution": {"Input": {"x": {"Input": 1}}}}


QUERY = "test_base__test_query_context_object_values"


def test_the_role_and_the_redrive_count_are_what_aws_recorded() -> None:
    """``executionStartedEventDetails.roleArn`` is ``$$.Execution.RoleArn``; a run never
    redriven has ``RedriveCount`` 0 and no ``RedriveTime`` (both visits of the recording)."""
    data = load_history_file(corpus_history(QUERY), corpus_definition(QUERY))
    tree = build_visits(data.events, data.definition)
    assert tree.role_arn == "snf_role_arn"
    for visit in tree.visits:
        assert visit.output is not None and visit.redrive_count == 0
        key = "query_values_1" if visit.state == "QueryValues1" else "query_values_2"
        aws = visit.output.value[key]["context_object"]
        info = ExecutionInfo(arn=aws["Execution"]["Id"])
        execution = execution_context(tree.execution_input, info, role_arn=tree.role_arn)
        context = visit_context(visit, execution)["Execution"]
        assert context.keys() == aws["Execution"].keys()  # no RedriveTime
        assert context["RoleArn"] == aws["Execution"]["RoleArn"] == "snf_role_arn"
        assert context["RedriveCount"] == aws["Execution"]["RedriveCount"] == 0


def test_a_replay_reading_the_role_matches_aws_but_for_the_corpus_redaction() -> None:
    """QueryValues1 reads every member of ``$$``; with the execution's ARN, the replay makes
    what AWS recorded, but for the two timestamps the corpus replaced by placeholders."""
    data = load_history_file(corpus_history(QUERY), corpus_definition(QUERY))
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    visit = tree.visits[0]
    assert visit.output is not None
    aws = visit.output.value
    start = data.events[0].timestamp  # ExecutionStarted's, not the state's entry
    assert start is not None and start != visit.entered.timestamp
    info = ExecutionInfo(arn=aws["query_values_1"]["execution_id"], start=start)
    replay = replay_visits(tree, data.definition, info)[visit.seq]
    made = replay.step("ResultPath")
    assert made is not None
    redacted = json.loads(
        json.dumps(made.value)
        .replace(iso(start), "start-time")
        .replace(iso(visit.entered.timestamp), "entered-time")  # type: ignore[arg-type]
    )
    assert redacted == aws
    assert made.value["query_values_1"]["execution_rolearn"] == "snf_role_arn"


def _redriven() -> list[Any]:
    """A run that fails in Work, is redriven twice, and reads the redrive count in a Pass
    state before and after (Parameters {"count.$": "$$.Execution.RedriveCount"}). The
    shape only: no recorded history holds a redrive; what the count is comes from AWS's
    page (ExecutionRedrivenEventDetails.redriveCount: the times the execution was redriven)."""
    history = History()
    history.start({"a": 1})
    history.pass_state("Count", {"a": 1}, {"a": 1, "count": 0})
    for redrive in (1, 2):
        history.add("FailStateEntered", name="Work", input={"a": 1, "count": 0})
        history.add("ExecutionFailed", error="Boom", cause="")
        history.add("ExecutionRedriven", redriveCount=redrive)
    history.pass_state("Again", {"a": 1}, {"a": 1, "count": 2})
    history.succeed({"a": 1, "count": 2})
    return history.events


REDRIVE_DEFINITION = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Pass",
            "Parameters": {"a.$": "$.a", "count.$": "$$.Execution.RedriveCount"},
            "Next": "Work",
        },
        "Work": {"Type": "Fail", "Error": "Boom"},
        "Again": {
            "Type": "Pass",
            "Parameters": {"a.$": "$.a", "count.$": "$$.Execution.RedriveCount"},
            "End": True,
        },
    },
}


def test_the_redrive_count_is_the_one_when_the_visit_was_entered() -> None:
    events = events_from_api(_redriven())
    definition = Definition.from_text(json.dumps(REDRIVE_DEFINITION))
    tree = build_visits(events, definition)
    counts = {v.state: v.redrive_count for v in tree.visits if v.type == "Pass"}
    assert counts == {"Count": 0, "Again": 2}
    replays = replay_visits(tree, definition)
    passes = [replays[v.seq] for v in tree.visits if v.type == "Pass"]
    assert [r.status for r in passes] == [ReplayStatus.MATCH, ReplayStatus.MATCH]
    redriven = visit_context(tree.visits[-1], execution_context(None, None))["Execution"]
    assert redriven["RedriveCount"] == 2 and is_unknown(redriven["RedriveTime"])


def test_without_the_execution_start_the_redrive_count_is_unknown() -> None:
    """A history cut before its ExecutionStarted may have lost redrives: not a guessed 0."""
    events = events_from_api(_redriven()[1:])
    tree = build_visits(events, Definition.from_text(json.dumps(REDRIVE_DEFINITION)))
    assert tree.role_arn is None
    first = tree.visits[0]
    assert first.redrive_count is None
    context = visit_context(first, execution_context(None, None))["Execution"]
    assert is_unknown(context["RedriveCount"]) and is_unknown(context["RoleArn"])
