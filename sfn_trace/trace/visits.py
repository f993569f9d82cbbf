"""History events -> state visits, attributed through ``previousEventId`` chains.

One visit per ``*StateEntered``. Events are attributed by causality, never by adjacency:
in real histories the events of Map iterations and Parallel branches interleave in
timestamp order. For an event we start at the node that owns its ``previousEventId`` and
climb the scope tree (visit -> the flow holding it -> the Map/Parallel visit holding that
flow -> ...) to the nearest *open* node that can own it.

- ``*StateEntered`` opens a visit in a flow: a new Parallel branch when its predecessor is
  ``ParallelStateStarted``, the iteration when it is ``MapIterationStarted``, else the
  flow of the predecessor's visit.
- ``MapIterationStarted`` opens iteration ``index`` under the nearest open Map visit named
  ``details.name`` (its predecessor may be the previous iteration's last event).
- ``Task*``/``LambdaFunction*``/``Activity*`` go to the nearest open Task visit; Map and
  Parallel lifecycle events to the nearest open Map/Parallel visit; ``*StateExited`` closes
  the nearest open visit with that name, ``*StateAborted`` the nearest of that type.

See https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
and docs/aws-reference.md (section 2) for the observed ``previousEventId`` patterns.

A live trace follows the same :class:`Builder` page by page (:mod:`sfn_trace.trace.unfolding`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sfn_trace.asl.failures import carried_failure
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventKind, HistoryEvent, Payload
from sfn_trace.model.text import quote, quote_repr
from sfn_trace.model.visits import Attempt, Flow, FlowKind, Outcome, Visit, VisitTree
from sfn_trace.trace.integrity import integrity_anomalies

# --- building -----------------------------------------------------------------------------


@dataclass(eq=False)
class FlowNode:
    """A flow (the execution, a Parallel branch, a Map iteration) while the tree is built."""

    kind: FlowKind
    label: str
    index: int | None
    parent: VisitNode | None
    start: HistoryEvent | None
    end: HistoryEvent | None = None
    visits: list[VisitNode] = field(default_factory=list)
    open: bool = True


@dataclass(eq=False)
class _AttemptNode:
    start: HistoryEvent
    parameters: Payload | None = None
    resource: str | None = None
    resource_type: str | None = None
    end: HistoryEvent | None = None
    result: Payload | None = None
    submitted: Payload | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(eq=False)
class VisitNode:
    """A visit while the tree is built (its ``outcome`` None while it is open)."""

    seq: int
    entered: HistoryEvent
    state: str
    type: str
    parent: FlowNode
    end: HistoryEvent | None = None
    exit: HistoryEvent | None = None
    outcome: Outcome | None = None
    attempts: list[_AttemptNode] = field(default_factory=list)
    children: list[FlowNode] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    epoch: HistoryEvent | None = None
    """The latest Map/ParallelStateStarted: a retried Map or Parallel starts a new epoch."""
    iterations: dict[tuple[int, int], FlowNode] = field(default_factory=dict)
    redrive_count: int | None = None
    """The execution's redrive count when the visit was entered (None: not known)."""

    @property
    def open(self) -> bool:
        return self.outcome is None

    @property
    def variables(self) -> tuple[tuple[str, Payload], ...] | None:
        """What its ``Assign`` set, as its exit recorded it."""
        return self.exit.assigned_variables if self.exit is not None else None

    @property
    def variables_truncated(self) -> bool:
        return self.exit.variables_truncated if self.exit is not None else False


_Node = FlowNode | VisitNode


