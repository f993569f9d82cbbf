"""Errors in a replay: which ``Retry``/``Catch`` ``ErrorEquals`` covers an error
(:func:`error_matches`), and which recorded event's error and cause a failed visit carries
(:func:`failure_event`), and the visit whose error a failed Map or Parallel carries
(:func:`carried_failure`: the latest visit inside it whose error was not caught), which the
visit tree (trace/visits.py) also reads while it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sfn_trace.model.events import EventKind, HistoryEvent
from sfn_trace.model.visits import Outcome, Visit

__all__ = ["Failing", "carried_failure", "error_matches", "failure_event"]


_NOT_CAUGHT_BY_ALL = frozenset({"States.Runtime"})


def error_matches(error: str, names: Sequence[str]) -> bool:
    """Whether a Retry/Catch ``ErrorEquals`` covers ``error``: ``States.ALL`` covers all;
    ``States.TaskFailed`` all but ``States.Timeout``; nothing catches ``States.Runtime``
    (docs/aws-reference.md section 3)."""
    if error in _NOT_CAUGHT_BY_ALL:
        return False
    if error in names:
        return True
    return "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


class Failing(Protocol):
    """A visit as the failure rule reads it: a finished tree's :class:`Visit` and a visit of
    a history still being read (its outcome None while it is open) both are."""

    @property
    def seq(self) -> int: ...
    @property
    def entered(self) -> HistoryEvent: ...
    @property
    def end(self) -> HistoryEvent | None: ...
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cause(self) -> str | None: ...
    @property
    def children(self) -> Sequence[_Flow]: ...


class _Flow(Protocol):
    @property
    def visits(self) -> Sequence[Failing]: ...


_FAILS_ITS_FLOW = (None, Outcome.RUNNING, Outcome.FAILED)
"""The outcomes of a visit whose error fails its branch or iteration: it failed, or it is
still open with the error (a Fail state's visit is still open when its branch fails). A
caught error does not: the flow goes on at the catcher."""


def carried_failure(visit: Failing) -> Failing | None:
    """The visit whose error a failed Map or Parallel carries: the latest visit nested in it
    (by the event that ended it, the first in entry order on a tie) whose error was not
    caught. "If any branch fails, because of an unhandled error or by transitioning to a
    Fail state, the entire Parallel state is considered to have failed"
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html): an error a
    Catch handled fails nothing, so a Map or Parallel never carries it."""
    return _carried_failures(visit).get(visit.seq)


def failure_event(visit: Visit) -> tuple[str | None, str | None] | None:
    """The error and cause members of the event that failed the visit, as recorded: a
    failed Map or Parallel's are those of the visit it carries the failure of
    (:func:`carried_failure`), and so on inwards (a loop, not recursion: the history
    chooses how deep they nest)."""
    inside: dict[int, Failing] | None = None
    by_seq: dict[int, Visit] = {}
    current: Visit | None = visit
    while current is not None:
        end = current.attempts[-1].end if current.attempts else None
        if end is None:
            return None
        if end.kind is EventKind.TASK_FAILED:
            return end.error, end.cause
        if end.kind not in (EventKind.MAP_FAILED, EventKind.PARALLEL_FAILED):
            return None
        if inside is None:
            inside = _carried_failures(visit)
            by_seq = {nested.seq: nested for nested in visit.walk()}
        carried = inside.get(current.seq)
        current = by_seq.get(carried.seq) if carried is not None else None
    return None


def _carried_failures(visit: Failing) -> dict[int, Failing]:
    """For ``visit`` and each visit nested in it (by ``seq``), the failure it carries
    (:func:`carried_failure`).

    One pass from the innermost visits out, each visit's answer made from those of the
    visits directly inside it: following the failure inwards walks the tree once."""
    order: list[Failing] = []
    stack = [visit]  # not recursion: the history chooses how deep visits nest
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed([inner for flow in node.children for inner in flow.visits]))
    latest: dict[int, Failing] = {}
    for holder in reversed(order):
        found: Failing | None = None
        for flow in holder.children:
            for top in flow.visits:
                below = latest.get(top.seq)
                fails = top.error is not None and top.outcome in _FAILS_ITS_FLOW
                if fails and (below is None or _ended(top) >= _ended(below)):
                    below = top
                if below is not None and (found is None or _ended(below) > _ended(found)):
                    found = below
        if found is not None:
            latest[holder.seq] = found
    return latest


def _ended(visit: Failing) -> int:
    """When a visit ended (a Fail state's visit is still open when its branch fails)."""
    return (visit.end or visit.entered).id
