"""A history's integrity: whether events are missing, repeated with other content or out of
order. AWS numbers a history's events 1, 2, 3, ..., each ``previousEventId`` an earlier
event; a history that is not so still yields a trace (trace/visits.py), whose verdict is then
``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sfn_trace.model.events import HistoryEvent
from sfn_trace.model.text import quote

__all__ = ["intact", "integrity_anomalies"]


def intact(events: Sequence[HistoryEvent]) -> bool:
    """Whether ``events`` are whole: ids 1, 2, 3... each once, in order, every
    ``previousEventId`` an earlier event."""
    return not integrity_anomalies(events)


def integrity_anomalies(events: Sequence[HistoryEvent]) -> list[str]:
    """One anomaly line per kind of damage that means events are missing, repeated with
    other content, or out of order (the verdict is then ``unknown``): ids repeated with
    other content (an identical copy is the same event: dropped, no anomaly), ids out
    of order, ids that skip (AWS numbers a history's events 1, 2, 3, ...), and a
    ``previousEventId`` that names no earlier event of the history."""
    anomalies: list[str] = []
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
        anomalies.append(
            f"duplicate event id {kept.id} ({quote(other.type)}) with other content than the "
            f"first event with that id ({quote(kept.type)}); the first is kept"
            + _more(len(conflicts) - 1, "other id repeated", "other ids repeated")
        )
    if late:
        event, before = late[0]
        anomalies.append(
            f"event {event.id} ({quote(event.type)}) comes after event {before}: the events "
            "are not in id order" + _more(len(late) - 1, "other event", "other events")
        )
    gaps = _gaps(sorted(first))
    if gaps:
        low, high = gaps[0]
        missing = f"event {low} is" if low == high else f"events {low} to {high} are"
        where = "the history starts at" if low == 1 else f"the ids skip from {low - 1} to"
        anomalies.append(
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
        anomalies.append(
            f"event {event.id} ({quote(event.type)}) follows event {event.previous_id} "
            "(previousEventId), which is not an earlier event of the history"
            + _more(len(dangling) - 1, "other event", "other events")
        )
    return anomalies


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
