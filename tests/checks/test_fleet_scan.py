"""A scan over a fleet: filters applied while listing, listing and fetching at once, JSONL
lines that validate, a resume after a kill at any point, a throttling storm absorbed.

The orchestration runs against a fake, thread-safe Step Functions client with fixed dates
(it records every call); the storm runs a real botocore client against the loopback fleet
server of ``benchmarks/fleet_server.py``, whose token bucket throttles as AWS does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from benchmarks import fleet_server
from sfn_trace import api
from sfn_trace.checks.checkpoint import Checkpoint, record_of
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.report.scan import jsonl
from sfn_trace.sources.aws import executions as executions_module
from sfn_trace.sources.aws.pacing import meter
from tests.data import ROOT, fixture_history
from tests.stubbing import paginator_for

FIELD = "poll_results_s3_key"
REGION = "us-west-2"
MACHINE = "line-ingest-sf"
SM_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
T0 = datetime(2025, 11, 17, 12, 0, tzinfo=timezone.utc)
FIXTURES = ("flat_split_drops_key", "flat_intact", "hierarchical_create_groups_drops_key")
SCHEMA = ROOT / "docs" / "schema" / "scan-line.schema.json"
runner = CliRunner()


def arn_of(name: str) -> str:
    return f"arn:aws:states:{REGION}:123456789012:execution:{MACHINE}:{name}"


@cache
def events_of(fixture: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(fixture_history(fixture).read_text())["events"]
    return events


class Fleet:
    """ListExecutions (``page`` items a page, newest first, ``statusFilter`` honoured) and
    GetExecutionHistory over ``count`` executions one hour apart; every call recorded."""

    def __init__(self, count: int = 12, page: int = 4) -> None:
        self.page = page
        self.items = [
            {
                "executionArn": arn_of(f"run-{i:02d}"),
                "stateMachineArn": SM_ARN,
                "name": f"run-{i:02d}",
                "status": "FAILED" if i % 4 == 3 else "SUCCEEDED",
                "startDate": T0 - timedelta(hours=i),
                "stopDate": T0 - timedelta(hours=i) + timedelta(seconds=2),
            }
            for i in range(count)
        ]
        self.lock = threading.Lock()
        self.listed_pages: list[tuple[str | None, int]] = []
        self.fetched: list[str] = []
        self.on_list_page: Any = None

    def get_paginator(self, name: str) -> Any:
        return paginator_for(self.list_executions, "ListExecutions")

    def list_executions(self, **params: Any) -> dict[str, Any]:
        start = int(params.get("nextToken") or 0)
        with self.lock:
            self.listed_pages.append((params.get("statusFilter"), start))
        if self.on_list_page is not None:
            self.on_list_page(start)
        wanted = params.get("statusFilter")
        items = [i for i in self.items if wanted in (None, i["status"])]
        size = min(self.page, params.get("maxResults") or self.page)
        answer: dict[str, Any] = {"executions": items[start : start + size]}
        if start + size < len(items):
            answer["nextToken"] = str(start + size)
        return answer

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        arn = params["executionArn"]
        with self.lock:
            self.fetched.append(arn)
        index = int(arn.rsplit("-", 1)[1])
        return {"events": events_of(FIXTURES[index % len(FIXTURES)])}


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Fleet:
    fake = Fleet()
    monkeypatch.setattr(executions_module, "make_client", lambda *args, **kwargs: fake)
    return fake


def lines_of(**kwargs: Any) -> tuple[list[str], api.ScanResult]:
    """A scan's JSONL lines, in the order written, and its result."""
    written: list[str] = []
    result = api.scan(
        SM_ARN, FIELD, on_row=lambda row: written.append(jsonl.line(row)), keep_rows=False, **kwargs
    )
    return [*written, jsonl.tally_line(result)], result


# --- filters before fetching -------------------------------------------------------------------


def test_filters_are_applied_while_listing_and_nothing_outside_them_is_fetched(
    fleet: Fleet,
) -> None:
    since, until = T0 - timedelta(hours=8, minutes=30), T0 - timedelta(hours=1, minutes=30)
    lines, result = lines_of(status="SUCCEEDED", since=since, until=until, limit=3)
    # run-02 .. run-08 are in the window; run-03 and run-07 FAILED; the newest 3 of the rest.
    assert sorted(fleet.fetched) == [arn_of("run-02"), arn_of("run-04"), arn_of("run-05")]
    assert result.truncated  # run-06 matched too
    assert json.loads(lines[-1])["executions"] == 3
    # Pages of 4 (--limit 3 asks for 4): the listing stops on the page that held the 4th
    # match, and never reads the pages past --since.
    assert fleet.listed_pages == [("SUCCEEDED", 0), ("SUCCEEDED", 4)]


