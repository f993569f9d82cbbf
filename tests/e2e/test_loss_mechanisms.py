"""Each way a user loses a field, really executed by moto's ASL interpreter, then traced live.

Every test deploys a small state machine into the lab, runs it, and traces the execution
through the real fetch path (GetExecutionHistory over HTTP on 127.0.0.1), so the attribution
and the verdict are checked against histories an interpreter produced, not hand-written ones.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sfn_trace.api import trace_execution
from sfn_trace.model.options import AwsOptions
from sfn_trace.trace import TraceResult, Verdict

pytestmark = pytest.mark.moto_server

F = "poll_results_s3_key"
KEY = "poll_results/8ee0d036/poll_results.json"
INVOKE = "arn:aws:states:::lambda:invoke"


def run_and_trace(lab: Any, definition: dict[str, Any], document: Any) -> TraceResult:
    name = f"loss-{uuid.uuid4().hex[:8]}"
    machine = lab.deploy_state_machine(name, definition)
    arn = lab.run(machine, name=str(uuid.uuid4()), input=document)
    return trace_execution(arn, F, AwsOptions(endpoint_url=lab.endpoint_url, max_attempts=2))


def lambda_task(function: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        **extra,
    }


def where(result: TraceResult) -> tuple[Any, ...]:
    first = result.first_null.visit.scope if result.first_null else None
    lost = result.lost_at.visit.scope if result.lost_at else None
    return result.verdict, first, lost


@pytest.mark.usefixtures("aws_env")
def test_lambda_returning_the_field_as_null(lab: Any) -> None:
    lab.deploy_function("returns-null", lambda event, ctx: {**event, F: None})
    definition = {
        "StartAt": "Enrich",
        "States": {
            "Enrich": lambda_task(
                "returns-null",
                ResultSelector={f"{F}.$": f"$.Payload.{F}"},
                ResultPath="$.enriched",
                Next="Promote",
            ),
            "Promote": {
                "Type": "Pass",
                "Parameters": {f"{F}.$": f"$.enriched.{F}"},
                "End": True,
            },
        },
    }
    result = run_and_trace(lab, definition, {F: KEY})
    assert where(result) == (Verdict.LOST, ("Enrich",), ("Promote",))
    first = result.first_null
    assert first is not None
    assert first.last_value == KEY and first.path == f"$.enriched.{F}"
    # the definition that ran (DescribeStateMachineForExecution) explains it step by step
    assert f'the Lambda result had "{F}": null although its parameters passed' in first.explanation
    assert f'ResultSelector "{F}.$": "$.Payload.{F}"' in first.explanation
    assert [hop.state for hop in result.chain][:2] == ["Promote", "Enrich"]
    assert result.first_null.trace.invocation.function == "returns-null"
    assert result.first_null.trace.invocation.request_id is not None


@pytest.mark.usefixtures("aws_env")
def test_pass_parameters_copying_a_path_that_holds_null(lab: Any) -> None:
    definition = {
        "StartAt": "Remap",
        "States": {
            "Remap": {
                "Type": "Pass",
                "Parameters": {f"{F}.$": f"$.chunked_data.{F}", "other.$": "$.other"},
                "End": True,
            }
        },
    }
    result = run_and_trace(lab, definition, {F: KEY, "chunked_data": {F: None}, "other": 1})
    assert where(result) == (Verdict.LOST, ("Remap",), ("Remap",))
    assert result.first_null.became == "null"
    assert result.first_null.path == f"$.{F}"
    assert result.final.status.value == "null"


@pytest.mark.usefixtures("aws_env")
def test_output_path_keeping_only_a_sub_document(lab: Any) -> None:
    definition = {
        "StartAt": "Narrow",
        "States": {"Narrow": {"Type": "Pass", "OutputPath": "$.chunks", "End": True}},
    }
    result = run_and_trace(lab, definition, {F: KEY, "chunks": {"count": 3}})
    assert where(result) == (Verdict.LOST, ("Narrow",), ("Narrow",))
    assert result.first_null.became == "missing"
    assert result.final.status.value == "missing"


@pytest.mark.usefixtures("aws_env")
def test_result_path_overwriting_the_object_that_held_it(lab: Any) -> None:
    definition = {
        "StartAt": "Overwrite",
        "States": {
            "Overwrite": {
                "Type": "Pass",
                "Result": {"batches": 2},
                "ResultPath": "$.poll_results_data",
                "End": True,
            }
        },
    }
    result = run_and_trace(lab, definition, {"poll_results_data": {F: KEY}})
    assert where(result) == (Verdict.LOST, ("Overwrite",), ("Overwrite",))
    assert result.lost_at.became == "missing"
    assert result.lost_at.last_path == f"$.poll_results_data.{F}"


@pytest.mark.usefixtures("aws_env")
def test_catch_with_result_path_dollar_replaces_the_document(lab: Any) -> None:
    def fails(event: Any, ctx: Any) -> Any:
        raise ValueError("upstream timeout")

    lab.deploy_function("always-fails", fails)
    definition = {
        "StartAt": "Merge",
        "States": {
            "Merge": lambda_task(
                "always-fails",
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "Recover"}],
                Next="Recover",
            ),
            "Recover": {"Type": "Pass", "End": True},
        },
    }
    result = run_and_trace(lab, definition, {F: KEY})
    assert where(result) == (Verdict.LOST, ("Merge",), ("Merge",))
    merge = result.first_null.trace
    assert merge.visit.outcome.value == "caught"
    assert merge.visit.error == "ValueError"
    assert "a Catch replaced its output" in result.first_null.explanation
    assert merge.invocation is not None and merge.invocation.request_id is not None


@pytest.mark.usefixtures("aws_env")
def test_one_map_iteration_out_of_many_losing_it(lab: Any) -> None:
    def convert(event: Any, ctx: Any) -> Any:
        return {**event, F: None if event["n"] == 3 else event[F]}

    lab.deploy_function("convert-item", convert)
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Convert",
                    "States": {
                        "Convert": lambda_task("convert-item", OutputPath="$.Payload", End=True)
                    },
                },
                "ResultPath": "$.converted",
                "End": True,
            }
        },
    }
    items = [{"n": n, F: f"{KEY}#{n}"} for n in range(6)]
    result = run_and_trace(lab, definition, {"items": items})
    assert where(result) == (Verdict.LOST, ("Fan[3]", "Convert"), ("Fan[3]", "Convert"))
    assert result.first_null.visit.map_iteration == 3
    assert result.first_null.last_value == f"{KEY}#3"
    assert result.final.status.value == "mixed"
    iterations = sorted(t.visit.map_iteration for t in result.visits if t.visit.state == "Convert")
    assert iterations == [0, 1, 2, 3, 4, 5]


@pytest.mark.usefixtures("aws_env")
def test_one_parallel_branch_losing_it(lab: Any) -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "KeepIt",
                        "States": {"KeepIt": {"Type": "Pass", "End": True}},
                    },
                    {
                        "StartAt": "DropIt",
                        "States": {
                            "DropIt": {
                                "Type": "Pass",
                                "Parameters": {"count": 1},
                                "Next": "AfterDrop",
                            },
                            "AfterDrop": {"Type": "Pass", "End": True},
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    result = run_and_trace(lab, definition, {F: KEY})
    assert result.verdict is Verdict.INTACT  # branch 0 still carries it in the array
    assert result.first_null is not None
    assert result.first_null.visit.scope == ("Both.Branches[1]", "DropIt")
    assert result.first_null.became == "missing"

    definition["States"]["Both"]["OutputPath"] = "$[1]"
    result = run_and_trace(lab, definition, {F: KEY})
    assert result.verdict is Verdict.LOST
    assert result.first_null.visit.scope == ("Both.Branches[1]", "DropIt")
    assert result.lost_at.visit.scope == ("Both",)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    "definition",
    [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {
            "StartAt": "Copy",
            "States": {
                "Copy": {
                    "Type": "Pass",
                    "Parameters": {f"{F}.$": f"$.{F}", "extra": 1},
                    "Next": "Keep",
                },
                "Keep": {
                    "Type": "Pass",
                    "Result": {"x": 1},
                    "ResultPath": "$.side",
                    "End": True,
                },
            },
        },
        {
            "StartAt": "Fan",
            "States": {
                "Fan": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemSelector": {f"{F}.$": f"$.{F}", "item.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {
                        "StartAt": "Inner",
                        "States": {"Inner": {"Type": "Pass", "End": True}},
                    },
                    "ResultPath": "$.results",
                    "End": True,
                }
            },
        },
    ],
    ids=["pass-through", "copy-and-result-path", "map-item-selector"],
)
def test_intact_runs_raise_no_alarm(lab: Any, definition: dict[str, Any]) -> None:
    result = run_and_trace(lab, definition, {F: KEY, "items": [1, 2, 3]})
    assert result.verdict is Verdict.INTACT
    assert result.first_null is None and result.lost_at is None
    assert result.exit_code == 0
    assert all(t.output.status.value == "set" for t in result.visits if t.visit.exited)
