"""sfn_trace.trace.visits: events -> state visits, attributed through previousEventId.

Each test writes a minimal history by hand, with the previousEventId links AWS records
(docs/aws-reference.md section 2): interleaved branches and iterations, retries, catches,
redrives and damaged histories.
"""

from __future__ import annotations

import json
from typing import Any

from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventKind, HistoryEvent, Payload, details_member, events_from_api
from sfn_trace.model.visits import Flow, FlowKind, Outcome, Visit, VisitTree
from sfn_trace.trace.visits import build_visits


class History:
    """API-style event dicts, ids counting from 1, each linked to the previous one by default."""

    def __init__(self, execution_input: str = "{}") -> None:
        self.raw: list[dict[str, Any]] = []
        self.add("ExecutionStarted", prev=0, input=execution_input, roleArn="role")

    def add(self, event_type: str, prev: int | None = None, **details: Any) -> int:
        event_id = len(self.raw) + 1
        previous = (self.raw[-1]["id"] if self.raw else 0) if prev is None else prev
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": previous,
            "timestamp": f"2025-01-01T00:00:{event_id % 60:02d}.000+00:00",
            "type": event_type,
        }
        if details:
            event[details_member(event_type)] = details
        self.raw.append(event)
        return event_id

    def enter(self, state_type: str, name: str, data: Any = None, prev: int | None = None) -> int:
        return self.add(f"{state_type}StateEntered", prev, name=name, input=text(data))

    def exit(self, state_type: str, name: str, data: Any = None, prev: int | None = None) -> int:
        return self.add(f"{state_type}StateExited", prev, name=name, output=text(data))

    def task(self, prev: int | None = None, params: Any = None) -> int:
        """TaskScheduled -> TaskStarted; returns the TaskStarted id."""
        scheduled = self.add(
            "TaskScheduled", prev, resourceType="lambda", resource="invoke", parameters=text(params)
        )
        return self.add("TaskStarted", scheduled, resourceType="lambda", resource="invoke")

    def events(self) -> tuple[HistoryEvent, ...]:
        return events_from_api(self.raw)

    def tree(self, definition: dict[str, Any] | None = None) -> VisitTree:
        parsed = Definition.from_text(json.dumps(definition)) if definition else None
        return build_visits(self.events(), parsed)


