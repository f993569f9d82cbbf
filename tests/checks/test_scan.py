"""sfn_trace.checks.scan and ``sfn-trace scan``: rows, summary, exit codes, one bad execution.

The orchestration is tested with fake loaders; the command line with a fake, thread-safe
Step Functions client serving the recorded line-ingest histories (the Stubber, which answers
in order, cannot serve the concurrent workers; the request shapes are validated against the
service model in tests/sources/aws/test_executions.py). The end-to-end scan in moto is
tests/e2e/test_scan.py.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from sfn_trace.checks import scan as scanning
from sfn_trace.checks.scan import (
    FLEET_WORKERS,
    Culprit,
    ScanQuery,
    ScanResult,
    ScanRow,
    parse_moment,
)
from sfn_trace.cli import app
from sfn_trace.errors import AwsError, ExitCode, UsageError
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.result import Verdict
from sfn_trace.report import RENDERERS, Command, ScanFormat, render
from sfn_trace.report.scan.csv import COLUMNS
from sfn_trace.report.scan.json import SCHEMA
from sfn_trace.sources.aws import executions as executions_module
from sfn_trace.sources.aws.executions import ListedExecution
from sfn_trace.sources.target import load_target_file
from tests.data import fixture_history
from tests.fleet_rows import judge_all
from tests.stubbing import paginator_for

FIELD = "poll_results_s3_key"
REGION = "us-west-2"
MACHINE = "line-ingest-sf-dev-1554303"
SM_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
T0 = datetime(2025, 11, 17, 12, 0, tzinfo=timezone.utc)
runner = CliRunner()


def arn_of(name: str) -> str:
    return f"arn:aws:states:{REGION}:123456789012:execution:{MACHINE}:{name}"


def listed(name: str, minutes_ago: int = 0, status: str = "SUCCEEDED") -> ListedExecution:
    start = T0 - timedelta(minutes=minutes_ago)
    return ListedExecution(arn_of(name), name, status, SM_ARN, start, start)


def recorded(fixture: str) -> ExecutionData:
    return load_target_file(fixture_history(fixture))


# --- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", T0 - timedelta(hours=24)),
        ("7d", T0 - timedelta(days=7)),
        (" 30m ", T0 - timedelta(minutes=30)),
        ("90s", T0 - timedelta(seconds=90)),
        ("2W", T0 - timedelta(weeks=2)),
        ("2025-11-17", datetime(2025, 11, 17, tzinfo=timezone.utc)),
        ("2025-11-17T05:48:59Z", datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc)),
        (
            "2025-11-17T07:48:59+02:00",
            datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc),
        ),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_moment(text, now=T0) == expected


def test_unreadable_time_is_a_usage_error() -> None:
    with pytest.raises(Exception, match="cannot read the time 'yesterday'") as caught:
        parse_moment("yesterday", now=T0)
    assert caught.value.exit_code is ExitCode.USAGE  # type: ignore[attr-defined]


# --- orchestration -----------------------------------------------------------------------------


def test_rows_keep_the_listing_order_whatever_order_they_finish_in() -> None:
    executions = [listed(f"run-{i}", i) for i in range(6)]
    last_done = threading.Event()

    def load(execution: ListedExecution) -> ExecutionData:
        if execution.name == "run-0":
            assert last_done.wait(5)  # the first one finishes last
        data = recorded("flat_intact")
        if execution.name == "run-5":
            last_done.set()
        return ExecutionData(info=execution.info, events=data.events)

    judged: list[str] = []
    rows = judge_all(
        executions, load, FIELD, workers=6, on_row=lambda r, _: judged.append(r.execution.name)
    )
    assert [r.execution.name for r in rows] == [f"run-{i}" for i in range(6)]
    assert sorted(judged) == [f"run-{i}" for i in range(6)]  # each once, in any order
    assert all(r.verdict is Verdict.INTACT for r in rows)


def throttled_loader(throttled: set[str], fixture: str) -> Any:
    def load(execution: ListedExecution) -> ExecutionData:
        if execution.name in throttled:
            raise AwsError("throttled by AWS on GetExecutionHistory after 10 attempts")
        return ExecutionData(info=execution.info, events=recorded(fixture).events)

    return load


def test_a_throttled_execution_costs_only_its_row() -> None:
    executions = [listed(f"run-{i}", i) for i in range(5)]
    rows = judge_all(executions, throttled_loader({"run-2"}, "flat_split_drops_key"), FIELD)

    errors = [(r.execution.name, r.error, r.error_exit_code) for r in rows if r.error]
    assert errors == [
        ("run-2", "throttled by AWS on GetExecutionHistory after 10 attempts", ExitCode.AWS)
    ]
    assert [r.verdict for r in rows if not r.error] == [Verdict.LOST] * 4
    result = ScanResult(ScanQuery(SM_ARN, FIELD), rows)
    assert result.exit_code is ExitCode.FINDING  # some lost it: that is the answer
    assert result.culprits == (("SplitIntoChunks", 4),)


def test_unreadable_and_none_lost_exits_4() -> None:
    executions = [listed(f"run-{i}", i) for i in range(3)]
    rows = judge_all(executions, throttled_loader({"run-0"}, "flat_intact"), FIELD)
    assert ScanResult(ScanQuery(SM_ARN, FIELD), rows).exit_code is ExitCode.INCOMPLETE


def test_a_bug_on_one_history_is_reported_in_its_row() -> None:
    def load(execution: ListedExecution) -> ExecutionData:
        raise KeyError("boom")

    (row,) = judge_all([listed("run-0")], load, FIELD)
    assert row.error is not None and row.error.startswith("internal error: KeyError: 'boom'")
    assert row.verdict is None


def test_workers_are_bounded() -> None:
    query = ScanQuery(SM_ARN, FIELD)
    for workers in (0, FLEET_WORKERS + 1):
        with pytest.raises(UsageError, match=f"workers must be between 1 and {FLEET_WORKERS}"):
            scanning.scan(query, workers=workers)


def row(verdict: Verdict | None, state: str | None = None, error: str | None = None) -> ScanRow:
    culprit = Culprit(state, (state,), 11, None, "null") if state else None
    return ScanRow(
        execution=ExecutionInfo(arn="arn", name="n", status="SUCCEEDED", start=T0),
        verdict=verdict,
        first_null=culprit,
        error=error,
    )


def test_summary_and_histogram() -> None:
    rows = (
        row(Verdict.LOST, "Normalize"),
        row(Verdict.LOST, "Enrich"),
        row(Verdict.NEVER_SET, "Normalize"),
        row(Verdict.ABSENT),
        row(Verdict.INTACT, "Discarded"),  # a null copy later discarded: not a culprit
        row(Verdict.UNKNOWN),
        row(None, error="access denied"),
    )
    result = ScanResult(ScanQuery(SM_ARN, FIELD), rows)
    assert len(result.lost) == 4
    assert result.culprits == (("Normalize", 2), ("Enrich", 1))
    assert result.verdicts == {
        Verdict.ABSENT: 1,
        Verdict.NEVER_SET: 1,
        Verdict.LOST: 2,
        Verdict.INTACT: 1,
        Verdict.UNKNOWN: 1,
    }
    assert len(result.unreadable) == 1
    assert result.exit_code is ExitCode.FINDING


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ((), ExitCode.INTACT),
        ((row(Verdict.INTACT),), ExitCode.INTACT),
        ((row(Verdict.INTACT), row(Verdict.UNKNOWN)), ExitCode.INCOMPLETE),
        ((row(Verdict.INTACT), row(None, error="denied")), ExitCode.INCOMPLETE),
        ((row(Verdict.ABSENT), row(None, error="denied")), ExitCode.FINDING),
    ],
)
def test_exit_codes(rows: tuple[ScanRow, ...], code: ExitCode) -> None:
    assert ScanResult(ScanQuery(SM_ARN, FIELD), rows).exit_code is code


def test_every_format_has_a_renderer() -> None:
    assert {f for c, f in RENDERERS if c is Command.SCAN} == {f.value for f in ScanFormat}


# --- the command line, against a fake Step Functions ------------------------------------------

SCENARIOS = {
    # name: (fixture, minutes ago, status)
    "run-a": ("flat_split_drops_key", 1, "SUCCEEDED"),
    "run-b": ("flat_intact", 2, "SUCCEEDED"),
    "run-c": ("hierarchical_create_groups_drops_key", 3, "SUCCEEDED"),
    "run-d": (None, 4, "SUCCEEDED"),  # throttled past retries
    "run-e": ("flat_split_drops_key", 5, "FAILED"),
}


class FakeStepFunctions:
    """Serves ListExecutions (honouring statusFilter) and GetExecutionHistory from the recorded
    histories, from any number of threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[str] = []

    def get_paginator(self, name: str) -> Any:
        return paginator_for(self.list_executions, "ListExecutions")

    def list_executions(self, **params: Any) -> dict[str, Any]:
        with self.lock:
            self.calls.append("ListExecutions")
        items = []
        for name, (_, minutes, status) in SCENARIOS.items():
            if params.get("statusFilter") not in (None, status):
                continue
            start = datetime.now(timezone.utc) - timedelta(minutes=minutes)
            items.append(
                {
                    "executionArn": arn_of(name),
                    "stateMachineArn": SM_ARN,
                    "name": name,
                    "status": status,
                    "startDate": start,
                    "stopDate": start + timedelta(seconds=1),
                }
            )
        return {"executions": items}

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        name = params["executionArn"].rsplit(":", 1)[1]
        with self.lock:
            self.calls.append("GetExecutionHistory")
        fixture = SCENARIOS[name][0]
        if fixture is None:
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                    "ResponseMetadata": {"RetryAttempts": 9},
                },
                "GetExecutionHistory",
            )
        document = json.loads(fixture_history(fixture).read_text())
        return {"events": document["events"]}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> FakeStepFunctions:
    fake = FakeStepFunctions()
    monkeypatch.setattr(executions_module, "make_client", lambda *args, **kwargs: fake)
    return fake


