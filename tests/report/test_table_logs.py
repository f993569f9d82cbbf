"""The table's Lambda logs section: by default only the invocations of the visits that
explain the finding (where the field went null, the blame chain, the consumer), then one
line counting the other invocations that have log lines; ``--all-logs`` shows every one;
the JSON report holds them all either way.

The hierarchical seed fixture makes eight Lambda invocations in thirteen visits; the
finding is explained by two of them (SplitIntoChunks, where the field went null, and
MarkBatchesComplete, the consumer that found it missing)."""

from __future__ import annotations

import dataclasses
import json

from sfn_trace import api
from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine
from sfn_trace.model.result import TraceResult
from sfn_trace.report import RenderOptions
from sfn_trace.report.registry import DEFAULT_OPTIONS
from sfn_trace.trace import analyze
from sfn_trace.trace.invocations import all_invocations
from sfn_trace.trace.visits import build_visits
from tests.data import DEFINITION, fixture_history

F = "poll_results_s3_key"
CLOSING = "--all-logs shows them, --format json holds them all)"


def traced(name: str, without_lines: frozenset[str] = frozenset()) -> TraceResult:
    """``name`` traced with two log lines for each invocation, named after its state and
    visit; the functions in ``without_lines`` had their log group read and no line found."""
    data = api.load(fixture_history(name), definition=DEFINITION)
    tree = build_visits(data.events, data.definition)
    state_of = {
        attempt.start.id: (visit.seq, visit.state)
        for visit in tree.visits
        for attempt in visit.attempts
        if attempt.start is not None
    }
    by_attempt = {}
    for invocation in all_invocations(tree.visits):
        seq, state = state_of[invocation.start_event_id]
        lines = (
            ()
            if invocation.function in without_lines
            else (
                LogLine(1, f"START RequestId: {invocation.request_id}\n", "s"),
                LogLine(2, f"[INFO] log of {state} in visit {seq}\n", "s"),
            )
        )
        by_attempt[invocation.start_event_id] = InvocationLogs(
            invocation.request_id, f"/aws/lambda/{invocation.function}", "s", "request_id", lines
        )
    return analyze(dataclasses.replace(data, lambda_logs=LambdaLogs(by_attempt=by_attempt)), F)


def logs_section(result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> list[str]:
    table = api.render(result, "table", options)
    return table.split("\nLambda logs (", 1)[1].splitlines()[1:]


def shown(section: list[str]) -> list[str]:
    """The log lines shown (their own text: state and visit)."""
    return [line.strip() for line in section if "log of " in line]


def test_the_explaining_invocations_are_shown_and_the_others_counted() -> None:
    result = traced("hierarchical_split_drops_key")
    assert result.first_null is not None and result.first_null.visit.state == "SplitIntoChunks"
    assert result.consumer is not None and result.consumer.visit.state == "MarkBatchesComplete"
    section = logs_section(result)
    assert shown(section) == [
        "[INFO] log of SplitIntoChunks in visit 2",
        "[INFO] log of MarkBatchesComplete in visit 13",
    ]
    assert section[0].startswith("#2 SplitIntoChunks: embedding-split-into-chunks-lambda-dev")
    assert section[-1] == f"(6 other invocations have log lines: {CLOSING}"
    invocations = sum(len(trace.calls) for trace in result.visits)
    assert invocations == 8

    every = logs_section(result, RenderOptions(all_logs=True))
    assert shown(every) == [
        f"[INFO] log of {trace.visit.state} in visit {trace.visit.seq}"
        for trace in result.visits
        for _ in trace.calls
    ]
    assert not any(CLOSING in line for line in every)


def test_only_invocations_with_lines_are_counted() -> None:
    result = traced(
        "hierarchical_split_drops_key",
        frozenset(
            {"embedding-vector-compact-lambda-dev", "embedding-create-chunk-groups-lambda-dev"}
        ),
    )
    section = logs_section(result)
    assert len(shown(section)) == 2
    # MergeGroup x3, FinalMerge and CreateChunkGroups had none: NormalizePollBatchesData left.
    assert section[-1] == f"(1 other invocation has log lines: {CLOSING}"
    every = logs_section(result, RenderOptions(all_logs=True))
    assert len(shown(every)) == 3
    assert sum(line.strip() == "(no lines found in its log group)" for line in every) == 5


def test_the_json_report_holds_every_invocations_lines() -> None:
    result = traced("hierarchical_split_drops_key")
    visits = json.loads(api.render(result, "json"))["visits"]
    with_lines = [
        visit["seq"] for visit in visits if visit["lambda"] and visit["lambda"]["log_lines"]
    ]
    assert with_lines == [trace.visit.seq for trace in result.visits if trace.calls]
    assert len(with_lines) == 8


def test_one_other_invocation_is_counted_in_the_singular() -> None:
    """The flat seed: the blame chain runs MarkBatchesComplete <- ... <- FinalMerge <- ...
    <- SplitIntoChunks, and only NormalizePollBatchesData (visit 1) is outside it."""
    result = traced("flat_split_drops_key")
    assert [hop.seq for hop in result.chain] == [7, 6, 5, 4, 2]
    section = logs_section(result)
    assert shown(section) == [
        "[INFO] log of SplitIntoChunks in visit 2",
        "[INFO] log of FinalMerge in visit 5",
        "[INFO] log of MarkBatchesComplete in visit 7",
    ]
    assert section[-1] == f"(1 other invocation has log lines: {CLOSING}"
