"""A scan of several state machines in several accounts: one GetExecutionHistory bucket per
account and region (a throttle in one never slows another), the tally per state machine, the
lines and the JSON that validate, and a resume of the whole scan from one checkpoint.

A fake, thread-safe Step Functions client serves two state machines in two accounts and
regions (fixed dates; every call recorded); the buckets run on a fake clock.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.model.options import AwsOptions
from sfn_trace.report.scan import jsonl
from sfn_trace.sources.aws import executions as executions_module
from sfn_trace.sources.aws import pacing
from tests.data import ROOT, fixture_history

FIELD = "poll_results_s3_key"
T0 = datetime(2025, 11, 17, 12, 0, tzinfo=timezone.utc)
A = ("111111111111", "us-west-2", "line-ingest-sf")
B = ("222222222222", "eu-west-1", "orders-sf")
FIXTURES = ("flat_split_drops_key", "flat_intact", "hierarchical_create_groups_drops_key")
runner = CliRunner()


def machine_arn(machine: tuple[str, str, str]) -> str:
    account, region, name = machine
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def execution_arn(machine: tuple[str, str, str], run: str) -> str:
    account, region, name = machine
    return f"arn:aws:states:{region}:{account}:execution:{name}:{run}"


ARN_A, ARN_B = machine_arn(A), machine_arn(B)
COUNTS = {ARN_A: 6, ARN_B: 4}
"""Executions of each state machine: fixtures in turn, so A loses 4 of 6, B 3 of 4."""


class Accounts:
    """ListExecutions and GetExecutionHistory of both state machines (one page each)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fetched: list[str] = []
        self.regions: list[str] = []

    def get_paginator(self, name: str) -> Any:
        from tests.stubbing import paginator_for

        return paginator_for(self.list_executions, "ListExecutions")

    def list_executions(self, **params: Any) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        machine = A if arn == ARN_A else B
        items = [
            {
                "executionArn": execution_arn(machine, f"run-{i:02d}"),
                "stateMachineArn": arn,
                "name": f"run-{i:02d}",
                "status": "SUCCEEDED",
                "startDate": T0 - timedelta(hours=i),
                "stopDate": T0 - timedelta(hours=i) + timedelta(seconds=2),
            }
            for i in range(COUNTS[arn])
        ]
        return {"executions": items}

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        arn = params["executionArn"]
        with self.lock:
            self.fetched.append(arn)
        index = int(arn.rsplit("-", 1)[1])
        history = json.loads(fixture_history(FIXTURES[index % 3]).read_text())
        return {"events": history["events"]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch) -> Accounts:
    fake = Accounts()

    def make_client(service: str, region: str, *args: Any, **kwargs: Any) -> Accounts:
        fake.regions.append(region)
        return fake

    monkeypatch.setattr(executions_module, "make_client", make_client)
    return fake


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The process's buckets, new and on a fake clock."""
    fake = FakeClock()
    monkeypatch.setattr(pacing, "meter", pacing.Meters(clock=fake, sleep=fake.sleep))
    return fake


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((ROOT / "docs" / "schema" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# --- a bucket per account and region ------------------------------------------------------------


def test_each_account_and_region_has_its_own_buckets() -> None:
    clock = FakeClock()
    meters = pacing.Meters(clock=clock, sleep=clock.sleep)
    options = AwsOptions()
    a = meters("GetExecutionHistory", A[1], options, account=A[0])
    b = meters("GetExecutionHistory", B[1], options, account=B[0])
    same_account_other_region = meters("GetExecutionHistory", B[1], options, account=A[0])
    assert len({id(a), id(b), id(same_account_other_region)}) == 3
    assert meters("GetExecutionHistory", A[1], options, account=A[0]) is a
    # A's account is spent by another client: its bucket is drained and throttled, twice.
    for _ in range(400):
        a.wait()
    clock.now = 10.0
    a.throttled()
    clock.now = 20.0
    a.throttled()
    assert a.rate < a.ceiling and a.throttles == 2
    slept = len(clock.slept)
    for _ in range(100):  # B's burst goes at once, whatever A meets
        assert b.wait() == 0.0
    assert len(clock.slept) == slept and b.rate == b.ceiling and b.throttles == 0
    assert a.wait() > 0.0  # while A waits for its refill


def test_a_throttled_account_does_not_slow_the_other_in_a_scan(
    accounts: Accounts, clock: FakeClock
) -> None:
    options = AwsOptions()
    a = pacing.meter("GetExecutionHistory", A[1], options, account=A[0])
    for _ in range(400):
        a.wait()
    clock.now = 10.0
    a.throttled()  # A's bucket is empty and cut; the clock stands still from here on
    result = api.scan([ARN_A, ARN_B], FIELD, aws=options)
    b = pacing.meter("GetExecutionHistory", B[1], options, account=B[0])
    assert result.totals.executions == 10 and result.history_calls == 10
    # Every page of A waited for A's refill; not one page of B waited.
    assert len(clock.slept) == COUNTS[ARN_A] and all(s > 0 for s in clock.slept)
    assert a.accepted == COUNTS[ARN_A] and b.accepted == COUNTS[ARN_B]
    assert b.throttles == 0 and b.rate == b.ceiling
    assert sorted(set(accounts.regions)) == sorted({A[1], B[1]})  # a client per region


# --- the tally and the lines of a two-ARN scan --------------------------------------------------


def test_a_two_arn_scan_tallies_each_state_machine(accounts: Accounts, clock: FakeClock) -> None:
    result = runner.invoke(
        app, ["scan", ARN_A, ARN_B, "--field", FIELD, "--format", "jsonl"], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.FINDING
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    lines = validator("scan-line.schema.json")
    for document in documents:
        lines.validate(document)
    *rows, tally = documents
    assert sorted(r["arn"] for r in rows) == sorted(
        [execution_arn(A, f"run-{i:02d}") for i in range(6)]
        + [execution_arn(B, f"run-{i:02d}") for i in range(4)]
    )
    assert sorted(accounts.fetched) == sorted(r["arn"] for r in rows)  # each once
    assert tally["state_machine_arn"] == ARN_A
    assert tally["state_machine_arns"] == [ARN_A, ARN_B]
    assert tally["executions"] == 10 and tally["lost_the_field"] == 7
    assert tally["machines"] == [
        {
            "state_machine_arn": ARN_A,
            "executions": 6,
            "lost_the_field": 4,
            "unreadable": 0,
            "culprits": [
                {"state": "CreateChunkGroups", "executions": 2},
                {"state": "SplitIntoChunks", "executions": 2},
            ],
        },
        {
            "state_machine_arn": ARN_B,
            "executions": 4,
            "lost_the_field": 3,
            "unreadable": 0,
            "culprits": [
                {"state": "SplitIntoChunks", "executions": 2},
                {"state": "CreateChunkGroups", "executions": 1},
            ],
        },
    ]


def test_a_two_arn_scan_keeps_each_state_machines_rows_together(
    accounts: Accounts, clock: FakeClock
) -> None:
    result = api.scan([ARN_A, ARN_B], FIELD)
    assert [r.execution.arn for r in result.rows] == [
        execution_arn(A, f"run-{i:02d}") for i in range(6)
    ] + [execution_arn(B, f"run-{i:02d}") for i in range(4)]
    document = json.loads(api.render(result, "json"))
    validator("scan.schema.json").validate(document)
    assert document["state_machine_arns"] == [ARN_A, ARN_B]
    assert [m["executions"] for m in document["summary"]["machines"]] == [6, 4]
    streamed = jsonl.tally_line(result)
    assert json.loads(streamed)["machines"] == document["summary"]["machines"]
    table = api.render(result, "table")
    assert f"State machines {ARN_A}  (6 scanned, 4 lost the field)" in table
    assert f"               {ARN_B}  (4 scanned, 3 lost the field)" in table
    names = [line.split()[1] for line in table.splitlines() if line.startswith("2025-")]
    assert names == [f"line-ingest-sf:run-{i:02d}" for i in range(6)] + [
        f"orders-sf:run-{i:02d}" for i in range(4)
    ]


def test_a_single_arn_in_a_list_is_the_single_arn_scan(
    accounts: Accounts, clock: FakeClock
) -> None:
    alone = api.scan(ARN_A, FIELD)
    listed = api.scan([ARN_A, ARN_A], FIELD)  # given twice: scanned once
    assert api.render(listed, "json") == api.render(alone, "json")
    assert "machines" not in json.loads(api.render(alone, "json"))["summary"]


def test_a_bad_arn_among_several_is_refused_before_any_call(
    accounts: Accounts, clock: FakeClock
) -> None:
    with pytest.raises(UsageError, match="malformed state machine ARN"):
        api.scan([ARN_A, "arn:aws:states:nowhere"], FIELD)
    with pytest.raises(UsageError, match="no state machine ARN"):
        api.scan([], FIELD)
    assert accounts.fetched == [] and accounts.regions == []


# --- resume of a two-ARN scan -------------------------------------------------------------------


def test_a_two_arn_scan_resumes_from_its_checkpoint(
    accounts: Accounts, clock: FakeClock, tmp_path: Path
) -> None:
    def lines_of(**kwargs: Any) -> tuple[list[str], api.ScanResult]:
        written: list[str] = []
        result = api.scan(
            [ARN_A, ARN_B],
            FIELD,
            until=T0,
            on_row=lambda row: written.append(jsonl.line(row)),
            keep_rows=False,
            **kwargs,
        )
        return [*written, jsonl.tally_line(result)], result

    expected, _ = lines_of()
    accounts.fetched.clear()
    path = tmp_path / "scan.ckpt"
    judged: list[Any] = []

    def die(row: Any) -> None:
        judged.append(row)
        if len(judged) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.scan([ARN_A, ARN_B], FIELD, until=T0, on_row=die, keep_rows=False, checkpoint=path)
    recorded = {json.loads(line)["arn"] for line in path.read_text().splitlines()[1:]}
    assert len(recorded) == 5
    accounts.fetched.clear()
    lines, result = lines_of(checkpoint=path)
    assert sorted(lines) == sorted(expected) and lines[-1] == expected[-1]
    every = {json.loads(line)["arn"] for line in expected[:-1]}
    assert sorted(accounts.fetched) == sorted(every - recorded)  # only what was left
    assert result.exit_code is ExitCode.FINDING
    # The checkpoint is the whole scan's: one state machine alone may not use it.
    with pytest.raises(UsageError, match="belongs to another scan"):
        api.scan(ARN_A, FIELD, until=T0, checkpoint=path)


def test_limit_is_each_state_machines(accounts: Accounts, clock: FakeClock) -> None:
    args = ["scan", ARN_A, ARN_B, "--field", FIELD, "--limit", "3", "--format", "json"]
    result = runner.invoke(app, args, catch_exceptions=False)
    document = json.loads(result.stdout)
    assert [m["executions"] for m in document["summary"]["machines"]] == [3, 3]
    assert document["truncated"] is True
    assert "only the newest 3 of each state machine were scanned" in result.stderr


# --- a profile per account ----------------------------------------------------------------------


class Made:
    """The options each client was made with, by region (A is us-west-2, B eu-west-1)."""

    def __init__(self, fake: Accounts) -> None:
        self.fake = fake
        self.options: dict[str, set[tuple[str | None, object]]] = {}

    def __call__(self, service: str, region: str, options: AwsOptions, **kwargs: Any) -> Accounts:
        self.options.setdefault(region, set()).add((options.profile, options.session))
        self.fake.regions.append(region)
        return self.fake


@pytest.fixture
def made(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> Made:
    made = Made(accounts)
    monkeypatch.setattr(executions_module, "make_client", made)
    return made


@pytest.mark.usefixtures("clock")
def test_an_account_with_a_profile_is_listed_and_read_with_it(made: Made) -> None:
    result = api.scan(
        [ARN_A, ARN_B], FIELD, aws=AwsOptions(profile="everyone"), profiles={A[0]: "a-team"}
    )
    assert result.totals.executions == 10 and result.totals.unreadable == 0
    # The listing's client and the histories' client of each account: its own profile.
    assert made.options == {A[1]: {("a-team", None)}, B[1]: {("everyone", None)}}
    assert made.fake.regions.count(A[1]) == 2 and made.fake.regions.count(B[1]) == 2
    # A's history pages took their tokens from the bucket of A with its profile.
    a = pacing.meter("GetExecutionHistory", A[1], AwsOptions(profile="a-team"), account=A[0])
    b = pacing.meter("GetExecutionHistory", B[1], AwsOptions(profile="everyone"), account=B[0])
    assert (a.accepted, b.accepted) == (COUNTS[ARN_A], COUNTS[ARN_B])


@pytest.mark.usefixtures("clock")
def test_an_accounts_profile_comes_before_a_session_given_for_all(made: Made) -> None:
    session = object()  # never used: the fake makes every client
    api.scan([ARN_A, ARN_B], FIELD, aws=AwsOptions(session=session), profiles={B[0]: "b-team"})
    assert made.options == {A[1]: {(None, session)}, B[1]: {("b-team", None)}}


@pytest.mark.usefixtures("clock")
def test_profiles_do_not_change_which_scan_a_checkpoint_belongs_to(
    made: Made, tmp_path: Path
) -> None:
    """Profiles are how the accounts are reached, not the question: a scan stopped with one
    set of profiles resumes with another (here none), fetching only what was left."""
    path = tmp_path / "scan.ckpt"
    judged: list[Any] = []

    def die(row: Any) -> None:
        judged.append(row)
        if len(judged) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.scan(
            [ARN_A, ARN_B],
            FIELD,
            until=T0,
            on_row=die,
            checkpoint=path,
            profiles={A[0]: "a-team", B[0]: "b-team"},
        )
    made.fake.fetched.clear()
    result = api.scan([ARN_A, ARN_B], FIELD, until=T0, checkpoint=path)
    assert result.totals.executions == 10
    assert len(made.fake.fetched) == 10 - 4


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        ({"12345": "p"}, "profiles=: '12345' is not an AWS account id (12 digits)"),
        ({"١١١١١١١١١١١١": "p"}, "is not an AWS account id (12 digits)"),  # not ASCII digits
        (
            {"333333333333": "p"},
            "profiles=: account 333333333333 owns none of the state machines scanned "
            "(their accounts: 111111111111, 222222222222)",
        ),
        ({A[0]: " "}, "profiles=: account 111111111111 has no profile name"),
        (
            {A[0]: "p", f" {A[0]} ": "q"},
            "profiles=: account 111111111111 is given two profiles, 'p' and 'q'",
        ),
    ],
)
def test_profiles_are_checked_before_any_call(
    accounts: Accounts, tmp_path: Path, profiles: dict[str, str], message: str
) -> None:
    path = tmp_path / "scan.ckpt"
    with pytest.raises(UsageError) as caught:
        api.scan([ARN_A, ARN_B], FIELD, profiles=profiles, checkpoint=path)
    assert message in str(caught.value)
    assert accounts.regions == [] and not path.exists()


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            ["x"],
            "--account-profile takes ACCOUNT=PROFILE (a 12-digit AWS account id, an AWS "
            "profile name), not 'x'",
        ),
        (["=p"], "not '=p'"),
        ([f"{A[0]}="], f"not '{A[0]}='"),
        (["\x1b[31mp"], "not '\\x1b[31mp'"),  # a control character is shown escaped
        (["12345=p"], "--account-profile: '12345' is not an AWS account id (12 digits)"),
        (
            ["333333333333=p"],
            "--account-profile: account 333333333333 owns none of the state machines scanned",
        ),
        (
            [f"{A[0]}=p", f"{A[0]}=q"],
            f"--account-profile: account '{A[0]}' is given two profiles, 'p' and 'q'",
        ),
    ],
)
def test_account_profile_usage_errors_are_one_line(
    accounts: Accounts, values: list[str], line: str
) -> None:
    args = ["scan", ARN_A, ARN_B, "--field", FIELD]
    for value in values:
        args += ["--account-profile", value]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.count("\n") == 1 and line in result.stderr
    assert "\x1b" not in result.stderr
    assert accounts.regions == []


@pytest.mark.usefixtures("clock")
def test_the_same_account_twice_with_the_same_profile_is_one(made: Made) -> None:
    args = ["scan", ARN_A, ARN_B, "--field", FIELD, "--format", "json"]
    args += ["--account-profile", f"{A[0]}=a-team", "--account-profile", f"{A[0]} = a-team"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.FINDING
    assert made.options == {A[1]: {("a-team", None)}, B[1]: {(None, None)}}
