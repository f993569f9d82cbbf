"""The seed incident served by botocore's Stubber, TestState answering as AWS would.

moto does not implement ``states:TestState``, so the tests of ``--confirm`` stub it: the
answers are computed here by a small reference evaluator of the line-ingest definition's
data flow (JSONPath ``Parameters``, the mocked result, ``ResultSelector``, ``ResultPath``;
simple paths only, which is all that definition uses), written from the Amazon States
Language, not from sfn-trace's replay. Every answer has the service model's shape:
``inspectionData`` members are JSON text, ``status`` one of the model's values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from sfn_trace.model.events import parse_timestamp
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.sources.target import load_target_file
from tests.data import DEFINITION, LINE_INGEST
from tests.stubbing import OverlapStubber

FIELD = "poll_results_s3_key"
REGION = "us-west-2"
SEED = "flat_split_drops_key"
DESCRIBE: dict[str, Any] = json.loads(
    (LINE_INGEST / f"{SEED}.describe.json").read_text(encoding="utf-8")
)
ARN: str = DESCRIBE["executionArn"]
DEFINITION_TEXT = DEFINITION.read_text(encoding="utf-8")
CULPRITS = (
    "SplitIntoChunks",
    "PrepareFinalMerge",
    "FinalMerge",
    "PrepareMarkBatchesComplete",
    "MarkBatchesComplete",
)
"""The seed's culprit states, in execution order: where the field went null, where its last
copy went, and the blame chain."""
TASKS = frozenset({"SplitIntoChunks", "FinalMerge", "MarkBatchesComplete"})


def seed_events() -> list[dict[str, Any]]:
    """The seed history's events as boto3 returns them (timestamps as datetimes)."""
    document = json.loads((LINE_INGEST / f"{SEED}.history.json").read_text(encoding="utf-8"))
    events: list[dict[str, Any]] = document["events"]
    return [{**event, "timestamp": parse_timestamp(event["timestamp"])} for event in events]


def recorded(state: str) -> tuple[str, str | None]:
    """The recorded input of the state's (only) visit, and its task's result text."""
    events = seed_events()
    entered = next(
        i
        for i, e in enumerate(events)
        if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state
    )
    text = events[entered]["stateEnteredEventDetails"]["input"]
    result = None
    for event in events[entered + 1 :]:
        if event["type"].endswith("StateExited"):
            break
        if event["type"] == "TaskSucceeded":
            result = event["taskSucceededEventDetails"]["output"]
    return text, result


# --- the reference evaluator ------------------------------------------------------------------


def _read(path: str, document: Any, context: Mapping[str, Any]) -> Any:
    if path == "$":
        return document
    node: Any = context if path.startswith("$$.") else document
    for part in path[3:].split(".") if path.startswith("$$.") else path[2:].split("."):
        node = node[part]
    return node


def _template(template: Any, document: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(template, dict):
        return {
            (key[:-2] if key.endswith(".$") else key): (
                _read(value, document, context)
                if key.endswith(".$")
                else _template(value, document, context)
            )
            for key, value in template.items()
        }
    return template


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def aws_answer(
    state: str,
    *,
    input_text: str | None = None,
    result_text: str | None = None,
    execution_name: str = DESCRIBE["name"],
) -> dict[str, Any]:
    """TestState's answer for one of the seed's states, as AWS computes its data flow."""
    body = json.loads(DEFINITION_TEXT)["States"][state]
    recorded_input, recorded_result = recorded(state)
    document = json.loads(input_text or recorded_input)
    context = {"Execution": {"Name": execution_name}}
    effective = _template(body["Parameters"], document, context)
    inspection = {
        "input": _text(document),
        "afterInputPath": _text(document),
        "afterParameters": _text(effective),
    }
    if body["Type"] == "Task":
        result = json.loads(result_text or recorded_result or "null")
        inspection["result"] = _text(result)
        selected = _template(body["ResultSelector"], result, context)
        inspection["afterResultSelector"] = _text(selected)
    else:
        selected = effective  # a Pass state's result is what its Parameters made
    path = body.get("ResultPath", "$")
    after = selected if path == "$" else {**document, path[2:]: selected}
    inspection["afterResultPath"] = _text(after)
    answer: dict[str, Any] = {
        "status": "SUCCEEDED",
        "output": _text(after),
        "inspectionData": inspection,
    }
    if "Next" in body:
        answer["nextState"] = body["Next"]
    return answer


def expected_request(state: str) -> dict[str, Any]:
    """What sfn-trace must send for the state: the definition that ran, the recorded input,
    DEBUG, and for a Task its recorded result as the mock (with its context); no roleArn."""
    text, result = recorded(state)
    params: dict[str, Any] = {
        "definition": DEFINITION_TEXT,
        "stateName": state,
        "input": text,
        "inspectionLevel": "DEBUG",
    }
    if state in TASKS:
        assert result is not None
        params["mock"] = {"result": result, "fieldValidationMode": "NONE"}
        params["context"] = ANY
    return params


# --- the stubbed client ------------------------------------------------------------------------


def stepfunctions() -> tuple[Any, Stubber]:
    """A Step Functions client with a Stubber activated (fake credentials, no network); it
    answers by operation and parameters, since the describes and the first history page are
    asked for at once."""
    client = boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = OverlapStubber(client)
    stubber.activate()
    return client, stubber


def stub_execution(stubber: Stubber) -> None:
    """DescribeExecution, DescribeStateMachineForExecution and the history, one page."""
    described = {k: v for k, v in DESCRIBE.items() if k not in ("outputDetails",)}
    for key in ("startDate", "stopDate"):
        described[key] = parse_timestamp(described[key])
    stubber.add_response("describe_execution", described, {"executionArn": ARN})
    stubber.add_response(
        "describe_state_machine_for_execution",
        {
            "stateMachineArn": DESCRIBE["stateMachineArn"],
            "name": DESCRIBE["stateMachineArn"].rsplit(":", 1)[1],
            "definition": DEFINITION_TEXT,
            "roleArn": "arn:aws:iam::123456789012:role/sfn-trace-lab",
            "updateDate": parse_timestamp(DESCRIBE["startDate"]),
        },
        {"executionArn": ARN},
    )
    stubber.add_response(
        "get_execution_history",
        {"events": seed_events()},
        {
            "executionArn": ARN,
            "includeExecutionData": True,
            "reverseOrder": False,
            "maxResults": 1000,
        },
    )


def stub_teststate(
    stubber: Stubber,
    answers: Mapping[str, dict[str, Any]] | None = None,
    states: tuple[str, ...] = CULPRITS,
) -> None:
    """TestState's answers, one per culprit state in execution order (``answers`` replaces
    some), each expecting exactly the request sfn-trace must send."""
    for state in states:
        answer = (answers or {}).get(state) or aws_answer(state)
        stubber.add_response("test_state", answer, expected_request(state))


def seed_data() -> ExecutionData:
    """The seed execution as a live read gives it: the history, the definition that ran and
    DescribeExecution's facts (a history file alone has no execution name)."""
    data = load_target_file(LINE_INGEST / f"{SEED}.history.json", DEFINITION)
    info = ExecutionInfo(
        arn=ARN,
        name=DESCRIBE["name"],
        status=DESCRIBE["status"],
        state_machine_arn=DESCRIBE["stateMachineArn"],
        start=parse_timestamp(DESCRIBE["startDate"]),
        stop=parse_timestamp(DESCRIBE["stopDate"]),
    )
    return dataclasses.replace(data, info=info, source="aws")
