"""``sfn-trace lint STATE_MACHINE_ARN`` end to end on the lab: the definition is read with
DescribeStateMachine from the in-process moto server (loopback, fake credentials), a version
ARN gets that version's definition, and AWS's refusals are one line with exit 3."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from fixtures.lab import Lab
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import DEFINITION, FIXED_DEFINITION

pytestmark = [pytest.mark.moto_server, pytest.mark.usefixtures("aws_env")]

F = "poll_results_s3_key"
runner = CliRunner()


def lint(lab: Lab, *args: str) -> Any:
    return runner.invoke(app, ["lint", *args, "--field", F, "--endpoint-url", lab.endpoint_url])


def deploy_fixed_over_seed(lab: Lab) -> tuple[str, str]:
    """A state machine whose version 1 is the seed's definition and whose latest revision
    is the fixed one: (unqualified ARN, version 1's ARN)."""
    created = lab.sfn.create_state_machine(
        name=f"lint-arn-{uuid.uuid4().hex[:8]}",
        definition=DEFINITION.read_text("utf-8"),
        roleArn=lab.role_arn,
        type="STANDARD",
        publish=True,
    )
    lab.sfn.update_state_machine(
        stateMachineArn=created["stateMachineArn"],
        definition=FIXED_DEFINITION.read_text("utf-8"),
    )
    return created["stateMachineArn"], created["stateMachineVersionArn"]


def test_a_version_arn_is_linted_as_its_own_definition(lab: Lab) -> None:
    latest, version = deploy_fixed_over_seed(lab)
    assert version == f"{latest}:1"

    seed = lint(lab, version, "--format", "json")
    assert seed.exit_code == ExitCode.FINDING, seed.stderr
    document = json.loads(seed.stdout)
    assert document["definition"] == version
    from_file = runner.invoke(app, ["lint", str(DEFINITION), "--field", F, "--format", "json"])
    assert document["findings"] == json.loads(from_file.stdout)["findings"]
    assert any(f["dropper"] == "SplitIntoChunks" for f in document["findings"])

    fixed = lint(lab, latest)
    assert fixed.exit_code == ExitCode.INTACT, fixed.stderr
    assert f"No path lets a state drop {F}" in fixed.stdout


def test_sarif_and_several_definitions_name_the_arn(lab: Lab) -> None:
    _, version = deploy_fixed_over_seed(lab)
    sarif = json.loads(lint(lab, version, "--format", "sarif").stdout)
    uris = {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
    }
    assert uris == {version}

    both = lint(lab, str(FIXED_DEFINITION), version)
    assert both.exit_code == ExitCode.FINDING, both.stderr
    assert f"== {FIXED_DEFINITION}\n" in both.stdout and f"== {version}\n" in both.stdout


def test_an_unknown_state_machine_is_one_line_exit_3(lab: Lab) -> None:
    missing = f"arn:aws:states:{lab.region}:{lab.account}:stateMachine:no-such-{uuid.uuid4().hex}"
    result = lint(lab, missing)
    assert result.exit_code == ExitCode.AWS
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"sfn-trace: error: state machine not found: {missing} (looked in region "
        f"{lab.region} — check --region/--profile/the account, and the version or alias)"
    ]


def test_a_malformed_arn_is_exit_2_before_any_call(lab: Lab) -> None:
    result = lint(lab, str(DEFINITION), f"arn:aws:states:{lab.region}:{lab.account}:stateMachine")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("sfn-trace: error: malformed state machine ARN ")