def text(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps({} if data is None else data)


def entered_at(tree: VisitTree, event_id: int) -> Visit:
    return next(v for v in tree.visits if v.entered.id == event_id)


def only(tree: VisitTree, state: str) -> Visit:
    (visit,) = [v for v in tree.visits if v.state == state]
    return visit


def flow_of(tree: VisitTree, visit: Visit) -> Flow:
    """The flow that directly holds ``visit``."""
    stack = [tree.root]
    while stack:
        flow = stack.pop()
        if any(v is visit for v in flow.visits):
            return flow
        stack.extend(child for v in flow.visits for child in v.children)
    raise AssertionError(f"{visit.state} is in no flow")


# --- sequential -------------------------------------------------------------------------------


def test_sequential_states() -> None:
    h = History('{"k": "v"}')
    a_in = h.enter("Pass", "A", {"k": "v"}, prev=0)
    a_out = h.exit("Pass", "A", {"k": "v", "a": 1})
    b_in = h.enter("Task", "B", {"k": "v", "a": 1})
    h.task(params={"FunctionName": "f", "Payload": {"k": "v"}})
    h.add("TaskSucceeded", resourceType="lambda", resource="invoke", output='{"Payload": 1}')
    b_out = h.exit("Task", "B", {"r": 1})
    c_in = h.enter("Succeed", "C", {"r": 1})
    c_out = h.exit("Succeed", "C", {"r": 1})
    end = h.add("ExecutionSucceeded", output='{"r": 1}')
    tree = h.tree()

    assert tree.anomalies == ()
    assert [v.state for v in tree.visits] == ["A", "B", "C"]
    assert [v.type for v in tree.visits] == ["Pass", "Task", "Succeed"]
    assert [v.seq for v in tree.visits] == [1, 2, 3]
    assert [v.entered.id for v in tree.visits] == [a_in, b_in, c_in]
    assert [v.exit_event_id for v in tree.visits] == [a_out, b_out, c_out]
    assert all(v.outcome is Outcome.SUCCEEDED for v in tree.visits)
    assert [v.scope for v in tree.visits] == [("A",), ("B",), ("C",)]
    assert all(v.map_iteration is None and v.children == () for v in tree.visits)
    a, b, c = tree.visits
    assert c.input == Payload('{"r": 1}') and c.output == Payload('{"r": 1}')
    assert a.input == Payload('{"k": "v"}') and a.output == Payload('{"k": "v", "a": 1}')
    assert b.output == Payload('{"r": 1}')
    assert a.attempts == () and a.parameters is None and a.result is None
    assert len(b.attempts) == 1
    assert b.parameters == Payload('{"FunctionName": "f", "Payload": {"k": "v"}}')
    assert b.result == Payload('{"Payload": 1}')
    assert b.resource == "invoke"
    assert tree.root.kind is FlowKind.ROOT and tree.root.label == ""
    assert tree.root.visits == tree.visits
    assert tree.execution_input == Payload('{"k": "v"}')
    assert tree.execution_output == Payload('{"r": 1}')
    assert tree.terminal is not None and tree.terminal.id == end


def test_walk_and_empty_history() -> None:
    assert build_visits(()).visits == ()
    assert build_visits(()).terminal is None
    h = History()
    h.enter("Pass", "A", prev=0)
    tree = h.tree()
    assert tree.visits[0].walk() == [tree.visits[0]]


# --- retries and catches ----------------------------------------------------------------------


def test_task_retried_twice_then_succeeding() -> None:
    h = History()
    h.enter("Task", "T", {"x": 1}, prev=0)
    started = h.task(params={"try": 1})
    first_failure = h.add("TaskFailed", started, error="Lambda.ServiceException", cause="503")
    started = h.task(first_failure, params={"try": 2})
    timeout = h.add("TaskTimedOut", started, error="States.Timeout", cause="slow")
    started = h.task(timeout, params={"try": 3})
    success = h.add("TaskSucceeded", started, output='{"ok": true}')
    exited = h.exit("Task", "T", {"ok": True})
    h.add("ExecutionSucceeded", output='{"ok": true}')
    tree = h.tree()

    assert tree.anomalies == ()
    (visit,) = tree.visits
    assert visit.outcome is Outcome.SUCCEEDED
    assert visit.exit_event_id == exited
    assert visit.error is None and visit.cause is None
    assert [a.number for a in visit.attempts] == [1, 2, 3]
    assert [a.error for a in visit.attempts] == ["Lambda.ServiceException", "States.Timeout", None]
    assert [a.cause for a in visit.attempts] == ["503", "slow", None]
    assert [a.failed for a in visit.attempts] == [True, True, False]
    assert [a.end.id if a.end else None for a in visit.attempts] == [
        first_failure,
        timeout,
        success,
    ]
    assert [a.start.kind for a in visit.attempts] == [EventKind.TASK_SCHEDULED] * 3
    assert [a.parameters for a in visit.attempts] == [Payload(f'{{"try": {i}}}') for i in (1, 2, 3)]
    assert [a.result for a in visit.attempts] == [None, None, Payload('{"ok": true}')]
    assert visit.parameters == Payload('{"try": 3}')
    assert visit.result == Payload('{"ok": true}')


def test_catch() -> None:
    h = History()
    h.enter("Task", "T", {"k": "v"}, prev=0)
    started = h.task()
    h.add("TaskFailed", started, error="Custom.Error", cause="it broke")
    error_output = {"k": "v", "error": {"Error": "Custom.Error", "Cause": "it broke"}}
    exited = h.exit("Task", "T", error_output)
    handler = h.enter("Pass", "Handle", error_output)
    h.exit("Pass", "Handle", error_output)
    h.add("ExecutionSucceeded", output=text(error_output))
    tree = h.tree()

    assert tree.anomalies == ()
    task, handle = tree.visits
    assert task.outcome is Outcome.CAUGHT
    assert task.exited and task.exit_event_id == exited
    assert task.output == Payload(text(error_output))
    assert (task.error, task.cause) == ("Custom.Error", "it broke")
    assert task.result is None
    assert handle.entered.id == handler
    assert handle.outcome is Outcome.SUCCEEDED and handle.error is None


def test_uncaught_failure() -> None:
    h = History()
    h.enter("Pass", "A", prev=0)
    h.exit("Pass", "A")
    h.enter("Task", "T")
    started = h.task()
    h.add("TaskFailed", started, error="Custom.Error", cause="it broke")
    failed = h.add("ExecutionFailed", error="Custom.Error", cause="it broke")
    tree = h.tree()

    assert tree.anomalies == ()
    a, task = tree.visits
    assert a.outcome is Outcome.SUCCEEDED
    assert task.outcome is Outcome.FAILED
    assert not task.exited and task.exit_event_id is None
    assert task.output is None
    assert task.error == "Custom.Error"
    assert task.end is not None and task.end.id == failed
    assert tree.terminal is not None and tree.terminal.kind is EventKind.EXECUTION_FAILED
    assert tree.execution_output is None


def test_fail_state_and_aborted_execution() -> None:
    h = History()
    h.enter("Fail", "Stop", prev=0)
    h.add("ExecutionFailed", error="Nope", cause="")
    (stop,) = h.tree().visits
    assert stop.outcome is Outcome.FAILED
    assert stop.output is None

    h = History()
    h.enter("Wait", "Sleep", prev=0)
    h.add("ExecutionAborted", error="", cause="stopped by a person")
    (sleep,) = h.tree().visits
    assert sleep.outcome is Outcome.ABORTED


# --- Parallel ---------------------------------------------------------------------------------

PARALLEL = {
    "StartAt": "Par",
    "States": {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "A1",
                    "States": {
                        "A1": {"Type": "Task", "Resource": "r", "Next": "A2"},
                        "A2": {"Type": "Pass", "End": True},
                    },
                },
                {"StartAt": "B1", "States": {"B1": {"Type": "Task", "Resource": "r", "End": True}}},
            ],
            "End": True,
        }
    },
}


