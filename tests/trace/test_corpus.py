"""The recorded corpus: 329 real AWS histories through the loader, the attributor and analyze.

Every expectation here is computed from the recorded JSON itself, independently of
sfn_trace: payload texts are read from the raw event dicts, Map iterations and Parallel
branches are found by walking ``previousEventId`` links backwards, and branch indexes come from
the definition's ``Branches`` arrays. A missing corpus fails these tests; it never skips them
(``tests.data.corpus_names`` raises when it finds no history).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from sfn_trace.model.events import EventKind
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.snapshot import Status
from sfn_trace.model.visits import Flow, FlowKind, Visit, VisitTree
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace import Verdict, analyze
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history, corpus_names

EXPECTED_HISTORIES = 329
NEVER_PRESENT = "sfn_trace_field_that_no_history_holds"

SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
# Events that end one Task attempt (docs/aws-reference.md section 1).
ATTEMPT_ENDS = {
    "TaskSucceeded",
    "TaskFailed",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "TaskTimedOut",
    "LambdaFunctionSucceeded",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStartFailed",
    "LambdaFunctionTimedOut",
    "ActivitySucceeded",
    "ActivityFailed",
    "ActivityScheduleFailed",
    "ActivityTimedOut",
}


NAMES = corpus_names()


def _params(names: list[str], xfail: Mapping[str, str] | None = None) -> list[Any]:
    xfail = xfail or {}
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else [],
        )
        for name in names
    ]


def _holding(event_type: str) -> list[str]:
    names = [n for n in NAMES if f'"{event_type}"' in corpus_history(n).read_text("utf-8")]
    if not names:  # an empty parameter list would make pytest skip: fail the collection
        raise LookupError(f"no recorded history holds {event_type}")
    return names


# --- what the recorded JSON says, read without sfn_trace --------------------------------------


def details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails")), {})


@dataclass(frozen=True)
class Case:
    name: str
    raw: list[dict[str, Any]]
    by_id: dict[int, dict[str, Any]]
    definition_body: dict[str, Any] | None
    data: ExecutionData
    tree: VisitTree

    def back(self, event_id: int) -> Iterator[dict[str, Any]]:
        """The events before ``event_id`` along its previousEventId links, nearest first."""
        current = self.by_id[event_id]["previousEventId"]
        while current:
            assert current < event_id, f"previousEventId {current} of event {event_id} not earlier"
            event_id = current
            event = self.by_id[current]
            yield event
            current = event["previousEventId"]

    def owning_entry(self, event_id: int) -> int | None:
        """The ``*StateEntered`` a task event belongs to: the first one reached backwards."""
        return next(
            (e["id"] for e in self.back(event_id) if e["type"].endswith("StateEntered")), None
        )

    def iteration_of(self, event_id: int) -> dict[str, Any] | None:
        """The ``MapIterationStarted`` of the innermost iteration holding ``event_id``.

        Walking back from a state after a Map passes through that Map's iterations; they are
        skipped by counting ``MapStateExited`` (one per finished Map visit on the path) against
        ``MapStateEntered``.
        """
        return self._innermost(event_id, "MapStateExited", "MapStateEntered", _is_iteration)

    def branch_root_of(self, event_id: int) -> int | None:
        """The first ``*StateEntered`` of the innermost Parallel branch holding ``event_id``."""
        event = self._innermost(
            event_id, "ParallelStateExited", "ParallelStateEntered", self._first
        )
        return None if event is None else event["id"]

    def parallel_entry_of(self, branch_root: int) -> int | None:
        """The ``ParallelStateEntered`` whose branch starts at ``branch_root``.

        Not simply the first entry reached backwards: a retried Parallel's new
        ``ParallelStateStarted`` follows the failed attempt's last event, inside a branch.
        """
        depth = 0
        for event in self.back(branch_root):
            if event["type"] == "ParallelStateExited":
                depth += 1
            elif event["type"] == "ParallelStateEntered":
                if depth == 0:
                    return event["id"]
                depth -= 1
        return None

    def _first(self, event: Mapping[str, Any]) -> bool:
        previous = self.by_id.get(event["previousEventId"])
        return (
            event["type"].endswith("StateEntered")
            and previous is not None
            and previous["type"] == "ParallelStateStarted"
        )

    def _innermost(
        self,
        event_id: int,
        closes: str,
        opens: str,
        found: Callable[[Mapping[str, Any]], bool],
    ) -> dict[str, Any] | None:
        if found(self.by_id[event_id]):
            return self.by_id[event_id]
        depth = 0
        for event in self.back(event_id):
            if event["type"] == closes:
                depth += 1
            elif event["type"] == opens and depth:
                depth -= 1
            elif depth == 0 and found(event):
                return event
        return None


def _is_iteration(event: Mapping[str, Any]) -> bool:
    return event["type"] == "MapIterationStarted"


@functools.cache
def load_case(name: str) -> Case:
    history = corpus_history(name)
    definition = corpus_definition(name)
    raw = json.loads(history.read_text(encoding="utf-8"))["events"]
    data = load_history_file(history, definition)
    body = json.loads(definition.read_text("utf-8")) if definition is not None else None
    return Case(
        name=name,
        raw=raw,
        by_id={e["id"]: e for e in raw},
        definition_body=body,
        data=data,
        tree=build_visits(data.events, data.definition),
    )


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    return load_case(request.param)


def enclosing(tree: VisitTree) -> tuple[dict[int, tuple[Flow, ...]], dict[int, Visit]]:
    """For each visit (by seq) its enclosing flows, outermost first; and each flow's owner."""
    chains: dict[int, tuple[Flow, ...]] = {}
    owners: dict[int, Visit] = {}
    stack: list[tuple[Flow, tuple[Flow, ...]]] = [(tree.root, ())]
    while stack:
        flow, chain = stack.pop()
        for visit in flow.visits:
            assert visit.seq not in chains, f"visit {visit.seq} is in two flows"
            chains[visit.seq] = chain
            for child in visit.children:
                owners[id(child)] = visit
                stack.append((child, (*chain, child)))
    return chains, owners


