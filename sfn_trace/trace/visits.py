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
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfn_trace.asl.failures import carried_failure
from sfn_trace.asl.next_state import next_state
from sfn_trace.asl.variables import assigned_after
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventKind, HistoryEvent, Payload
from sfn_trace.model.text import quote, quote_repr
from sfn_trace.model.visits import Attempt, Flow, FlowKind, Outcome, Visit, VisitTree

# --- building -----------------------------------------------------------------------------


@dataclass(eq=False)
class _FlowNode:
    kind: FlowKind
    label: str
    index: int | None
    parent: _VisitNode | None
    start: HistoryEvent | None
    end: HistoryEvent | None = None
    visits: list[_VisitNode] = field(default_factory=list)
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
class _VisitNode:
    seq: int
    entered: HistoryEvent
    state: str
    type: str
    parent: _FlowNode
    end: HistoryEvent | None = None
    exit: HistoryEvent | None = None
    outcome: Outcome | None = None
    attempts: list[_AttemptNode] = field(default_factory=list)
    children: list[_FlowNode] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    epoch: HistoryEvent | None = None
    """The latest Map/ParallelStateStarted: a retried Map or Parallel starts a new epoch."""
    iterations: dict[tuple[int, int], _FlowNode] = field(default_factory=dict)

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


_Node = _FlowNode | _VisitNode


