"""The region a client is made in when no ARN gives one (a file's Lambda logs, its Map
Runs, TestState): the caller's session's when it gave one, else boto3's resolution."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from sfn_trace.errors import UsageError
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws.client import configured_region, default_region

KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key: no account's
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_the_callers_session_gives_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="eu-west-3"
    )
    assert configured_region(AwsOptions(session=session)) == "eu-west-3"
    assert default_region(AwsOptions(session=session)) == "eu-west-3"
    assert configured_region(AwsOptions()) == "us-east-1"


def test_no_region_anywhere_is_a_usage_error_naming_the_option() -> None:
    assert configured_region(AwsOptions()) is None
    with pytest.raises(UsageError) as caught:
        default_region(AwsOptions())
    assert caught.value.message == "no AWS region configured for the Lambda logs: pass region="
    assert caught.value.options == ("region",)
