"""Redriven executions: one history, split into attempts; the verdict is the last attempt's.

The recorded corpus holds no redriven history (moto cannot redrive either, gap 8), so the
histories are built with ``tests/history_builder.py`` after the reference (section 2,
"Redrive"): the history is appended to, ``ExecutionRedriven{redriveCount}`` follows the old
terminal event, the unsuccessful state is entered again (its ``previousEventId`` is the
``ExecutionRedriven``), states that succeeded are not rerun, and an inline Map reruns only its
failed iterations.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.visits import Outcome
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.report.trace.json import to_document
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace import TraceResult, Verdict, analyze
from sfn_trace.trace.redrive import split_attempts
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_history, corpus_names
from tests.history_builder import History

F = "key"
LAMBDA: dict[str, Any] = {"resourceType": "lambda", "resource": "invoke"}


def task(h: History, name: str, document: Any, *, result: Any = None, error: str = "") -> int:
    """A Task visit: entered, one invocation; exits with ``result`` unless ``error``."""
    h.add("TaskStateEntered", name=name, input=document)
    h.add("TaskScheduled", parameters={"FunctionName": "f", "Payload": document}, **LAMBDA)
    h.add("TaskStarted", **LAMBDA)
    if error:
        return h.add("TaskFailed", error=error, cause="boom", **LAMBDA)
    h.add("TaskSucceeded", output={"Payload": result}, **LAMBDA)
    return h.add("TaskStateExited", name=name, output=result)


def fail(h: History, error: str = "Lambda.ServiceException") -> int:
    return h.add("ExecutionFailed", error=error, cause="boom")


def redrive(h: History, count: int) -> int:
    return h.add("ExecutionRedriven", redriveCount=count)


def trace(h: History, *, unended: str | None = None) -> TraceResult:
    """Trace as from a history file; ``unended="RUNNING"``: as DescribeExecution would say
    of an execution still running."""
    events = events_from_api(h.events)
    return analyze(ExecutionData(info=infer_info(events, unended=unended), events=events), F)


def set_then_failed(h: History, first_output: Any) -> None:
    """Attempt 1: A writes ``first_output``, B fails."""
    h.start({F: "k1"})
    h.add("PassStateEntered", 0, name="A", input={F: "k1"})
    h.add("PassStateExited", name="A", output=first_output)
    task(h, "B", first_output, error="Lambda.ServiceException")
    fail(h)


def test_the_redriven_attempt_loses_the_field() -> None:
    h = History()
    set_then_failed(h, {F: "k1", "a": 1})
    redriven = redrive(h, 1)
    exit_b = task(h, "B", {F: "k1", "a": 1}, result={F: None, "a": 1})
    h.succeed({F: None, "a": 1})
    result = trace(h)

    first, second = result.attempts
    assert (first.number, first.redrive_count, first.status) == (1, 0, "FAILED")
    assert (first.first_event_id, first.last_event_id) == (1, redriven - 1)
    assert first.error == "Lambda.ServiceException"
    assert (second.number, second.redrive_count, second.status) == (2, 1, "SUCCEEDED")
    assert (second.first_event_id, second.last_event_id) == (redriven, len(h.events))
    assert [result.visits[s - 1].visit.state for s in first.visits] == ["A", "B"]
    assert [result.visits[s - 1].visit.state for s in second.visits] == ["B"]
    assert second.rerun == ("B",) and first.rerun == ()

    assert result.verdict is Verdict.LOST and result.exit_code == ExitCode.FINDING
    assert result.first_null is not None and result.first_null.visit.exit_event_id == exit_b
    assert result.attempt_of(result.first_null) == 2
    assert result.lost_at is not None and result.attempt_of(result.lost_at) == 2
    assert any("verdict is about attempt 2 (SUCCEEDED)" in w for w in result.warnings)


def test_a_null_written_before_the_redrive_carries_on_into_it() -> None:
    """States that succeeded are not rerun: the redriven B reads what A wrote in attempt 1."""
    h = History()
    set_then_failed(h, {F: None, "a": 1})
    redrive(h, 1)
    task(h, "B", {F: None, "a": 1}, result={F: None, "a": 1})
    h.succeed({F: None, "a": 1})
    result = trace(h)

    assert result.verdict is Verdict.LOST
    assert result.first_null is not None and result.first_null.visit.state == "A"
    assert result.attempt_of(result.first_null) == 1
    document = to_document(result)
    assert document["first_null"]["attempt"] == 1
    assert [a["status"] for a in document["attempts"]] == ["FAILED", "SUCCEEDED"]


def test_a_redrive_that_fails_again_reads_the_last_state_output() -> None:
    h = History()
    set_then_failed(h, {F: "k1", "a": 1})
    redrive(h, 1)
    task(h, "B", {F: "k1", "a": 1}, error="Lambda.ServiceException")
    fail(h)
    result = trace(h)

    assert [a.status for a in result.attempts] == ["FAILED", "FAILED"]
    assert result.execution.status == "FAILED"
    # The document the last attempt had: A's output, kept from attempt 1.
    assert result.final_source == "the output of A (event 3)"
    assert result.verdict is Verdict.INTACT
    outcomes = [t.visit.outcome for t in result.visits]
    assert outcomes == [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.FAILED]


def test_three_attempts_the_last_still_running() -> None:
    h = History()
    set_then_failed(h, {F: "k1"})
    redrive(h, 1)
    task(h, "B", {F: "k1"}, error="States.Timeout")
    h.add("ExecutionTimedOut", error="States.Timeout", cause="")
    third = redrive(h, 2)
    h.add("TaskStateEntered", name="B", input={F: "k1"})
    result = trace(h, unended="RUNNING")

    assert [a.status for a in result.attempts] == ["FAILED", "TIMED_OUT", "RUNNING"]
    assert [a.redrive_count for a in result.attempts] == [0, 1, 2]
    assert result.attempts[-1].first_event_id == third
    assert result.attempts[-1].stop is None
    assert result.execution.status == "RUNNING"
    assert any("still running" in w for w in result.warnings)
    assert result.attempts[2].rerun == ("B",)
    # A history file that ends there does not say the execution still runs: it may be cut.
    cut = trace(h)
    assert cut.execution.status is None
    assert cut.verdict is Verdict.UNKNOWN and cut.partial_verdict is Verdict.INTACT
    assert not any("still running" in w for w in cut.warnings)


def inline_map_redriven() -> tuple[History, dict[str, int]]:
    """Iteration 1 of ``Fan`` fails in attempt 1; the redrive reruns only iteration 1."""
    items = [{F: "a"}, {F: "b"}]
    h, ids = History(), {}
    h.start({"items": items})
    entered = h.add("MapStateEntered", 0, name="Fan", input={"items": items})
    started = h.add("MapStateStarted", entered, length=2)
    h.add("MapIterationStarted", started, name="Fan", index=0)
    h.add("PassStateEntered", name="Convert", input=items[0])
    h.add("PassStateExited", name="Convert", output=items[0])
    ok = task(h, "Store", items[0], result=items[0])
    h.add("MapIterationSucceeded", ok, name="Fan", index=0)
    h.add("MapIterationStarted", started, name="Fan", index=1)
    h.add("PassStateEntered", name="Convert", input=items[1])
    h.add("PassStateExited", name="Convert", output=items[1])
    failed = task(h, "Store", items[1], error="Lambda.ServiceException")
    h.add("MapIterationFailed", failed, name="Fan", index=1)
    h.add("MapStateFailed")
    fail(h)
    ids["redriven"] = redrive(h, 1)
    entered = h.add("MapStateEntered", name="Fan", input={"items": items})
    started = h.add("MapStateStarted", entered, length=2)
    h.add("MapIterationStarted", started, name="Fan", index=1)
    h.add("PassStateEntered", name="Convert", input=items[1])
    h.add("PassStateExited", name="Convert", output=items[1])
    ids["store"] = task(h, "Store", items[1], result={F: None})
    last = h.add("MapIterationSucceeded", name="Fan", index=1)
    h.add("MapStateSucceeded", last)
    h.add("MapStateExited", last, name="Fan", output=[items[0], {F: None}])
    h.succeed([items[0], {F: None}])
    return h, ids


def test_an_inline_map_redrive_reruns_only_the_failed_iteration() -> None:
    h, ids = inline_map_redriven()
    tree = build_visits(events_from_api(h.events))
    assert tree.anomalies == ()
    result = trace(h)
    first, second = result.attempts
    states = [(t.visit.scope, t.visit.outcome) for t in result.visits]
    assert [s for s, _ in states] == [
        ("Fan",),
        ("Fan[0]", "Convert"),
        ("Fan[0]", "Store"),
        ("Fan[1]", "Convert"),
        ("Fan[1]", "Store"),
        ("Fan",),
        ("Fan[1]", "Convert"),
        ("Fan[1]", "Store"),
    ]
    assert first.visits == (1, 2, 3, 4, 5) and second.visits == (6, 7, 8)
    assert second.rerun == ("Fan", "Store")

    assert result.verdict is Verdict.LOST
    assert result.first_null is not None
    assert result.first_null.visit.exit_event_id == ids["store"]
    assert result.first_null.scope == ("Fan[1]", "Store")
    assert result.attempt_of(result.first_null) == 2
    assert result.lost_at is not None and result.lost_at.visit.exit_event_id == ids["store"]


def test_reports_show_the_attempts(tmp_path: Path) -> None:
    h, _ = inline_map_redriven()
    result = trace(h)
    table = render(Command.TRACE, TraceFormat.TABLE, result)
    assert "Attempts   #1 FAILED    events 1-" in table
    assert "#2 SUCCEEDED events" in table and "<- the verdict is about this attempt" in table
    assert "reran Fan, Store" in table
    timeline = table.split("Timeline of", 1)[1].splitlines()
    assert timeline[1].split()[:2] == ["try", "#"]
    markdown = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert "## Redrive attempts" in markdown and "The verdict is about attempt 2" in markdown
    document = json.loads(render(Command.TRACE, TraceFormat.JSON, result))
    assert [a["visits"] for a in document["attempts"]] == [[1, 2, 3, 4, 5], [6, 7, 8]]
    assert document["first_null"]["attempt"] == 2


def test_the_cli_exits_on_the_last_attempts_verdict(tmp_path: Path) -> None:
    h = History()
    set_then_failed(h, {F: "k1", "a": 1})
    redrive(h, 1)
    task(h, "B", {F: "k1", "a": 1}, result={F: None, "a": 1})
    h.succeed({F: None, "a": 1})
    path = h.write(tmp_path / "redriven.json")
    result = CliRunner().invoke(app, [str(path), "--field", F, "--format", "json"])
    assert result.exit_code == ExitCode.FINDING
    document = json.loads(result.stdout)
    assert document["verdict"] == "lost" and len(document["attempts"]) == 2
    assert "verdict is about attempt 2" in result.stderr


def test_histories_without_redrive_have_no_attempts() -> None:
    h = History()
    h.start({F: "k"})
    h.pass_state("A", {F: "k"}, {F: "k"})
    h.succeed({F: "k"})
    result = trace(h)
    assert result.attempts == ()
    assert to_document(result)["attempts"] == []
    assert result.attempt_of(result.first_null) is None


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_attempts_cover_each_history(name: str) -> None:
    """No corpus history is redriven today: each must then have no attempts; a redriven one
    added later must split into contiguous attempts covering every event."""
    data = load_history_file(corpus_history(name))
    attempts = split_attempts(data.events, build_visits(data.events).visits)
    if not any(e.type == "ExecutionRedriven" for e in data.events):
        assert attempts == ()
        return
    assert attempts[0].first_event_id == data.events[0].id
    assert attempts[-1].last_event_id == data.events[-1].id
    for before, after in itertools.pairwise(attempts):
        assert after.first_event_id == before.last_event_id + 1