class _Builder:
    def __init__(self, definition: Definition | None) -> None:
        self.definition = definition
        self.root = _FlowNode(FlowKind.ROOT, "", None, None, None)
        self.owner: dict[int, _Node] = {}
        self.kind_of: dict[int, EventKind] = {}
        self.visits: list[_VisitNode] = []
        self.anomalies: list[str] = []
        self.execution_input: Payload | None = None
        self.execution_output: Payload | None = None
        self.terminal: HistoryEvent | None = None
        # Closing (see _close_open_descendants): the visits known to hold no open visit,
        # and how many of self.visits were checked against them.
        self.settled: set[_VisitNode] = set()
        self.settled_checked = 0

    # -- climbing

    def _start(self, event: HistoryEvent) -> _Node:
        return self.owner.get(event.previous_id, self.root)

    @staticmethod
    def _climb(node: _Node | None, accept: Callable[[_VisitNode], bool]) -> _VisitNode | None:
        while node is not None:
            if isinstance(node, _VisitNode):
                if node.open and accept(node):
                    return node
                node = node.parent
            else:
                node = node.parent
        return None

    def _find_visit(
        self,
        event: HistoryEvent,
        accept: Callable[[_VisitNode], bool],
        what: str,
        by_name: bool = False,
    ) -> _VisitNode | None:
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
        self.kind_of[event.id] = event.kind
        handler = _HANDLERS.get(event.kind)
        if handler is None:
            self.owner[event.id] = self._start(event)
            return
        handler(self, event)

    def _execution_started(self, event: HistoryEvent) -> None:
        self.execution_input = event.input
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
        self.owner[event.id] = self.root
        self.terminal = None
        self.execution_output = None

    def _state_entered(self, event: HistoryEvent) -> None:
        flow = self._flow_for_entry(event)
        visit = _VisitNode(
            seq=len(self.visits) + 1,
            entered=event,
            state=event.name or f"<unnamed state at event {event.id}>",
            type=event.state_type or "?",
            parent=flow,
        )
        if visit.type == "Fail":
            # A Fail state records no error event; its Error/Cause live in the definition
            # (or are computed by ErrorPath/CausePath, then only the execution's end says).
            visit.error, visit.cause = self._fail_error(visit.state)
        flow.visits.append(visit)
        self.visits.append(visit)
        self.owner[event.id] = visit

    def _flow_for_entry(self, event: HistoryEvent) -> _FlowNode:
        previous_kind = self.kind_of.get(event.previous_id)
        node = self._start(event)
        if previous_kind is EventKind.PARALLEL_STARTED and isinstance(node, _VisitNode):
            return self._new_branch(node, event)
        if previous_kind is EventKind.MAP_ITERATION_STARTED and isinstance(node, _FlowNode):
            return node
        if isinstance(node, _VisitNode):
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

    def _new_branch(self, parallel: _VisitNode, event: HistoryEvent) -> _FlowNode:
        epoch_id = _epoch_id(parallel)
        index = None
        if self.definition is not None and event.name is not None:
            state = self.definition.state(event.name)
            if state is not None and state.parent == parallel.state:
                index = state.branch
        if index is None:
            index = sum(1 for f in parallel.children if f.start and f.start.id >= epoch_id)
        flow = _FlowNode(
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
        self, visit: _VisitNode, event: HistoryEvent, outcome: Outcome, cascade: bool = True
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

    def _close_open_descendants(self, visit: _VisitNode, event: HistoryEvent) -> None:
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
    def _inner_error(visit: _VisitNode) -> tuple[str, str | None]:
        """The error of the failed branch/iteration, which propagates unchanged."""
        carried = carried_failure(visit)
        if carried is None or carried.error is None:
            return _GENERIC_ERRORS[0 if visit.type == "Parallel" else 1], None
        return carried.error, carried.cause

    def _map_of_iteration(self, event: HistoryEvent) -> _VisitNode | None:
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
        flow = _FlowNode(FlowKind.ITERATION, f"{visit.state}[{index}]", index, visit, event)
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

    # -- the history's integrity

    def _check_integrity(self, events: Sequence[HistoryEvent]) -> None:
        """One anomaly line per kind of damage that means events are missing, repeated with
        other content, or out of order (the verdict is then ``unknown``): ids repeated with
        other content (an identical copy is the same event: dropped, no anomaly), ids out
        of order, ids that skip (AWS numbers a history's events 1, 2, 3, ...), and a
        ``previousEventId`` that names no earlier event of the history."""
        first: dict[int, HistoryEvent] = {}
        conflicts: list[tuple[HistoryEvent, HistoryEvent]] = []
        late: list[tuple[HistoryEvent, int]] = []
        highest = 0
        for event in events:
            kept = first.setdefault(event.id, event)
            if kept is not event:
                if kept != event:
                    conflicts.append((kept, event))
                continue
            if event.id < highest:
                late.append((event, highest))
            highest = max(highest, event.id)
        if conflicts:
            kept, other = conflicts[0]
            self.anomalies.append(
                f"duplicate event id {kept.id} ({quote(other.type)}) with other content than the "
                f"first event with that id ({quote(kept.type)}); the first is kept"
                + _more(len(conflicts) - 1, "other id repeated", "other ids repeated")
            )
        if late:
            event, before = late[0]
            self.anomalies.append(
                f"event {event.id} ({quote(event.type)}) comes after event {before}: the events "
                "are not in id order" + _more(len(late) - 1, "other event", "other events")
            )
        gaps = _gaps(sorted(first))
        if gaps:
            low, high = gaps[0]
            missing = f"event {low} is" if low == high else f"events {low} to {high} are"
            where = "the history starts at" if low == 1 else f"the ids skip from {low - 1} to"
            self.anomalies.append(
                f"{missing} missing: {where} {high + 1}"
                + _more(len(gaps) - 1, "other gap", "other gaps")
            )
        dangling = [
            e
            for e in first.values()
            if e.previous_id != 0 and (e.previous_id >= e.id or e.previous_id not in first)
        ]
        if dangling:
            event = min(dangling, key=lambda e: e.id)
            self.anomalies.append(
                f"event {event.id} ({quote(event.type)}) follows event {event.previous_id} "
                "(previousEventId), which is not an earlier event of the history"
                + _more(len(dangling) - 1, "other event", "other events")
            )

    # -- freezing

    def _unlink(self) -> None:
        """Drop the links from each node to the one holding it, once the tree is frozen:
        with them, the nodes form reference cycles that only the garbage collector would
        free (a trace runs with it paused), without them reference counting frees them."""
        for visit in self.visits:
            visit.parent = None  # type: ignore[assignment]
            for flow in visit.children:
                flow.parent = None

    def build(self, events: Sequence[HistoryEvent]) -> VisitTree:
        self._check_integrity(events)
        self._events: dict[int, HistoryEvent] = {}
        for event in events:
            self._events.setdefault(event.id, event)
        for event in events:
            if self._events[event.id] is not event:
                continue  # a repeated id: the first event with it is kept
            self.add(event)
        return self._frozen()

    def _frozen(self, known: dict[_VisitNode, Visit] | None = None) -> VisitTree:
        """The tree of the events added, reusing the ended visits already frozen
        (``known``); the builder is done with."""
        for visit in self.visits:
            if visit.open:
                visit.outcome = Outcome.RUNNING
        known = {} if known is None else known
        frozen: dict[int, Visit] = {node.seq: visit for node, visit in known.items()}
        root = _freeze_flow(self.root, (), None, frozen, known)
        self._unlink()
        return VisitTree(
            root=root,
            visits=tuple(frozen[v.seq] for v in self.visits),
            execution_input=self.execution_input,
            execution_output=self.execution_output,
            terminal=self.terminal,
            anomalies=tuple(self.anomalies),
        )


@dataclass(frozen=True, slots=True)
class Settled:
    """A visit whose events are all in: it ended, and so did its flow or another visit
    followed it there. What its replay reads is known from here on."""

    visit: Visit
    next_state: str | None
    """The state the flow went to after it (None: the flow ended with it)."""
    variables: Mapping[str, Any]
    """The variables in scope at its entry (asl/variables.py), as a replay reads them."""


class Unfolding:
    """The visits of a history that is still arriving, page by page.

    :meth:`add` takes the next events (in id order, as GetExecutionHistory pages them) and
    hands out each visit as soon as it is settled. Its answers are a forecast: the tree
    :func:`build_visits` builds from the whole history is the truth, and whoever uses a
    settled visit checks it against that tree (a history whose events are out of order or
    repeated can settle a visit differently). Events with ids not above the last one
    seen are skipped (a restarted pagination sends the first pages again).
    """

    def __init__(self, definition: Definition | None) -> None:
        self._builder = _Builder(definition)
        self._builder._events = {}
        self._last_id = 0
        self._fed: list[HistoryEvent] | None = []  # the events added, while they are whole
        self._seen = 0  # how many of the builder's visits have been placed
        self._position: dict[_VisitNode, int] = {}
        self._count: dict[_FlowNode, int] = {}
        self._waiting: list[_VisitNode] = []
        self._assigned: dict[_FlowNode, tuple[int, Mapping[str, Any]]] = {}
        self._frozen: dict[_VisitNode, Visit] = {}  # the visits settled, and all they hold

    @property
    def execution_input(self) -> Payload | None:
        return self._builder.execution_input

    def tree(self, events: Sequence[HistoryEvent]) -> VisitTree | None:
        """The history is all in: the tree :func:`build_visits` would build from ``events``,
        when they are exactly the events added, in that order, and whole (ids 1, 2, 3...
        each once, every ``previousEventId`` an earlier event): the build would only repeat
        what was done. None otherwise. Nothing can be added after."""
        fed, self._fed = self._fed, None
        if fed is None or len(fed) != len(events) or not all(map(operator.is_, fed, events)):
            self.close()
            return None
        probe = _Builder(None)
        probe._check_integrity(events)
        if probe.anomalies:
            self.close()
            return None
        self._waiting, self._assigned = [], {}
        frozen, self._frozen = self._frozen, {}
        return self._builder._frozen(frozen)

    def close(self) -> None:
        """No more events: the nodes are unlinked so that reference counting frees them."""
        self._fed = None
        self._frozen = {}
        self._builder._unlink()
        self._waiting = []
        self._assigned = {}

    def add(self, events: Iterable[HistoryEvent]) -> list[Settled]:
        """Read the next events; the visits they settle, in the order they were entered."""
        builder, fed = self._builder, self._fed
        for event in events:
            if event.id <= self._last_id:
                fed = None  # repeated or late: not the history as build_visits reads it
                continue
            self._last_id = event.id
            builder._events.setdefault(event.id, event)
            builder.add(event)
            if fed is not None:
                fed.append(event)
        self._fed = fed
        for node in builder.visits[self._seen :]:
            flow = node.parent
            self._position[node] = self._count.get(flow, 0)
            self._count[flow] = self._position[node] + 1
            self._waiting.append(node)
        self._seen = len(builder.visits)
        settled, waiting = [], []
        finished = builder.terminal is not None  # the execution ended: so did its root flow
        for node in self._waiting:
            flow, position = node.parent, self._position[node]
            ended = node.outcome is not None and not any(f.open for f in node.children)
            flow_ended = not flow.open or (finished and flow is builder.root)
            if ended and (position + 1 < len(flow.visits) or flow_ended):
                settled.append(self._settled(node, position))
            else:
                waiting.append(node)
        self._waiting = waiting
        return settled

    def _settled(self, node: _VisitNode, position: int) -> Settled:
        # The flows from the visit's out to the root, each with the position in it of the
        # visit or of the visit holding the inner flow: a loop, not recursion.
        chain: list[tuple[_FlowNode, int]] = []
        current = node
        while True:
            flow = current.parent
            chain.append((flow, self._position[current]))
            if flow.parent is None:
                break
            current = flow.parent
        chain.reverse()
        scope = tuple(flow.label for flow, _ in chain[1:])
        iteration = next(
            (flow.index for flow, _ in reversed(chain) if flow.kind is FlowKind.ITERATION), None
        )
        in_scope: Mapping[str, Any] = {}
        for flow, before in chain:
            in_scope = self._in_scope_at(flow, before, in_scope)
        visit = self._frozen.get(node)  # frozen with a visit holding it, settled first
        if visit is None:
            out: dict[int, Visit] = {}
            children = tuple(
                _freeze_flow(
                    flow,
                    (*scope, flow.label),
                    flow.index if flow.kind is FlowKind.ITERATION else iteration,
                    out,
                    self._frozen,
                )
                for flow in node.children
            )
            visit = self._frozen[node] = _freeze_visit(node, scope, iteration, children)
        flow = node.parent
        return Settled(
            visit=visit,
            next_state=next_state(flow.visits, position),
            variables=in_scope,
        )

    def _in_scope_at(
        self, flow: _FlowNode, position: int, outer: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The variables in scope at the visit at ``position`` of ``flow``: ``outer`` (those
        in scope where the flow started) and those its earlier visits assigned
        (asl/variables.py). Remembered per flow, so a long flow is folded once, not once
        per visit."""
        count, in_scope = self._assigned.get(flow, (0, outer))
        if count > position:
            count, in_scope = 0, outer
        while count < position:
            in_scope = assigned_after(in_scope, flow.visits[count])
            count += 1
        self._assigned[flow] = (count, in_scope)
        return in_scope


# Placeholders for a Map/Parallel failure whose inner error the history does not name.
_GENERIC_ERRORS = ("States.BranchFailed", "States.MapFailed")

_PARALLEL_KINDS = (
    EventKind.PARALLEL_STARTED,
    EventKind.PARALLEL_SUCCEEDED,
    EventKind.PARALLEL_FAILED,
)

_HANDLERS: dict[EventKind, Callable[[_Builder, HistoryEvent], None]] = {
    EventKind.EXECUTION_STARTED: _Builder._execution_started,
    EventKind.EXECUTION_SUCCEEDED: _Builder._execution_ended,
    EventKind.EXECUTION_FAILED: _Builder._execution_ended,
    EventKind.EXECUTION_ABORTED: _Builder._execution_ended,
    EventKind.EXECUTION_TIMED_OUT: _Builder._execution_ended,
    EventKind.EXECUTION_REDRIVEN: _Builder._execution_redriven,
    EventKind.STATE_ENTERED: _Builder._state_entered,
    EventKind.STATE_EXITED: _Builder._state_exited,
    EventKind.STATE_ABORTED: _Builder._state_aborted,
    EventKind.TASK_SCHEDULED: _Builder._task_event,
    EventKind.TASK_STARTED: _Builder._task_event,
    EventKind.TASK_SUBMITTED: _Builder._task_event,
    EventKind.TASK_SUCCEEDED: _Builder._task_event,
    EventKind.TASK_FAILED: _Builder._task_event,
    EventKind.PARALLEL_STARTED: _Builder._container_event,
    EventKind.PARALLEL_SUCCEEDED: _Builder._container_event,
    EventKind.PARALLEL_FAILED: _Builder._container_event,
    EventKind.MAP_STARTED: _Builder._container_event,
    EventKind.MAP_SUCCEEDED: _Builder._container_event,
    EventKind.MAP_FAILED: _Builder._container_event,
    EventKind.MAP_RUN: _Builder._container_event,
    EventKind.MAP_ITERATION_STARTED: _Builder._iteration_started,
    EventKind.MAP_ITERATION_ENDED: _Builder._iteration_ended,
    EventKind.EVALUATION_FAILED: _Builder._evaluation_failed,
}


_CAUSE_STATE = re.compile(r"executing the state '.*?' \(entered at the event id #(\d+)\)")


def _state_in_cause(cause: str | None) -> int | None:
    """The entered-event id in "An error occurred while executing the state 'S' (entered at
    the event id #7)", the prefix AWS gives States.Runtime and evaluation errors."""
    match = _CAUSE_STATE.search(cause or "")
    return int(match.group(1)) if match else None


def _epoch_id(visit: _VisitNode) -> int:
    """The run of a Map/Parallel visit: a retried one starts a new epoch at its
    ``*StateStarted`` event, and iterations/branches are keyed per epoch."""
    return visit.epoch.id if visit.epoch else visit.entered.id


def _has_failed(visit: _VisitNode) -> bool:
    return visit.error is not None or _failed_last(visit) or visit.type == "Fail"


def _failed_last(visit: _VisitNode) -> bool:
    if not visit.attempts:
        return False
    last = visit.attempts[-1]
    return last.error is not None


def _nested_visits(visit: _VisitNode) -> list[_VisitNode]:
    """The visits directly inside ``visit``'s branches/iterations, flow by flow."""
    return [inner for flow in visit.children for inner in flow.visits]


def _freeze_flow(
    node: _FlowNode,
    scope: tuple[str, ...],
    iteration: int | None,
    out: dict[int, Visit],
    known: dict[_VisitNode, Visit] | None = None,
) -> Flow:
    """The frozen ``node``, its visits in ``out`` by ``seq``.

    ``known``: visits frozen before, reused as they are (with all they hold: a visit is
    frozen once it ended, and nothing changes an ended visit); those frozen now are added.

    Without recursion (the history chooses how deep flows nest): one pass down hands each
    flow and visit its scope and Map iteration, then the nodes are frozen in the reverse of
    that order, so every flow's visits and every visit's flows are frozen before it."""
    known = {} if known is None else known
    order: list[tuple[_FlowNode | _VisitNode, tuple[str, ...], int | None]] = []
    stack: list[tuple[_FlowNode | _VisitNode, tuple[str, ...], int | None]] = [
        (node, scope, iteration)
    ]
    while stack:
        item = stack.pop()
        order.append(item)
        current, where, index = item
        if isinstance(current, _FlowNode):
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
    flows: dict[_FlowNode, Flow] = {}
    for current, where, index in reversed(order):
        if isinstance(current, _FlowNode):
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
    node: _VisitNode, scope: tuple[str, ...], iteration: int | None, children: tuple[Flow, ...]
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
    )


def build_visits(events: Sequence[HistoryEvent], definition: Definition | None = None) -> VisitTree:
    """Attribute ``events`` (in id order) to state visits; never raises on odd histories.

    What does not fit, events missing, repeated with other content or out of order
    included, is listed in ``anomalies``; the verdict is then ``unknown``. Built anew at
    each call: a trace that needs the tree twice passes it on
    (:func:`~sfn_trace.trace.analyze.analyze`'s ``tree``)."""
    return _Builder(definition).build(events)


def _gaps(ids: Sequence[int]) -> list[tuple[int, int]]:
    """The id ranges missing from sorted ``ids`` (a history's events are numbered from 1)."""
    gaps = []
    expected = 1
    for event_id in ids:
        if event_id > expected:
            gaps.append((expected, event_id - 1))
        expected = max(expected, event_id + 1)
    return gaps


def _more(count: int, one: str, many: str) -> str:
    return f" (and {count} {one if count == 1 else many})" if count > 0 else ""


def _named(name: str | None) -> str:
    """A state name from an event, as anomalies quote it (None as ``None``)."""
    return repr(name) if name is None else quote_repr(name)
