"""Tracing ahead (trace/ahead.py): each visit replayed and its field read while a live
history is still arriving. The result must be the very one a trace of the whole history
gives, whatever the pages and whatever the history; and the work done ahead must really be
used, or it is only a cost."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest

from sfn_trace import api
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import HistoryEvent, events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.result import TraceResult
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import analyze
from sfn_trace.trace.ahead import TraceAhead
from sfn_trace.trace.unfolding import Unfolding
from sfn_trace.trace.visits import build_visits
from tests.data import (
    DEFINITION,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
    fixture_names,
)
from tests.history_builder import History

FIELD = "poll_results_s3_key"


def _ahead(data: ExecutionData, field: str, pages: Sequence[Sequence[HistoryEvent]]) -> TraceAhead:
    ahead = TraceAhead(field)
    for page in pages:
        ahead(data.info, data.definition, page)
    return ahead


def _traced_ahead(
    data: ExecutionData, field: str, pages: Sequence[Sequence[HistoryEvent]]
) -> tuple[str, str]:
    """As api.trace does it live: the pages followed as they come, the history completed,
    then the analysis, given the tree followed page by page."""
    ahead = _ahead(data, field, pages)
    tree = ahead.history_complete(data.events, data.definition)
    return _shown(analyze(data, field, ahead=ahead, tree=tree))


def _paged(events: Sequence[HistoryEvent], size: int) -> list[Sequence[HistoryEvent]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def _shown(result: TraceResult) -> tuple[str, str]:
    """What a user sees: the JSON (every visit's replay, field step and snapshots) and the
    Markdown report (the chain and the explanations)."""
    return api.render(result, "json"), api.render(result, "markdown")


@pytest.mark.parametrize("name", fixture_names())
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_fixtures_traced_ahead_read_as_when_traced_whole(
    name: str, size: int, early_replays_taken: list[bool]
) -> None:
    data = load_target_file(fixture_history(name), DEFINITION)
    assert _traced_ahead(data, FIELD, _paged(data.events, size)) == _shown(analyze(data, FIELD))
    assert early_replays_taken and all(early_replays_taken), (
        "every visit settled early is taken as it was replayed"
    )


CORPUS_WITH_DEFINITIONS = [n for n in corpus_names() if corpus_definition(n) is not None]


@pytest.mark.parametrize("name", CORPUS_WITH_DEFINITIONS)
def test_recorded_histories_traced_ahead_read_as_when_traced_whole(name: str) -> None:
    """Every recorded AWS history (Map, Parallel, Choice, JSONata, variables, retries,
    catches, failures), a page of 2 events at a time: the same JSON and report."""
    data = load_target_file(corpus_history(name), corpus_definition(name))
    field = _a_field(data)
    assert _traced_ahead(data, field, _paged(data.events, 2)) == _shown(analyze(data, field))


@pytest.mark.parametrize("name", corpus_names())
def test_the_tree_followed_page_by_page_is_the_tree_of_the_whole_history(name: str) -> None:
    data = load_target_file(corpus_history(name), corpus_definition(name))
    unfolding = Unfolding(data.definition)
    for page in _paged(data.events, 3):
        unfolding.add(page)
    tree = unfolding.tree(data.events)
    assert tree == build_visits(data.events, data.definition)
    assert tree is not None
    # One object per visit: the flows hold the very visits the tree lists.
    held, flows = [], [tree.root]
    while flows:
        flow = flows.pop()
        held.extend(flow.visits)
        flows.extend(child for visit in flow.visits for child in visit.children)
    assert sorted(map(id, held)) == sorted(map(id, tree.visits))


def test_the_recorded_histories_are_mostly_replayed_ahead(early_replays_taken: list[bool]) -> None:
    """Over the corpus, the visits that settle before the end are taken: a forecast that the
    final tree kept refusing would be a cost, not a gain."""
    taken = early_replays_taken
    visits = 0
    for name in CORPUS_WITH_DEFINITIONS:
        data = load_target_file(corpus_history(name), corpus_definition(name))
        visits += len(
            analyze(data, FIELD, ahead=_ahead(data, FIELD, _paged(data.events, 5))).visits
        )
    assert len(taken) > 0.9 * visits
    assert all(taken)


def _a_field(data: ExecutionData) -> str:
    """A key of the execution input, so that the field steps and snapshots have something
    to find; the seed's field when the input has none."""
    payload = data.events[0].input if data.events else None
    value = payload.value if payload is not None else None
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    return FIELD


def _shuffled_pages(events: Sequence[HistoryEvent]) -> list[Sequence[HistoryEvent]]:
    """The history's pages with two events swapped and one repeated with other content."""
    swapped = list(events)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    repeated = dataclasses.replace(swapped[6], previous_id=swapped[6].previous_id + 1)
    return _paged([*swapped[:8], repeated, *swapped[8:]], 4)


def test_a_damaged_history_traced_ahead_reads_as_when_traced_whole() -> None:
    """Events out of order and an id repeated with other content: the forecast may differ
    from the tree of the whole history, and then it is not used."""
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    pages = _shuffled_pages(data.events)
    damaged = dataclasses.replace(data, events=tuple(e for page in pages for e in page))
    assert _traced_ahead(damaged, FIELD, pages) == _shown(analyze(damaged, FIELD))
    unfolding = Unfolding(data.definition)
    for page in pages:
        unfolding.add(page)
    assert unfolding.tree(damaged.events) is None, "built again from the whole history"


def test_a_restarted_pagination_is_read_once() -> None:
    """GetExecutionHistory restarted from the first page (an expired token): events
    already seen are skipped, and the forecast still fits."""
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    pages = _paged(data.events, 5)
    assert _traced_ahead(data, FIELD, [*pages[:3], *pages]) == _shown(analyze(data, FIELD))


def test_another_definition_than_the_one_replayed_ahead_is_replayed_again(
    early_replays_taken: list[bool],
) -> None:
    """``--definition`` on a live trace replaces the fetched definition: nothing replayed
    with the fetched one is taken."""
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    other = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    ahead = _ahead(other, FIELD, _paged(other.events, 5))
    assert _shown(analyze(data, FIELD, ahead=ahead)) == _shown(analyze(data, FIELD))
    assert early_replays_taken == []


def test_a_forecast_that_fails_leaves_the_work_to_the_analysis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error while tracing ahead never fails the trace: the forecast stops."""
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the forecast")

    import sfn_trace.trace.ahead as ahead_module

    monkeypatch.setattr(ahead_module, "replay_visit", broken)
    ahead = _ahead(data, FIELD, _paged(data.events, 5))
    assert ahead.finish() is None
    assert _shown(analyze(data, FIELD, ahead=ahead)) == _shown(analyze(data, FIELD))


def test_a_trace_of_another_field_reads_nothing_ahead() -> None:
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    ahead = _ahead(data, "merged_s3_key", _paged(data.events, 5))
    assert _shown(analyze(data, FIELD, ahead=ahead)) == _shown(analyze(data, FIELD))


@pytest.mark.parametrize("name", fixture_names())
def test_without_a_definition_the_visits_and_snapshots_are_taken_ahead(
    name: str, tree_builds: list[int]
) -> None:
    """No definition to replay (DescribeStateMachineForExecution denied): the visits are
    still followed and the field read page by page, and the result is the same."""
    data = dataclasses.replace(load_target_file(fixture_history(name)), definition=None)
    whole = _shown(analyze(data, FIELD))
    assert tree_builds == [len(data.events)]
    assert _traced_ahead(data, FIELD, _paged(data.events, 4)) == whole
    assert tree_builds == [len(data.events)], "the tree followed page by page is used"


def test_a_redriven_history_replays_again_the_visit_whose_next_state_changed(
    early_replays_taken: list[bool],
) -> None:
    """Why an early replay is still checked against the whole tree, though its next state
    and variables come from the same rules: a forecast can come before what changes them.
    The failed B settles as the execution's last visit (no next state) when the execution
    fails; the redrive enters B again after it, so the whole tree gives it a next state, and
    its early replay is not taken."""
    history = History()
    history.start({FIELD: "k"})
    history.add("PassStateEntered", 0, name="A", input={FIELD: "k"})
    history.add("PassStateExited", name="A", output={FIELD: "k"})
    lambda_ = {"resourceType": "lambda", "resource": "invoke"}
    for attempt, error in enumerate(("Lambda.ServiceException", "")):
        if attempt:
            history.add("ExecutionRedriven", redriveCount=1)
        history.add("TaskStateEntered", name="B", input={FIELD: "k"})
        history.add("TaskScheduled", parameters={"FunctionName": "f", "Payload": {}}, **lambda_)
        history.add("TaskStarted", **lambda_)
        if error:
            history.add("TaskFailed", error=error, cause="boom", **lambda_)
            history.add("ExecutionFailed", error=error, cause="boom")
        else:
            history.add("TaskSucceeded", output={"Payload": {FIELD: None}}, **lambda_)
            history.add("TaskStateExited", name="B", output={FIELD: None})
    history.succeed({FIELD: None})
    definition = Definition.from_text(
        json.dumps(
            {
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Pass", "Next": "B"},
                    "B": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "f", "Payload": {}},
                        "OutputPath": "$.Payload",
                        "End": True,
                    },
                },
            }
        )
    )
    events = events_from_api(history.events)
    data = ExecutionData(info=infer_info(events), events=events, definition=definition)
    assert _traced_ahead(data, FIELD, _paged(data.events, 1)) == _shown(analyze(data, FIELD))
    assert early_replays_taken.count(False) == 1, "the failed B only"
    assert early_replays_taken.count(True) >= 2