def parallel_branch(states: Mapping[str, Any], name: str) -> tuple[str, int] | None:
    """(Parallel state, branch index) directly holding state ``name`` in a definition."""
    for state_name, body in states.items():
        inner: list[tuple[Mapping[str, Any], tuple[str, int] | None]] = []
        for i, branch in enumerate(body.get("Branches", [])):
            inner.append((branch["States"], (state_name, i)))
        for key in ("ItemProcessor", "Iterator"):
            if key in body:
                inner.append((body[key]["States"], None))
        for nested, here in inner:
            if name in nested and here is not None:
                return here
            found = parallel_branch(nested, name)
            if found is not None:
                return found
    return None


# --- per history ------------------------------------------------------------------------------

ALL = _params(NAMES)


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_loads(case: Case) -> None:
    data = case.data
    assert [e.id for e in data.events] == sorted(e["id"] for e in case.raw)
    assert [e.type for e in data.events] == [case.by_id[e.id]["type"] for e in data.events]
    assert (data.definition is not None) == (case.definition_body is not None)
    unknown = {e.type for e in data.events if e.kind is EventKind.UNKNOWN}
    assert unknown == set(), f"event types not understood: {unknown}"
    assert data.events[0].kind is EventKind.EXECUTION_STARTED
    assert all(e.timestamp is not None for e in data.events)


