"""The timeline's rows for people: one per visit that says something new about the field, one
per run of visits that only repeat what the run's first visit said.

A run is made of the visits of one state at one place in the definition (the same Map
iterations' state, whichever iteration; the same Parallel branch), one after the other (a
Map's iterations by index, other visits in execution order), that all say the same thing
about the field:

- the same status in the input and in the output (``set → set``, ``missing → missing``),
  and the field at the same places (array indexes aside) with values of the same JSON types;
- the same change: ``changed`` is computed as in the CSV (the field's occurrences, path and
  value, differ between the visit's input and output), so a visit that copies the field to
  a new place says ``yes`` in every iteration; such visits collapse with each other, never
  with visits that change nothing, and a visit whose output holds a value its input did not
  (a rewrite) collapses only with rewrites. The value itself may differ from visit to visit
  (each Map item has its own): that is not something new;
- the same type of state, the same outcome and the same redrive attempt.

These visits are never collapsed: where the field went null, where its last set copy went,
every visit of the blame chain and the consumer, a visit where the field's status changes
(set → null, missing → set, a visit without an output...), where it is mixed, or where the
JSON type of its values changes; a visit whose replay of the definition did not match the
recording; and the first and the last visit of the execution. Such a visit also ends the run
of its state before it. A run shorter than :data:`RUN_MIN` visits is shown visit by visit.

When a row is collapsed, the rows are shown in that order too: the top-level visits in
execution order, a Map's iterations by index (``FanOut[0..355]``, then ``FanOut[356]``, then
``FanOut[357..912]``), each iteration's or branch's visits in execution order; otherwise in
execution order, as every visit is shown. A collapsed row gives the Map iterations it covers
(``FanOut[0..355] > ProcessChunk ×356``), its lowest and highest visit numbers, and says when
the values differ between its visits. ``--all-visits`` shows every visit; the CSV and JSON
outputs always hold one row per visit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sfn_trace.model import jsontext
from sfn_trace.model.replay import ReplayStatus
from sfn_trace.model.result import TraceResult, VisitTrace
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.model.visits import FlowKind

RUN_MIN = 3
"""The fewest visits a collapsed row holds: two visits are shown as two rows."""
SPANS_SHOWN = 3
"""Iteration indexes are listed as up to this many spans (``0..99,101..355``); more are
given as the whole span and how many indexes in it are not in the row."""


@dataclass(frozen=True, slots=True)
class Level:
    """One flow around a visit: an iteration of a Map, or a branch of a Parallel."""

    container: str
    """The Map or Parallel state."""
    container_seq: int
    kind: FlowKind
    index: int | None
    label: str
    """``FanOut[3]``, ``Enrich.Branches[1]``."""


@dataclass(frozen=True, slots=True)
class Row:
    """One timeline row: a single visit, or a run of visits that say the same thing."""

    traces: tuple[VisitTrace, ...]
    """In the order runs are made (:func:`rows`)."""
    scope: tuple[str, ...]
    """The flows around the row's visits, e.g. ``("FanOut[0..355]", "Enrich.Branches[0]")``;
    empty at the top level."""

    @property
    def trace(self) -> VisitTrace:
        """The first visit (the one a single row is)."""
        return self.traces[0]

    @property
    def seqs(self) -> tuple[int, int]:
        """The lowest and the highest visit number in the row."""
        numbers = [trace.visit.seq for trace in self.traces]
        return min(numbers), max(numbers)

    @property
    def collapsed(self) -> bool:
        return len(self.traces) > 1


def rows(result: TraceResult, *, every: bool = False) -> list[Row]:
    """The timeline's rows (``every``: one row per visit, in execution order)."""
    if every:
        return [Row((t,), t.visit.scope[:-1]) for t in result.visits]
    levels = _levels(result)
    keep = kept(result)
    attempt_of = {seq: a.number for a in result.attempts for seq in a.visits}
    runs: list[list[VisitTrace]] = []
    open_runs: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[VisitTrace]]] = {}
    for trace in sorted(result.visits, key=lambda t: _tree_order(t.visit.seq, levels)):
        seq = trace.visit.seq
        place = (
            attempt_of.get(seq),
            tuple(_place(level) for level in levels[seq]),
            trace.visit.state,
        )
        if seq in keep:
            open_runs.pop(place, None)
            runs.append([trace])
            continue
        key = _key(trace)
        current = open_runs.get(place)
        if current is not None and current[0] == key:
            current[1].append(trace)
            continue
        run = [trace]
        open_runs[place] = (key, run)
        runs.append(run)
    out: list[Row] = []
    for run in runs:
        if len(run) >= RUN_MIN:
            out.append(Row(tuple(run), _run_scope([levels[t.visit.seq] for t in run])))
        else:
            out += [Row((t,), t.visit.scope[:-1]) for t in run]
    if not any(row.collapsed for row in out):
        return [Row((t,), t.visit.scope[:-1]) for t in result.visits]
    out.sort(key=lambda row: _tree_order(row.trace.visit.seq, levels))
    return out