def parallel_history() -> tuple[History, dict[str, int]]:
    """Branch 1 enters first and its task events interleave with branch 0's."""
    h = History()
    ids: dict[str, int] = {}
    ids["par"] = h.enter("Parallel", "Par", prev=0)
    ids["started"] = h.add("ParallelStateStarted")
    ids["b1"] = h.enter("Task", "B1", {"who": "b"}, prev=ids["started"])
    ids["a1"] = h.enter("Task", "A1", {"who": "a"}, prev=ids["started"])
    ids["a_sched"] = h.add("TaskScheduled", ids["a1"], resource="invoke", parameters='{"p": "a"}')
    ids["b_sched"] = h.add("TaskScheduled", ids["b1"], resource="invoke", parameters='{"p": "b"}')
    ids["b_start"] = h.add("TaskStarted", ids["b_sched"])
    ids["a_start"] = h.add("TaskStarted", ids["a_sched"])
    ids["b_ok"] = h.add("TaskSucceeded", ids["b_start"], output='{"b": 1}')
    ids["a_ok"] = h.add("TaskSucceeded", ids["a_start"], output='{"a": 1}')
    ids["a1_out"] = h.exit("Task", "A1", {"a": 1}, prev=ids["a_ok"])
    ids["a2"] = h.enter("Pass", "A2", {"a": 1})
    ids["b1_out"] = h.exit("Task", "B1", {"b": 1}, prev=ids["b_ok"])
    ids["a2_out"] = h.exit("Pass", "A2", {"a": 2}, prev=ids["a2"])
    h.add("ParallelStateSucceeded", ids["a2_out"])
    ids["par_out"] = h.exit("Parallel", "Par", [{"a": 2}, {"b": 1}], prev=ids["a2_out"])
    h.add("ExecutionSucceeded", output='[{"a": 2}, {"b": 1}]')
    return h, ids


