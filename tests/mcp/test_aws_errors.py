"""AWS's refusals over MCP: each is a tool error (``isError``) carrying the command line's
own one line and its exit code (3) in the structured content, never a traceback.

Every client the server makes answers from botocore's Stubber, through the session the
server is given (``AwsOptions(session=...)``): nothing is sent. Throttling past the retries
is the answer botocore gives after its last attempt (its ``RetryAttempts``); the retries
themselves are exercised against a faulty endpoint in tests/sources/aws/test_faults.py.
The same refusal is asked of the library (what the command line prints after ``error:``),
and the two lines must be the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import Stubber

from sfn_trace import api
from tests.mcp import call, error_of
from tests.stubbing import EXAMPLE_KEY_ID, EXAMPLE_SECRET, StubbedSession

F = "poll_results_s3_key"
REGION = "us-west-2"
MACHINE = f"arn:aws:states:{REGION}:123456789012:stateMachine:line-ingest"
EXECUTION = f"arn:aws:states:{REGION}:123456789012:execution:line-ingest:run-403"
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "access denied": ("AccessDeniedException", {}),
    # botocore's standard mode made 10 attempts (RetryAttempts 9) and gave up.
    "throttled": ("ThrottlingException", {"RetryAttempts": 9}),
    "unknown execution": ("ExecutionDoesNotExist", {}),
}
LIVE_CALLS = ("describe_execution", "describe_state_machine_for_execution", "get_execution_history")
"""What a live trace asks at once: each gets the same refusal (the description's is told)."""


def refusing(operations: tuple[str, ...], code: str, meta: dict[str, Any]) -> Callable[[], Any]:
    """Options whose Step Functions client refuses each of ``operations`` with ``code``
    (a fresh session each time: a Stubber's answers are used up)."""

    def prepare(service: str, stubber: Stubber) -> None:
        if service != "stepfunctions":
            return  # Lambda and CloudWatch Logs are not reached
        for operation in operations:
            stubber.add_client_error(
                operation,
                code,
                f"{code}: user {EXAMPLE_KEY_ID} is not allowed",
                400,
                response_meta=meta,
            )

    return lambda: api.AwsOptions(session=StubbedSession(prepare, REGION))


def same_as_the_library(
    tool: str, arguments: dict[str, Any], options: Callable[[], Any], library: Callable[..., Any]
) -> str:
    message, code = error_of(call(tool, arguments, aws=options()))
    with pytest.raises(api.SfnTraceError) as raised:
        library(aws=options())
    assert (message, code) == (raised.value.message, raised.value.exit_code)
    assert code == api.ExitCode.AWS
    assert "\n" not in message and EXAMPLE_SECRET not in message
    return message


@pytest.mark.parametrize("what", list(ERRORS))
@pytest.mark.parametrize("tool", ["trace_field", "trace_visits", "incident_report"])
def test_a_refused_execution_is_a_tool_error_with_the_cli_line(tool: str, what: str) -> None:
    code, meta = ERRORS[what]
    message = same_as_the_library(
        tool,
        {"target": EXECUTION, "field": F},
        refusing(LIVE_CALLS, code, meta),
        lambda aws: api.trace(EXECUTION, F, aws=aws, logs=tool != "trace_visits"),
    )
    if what == "throttled":
        assert "DescribeExecution after 10 attempts" in message
    else:
        assert EXECUTION in message
    if what == "access denied":
        assert "states:DescribeExecution" in message


def test_a_refused_scan_and_comparison_are_tool_errors() -> None:
    code, meta = ERRORS["access denied"]
    message = same_as_the_library(
        "scan_field_loss",
        {"state_machine_arn": MACHINE, "field": F},
        refusing(("list_executions",), code, meta),
        lambda aws: api.scan(MACHINE, F, aws=aws),
    )
    assert "states:ListExecutions" in message
    code, meta = ERRORS["throttled"]
    same_as_the_library(
        "compare_executions",
        {"good": EXECUTION, "bad": EXECUTION.replace("run-403", "run-404"), "field": F},
        refusing(LIVE_CALLS, code, meta),
        lambda aws: api.compare(EXECUTION, EXECUTION.replace("run-403", "run-404"), F, aws=aws),
    )


@pytest.mark.parametrize(
    ("code", "meta", "says"),
    [
        ("AccessDeniedException", {}, "states:DescribeStateMachine"),
        ("ThrottlingException", {"RetryAttempts": 9}, "DescribeStateMachine after 10 attempts"),
        ("StateMachineDoesNotExist", {}, f"state machine not found: {MACHINE}"),
    ],
)
def test_a_refused_state_machine_is_a_lint_tool_error(
    code: str, meta: dict[str, Any], says: str
) -> None:
    options = refusing(("describe_state_machine",), code, meta)
    message, exit_code = error_of(
        call("lint_definition", {"definition": MACHINE, "field": F}, aws=options())
    )
    [linted] = api.lint([MACHINE], F, aws=options()).definitions
    assert (message, exit_code) == (linted.error, linted.error_code) == (message, 3)
    assert says in message
