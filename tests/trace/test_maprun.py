"""Distributed Map: Map Runs described, children listed, fetched and traced, findings inside them.

Three depths: the pure part (``sfn_trace.trace.maprun``) on histories built
with ``tests/history_builder.py``; the API sequence (DescribeMapRun, ListExecutions with
``mapRunArn`` over several pages, the normal fetch per child, ListMapRuns) against botocore's
Stubber; and end to end with moto, which runs Distributed Map parents but creates no children
and crashes on ``ListExecutions(mapRunArn)`` (gap 9): the children's histories there are real
moto runs of the ItemProcessor, served through Stubber.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.cli.trace import parse_follow_children
from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import (
    ChildExecution,
    ExecutionData,
    ExecutionInfo,
    MapRunData,
    infer_info,
)
from sfn_trace.model.options import AwsOptions
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.report.trace.json import to_document
from sfn_trace.sources.aws.history import fetch_execution
from sfn_trace.sources.aws.maprun import follow_map_runs, numbered
from sfn_trace.sources.aws.pacing import TokenBucket
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace import TraceResult, Verdict, analyze
from tests.data import corpus_history, corpus_names
from tests.history_builder import History
from tests.stubbing import OverlapStubber

F = "key"
REGION = "us-west-2"
ACCOUNT = "123456789012"
PARENT = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:ingest:run-1"
MAP_RUN = (
    f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:ingest/Fan:5e1a2b3c-0000-4000-8000-000000000001"
)
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ITEMS = [{F: "a", "n": 1}, {F: "b", "n": 2}, {F: "c", "n": 3}]
PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Convert",
    "States": {
        "Convert": {
            "Type": "Pass",
            "Parameters": {"key.$": "$.alt", "n.$": "$.n"},
            "End": True,
        }
    },
}


def child_arn(n: int) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:ingest/Fan:item-{n}"


def converted(item: dict[str, Any], lossy: bool) -> dict[str, Any]:
    return {F: None if lossy else item[F], "n": item["n"]}


def parent_history(outputs: list[Any], *, with_arn: bool = True) -> History:
    h = History()
    h.start({"items": ITEMS})
    entered = h.add("MapStateEntered", 0, name="Fan", input={"items": ITEMS})
    h.add("MapStateStarted", entered, length=0)
    details: dict[str, Any] = {"mapRunArn": MAP_RUN} if with_arn else {}
    run = h.add("MapRunStarted", **details)
    ended = h.add("MapRunSucceeded", run)
    h.add("MapStateSucceeded", ended)
    h.add("MapStateExited", ended, name="Fan", output=outputs)
    h.succeed(outputs)
    return h


def child_events(item: dict[str, Any], lossy: bool) -> list[dict[str, Any]]:
    h = History()
    h.start(item)
    h.pass_state("Convert", item, converted(item, lossy))
    h.succeed(converted(item, lossy))
    return h.events


def child_data(n: int, lossy: bool) -> ExecutionData:
    events = events_from_api(child_events(ITEMS[n - 1], lossy))
    info = infer_info(events, arn=child_arn(n))
    return ExecutionData(
        info=ExecutionInfo(arn=child_arn(n), name=f"item-{n}", status=info.status,
                           start=info.start, stop=info.stop),
        events=events,
        source="aws",
    )  # fmt: skip


def parent_data(lossy: int | None = 2, followed: tuple[int, ...] = (1, 2, 3)) -> ExecutionData:
    outputs = [converted(item, n == lossy) for n, item in enumerate(ITEMS, start=1)]
    events = events_from_api(parent_history(outputs).events)
    children = tuple(
        ChildExecution(n, child_arn(n), f"item-{n}", "SUCCEEDED", T0 + timedelta(seconds=n),
                       data=child_data(n, n == lossy))
        for n in followed
    )  # fmt: skip
    run = MapRunData(MAP_RUN, followed=bool(followed), listed=3, children=children)
    return ExecutionData(
        info=infer_info(events, arn=PARENT), events=events, source="aws", map_runs=(run,)
    )


# --- pure: the representation ------------------------------------------------------------------


def test_the_loss_is_found_in_the_child_that_made_it() -> None:
    result = analyze(parent_data(lossy=2), F)
    assert result.verdict is Verdict.LOST
    first = result.first_null
    assert first is not None and first.child is not None
    assert first.scope == ("Fan(child 2: item-2)", "Convert")
    assert first.visit.state == "Fan" and first.visit.seq == 1  # the parent's Map visit
    assert first.leaf.visit.state == "Convert"
    assert (first.became, first.last_value, first.path) == ("null", "b", "$.key")
    assert first.child.ref.item_value == ITEMS[1]
    assert first.explanation.startswith(
        'in child execution 2 of Fan (item-2, item {"key": "b", "n": 2}): its input held "b"'
    )
    lost = result.lost_at
    assert lost is not None and lost.scope == ("Fan(child 2: item-2)", "Convert")

    (run,) = result.map_runs
    assert (run.state, run.seq, run.event_id, run.status) == ("Fan", 1, 4, "SUCCEEDED")
    assert run.followed and run.listed == 3
    assert [(c.ref.number, c.result and c.result.verdict) for c in run.children] == [
        (1, Verdict.INTACT),
        (2, Verdict.LOST),
        (3, Verdict.INTACT),
    ]
    assert [c.item.status.value for c in run.children] == ["set", "set", "set"]


def test_json_names_the_child_and_its_item() -> None:
    document = to_document(analyze(parent_data(lossy=3), F))
    first = document["first_null"]
    assert first["state"] == "Convert" and first["seq"] == 1 and first["event_id"] == 3
    assert first["scope"] == ["Fan(child 3: item-3)", "Convert"]
    assert first["child"] == {
        "map_state": "Fan",
        "map_seq": 1,
        "map_run_arn": MAP_RUN,
        "number": 3,
        "name": "item-3",
        "arn": child_arn(3),
        "item": ITEMS[2],
    }
    (run,) = document["map_runs"]
    assert run["followed"] is True and run["children_listed"] == 3
    assert [c["verdict"] for c in run["children"]] == ["intact", "intact", "lost"]
    assert run["children"][2]["first_null"]["scope"] == ["Convert"]
    assert run["children"][2]["item"] == ITEMS[2]


def test_reports_show_the_child() -> None:
    result = analyze(parent_data(lossy=2), F)
    table = render(Command.TRACE, TraceFormat.TABLE, result)
    assert "Went null  Fan(child 2: item-2) > Convert (Pass, event 3 of the child)" in table
    assert "Map Run    Fan (event 4): SUCCEEDED; followed 3 of 3" in table
    assert "Children of Fan (3 of 3 followed, in start order)" in table
    assert "<- went null in child 2, last copy in child 2" in table
    markdown = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert markdown.startswith("# LOST: `key` went null in `Convert` (child 2 of `Fan`)")
    assert "## Distributed Map runs" in markdown
    assert "## The culprit: `Convert`" in markdown and "Inside `Fan(child 2: item-2)`." in markdown
    assert f"sfn-trace {PARENT} --field key --follow-children 3\n" in markdown
    rows = list(csv.DictReader(io.StringIO(render(Command.TRACE, TraceFormat.CSV, result))))
    # The parent's timeline marks the Map visit that holds the child.
    assert [(r["state"], r["first_null"]) for r in rows] == [("Fan", "True")]


def test_a_loss_before_the_map_stays_the_first_null() -> None:
    data = parent_data(lossy=2)
    raw = parent_history([converted(i, n == 2) for n, i in enumerate(ITEMS, 1)]).events
    # Insert a Pass state before the Map that nulls a copy of the field.
    h = History()
    h.start({"items": ITEMS, F: "top"})
    h.pass_state("Early", {"items": ITEMS, F: "top"}, {"items": ITEMS, F: None})
    offset = len(h.events)
    for event in raw[1:]:
        moved = dict(event, id=event["id"] + offset - 1)
        if moved["previousEventId"]:
            moved["previousEventId"] += offset - 1
        else:
            moved["previousEventId"] = offset
        h.events.append(moved)
    events = events_from_api(h.events)
    result = analyze(
        ExecutionData(infer_info(events, PARENT), events, source="aws", map_runs=data.map_runs), F
    )
    assert result.first_null is not None and result.first_null.scope == ("Early",)
    assert result.first_null.child is None


def test_unfollowed_map_runs_say_how_to_follow_them(tmp_path: Path) -> None:
    path = parent_history([converted(i, n == 2) for n, i in enumerate(ITEMS, 1)]).write(
        tmp_path / "parent.json"
    )
    result = analyze(load_history_file(path), F)
    (run,) = result.map_runs
    assert not run.followed and run.children == () and run.total is None
    assert run.follow_command == f"sfn-trace {path} --field key --follow-children 20"
    assert any(
        w.startswith(f"Fan ran a Distributed Map (Map Run {MAP_RUN}, child executions)")
        and w.endswith(run.follow_command)
        for w in result.warnings
    )
    # Nothing followed: the parent's own answer stands (the Map visit).
    assert result.first_null is not None and result.first_null.child is None
    assert result.first_null.visit.state == "Fan"


def test_children_are_numbered_in_start_order() -> None:
    listed = [
        ChildExecution(0, "arn:c", "c", start=T0 + timedelta(seconds=3)),
        ChildExecution(0, "arn:b2", "b2", start=T0 + timedelta(seconds=1)),
        ChildExecution(0, "arn:x", "x"),
        ChildExecution(0, "arn:b1", "b1", start=T0 + timedelta(seconds=1)),
    ]
    assert [(c.number, c.name) for c in numbered(listed)] == [
        (1, "b1"),
        (2, "b2"),
        (3, "c"),
        (4, "x"),
    ]


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("all", "all"), (" ALL ", "all")])
def test_follow_children_values(text: str, value: Any) -> None:
    assert parse_follow_children(text) == value


@pytest.mark.parametrize("text", ["0", "-2", "some", ""])
def test_bad_follow_children_is_a_usage_error(text: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        parse_follow_children(text)
    history = parent_history([]).write(tmp_path / "h.json")
    result = CliRunner().invoke(app, [str(history), "--field", F, "--follow-children", text])
    assert result.exit_code == ExitCode.USAGE
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--follow-children takes a positive number or 'all'" in lines[0]


# --- the API sequence against Stubber -------------------------------------------------------


class NoWait(TokenBucket):
    def __init__(self) -> None:
        super().__init__(1000, 1000.0)
        self.waits = 0

    def wait(self) -> float:
        self.waits += 1
        return 0.0


def client() -> Any:
    return boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def describe_map_run_response(arn: str = MAP_RUN, total: int = 3) -> dict[str, Any]:
    counts = {
        "pending": 0,
        "running": 0,
        "succeeded": total - 1,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
        "total": total,
        "resultsWritten": total,
    }
    return {
        "mapRunArn": arn,
        "executionArn": PARENT,
        "status": "SUCCEEDED",
        "startDate": T0,
        "stopDate": T0 + timedelta(minutes=1),
        "maxConcurrency": 10,
        "toleratedFailurePercentage": 0.0,
        "toleratedFailureCount": 0,
        "itemCounts": counts,
        "executionCounts": counts,
    }


def listed(n: int, arn: str = MAP_RUN) -> dict[str, Any]:
    return {
        "executionArn": child_arn(n),
        "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ingest/Fan",
        "name": f"item-{n}",
        "status": "SUCCEEDED",
        "startDate": T0 + timedelta(seconds=n),
        "stopDate": T0 + timedelta(seconds=n, milliseconds=500),
        "mapRunArn": arn,
        "itemCount": 1,
    }


def add_listing(stub: Stubber, pages: list[list[int]], arn: str = MAP_RUN) -> None:
    for number, page in enumerate(pages):
        params: dict[str, Any] = {"mapRunArn": arn, "maxResults": 1000}
        if number:
            params["nextToken"] = f"page-{number}"
        response: dict[str, Any] = {"executions": [listed(n, arn) for n in page]}
        if number + 1 < len(pages):
            response["nextToken"] = f"page-{number + 1}"
        stub.add_response("list_executions", response, params)


def child_client(n: int, events: list[dict[str, Any]], definition: dict[str, Any]) -> Any:
    """A client whose Stubber serves one child's DescribeExecution, definition and history
    (asked for at once: answered by operation and parameters)."""
    sfn = client()
    stub = OverlapStubber(sfn)
    arn = child_arn(n)
    stub.add_response(
        "describe_execution",
        {
            "executionArn": arn,
            "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ingest/Fan",
            "name": f"item-{n}",
            "status": "SUCCEEDED",
            "startDate": T0 + timedelta(seconds=n),
            "stopDate": T0 + timedelta(seconds=n, milliseconds=500),
            "mapRunArn": MAP_RUN,
        },
        {"executionArn": arn},
    )
    stub.add_response(
        "describe_state_machine_for_execution",
        {
            "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ingest/Fan",
            "name": "ingest/Fan",
            "definition": json.dumps(definition),
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/sfn",
            "updateDate": T0,
            "mapRunArn": MAP_RUN,
            "label": "Fan",
        },
        {"executionArn": arn},
    )
    stub.add_response(
        "get_execution_history",
        {"events": [dict(e, timestamp=_datetime(e["timestamp"])) for e in events]},
        {
            "executionArn": arn,
            "includeExecutionData": True,
            "reverseOrder": False,
            "maxResults": 1000,
        },
    )
    stub.activate()
    sfn.stub = stub
    return sfn


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def stubbed_children(lossy: int, numbers: list[int]) -> dict[str, Any]:
    definition = {k: v for k, v in PROCESSOR.items() if k != "ProcessorConfig"}
    return {
        child_arn(n): child_client(n, child_events(ITEMS[n - 1], n == lossy), definition)
        for n in numbers
    }


def unfetched_parent() -> ExecutionData:
    outputs = [converted(item, n == 2) for n, item in enumerate(ITEMS, start=1)]
    events = events_from_api(parent_history(outputs).events)
    return ExecutionData(info=infer_info(events, arn=PARENT), events=events, source="aws")


def test_describe_list_two_pages_and_fetch_each_child() -> None:
    sfn = client()
    children = stubbed_children(lossy=2, numbers=[1, 2, 3])
    limiter = NoWait()
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        add_listing(stub, [[3, 2], [1]])  # newest first, as ListExecutions lists
        data = follow_map_runs(
            unfetched_parent(),
            AwsOptions(),
            "all",
            client=sfn,
            fetch_child=lambda arn: fetch_execution(arn, client=children[arn]),
            limiter=limiter,
        )
        stub.assert_no_pending_responses()
    for child in children.values():
        child.stub.assert_no_pending_responses()
    assert limiter.waits == 3
    (run,) = data.map_runs
    assert run.followed and run.listed == 3
    assert run.description is not None and run.description.execution_counts is not None
    assert run.description.execution_counts.summary() == "3 total: 2 succeeded, 1 failed"
    assert [c.name for c in run.children] == ["item-1", "item-2", "item-3"]
    assert all(c.data is not None and c.data.definition is not None for c in run.children)

    result = analyze(data, F)
    assert result.first_null is not None
    assert result.first_null.scope == ("Fan(child 2: item-2)", "Convert")
    assert result.warnings == ()


def test_a_count_follows_the_first_children_in_start_order() -> None:
    sfn = client()
    children = stubbed_children(lossy=3, numbers=[1, 2])
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        add_listing(stub, [[3], [2], [1]])
        data = follow_map_runs(
            unfetched_parent(),
            AwsOptions(),
            2,
            client=sfn,
            fetch_child=lambda arn: fetch_execution(arn, client=children[arn]),
            limiter=NoWait(),
        )
    (run,) = data.map_runs
    assert [c.number for c in run.children] == [1, 2] and run.listed == 3
    result = analyze(data, F)
    # The lossy child (3) was not followed: the parent's own finding stays on the Map visit.
    assert result.first_null is not None and result.first_null.child is None
    assert any("followed 2 of the 3 child executions of Fan" in w for w in result.warnings)
    assert any("--follow-children all follows every one" in w for w in result.warnings)


def test_a_child_that_cannot_be_read_is_reported_in_its_row() -> None:
    sfn = client()
    children = stubbed_children(lossy=3, numbers=[1, 3])
    broken = client()
    broken_stub = Stubber(broken)
    broken_stub.add_client_error("describe_execution", "AccessDeniedException", "denied")
    broken_stub.activate()
    children[child_arn(2)] = broken
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        add_listing(stub, [[1, 2, 3]])
        data = follow_map_runs(
            unfetched_parent(),
            AwsOptions(),
            "all",
            client=sfn,
            fetch_child=lambda arn: fetch_execution(arn, client=children[arn]),
            limiter=NoWait(),
        )
    result = analyze(data, F)
    (run,) = result.map_runs
    assert [c.result is not None for c in run.children] == [True, False, True]
    assert run.children[1].error is not None
    assert "states:DescribeExecution" in run.children[1].error
    assert result.first_null is not None and result.first_null.child is not None
    assert result.first_null.child.ref.number == 3
    assert any(w.startswith("Fan(child 2: item-2) could not be read:") for w in result.warnings)
    document = to_document(result)
    assert document["map_runs"][0]["children"][1]["verdict"] is None
    assert "not read" in render(Command.TRACE, TraceFormat.TABLE, result)


def test_children_that_cannot_be_listed_do_not_stop_the_trace() -> None:
    sfn = client()
    with Stubber(sfn) as stub:
        stub.add_client_error("describe_map_run", "AccessDeniedException", "denied")
        # moto answers ListExecutions(mapRunArn) with an HTTP 500 (gap 9).
        stub.add_client_error("list_executions", "InternalServerError", "boom", 500)
        data = follow_map_runs(unfetched_parent(), AwsOptions(), 5, client=sfn, limiter=NoWait())
    (run,) = data.map_runs
    assert not run.followed and run.note is not None
    assert run.note.startswith("children not listed: AWS error InternalServerError")
    assert any("states:DescribeMapRun" in w for w in data.warnings)
    result = analyze(data, F)
    assert result.verdict is Verdict.LOST
    assert any("children not listed" in w and "follow them with" in w for w in result.warnings)


def test_without_following_only_describe_map_run_is_called() -> None:
    sfn = client()
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        data = follow_map_runs(unfetched_parent(), AwsOptions(), None, client=sfn)
        stub.assert_no_pending_responses()
    result = analyze(data, F)
    (run,) = result.map_runs
    assert run.total == 3 and not run.followed
    assert run.follow_command == f"sfn-trace {PARENT} --field key --follow-children all"
    table = render(Command.TRACE, TraceFormat.TABLE, result)
    assert "child executions 3 total: 2 succeeded, 1 failed; children not followed" in table
    markdown = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert f"sfn-trace {PARENT} --field key --follow-children all" in markdown


def test_the_budget_runs_out_across_map_runs() -> None:
    second = MAP_RUN.replace("000000000001", "000000000002")
    h = History()
    h.start({"items": ITEMS})
    for arn in (MAP_RUN, second):
        entered = h.add("MapStateEntered", name="Fan", input={"items": ITEMS})
        h.add("MapStateStarted", entered, length=0)
        run = h.add("MapRunStarted", mapRunArn=arn)
        ended = h.add("MapRunSucceeded", run)
        h.add("MapStateSucceeded", ended)
        h.add("MapStateExited", ended, name="Fan", output=ITEMS)
    h.succeed(ITEMS)
    events = events_from_api(h.events)
    parent = ExecutionData(info=infer_info(events, arn=PARENT), events=events, source="aws")
    sfn = client()
    children = stubbed_children(lossy=0, numbers=[1, 2])
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        add_listing(stub, [[2, 1]])
        stub.add_response(
            "describe_map_run", describe_map_run_response(second), {"mapRunArn": second}
        )
        data = follow_map_runs(
            parent,
            AwsOptions(),
            2,
            client=sfn,
            fetch_child=lambda arn: fetch_execution(arn, client=children[arn]),
            limiter=NoWait(),
        )
        stub.assert_no_pending_responses()
    first_run, second_run = analyze(data, F).map_runs
    assert first_run.followed and len(first_run.children) == 2
    assert not second_run.followed and second_run.note is not None
    assert "budget went to earlier Map Runs" in second_run.note


def test_list_map_runs_finds_an_arn_the_history_lacks() -> None:
    events = events_from_api(parent_history(ITEMS, with_arn=False).events)
    parent = ExecutionData(info=infer_info(events, arn=PARENT), events=events, source="aws")
    sfn = client()
    with Stubber(sfn) as stub:
        stub.add_response(
            "list_map_runs",
            {
                "mapRuns": [
                    {
                        "executionArn": PARENT,
                        "mapRunArn": MAP_RUN,
                        "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:x/Fan",
                        "startDate": T0,
                    }
                ]
            },
            {"executionArn": PARENT},
        )
        stub.add_response("describe_map_run", describe_map_run_response(), {"mapRunArn": MAP_RUN})
        data = follow_map_runs(parent, AwsOptions(), None, client=sfn)
        stub.assert_no_pending_responses()
    assert [run.arn for run in data.map_runs] == [MAP_RUN]


def test_redacting_also_redacts_the_children(monkeypatch: pytest.MonkeyPatch) -> None:
    data = parent_data(lossy=2)
    monkeypatch.setattr(api, "load", lambda *a, **k: data)
    result = CliRunner().invoke(
        app, [PARENT, "--field", F, "--format", "json", "--redact", "--follow-children", "all"]
    )
    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(result.stdout)
    child = document["map_runs"][0]["children"][0]
    assert child["item"][F] == "a" and child["item"]["n"] != 1  # only the field is kept
    assert document["first_null"]["child"]["item"][F] == "b"


# --- the corpus and moto -----------------------------------------------------------------------


def _map_run_corpus() -> list[str]:
    names = [n for n in corpus_names() if '"MapRunStarted"' in corpus_history(n).read_text("utf-8")]
    if not names:  # an empty parameter list would make pytest skip: fail the collection
        raise LookupError("no recorded history holds MapRunStarted")
    return names


@pytest.mark.parametrize("name", _map_run_corpus())
def test_corpus_distributed_maps_are_reported_with_a_follow_command(name: str) -> None:
    path = corpus_history(name)
    data = load_history_file(path)
    result = analyze(data, "sfn_trace_field_that_no_history_holds")
    starts = [e for e in data.events if e.type == "MapRunStarted"]
    assert len(result.map_runs) == len(starts) >= 1
    for run, event in zip(result.map_runs, starts, strict=True):
        visit = result.visits[run.seq - 1].visit
        assert visit.type == "Map" and visit.state == run.state
        assert run.event_id == event.id and not run.followed
        assert run.follow_command.startswith(f"sfn-trace {path} --field ")


def distributed(label: str) -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": PROCESSOR,
                    "Label": label, "End": True}
        },
    }  # fmt: skip


MOTO_ITEMS = [{"key": f"k{n}", "alt": f"k{n}", "n": n} for n in range(1, 4)]
MOTO_ITEMS[1] = {"key": "k2", "alt": None, "n": 2}  # Convert copies its null "alt" into "key"


@pytest.mark.moto_server
@pytest.mark.usefixtures("aws_env")
def test_a_moto_parent_leads_to_the_child_that_lost_the_field(lab: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    machine = f"dm-{tag}"
    parent_arn = lab.run(lab.deploy_state_machine(machine, distributed("Fan")), input={
        "items": MOTO_ITEMS})  # fmt: skip
    options = AwsOptions(endpoint_url=lab.endpoint_url, max_attempts=2)
    parent = api.load(parent_arn, aws=options, logs=False)
    (map_run_arn,) = {e.map_run_arn for e in parent.events if e.map_run_arn}
    described = lab.sfn.describe_map_run(mapRunArn=map_run_arn)  # real moto
    described.pop("ResponseMetadata")
    # The children moto does not create: run the ItemProcessor itself, once per item.
    processor = lab.deploy_state_machine(
        f"{machine}-processor", {k: v for k, v in PROCESSOR.items() if k != "ProcessorConfig"}
    )
    child_events = [lab.history(lab.run(processor, input=item)) for item in MOTO_ITEMS]
    sfn = client()
    children: dict[str, Any] = {}
    for n, events in enumerate(child_events, start=1):
        children[child_arn(n)] = child_client(n, events, PROCESSOR)
    with Stubber(sfn) as stub:
        stub.add_response("describe_map_run", described, {"mapRunArn": map_run_arn})
        stub.add_response(
            "list_executions",
            {"executions": [listed(n, map_run_arn) for n in (3, 2, 1)]},
            {"mapRunArn": map_run_arn, "maxResults": 1000},
        )
        data = follow_map_runs(
            parent,
            options,
            "all",
            client=sfn,
            fetch_child=lambda arn: fetch_execution(arn, client=children[arn]),
            limiter=NoWait(),
        )
    result: TraceResult = analyze(data, "key")
    assert result.verdict is Verdict.LOST  # the Map output holds one null "key"
    first = result.first_null
    assert first is not None and first.child is not None
    assert first.scope == ("Fan(child 2: item-2)", "Convert")
    assert first.child.ref.item_value == MOTO_ITEMS[1]
    assert (first.last_value, first.became, first.path) == ("k2", "null", "$.key")
    (run,) = result.map_runs
    assert run.arn == map_run_arn and run.total == 3
    assert [c.result.verdict.value for c in run.children if c.result] == [
        "intact",
        "lost",
        "intact",
    ]


@pytest.mark.moto_server
@pytest.mark.usefixtures("aws_env")
def test_the_cli_on_a_moto_parent_says_how_to_follow_and_survives_moto_s_crash(
    lab: Any,
) -> None:
    tag = uuid.uuid4().hex[:8]
    parent_arn = lab.run(
        lab.deploy_state_machine(f"dm-cli-{tag}", distributed("Fan")),
        input={"items": MOTO_ITEMS[:1]},
    )
    runner = CliRunner()
    base = [parent_arn, "--field", "key", "--no-logs", "--endpoint-url", lab.endpoint_url]
    base += ["--max-attempts", "1"]  # moto's HTTP 500 on ListExecutions is retried otherwise
    shown = runner.invoke(app, [*base, "--format", "table"])
    assert shown.exit_code == ExitCode.INTACT, shown.stderr
    assert "Map Run    Fan (event 4): SUCCEEDED, child executions 1 total: 1 succeeded" in (
        shown.stdout
    )
    assert f"follow them with: sfn-trace {parent_arn} --field key --follow-children all" in (
        shown.stderr
    )
    followed = runner.invoke(app, [*base, "--format", "json", "--follow-children", "all"])
    assert followed.exit_code == ExitCode.INTACT, followed.stderr
    (run,) = json.loads(followed.stdout)["map_runs"]
    assert run["followed"] is False and run["note"].startswith("children not listed")