def test_parallel_branches_interleaved() -> None:
    h, ids = parallel_history()
    tree = h.tree(PARALLEL)

    assert tree.anomalies == ()
    assert len(tree.visits) == 4
    par, b1, a1, a2 = tree.visits
    assert [v.state for v in tree.visits] == ["Par", "B1", "A1", "A2"]
    assert all(v.outcome is Outcome.SUCCEEDED for v in tree.visits)
    assert b1.scope == ("Par.Branches[1]", "B1")
    assert a1.scope == ("Par.Branches[0]", "A1")
    assert a2.scope == ("Par.Branches[0]", "A2")
    assert all(v.map_iteration is None for v in tree.visits)
    # every task event went to its own branch's visit, whatever the interleaving
    assert a1.parameters == Payload('{"p": "a"}') and a1.result == Payload('{"a": 1}')
    assert b1.parameters == Payload('{"p": "b"}') and b1.result == Payload('{"b": 1}')
    assert (a1.exit_event_id, b1.exit_event_id, a2.exit_event_id) == (
        ids["a1_out"],
        ids["b1_out"],
        ids["a2_out"],
    )
    assert a2.input == Payload('{"a": 1}') and a2.output == Payload('{"a": 2}')
    branches = {flow.index: flow for flow in par.children}
    assert set(branches) == {0, 1}
    assert all(flow.kind is FlowKind.BRANCH for flow in par.children)
    assert [v.state for v in branches[0].visits] == ["A1", "A2"]
    assert [v.state for v in branches[1].visits] == ["B1"]
    assert branches[0].label == "Par.Branches[0]" and branches[1].label == "Par.Branches[1]"
    assert branches[0].start is not None and branches[0].start.id == ids["started"]
    assert par.exit_event_id == ids["par_out"]
    # flows in the order they started, visits in entry order within each
    assert par.walk() == [par, b1, a1, a2]
    assert flow_of(tree, a2) is branches[0]


def test_parallel_branches_without_definition() -> None:
    h, _ = parallel_history()
    tree = h.tree()
    assert tree.anomalies == ()
    par, b1, a1, a2 = tree.visits
    assert len(par.children) == 2
    # without the definition the index is the order branches started, but flows stay apart
    assert flow_of(tree, a1) is flow_of(tree, a2)
    assert flow_of(tree, b1) is not flow_of(tree, a1)
    assert a1.scope[0] == a2.scope[0] != b1.scope[0]
    assert {a1.scope[0], b1.scope[0]} == {"Par.Branches[0]", "Par.Branches[1]"}
    assert a1.result == Payload('{"a": 1}') and b1.result == Payload('{"b": 1}')


def test_parallel_sibling_aborted_when_a_branch_fails() -> None:
    h = History()
    h.enter("Parallel", "Par", prev=0)
    started = h.add("ParallelStateStarted")
    a1 = h.enter("Task", "A1", prev=started)
    b1 = h.enter("Task", "B1", prev=started)
    a_started = h.task(a1)
    h.task(b1)
    failure = h.add("TaskFailed", a_started, error="A.Error", cause="a broke")
    h.add("TaskStateAborted", failure)
    h.add("TaskStateAborted", failure)
    h.add("ParallelStateFailed", failure)
    h.add("ExecutionFailed", error="A.Error", cause="a broke")
    tree = h.tree(PARALLEL)

    assert tree.anomalies == ()
    par, a, b = tree.visits
    assert (a.state, b.state) == ("A1", "B1")
    assert a.error == "A.Error"
    assert b.outcome is Outcome.ABORTED and b.error is None
    # the branch error propagates unchanged to the Parallel state
    assert par.outcome is Outcome.FAILED
    assert (par.error, par.cause) == ("A.Error", "a broke")


def test_failing_branch_task_is_failed_not_aborted() -> None:
    # AWS records TaskStateAborted for the failing Task of a Parallel branch too (corpus:
    # test_callback__..._SQS_PARALLEL_WAIT_FOR_TASK_TOKEN, events 8-9): it failed on its own
    h = History()
    h.enter("Parallel", "Par", prev=0)
    started = h.add("ParallelStateStarted")
    h.enter("Task", "A1", prev=started)
    task_started = h.task()
    failure = h.add("TaskFailed", task_started, error="A.Error", cause="a broke")
    h.add("TaskStateAborted", failure)
    h.add("ParallelStateFailed", failure)
    h.add("ExecutionFailed", error="A.Error", cause="a broke")
    task = only(h.tree(PARALLEL), "A1")
    assert task.error == "A.Error"
    assert task.outcome is Outcome.FAILED


