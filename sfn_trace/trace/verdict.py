"""The verdict: the only place it is decided, with ``first_null`` and ``lost_at``.

Definitions (docs/design.md, "Field semantics"):

- ``first_null``: the earliest visit, ordered by its exit event (so an inner Map iteration
  comes before the Map state holding it), whose input holds a set occurrence and whose
  output holds a null occurrence at a path where the input's value was not null, or no set
  occurrence at all. If the field is never set, the first visit whose output holds a null.
  A loss inside a followed Distributed Map child moves ``first_null`` (and ``lost_at``)
  into that child when it comes first.
- ``lost_at``: the visit after which no set occurrence remains in the document that flows
  on. When the final document still holds set copies beside a null one, the visit that
  brought the null into it (descending into the Map iteration or Parallel branch that lost
  the field).
- ``verdict``: read from the last document: the execution output, or the last recorded
  state output if the execution failed, was aborted or is still running. ``unknown`` when
  that document, or a document the answer depends on, could not be seen (then
  ``partial_verdict`` says what the seen documents show); and, whatever the seen documents
  say (``intact`` included: later states could still drop the field), when the history
  ends before the execution does (no terminal event, and no ``RUNNING`` status from
  DescribeExecution or a bundle that recorded it: a history file says nothing about a run
  still going on, :func:`sfn_trace.model.execution.infer_info`), or when it is damaged
  (the visit builder's anomalies: events missing, repeated with other content, out of
  order, or pointing to no earlier event).
- Definition drift (``--expect-definition``) never changes the verdict: it is reported
  beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfn_trace.model.definition import Drift
from sfn_trace.model.events import EventKind, Payload
from sfn_trace.model.execution import TERMINAL_STATUS, ExecutionData
from sfn_trace.model.replay import Replay, ReplayStatus
from sfn_trace.model.result import (
    ChildFinding,
    ChildTrace,
    Finding,
    MapRunTrace,
    Unseen,
    Verdict,
    VisitTrace,
)
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.model.text import brief, quote
from sfn_trace.model.visits import Flow, Visit, VisitTree
from sfn_trace.trace.explain import explain_first_null, explain_lost_at
from sfn_trace.trace.field import snapshot


@dataclass(frozen=True)
class Judgement:
    """What the documents say about the field: the verdict and where it points."""

    verdict: Verdict
    partial: Verdict | None
    first_null: Finding | None
    lost_at: Finding | None
    final: Snapshot
    final_source: str
    unseen: tuple[Unseen, ...]
    warnings: tuple[str, ...]
    """About the verdict: a cut, damaged or running history, a null copy an intact run
    discarded, documents not seen although the run is intact."""

    @property
    def lost_or_never_set(self) -> bool:
        return (self.partial or self.verdict) in (Verdict.LOST, Verdict.NEVER_SET)


def judge(
    data: ExecutionData,
    tree: VisitTree,
    traces: Sequence[VisitTrace],
    field: str,
    runs: Sequence[MapRunTrace] = (),
) -> Judgement:
    """The verdict, ``first_null`` and ``lost_at`` of ``field`` in one traced execution,
    moved into a followed child execution of ``runs`` when the loss happened there."""
    by_seq = {t.visit.seq: t for t in traces}
    execution_input = snapshot(
        tree.execution_input, field, absent=_absent_reason("execution input")
    )
    final, final_source = _final_document(data, tree, by_seq, field)

    documents: list[Snapshot] = [execution_input, final]
    unseen: list[Unseen] = []
    if not execution_input.known and data.events:
        unseen.append(Unseen(None, None, "execution input", execution_input.reason or ""))
    for t in traces:
        documents.append(t.input)
        if not t.input.known:
            unseen.append(Unseen(t.visit.seq, t.visit.state, "input", t.input.reason or ""))
        if t.visit.exited:
            documents.append(t.output)
            if not t.output.known:
                unseen.append(Unseen(t.visit.seq, t.visit.state, "output", t.output.reason or ""))

    any_set = any(d.has_set for d in documents)
    verdict, partial = _decide(final, any_set, any(d.occurrences for d in documents), unseen)
    first_null = _first_null(traces, never_set=not any_set)
    lost_at = _lost_in(tree.root, by_seq) if (partial or verdict) is Verdict.LOST else None

    warnings: list[str] = []
    untold = False  # the history cannot tell the final fate: it is cut, or damaged
    if tree.terminal is None and data.events:
        if data.info.status == "RUNNING":
            warnings.append(
                "the execution is still running (no terminal event): traced as far as it got"
            )
        else:
            warnings.append(_cut_warning(data, field))
            unseen.append(Unseen(None, None, "end of history", "history has no terminal event"))
            untold = True
    if tree.anomalies:
        count = len(tree.anomalies)
        warnings.append(
            f"the history is damaged ({count} history {'anomaly' if count == 1 else 'anomalies'}"
            "): the verdict is unknown, the partial verdict says what its events show"
        )
        untold = True
    if untold and verdict is not Verdict.UNKNOWN:
        verdict, partial = Verdict.UNKNOWN, verdict
    if verdict is Verdict.INTACT and first_null is not None:
        warnings.append(
            f"{field} went {first_null.became} in {' > '.join(first_null.visit.scope)}, "
            "but the final document still holds set copies only"
        )
    if unseen and verdict is Verdict.INTACT:
        warnings.append(
            f"{len(unseen)} document(s) could not be seen; the final document is intact anyway"
        )

    first_null = _explained(first_null, explain_first_null, field)
    lost_at = _explained(lost_at, explain_lost_at, field)
    by_seq = {t.visit.seq: t for t in traces}
    return Judgement(
        verdict=verdict,
        partial=partial,
        first_null=_first_null_with_children(first_null, runs, by_seq),
        lost_at=_lost_at_with_children(lost_at, runs, by_seq),
        final=final,
        final_source=final_source,
        unseen=tuple(unseen),
        warnings=tuple(warnings),
    )


def _decide(
    final: Snapshot, any_set: bool, any_occurrence: bool, unseen: Sequence[Unseen]
) -> tuple[Verdict, Verdict | None]:
    """(verdict, partial verdict) from the final document and what the others held."""
    seen: Verdict
    if not final.known:
        return Verdict.UNKNOWN, None
    if final.status is Status.SET:
        seen = Verdict.INTACT
    elif any_set:
        seen = Verdict.LOST
    elif any_occurrence:
        seen = Verdict.NEVER_SET
    else:
        seen = Verdict.ABSENT
    if unseen and seen is not Verdict.INTACT:
        # A set copy, or the place it went null, may hide in what we could not see.
        return Verdict.UNKNOWN, seen
    return seen, None


def _cut_warning(data: ExecutionData, field: str) -> str:
    """What is missing from a history that ends before the execution does."""
    last = data.events[-1]
    status = data.info.status
    if status in _ENDED:
        cut = f" although the execution is {status}: it is cut"
    else:
        cut = ": it may be cut"
    return (
        f"the history ends at event {last.id} ({quote(last.type)}) without a terminal event{cut}; "
        f"what became of {field} after that event is unknown"
    )


_ENDED = frozenset(TERMINAL_STATUS.values())


_DRIFT_NAMES = 50
"""The drift warning names at most this many states, then how many more."""


def drift_warning(drift: Drift | None, expected_source: str) -> tuple[str, ...]:
    """The line that says the definition that ran is not the one expected (the verdict,
    read from what ran, does not change)."""
    if drift is None or drift.identical:
        return ()
    shown = [quote(d.state) for d in drift.states[:_DRIFT_NAMES]]
    if len(drift.states) > _DRIFT_NAMES:
        shown.append(f"+{len(drift.states) - _DRIFT_NAMES:,} more")
    names = ", ".join(shown) or "top-level keys"
    return (f"the definition that ran differs from {expected_source}: {names}",)


# --- the final document ---------------------------------------------------------------------


def _final_document(
    data: ExecutionData, tree: VisitTree, by_seq: dict[int, VisitTrace], field: str
) -> tuple[Snapshot, str]:
    terminal = next(
        (e for e in reversed(data.events) if e.kind is EventKind.EXECUTION_SUCCEEDED), None
    )
    last_end = next(
        (
            e
            for e in reversed(data.events)
            if e.kind
            in (
                EventKind.EXECUTION_SUCCEEDED,
                EventKind.EXECUTION_FAILED,
                EventKind.EXECUTION_ABORTED,
                EventKind.EXECUTION_TIMED_OUT,
                EventKind.EXECUTION_REDRIVEN,
            )
        ),
        None,
    )
    if terminal is not None and terminal is last_end:
        output: Payload | None = tree.execution_output
        return (
            snapshot(output, field, absent=_absent_reason("execution output")),
            "the execution output",
        )
    for visit in reversed(tree.root.visits):
        if visit.exited:
            trace = by_seq[visit.seq]
            return trace.output, f"the output of {visit.state} (event {visit.exit_event_id})"
    first = next((e for e in data.events if e.kind is EventKind.EXECUTION_STARTED), None)
    return (
        snapshot(first.input if first else None, field, absent="no execution input"),
        "the execution input (no state exited)",
    )


def _absent_reason(what: str) -> str:
    return f"{what} not included in the history"


# --- first_null -----------------------------------------------------------------------------


def _first_null(traces: Sequence[VisitTrace], *, never_set: bool) -> Finding | None:
    exited = sorted(
        (t for t in traces if t.visit.exited and t.output.known),
        key=lambda t: t.visit.exit_event_id or 0,
    )
    for trace in exited:
        if never_set:
            if trace.output.has_null:
                null = next(o for o in trace.output.occurrences if not o.is_set)
                return _finding(trace, "null", None, None, null.path)
            continue
        if not trace.input.has_set:
            continue
        became, path = _went_null(trace.input, trace.output)
        if became is None:
            continue
        before = (trace.input.value_at(path) if path else None) or trace.input.first_set()
        if before is not None and not before.is_set:
            before = trace.input.first_set()
        return _finding(
            trace,
            became,
            before.value if before else None,
            before.path if before else None,
            path,
        )
    return None


def _went_null(before: Snapshot, after: Snapshot) -> tuple[str | None, str | None]:
    """How ``after`` lost the field relative to ``before``: a new null, or no set copy."""
    for occurrence in after.occurrences:
        if occurrence.is_set:
            continue
        previous = before.value_at(occurrence.path)
        if previous is None or previous.is_set:
            return "null", occurrence.path
    if not after.has_set:
        if after.has_null:
            return "null", next(o.path for o in after.occurrences if not o.is_set)
        return "missing", None
    return None, None


# --- lost_at --------------------------------------------------------------------------------


def _lost_in(flow: Flow, by_seq: dict[int, VisitTrace]) -> Finding | None:
    """The visit of ``flow`` after which no set copy remained. When the flow ends with set
    and null copies side by side, the visit that brought the null in, or the Map iteration
    or Parallel branch inside it that lost the field (an explicit stack, not recursion:
    the input decides how deep Maps and Parallels nest)."""
    found, culprit = _examine(flow, by_seq)
    if culprit is None:
        return found
    stack = [(culprit, iter(culprit.visit.children))]
    while stack:
        holder, children = stack[-1]
        child = next(children, None)
        if child is None:
            return _dropped(holder, "null")  # none of its iterations or branches lost it
        found, inner = _examine(child, by_seq)
        if inner is not None:
            stack.append((inner, iter(inner.visit.children)))
        elif found is not None:
            return found
    return None


def _examine(flow: Flow, by_seq: dict[int, VisitTrace]) -> tuple[Finding | None, VisitTrace | None]:
    """What one flow shows: the visit that dropped the last set copy, or (when its final
    output is mixed) the visit whose iterations or branches to look into."""
    traces = [by_seq[v.seq] for v in flow.visits if v.exited and by_seq[v.seq].output.known]
    if not traces:
        return None, None
    final = traces[-1].output
    if final.status in (Status.NULL, Status.MISSING):
        for trace in reversed(traces):
            if trace.input.has_set and not trace.output.has_set:
                became = "null" if trace.output.has_null else "missing"
                return _dropped(trace, became), None
        return None, None
    if final.status is Status.MIXED:
        culprit = None
        for trace in reversed(traces):
            if not trace.output.has_null:
                break
            culprit = trace
        return None, culprit
    return None, None


def _dropped(trace: VisitTrace, became: str) -> Finding:
    before = trace.input.first_set()
    null = next((o for o in trace.output.occurrences if not o.is_set), None)
    return _finding(
        trace,
        became,
        before.value if before else None,
        before.path if before else None,
        null.path if null else None,
        lost=True,
    )


# --- Distributed Map children ----------------------------------------------------------------


def _position(visit: Visit) -> int:
    """Where a Map visit's children sit in the parent's exit order: at the Map's own exit."""
    end = visit.exit or visit.end
    return end.id if end is not None else 1 << 62