def scan(*args: str) -> Any:
    return runner.invoke(app, ["scan", SM_ARN, "--field", FIELD, *args], catch_exceptions=False)


def test_cli_json(fake_aws: FakeStepFunctions) -> None:
    result = scan("--format", "json")
    assert result.exit_code == ExitCode.FINDING
    document = json.loads(result.stdout)
    assert document["schema"] == SCHEMA == "sfn-trace-scan/1"
    assert [e["name"] for e in document["executions"]] == list(SCENARIOS)  # newest first
    rows = {e["name"]: e for e in document["executions"]}
    assert rows["run-a"]["verdict"] == "lost"
    assert rows["run-a"]["first_null"] == {
        "state": "SplitIntoChunks",
        "scope": ["SplitIntoChunks"],
        "event_id": 11,
        "map_iteration": None,
        "became": "null",
    }
    assert rows["run-a"]["lost_at"]["state"] == "PrepareFinalMerge"
    assert rows["run-b"]["verdict"] == "intact" and rows["run-b"]["first_null"] is None
    assert rows["run-d"]["verdict"] is None
    assert rows["run-d"]["error"] == (
        "throttled by AWS on GetExecutionHistory after 10 attempts; "
        "retry later or raise --max-attempts"
    )
    assert rows["run-d"]["error_exit_code"] == 3
    summary = document["summary"]
    assert summary["executions"] == 5 and summary["lost_the_field"] == 3
    assert summary["unreadable"] == 1
    assert summary["culprits"] == [
        {"state": "SplitIntoChunks", "executions": 2},
        {"state": "CreateChunkGroups", "executions": 1},
    ]
    assert summary["history_calls"] == 5 and summary["list_calls"] == 1
    assert document["filters"] == {"statuses": [], "since": None, "until": None, "limit": 100}
    assert document["exit_code"] == 1


