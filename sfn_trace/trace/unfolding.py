"""The visits of a history that is still arriving, page by page: a live trace
(:mod:`sfn_trace.trace.ahead`) replays each visit as soon as :class:`Unfolding` settles it.

It feeds each event to the builder of :mod:`sfn_trace.trace.visits` through its public
surface (``Builder.add``, its nodes, ``freeze_visit``, ``Builder.tree``), so the tree
followed page by page is built by the very code that builds the whole history's tree. What
a settled visit's replay reads comes from the rules' homes: the next state from
:mod:`sfn_trace.asl.next_state`, the variables in scope from :mod:`sfn_trace.asl.variables`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfn_trace.asl.next_state import next_state
from sfn_trace.asl.variables import assigned_after
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import HistoryEvent, Payload
from sfn_trace.model.visits import FlowKind, Visit, VisitTree
from sfn_trace.trace.integrity import intact
from sfn_trace.trace.visits import Builder, FlowNode, VisitNode, freeze_visit

__all__ = ["Settled", "Unfolding"]


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
    :func:`~sfn_trace.trace.visits.build_visits` builds from the whole history is the
    truth, and whoever uses a settled visit checks it against that tree (a history whose
    events are out of order or repeated, or a redrive, can settle a visit differently).
    Events with ids not above the last one seen are skipped (a restarted pagination sends
    the first pages again).
    """

    def __init__(self, definition: Definition | None) -> None:
        self._builder = Builder(definition)
        self._last_id = 0
        self._fed: list[HistoryEvent] | None = []  # the events added, while they are whole
        self._seen = 0  # how many of the builder's visits have been placed
        self._position: dict[VisitNode, int] = {}
        self._count: dict[FlowNode, int] = {}
        self._waiting: list[VisitNode] = []
        self._assigned: dict[FlowNode, tuple[int, Mapping[str, Any]]] = {}
        self._frozen: dict[VisitNode, Visit] = {}  # the visits settled, and all they hold

    @property
    def execution_input(self) -> Payload | None:
        return self._builder.execution_input

    @property
    def role_arn(self) -> str | None:
        return self._builder.role_arn

    def tree(self, events: Sequence[HistoryEvent]) -> VisitTree | None:
        """The history is all in: the tree ``build_visits`` would build from ``events``,
        when they are exactly the events added, in that order, and whole (ids 1, 2, 3...
        each once, every ``previousEventId`` an earlier event): the build would only repeat
        what was done. None otherwise. Nothing can be added after."""
        fed, self._fed = self._fed, None
        if fed is None or len(fed) != len(events) or not all(map(operator.is_, fed, events)):
            self.close()
            return None
        if not intact(events):
            self.close()
            return None
        self._waiting, self._assigned = [], {}
        frozen, self._frozen = self._frozen, {}
        return self._builder.tree(frozen)

    def close(self) -> None:
        """No more events: the nodes are unlinked so that reference counting frees them."""
        self._fed = None
        self._frozen = {}
        self._builder.unlink()
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

    def _settled(self, node: VisitNode, position: int) -> Settled:
        # The flows from the visit's out to the root, each with the position in it of the
        # visit or of the visit holding the inner flow: a loop, not recursion.
        chain: list[tuple[FlowNode, int]] = []
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
        # Frozen once: with a visit holding it, when that one settled first.
        visit = freeze_visit(node, scope, iteration, self._frozen)
        flow = node.parent
        return Settled(
            visit=visit,
            next_state=next_state(flow.visits, position),
            variables=in_scope,
        )

    def _in_scope_at(
        self, flow: FlowNode, position: int, outer: Mapping[str, Any]
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
