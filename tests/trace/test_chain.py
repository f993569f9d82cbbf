"""sfn_trace.trace.chain: provenance inside a visit, the blame chain, the headlines."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.replay import Replay, Step
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace import analyze
from sfn_trace.trace.chain import OriginKind, blame_chain, readers, trace_location
from sfn_trace.trace.explain import explain_first_null, explain_lost_at
from sfn_trace.trace.visits import build_visits
from tests.asl.test_replay import FIELD, SCENARIOS, by_state, line_ingest
from tests.data import corpus_definition, corpus_history


def chain_of(scenario: str) -> list[dict[str, Any]]:
    data, replays = line_ingest(scenario)
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    return [hop.as_json() for hop in blame_chain(tree, replays, FIELD)]


# --- inside one visit -------------------------------------------------------------------------


def test_a_task_output_location_traces_back_to_the_lambda_result() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    origin = trace_location(by_state(replays, "SplitIntoChunks"), "$.chunked_data." + FIELD)
    assert origin.kind is OriginKind.RESULT
    assert origin.path == "$.Payload.poll_results_s3_key"
    assert origin.expression == (
        'ResultSelector "poll_results_s3_key.$": "$.Payload.poll_results_s3_key" '
        '→ ResultPath "$.chunked_data"'
    )


def test_a_location_outside_the_result_path_is_the_raw_input() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    origin = trace_location(
        by_state(replays, "SplitIntoChunks"), "$.poll_results_data.poll_results_s3_key"
    )
    assert (origin.kind, origin.path, origin.links) == (
        OriginKind.INPUT,
        "$.poll_results_data.poll_results_s3_key",
        (),
    )


def test_a_parameters_member_moves_the_location() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    origin = trace_location(by_state(replays, "PrepareFinalMerge"), "$.poll_results_s3_key")
    assert (origin.kind, origin.path) == (OriginKind.INPUT, "$.chunked_data.poll_results_s3_key")


def replay_of(steps: list[Step], type_: str = "Pass", language: str = "JSONPath") -> Replay:
    return Replay(1, "S", type_, language, {"in": 1}, tuple(steps), None)


def test_literals_context_and_variables_are_origins() -> None:
    template = {"lit": "x", "ctx.$": "$$.Execution.Name", "var.$": "$v.k"}
    replay = replay_of([Step("InputPath", "$", {}, default=True), Step("Parameters", template, {})])
    assert trace_location(replay, "$.lit").kind is OriginKind.LITERAL
    assert trace_location(replay, "$.ctx").kind is OriginKind.CONTEXT
    variable = trace_location(replay, "$.var")
    assert (variable.kind, variable.detail, variable.path) == (OriginKind.VARIABLE, "v", "$.k")


def test_a_map_result_item_comes_from_its_iteration() -> None:
    replay = replay_of(
        [
            Step("InputPath", "$", {}, default=True),
            Step("Result", "Iterations", [{"F": 1}, {"F": 2}], recorded=True),
            Step("ResultPath", "$.out", {}),
        ],
        type_="Map",
    )
    origin = trace_location(replay, "$.out[1].F")
    assert (origin.kind, origin.index, origin.path) == (OriginKind.ITERATION, 1, "$.F")


def test_jsonata_plain_paths_are_followed_and_expressions_are_computed() -> None:
    output = {"a": "{% $states.input.x.y %}", "b": "{% $states.result.F %}", "c": "{% 1 + 2 %}"}
    replay = replay_of(
        [Step("Result", "arn", {"F": 1}, recorded=True), Step("Output", output, {})],
        type_="Task",
        language="JSONata",
    )
    assert (trace_location(replay, "$.a").path, trace_location(replay, "$.a").kind) == (
        "$.x.y",
        OriginKind.INPUT,
    )
    assert trace_location(replay, "$.b").kind is OriginKind.RESULT
    assert trace_location(replay, "$.c").kind is OriginKind.COMPUTED


# --- the blame chain --------------------------------------------------------------------------


def test_the_seed_chain_runs_from_the_consumer_to_split_into_chunks() -> None:
    chain = chain_of("flat_split_drops_key")
    assert [(h["state"], h["written_by"]) for h in chain] == [
        ("MarkBatchesComplete", "PrepareMarkBatchesComplete"),
        ("PrepareMarkBatchesComplete", "FinalMerge"),
        ("FinalMerge", "PrepareFinalMerge"),
        ("PrepareFinalMerge", "SplitIntoChunks"),
        ("SplitIntoChunks", None),
    ]
    assert [h["read"] for h in chain] == [
        "$.poll_results_s3_key",
        "$.final_merge_result.poll_results_s3_key",
        "$.poll_results_s3_key",
        "$.chunked_data.poll_results_s3_key",
        "$.Payload.poll_results_s3_key",
    ]
    assert all(h["value"] is None for h in chain)
    assert chain[0]["expression"] == 'Parameters "poll_results_s3_key.$": "$.poll_results_s3_key"'
    # FinalMerge's Lambda passed the null through: the chain goes on to its parameters.
    assert "the task returned it" in chain[2]["expression"]
    origin = chain[-1]
    assert origin["source"] == "result"
    assert origin["expression"] == (
        'ResultSelector "poll_results_s3_key.$": "$.Payload.poll_results_s3_key" '
        '→ ResultPath "$.chunked_data"'
    )
    assert origin["note"].startswith(
        "the Lambda result held null at $.Payload.poll_results_s3_key although its parameters "
        'passed "poll_results/8ee0d036'
    )


@pytest.mark.parametrize(
    ("scenario", "origin"),
    [
        ("flat_normalize_returns_null", "NormalizePollBatchesData"),
        ("hierarchical_create_groups_drops_key", "CreateChunkGroups"),
        ("flat_final_merge_returns_null", "FinalMerge"),
        ("flat_intact", "NormalizePollBatchesData"),
    ],
)
def test_every_chain_ends_at_the_lambda_that_made_the_value(scenario: str, origin: str) -> None:
    chain = chain_of(scenario)
    assert chain[0]["state"] == "MarkBatchesComplete"
    assert (chain[-1]["state"], chain[-1]["source"], chain[-1]["written_by"]) == (
        origin,
        "result",
        None,
    )
    for hop, after in itertools.pairwise(chain):
        assert hop["written_by"] == after["state"]


def test_no_chain_for_a_field_nobody_reads() -> None:
    data, replays = line_ingest("flat_intact")
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    assert blame_chain(tree, replays, "no_such_field") == ()


# --- the headlines ------------------------------------------------------------------------------


def test_the_seed_headline_reads_like_the_issue() -> None:
    data, replays = line_ingest("flat_split_drops_key")
    result = analyze(data, FIELD)
    assert result.first_null is not None and result.lost_at is not None
    first = explain_first_null(replays[result.first_null.visit.seq], FIELD)
    assert first == (
        "poll_results_s3_key went null in SplitIntoChunks (Task, lambda:invoke "
        "embedding-split-into-chunks-lambda-dev): the Lambda result had "
        '"poll_results_s3_key": null although its parameters passed '
        '"poll_results/8ee0d036-2881-4a…022197226a/poll_results.json"; ResultSelector '
        '"poll_results_s3_key.$": "$.Payload.poll_results_s3_key" and ResultPath '
        '"$.chunked_data" copied it to $.chunked_data.poll_results_s3_key.'
    )
    lost = explain_lost_at(replays[result.lost_at.visit.seq], FIELD)
    assert lost == (
        "Last set copy dropped by PrepareFinalMerge: Parameters "
        '"poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key" read the null and the '
        "rest of the input was discarded."
    )


FINDINGS = [
    (s["name"], finding)
    for s in SCENARIOS
    for finding in ("first_null", "lost_at")
    if s["expected"][finding]
]


@pytest.mark.parametrize(("scenario", "finding"), FINDINGS, ids=[f"{s}-{f}" for s, f in FINDINGS])
def test_every_finding_gets_a_headline_naming_its_state(scenario: str, finding: str) -> None:
    data, replays = line_ingest(scenario)
    found = getattr(analyze(data, FIELD), finding)
    explain = explain_first_null if finding == "first_null" else explain_lost_at
    text = explain(replays[found.visit.seq], FIELD)
    assert text is not None and found.visit.state in text
    if finding == "lost_at":
        assert text.startswith(f"Last set copy dropped by {found.visit.state}: Parameters ")


def test_no_headline_when_the_replay_shows_no_change() -> None:
    _, replays = line_ingest("flat_intact")
    assert explain_first_null(by_state(replays, "CheckChunkCount"), FIELD) is None
    assert explain_lost_at(by_state(replays, "CheckChunkCount"), FIELD) is None


@pytest.mark.parametrize(
    ("name", "field"),
    [
        # Output "{% $range($states.input.FunctionInput.fst, ...) %}" reads FunctionInput's
        # members: the history records FunctionInput {"fst": 0, "snd": 9, "trd": 3} going in
        # and [0, 3, 6, 9] coming out, which is not FunctionInput's value
        ("test_array_jsonata__test_array_range__exec_hist_resp_0", "FunctionInput"),
    ],
)
def test_a_mention_of_the_field_is_not_a_read(name: str, field: str) -> None:
    """The chain takes a read as lint does (:func:`sfn_trace.asl.walkback.field_reads`)."""
    data = load_history_file(corpus_history(name), corpus_definition(name))
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    replays = replay_visits(tree, data.definition)
    assert list(readers(tree, replays, field)) == []
    assert blame_chain(tree, replays, field) == ()


def test_readers_are_in_entry_order_and_the_chain_starts_at_the_last() -> None:
    data, replays = line_ingest("flat_intact")
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    found = [visit.seq for visit, *_ in readers(tree, replays, FIELD)]
    assert found == sorted(found) and found
    last = [visit.seq for visit, *_ in readers(tree, replays, FIELD, last_first=True)]
    assert last == found[::-1]