# Known bug (see test_visits.test_parallel_catch_does_not_exit_open_branch_visits): a Fail
# state's visit in a caught Parallel branch is closed with the Parallel's own StateExited event,
# so it claims the Parallel's exit and output.
@pytest.mark.parametrize("case", _params(NAMES), indirect=True)
def test_visits_match_recorded_events(case: Case) -> None:
    tree = case.tree
    entered = [e for e in case.raw if e["type"].endswith("StateEntered")]
    assert [v.entered.id for v in tree.visits] == [e["id"] for e in entered]
    assert [v.seq for v in tree.visits] == list(range(1, len(entered) + 1))
    claimed: list[int] = []
    for visit in tree.visits:
        recorded = details(case.by_id[visit.entered.id])
        assert visit.state == recorded["name"]
        assert visit.type + "StateEntered" == case.by_id[visit.entered.id]["type"]
        assert visit.input is not None and visit.input.text == recorded["input"]
        if not visit.exited:
            assert visit.output is None
            continue
        exit_id = visit.exit_event_id
        assert exit_id is not None
        claimed.append(exit_id)
        exit_event = case.by_id[exit_id]
        assert exit_event["type"] == visit.type + "StateExited"
        assert details(exit_event)["name"] == visit.state
        assert visit.output is not None and visit.output.text == details(exit_event)["output"]
        # causally, the exit leads back to this very entry before any other entry of the state
        entry = next(
            e["id"]
            for e in case.back(exit_id)
            if e["type"].endswith("StateEntered") and details(e)["name"] == visit.state
        )
        assert entry == visit.entered.id, f"exit {exit_id} belongs to the entry {entry}"
    assert len(claimed) == len(set(claimed)), "an exit event was claimed twice"
    exits = {e["id"] for e in case.raw if e["type"].endswith("StateExited")}
    assert set(claimed) == exits


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_scopes_and_map_iterations(case: Case) -> None:
    chains, _ = enclosing(case.tree)
    assert set(chains) == {v.seq for v in case.tree.visits}
    for visit in case.tree.visits:
        chain = chains[visit.seq]
        assert visit.scope == (*(flow.label for flow in chain), visit.state)
        iterations = [flow for flow in chain if flow.kind is FlowKind.ITERATION]
        started = case.iteration_of(visit.entered.id)
        if started is None:
            assert visit.map_iteration is None, visit.scope
            assert iterations == []
            continue
        index, map_name = details(started)["index"], details(started)["name"]
        assert visit.map_iteration == index, visit.scope
        innermost = iterations[-1]
        assert innermost.start is not None and innermost.start.id == started["id"]
        assert innermost.label == f"{map_name}[{index}]"
        assert innermost.index == index


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_task_attempts(case: Case) -> None:
    task_visits = {v.entered.id: v for v in case.tree.visits if v.type == "Task"}
    expected: dict[int, list[int]] = defaultdict(list)
    for event in case.raw:
        if event["type"] in SCHEDULED:
            owner = case.owning_entry(event["id"])
            assert owner in task_visits, f"event {event['id']} leads to no Task entry"
            expected[owner].append(event["id"])
    for entry, visit in task_visits.items():
        starts = [a.start.id for a in visit.attempts if a.start.type in SCHEDULED]
        assert starts == expected[entry], visit.state
        for attempt in visit.attempts:
            for event in (attempt.start, attempt.end):
                if event is not None:
                    assert case.owning_entry(event.id) == entry
            if attempt.end is not None:
                assert attempt.end.type in ATTEMPT_ENDS
                recorded = details(case.by_id[attempt.end.id])
                if "output" in recorded:
                    assert attempt.result is not None
                    assert attempt.result.text == recorded["output"]
                else:
                    assert attempt.result is None
                    assert attempt.error == recorded.get("error", attempt.end.type)


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_no_attribution_anomalies(case: Case) -> None:
    assert case.tree.anomalies == ()


PARALLEL = _params(_holding("ParallelStateEntered"))


@pytest.mark.parametrize("case", PARALLEL, indirect=True)
def test_parallel_branches(case: Case) -> None:
    chains, owners = enclosing(case.tree)
    branch_visits = 0
    for visit in case.tree.visits:
        chain = chains[visit.seq]
        if not chain or chain[-1].kind is not FlowKind.BRANCH:
            continue
        branch_visits += 1
        flow = chain[-1]
        parallel = owners[id(flow)]
        # the branch is the one the previousEventId links lead to
        root = case.branch_root_of(visit.entered.id)
        assert root == flow.visits[0].entered.id
        assert root is not None and case.parallel_entry_of(root) == parallel.entered.id
        if case.definition_body is not None:
            where = parallel_branch(case.definition_body["States"], visit.state)
            assert where is not None
            assert where[0] == parallel.state
            assert flow.index == where[1]
            assert flow.label == f"{parallel.state}.Branches[{where[1]}]"
    assert branch_visits > 0


ANALYZED = _params(NAMES)


