"""``sfn-trace scan`` across two accounts, each read with its own AWS profile.

Two loopback fleet servers (``benchmarks/fleet_server.py``) stand for two accounts: each
serves only its own account's state machine, meters its own buckets and counts the access
key id that signed each call. The shared config file (``AWS_CONFIG_FILE``, in ``tmp_path``)
has one profile per account, each with AWS's documented example keys and an
``endpoint_url`` (botocore honours a profile's) pointing at its account's server. A scan of
both state machines reads each account through its profile: every call a server answers is
signed with that profile's key, and the tally is each fleet's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks import fleet_server
from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
ARN_A = fleet_server.state_machine_arn(ACCOUNT_A)
ARN_B = fleet_server.state_machine_arn(ACCOUNT_B)
COUNTS = {ACCOUNT_A: 7, ACCOUNT_B: 5}
"""Executions in each account: every fifth loses the field, so 2 of 7 and 1 of 5."""
KEYS = {
    "pa": ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "pb": ("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"),
}
"""AWS's documented example keys, one pair per profile."""
runner = CliRunner()


@pytest.fixture
def servers() -> Iterator[dict[str, fleet_server.FleetServer]]:
    with ExitStack() as stack:
        yield {
            account: stack.enter_context(
                fleet_server.FleetServer(count, rate=1000, latency=0.0, account=account)
            )
            for account, count in COUNTS.items()
        }


@pytest.fixture
def profiles(
    servers: dict[str, fleet_server.FleetServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Profile ``pa`` reaches account A's server, ``pb`` account B's; nothing else is
    configured (no environment credentials, endpoint or profile, no instance metadata)."""
    endpoints = {"pa": servers[ACCOUNT_A].endpoint_url, "pb": servers[ACCOUNT_B].endpoint_url}
    config = tmp_path / "config"
    config.write_text(
        "".join(
            f"[profile {name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
            f"region = {fleet_server.REGION}\nendpoint_url = {endpoints[name]}\n\n"
            for name, (key, secret) in KEYS.items()
        )
    )
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return endpoints


def expected_lost(count: int) -> int:
    return sum(fleet_server.loses(i) for i in range(count))


def assert_each_account_read_with_its_profile(
    servers: dict[str, fleet_server.FleetServer],
) -> None:
    for account, key in ((ACCOUNT_A, KEYS["pa"][0]), (ACCOUNT_B, KEYS["pb"][0])):
        stats = servers[account].stats()
        pages = fleet_server.expected_pages(COUNTS[account])
        assert stats["answered"]["GetExecutionHistory"] == pages
        assert stats["answered"]["ListExecutions"] >= 1
        assert stats["access_keys"] == {key: sum(stats["answered"].values())}


@pytest.mark.usefixtures("profiles")
def test_each_account_is_read_with_its_own_profile(
    servers: dict[str, fleet_server.FleetServer],
) -> None:
    args = ["scan", ARN_A, ARN_B, "--field", fleet_server.FIELD, "--format", "jsonl"]
    args += ["--account-profile", f"{ACCOUNT_A}=pa", "--account-profile", f" {ACCOUNT_B} = pb "]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    *rows, tally = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == sum(COUNTS.values())
    assert all(row["error"] is None for row in rows)
    assert tally["executions"] == 12 and tally["unreadable"] == 0
    assert tally["lost_the_field"] == expected_lost(7) + expected_lost(5) == 3
    assert [
        (m["state_machine_arn"], m["executions"], m["lost_the_field"]) for m in tally["machines"]
    ] == [(ARN_A, 7, 2), (ARN_B, 5, 1)]
    assert_each_account_read_with_its_profile(servers)


@pytest.mark.usefixtures("profiles")
def test_the_other_accounts_use_the_profile_of_every_account(
    servers: dict[str, fleet_server.FleetServer],
) -> None:
    """``--profile pb`` for every account but A, which ``--account-profile`` gives ``pa``;
    the library takes the same as ``aws.profile`` and ``profiles``."""
    result = api.scan(
        [ARN_A, ARN_B],
        fleet_server.FIELD,
        aws=api.AwsOptions(profile="pb"),
        profiles={ACCOUNT_A: "pa"},
    )
    assert result.totals.executions == 12 and result.totals.lost == 3
    assert result.totals.unreadable == 0
    assert_each_account_read_with_its_profile(servers)


@pytest.mark.usefixtures("profiles")
def test_without_its_profile_an_account_is_not_found(
    servers: dict[str, fleet_server.FleetServer],
) -> None:
    """The check of the test above: ``pb`` alone reaches only account B's server, where
    account A's state machine does not exist (exit 3, and A's server heard nothing)."""
    args = ["scan", ARN_A, ARN_B, "--field", fleet_server.FIELD, "--profile", "pb"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.AWS
    assert f"state machine not found: {ARN_A}" in result.stderr
    assert servers[ACCOUNT_A].stats()["answered"] == {}
