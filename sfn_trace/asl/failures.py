"""Errors in a replay: which ``Retry``/``Catch`` ``ErrorEquals`` covers an error
(:func:`error_matches`), and which recorded event's error and cause a failed visit carries
(:func:`failure_event`): a failed Map's or Parallel's are those of the latest visit inside it
that ended FAILED.
"""

from __future__ import annotations

from collections.abc import Sequence

from sfn_trace.model.events import EventKind
from sfn_trace.model.visits import Outcome, Visit

__all__ = ["error_matches", "failure_event"]


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


def failure_event(visit: Visit) -> tuple[str | None, str | None] | None:
    """The error and cause members of the event that failed the visit, as recorded: a
    failed Map or Parallel's are those of the latest failed visit inside it, and so on
    inwards (a loop, not recursion: the history chooses how deep they nest)."""
    inside: dict[int, Visit] | None = None
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
            inside = _failed_inside(visit)
        current = inside.get(current.seq)
    return None


def _failed_inside(visit: Visit) -> dict[int, Visit]:
    """For ``visit`` and each visit nested in it (by ``seq``), the latest failed visit inside
    it (its error is a failed Map's or Parallel's), the first in entry order when several
    ended at the same event.

    One pass from the innermost visits out, each visit's answer made from those of the
    visits directly inside it: following the failure inwards walks the tree once."""
    latest: dict[int, Visit] = {}
    for holder in reversed(visit.walk()):
        found: Visit | None = None
        for flow in holder.children:
            for top in flow.visits:
                below = latest.get(top.seq)
                if _failed(top) and (below is None or _ended(top) >= _ended(below)):
                    below = top
                if below is not None and (found is None or _ended(below) > _ended(found)):
                    found = below
        if found is not None:
            latest[holder.seq] = found
    return latest


def _failed(visit: Visit) -> bool:
    return visit.error is not None and visit.outcome is Outcome.FAILED


def _ended(visit: Visit) -> int:
    """When a visit ended (a Fail state's visit is still open when its branch fails)."""
    return (visit.end or visit.entered).id
