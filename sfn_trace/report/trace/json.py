"""The ``sfn-trace/1`` JSON document (docs/json-output.md).

Keys may be added over time; none of the documented ones may be removed or renamed.
Output is deterministic: the same history gives byte-identical JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sfn_trace.model import jsontext
from sfn_trace.model.execution import MapRunCounts
from sfn_trace.model.replay import FAULT_PREFIX, Fault, ReplayStatus
from sfn_trace.model.result import (
    ChildTrace,
    Finding,
    LambdaCall,
    MapRunTrace,
    RedriveAttempt,
    TraceResult,
    VisitTrace,
)
from sfn_trace.model.snapshot import Snapshot
from sfn_trace.model.visits import Attempt
from sfn_trace.report.common import iso
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

SCHEMA = "sfn-trace/1"


def render(result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    return dumps(to_document(result))


def dumps(document: dict[str, Any]) -> str:
    """Indented JSON with one visit per line.

    Readable, diff- and grep-friendly, and fast: Python's C encoder only runs without
    ``indent``, and a 25,000-event history has thousands of visits. Strict RFC 8259 JSON
    whatever the payloads held (:func:`sfn_trace.model.jsontext.dumps`: ``1e400`` is written
    ``1e400``, a payload's ``NaN`` token ``"NaN"``), at any depth.
    """
    head = dict(document)
    visits = head.pop("visits", [])
    text = jsontext.dumps(head, indent=2, ensure_ascii=False)
    if not visits:
        return text[:-2] + ',\n  "visits": []\n}\n'  # head always has members
    lines = ",\n".join("    " + jsontext.dumps(v, ensure_ascii=False) for v in visits)
    return text[:-2] + f',\n  "visits": [\n{lines}\n  ]\n}}\n'


def to_document(result: TraceResult) -> dict[str, Any]:
    info = result.execution
    return {
        "schema": SCHEMA,
        "execution": {
            "arn": info.arn,
            "name": info.name,
            "status": info.status,
            "state_machine_arn": info.state_machine_arn,
            "start": iso(info.start),
            "stop": iso(info.stop),
        },
        "field": result.field,
        "verdict": result.verdict.value,
        "partial_verdict": result.partial_verdict.value if result.partial_verdict else None,
        "final": {"source": result.final_source, **snapshot_json(result.final)},
        "first_null": finding_json(
            result.first_null, with_last_value=True, attempt=result.attempt_of(result.first_null)
        ),
        "lost_at": finding_json(
            result.lost_at, with_last_value=False, attempt=result.attempt_of(result.lost_at)
        ),
        "chain": [hop.as_json() for hop in result.chain],
        "definition_drift": drift_json(result),
        "confirmation": confirmation_json(result),
        "unseen": [
            {"seq": u.seq, "state": u.state, "document": u.document, "reason": u.reason}
            for u in result.unseen
        ],
        "warnings": list(result.warnings),
        "logs_fetched": result.logs_fetched,
        "attempts": [attempt_run_json(a) for a in result.attempts],
        "map_runs": [map_run_json(r) for r in result.map_runs],
        "visits": [visit_json(t, why) for why in [unreplayed(result)] for t in result.visits],
    }


def finding_json(
    finding: Finding | None, *, with_last_value: bool, attempt: int | None = None
) -> dict[str, Any] | None:
    """A finding; inside a Distributed Map child, ``state``/``seq``/``event_id`` are the
    child's (its own history) and ``child`` says which child of which Map state."""
    if finding is None:
        return None
    visit = finding.leaf.visit
    document: dict[str, Any] = {
        "state": visit.state,
        "type": visit.type,
        "seq": visit.seq,
        "event_id": visit.exit_event_id,
        "map_iteration": visit.map_iteration,
        "scope": list(finding.scope),
        "became": finding.became,
        "path": finding.path,
    }
    if with_last_value:
        document["last_value"] = finding.last_value
    document["last_path"] = finding.last_path
    document["explanation"] = finding.explanation
    document["attempt"] = attempt
    document["child"] = child_ref_json(finding) if finding.child is not None else None
    return document


def child_ref_json(finding: Finding) -> dict[str, Any] | None:
    child = finding.child
    if child is None:
        return None
    ref = child.ref
    return {
        "map_state": ref.map_state,
        "map_seq": finding.visit.seq,
        "map_run_arn": ref.map_run_arn,
        "number": ref.number,
        "name": ref.name,
        "arn": ref.arn,
        "item": ref.item_value,
    }


def attempt_run_json(attempt: RedriveAttempt) -> dict[str, Any]:
    """One redrive attempt (``attempts`` is empty unless the execution was redriven)."""
    return {
        "number": attempt.number,
        "redrive_count": attempt.redrive_count,
        "status": attempt.status,
        "first_event_id": attempt.first_event_id,
        "last_event_id": attempt.last_event_id,
        "start": iso(attempt.start),
        "stop": iso(attempt.stop),
        "error": attempt.error,
        "cause": attempt.cause,
        "visits": list(attempt.visits),
        "rerun": list(attempt.rerun),
    }


def map_run_json(run: MapRunTrace) -> dict[str, Any]:
    """One Distributed Map run, with its followed children (their verdicts and findings)."""
    described = run.description
    return {
        "state": run.state,
        "seq": run.seq,
        "event_id": run.event_id,
        "map_run_arn": run.arn,
        "status": run.status,
        "total_children": run.total,
        "item_counts": _counts(described.item_counts) if described else None,
        "execution_counts": _counts(described.execution_counts) if described else None,
        "followed": run.followed,
        "children_listed": run.listed,
        "follow_command": run.follow_command,
        "note": run.note,
        "children": [child_json(c) for c in run.children],
    }


def child_json(child: ChildTrace) -> dict[str, Any]:
    result = child.result
    return {
        "number": child.ref.number,
        "name": child.ref.name,
        "arn": child.ref.arn,
        "status": child.status,
        "start": iso(child.start),
        "stop": iso(child.stop),
        "item": child.ref.item_value,
        "item_field": snapshot_json(child.item),
        "verdict": result.verdict.value if result else None,
        "partial_verdict": result.partial_verdict.value
        if result and result.partial_verdict
        else None,
        "first_null": finding_json(result.first_null, with_last_value=True) if result else None,
        "lost_at": finding_json(result.lost_at, with_last_value=False) if result else None,
        "error": child.error,
    }


def _counts(counts: MapRunCounts | None) -> dict[str, int] | None:
    if counts is None:
        return None
    return {
        "pending": counts.pending,
        "running": counts.running,
        "succeeded": counts.succeeded,
        "failed": counts.failed,
        "timed_out": counts.timed_out,
        "aborted": counts.aborted,
        "total": counts.total,
        "results_written": counts.results_written,
    }


def unreplayed(result: TraceResult) -> tuple[str | None, str]:
    """The fault and reason of a visit that has no replay at all: no definition, or a replay
    that failed as a whole (a warning says how)."""
    if not result.definition_available:
        return None, "no definition to replay (--definition FILE gives one for a history file)"
    return (
        Fault.SFN_TRACE.value,
        f"{FAULT_PREFIX[Fault.SFN_TRACE]}: the replay failed (see warnings)",
    )


def visit_json(
    trace: VisitTrace, unreplayed: tuple[str | None, str] = (None, "no definition to replay")
) -> dict[str, Any]:
    visit = trace.visit
    end = visit.end.timestamp if visit.end else None
    start = visit.entered.timestamp
    return {
        "seq": visit.seq,
        "state": visit.state,
        "type": visit.type,
        "entered_event_id": visit.entered.id,
        "exited_event_id": visit.exit_event_id,
        "scope": list(visit.scope),
        "map_iteration": visit.map_iteration,
        "outcome": visit.outcome.value,
        "start": iso(start),
        "end": iso(end),
        "duration_ms": _duration_ms(start, end),
        "replay": trace.replay.status.value if trace.replay else ReplayStatus.NOT_REPLAYED.value,
        "replay_fault": (
            (trace.replay.fault.value if trace.replay.fault else None)
            if trace.replay
            else unreplayed[0]
        ),
        "replay_reason": trace.replay.reason if trace.replay else unreplayed[1],
        "field_step": field_step_json(trace),
        "changed": trace.changed,
        "input": snapshot_json(trace.input),
        "output": snapshot_json(trace.output),
        "parameters": snapshot_json(trace.parameters) if trace.parameters else None,
        "result": snapshot_json(trace.result) if trace.result else None,
        "variables": snapshot_json(trace.variables) if trace.variables else None,
        "resource": visit.resource,
        "attempts": [attempt_json(a) for a in visit.attempts],
        "error": visit.error,
        "cause": visit.cause,
        "lambda": lambda_json(trace),
    }


def lambda_json(trace: VisitTrace) -> dict[str, Any] | None:
    """The ``lambda`` object (docs/json-output.md) for the last attempt, with every attempt under
    ``invocations`` (each retry is its own invocation with its own lines)."""
    if not trace.calls:
        return None
    calls = [call_json(call) for call in trace.calls]
    return {**calls[-1], "invocations": calls}


def call_json(call: LambdaCall) -> dict[str, Any]:
    invocation, logs = call.invocation, call.logs
    return {
        "function": invocation.function,
        "qualifier": invocation.qualifier,
        "attempt": invocation.attempt,
        "request_id": invocation.request_id or (logs.request_id if logs else None),
        "log_group": call.log_group,
        "log_stream": logs.log_stream if logs else None,
        "matched_by": logs.matched_by if logs else None,
        # [] when logs were read and this invocation had none; None when not read.
        "log_lines": [line.message for line in logs.lines]
        if logs
        else ([] if call.log_group else None),
    }


def confirmation_json(result: TraceResult) -> list[dict[str, Any]] | None:
    """``--confirm``: AWS TestState's verdict on each culprit state (null: not asked)."""
    if result.confirmation is None:
        return None
    return [
        {
            "state": c.state,
            "seq": c.seq,
            "verdict": c.verdict.value,
            "step": c.step,
            "path": c.path,
            "reason": c.reason,
            "aws_status": c.aws_status,
            "aws_steps": [
                {"step": s.step, "status": s.status.value, "path": s.path} for s in c.aws_steps
            ],
        }
        for c in result.confirmation
    ]


def drift_json(result: TraceResult) -> dict[str, Any] | None:
    """--expect-definition: the states that differ (None when not asked)."""
    drift = result.drift
    if drift is None:
        return None
    return {
        "identical": drift.identical,
        "states": [
            {
                "state": d.state,
                "change": d.change.value,
                "keys": list(d.keys),
                "location": d.location,
            }
            for d in drift.states
        ],
        "machine_keys": list(drift.machine_keys),
    }


def field_step_json(trace: VisitTrace) -> dict[str, Any] | None:
    """The replayed step that changed the field's status (InputPath, Parameters, ...)."""
    step = trace.field_step
    if step is None:
        return None
    return {
        "step": step.step.name,
        "expression": step.expression,
        "path": step.path,
        "before": step.before.status.value,
        "after": step.after.status.value,
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    document: dict[str, Any] = {
        "status": snapshot.status.value,
        "occurrences": [{"path": o.path, "value": o.value} for o in snapshot.occurrences],
    }
    if snapshot.reason:
        document["reason"] = snapshot.reason
    return document


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_event_id": attempt.start.id,
        "ended_event_id": attempt.end.id if attempt.end else None,
        "error": attempt.error,
        "cause": attempt.cause,
    }


def _duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000)