def parallel_with_fail_branch(caught: bool) -> tuple[History, dict[str, Any]]:
    """Like the corpus' test_parallel_state_catch / _fail: the branch ends in a Fail state."""
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Branch1",
                        "States": {
                            "Branch1": {
                                "Type": "Fail",
                                "Error": "FailureType",
                                "Cause": "Cause description",
                            }
                        },
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "FinalCaught"}],
                "End": True,
            },
            "FinalCaught": {"Type": "Pass", "End": True},
        },
    }
    error_output = {"Error": "FailureType", "Cause": "Cause description"}
    h = History()
    h.enter("Parallel", "Par", prev=0)
    started = h.add("ParallelStateStarted")
    h.enter("Fail", "Branch1", prev=started)
    h.add("ParallelStateFailed")
    if caught:
        h.exit("Parallel", "Par", error_output)
        h.enter("Pass", "FinalCaught", error_output)
        h.exit("Pass", "FinalCaught", error_output)
        h.add("ExecutionSucceeded", output=text(error_output))
    else:
        h.add("ExecutionFailed", error="FailureType", cause="Cause description")
    return h, definition


def test_parallel_catch_does_not_exit_open_branch_visits() -> None:
    h, definition = parallel_with_fail_branch(caught=True)
    tree = h.tree(definition)
    par, branch = only(tree, "Par"), only(tree, "Branch1")
    assert par.outcome is Outcome.CAUGHT and par.exited
    assert branch.outcome is Outcome.FAILED
    assert not branch.exited
    assert branch.exit_event_id is None
    assert branch.output is None


def test_uncaught_parallel_error_is_the_branch_error() -> None:
    h, definition = parallel_with_fail_branch(caught=False)
    par = only(h.tree(definition), "Par")
    assert par.outcome is Outcome.FAILED
    assert par.error == "FailureType"


def test_caught_parallel_error_is_the_branch_error() -> None:
    h, definition = parallel_with_fail_branch(caught=True)
    par = only(h.tree(definition), "Par")
    assert par.outcome is Outcome.CAUGHT
    assert par.error == "FailureType"


# --- inline Map -------------------------------------------------------------------------------


def test_inline_map_three_iterations_two_workers() -> None:
    h = History('{"items": [1, 2, 3]}')
    map_in = h.enter("Map", "M", {"items": [1, 2, 3]}, prev=0)
    map_started = h.add("MapStateStarted", length=3)
    it0 = h.add("MapIterationStarted", map_started, name="M", index=0)
    it1 = h.add("MapIterationStarted", map_started, name="M", index=1)
    p0 = h.enter("Pass", "P", "1", prev=it0)
    p1 = h.enter("Pass", "P", "2", prev=it1)
    p0_out = h.exit("Pass", "P", {"v": 1}, prev=p0)
    it0_end = h.add("MapIterationSucceeded", p0_out, name="M", index=0)
    # worker 0 takes item 2: its MapIterationStarted follows the previous iteration's last event
    it2 = h.add("MapIterationStarted", p0_out, name="M", index=2)
    p2 = h.enter("Pass", "P", "3", prev=it2)
    p1_out = h.exit("Pass", "P", {"v": 2}, prev=p1)
    it1_end = h.add("MapIterationSucceeded", p1_out, name="M", index=1)
    p2_out = h.exit("Pass", "P", {"v": 3}, prev=p2)
    it2_end = h.add("MapIterationSucceeded", p2_out, name="M", index=2)
    map_ok = h.add("MapStateSucceeded", it2_end)
    map_out = h.exit("Map", "M", [{"v": 1}, {"v": 2}, {"v": 3}], prev=it2_end)
    after = h.enter("Pass", "After", [{"v": 1}, {"v": 2}, {"v": 3}])
    h.exit("Pass", "After", "[]")
    h.add("ExecutionSucceeded", output="[]")
    tree = h.tree()

    assert tree.anomalies == ()
    assert all(v.outcome is Outcome.SUCCEEDED for v in tree.visits)
    expected = {p0: (0, "1", p0_out), p1: (1, "2", p1_out), p2: (2, "3", p2_out)}
    for entered, (index, item, exit_id) in expected.items():
        visit = entered_at(tree, entered)
        assert visit.state == "P"
        assert visit.map_iteration == index
        assert visit.scope == (f"M[{index}]", "P")
        assert visit.input == Payload(item)
        assert visit.output == Payload(json.dumps({"v": index + 1}))
        assert visit.exit_event_id == exit_id
    map_visit = entered_at(tree, map_in)
    assert map_visit.scope == ("M",) and map_visit.map_iteration is None
    assert map_visit.exit_event_id == map_out
    assert [f.label for f in map_visit.children] == ["M[0]", "M[1]", "M[2]"]
    assert [f.index for f in map_visit.children] == [0, 1, 2]
    assert all(f.kind is FlowKind.ITERATION for f in map_visit.children)
    assert [f.start.id if f.start else None for f in map_visit.children] == [it0, it1, it2]
    assert [f.end.id if f.end else None for f in map_visit.children] == [it0_end, it1_end, it2_end]
    assert len(map_visit.attempts) == 1
    assert map_visit.attempts[0].end is not None and map_visit.attempts[0].end.id == map_ok
    assert [v.entered.id for v in map_visit.walk()] == [map_in, p0, p1, p2]
    after_visit = entered_at(tree, after)
    assert after_visit.map_iteration is None and after_visit.scope == ("After",)
    assert flow_of(tree, after_visit) is tree.root