def test_cli_table(fake_aws: FakeStepFunctions) -> None:
    result = scan("--format", "table")
    assert result.exit_code == ExitCode.FINDING
    text = result.stdout
    assert "Executions     5 scanned, newest first (any status)" in text
    assert "Summary        3 of 5 executions lost poll_results_s3_key" in text
    assert "1 could not be read" in text
    assert "throttled by AWS on GetExecutionHistory" in text
    histogram = text.split("went null (first_null)")[1]
    assert histogram.index("SplitIntoChunks") < histogram.index("CreateChunkGroups")


def test_cli_csv_rows_on_stdout_summary_on_stderr(fake_aws: FakeStepFunctions) -> None:
    result = scan("--format", "csv", "--status", "succeeded")
    assert result.exit_code == ExitCode.FINDING
    frame = pd.read_csv(io.StringIO(result.stdout), parse_dates=["start", "stop"])
    assert tuple(frame.columns) == COLUMNS
    assert list(frame["name"]) == ["run-a", "run-b", "run-c", "run-d"]  # no FAILED one
    assert str(frame["start"].dt.tz) == "UTC"
    cells = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [c["first_null_event_id"] for c in cells] == ["11", "", "20", ""]  # never "11.0"
    assert [c["first_null"] for c in cells] == ["SplitIntoChunks", "", "CreateChunkGroups", ""]
    assert "Summary" not in result.stdout
    assert result.stderr.splitlines() == [
        "sfn-trace: 2 of 4 executions lost poll_results_s3_key (2 lost, 0 never set, 0 absent); "
        "1 intact",
        "sfn-trace: 1 could not be read (see their rows)",
        "sfn-trace: went null in: CreateChunkGroups (1), SplitIntoChunks (1)",  # ties: by name
    ]