class Builder:
    """Attributes a history's events to visits, one at a time (:meth:`add`), then freezes
    the tree (:meth:`tree`). A live trace reads only its public surface: ``add``, the
    nodes (``root``, ``visits``), ``terminal``, ``execution_input``, ``role_arn``, ``tree``,
    ``unlink``, and :func:`freeze_visit`."""

    def __init__(self, definition: Definition | None) -> None:
        self.definition = definition
        self.root = FlowNode(FlowKind.ROOT, "", None, None, None)
        self.owner: dict[int, _Node] = {}
        self.kind_of: dict[int, EventKind] = {}
        self.visits: list[VisitNode] = []
        self.anomalies: list[str] = []
        self.execution_input: Payload | None = None
        self.execution_output: Payload | None = None
        self.terminal: HistoryEvent | None = None
        self.role_arn: str | None = None
        self.redrive_count: int | None = None
        """Redrives so far: 0 from ``ExecutionStarted``, then each ``ExecutionRedriven``'s
        ``redriveCount``; None until the execution's start is seen."""
        # Closing (see _close_open_descendants): the visits known to hold no open visit,
        # and how many of self.visits were checked against them.
        self.settled: set[VisitNode] = set()
        self.settled_checked = 0
        self._events: dict[int, HistoryEvent] = {}

    # -- climbing

    def _start(self, event: HistoryEvent) -> _Node:
        return self.owner.get(event.previous_id, self.root)

    @staticmethod
    def _climb(node: _Node | None, accept: Callable[[VisitNode], bool]) -> VisitNode | None:
        while node is not None:
            if isinstance(node, VisitNode):
                if node.open and accept(node):
                    return node
                node = node.parent
            else:
                node = node.parent
        return None

    def _find_visit(
        self,
        event: HistoryEvent,
        accept: Callable[[VisitNode], bool],
        what: str,
        by_name: bool = False,
    ) -> VisitNode | None:
        found = self._climb(self._start(event), accept)
        if found is None and by_name:
            # Events that name their state may point elsewhere: AWS gives EvaluationFailed
            # the same previousEventId as the StateEntered it belongs to.
            found = next((v for v in reversed(self.visits) if v.open and accept(v)), None)
            if found is not None:
                return found
        if found is None:
            # Not where previousEventId says: fall back to the latest open visit that fits,
            # so a damaged or hand-edited history still yields a trace (and say so).
            for candidate in reversed(self.visits):
                if candidate.open and accept(candidate):
                    found = candidate
                    self.anomalies.append(
                        f"event {event.id} ({quote(event.type)}) attributed to "
                        f"{quote(candidate.state)} by recency: its previousEventId "
                        f"{event.previous_id} leads to no open {what}"
                    )
                    break
        if found is None:
            self.anomalies.append(
                f"event {event.id} ({quote(event.type)}) has no open {what}; ignored"
            )
        return found

    # -- events

    def add(self, event: HistoryEvent) -> None:
        """Attribute the next event (in id order; the first event with an id is kept)."""
        self._events.setdefault(event.id, event)
        self.kind_of[event.id] = event.kind
        handler = _HANDLERS.get(event.kind)
        if handler is None:
            self.owner[event.id] = self._start(event)
            return
        handler(self, event)

    def _execution_started(self, event: HistoryEvent) -> None:
        self.execution_input = event.input
        self.role_arn = event.role_arn
        self.redrive_count = 0
        self.owner[event.id] = self.root

    def _execution_ended(self, event: HistoryEvent) -> None:
        self.owner[event.id] = self.root
        self.terminal = event
        if event.kind is EventKind.EXECUTION_SUCCEEDED:
            self.execution_output = event.output
        culprit = _state_in_cause(event.cause)
        if culprit is not None:
            # Path and evaluation errors fail the execution directly, with no task event:
            # the cause names the state and the event that entered it.
            for visit in self.visits:
                if visit.open and visit.entered.id == culprit:
                    visit.error, visit.cause = event.error or "States.Runtime", event.cause
        for visit in self.visits:
            if visit.open:
                failed = event.kind is EventKind.EXECUTION_FAILED and _has_failed(visit)
                if failed and event.error and visit.error in (None, *_GENERIC_ERRORS):
                    # Branch and iteration errors propagate unchanged to the execution.
                    visit.error, visit.cause = event.error, event.cause
                self._close(
                    visit, event, Outcome.FAILED if failed else Outcome.ABORTED, cascade=False
                )

    def _execution_redriven(self, event: HistoryEvent) -> None:
        if event.redrive_count is not None:
            self.redrive_count = event.redrive_count
        elif self.redrive_count is not None:
            self.redrive_count += 1
        self.owner[event.id] = self.root
        self.terminal = None
        self.execution_output = None

    def _state_entered(self, event: HistoryEvent) -> None:
        flow = self._flow_for_entry(event)
        visit = VisitNode(
            seq=len(self.visits) + 1,
            entered=event,
            state=event.name or f"<unnamed state at event {event.id}>",
            type=event.state_type or "?",
            parent=flow,
            redrive_count=self.redrive_count,
        )
        if visit.type == "Fail":
            # A Fail state records no error event; its Error/Cause live in the definition
            # (or are computed by ErrorPath/CausePath, then only the execution's end says).
            visit.error, visit.cause = self._fail_error(visit.state)
        flow.visits.append(visit)
        self.visits.append(visit)
        self.owner[event.id] = visit

    def _flow_for_entry(self, event: HistoryEvent) -> FlowNode:
        previous_kind = self.kind_of.get(event.previous_id)
        node = self._start(event)
        if previous_kind is EventKind.PARALLEL_STARTED and isinstance(node, VisitNode):
            return self._new_branch(node, event)
        if previous_kind is EventKind.MAP_ITERATION_STARTED and isinstance(node, FlowNode):
            return node
        if isinstance(node, VisitNode):
            return node.parent
        return node

    def _fail_error(self, state: str) -> tuple[str | None, str | None]:
        definition = self.definition.state(state) if self.definition else None
        if definition is None:
            return None, None
        error, cause = definition.body.get("Error"), definition.body.get("Cause")
        return (
            error if isinstance(error, str) and "{%" not in error else None,
            cause if isinstance(cause, str) and "{%" not in cause else None,
        )

    def _new_branch(self, parallel: VisitNode, event: HistoryEvent) -> FlowNode:
        epoch_id = _epoch_id(parallel)
        index = None
        if self.definition is not None and event.name is not None:
            state = self.definition.state(event.name)
            if state is not None and state.parent == parallel.state:
                index = state.branch
        if index is None:
            index = sum(1 for f in parallel.children if f.start and f.start.id >= epoch_id)
        flow = FlowNode(
            FlowKind.BRANCH,
            f"{parallel.state}.Branches[{index}]",
            index,
            parallel,
            self._event(event.previous_id),
        )
        parallel.children.append(flow)
        return flow

    def _event(self, event_id: int) -> HistoryEvent | None:
        return self._events.get(event_id)

    def _state_exited(self, event: HistoryEvent) -> None:
        name = event.name
        visit = self._find_visit(
            event, lambda v: name is None or v.state == name, f"visit of state {_named(name)}"
        )
        if visit is None:
            self.owner[event.id] = self._start(event)
            return
        self.owner[event.id] = visit
        visit.exit = event
        caught = visit.error is not None or _failed_last(visit)
        self._close(visit, event, Outcome.CAUGHT if caught else Outcome.SUCCEEDED)

    def _state_aborted(self, event: HistoryEvent) -> None:
        # AWS points every abort of a failed Map/Parallel at the failure that caused it
        # (docs/aws-reference.md section 2), not at the aborted visit: when the climb finds nothing,
        # take the earliest open visit of that type; an abort of an already closed visit
        # changes nothing.
        state_type = event.state_type
        visit = self._climb(self._start(event), lambda v: v.type == state_type)
        if visit is None:
            visit = next((v for v in self.visits if v.open and v.type == state_type), None)
        if visit is None:
            self.owner[event.id] = self._start(event)
            return
        self.owner[event.id] = visit
        # AWS also "aborts" the Task of a Parallel branch that failed on its own.
        self._close(visit, event, Outcome.FAILED if _has_failed(visit) else Outcome.ABORTED)

    def _close(
        self, visit: VisitNode, event: HistoryEvent, outcome: Outcome, cascade: bool = True
    ) -> None:
        """End ``visit`` and its branches/iterations; with ``cascade``, every visit still
        open inside them too."""
        visit.end = event
        visit.outcome = outcome
        for flow in visit.children:
            if flow.open:
                flow.open = False
                flow.end = flow.end or event
        if cascade:
            for flow in visit.children:
                for inner in flow.visits:
                    self._close_open_descendants(inner, event)

    def _close_open_descendants(self, visit: VisitNode, event: HistoryEvent) -> None:
        """Close ``visit`` if open, and every open visit nested in it, outside in.

        An explicit stack, not recursion: the history chooses how deep visits nest. A visit
        once walked is *settled* (closed, and all inside it too) until a visit is entered
        inside it: closing N nested visits one after the other walks each once, not N
        times."""
        self._unsettle_new_visits()
        stack = [visit]
        walked = []
        while stack:
            node = stack.pop()
            if node in self.settled:
                continue  # closed, and so is everything inside it
            walked.append(node)
            if node.open:
                outcome = Outcome.FAILED if _has_failed(node) else Outcome.ABORTED
                self._close(node, event, outcome, cascade=False)
            stack.extend(reversed(_nested_visits(node)))
        self.settled.update(walked)

    def _unsettle_new_visits(self) -> None:
        """A visit entered since the last check unsettles the visits around it. A settled
        visit's inner visits are all settled, so the climb stops at the first that is not."""
        for new in self.visits[self.settled_checked :]:
            holder = new.parent.parent
            while holder is not None and holder in self.settled:
                self.settled.discard(holder)
                holder = holder.parent.parent
        self.settled_checked = len(self.visits)

    def _task_event(self, event: HistoryEvent) -> None:
        visit = self._find_visit(event, lambda v: v.type == "Task", "Task visit")
        if visit is None:
            self.owner[event.id] = self._start(event)
            return
        self.owner[event.id] = visit
        kind = event.kind
        if kind is EventKind.TASK_SCHEDULED:
            visit.attempts.append(
                _AttemptNode(
                    start=event,
                    # Service tasks carry the effective parameters; Lambda-ARN and activity
                    # tasks carry them as their "input".
                    parameters=event.parameters if event.parameters is not None else event.input,
                    resource=event.resource,
                    resource_type=event.resource_type,
                )
            )
            return
        attempt = visit.attempts[-1] if visit.attempts else None
        if attempt is None or attempt.end is not None:
            # e.g. LambdaFunctionScheduleFailed without a schedule, or a damaged history.
            attempt = _AttemptNode(
                start=event, resource=event.resource, resource_type=event.resource_type
            )
            visit.attempts.append(attempt)
        if kind is EventKind.TASK_SUBMITTED:
            attempt.submitted = event.output
        elif kind is EventKind.TASK_SUCCEEDED:
            attempt.end, attempt.result = event, event.output
            visit.error = visit.cause = None
        elif kind is EventKind.TASK_FAILED:
            attempt.end, attempt.error, attempt.cause = (
                event,
                event.error or event.type,
                event.cause,
            )
            visit.error, visit.cause = attempt.error, attempt.cause

    def _container_event(self, event: HistoryEvent) -> None:
        kind = event.kind
        wanted = "Parallel" if kind in _PARALLEL_KINDS else "Map"
        visit = self._find_visit(event, lambda v: v.type == wanted, f"{wanted} visit")
        if visit is None:
            self.owner[event.id] = self._start(event)
            return
        self.owner[event.id] = visit
        if kind in (EventKind.MAP_STARTED, EventKind.PARALLEL_STARTED):
            visit.epoch = event
            visit.attempts.append(_AttemptNode(start=event))
            visit.error = visit.cause = None
            return
        attempt = visit.attempts[-1] if visit.attempts else None
        if kind in (EventKind.MAP_SUCCEEDED, EventKind.PARALLEL_SUCCEEDED):
            if attempt is not None:
                attempt.end = event
        elif kind in (EventKind.MAP_FAILED, EventKind.PARALLEL_FAILED):
            error, cause = self._inner_error(visit)
            if attempt is not None:
                attempt.end, attempt.error, attempt.cause = event, error, cause
            visit.error, visit.cause = error, cause
        elif event.type == "MapRunFailed":
            visit.error, visit.cause = event.error or "MapRunFailed", event.cause

    @staticmethod
    def _inner_error(visit: VisitNode) -> tuple[str, str | None]:
        """The error of the failed branch/iteration, which propagates unchanged."""
        carried = carried_failure(visit)
        if carried is None or carried.error is None:
            return _GENERIC_ERRORS[0 if visit.type == "Parallel" else 1], None
        return carried.error, carried.cause

    def _map_of_iteration(self, event: HistoryEvent) -> VisitNode | None:
        """The open Map visit an iteration event belongs to (``details.name`` is the Map)."""
        name = event.name
        visit = self._find_visit(
            event, lambda v: v.type == "Map" and (name is None or v.state == name), "Map visit"
        )
        if visit is None:
            self.owner[event.id] = self._start(event)
        return visit

    def _iteration_started(self, event: HistoryEvent) -> None:
        visit = self._map_of_iteration(event)
        if visit is None:
            return
        index = event.index if event.index is not None else len(visit.children)
        epoch_id = _epoch_id(visit)
        flow = FlowNode(FlowKind.ITERATION, f"{visit.state}[{index}]", index, visit, event)
        visit.iterations[(epoch_id, index)] = flow
        visit.children.append(flow)
        self.owner[event.id] = flow

    def _iteration_ended(self, event: HistoryEvent) -> None:
        visit = self._map_of_iteration(event)
        if visit is None:
            return
        epoch_id = _epoch_id(visit)
        flow = visit.iterations.get((epoch_id, event.index if event.index is not None else -1))
        if flow is None:
            self.anomalies.append(
                f"event {event.id} ({quote(event.type)}) ends an iteration never started"
            )
            self.owner[event.id] = visit
            return
        flow.open, flow.end = False, event
        self.owner[event.id] = flow
        for inner in flow.visits:
            self._close_open_descendants(inner, event)

    def _evaluation_failed(self, event: HistoryEvent) -> None:
        name = event.name
        visit = self._find_visit(
            event,
            lambda v: name is None or v.state == name,
            f"visit of state {_named(name)}",
            by_name=name is not None,
        )
        if visit is None:
            self.owner[event.id] = self._start(event)
            return
        self.owner[event.id] = visit
        visit.error, visit.cause = event.error or "States.QueryEvaluationError", event.cause

    # -- freezing

    def unlink(self) -> None:
        """Drop the links from each node to the one holding it, once the tree is frozen:
        with them, the nodes form reference cycles that only the garbage collector would
        free (a trace runs with it paused), without them reference counting frees them."""
        for visit in self.visits:
            visit.parent = None  # type: ignore[assignment]
            for flow in visit.children:
                flow.parent = None

    def build(self, events: Sequence[HistoryEvent]) -> VisitTree:
        self.anomalies.extend(integrity_anomalies(events))
        for event in events:
            self._events.setdefault(event.id, event)
        for event in events:
            if self._events[event.id] is not event:
                continue  # a repeated id: the first event with it is kept
            self.add(event)
        return self.tree()

    def tree(self, known: dict[VisitNode, Visit] | None = None) -> VisitTree:
        """The tree of the events added, reusing the ended visits already frozen
        (``known``, :meth:`freeze_visit`); the builder is done with."""
        for visit in self.visits:
            if visit.open:
                visit.outcome = Outcome.RUNNING
        known = {} if known is None else known
        frozen: dict[int, Visit] = {node.seq: visit for node, visit in known.items()}
        root = _freeze_flow(self.root, (), None, frozen, known)
        self.unlink()
        return VisitTree(
            root=root,
            visits=tuple(frozen[v.seq] for v in self.visits),
            execution_input=self.execution_input,
            execution_output=self.execution_output,
            terminal=self.terminal,
            anomalies=tuple(self.anomalies),
            role_arn=self.role_arn,
        )


