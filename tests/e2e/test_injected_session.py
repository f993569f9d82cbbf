"""A notebook or a tool that holds its own credentials hands sfn-trace a ``boto3.Session``
(``AwsOptions(session=...)``): every client is made from it, nothing is read from the
environment or a profile, and its credentials are scrubbed like any other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from fixtures.line_ingest.scenarios import SEED
from fixtures.line_ingest.scenarios import run as run_scenario
from sfn_trace import api
from sfn_trace.model import secrets
from sfn_trace.model.options import AwsOptions

pytestmark = pytest.mark.moto_server
FIELD = "poll_results_s3_key"
# AWS's own documented example keys (not credentials of any account): moto takes any.
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def no_ambient_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere boto3's chain would look: environment, files, metadata."""
    for name in (*secrets.ENVIRONMENT, "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_ambient_credentials")
def test_a_trace_uses_the_session_it_is_given(lab: Any) -> None:
    arn = run_scenario(lab, SEED, execution_name="")
    session = boto3.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=lab.region
    )
    secrets.forget_all()
    run = api.trace(arn, FIELD, aws=AwsOptions(session=session, endpoint_url=lab.endpoint_url))
    assert run.result.first_null is not None
    assert run.result.first_null.visit.state == "SplitIntoChunks"
    assert run.result.logs_fetched
    assert secrets.scrub(f"echoed {SECRET}") == f"echoed {secrets.MARK}"


@pytest.mark.usefixtures("no_ambient_credentials")
def test_without_a_session_the_same_trace_finds_no_credentials(lab: Any) -> None:
    arn = run_scenario(lab, SEED, execution_name="")
    with pytest.raises(api.AwsError, match="credentials"):
        api.trace(arn, FIELD, aws=AwsOptions(endpoint_url=lab.endpoint_url), logs=False)
