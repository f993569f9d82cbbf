"""The next state (asl/next_state.py): the state of the following visit in the same flow."""

from __future__ import annotations

import json

from sfn_trace.asl.next_state import next_state, next_states
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history
from tests.history_builder import History


def test_each_visit_goes_to_the_next_one_of_its_flow() -> None:
    history = History()
    history.start({})
    history.pass_state("First", {}, {})
    history.pass_state("Second", {}, {})
    history.succeed({})
    definition = Definition.from_text(
        json.dumps(
            {
                "StartAt": "First",
                "States": {
                    "First": {"Type": "Pass", "Next": "Second"},
                    "Second": {"Type": "Pass", "End": True},
                },
            }
        )
    )
    tree = build_visits(events_from_api(history.events), definition)
    first, second = tree.visits
    assert second.state == "Second"
    assert next_states(tree) == {first.seq: "Second"}
    assert next_state(tree.root.visits, 0) == "Second"
    assert next_state(tree.root.visits, 1) is None


def test_a_branch_s_last_visit_goes_nowhere_and_a_caught_parallel_goes_to_its_catcher() -> None:
    name = "test_base_scenarios__test_parallel_state_catch"
    data = load_history_file(corpus_history(name), corpus_definition(name))
    tree = build_visits(data.events, data.definition)
    found = next_states(tree)
    branches = [flow for visit in tree.visits for flow in visit.children]
    assert branches
    for flow in branches:
        assert flow.visits[-1].seq not in found
    parallel = next(v for v in tree.visits if v.type == "Parallel")
    assert found[parallel.seq] == "FinalCaught"  # the catcher's Next, as recorded


def test_the_live_unfolding_gives_each_visit_the_next_state_of_the_whole_tree() -> None:
    """A live trace settles visits page by page: each settled visit's next state is the one
    the whole history's tree gives it (both ask asl/next_state.py)."""
    from sfn_trace.trace.unfolding import Unfolding
    from tests.data import corpus_names

    compared = 0
    for name in corpus_names():
        loaded = load_history_file(corpus_history(name), corpus_definition(name))
        data, definition = loaded.events, loaded.definition
        unfolding = Unfolding(definition)
        settled = {}
        for start in range(0, len(data), 3):
            for visit in unfolding.add(data[start : start + 3]):
                settled[visit.visit.seq] = visit.next_state
        unfolding.close()
        whole = next_states(build_visits(data, definition))
        assert settled == {seq: whole.get(seq) for seq in settled}, name
        compared += sum(1 for after in settled.values() if after is not None)
    assert compared > 100
