"""sfn_trace.checks.compare and ``sfn-trace compare``: alignment of two runs and their divergence.

The line-ingest pairs are recorded executions of the real workflow (fixtures/line_ingest);
the shapes they do not hold (loops, retries, Parallel branches started in another order,
Map sizes, unseen data) are written by hand with the previousEventId links AWS records.
The last test runs two line-ingest executions with different Map sizes in moto and compares
them live, by ARN.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.checks.compare import Comparison, Run, compare
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.report import RENDERERS, Command, CompareFormat, render
from sfn_trace.report.compare.json import SCHEMA
from sfn_trace.trace import TraceResult, analyze
from tests.data import DEFINITION, corpus_history, corpus_names, fixture_history

FIELD = "poll_results_s3_key"
runner = CliRunner()


def recorded(name: str) -> TraceResult:
    data = api.load(fixture_history(name), definition=DEFINITION)
    return analyze(data, FIELD)


def line_ingest(good: str, bad: str) -> Comparison:
    return compare(recorded(good), recorded(bad), sources=(good, bad))


def labels(pairs: Any) -> list[str]:
    return [p.label for p in pairs]


# --- hand-written histories ------------------------------------------------------------------


class History:
    """API-shaped events; ids from 1, each linked to the previous one unless ``prev`` says."""

    def __init__(self, execution_input: Any) -> None:
        self.raw: list[dict[str, Any]] = []
        self.add("ExecutionStarted", prev=0, input=_text(execution_input), roleArn="role")

    @property
    def last(self) -> int:
        return int(self.raw[-1]["id"])

    def add(self, event_type: str, prev: int | None = None, **details: Any) -> int:
        event_id = len(self.raw) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": self.last if prev is None else prev,
            "timestamp": f"2025-01-01T00:{event_id // 60:02d}:{event_id % 60:02d}.000+00:00",
            "type": event_type,
        }
        if details:
            member = event_type[0].lower() + event_type[1:] + "EventDetails"
            for suffix in ("StateEntered", "StateExited"):
                if event_type.endswith(suffix):
                    member = "state" + suffix + "EventDetails"
            event[member] = details
        self.raw.append(event)
        return event_id

    def passing(self, name: str, data_in: Any, data_out: Any, prev: int | None = None) -> int:
        self.add("PassStateEntered", prev, name=name, input=_text(data_in))
        return self.add("PassStateExited", name=name, output=_text(data_out))

    def task(self, name: str, data_in: Any, data_out: Any, failures: int = 0) -> int:
        """A Lambda task that fails ``failures`` times, then succeeds (Retry)."""
        self.add("TaskStateEntered", name=name, input=_text(data_in))
        params = _text({"FunctionName": "f", "Payload": data_in})
        for _ in range(failures):
            self.add("TaskScheduled", resourceType="lambda", resource="invoke", parameters=params)
            self.add("TaskStarted", resourceType="lambda", resource="invoke")
            self.add("TaskFailed", resourceType="lambda", resource="invoke", error="Boom")
        self.add("TaskScheduled", resourceType="lambda", resource="invoke", parameters=params)
        self.add("TaskStarted", resourceType="lambda", resource="invoke")
        self.add(
            "TaskSucceeded",
            resourceType="lambda",
            resource="invoke",
            output=_text({"Payload": data_out}),
        )
        return self.add("TaskStateExited", name=name, output=_text(data_out))

    def map(self, name: str, data: Any, items: list[tuple[Any, Any]]) -> int:
        """A Map whose iterations run one Pass state ``Convert`` each: (input, output)."""
        self.add("MapStateEntered", name=name, input=_text(data))
        started = self.add("MapStateStarted", length=len(items))
        for index, (item_in, item_out) in enumerate(items):
            iteration = self.add("MapIterationStarted", started, name=name, index=index)
            self.passing("Convert", item_in, item_out, prev=iteration)
            self.add("MapIterationSucceeded", name=name, index=index)
        self.add("MapStateSucceeded")
        outputs = [out for _, out in items]
        return self.add("MapStateExited", name=name, output=_text({**data, "items": outputs}))

    def parallel(self, name: str, data: Any, branches: list[tuple[str, Any]]) -> int:
        """A Parallel whose branches (started in the order given) run one Pass state each."""
        self.add("ParallelStateEntered", name=name, input=_text(data))
        started = self.add("ParallelStateStarted")
        ends = [self.passing(state, data, out, prev=started) for state, out in branches]
        self.add("ParallelStateSucceeded", ends[-1])
        return self.add("ParallelStateExited", name=name, output=_text([o for _, o in branches]))

    def result(self, final: Any) -> TraceResult:
        self.add("ExecutionSucceeded", output=_text(final))
        data = ExecutionData(
            info=ExecutionInfo(status="SUCCEEDED"), events=events_from_api(self.raw)
        )
        return analyze(data, "key")


def _text(data: Any) -> str:
    return json.dumps(data)


# --- line-ingest pairs ------------------------------------------------------------------------


def test_flat_split_drops_key_diverges_at_split_into_chunks() -> None:
    comparison = line_ingest("flat_intact", "flat_split_drops_key")

    divergence = comparison.divergence
    assert divergence is not None
    assert divergence.state == "SplitIntoChunks"
    assert divergence.documents == ("output",)  # same input, different output
    assert divergence.reached_through == ((), ())
    assert "set in the good run but mixed in the bad run" in divergence.explanation
    # the bad run's output holds the null copy beside the still-set one
    bad_output = divergence.pair.bad.trace.output  # type: ignore[union-attr]
    assert {(o.path, o.value is None) for o in bad_output.occurrences} == {
        (f"$.chunked_data.{FIELD}", True),
        (f"$.poll_results_data.{FIELD}", False),
    }
    assert comparison.only_in(Run.GOOD) == comparison.only_in(Run.BAD) == ()
    assert comparison.extra_iterations == ()
    assert comparison.exit_code is ExitCode.FINDING


def test_hierarchical_create_groups_drops_key_diverges_at_create_chunk_groups() -> None:
    comparison = line_ingest("hierarchical_intact", "hierarchical_create_groups_drops_key")

    assert comparison.divergence is not None
    assert comparison.divergence.state == "CreateChunkGroups"
    assert comparison.divergence.documents == ("output",)
    # the three Map iterations pair by index, whatever order they ran in
    iterations = [p for p in comparison.timeline if p.state == "MergeGroup"]
    assert [p.scope for p in iterations] == [
        ("MergeChunkGroups[0]", "MergeGroup"),
        ("MergeChunkGroups[1]", "MergeGroup"),
        ("MergeChunkGroups[2]", "MergeGroup"),
    ]
    assert all(p.shared for p in iterations)
    assert all(
        p.good.visit.map_iteration == p.bad.visit.map_iteration  # type: ignore[union-attr]
        for p in iterations
    )
    assert comparison.exit_code is ExitCode.FINDING


def test_flat_and_hierarchical_paths_list_the_states_only_one_visited() -> None:
    comparison = line_ingest("flat_intact", "hierarchical_intact")

    assert comparison.divergence is None
    assert comparison.exit_code is ExitCode.INTACT
    assert labels(comparison.only_in(Run.GOOD)) == ["PrepareFinalMerge"]
    assert labels(comparison.top_only_in(Run.BAD)) == [
        "GroupChunksForMerge",
        "CreateChunkGroups",
        "MergeChunkGroups",
        "PrepareHierarchicalFinalMerge",
    ]
    assert len(comparison.only_in(Run.BAD)) == 7  # the Map's three iterations too
    assert labels(comparison.shared) == [
        "NormalizePollBatchesData",
        "SplitIntoChunks",
        "CheckChunkCount",
        "FinalMerge",
        "PrepareMarkBatchesComplete",
        "MarkBatchesComplete",
    ]
    assert not any(p.differs for p in comparison.shared)
    # the good-only state sits where the good run visited it: after the Choice
    order = labels(comparison.timeline)
    assert (
        order.index("CheckChunkCount")
        < order.index("PrepareFinalMerge")
        < order.index("FinalMerge")
    )


def test_different_paths_explain_a_divergent_input_by_the_road_taken() -> None:
    comparison = line_ingest("flat_intact", "hierarchical_create_groups_drops_key")

    divergence = comparison.divergence
    assert divergence is not None
    assert divergence.state == "FinalMerge"  # the first state both visited that differs
    assert "input" in divergence.documents
    good_road, bad_road = divergence.reached_through
    assert [p.visit.state for p in good_road] == ["PrepareFinalMerge"]
    assert [p.visit.state for p in bad_road] == [
        "GroupChunksForMerge",
        "CreateChunkGroups",
        "MergeChunkGroups",
        "PrepareHierarchicalFinalMerge",
    ]
    assert "on the bad run's path, the field went null in CreateChunkGroups" in (
        divergence.explanation
    )


def test_same_execution_twice_has_nothing_to_report() -> None:
    comparison = line_ingest("hierarchical_intact", "hierarchical_intact")
    assert comparison.divergence is None
    assert comparison.only_in(Run.GOOD) == comparison.only_in(Run.BAD) == ()
    assert len(comparison.shared) == 13
    assert comparison.exit_code is ExitCode.INTACT


# --- shapes the recordings do not hold --------------------------------------------------------


def test_map_sizes_pair_iterations_by_index_and_list_the_extra_ones() -> None:
    good = History({"key": "k", "n": 2})
    good.map("Fan", {"key": "k"}, [({"key": "k"}, {"key": "k"})] * 2)
    bad = History({"key": "k", "n": 4})
    bad.map(
        "Fan",
        {"key": "k"},
        [({"key": "k"}, {"key": "k"}), ({"key": "k"}, {"key": None})]
        + [({"key": "k"}, {"key": "k"})] * 2,
    )
    comparison = compare(good.result({"key": "k"}), bad.result({"key": "k"}))

    assert [(e.label, e.only_in, e.visits) for e in comparison.extra_iterations] == [
        ("Fan[2]", Run.BAD, 1),
        ("Fan[3]", Run.BAD, 1),
    ]
    assert labels(comparison.only_in(Run.BAD)) == ["Fan[2] > Convert", "Fan[3] > Convert"]
    divergence = comparison.divergence
    assert divergence is not None
    # inside iteration 1, which exits before the Map that holds it
    assert divergence.pair.scope == ("Fan[1]", "Convert")
    assert divergence.documents == ("output",)


def test_map_sizes_alone_are_no_divergence() -> None:
    good = History({"key": "k"})
    good.map("Fan", {"key": "k"}, [({"key": "k"}, {"key": "k"})])
    bad = History({"key": "k"})
    bad.map("Fan", {"key": "k"}, [({"key": "k"}, {"key": "k"})] * 3)
    comparison = compare(good.result({"key": "k"}), bad.result({"key": "k"}))
    assert comparison.divergence is None
    assert [e.index for e in comparison.extra_iterations] == [1, 2]
    # the other way round the extra iterations are the good run's
    reverse = compare(bad.result({"key": "k"}), good.result({"key": "k"}))
    assert {e.only_in for e in reverse.extra_iterations} == {Run.GOOD}


def test_retries_stay_inside_one_visit() -> None:
    good = History({"key": "k"})
    good.task("Load", {"key": "k"}, {"key": "k"})
    good.passing("Save", {"key": "k"}, {"key": "k"})
    bad = History({"key": "k"})
    bad.task("Load", {"key": "k"}, {"key": "k"}, failures=2)
    bad.passing("Save", {"key": "k"}, {"key": None})
    comparison = compare(good.result({"key": "k"}), bad.result({"key": None}))

    load = comparison.timeline[0]
    assert load.shared and load.state == "Load"
    assert len(load.bad.visit.attempts) == 3  # type: ignore[union-attr]
    assert len(load.good.visit.attempts) == 1  # type: ignore[union-attr]
    assert comparison.divergence is not None and comparison.divergence.state == "Save"


def test_loop_passes_pair_in_order() -> None:
    def looping(values: list[Any]) -> TraceResult:
        history = History({"key": "k"})
        previous: Any = {"key": "k"}
        for value in values:
            history.passing("Poll", previous, {"key": value})
            previous = {"key": value}
        return history.result(previous)

    comparison = compare(looping(["k", "k", "k"]), looping(["k", "k", None, None]))
    assert labels(comparison.timeline) == [
        "Poll",
        "Poll (pass 2)",
        "Poll (pass 3)",
        "Poll (pass 4)",
    ]
    assert comparison.divergence is not None
    assert comparison.divergence.pair.occurrence == 3
    assert labels(comparison.only_in(Run.BAD)) == ["Poll (pass 4)"]


def test_parallel_branches_pair_by_their_first_state_not_their_start_order() -> None:
    good = History({"key": "k"})
    good.parallel("Par", {"key": "k"}, [("Left", {"key": "k"}), ("Right", {"key": "k"})])
    bad = History({"key": "k"})
    bad.parallel("Par", {"key": "k"}, [("Right", {"key": None}), ("Left", {"key": "k"})])
    comparison = compare(good.result([{"key": "k"}]), bad.result([{"key": "k"}]))

    assert all(p.shared for p in comparison.timeline)
    assert comparison.divergence is not None
    assert comparison.divergence.state == "Right"


def test_unseen_documents_are_not_compared_and_exit_4() -> None:
    good = History({"key": "k"})
    good.passing("A", {"key": "k"}, {"key": "k"})
    bad = History({"key": "k"})
    bad.add("PassStateEntered", name="A", input=_text({"key": "k"}))
    bad.add("PassStateExited", name="A")  # output not included (includeExecutionData off)
    comparison = compare(good.result({"key": "k"}), bad.result({"key": "k"}))
    assert comparison.divergence is None
    assert [(p.state, p.undetermined) for p in comparison.undetermined] == [("A", ("output",))]
    assert comparison.exit_code is ExitCode.INCOMPLETE


def test_the_execution_input_already_differs() -> None:
    good = History({"key": "k"})
    good.passing("A", {"key": "k"}, {"key": "k"})
    bad = History({"key": None})
    bad.passing("A", {"key": None}, {"key": None})
    comparison = compare(good.result({"key": "k"}), bad.result({"key": None}))
    assert comparison.divergence is not None
    assert comparison.divergence.documents == ("input", "output")
    assert "started with different inputs" in comparison.divergence.explanation


def test_a_state_the_bad_run_failed_in_is_an_outcome_not_a_status() -> None:
    good = History({"key": "k"})
    good.task("Load", {"key": "k"}, {"key": "k"})
    bad = History({"key": "k"})
    bad.add("TaskStateEntered", name="Load", input=_text({"key": "k"}))
    bad.add("TaskScheduled", resourceType="lambda", resource="invoke", parameters="{}")
    bad.add("TaskStarted", resourceType="lambda", resource="invoke")
    bad.add("TaskFailed", resourceType="lambda", resource="invoke", error="Boom")
    bad.add("ExecutionFailed", error="Boom")
    bad_result = analyze(
        ExecutionData(info=ExecutionInfo(status="FAILED"), events=events_from_api(bad.raw)), "key"
    )
    comparison = compare(good.result({"key": "k"}), bad_result)

    (load,) = comparison.timeline
    assert load.outcomes_differ and load.differs == () and load.undetermined == ()
    assert comparison.divergence is None and comparison.exit_code is ExitCode.INTACT
    text = render(Command.COMPARE, CompareFormat.TABLE, comparison)
    assert "Outcome    Load: succeeded in good, failed in bad" in text
    document = json.loads(render(Command.COMPARE, CompareFormat.JSON, comparison))
    assert document["outcomes_differ"] == [
        {
            "state": "Load",
            "type": "Task",
            "scope": ["Load"],
            "occurrence": 1,
            "good": "succeeded",
            "bad": "failed",
        }
    ]


def test_two_different_fields_cannot_be_compared() -> None:
    good = recorded("flat_intact")
    other = dataclasses.replace(good, field="other")
    with pytest.raises(ValueError, match="different fields"):
        compare(good, other)


def test_every_recorded_aws_history_aligns_with_itself() -> None:
    """329 histories recorded on AWS (Map, Parallel, retries, catches, loops): every visit
    gets a key of its own, so a run compared with itself pairs each visit with itself."""
    histories = [corpus_history(name) for name in corpus_names()]
    assert len(histories) >= 300, f"the recorded corpus is incomplete: {len(histories)} histories"
    for path in histories:
        result = analyze(api.load(path), "x")
        comparison = compare(result, result)
        assert len(comparison.timeline) == len(result.visits), path.name
        assert all(p.shared and not p.differs for p in comparison.timeline), path.name
        assert comparison.divergence is None and comparison.extra_iterations == ()
        for output_format in CompareFormat:
            assert render(Command.COMPARE, output_format, comparison).endswith("\n")


# --- renderers -------------------------------------------------------------------------------


def test_every_format_has_a_renderer() -> None:
    assert {f for c, f in RENDERERS if c is Command.COMPARE} == {f.value for f in CompareFormat}


def test_json_document() -> None:
    comparison = line_ingest("flat_intact", "hierarchical_create_groups_drops_key")
    document = json.loads(render(Command.COMPARE, CompareFormat.JSON, comparison))

    assert document["schema"] == SCHEMA == "sfn-trace-compare/1"
    assert document["field"] == FIELD
    assert document["good"]["source"] == "flat_intact"
    assert document["good"]["verdict"] == "intact"
    assert document["bad"]["first_null"]["state"] == "CreateChunkGroups"
    divergence = document["divergence"]
    assert divergence["state"] == "FinalMerge"
    assert divergence["documents"] == ["input", "output"]
    assert divergence["good"]["input"]["status"] == "set"
    assert divergence["bad"]["input"] == {
        "status": "null",
        "occurrences": [{"path": f"$.{FIELD}", "value": None}],
    }
    assert [v["state"] for v in divergence["reached_through"]["good"]] == ["PrepareFinalMerge"]
    assert [v["state"] for v in document["only_in_good"]] == ["PrepareFinalMerge"]
    assert len(document["only_in_bad"]) == 7
    assert document["exit_code"] == 1
    assert len(document["timeline"]) == 14
    assert {tuple(entry) for entry in document["timeline"]} == {
        (
            "state",
            "type",
            "scope",
            "occurrence",
            "only_in",
            "differs",
            "undetermined",
            "good",
            "bad",
        )
    }


def test_table_shows_both_runs_side_by_side() -> None:
    comparison = line_ingest("flat_intact", "flat_split_drops_key")
    text = render(Command.COMPARE, CompareFormat.TABLE, comparison)
    assert "Diverges   SplitIntoChunks (Task) received the field set in both runs" in text
    assert f"$.chunked_data.{FIELD} = null" in text
    assert "output <-" in text
    assert "Only in good   (none)" in text
    assert "<- diverges (output)" in text


def test_table_lists_extra_map_iterations() -> None:
    good = History({"key": "k"})
    good.map("Fan", {"key": "k"}, [({"key": "k"}, {"key": "k"})])
    bad = History({"key": "k"})
    bad.map("Fan", {"key": "k"}, [({"key": "k"}, {"key": "k"})] * 3)
    text = render(
        Command.COMPARE,
        CompareFormat.TABLE,
        compare(good.result({"key": "k"}), bad.result({"key": "k"})),
    )
    assert "Map sizes  Fan: iterations 1, 2 only in bad" in text
    assert "Only in bad    (none)" in text  # summed up on the Map sizes line
    assert "No divergence" in text


# --- command line ----------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def history_file(name: str) -> str:
    return str(fixture_history(name))


def test_cli_divergence_exits_1() -> None:
    result = invoke(
        "compare",
        history_file("flat_intact"),
        history_file("flat_split_drops_key"),
        "--definition",
        str(DEFINITION),
        "--field",
        FIELD,
    )
    assert result.exit_code == ExitCode.FINDING
    document = json.loads(result.stdout)  # json when stdout is not a terminal
    assert document["divergence"]["state"] == "SplitIntoChunks"


def test_cli_no_divergence_exits_0_and_writes_the_output_file(tmp_path: Path) -> None:
    out = tmp_path / "compare.txt"
    result = invoke(
        "compare",
        history_file("flat_intact"),
        history_file("hierarchical_intact"),
        "-f",
        FIELD,
        "--format",
        "table",
        "-o",
        str(out),
    )
    assert result.exit_code == ExitCode.INTACT
    assert result.stdout == ""
    assert "Only in good   PrepareFinalMerge" in out.read_text()


def test_cli_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "never.json"
    result = invoke(
        "compare", history_file("flat_intact"), "nope.json", "-f", FIELD, "-o", str(out)
    )
    assert result.exit_code == ExitCode.USAGE
    assert "'nope.json' is neither an execution ARN" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_main_help_mentions_the_sub_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "sfn-trace compare GOOD BAD --field NAME" in result.stdout
    assert "sfn-trace scan STATE_MACHINE_ARN --field NAME" in result.stdout
    help_text = invoke("compare", "--help").stdout
    assert "Exit codes:" in help_text and "GOOD" in help_text


# --- live, in moto: different Map sizes --------------------------------------------------------


@pytest.mark.moto_server
def test_live_pair_with_different_map_sizes(lab: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.line_ingest.handlers import Scenario
    from fixtures.line_ingest.scenarios import FIXTURES_BY_NAME
    from fixtures.line_ingest.scenarios import run as run_fixture

    for name, value in lab.env.items():
        monkeypatch.setenv(name, value)
    intact = FIXTURES_BY_NAME["hierarchical_intact"]  # 10 chunks: 3 groups
    bigger = dataclasses.replace(  # 16 chunks: 4 groups, and CreateChunkGroups drops the key
        intact,
        name="compare_bigger_create_groups_drops_key",
        scenario=Scenario.CREATE_GROUPS_DROPS_KEY,
        batch_line_counts=(400, 400, 400, 400),
    )
    good = run_fixture(lab, intact, execution_name="")
    bad = run_fixture(lab, bigger, execution_name="")

    result = invoke(
        "compare", good, bad, "-f", FIELD, "--endpoint-url", lab.endpoint_url, "--format", "json"
    )
    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(result.stdout)
    assert document["good"]["execution"]["arn"] == good
    assert document["divergence"]["state"] == "CreateChunkGroups"
    assert [(e["map"], e["index"], e["only_in"]) for e in document["extra_iterations"]] == [
        ("MergeChunkGroups", 3, "bad")
    ]
    assert [v["scope"] for v in document["only_in_bad"]] == [["MergeChunkGroups[3]", "MergeGroup"]]
