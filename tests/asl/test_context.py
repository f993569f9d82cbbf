"""The context object (asl/context.py), checked against what AWS recorded in ``$$``."""

from __future__ import annotations

import dataclasses
from typing import Any

from sfn_trace.asl.context import execution_context, iso, known, visit_context
from sfn_trace.asl.jsonpath import is_unknown
from sfn_trace.model.events import Payload, parse_timestamp
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.visits import Visit
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history


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
    # AWS knows these; the visit tree does not carry them: unknown, never a guess
    assert is_unknown(execution["RoleArn"]) and is_unknown(execution["RedriveCount"])


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