def test_nested_map_scope_is_innermost_iteration() -> None:
    h = History()
    h.enter("Map", "Outer", prev=0)
    outer_started = h.add("MapStateStarted", length=2)
    h.add("MapIterationStarted", outer_started, name="Outer", index=0)
    outer_1 = h.add("MapIterationStarted", outer_started, name="Outer", index=1)
    h.enter("Map", "Inner", prev=outer_1)
    h.add("MapStateStarted", length=1)
    inner_0 = h.add("MapIterationStarted", name="Inner", index=0)
    leaf = h.enter("Pass", "Leaf", prev=inner_0)
    tree = h.tree()

    assert tree.anomalies == ()
    inner = only(tree, "Inner")
    assert inner.map_iteration == 1 and inner.scope == ("Outer[1]", "Inner")
    visit = entered_at(tree, leaf)
    assert visit.map_iteration == 0
    assert visit.scope == ("Outer[1]", "Inner[0]", "Leaf")
    assert visit.outcome is Outcome.RUNNING


def test_retried_map_starts_a_new_epoch() -> None:
    h = History()
    map_in = h.enter("Map", "M", prev=0)
    first_start = h.add("MapStateStarted", length=1)
    first_it = h.add("MapIterationStarted", name="M", index=0)
    t_first = h.enter("Task", "T", {"try": 1}, prev=first_it)
    started = h.task()
    failure = h.add("TaskFailed", started, error="Boom", cause="")
    first_it_end = h.add("MapIterationFailed", failure, name="M", index=0)
    # the Map's Retry: a new MapStateStarted after the failed attempt's last event
    second_start = h.add("MapStateStarted", failure, length=1)
    second_it = h.add("MapIterationStarted", name="M", index=0)
    t_second = h.enter("Task", "T", {"try": 2}, prev=second_it)
    started = h.task()
    h.add("TaskSucceeded", started, output="{}")
    t_out = h.exit("Task", "T", {"ok": 2})
    second_it_end = h.add("MapIterationSucceeded", name="M", index=0)
    map_ok = h.add("MapStateSucceeded", second_it_end)
    map_out = h.exit("Map", "M", [{"ok": 2}], prev=second_it_end)
    h.add("ExecutionSucceeded", output='[{"ok": 2}]')
    tree = h.tree()

    assert tree.anomalies == ()
    map_visit = entered_at(tree, map_in)
    assert map_visit.outcome is Outcome.SUCCEEDED and map_visit.error is None
    assert map_visit.exit_event_id == map_out
    assert [a.start.id for a in map_visit.attempts] == [first_start, second_start]
    assert map_visit.attempts[-1].end is not None and map_visit.attempts[-1].end.id == map_ok
    flows = map_visit.children
    assert [f.label for f in flows] == ["M[0]", "M[0]"]
    assert [f.start.id if f.start else None for f in flows] == [first_it, second_it]
    # each MapIteration{Failed,Succeeded} closed the iteration of its own epoch
    assert [f.end.id if f.end else None for f in flows] == [first_it_end, second_it_end]
    first, second = entered_at(tree, t_first), entered_at(tree, t_second)
    assert flows[0].visits == (first,) and flows[1].visits == (second,)
    assert first.outcome is Outcome.FAILED and first.error == "Boom"
    assert second.outcome is Outcome.SUCCEEDED and second.exit_event_id == t_out
    assert first.map_iteration == second.map_iteration == 0