# Placeholders for a Map/Parallel failure whose inner error the history does not name.
_GENERIC_ERRORS = ("States.BranchFailed", "States.MapFailed")

_PARALLEL_KINDS = (
    EventKind.PARALLEL_STARTED,
    EventKind.PARALLEL_SUCCEEDED,
    EventKind.PARALLEL_FAILED,
)

_HANDLERS: dict[EventKind, Callable[[Builder, HistoryEvent], None]] = {
    EventKind.EXECUTION_STARTED: Builder._execution_started,
    EventKind.EXECUTION_SUCCEEDED: Builder._execution_ended,
    EventKind.EXECUTION_FAILED: Builder._execution_ended,
    EventKind.EXECUTION_ABORTED: Builder._execution_ended,
    EventKind.EXECUTION_TIMED_OUT: Builder._execution_ended,
    EventKind.EXECUTION_REDRIVEN: Builder._execution_redriven,
    EventKind.STATE_ENTERED: Builder._state_entered,
    EventKind.STATE_EXITED: Builder._state_exited,
    EventKind.STATE_ABORTED: Builder._state_aborted,
    EventKind.TASK_SCHEDULED: Builder._task_event,
    EventKind.TASK_STARTED: Builder._task_event,
    EventKind.TASK_SUBMITTED: Builder._task_event,
    EventKind.TASK_SUCCEEDED: Builder._task_event,
    EventKind.TASK_FAILED: Builder._task_event,
    EventKind.PARALLEL_STARTED: Builder._container_event,
    EventKind.PARALLEL_SUCCEEDED: Builder._container_event,
    EventKind.PARALLEL_FAILED: Builder._container_event,
    EventKind.MAP_STARTED: Builder._container_event,
    EventKind.MAP_SUCCEEDED: Builder._container_event,
    EventKind.MAP_FAILED: Builder._container_event,
    EventKind.MAP_RUN: Builder._container_event,
    EventKind.MAP_ITERATION_STARTED: Builder._iteration_started,
    EventKind.MAP_ITERATION_ENDED: Builder._iteration_ended,
    EventKind.EVALUATION_FAILED: Builder._evaluation_failed,
}


