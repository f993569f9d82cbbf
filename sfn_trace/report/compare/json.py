"""The ``sfn-trace-compare/1`` JSON document of ``sfn-trace compare``.

Keys may be added over time; none of those below may be removed or renamed. Deterministic:
the same two executions give byte-identical JSON.

.. code-block:: text

    {
      "schema": "sfn-trace-compare/1",
      "field": "poll_results_s3_key",
      "good": RUN, "bad": RUN,              # the first and the second argument
      "divergence": null | {
        "state", "type", "scope": [...], "occurrence": 1,   # 2 = a loop's second pass
        "documents": ["output"],            # whose status differs: "input" and/or "output"
        "explanation": "...",
        "good": SIDE, "bad": SIDE,          # both runs' documents at that visit
        "reached_through": {"good": [VISIT], "bad": [VISIT]}   # visits only one run made
      },                                    #   just before it (when its input differs)
      "only_in_good": [VISIT], "only_in_bad": [VISIT],         # every visit one run made
      "extra_iterations": [{"map": "Fan", "map_scope": [...], "index": 3,
                            "only_in": "bad", "visits": 2}],
      "undetermined": [{"state", "scope", "occurrence", "documents": [...]}],
      "outcomes_differ": [{"state", "scope", "occurrence", "good": "succeeded",
                           "bad": "failed"}],
      "timeline": [{"state", "type", "scope", "occurrence",
                    "only_in": null | "good" | "bad",
                    "differs": [...], "undetermined": [...],
                    "good": BRIEF | null, "bad": BRIEF | null}],
      "warnings": [...],
      "exit_code": 1
    }

    RUN   = {"source", "execution": {arn, name, status, state_machine_arn, start, stop},
             "verdict", "first_null": WHERE | null, "lost_at": WHERE | null}
    WHERE = {"state", "scope", "event_id", "became"}
    VISIT = {"state", "type", "scope", "seq", "entered_event_id", "exited_event_id",
             "outcome", "input": STATUS, "output": STATUS}
    BRIEF = {"seq", "entered_event_id", "exited_event_id", "outcome", "input": STATUS,
             "output": STATUS}
    SIDE  = BRIEF + {"attempts", "input": SNAPSHOT, "output": SNAPSHOT,
                     "parameters": SNAPSHOT | null, "result": SNAPSHOT | null}
    SNAPSHOT = {"status", "occurrences": [{"path", "value"}]}   # as in sfn-trace/1

STATUS is ``set``, ``null``, ``mixed``, ``missing`` or ``unknown``, as in ``sfn-trace/1``.
"""

from __future__ import annotations

from typing import Any

from sfn_trace.checks.compare import Comparison, Pair, Placed, Run
from sfn_trace.model import jsontext
from sfn_trace.model.result import Finding, TraceResult
from sfn_trace.report.common import iso
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.trace.json import snapshot_json

SCHEMA = "sfn-trace-compare/1"


def render(comparison: Comparison, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    return jsontext.dumps(to_document(comparison), indent=2, ensure_ascii=False) + "\n"


def to_document(comparison: Comparison) -> dict[str, Any]:
    divergence = comparison.divergence
    return {
        "schema": SCHEMA,
        "field": comparison.field,
        "good": _run(comparison.good, comparison.sources[0]),
        "bad": _run(comparison.bad, comparison.sources[1]),
        "divergence": None
        if divergence is None
        else {
            **_where(divergence.pair),
            "documents": list(divergence.documents),
            "explanation": divergence.explanation,
            "good": _side(divergence.pair.good),
            "bad": _side(divergence.pair.bad),
            "reached_through": {
                "good": [_visit(p) for p in divergence.reached_through[0]],
                "bad": [_visit(p) for p in divergence.reached_through[1]],
            },
        },
        "only_in_good": [_visit(p.either) for p in comparison.only_in(Run.GOOD)],
        "only_in_bad": [_visit(p.either) for p in comparison.only_in(Run.BAD)],
        "extra_iterations": [
            {
                "map": extra.map_state,
                "map_scope": list(extra.map_scope),
                "index": extra.index,
                "only_in": extra.only_in.value,
                "visits": extra.visits,
            }
            for extra in comparison.extra_iterations
        ],
        "undetermined": [
            {**_where(p), "documents": list(p.undetermined)} for p in comparison.undetermined
        ],
        "outcomes_differ": [
            {
                **_where(p),
                "good": p.good.visit.outcome.value if p.good else None,
                "bad": p.bad.visit.outcome.value if p.bad else None,
            }
            for p in comparison.timeline
            if p.outcomes_differ
        ],
        "timeline": [
            {
                **_where(p),
                "type": p.type,
                "only_in": p.only_in.value if p.only_in else None,
                "differs": list(p.differs),
                "undetermined": list(p.undetermined),
                "good": _brief(p.good),
                "bad": _brief(p.bad),
            }
            for p in comparison.timeline
        ],
        "warnings": list(comparison.warnings),
        "exit_code": int(comparison.exit_code),
    }


def _run(result: TraceResult, source: str) -> dict[str, Any]:
    info = result.execution
    return {
        "source": source or info.arn,
        "execution": {
            "arn": info.arn,
            "name": info.name,
            "status": info.status,
            "state_machine_arn": info.state_machine_arn,
            "start": iso(info.start),
            "stop": iso(info.stop),
        },
        "verdict": result.verdict.value,
        "first_null": _finding(result.first_null),
        "lost_at": _finding(result.lost_at),
    }


def _finding(finding: Finding | None) -> dict[str, Any] | None:
    if finding is None:
        return None
    visit = finding.visit
    return {
        "state": visit.state,
        "scope": list(visit.scope),
        "event_id": visit.exit_event_id,
        "became": finding.became,
    }


def _where(pair: Pair) -> dict[str, Any]:
    return {
        "state": pair.state,
        "type": pair.type,
        "scope": list(pair.scope),
        "occurrence": pair.occurrence,
    }


def _brief(placed: Placed | None) -> dict[str, Any] | None:
    if placed is None:
        return None
    trace, visit = placed.trace, placed.visit
    return {
        "seq": visit.seq,
        "entered_event_id": visit.entered.id,
        "exited_event_id": visit.exit_event_id,
        "outcome": visit.outcome.value,
        "input": trace.input.status.value,
        "output": trace.output.status.value,
    }


def _visit(placed: Placed) -> dict[str, Any]:
    brief = _brief(placed)
    assert brief is not None
    return {
        "state": placed.visit.state,
        "type": placed.visit.type,
        "scope": list(placed.visit.scope),
        **brief,
    }


def _side(placed: Placed | None) -> dict[str, Any] | None:
    brief = _brief(placed)
    if placed is None or brief is None:
        return None
    trace = placed.trace
    return {
        **brief,
        "attempts": len(placed.visit.attempts),
        "input": snapshot_json(trace.input),
        "output": snapshot_json(trace.output),
        "parameters": snapshot_json(trace.parameters) if trace.parameters else None,
        "result": snapshot_json(trace.result) if trace.result else None,
    }