def _wrap(map_trace: VisitTrace, child: ChildTrace, inner: Finding) -> Finding:
    ref = child.ref
    item = f", item {brief(ref.item_value, 60)}" if ref.item is not None else ""
    return Finding(
        trace=map_trace,
        became=inner.became,
        last_value=inner.last_value,
        last_path=inner.last_path,
        path=inner.path,
        explanation=f"in child execution {ref.number} of {ref.map_state} ({ref.name}{item}): "
        f"{inner.explanation}",
        child=ChildFinding(ref, inner),
    )


def _first_null_with_children(
    found: Finding | None, runs: Sequence[MapRunTrace], by_seq: Mapping[int, VisitTrace]
) -> Finding | None:
    best, best_key = found, (found.visit.exit_event_id or 0) if found else None
    for run in runs:
        child = next((c for c in run.children if c.result and c.result.first_null), None)
        if child is None or child.result is None or child.result.first_null is None:
            continue
        key = _position(by_seq[run.seq].visit)
        if best_key is None or key <= best_key:
            best, best_key = _wrap(by_seq[run.seq], child, child.result.first_null), key
    return best


def _lost_at_with_children(
    found: Finding | None, runs: Sequence[MapRunTrace], by_seq: Mapping[int, VisitTrace]
) -> Finding | None:
    if found is None or found.child is not None:
        return found
    for run in runs:
        if run.seq != found.visit.seq:
            continue
        child = next((c for c in run.children if c.result and c.result.lost_at), None)
        if child is not None and child.result is not None and child.result.lost_at is not None:
            return _wrap(by_seq[run.seq], child, child.result.lost_at)
    return found