_CAUSE_STATE = re.compile(r"executing the state '.*?' \(entered at the event id #(\d+)\)")


def _state_in_cause(cause: str | None) -> int | None:
    """The entered-event id in "An error occurred while executing the state 'S' (entered at
    the event id #7)", the prefix AWS gives States.Runtime and evaluation errors."""
    match = _CAUSE_STATE.search(cause or "")
    return int(match.group(1)) if match else None


def _epoch_id(visit: VisitNode) -> int:
    """The run of a Map/Parallel visit: a retried one starts a new epoch at its
    ``*StateStarted`` event, and iterations/branches are keyed per epoch."""
    return visit.epoch.id if visit.epoch else visit.entered.id


def _has_failed(visit: VisitNode) -> bool:
    return visit.error is not None or _failed_last(visit) or visit.type == "Fail"


def _failed_last(visit: VisitNode) -> bool:
    if not visit.attempts:
        return False
    last = visit.attempts[-1]
    return last.error is not None


def _nested_visits(visit: VisitNode) -> list[VisitNode]:
    """The visits directly inside ``visit``'s branches/iterations, flow by flow."""
    return [inner for flow in visit.children for inner in flow.visits]


def _freeze_flow(
    node: FlowNode,
    scope: tuple[str, ...],
    iteration: int | None,
    out: dict[int, Visit],
    known: dict[VisitNode, Visit] | None = None,
) -> Flow:
    """The frozen ``node``, its visits in ``out`` by ``seq``.

    ``known``: visits frozen before, reused as they are (with all they hold: a visit is
    frozen once it ended, and nothing changes an ended visit); those frozen now are added.

    Without recursion (the history chooses how deep flows nest): one pass down hands each
    flow and visit its scope and Map iteration, then the nodes are frozen in the reverse of
    that order, so every flow's visits and every visit's flows are frozen before it."""
    known = {} if known is None else known
    order: list[tuple[FlowNode | VisitNode, tuple[str, ...], int | None]] = []
    stack: list[tuple[FlowNode | VisitNode, tuple[str, ...], int | None]] = [
        (node, scope, iteration)
    ]
    while stack:
        item = stack.pop()
        order.append(item)
        current, where, index = item
        if isinstance(current, FlowNode):
            stack.extend((visit, where, index) for visit in reversed(current.visits))
        elif current not in known:
            stack.extend(
                (
                    flow,
                    (*where, flow.label),
                    flow.index if flow.kind is FlowKind.ITERATION else index,
                )
                for flow in reversed(current.children)
            )
    flows: dict[FlowNode, Flow] = {}
    for current, where, index in reversed(order):
        if isinstance(current, FlowNode):
            flows[current] = Flow(
                kind=current.kind,
                label=current.label,
                index=current.index,
                visits=tuple(out[visit.seq] for visit in current.visits),
                start=current.start,
                end=current.end,
            )
        elif current in known:
            out[current.seq] = known[current]
        else:
            out[current.seq] = known[current] = _freeze_visit(
                current, where, index, tuple(flows[flow] for flow in current.children)
            )
    return flows[node]


