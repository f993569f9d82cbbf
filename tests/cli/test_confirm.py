"""``--confirm`` on the command line: usage, file TARGETs, bundles, and what it never does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.sources.aws import teststate as teststate_module
from sfn_trace.sources.aws.pacing import Meters
from tests.bundles import write_bundle
from tests.data import DEFINITION, fixture_history
from tests.teststate import FIELD, seed_data, stepfunctions, stub_teststate

SEED = fixture_history("flat_split_drops_key")


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Fake credentials and a TestState client factory that records and refuses."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    made: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        made.append(args[0])
        raise AssertionError("TestState must not be called here")

    monkeypatch.setattr(teststate_module, "make_client", refuse)
    yield made


def test_help_documents_confirm() -> None:
    result = invoke("--help")
    assert "--confirm" in result.stdout
    assert "states:TestState" in result.stdout


def test_a_history_file_without_a_definition_is_refused_in_one_line(no_aws: list[str]) -> None:
    result = invoke(str(SEED), "--field", FIELD, "--confirm", "--format", "json")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "sfn-trace: error: --confirm needs the definition that ran: it is fetched for an "
        "execution ARN; for a history file pass it with --definition"
    ]
    assert no_aws == []


def test_without_confirm_nothing_is_asked_and_confirmation_is_null(no_aws: list[str]) -> None:
    result = invoke(str(SEED), "--field", FIELD, "--definition", str(DEFINITION))
    assert result.exit_code == ExitCode.FINDING
    assert json.loads(result.stdout)["confirmation"] is None
    assert no_aws == []


def test_a_history_file_with_its_definition_is_confirmed_as_far_as_it_can_be(
    monkeypatch: pytest.MonkeyPatch, no_aws: list[str]
) -> None:
    client, stubber = stepfunctions()
    # A history file names no execution: the states that pass $$.Execution.Name to their
    # Lambda (SplitIntoChunks, FinalMerge) are not sent; the three others are.
    stub_teststate(
        stubber, states=("PrepareFinalMerge", "PrepareMarkBatchesComplete", "MarkBatchesComplete")
    )
    regions: list[str] = []

    def make_client(service: str, region: str, options: Any, **_: Any) -> Any:
        regions.append(region)
        return client

    monkeypatch.setattr(teststate_module, "make_client", make_client)
    monkeypatch.setattr(teststate_module, "meter", Meters(sleep=lambda _: None))
    result = invoke(
        str(SEED),
        "--field",
        FIELD,
        "--definition",
        str(DEFINITION),
        "--confirm",
        "--region",
        "eu-central-1",
        "--format",
        "json",
    )
    assert result.exit_code == ExitCode.FINDING, result.stderr
    stubber.assert_no_pending_responses()
    assert regions == ["eu-central-1"]
    assert "only matter for a file" not in result.stderr  # --region is used by --confirm
    verdicts = {c["state"]: c["verdict"] for c in json.loads(result.stdout)["confirmation"]}
    assert verdicts == {
        "SplitIntoChunks": "unconfirmed",
        "PrepareFinalMerge": "confirmed",
        "FinalMerge": "unconfirmed",
        "PrepareMarkBatchesComplete": "confirmed",
        "MarkBatchesComplete": "confirmed",
    }


def test_a_bundle_without_answers_loads_as_before(tmp_path: Path, no_aws: list[str]) -> None:
    bundle = tmp_path / "old.json"
    write_bundle(bundle, seed_data())
    assert "teststate" not in json.loads(bundle.read_text(encoding="utf-8"))
    result = invoke(str(bundle), "--field", FIELD, "--format", "json")
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert json.loads(result.stdout)["confirmation"] is None
    assert no_aws == []


def test_a_bundle_with_broken_answers_is_refused_in_one_line(tmp_path: Path) -> None:
    bundle = tmp_path / "broken.json"
    write_bundle(bundle, seed_data())
    document = json.loads(bundle.read_text(encoding="utf-8"))
    document["teststate"] = [{"state": "S", "seq": "one"}]
    bundle.write_text(json.dumps(document), encoding="utf-8")
    result = invoke(str(bundle), "--field", FIELD)
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.splitlines()) == 1
    assert "bundle member 'teststate' is malformed" in result.stderr
