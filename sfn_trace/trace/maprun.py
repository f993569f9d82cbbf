"""Distributed Map: following a Map Run into its child executions.

A Map state in ``DISTRIBUTED`` mode does not run its iterations inside the parent: the
parent's history holds only ``MapStateEntered -> MapStateStarted -> MapRunStarted{mapRunArn}
-> MapRun{Succeeded,Failed,Aborted} -> MapState{Succeeded,Failed} -> MapStateExited``, and
every item (or batch of items) runs as a *child execution* of the Map Run, with its own
history, whose execution input is the item.
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html

What this module holds (pure; the AWS calls are in :mod:`sfn_trace.sources.aws.maprun`):

- the fetched facts: :class:`MapRunData` (``DescribeMapRun`` and, when followed, the child
  executions listed by ``ListExecutions(mapRunArn=...)`` with their fetched histories);
- the traced view: :class:`MapRunTrace` and :class:`ChildTrace`, and :func:`trace_map_runs`,
  which traces every fetched child with the same field and lets ``first_null`` / ``lost_at``
  of the parent point *into* a child when the loss happened there.

Representation (decided here, documented in the README): children are numbered from 1 in
start order (oldest first, ties by name): AWS records no item position, and with an
``ItemBatcher`` one child holds several items. A finding in child 3 of Map state ``Fan``
has the scope ``("Fan(child 3: <execution name>)", "Convert")``: the Map state's own scope
element is replaced by the child's label, and the child's own scope follows. In ``--format
json`` the finding also carries ``child`` (number, name, ARN, Map Run ARN, and the item).
Child visits are ordered like the iterations of an inline Map: inside the Map state, so a
child's ``first_null`` comes before the Map state that holds the Map Run.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable, Sequence

from sfn_trace.model.events import EventKind, HistoryEvent
from sfn_trace.model.execution import ChildExecution, ExecutionData
from sfn_trace.model.result import (
    ChildRef,
    ChildTrace,
    MapRunTrace,
    TraceResult,
)
from sfn_trace.model.visits import Visit
from sfn_trace.trace.field import snapshot

SUGGESTED_FOLLOW = 20
"""What the "follow it with" hint suggests when a Map Run has more children than this."""

_RUN_ENDS = {"MapRunSucceeded": "SUCCEEDED", "MapRunFailed": "FAILED", "MapRunAborted": "ABORTED"}


# --- what was fetched --------------------------------------------------------------------------


# --- the traced view -------------------------------------------------------------------------


def map_run_starts(
    events: Sequence[HistoryEvent], visits: Sequence[Visit]
) -> list[tuple[Visit, HistoryEvent]]:
    """Each ``MapRunStarted`` with the Map visit that started it.

    ``MapRunStarted`` follows its ``MapStateStarted`` (docs/aws-reference.md section 2); a Map
    visit's attempts start at its ``MapStateStarted`` events, so that link finds the visit even
    when iterations of an outer Map interleave. A damaged link falls back to the latest Map visit
    entered before the event.
    """
    by_start = {a.start.id: v for v in visits if v.type == "Map" for a in v.attempts}
    found = []
    for event in events:
        if event.type != "MapRunStarted":
            continue
        visit = by_start.get(event.previous_id)
        if visit is None:
            visit = next(
                (v for v in reversed(visits) if v.type == "Map" and v.entered.id < event.id), None
            )
        if visit is not None:
            found.append((visit, event))
    return found


def trace_map_runs(
    data: ExecutionData,
    visits: Sequence[Visit],
    field: str,
    analyze: Callable[[ExecutionData, str], TraceResult],
) -> tuple[tuple[MapRunTrace, ...], tuple[str, ...]]:
    """The Map Runs the execution started, every fetched child traced with ``analyze``,
    and the notes to show about them (runs not followed, children not read). Whether a
    child's loss becomes the execution's ``first_null`` is the verdict's to decide
    (:mod:`sfn_trace.trace.verdict`)."""
    starts = map_run_starts(data.events, visits)
    if not starts:
        return (), ()
    fetched = {run.arn: run for run in data.map_runs}
    target = data.info.arn if data.source == "aws" else data.source
    runs: list[MapRunTrace] = []
    notes: list[str] = []
    for visit, event in starts:
        arn = event.map_run_arn or ""
        got = fetched.get(arn)
        description = got.description if got else None
        children = tuple(
            _trace_child(visit.state, arn, child, field, analyze)
            for child in (got.children if got else ())
        )
        run = MapRunTrace(
            state=visit.state,
            seq=visit.seq,
            event_id=event.id,
            arn=arn,
            status=_run_status(data.events, event),
            description=description,
            followed=bool(got and got.followed),
            listed=got.listed if got else None,
            children=children,
            follow_command="",
            note=got.note if got else None,
        )
        run = dataclasses.replace(run, follow_command=follow_command(target, field, run.total))
        runs.append(run)
        notes.extend(_notes(run))
    return tuple(runs), tuple(notes)


def follow_command(target: str | None, field: str, total: int | None) -> str:
    """``sfn-trace TARGET --field F --follow-children N``: every child when there are few."""
    count = "all" if total is not None and total <= SUGGESTED_FOLLOW else str(SUGGESTED_FOLLOW)
    words = ["sfn-trace", shlex.quote(target or "TARGET"), "--field", shlex.quote(field)]
    return " ".join([*words, "--follow-children", count])


def _trace_child(
    map_state: str,
    map_run_arn: str,
    child: ChildExecution,
    field: str,
    analyze: Callable[[ExecutionData, str], TraceResult],
) -> ChildTrace:
    started = None
    if child.data is not None:
        started = next(
            (e for e in child.data.events if e.kind is EventKind.EXECUTION_STARTED), None
        )
    item = started.input if started is not None else None
    ref = ChildRef(map_state, child.number, child.name, child.arn, map_run_arn, item)
    info = child.data.info if child.data is not None else None
    return ChildTrace(
        ref=ref,
        status=(info.status if info else None) or child.status,
        start=(info.start if info else None) or child.start,
        stop=(info.stop if info else None) or child.stop,
        item=snapshot(item, field, absent="the child's input was not read"),
        result=analyze(child.data, field) if child.data is not None else None,
        error=child.error,
    )


def _run_status(events: Sequence[HistoryEvent], started: HistoryEvent) -> str:
    ends = [e for e in events if e.id > started.id and e.type in _RUN_ENDS]
    end = next((e for e in ends if e.previous_id == started.id), ends[0] if ends else None)
    return _RUN_ENDS[end.type] if end is not None else "RUNNING"


def _notes(run: MapRunTrace) -> list[str]:
    total = f"{run.total} child executions" if run.total is not None else "child executions"
    if not run.followed:
        why = run.note or "not followed"
        return [
            f"{run.state} ran a Distributed Map (Map Run {run.arn}, {total}): {why}; "
            f"follow them with: {run.follow_command}"
        ]
    notes = []
    if run.listed is not None and len(run.children) < run.listed:
        notes.append(
            f"followed {len(run.children)} of the {run.listed} child executions of {run.state} "
            f"(the first in start order): {run.follow_command.rsplit(' ', 1)[0]} all follows "
            "every one"
        )
    for child in run.children:
        if child.error is not None:
            notes.append(f"{child.ref.label} could not be read: {child.error}")
    if run.note:
        notes.append(f"{run.state}: {run.note}")
    return notes