def _place(level: Level) -> tuple[Any, ...]:
    """A flow around a visit, whichever iteration of its Map it is."""
    branch = level.index if level.kind is FlowKind.BRANCH else None
    return level.container, level.kind, branch


def kept(result: TraceResult) -> set[int]:
    """The visits never collapsed (the module's docstring says which)."""
    if not result.visits:
        return set()
    keep = {result.visits[0].visit.seq, result.visits[-1].visit.seq}
    keep |= {f.visit.seq for f in (result.first_null, result.lost_at) if f is not None}
    keep |= {hop.seq for hop in result.chain}
    keep |= {hop.written_by_seq for hop in result.chain if hop.written_by_seq is not None}
    if result.consumer is not None:
        keep.add(result.consumer.visit.seq)
    keep |= {t.visit.seq for t in result.visits if _says_something(t)}
    return keep


def _says_something(trace: VisitTrace) -> bool:
    """Whether the visit itself is news: the field's status or type changes, is mixed, or
    the replay did not match the recording."""
    before, after = trace.input.status, output_status(trace)
    if before != after or Status.MIXED in (before, after):
        return True
    if _types(trace.input) != _types(trace.output):
        return True
    replay = trace.replay
    return replay is not None and replay.status is not ReplayStatus.MATCH


def output_status(trace: VisitTrace) -> Status | None:
    """The field's status in the output; None when the visit has no output."""
    return trace.output.status if trace.visit.exited else None


_INDEX = re.compile(r"\[\d+\]")


def _key(trace: VisitTrace) -> tuple[Any, ...]:
    """What a visit says about the field, item values aside (two visits with the same key
    say the same thing)."""
    visit = trace.visit
    return (
        visit.type,
        visit.outcome,
        trace.input.status,
        output_status(trace),
        trace.input.reason,
        trace.output.reason,
        _places(trace.input),
        _places(trace.output),
        trace.changed,
        trace.field_step.step.name if trace.field_step is not None else None,
        trace.changed is True and _new_values(trace),
    )


def _places(snapshot: Snapshot) -> frozenset[str]:
    """Where the field occurs, array indexes aside (``$.items[*].key``)."""
    return frozenset(_INDEX.sub("[*]", o.path) for o in snapshot.occurrences)


def _types(snapshot: Snapshot) -> frozenset[str]:
    return frozenset(type(o.value).__name__ for o in snapshot.occurrences if o.is_set)


def _new_values(trace: VisitTrace) -> bool:
    """Whether the output holds a set value the input did not (the visit wrote a value,
    rather than copying, moving or dropping copies of the one it was given)."""
    given = {_text(o.value) for o in trace.input.occurrences if o.is_set}
    return any(_text(o.value) not in given for o in trace.output.occurrences if o.is_set)


def _text(value: Any) -> str:
    return str(jsontext.dumps(value))


def _tree_order(seq: int, levels: dict[int, tuple[Level, ...]]) -> tuple[int, ...]:
    """Top-level visits in execution order, a Map's iterations (a Parallel's branches) by
    index, each one's visits in execution order."""
    key: list[int] = []
    for level in levels[seq]:
        key += [level.container_seq, level.index if level.index is not None else -1]
    return (*key, seq)


def _levels(result: TraceResult) -> dict[int, tuple[Level, ...]]:
    """The flows around each visit, outermost first (a visit is entered before those
    nested in it, so its own are known when its children are reached)."""
    levels: dict[int, tuple[Level, ...]] = {}
    for trace in result.visits:
        visit = trace.visit
        around = levels.setdefault(visit.seq, ())
        for flow in visit.children:
            level = Level(visit.state, visit.seq, flow.kind, flow.index, flow.label)
            for inner in flow.visits:
                levels[inner.seq] = (*around, level)
    return levels


def _run_scope(members: Sequence[Sequence[Level]]) -> tuple[str, ...]:
    """The flows around a run's visits: each Map's iterations as spans of indexes."""
    parts = []
    for depth, level in enumerate(members[0]):
        if level.kind is not FlowKind.ITERATION:
            parts.append(level.label)
            continue
        indexes = sorted({i for m in members if (i := m[depth].index) is not None})
        parts.append(f"{level.container}[{spans(indexes)}]" if indexes else level.label)
    return tuple(parts)


def spans(indexes: Sequence[int]) -> str:
    """``0..355``, ``0..99,101..355``; beyond :data:`SPANS_SHOWN` spans, ``0..1399 minus 12``
    (the indexes in the whole span that are not in the row). ``indexes`` sorted, distinct."""
    found: list[tuple[int, int]] = []
    for index in indexes:
        if found and index == found[-1][1] + 1:
            found[-1] = (found[-1][0], index)
        else:
            found.append((index, index))
    if len(found) <= SPANS_SHOWN:
        return ",".join(str(a) if a == b else f"{a}..{b}" for a, b in found)
    low, high = found[0][0], found[-1][1]
    return f"{low}..{high} minus {high - low + 1 - len(indexes):,}"


def distinct(cells: Iterable[str]) -> int:
    return len(set(cells))