def test_the_listing_stops_at_since_and_every_match_is_fetched_once(fleet: Fleet) -> None:
    _, result = lines_of(status="SUCCEEDED,FAILED", since=T0 - timedelta(hours=5, minutes=1))
    assert sorted(fleet.fetched) == [arn_of(f"run-{i:02d}") for i in range(6)]
    assert not result.truncated
    # FAILED's first page (run-03, run-07, run-11) reaches past --since at once;
    # SUCCEEDED's second page (run-05 ...) holds the first older one.
    pages = sorted(fleet.listed_pages, key=str)
    assert pages == [("FAILED", 0), ("SUCCEEDED", 0), ("SUCCEEDED", 4)]


def test_histories_are_fetched_while_the_listing_goes_on(fleet: Fleet) -> None:
    """The second ListExecutions page is asked for only once a history of the first page
    was fetched: a scan that listed everything first would wait here and fail."""
    first_fetched = threading.Event()

    def on_list_page(start: int) -> None:
        if start > 0:
            assert first_fetched.wait(10), "no history was fetched before the second page"

    original = fleet.get_execution_history

    def fetch(**params: Any) -> dict[str, Any]:
        answer = original(**params)
        first_fetched.set()
        return answer

    fleet.on_list_page = on_list_page
    fleet.get_execution_history = fetch  # type: ignore[method-assign]
    _, result = lines_of(limit=12)
    assert result.totals.executions == 12 and result.totals.unreadable == 0


# --- JSONL --------------------------------------------------------------------------------------


@cache
def line_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_jsonl_lines_validate_against_the_schema_and_the_tally_adds_them_up(
    fleet: Fleet,
) -> None:
    result = runner.invoke(
        app, ["scan", SM_ARN, "--field", FIELD, "--format", "jsonl"], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.FINDING
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    for document in documents:
        line_validator().validate(document)
    *rows, tally = documents
    assert [r["type"] for r in rows] == ["execution"] * 12 and tally["type"] == "tally"
    assert sorted(r["name"] for r in rows) == [f"run-{i:02d}" for i in range(12)]
    lost = [r for r in rows if r["exit_code"] == 1]
    assert tally["lost_the_field"] == len(lost) == 8  # two fixtures of three drop the key
    assert tally["culprits"] == [
        {"state": "CreateChunkGroups", "executions": 4},
        {"state": "SplitIntoChunks", "executions": 4},
    ]
    assert tally["exit_code"] == 1


def test_a_finished_scan_renders_the_same_lines_newest_first(fleet: Fleet) -> None:
    streamed, _ = lines_of()
    kept = api.scan(SM_ARN, FIELD)
    rendered = api.render(kept, "jsonl").splitlines(keepends=True)
    assert sorted(rendered) == sorted(streamed)
    assert [json.loads(x)["name"] for x in rendered[:-1]] == [f"run-{i:02d}" for i in range(12)]
    for line in rendered:
        line_validator().validate(json.loads(line))


def test_unreadable_rows_validate_too() -> None:
    from sfn_trace.checks.rows import ScanRow
    from sfn_trace.errors import AwsError
    from sfn_trace.model.execution import ExecutionInfo

    row = ScanRow.failed(
        ExecutionInfo(arn=arn_of("x"), name="x", status="RUNNING", start=T0),
        AwsError("access denied on GetExecutionHistory"),
    )
    document = json.loads(jsonl.line(row))
    line_validator().validate(document)
    assert document["exit_code"] == 4 and document["error_exit_code"] == 3


# --- resume ---------------------------------------------------------------------------------------


@cache
def uninterrupted_lines() -> list[str]:
    fake = Fleet()
    executions_module.make_client = lambda *args, **kwargs: fake  # type: ignore[assignment]
    lines, _ = lines_of(until=T0)
    return lines


class Killed(Exception):
    """Stands for the process dying: nothing after it runs."""


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kill_after=st.integers(0, 12), cut=st.integers(0, 400), stop=st.sampled_from(["C", "9"]))
def test_a_resume_after_a_kill_anywhere_gives_the_same_lines_and_tally(
    tmp_path_factory: pytest.TempPathFactory, kill_after: int, cut: int, stop: str
) -> None:
    """Killed after ``kill_after`` rows (Ctrl-C or a crash), with the next record cut after
    ``cut`` bytes (a kill in the middle of a write), then run again with the same command:
    only the executions not recorded whole are fetched, and the lines (in any order) and the
    tally are those of an uninterrupted run."""
    original = executions_module.make_client
    try:
        expected = uninterrupted_lines()
        path = tmp_path_factory.mktemp("ckpt") / "scan.ckpt"
        first = Fleet()
        executions_module.make_client = lambda *args, **kwargs: first  # type: ignore[assignment]
        judged: list[Any] = []

        def die(row: Any) -> None:
            judged.append(row)
            if len(judged) == kill_after:
                raise KeyboardInterrupt if stop == "C" else Killed

        if kill_after:
            with pytest.raises((KeyboardInterrupt, Killed)):
                api.scan(SM_ARN, FIELD, until=T0, on_row=die, keep_rows=False, checkpoint=path)
        else:
            Checkpoint.open(path, identity(), (None, T0)).close()
        recorded = len(path.read_text().splitlines()) - 1
        assert recorded == kill_after  # each row recorded before its line went out
        pending = [r for r in uninterrupted_rows() if r.execution.arn not in recorded_arns(path)]
        if pending and cut:  # the kill came in the middle of the next record's write
            text = json.dumps(record_of(pending[0])) + "\n"
            with path.open("a") as journal:
                journal.write(text[: min(cut, len(text) - 1)])

        second = Fleet()
        executions_module.make_client = lambda *args, **kwargs: second  # type: ignore[assignment]
        lines, result = lines_of(until=T0, checkpoint=path)
        assert sorted(lines) == sorted(expected)
        assert lines[-1] == expected[-1]
        assert sorted(second.fetched) == sorted(r.execution.arn for r in pending)
        assert result.exit_code is ExitCode.FINDING
    finally:
        executions_module.make_client = original  # type: ignore[assignment]


