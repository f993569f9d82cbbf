"""From visits to the verdict: where the field went null, and where the last set copy went.

Definitions (docs/design.md, "Field semantics"):

- ``first_null``: the earliest visit, ordered by its exit event (so an inner Map iteration
  comes before the Map state holding it), whose input holds a set occurrence and whose
  output holds a null occurrence at a path where the input's value was not null, or no set
  occurrence at all. If the field is never set, the first visit whose output holds a null.
- ``lost_at``: the visit after which no set occurrence remains in the document that flows
  on. When the final document still holds set copies beside a null one, the visit that
  brought the null into it (descending into the Map iteration or Parallel branch that lost
  the field).
- ``verdict``: read from the last document: the execution output, or the last recorded
  state output if the execution failed, was aborted or is still running.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.events import NOT_JSON, EventKind, Payload
from sfn_trace.model.execution import ExecutionData, LambdaLogs
from sfn_trace.model.replay import Replay, ReplayStatus
from sfn_trace.model.result import (
    Finding,
    Hop,
    LambdaCall,
    TraceResult,
    Unseen,
    Verdict,
    VisitTrace,
)
from sfn_trace.model.snapshot import Occurrence, Snapshot, Status, unknown
from sfn_trace.model.text import brief
from sfn_trace.model.visits import Flow, Visit, VisitTree
from sfn_trace.trace.chain import blame_chain, explain_first_null, explain_lost_at
from sfn_trace.trace.field import snapshot, snapshot_of
from sfn_trace.trace.invocations import visit_invocations
from sfn_trace.trace.redrive import with_attempts
from sfn_trace.trace.steps import field_step
from sfn_trace.trace.visits import build_visits


def analyze(
    data: ExecutionData, field: str, *, replay_source: ExecutionData | None = None
) -> TraceResult:
    """Trace ``field`` through one execution. Pure: no I/O.

    ``replay_source`` is the same execution before redaction: the definition's data flow is
    replayed on the real values (placeholders would take other Choice branches and break
    intrinsics), while every document the result shows comes from ``data``.
    """
    tree = build_visits(data.events, data.definition)
    logs = data.lambda_logs
    source_tree = tree
    if replay_source is not None:
        source_tree = build_visits(replay_source.events, replay_source.definition)
    replay_notes: list[str] = []
    replays = _replays(source_tree, replay_source or data, replay_notes)
    traces = tuple(
        _with_replay(_trace_visit(visit, field, logs), replays.get(visit.seq), field)
        for visit in tree.visits
    )
    by_seq = {t.visit.seq: t for t in traces}

    execution_input = snapshot(
        tree.execution_input, field, absent=_absent_reason(data, "execution input")
    )
    final, final_source = _final_document(data, tree.root, tree.execution_output, by_seq, field)

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
    any_occurrence = any(d.occurrences for d in documents)
    seen_verdict: Verdict | None
    if not final.known:
        seen_verdict = None
    elif final.status is Status.SET:
        seen_verdict = Verdict.INTACT
    elif any_set:
        seen_verdict = Verdict.LOST
    elif any_occurrence:
        seen_verdict = Verdict.NEVER_SET
    else:
        seen_verdict = Verdict.ABSENT

    verdict: Verdict
    partial: Verdict | None = None
    if seen_verdict is None:
        verdict, partial = Verdict.UNKNOWN, None
    elif unseen and seen_verdict is not Verdict.INTACT:
        # A set copy, or the place it went null, may hide in what we could not see.
        verdict, partial = Verdict.UNKNOWN, seen_verdict
    else:
        verdict = seen_verdict

    first_null = _first_null(traces, never_set=not any_set)
    lost_at = _lost_in(tree.root, by_seq) if (partial or verdict) is Verdict.LOST else None

    warnings = list(data.warnings) + replay_notes
    if logs is not None:
        warnings.extend(f"logs: {w}" for w in logs.warnings)
    warnings.extend(f"history anomaly: {a}" for a in tree.anomalies)
    if tree.terminal is None and data.events:
        if data.info.status not in (None, "RUNNING"):
            warnings.append(
                f"the history has no terminal event although the execution is "
                f"{data.info.status}: it may be cut; the trace covers {len(data.events)} events"
            )
            unseen.append(Unseen(None, None, "end of history", "history has no terminal event"))
            if verdict is not Verdict.INTACT and verdict is not Verdict.UNKNOWN:
                verdict, partial = Verdict.UNKNOWN, verdict
        else:
            warnings.append(
                "the execution is still running (no terminal event): traced as far as it got"
            )
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
    chain: tuple[Hop, ...] = ()
    if replays and (partial or verdict) in (Verdict.LOST, Verdict.NEVER_SET):
        chain = blame_chain(source_tree, replays, field)
    mismatched = [r for r in replays.values() if r.status is ReplayStatus.MISMATCH]
    if mismatched:
        reasons = sorted({r.reason or "?" for r in mismatched})
        warnings.append(
            f"replay of the definition differs from the recording for {len(mismatched)} "
            f"visit(s) ({'; '.join(reasons[:3])}): those explanations use the recorded "
            "snapshots only"
        )

    result = TraceResult(
        execution=data.info,
        field=field,
        verdict=verdict,
        first_null=first_null,
        lost_at=lost_at,
        visits=traces,
        final=final,
        final_source=final_source,
        partial_verdict=partial,
        unseen=tuple(unseen),
        warnings=tuple(warnings),
        definition_available=data.definition is not None,
        logs_fetched=logs is not None,
        consumer=_consumer(traces),
        chain=chain,
    )
    # Redrive attempts, and Distributed Map runs with their children traced by this same
    # function (imported here because sfn_trace.trace.maprun imports this package).
    from sfn_trace.trace.maprun import trace_map_runs

    result = with_attempts(result, data.events, tree.visits)
    return trace_map_runs(result, data, tree.visits, analyze)


def _replays(tree: VisitTree, data: ExecutionData, notes: list[str]) -> dict[int, Replay]:
    """Each visit's data flow replayed from the definition; {} without one.

    The replay only explains; the verdict never depends on it. So a failure inside it (a
    construct it does not know) costs the explanations, said in a warning, not the trace.
    """
    if data.definition is None:
        return {}
    try:
        return replay_visits(tree, data.definition, data.info)
    except Exception as error:
        notes.append(
            f"the definition's data flow could not be replayed ({type(error).__name__}: "
            f"{error}); explanations use the recorded snapshots only"
        )
        return {}


def _with_replay(trace: VisitTrace, replay: Replay | None, field: str) -> VisitTrace:
    if replay is None:
        return trace
    step = field_step(replay, field) if replay.status is ReplayStatus.MATCH else None
    return dataclasses.replace(trace, replay=replay, field_step=step)


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
    status = replay.status.value if replay.status else "not replayed"
    return dataclasses.replace(
        finding, explanation=f"{finding.explanation} (replay {status}: {why})"
    )


def _consumer(traces: tuple[VisitTrace, ...]) -> VisitTrace | None:
    """The last Lambda visit that was handed the field (set or not) in its parameters."""
    for trace in reversed(traces):
        if trace.calls and trace.parameters is not None and trace.parameters.occurrences:
            return trace
    return None


# --- per visit ----------------------------------------------------------------------------


def _trace_visit(visit: Visit, field: str, logs: LambdaLogs | None) -> VisitTrace:
    input_snapshot = snapshot(
        visit.input,
        field,
        absent="execution data not included" if not visit.input_included else "no input recorded",
    )
    if visit.exited:
        output_snapshot = snapshot(
            visit.output,
            field,
            absent="execution data not included"
            if not visit.output_included
            else "no output recorded",
        )
    else:
        output_snapshot = unknown(f"no output: the state {visit.outcome.value}")
    parameters = (
        snapshot(visit.parameters, field, absent="") if visit.parameters is not None else None
    )
    result = snapshot(visit.result, field, absent="") if visit.result is not None else None
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
                return unknown(f"variable {name} is not JSON")
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


# --- the final document ---------------------------------------------------------------------


def _final_document(
    data: ExecutionData,
    root: Flow,
    execution_output: Payload | None,
    by_seq: dict[int, VisitTrace],
    field: str,
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
        return (
            snapshot(
                execution_output,
                field,
                absent=_absent_reason(data, "execution output"),
            ),
            "the execution output",
        )
    for visit in reversed(root.visits):
        if visit.exited:
            trace = by_seq[visit.seq]
            return trace.output, f"the output of {visit.state} (event {visit.exit_event_id})"
    first = next((e for e in data.events if e.kind is EventKind.EXECUTION_STARTED), None)
    return (
        snapshot(first.input if first else None, field, absent="no execution input"),
        "the execution input (no state exited)",
    )


def _absent_reason(data: ExecutionData, what: str) -> str:
    return f"{what} not included in the history"


# --- first_null ---------------------------------------------------------------------------


def _first_null(traces: tuple[VisitTrace, ...], *, never_set: bool) -> Finding | None:
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


# --- lost_at ------------------------------------------------------------------------------


def _lost_in(flow: Flow, by_seq: dict[int, VisitTrace]) -> Finding | None:
    traces = [by_seq[v.seq] for v in flow.visits if v.exited and by_seq[v.seq].output.known]
    if not traces:
        return None
    final = traces[-1].output
    if final.status in (Status.NULL, Status.MISSING):
        for trace in reversed(traces):
            if trace.input.has_set and not trace.output.has_set:
                became = "null" if trace.output.has_null else "missing"
                return _dropped(trace, became)
        return None
    if final.status is Status.MIXED:
        culprit = None
        for trace in reversed(traces):
            if not trace.output.has_null:
                break
            culprit = trace
        if culprit is None:
            return None
        for child in culprit.visit.children:
            inner = _lost_in(child, by_seq)
            if inner is not None:
                return inner
        return _dropped(culprit, "null")
    return None


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


# --- explanations from the recorded snapshots -------------------------------------------------


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
        parts.append(f"the state failed with {visit.error} and a Catch replaced its output")
    return "; ".join(parts)
