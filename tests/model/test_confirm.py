"""The TestState request's one gate: nothing that would run a state's work leaves unmocked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_trace.model.confirm import (
    Exchange,
    Mock,
    StateTestAnswer,
    StateTestRequest,
    UnmockedStateError,
)

DEFINITION = json.dumps(
    {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Fan"},
            "Fan": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "End": True,
                        }
                    },
                },
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
                "Next": "Shape",
            },
            "Shape": {"Type": "Pass", "End": True},
        },
    }
)


@pytest.mark.parametrize("state", ["Call", "Inner", "Fan", "Both"])
def test_a_state_that_would_run_work_is_never_built_without_a_mock(state: str) -> None:
    with pytest.raises(UnmockedStateError, match="without a mock"):
        StateTestRequest(DEFINITION, state, "{}")
    with pytest.raises(UnmockedStateError, match="without a mock"):
        StateTestRequest(DEFINITION, state, "{}", context='{"State": {}}')


def test_a_mocked_task_is_built_with_its_mock_context_and_retries() -> None:
    request = StateTestRequest(
        DEFINITION,
        "Call",
        '{"a": 1}',
        mock=Mock(error="Lambda.Unknown", cause="boom"),
        context='{"State": {"Name": "Call"}}',
        variables='{"x": 1}',
        retrier_retry_count=2,
    )
    assert request.state_type == "Task"
    assert request.api_params() == {
        "definition": DEFINITION,
        "stateName": "Call",
        "input": '{"a": 1}',
        "inspectionLevel": "DEBUG",
        "mock": {"errorOutput": {"error": "Lambda.Unknown", "cause": "boom"}},
        "context": '{"State": {"Name": "Call"}}',
        "variables": '{"x": 1}',
        "stateConfiguration": {"retrierRetryCount": 2},
    }
    assert "roleArn" not in request.api_params()
    result = StateTestRequest(DEFINITION, "Call", "{}", mock=Mock(result='{"Payload": 1}'))
    assert result.api_params()["mock"] == {
        "result": '{"Payload": 1}',
        "fieldValidationMode": "NONE",
    }


def test_what_teststate_would_refuse_is_not_built() -> None:
    with pytest.raises(UnmockedStateError, match="no mock for a Pass"):
        StateTestRequest(DEFINITION, "Shape", "{}", mock=Mock(result="{}"))
    with pytest.raises(UnmockedStateError, match="context only with a mock"):
        StateTestRequest(DEFINITION, "Shape", "{}", context="{}")
    with pytest.raises(UnmockedStateError, match="no state named"):
        StateTestRequest(DEFINITION, "Missing", "{}")
    with pytest.raises(UnmockedStateError, match="retry count"):
        StateTestRequest(DEFINITION, "Call", "{}", mock=Mock(result="{}"), retrier_retry_count=1)
    with pytest.raises(UnmockedStateError, match="not a definition TestState can read"):
        StateTestRequest("{not json", "Call", "{}", mock=Mock(result="{}"))
    with pytest.raises(UnmockedStateError, match="either a result or an error"):
        Mock()
    with pytest.raises(UnmockedStateError, match="either a result or an error"):
        Mock(result="{}", error="E")
    # A Pass state needs nothing: no mock, no context.
    assert StateTestRequest(DEFINITION, "Shape", "{}").api_params()["stateName"] == "Shape"


def test_the_fingerprint_names_the_request() -> None:
    one = StateTestRequest(DEFINITION, "Call", "{}", mock=Mock(result="{}"))
    same = StateTestRequest(DEFINITION, "Call", "{}", mock=Mock(result="{}"))
    other = StateTestRequest(DEFINITION, "Call", '{"a":1}', mock=Mock(result="{}"))
    assert one.fingerprint == same.fingerprint != other.fingerprint
    assert len(one.fingerprint) == 64


def test_an_exchange_round_trips_through_json() -> None:
    answer = StateTestAnswer.from_api(
        {
            "status": "CAUGHT_ERROR",
            "output": '{"e": 1}',
            "error": "E",
            "cause": "c",
            "nextState": "Next",
            "inspectionData": {"input": "{}", "afterInputPath": "{}", "request": {"url": "x"}},
        }
    )
    assert answer.inspection == {"input": "{}", "afterInputPath": "{}"}
    exchange = Exchange("S", 3, "f" * 64, answer)
    assert Exchange.from_json(json.loads(json.dumps(exchange.as_json()))) == exchange
    failed = Exchange("S", 3, "f" * 64, None, "access denied")
    assert Exchange.from_json(failed.as_json()) == failed
    broken: Any
    for broken in ([], {"state": "S"}, {**failed.as_json(), "seq": "3"}):
        with pytest.raises(ValueError):
            Exchange.from_json(broken)
