"""Trace each visit as soon as its events are in, while a live history is still arriving.

GetExecutionHistory hands a history out a page at a time, and on a real network each page
takes a tenth of a second or more to come. :class:`TraceAhead` is fed every page as it is
converted (``fetch_execution(on_events=...)``): it follows the visits as they unfold
(:class:`~sfn_trace.trace.unfolding.Unfolding`) and, for each one whose events are complete,
replays it (with a definition), takes the field's snapshots of its payloads and finds the
replayed step that changed the field, so that this work is done while the next page is on
its way instead of after the last one.

A forecast, never an answer: :func:`~sfn_trace.asl.replay.replay_visits` takes an early
replay only where the tree built from the whole history shows the very visit, variables and
next state it was replayed from, and with the same definition and context object (a replay
is a pure function of these); every other visit is replayed then, as without this. The
next state and the variables come from the same homes here as there
(:mod:`sfn_trace.asl.next_state`, :mod:`sfn_trace.asl.variables`): the check is not of two
copies agreeing but of time, as a visit can settle before the history shows all that decides
them (a redrive enters states after what was the execution's last visit). The
snapshots are kept by payload (the field's status in a payload depends on nothing else) and
a field step by the replay it was read from. So the result is the same, only sooner.
Nothing here may fail a trace: an error stops the forecast and leaves the work to
:func:`~sfn_trace.trace.analyze.analyze`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sfn_trace.asl.replay import (
    EarlyReplay,
    EarlyReplays,
    execution_context,
    replay_visit,
)
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import HistoryEvent
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.replay import FieldStep, Replay, ReplayStatus
from sfn_trace.model.visits import VisitTree
from sfn_trace.trace.field import FieldIndex
from sfn_trace.trace.steps import field_step
from sfn_trace.trace.unfolding import Unfolding


class TraceAhead:
    """Called with each page's events (in id order) and what the trace knows before the
    history (the execution and the definition that ran); handed to
    :func:`~sfn_trace.trace.analyze.analyze` with what it found."""

    def __init__(self, field: str) -> None:
        self.index = FieldIndex(field)
        """The field's occurrences in every payload seen so far (and in the replayed
        documents)."""
        self._steps: dict[int, tuple[Replay, FieldStep | None]] = {}
        self._unfolding: Unfolding | None = None
        self._definition: Definition | None = None
        self._context: dict[str, Any] | None = None
        self._replays: dict[int, EarlyReplay] = {}
        self._started = self._stopped = False

    def __call__(
        self, info: ExecutionInfo, definition: Definition | None, events: Sequence[HistoryEvent]
    ) -> None:
        if self._stopped:
            return
        try:
            self._add(info, definition, events)
        except Exception:  # a forecast only: the analysis does the work instead
            self._stop()

    def _add(
        self, info: ExecutionInfo, definition: Definition | None, events: Sequence[HistoryEvent]
    ) -> None:
        if not self._started:
            self._started = True
            self._unfolding, self._definition = Unfolding(definition), definition
        if self._unfolding is None or definition is not self._definition:
            self._stop()
            return
        index = self.index
        for settled in self._unfolding.add(events):
            visit = settled.visit
            for payload in (visit.input, visit.output, visit.parameters, visit.result):
                if payload is not None:
                    index.snapshot(payload, absent="")
            if definition is None:
                continue  # without a definition, nothing to replay: the snapshots only
            if self._context is None:
                self._context = execution_context(
                    self._unfolding.execution_input, info, role_arn=self._unfolding.role_arn
                )
            variables = settled.variables
            replay = replay_visit(visit, definition, self._context, variables, settled.next_state)
            self._replays[visit.seq] = EarlyReplay(visit, variables, settled.next_state, replay)
            if replay.status is ReplayStatus.MATCH:
                self._steps[visit.seq] = (replay, field_step(replay, index.field, index))

    def field_step(self, replay: Replay) -> tuple[bool, FieldStep | None]:
        """The field step read from ``replay`` here, if this very replay was read: (found,
        step)."""
        known = self._steps.get(replay.seq)
        if known is None or known[0] is not replay:
            return False, None
        return True, known[1]

    def _stop(self) -> None:
        self._stopped = True
        if self._unfolding is not None:
            self._unfolding.close()
        self._unfolding = None
        self._replays = {}
        self._steps = {}

    def history_complete(
        self, events: Sequence[HistoryEvent], definition: Definition | None
    ) -> VisitTree | None:
        """The history is all in (``events``, to be analysed with ``definition``): when they
        are the events followed here, the visit tree followed page by page, for the caller to
        pass to :func:`~sfn_trace.trace.analyze.analyze` (``tree``) instead of building it
        again; None otherwise."""
        unfolding, self._unfolding = self._unfolding, None
        if unfolding is None:
            return None
        if definition is not self._definition:
            unfolding.close()
            return None
        try:
            return unfolding.tree(events)
        except Exception:  # a forecast only: the analysis builds the tree instead
            unfolding.close()
            return None

    def finish(self) -> EarlyReplays | None:
        """The history is all in: what was replayed early (None: nothing)."""
        if self._unfolding is not None:
            self._unfolding.close()
            self._unfolding = None
        if self._definition is None or self._context is None or not self._replays:
            return None
        return EarlyReplays(self._definition, self._context, self._replays)