# --- running, redriven ------------------------------------------------------------------------


def test_running_history() -> None:
    h = History()
    h.enter("Pass", "A", prev=0)
    h.exit("Pass", "A")
    h.enter("Map", "M")
    h.add("MapStateStarted", length=1)
    h.add("MapIterationStarted", name="M", index=0)
    h.enter("Task", "T")
    h.task()
    tree = h.tree()

    assert tree.anomalies == ()
    a, m, t = tree.visits
    assert a.outcome is Outcome.SUCCEEDED
    assert m.outcome is Outcome.RUNNING and t.outcome is Outcome.RUNNING
    assert m.end is None and t.end is None
    assert not t.exited and t.output is None
    assert t.attempts[0].end is None and not t.attempts[0].failed
    assert t.scope == ("M[0]", "T") and t.map_iteration == 0
    assert m.children[0].end is None
    assert tree.terminal is None and tree.execution_output is None


def redriven_history() -> tuple[History, dict[str, int]]:
    h = History()
    ids = {"first": h.enter("Task", "T", prev=0)}
    started = h.task()
    h.add("TaskFailed", started, error="Flaky", cause="")
    ids["failed"] = h.add("ExecutionFailed", error="Flaky", cause="")
    ids["redriven"] = h.add("ExecutionRedriven", redriveCount=1)
    ids["second"] = h.enter("Task", "T")
    started = h.task()
    h.add("TaskSucceeded", started, output='{"ok": 1}')
    ids["exit"] = h.exit("Task", "T", {"ok": 1})
    ids["succeeded"] = h.add("ExecutionSucceeded", output='{"ok": 1}')
    return h, ids


def test_execution_redriven_reopens() -> None:
    h, ids = redriven_history()
    tree = h.tree()
    assert tree.anomalies == ()
    first, second = tree.visits
    assert first.entered.id == ids["first"] and second.entered.id == ids["second"]
    assert first.outcome is Outcome.FAILED and first.error == "Flaky"
    assert second.outcome is Outcome.SUCCEEDED and second.exit_event_id == ids["exit"]
    assert second.scope == ("T",)
    assert len(second.attempts) == 1
    assert tree.terminal is not None and tree.terminal.id == ids["succeeded"]
    assert tree.execution_output == Payload('{"ok": 1}')


def test_redriven_without_new_end_is_running() -> None:
    h, ids = redriven_history()
    cut = [e for e in h.events() if e.id <= ids["second"]]
    tree = build_visits(cut)
    assert tree.terminal is None
    assert tree.execution_output is None
    first, second = tree.visits
    assert first.outcome is Outcome.FAILED
    assert second.outcome is Outcome.RUNNING


# --- damaged histories ------------------------------------------------------------------------


def test_duplicate_event_ids() -> None:
    h = History()
    h.enter("Pass", "A", prev=0)
    h.exit("Pass", "A", {"first": True})
    h.add("ExecutionSucceeded", output="{}")
    duplicate = dict(h.raw[2])
    duplicate[details_member("PassStateExited")] = {"name": "A", "output": '{"second": true}'}
    tree = build_visits(events_from_api([*h.raw, duplicate]))
    (visit,) = tree.visits
    assert visit.output == Payload('{"first": true}')
    assert visit.outcome is Outcome.SUCCEEDED
    assert len(tree.anomalies) == 1
    assert "duplicate event id 3" in tree.anomalies[0]
    # An identical copy is the same event: dropped, no anomaly.
    assert build_visits(events_from_api([*h.raw, dict(h.raw[2])])).anomalies == ()


