"""The seed incident and its siblings: each recorded line-ingest run gets the right diagnosis.

The histories were produced by executing ``fixtures/line_ingest/definition.asl.json`` in
moto (``make fixtures``); the expectations in ``scenarios.json`` were written from the
definition's data flow, not read back from the tracer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_trace.api import trace_file
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.trace import Verdict
from tests.data import DEFINITION, fixture_history
from tests.data import SCENARIOS as SCENARIOS_FILE

SCENARIOS = json.loads(SCENARIOS_FILE.read_text())
FIELD = "poll_results_s3_key"


def finding(found: Any) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "state": found.visit.state,
        "event_id": found.visit.exit_event_id,
        "became": found.became,
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_each_failure_point_is_diagnosed(scenario: dict[str, Any]) -> None:
    result = trace_file(fixture_history(scenario["name"]), FIELD, DEFINITION)
    expected = scenario["expected"]
    assert result.verdict.value == expected["verdict"]
    assert finding(result.first_null) == expected["first_null"]
    assert finding(result.lost_at) == expected["lost_at"]


def test_seed_incident_names_split_into_chunks_and_prepare_final_merge() -> None:
    result = trace_file(fixture_history("flat_split_drops_key"), FIELD, DEFINITION)
    assert result.verdict is Verdict.LOST and result.exit_code == 1
    first = result.first_null
    assert first is not None and first.visit.state == "SplitIntoChunks"
    assert first.last_value.startswith("poll_results/8ee0d036-2881-4a5d-b6d5-57022197226a/")
    assert first.path == "$.chunked_data.poll_results_s3_key"
    # With the definition, the explanation comes from the replayed data flow (issue 4).
    assert first.explanation.startswith(
        "poll_results_s3_key went null in SplitIntoChunks (Task, lambda:invoke "
        "embedding-split-into-chunks-lambda-dev): the Lambda result had "
        '"poll_results_s3_key": null although its parameters passed "poll_results/'
    )
    assert (
        'ResultSelector "poll_results_s3_key.$": "$.Payload.poll_results_s3_key" and '
        'ResultPath "$.chunked_data" copied it to $.chunked_data.poll_results_s3_key.'
    ) in first.explanation
    assert result.lost_at.explanation == (
        'Last set copy dropped by PrepareFinalMerge: Parameters "poll_results_s3_key.$": '
        '"$.chunked_data.poll_results_s3_key" read the null and the rest of the input was '
        "discarded."
    )
    assert [hop.state for hop in result.chain] == [
        "MarkBatchesComplete",
        "PrepareMarkBatchesComplete",
        "FinalMerge",
        "PrepareFinalMerge",
        "SplitIntoChunks",
    ]
    assert all(t.replay is not None and t.replay.status.value == "match" for t in result.visits)
    invocation = first.trace.invocation
    assert invocation is not None
    assert invocation.function.startswith("embedding-split-into-chunks")
    assert invocation.request_id
    assert result.lost_at is not None and result.lost_at.visit.state == "PrepareFinalMerge"
    # The consumer received null: the seed's "No poll results to mark as complete".
    mark = next(t for t in result.visits if t.visit.state == "MarkBatchesComplete")
    assert mark.parameters is not None and mark.parameters.status.value == "null"


def test_hierarchical_run_has_map_scopes() -> None:
    result = trace_file(fixture_history("hierarchical_create_groups_drops_key"), FIELD, DEFINITION)
    merges = [t.visit for t in result.visits if t.visit.state == "MergeGroup"]
    assert merges, "the hierarchical path runs MergeGroup inside the MergeChunkGroups Map"
    assert sorted(v.map_iteration for v in merges) == list(range(len(merges)))
    for visit in merges:
        assert visit.scope == (f"MergeChunkGroups[{visit.map_iteration}]", "MergeGroup")


def test_seed_incident_json_matches_the_schema_example() -> None:
    result = trace_file(fixture_history("flat_split_drops_key"), FIELD, DEFINITION)
    document = json.loads(render(Command.TRACE, TraceFormat.JSON, result))
    assert document["schema"] == "sfn-trace/1"
    assert document["verdict"] == "lost"
    first = document["first_null"]
    assert (first["state"], first["event_id"], first["scope"], first["became"]) == (
        "SplitIntoChunks",
        11,
        ["SplitIntoChunks"],
        "null",
    )
    assert first["map_iteration"] is None
    assert document["lost_at"]["state"] == "PrepareFinalMerge"
    assert document["lost_at"]["event_id"] == 15
    split = next(v for v in document["visits"] if v["state"] == "SplitIntoChunks")
    assert (split["entered_event_id"], split["exited_event_id"]) == (7, 11)
    assert split["input"]["status"] == "set"
    assert split["output"]["status"] == "mixed"
    assert split["lambda"]["function"].startswith("embedding-split-into-chunks")
    keys = {
        "state",
        "type",
        "entered_event_id",
        "exited_event_id",
        "scope",
        "map_iteration",
        "replay",
        "input",
        "output",
        "lambda",
    }
    assert keys <= set(split)


def test_json_output_is_deterministic() -> None:
    path = fixture_history("hierarchical_create_groups_drops_key")
    assert render(Command.TRACE, TraceFormat.JSON, trace_file(path, FIELD, DEFINITION)) == render(
        Command.TRACE, TraceFormat.JSON, trace_file(path, FIELD, DEFINITION)
    )


def test_every_output_format_has_a_renderer() -> None:
    for output_format in TraceFormat:
        assert render(
            Command.TRACE,
            output_format,
            trace_file(fixture_history("flat_intact"), FIELD, DEFINITION),
        ).endswith("\n")


def test_a_replay_failure_costs_the_explanation_not_the_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    # the module, not the function that sfn_trace.trace re-exports under the same name
    analyze_module = importlib.import_module("sfn_trace.trace.analyze")

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("an ASL construct the replay does not know")

    monkeypatch.setattr(analyze_module, "replay_visits", broken)
    result = trace_file(fixture_history("flat_split_drops_key"), FIELD, DEFINITION)
    assert result.verdict is Verdict.LOST
    assert result.first_null is not None and result.first_null.visit.state == "SplitIntoChunks"
    assert "the Lambda result held null" in result.first_null.explanation
    assert result.chain == ()
    assert any("could not be replayed (KeyError" in w for w in result.warnings)