def test_cli_status_filter_and_limit(fake_aws: FakeStepFunctions) -> None:
    result = scan("--status", "FAILED,SUCCEEDED", "--limit", "2", "--format", "json")
    document = json.loads(result.stdout)
    assert [e["name"] for e in document["executions"]] == ["run-a", "run-b"]
    assert document["truncated"] is True
    assert "only the newest 2 were scanned" in result.stderr
    assert fake_aws.calls.count("ListExecutions") == 2  # one listing per status


def test_cli_window_excludes_everything(fake_aws: FakeStepFunctions) -> None:
    result = scan("--until", "2000-01-01", "--format", "json")
    assert result.exit_code == ExitCode.INTACT
    assert json.loads(result.stdout)["executions"] == []
    assert "no execution matched" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", arn_of("run-a"), "-f", FIELD], "is an execution ARN; scan needs"),
        (["scan", "arn:aws:states:nope", "-f", FIELD], "malformed state machine ARN"),
        (["scan", SM_ARN, "-f", FIELD, "--since", "last week"], "cannot read the time"),
        (["scan", SM_ARN, "-f", FIELD, "--status", "DONE"], "unknown execution status 'DONE'"),
        (["scan", SM_ARN, "-f", ""], "--field must not be empty"),
    ],
)
def test_cli_usage_errors_exit_2_without_a_call(
    monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    def no_client(*_: Any, **__: Any) -> Any:
        raise AssertionError("no AWS call expected")

    monkeypatch.setattr(executions_module, "make_client", no_client)
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.USAGE
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_cli_listing_error_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    class Missing:
        def get_paginator(self, name: str) -> Any:
            return paginator_for(self.list_executions, "ListExecutions")

        def list_executions(self, **params: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "StateMachineDoesNotExist", "Message": "gone"}},
                "ListExecutions",
            )

    monkeypatch.setattr(executions_module, "make_client", lambda *args, **kwargs: Missing())
    result = scan()
    assert result.exit_code == ExitCode.AWS
    assert result.stderr.strip() == (
        f"sfn-trace: error: state machine not found: {SM_ARN} (looked in region None — "
        "check --region/--profile/the account)"
    )


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    from sfn_trace.cli.progress import ScanProgressBar

    progress = ScanProgressBar()  # pytest captures stderr: not a terminal
    assert progress.on_listed is None and progress.on_progress is None


def test_renderers_agree_on_an_empty_scan() -> None:
    result = ScanResult(ScanQuery(SM_ARN, FIELD, statuses=("FAILED",)), ())
    table = render(Command.SCAN, ScanFormat.TABLE, result)
    assert "Summary        no execution matched" in table
    assert "(status FAILED)" in table
    document = json.loads(render(Command.SCAN, ScanFormat.JSON, result))
    assert document["summary"]["culprits"] == [] and document["exit_code"] == 0
    assert render(Command.SCAN, ScanFormat.CSV, result) == ",".join(COLUMNS) + "\n"