def test_orphan_events_are_recorded_not_fatal() -> None:
    h = History()
    orphan_task = h.add("TaskSucceeded", 1, output="{}")  # no Task visit exists
    h.enter("Task", "T", prev=0)
    lost_link = h.add("TaskScheduled", 999, resource="invoke", parameters="{}")
    ghost_exit = h.exit("Pass", "Ghost")  # a state never entered
    h.enter("Map", "M")
    h.add("MapStateStarted", length=1)
    never_started = h.add("MapIterationSucceeded", name="M", index=5)
    tree = h.tree()

    assert [v.state for v in tree.visits] == ["T", "M"]
    anomalies = "\n".join(tree.anomalies)
    assert len(tree.anomalies) == 5
    assert f"event {lost_link} (TaskScheduled) follows event 999 (previousEventId)" in anomalies
    assert f"event {orphan_task} (TaskSucceeded) has no open Task visit" in anomalies
    assert f"event {lost_link} (TaskScheduled) attributed to T by recency" in anomalies
    assert f"event {ghost_exit} (PassStateExited) has no open visit of state 'Ghost'" in anomalies
    assert f"event {never_started} (MapIterationSucceeded) ends an iteration never started" in (
        anomalies
    )
    task = only(tree, "T")
    assert len(task.attempts) == 1 and task.attempts[0].start.id == lost_link
    assert task.outcome is Outcome.RUNNING


def test_unknown_events_are_transparent() -> None:
    h = History()
    entered = h.enter("Task", "T", prev=0)
    future = h.add("TaskQuantumEntangled", entered, detail="x")
    started = h.task(future)
    h.add("TaskSucceeded", started, output='{"r": 1}')
    h.exit("Task", "T")
    tree = h.tree()
    assert tree.anomalies == ()
    assert h.events()[future - 1].kind is EventKind.UNKNOWN
    (visit,) = tree.visits
    assert visit.result == Payload('{"r": 1}')
    assert visit.outcome is Outcome.SUCCEEDED


# --- failures without a task event ------------------------------------------------------------


def runtime_cause(state: str, entered: int) -> str:
    return (
        f"An error occurred while executing the state '{state}' (entered at the event id "
        f"#{entered}). Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_runtime_error_names_the_entered_event() -> None:
    h = History()
    h.enter("Pass", "A", prev=0)
    h.exit("Pass", "A")
    b = h.enter("Task", "B")
    h.add("ExecutionFailed", b, error="States.Runtime", cause=runtime_cause("B", b))
    tree = h.tree()
    assert tree.anomalies == ()
    a, task = tree.visits
    assert a.outcome is Outcome.SUCCEEDED
    assert task.outcome is Outcome.FAILED
    assert task.error == "States.Runtime"
    assert task.cause == runtime_cause("B", b)
    assert task.output is None


def test_runtime_error_in_one_branch_aborts_the_other() -> None:
    h = History()
    h.enter("Parallel", "Par", prev=0)
    started = h.add("ParallelStateStarted")
    a1 = h.enter("Task", "A1", prev=started)
    b1 = h.enter("Task", "B1", prev=started)
    h.task(a1)
    h.add("ExecutionFailed", b1, error="States.Runtime", cause=runtime_cause("B1", b1))
    tree = h.tree(PARALLEL)
    assert only(tree, "B1").outcome is Outcome.FAILED
    assert only(tree, "B1").error == "States.Runtime"
    assert only(tree, "A1").outcome is Outcome.ABORTED
    assert only(tree, "A1").error is None


def test_evaluation_failed_points_at_root() -> None:
    # AWS gives EvaluationFailed the StateEntered's previousEventId (0 for the first state)
    h = History()
    state0 = h.enter("Task", "State0", prev=0)
    cause = runtime_cause("State0", state0)
    evaluation = h.add(
        "EvaluationFailed",
        0,
        error="States.QueryEvaluationError",
        cause=cause,
        location="Arguments",
        state="State0",
    )
    h.add("ExecutionFailed", evaluation, error="States.QueryEvaluationError", cause=cause)
    tree = h.tree()
    assert tree.anomalies == ()
    (visit,) = tree.visits
    assert visit.outcome is Outcome.FAILED
    assert visit.error == "States.QueryEvaluationError"


# --- one tree per trace -----------------------------------------------------------------


def test_no_tree_is_kept_behind_the_callers_back() -> None:
    """The tree is built at each call (a trace passes its one tree on explicitly): no cache
    keyed by the events' identity."""
    history = events_from_api(
        [
            {"id": 1, "type": "ExecutionStarted", "executionStartedEventDetails": {"input": "{}"}},
            {"id": 2, "type": "ExecutionSucceeded", "previousEventId": 1},
        ]
    )
    first = build_visits(history)
    again = build_visits(history)
    assert again is not first
    assert again.visits == first.visits
