"""The MCP tools against the lab's moto server (in process, loopback, fake credentials):
``lint_definition`` given a deployed state machine's ARN, and the tool errors of a state
machine and an execution that do not exist."""

from __future__ import annotations

import uuid

import pytest

from fixtures.lab import Lab
from sfn_trace import api
from tests.data import DEFINITION, FIXED_DEFINITION
from tests.mcp import call, error_of, valid

pytestmark = [pytest.mark.moto_server, pytest.mark.usefixtures("aws_env")]

F = "poll_results_s3_key"


def test_lint_definition_reads_a_state_machine_arn(lab: Lab) -> None:
    name = f"mcp-lint-{uuid.uuid4().hex[:8]}"
    created = lab.sfn.create_state_machine(
        name=name,
        definition=DEFINITION.read_text("utf-8"),
        roleArn=lab.role_arn,
        type="STANDARD",
        publish=True,
    )
    lab.sfn.update_state_machine(
        stateMachineArn=created["stateMachineArn"],
        definition=FIXED_DEFINITION.read_text("utf-8"),
    )
    aws = api.AwsOptions(endpoint_url=lab.endpoint_url)
    version = created["stateMachineVersionArn"]

    result = call("lint_definition", {"definition": version, "field": F}, aws=aws)
    linted = valid("lint_definition", result)
    assert linted["report"]["definition"] == version
    assert linted["exit_code"] == api.ExitCode.FINDING
    from_file = valid(
        "lint_definition", call("lint_definition", {"definition": str(DEFINITION), "field": F})
    )
    assert linted["report"]["findings"] == from_file["report"]["findings"]
    assert linted["rule_ids"] == [cause["rule"] for cause in linted["report"]["findings"]]
    head = result.content[0].text.partition("\n\n")[0].splitlines()  # type: ignore[union-attr]
    assert head[0].startswith(f"{F}: ") and version in head[0]
    assert any("SplitIntoChunks" in line for line in head[1:])

    latest = valid(
        "lint_definition",
        call("lint_definition", {"definition": created["stateMachineArn"], "field": F}, aws=aws),
    )
    assert latest["exit_code"] == api.ExitCode.INTACT and latest["rule_ids"] == []
    assert latest["report"]["definition"] == created["stateMachineArn"]


def test_what_does_not_exist_is_a_tool_error_with_the_cli_line(lab: Lab) -> None:
    aws = api.AwsOptions(endpoint_url=lab.endpoint_url)
    machine = f"arn:aws:states:{lab.region}:{lab.account}:stateMachine:gone-{uuid.uuid4().hex}"
    execution = machine.replace(":stateMachine:", ":execution:") + ":run-1"

    message, code = error_of(call("lint_definition", {"definition": machine, "field": F}, aws=aws))
    [linted] = api.lint([machine], F, aws=aws).definitions
    assert (message, code) == (linted.error, linted.error_code) == (message, api.ExitCode.AWS)
    assert message.startswith(f"state machine not found: {machine}")

    for tool in ("trace_field", "incident_report"):
        message, code = error_of(call(tool, {"target": execution, "field": F}, aws=aws))
        with pytest.raises(api.AwsError) as raised:
            api.trace(execution, F, aws=aws)
        assert (message, code) == (raised.value.message, api.ExitCode.AWS)
        assert message.startswith(f"execution not found: {execution}")