# --- explanations -----------------------------------------------------------------------------


def _explained(
    finding: Finding | None, explain: Callable[[Replay, str], str | None], field: str
) -> Finding | None:
    """The finding with the replay's step-by-step explanation, when the replay of its visit
    matched the recording; otherwise the explanation from the recorded snapshots stays, and
    says why the definition could not be used."""
    if finding is None or finding.trace.replay is None:
        return finding
    replay = finding.trace.replay
    if replay.status is ReplayStatus.MATCH:
        text = explain(replay, field)
        if text:
            return dataclasses.replace(finding, explanation=text)
        return finding
    why = replay.reason or "the definition's data flow could not be replayed"
    status = "not replayed" if replay.status is ReplayStatus.NOT_REPLAYED else "replay mismatch"
    return dataclasses.replace(finding, explanation=f"{finding.explanation} ({status}: {why})")


def _finding(
    trace: VisitTrace,
    became: str,
    last_value: Any,
    last_path: str | None,
    path: str | None,
    lost: bool = False,
) -> Finding:
    return Finding(
        trace=trace,
        became=became,
        last_value=last_value,
        last_path=last_path,
        path=path,
        explanation=_explain(trace, became, last_value, last_path, path, lost),
    )


def _explain(
    trace: VisitTrace,
    became: str,
    last_value: Any,
    last_path: str | None,
    path: str | None,
    lost: bool,
) -> str:
    """The finding in words from the recorded snapshots (the replay, when it matched, gives
    a step-by-step sentence instead: :mod:`sfn_trace.trace.explain`)."""
    visit = trace.visit
    parts = []
    if last_path is not None:
        parts.append(f"its input held {brief(last_value, 60)} at {last_path}")
    if trace.result is not None and trace.result.has_null and visit.type == "Task":
        null = next(o for o in trace.result.occurrences if not o.is_set)
        what = "the Lambda result" if trace.invocation else "the task result"
        sent = trace.parameters.first_set() if trace.parameters else None
        clause = f"{what} held null at {null.path}"
        if sent is not None:
            clause += f" although its parameters passed {brief(sent.value, 60)} at {sent.path}"
        parts.append(clause)
    elif (
        trace.result is not None and trace.result.status is Status.MISSING and visit.type == "Task"
    ):
        what = "the Lambda result" if trace.invocation else "the task result"
        parts.append(f"{what} did not return the field")
    if became == "null" and path is not None:
        if lost:
            others = "" if trace.output.has_set else "; no set copy is left in its output"
            parts.append(f"its output holds null at {path}{others}")
        else:
            parts.append(f"its output holds null at {path}")
    else:
        parts.append("its output holds no copy of the field")
    if visit.outcome.value == "caught" and visit.error:
        parts.append(f"the state failed with {quote(visit.error)} and a Catch replaced its output")
    return "; ".join(parts)