def identity() -> dict[str, Any]:
    return {
        "state_machine_arn": SM_ARN,
        "field": FIELD,
        "statuses": [],
        "since": None,
        "until": T0.isoformat(),
        "limit": 100,
        "follow_children": None,
    }


@cache
def _rows() -> tuple[Any, ...]:
    fake = Fleet()
    original = executions_module.make_client
    executions_module.make_client = lambda *args, **kwargs: fake  # type: ignore[assignment]
    try:
        return api.scan(SM_ARN, FIELD, until=T0).rows
    finally:
        executions_module.make_client = original  # type: ignore[assignment]


def uninterrupted_rows() -> Iterator[Any]:
    yield from _rows()


def recorded_arns(path: Path) -> set[str]:
    return {json.loads(line)["arn"] for line in path.read_text().splitlines()[1:]}


def test_a_checkpoint_of_another_scan_is_refused(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "scan.ckpt"
    api.scan(SM_ARN, FIELD, since="2025-11-17", checkpoint=path)
    with pytest.raises(UsageError, match=r"belongs to another scan \(field: "):
        api.scan(SM_ARN, "other_key", since="2025-11-17", checkpoint=path)
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(UsageError, match="is not an sfn-trace scan checkpoint"):
        api.scan(SM_ARN, FIELD, checkpoint=tmp_path / "notes.txt")


def test_a_relative_window_is_resolved_once_by_the_first_run(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "scan.ckpt"
    first = api.scan(SM_ARN, FIELD, since="7d", checkpoint=path)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["scan"]["since"] == "7d"
    assert header["window"]["until"] is not None  # the open end pinned to the first run
    fleet.fetched.clear()
    again = api.scan(SM_ARN, FIELD, since="7d", checkpoint=path)
    assert again.query.since == first.query.since and again.query.until == first.query.until
    assert fleet.fetched == []  # everything was recorded: nothing is fetched again
    assert again.rows == first.rows


def test_a_checkpoint_keeps_in_memory_only_what_it_read(tmp_path: Path) -> None:
    """A row recorded goes to the file and is not kept: a checkpointed scan's memory does not
    grow with the executions it judges (each row held ~0.5 KB, 5 MB a 10,000-execution
    scan). The rows an earlier run recorded are what the next one holds, to skip them."""
    path = tmp_path / "scan.ckpt"
    rows = _rows()
    with Checkpoint.open(path, identity(), (None, T0)) as first:
        for row in rows[:5]:
            first.record(row)
        assert first.done == {}
    with Checkpoint.open(path, identity(), (None, T0)) as second:
        assert list(second.done) == [row.execution.arn for row in rows[:5]]
        for row in rows[5:]:
            second.record(row)
        assert list(second.done) == [row.execution.arn for row in rows[:5]]
    with Checkpoint.open(path, identity(), (None, T0)) as third:
        assert list(third.done.values()) == list(rows)


def test_cli_checkpoint_then_rerun(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "scan.ckpt"
    args = ["scan", SM_ARN, "--field", FIELD, "--format", "jsonl", "--checkpoint", str(path)]
    first = runner.invoke(app, args, catch_exceptions=False)
    fleet.fetched.clear()
    second = runner.invoke(app, args, catch_exceptions=False)
    assert first.exit_code == second.exit_code == ExitCode.FINDING
    assert sorted(first.stdout.splitlines()) == sorted(second.stdout.splitlines())
    assert fleet.fetched == []


# --- a throttling storm -----------------------------------------------------------------------


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("fake_credentials")
def test_distributed_map_children_take_their_tokens_from_the_same_bucket() -> None:
    count = 9  # three of each shape
    with fleet_server.FleetServer(count, burst=400, rate=1000, latency=0.0) as server:
        result = api.scan(
            fleet_server.STATE_MACHINE_ARN,
            fleet_server.FIELD,
            limit=count,
            aws=api.AwsOptions(endpoint_url=server.endpoint_url, region=REGION),
            rate=1000,
            follow_children="all",
        )
        stats = server.stats()
    children = sum(fleet_server.shape_of(i) == "distributed" for i in range(count))
    assert stats["answered"]["DescribeMapRun"] == children == 3
    assert stats["answered"]["GetExecutionHistory"] == fleet_server.expected_pages(count) + 3
    bucket = meter(
        "GetExecutionHistory",
        REGION,
        api.AwsOptions(endpoint_url=server.endpoint_url),
        rate=1000,
        account=fleet_server.STATE_MACHINE_ARN.split(":")[4],  # each account has its buckets
    )
    assert bucket.accepted == stats["answered"]["GetExecutionHistory"]  # every page, children's too
    assert result.history_calls == stats["answered"]["GetExecutionHistory"]
    assert result.totals.unreadable == 0 and result.totals.lost == 2  # run-00000, run-00005


@pytest.mark.usefixtures("fake_credentials")
def test_a_throttling_storm_is_absorbed() -> None:
    """AWS's bucket holds 2 calls and refills 40 a second while the scan believes in 400
    and 20 000 a second: nearly every call is throttled at first. With --max-attempts 2,
    botocore alone would fail them; the scan retries each at the rate it learns, and no
    throttle reaches a row."""
    count = 30
    with fleet_server.FleetServer(count, burst=2, rate=40, latency=0.0) as server:
        seen: list[Any] = []
        result = api.scan(
            fleet_server.STATE_MACHINE_ARN,
            fleet_server.FIELD,
            limit=count,
            aws=api.AwsOptions(endpoint_url=server.endpoint_url, max_attempts=2, region=REGION),
            rate=20_000,
            on_stats=seen.append,
        )
        stats = server.stats()
    assert result.totals.unreadable == 0
    assert result.totals.executions == count
    assert result.totals.lost == 6  # every fifth of 30
    assert stats["throttled"]["GetExecutionHistory"] > 0
    assert result.throttles == stats["throttled"]["GetExecutionHistory"]
    assert stats["answered"]["GetExecutionHistory"] == fleet_server.expected_pages(count)
    assert seen and seen[-1].throttles == result.throttles


def test_jsonl_to_a_file_is_written_whole_and_a_stopped_scan_leaves_none(
    fleet: Fleet, tmp_path: Path
) -> None:
    path = tmp_path / "scan.jsonl"
    args = ["scan", SM_ARN, "--field", FIELD, "--format", "jsonl", "-o", str(path)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == ExitCode.FINDING and result.stdout == ""
    assert len(path.read_text().splitlines()) == 13
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.jsonl"]

    path.unlink()

    def stop(start: int) -> None:
        if start > 0:  # Ctrl-C while the second page is read: histories were written
            raise KeyboardInterrupt

    fleet.on_list_page = stop
    stopped = runner.invoke(app, args, catch_exceptions=False)
    assert stopped.exit_code == 130
    assert list(tmp_path.iterdir()) == []  # no half file, no temporary file
