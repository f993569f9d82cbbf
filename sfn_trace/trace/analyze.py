"""Trace one field through one execution: the stages, in order.

:func:`analyze` reads as the pipeline's middle: build the visits from the events, replay the
definition's data flow, take the field's snapshots per visit, trace the followed Distributed
Map children, split redrive attempts, compare with the expected definition, judge (the
verdict, ``first_null``, ``lost_at``: :mod:`sfn_trace.trace.verdict`, the only place a
verdict is decided) and, when the field was lost, walk the blame chain back to its origin.
No I/O of its own: the Lambda logs, when a thread is still fetching them, are waited for
through the ``lambda_logs`` callable, once the replay is done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from sfn_trace.asl.drift import compare_definitions
from sfn_trace.asl.replay import EarlyReplays, replay_visits
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import NOT_JSON, HistoryEvent, Payload
from sfn_trace.model.execution import ExecutionData, LambdaLogs
from sfn_trace.model.replay import Fault, FieldStep, Replay, ReplayStatus
from sfn_trace.model.result import LambdaCall, TraceResult, VisitTrace
from sfn_trace.model.snapshot import Occurrence, Snapshot, unknown
from sfn_trace.model.text import QUOTE_LIMIT, quote
from sfn_trace.model.visits import Visit, VisitTree
from sfn_trace.trace.ahead import TraceAhead
from sfn_trace.trace.chain import blame_chain
from sfn_trace.trace.field import FieldIndex, snapshot_of
from sfn_trace.trace.invocations import visit_invocations
from sfn_trace.trace.maprun import trace_map_runs
from sfn_trace.trace.redrive import attempts_note, split_attempts
from sfn_trace.trace.steps import field_step
from sfn_trace.trace.verdict import drift_warning, judge
from sfn_trace.trace.visits import build_visits


def analyze(
    data: ExecutionData,
    field: str,
    *,
    replay_source: ExecutionData | None = None,
    expected: Definition | None = None,
    expected_source: str = "the expected definition",
    lambda_logs: Callable[[], LambdaLogs] | None = None,
    ahead: TraceAhead | None = None,
    tree: VisitTree | None = None,
) -> TraceResult:
    """Trace ``field`` through one execution. No I/O of its own; ``lambda_logs`` may wait
    for a fetch still under way.

    ``replay_source`` is the same execution before redaction: the definition's data flow is
    replayed on the real values (placeholders would take other Choice branches and break
    intrinsics), while every document the result shows comes from ``data``.
    ``expected`` is the definition the user expects to have run (``--expect-definition``,
    read from ``expected_source``): how the one that ran differs is reported beside the
    verdict. It needs the definition that ran (``data.definition``).
    ``lambda_logs``: the Lambda logs, still being fetched: asked for once the replay is
    done (they replace ``data.lambda_logs``).
    ``ahead``: what was traced while a live history was arriving
    (:class:`~sfn_trace.trace.ahead.TraceAhead`), used where it fits; the result is the
    same without it.
    ``tree``: the visit tree of ``data``'s events and definition, when the caller has it
    (built for the Lambda logs, or followed while the history arrived); built otherwise.
    """
    data, copies = _without_copies(data)
    if replay_source is not None:
        replay_source, _ = _without_copies(replay_source)
    if tree is None or copies:
        tree = build_visits(data.events, data.definition)
    source_tree = tree
    if replay_source is not None:
        source_tree = build_visits(replay_source.events, replay_source.definition)
    replay_notes: list[str] = []
    early = ahead.finish() if ahead is not None else None
    replays = _replays(source_tree, replay_source or data, replay_notes, early)
    if lambda_logs is not None:
        data = dataclasses.replace(data, lambda_logs=lambda_logs())
    if ahead is not None and ahead.index.field == field:
        index = ahead.index
    else:
        index, ahead = FieldIndex(field), None
    traces = tuple(
        _trace_visit(visit, index, data.lambda_logs, replays.get(visit.seq), ahead)
        for visit in tree.visits
    )
    runs, run_notes = trace_map_runs(data, tree.visits, field, analyze)
    attempts = split_attempts(data.events, tree.visits)
    drift = None
    if expected is not None and data.definition is not None:
        drift = compare_definitions(data.definition, expected)
    judged = judge(data, tree, traces, field, runs)
    chain = blame_chain(source_tree, replays, field) if replays and judged.lost_or_never_set else ()
    return TraceResult(
        execution=data.info,
        field=field,
        verdict=judged.verdict,
        first_null=judged.first_null,
        lost_at=judged.lost_at,
        visits=traces,
        final=judged.final,
        final_source=judged.final_source,
        partial_verdict=judged.partial,
        unseen=judged.unseen,
        warnings=(
            *data.warnings,
            *_copies_note(copies),
            *replay_notes,
            *_log_warnings(data.lambda_logs),
            *(f"history anomaly: {a}" for a in tree.anomalies),
            *judged.warnings,
            *_mismatch_warning(replays),
            *attempts_note(attempts),
            *run_notes,
            *drift_warning(drift, expected_source),
        ),
        chain=chain,
        definition_available=data.definition is not None,
        logs_fetched=data.lambda_logs is not None,
        consumer=_consumer(traces),
        attempts=attempts,
        drift=drift,
        map_runs=runs,
        anomalies=tree.anomalies,
    )


def _without_copies(data: ExecutionData) -> tuple[ExecutionData, int]:
    """``data`` without the identical copies of an event its history repeats, and how many
    there were. A copy is the same event (a history assembled from overlapping pages): every
    stage reads it once. An id repeated with *other* content stays, for the visit builder to
    report as an anomaly (then the verdict is ``unknown``)."""
    kept: list[HistoryEvent] = []
    by_id: dict[int, list[HistoryEvent]] = {}
    for event in data.events:
        same_id = by_id.setdefault(event.id, [])
        if event in same_id:
            continue
        same_id.append(event)
        kept.append(event)
    copies = len(data.events) - len(kept)
    return (dataclasses.replace(data, events=tuple(kept)) if copies else data), copies


def _copies_note(copies: int) -> tuple[str, ...]:
    if not copies:
        return ()
    return (
        f"the history holds {copies} identical {'copy' if copies == 1 else 'copies'} of "
        "events it already lists: each event is read once",
    )


def _replays(
    tree: VisitTree, data: ExecutionData, notes: list[str], early: EarlyReplays | None = None
) -> dict[int, Replay]:
    """Each visit's data flow replayed from the definition; {} without one.

    The replay only explains; the verdict never depends on it. So a failure inside it (a
    construct it does not know) costs the explanations, said in a warning, not the trace.
    """
    if data.definition is None:
        return {}
    try:
        return replay_visits(tree, data.definition, data.info, early)
    except Exception as error:
        notes.append(
            f"the definition's data flow could not be replayed ({type(error).__name__}: "
            f"{quote(error)}); explanations use the recorded snapshots only"
        )
        return {}


def _field_step(replay: Replay, index: FieldIndex, ahead: TraceAhead | None) -> FieldStep | None:
    """The replayed step that changed the field (only a replay that matches the record
    explains anything), found ahead when this very replay was read there."""
    if replay.status is not ReplayStatus.MATCH:
        return None
    found, step = ahead.field_step(replay) if ahead is not None else (False, None)
    return step if found else field_step(replay, index.field, index)


def _log_warnings(logs: LambdaLogs | None) -> tuple[str, ...]:
    return tuple(f"logs: {w}" for w in logs.warnings) if logs is not None else ()


def _mismatch_warning(replays: dict[int, Replay]) -> tuple[str, ...]:
    """One warning per fault for the visits whose replay does not explain them: those the
    definition cannot have produced (drift, with evidence), and those sfn-trace cannot
    reproduce (its own gap). Visits whose data the history lacks are not warned about: their
    reasons are in the report."""
    warnings = []
    for fault, text in (
        (Fault.DEFINITION, "the definition is not the one that ran, as the history shows"),
        (Fault.SFN_TRACE, "sfn-trace cannot reproduce the definition's data flow"),
    ):
        missed = [
            r for r in replays.values() if r.fault is fault and r.status is not ReplayStatus.MATCH
        ]
        if not missed:
            continue
        reasons = sorted({(r.reason or "?").partition(": ")[2] or "?" for r in missed})
        # Up to three reasons, each sfn-trace's sentence around values from the input (a
        # state name may be 16 MB): as much as three quotes, then cut.
        shown = quote("; ".join(reasons[:3]), 3 * QUOTE_LIMIT)
        warnings.append(
            f"{text} for {len(missed)} visit(s) ({shown}): those "
            "explanations use the recorded snapshots only"
        )
    return tuple(warnings)


def _consumer(traces: tuple[VisitTrace, ...]) -> VisitTrace | None:
    """The last Lambda visit that was handed the field (set or not) in its parameters."""
    for trace in reversed(traces):
        if trace.calls and trace.parameters is not None and trace.parameters.occurrences:
            return trace
    return None


# --- per visit ----------------------------------------------------------------------------


def _trace_visit(
    visit: Visit,
    index: FieldIndex,
    logs: LambdaLogs | None,
    replay: Replay | None,
    ahead: TraceAhead | None,
) -> VisitTrace:
    field = index.field
    input_snapshot = index.snapshot(
        visit.input,
        absent="execution data not included" if not visit.input_included else "no input recorded",
    )
    if visit.exited:
        output_snapshot = index.snapshot(
            visit.output,
            absent="execution data not included"
            if not visit.output_included
            else "no output recorded",
        )
    else:
        output_snapshot = unknown(f"no output: the state {visit.outcome.value}")
    parameters = (
        index.snapshot(visit.parameters, absent="") if visit.parameters is not None else None
    )
    result = index.snapshot(visit.result, absent="") if visit.result is not None else None
    variables = None
    if visit.variables:
        if visit.variables_truncated:
            variables = unknown("assigned variables truncated")
        else:
            variables = _variables_snapshot(visit.variables, field)
    return VisitTrace(
        visit=visit,
        input=input_snapshot,
        output=output_snapshot,
        parameters=parameters,
        result=result,
        variables=variables,
        calls=tuple(
            LambdaCall(
                invocation=invocation,
                log_group=logs.log_groups.get(invocation.function) if logs else None,
                logs=logs.by_attempt.get(invocation.start_event_id) if logs else None,
            )
            for invocation in visit_invocations(visit)
        ),
        replay=replay,
        field_step=_field_step(replay, index, ahead) if replay is not None else None,
    )


def _variables_snapshot(variables: Iterable[tuple[str, Payload]], field: str) -> Snapshot:
    """Variables as one document ``{"name": value, ...}``: a variable named like the field is
    an occurrence, and so is the field inside a variable's value. Values that cannot hold
    the field are not parsed."""
    document: dict[str, Any] = {}
    for name, payload in variables:
        if name == field or payload.may_contain_key(field):
            value = payload.value
            if value is NOT_JSON:
                why = (payload.unreadable or "payload is not JSON").removeprefix("payload ")
                return unknown(f"variable {name} {why}")
            document[name] = value
        else:
            document[name] = 0
    snap = snapshot_of(document, field)
    # Variables are written "$name", not "$.name".
    return Snapshot(
        snap.status,
        tuple(Occurrence("$" + o.path[2:], o.value) for o in snap.occurrences),
        snap.reason,
    )