@pytest.mark.parametrize("case", ANALYZED, indirect=True)
def test_analyze(case: Case) -> None:
    document = json.loads(details(case.raw[0])["input"])
    fields = list(document) if isinstance(document, dict) else []
    for field in [*fields, NEVER_PRESENT]:
        result = analyze(case.data, field)
        assert isinstance(result.verdict, Verdict)
        assert result.field == field
        assert len(result.visits) == len(case.tree.visits)
        assert result.exit_code == result.verdict.exit_code
        if result.verdict is Verdict.INTACT:
            assert result.final.status is Status.SET
        if result.verdict is Verdict.LOST:
            assert result.final.status is not Status.SET
            assert result.final.known
        if field in fields and document[field] is not None:
            # set in the execution input: it can only be intact, lost or unknown
            assert result.verdict in (Verdict.INTACT, Verdict.LOST, Verdict.UNKNOWN)
    absent = analyze(case.data, NEVER_PRESENT)
    if case.tree.terminal is None:
        # The history ends before the execution does, and a file does not say it still
        # runs: it may be cut, so only the partial verdict is definite.
        assert absent.verdict is Verdict.UNKNOWN
        assert absent.partial_verdict is Verdict.ABSENT
    else:
        assert absent.verdict is Verdict.ABSENT
    assert absent.first_null is None and absent.lost_at is None


# --- across the corpus ------------------------------------------------------------------------


def test_every_history_is_read() -> None:
    read = sum(1 for name in NAMES if load_case(name).data.events)
    assert read == EXPECTED_HISTORIES
    definitions = sum(1 for name in NAMES if load_case(name).data.definition is not None)
    assert 0 < definitions <= EXPECTED_HISTORIES


def _overlapping(members: dict[int, list[int]]) -> bool:
    spans = sorted((min(ids), max(ids)) for ids in members.values() if ids)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


def _interleaved(case: Case) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Entered and task events grouped by Map iteration and by Parallel branch, when the
    groups of one kind overlap in event ids (empty dicts otherwise)."""
    iterations: dict[int, list[int]] = defaultdict(list)
    branches: dict[int, list[int]] = defaultdict(list)
    for event in case.raw:
        kind = event["type"]
        if not (kind.endswith("StateEntered") or kind in SCHEDULED or kind in ATTEMPT_ENDS):
            continue
        started = case.iteration_of(event["id"])
        if started is not None:
            iterations[started["id"]].append(event["id"])
        root = case.branch_root_of(event["id"])
        if root is not None:
            branches[root].append(event["id"])
    return (
        iterations if _overlapping(iterations) else {},
        branches if _overlapping(branches) else {},
    )


def _holder(case: Case, event_id: int) -> Visit:
    for visit in case.tree.visits:
        if visit.entered.id == event_id:
            return visit
        for attempt in visit.attempts:
            if event_id in (attempt.start.id, attempt.end.id if attempt.end else None):
                return visit
    raise AssertionError(f"event {event_id} is held by no visit")


def test_interleaved_iterations_and_branches() -> None:
    found: list[str] = []
    for name in NAMES:
        case = load_case(name)
        iterations, branches = _interleaved(case)
        if not (iterations or branches):
            continue
        found.append(name)
        chains, _ = enclosing(case.tree)
        for started, members in iterations.items():
            for event_id in members:
                visit = _holder(case, event_id)
                flows = [f for f in chains[visit.seq] if f.kind is FlowKind.ITERATION]
                assert flows and flows[-1].start is not None
                assert flows[-1].start.id == started, f"{name}: event {event_id}"
        for root, members in branches.items():
            for event_id in members:
                visit = _holder(case, event_id)
                flows = [f for f in chains[visit.seq] if f.kind is FlowKind.BRANCH]
                assert flows and flows[-1].visits[0].entered.id == root, f"{name}: {event_id}"
    # the corpus holds at least one history whose Map iterations run concurrently
    # (test_timeouts__test_service_lambda_map_timeout: four iterations, events interleaved)
    assert found, "no corpus history with interleaved iterations or branches"
    assert "test_timeouts__test_service_lambda_map_timeout" in found
