"""The variables in scope at a visit (asl/variables.py): one rule, read by the replay over a
finished tree, by a live trace one settled visit at a time, and by the blame chain walking
back to the visit that assigned a variable. On every recorded AWS history the three agree."""

from __future__ import annotations

from sfn_trace.asl.jsoncompare import same_values
from sfn_trace.asl.variables import assigner, decode_variables, variable_scopes
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.visits import Flow, Visit
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace.unfolding import Unfolding
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history, corpus_names


def _loaded(name: str) -> ExecutionData:
    return load_history_file(corpus_history(name), corpus_definition(name))


def test_a_live_trace_sees_the_variables_the_whole_tree_gives() -> None:
    compared = 0
    for name in corpus_names():
        data = _loaded(name)
        scopes = variable_scopes(build_visits(data.events, data.definition))
        unfolding = Unfolding(data.definition)
        for start in range(0, len(data.events), 3):
            for settled in unfolding.add(data.events[start : start + 3]):
                assert same_values(settled.variables, scopes[settled.visit.seq]), name
                compared += bool(settled.variables)
        unfolding.close()
    assert compared > 20, "the corpus has visits with variables in scope"


class _Positions:
    """Each visit's flow, its position there and the visit holding the flow."""

    def __init__(self, root: Flow) -> None:
        self.where: dict[int, tuple[Flow, int, Visit | None]] = {}
        stack: list[tuple[Flow, Visit | None]] = [(root, None)]
        while stack:
            current, around = stack.pop()
            for position, visit in enumerate(current.visits):
                self.where[visit.seq] = (current, position, around)
                stack.extend((child, visit) for child in visit.children)

    def previous(self, visit: Visit) -> Visit | None:
        flow, position, _ = self.where[visit.seq]
        return flow.visits[position - 1] if position > 0 else None

    def holder(self, visit: Visit) -> Visit | None:
        return self.where[visit.seq][2]


def test_each_variable_in_scope_was_assigned_by_the_visit_the_chain_names() -> None:
    named = 0
    for name in corpus_names():
        data = _loaded(name)
        tree = build_visits(data.events, data.definition)
        positions = _Positions(tree.root)
        scopes = variable_scopes(tree)
        for visit in tree.visits:
            for variable, value in scopes[visit.seq].items():
                by = assigner(visit, variable, positions.previous, positions.holder)
                assert by is not None and by.variables is not None, (name, variable)
                decoded = decode_variables(by.variables, by.variables_truncated)
                assert same_values(decoded[variable], value), (name, variable)
                named += 1
    assert named > 50