def _freeze_visit(
    node: VisitNode, scope: tuple[str, ...], iteration: int | None, children: tuple[Flow, ...]
) -> Visit:
    exited = node.exit
    return Visit(
        seq=node.seq,
        state=node.state,
        type=node.type,
        entered=node.entered,
        end=node.end,
        exit=node.exit,
        outcome=node.outcome or Outcome.RUNNING,
        scope=(*scope, node.state),
        map_iteration=iteration,
        input=node.entered.input,
        output=exited.output if exited is not None else None,
        attempts=tuple(
            Attempt(
                number=i,
                start=a.start,
                parameters=a.parameters,
                resource=a.resource,
                resource_type=a.resource_type,
                end=a.end,
                result=a.result,
                submitted=a.submitted,
                error=a.error,
                cause=a.cause,
            )
            for i, a in enumerate(node.attempts, start=1)
        ),
        error=node.error,
        cause=node.cause,
        variables=node.variables,
        variables_truncated=node.variables_truncated,
        children=children,
        input_included=node.entered.data_included,
        output_included=exited.data_included if exited is not None else True,
        redrive_count=node.redrive_count,
    )


def freeze_visit(
    node: VisitNode, scope: tuple[str, ...], iteration: int | None, known: dict[VisitNode, Visit]
) -> Visit:
    """An ended visit, frozen with all it holds (a visit ends once, and nothing changes an
    ended visit): ``scope`` names the flows around it, ``iteration`` the Map iteration it
    is in. Visits already frozen (``known``) are reused, those frozen now added."""
    found = known.get(node)
    if found is None:
        out: dict[int, Visit] = {}
        children = tuple(
            _freeze_flow(
                flow,
                (*scope, flow.label),
                flow.index if flow.kind is FlowKind.ITERATION else iteration,
                out,
                known,
            )
            for flow in node.children
        )
        found = known[node] = _freeze_visit(node, scope, iteration, children)
    return found


def build_visits(events: Sequence[HistoryEvent], definition: Definition | None = None) -> VisitTree:
    """Attribute ``events`` (in id order) to state visits; never raises on odd histories.

    What does not fit, events missing, repeated with other content or out of order
    included, is listed in ``anomalies``; the verdict is then ``unknown``. Built anew at
    each call: a trace that needs the tree twice passes it on
    (:func:`~sfn_trace.trace.analyze.analyze`'s ``tree``)."""
    return Builder(definition).build(events)


def _named(name: str | None) -> str:
    """A state name from an event, as anomalies quote it (None as ``None``)."""
    return repr(name) if name is None else quote_repr(name)
