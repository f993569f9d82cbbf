"""The incident report's next steps: what to check first, said in the data-flow table's
words (:mod:`sfn_trace.asl.dataflow` names the steps that shape a state's output)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from sfn_trace.asl import dataflow
from sfn_trace.model.result import Finding, TraceResult, Verdict
from sfn_trace.report.trace import mdtext as md
from sfn_trace.report.trace.shared import culprit, log_lines, status_words


def next_steps(result: TraceResult, definition: str | None) -> list[str]:
    field = md.code(result.field)
    steps: list[str] = []
    found = culprit(result)
    if found is not None:
        steps.append(_fix_step(found, field))
        lost = result.lost_at.leaf if result.lost_at is not None else None
        if lost is not None and lost.visit is not found.visit:
            steps.append(
                f"Check why {md.code(lost.visit.state)} passes on no set copy of {field}: "
                "the last one went there."
            )
        invocation = found.trace.invocation
        if invocation is not None and invocation.request_id and not log_lines(found.trace):
            steps.append(
                f"Read the CloudWatch logs of {md.code(invocation.function)} for request "
                f"{md.code(invocation.request_id)} (or run sfn-trace with Lambda logs)."
            )
    elif result.verdict is Verdict.INTACT:
        steps.append(f"Nothing to fix: {field} reaches the end of the execution set.")
    elif result.verdict is Verdict.ABSENT:
        steps.append(f"Check the field name: no document of this execution holds {field}.")
    elif result.verdict is Verdict.NEVER_SET:
        steps.append(f"Find the state that should set {field}: it only ever occurs as null.")
    if result.verdict is Verdict.UNKNOWN:
        steps.append(
            "Get the data the history lacks (payloads cut or not included, a cut history) and "
            "trace again: the answer depends on it."
        )
    if result.definition_available:
        where = shlex.quote(definition) if definition else "DEFINITION"
        steps.append(
            f"Run `sfn-trace lint {where} --field {shlex.quote(result.field)}` to list every "
            f"step of the definition that can drop {field}."
        )
    else:
        steps.append(
            "Trace again with `--definition FILE` (the definition that ran) so that each data "
            "flow step is explained."
        )
    return steps


def _fix_step(finding: Finding, field: str) -> str:
    trace = finding.trace
    visit = trace.visit
    state = md.code(visit.state)
    invocation = trace.invocation
    params, raw = trace.parameters, trace.result
    passed = invocation is not None and params is not None and params.has_set
    if passed and invocation is not None and raw is not None and raw.known and not raw.has_set:
        return (
            f"Check that {md.code(invocation.function)}'s handler returns {field}: {state} "
            f"passed it set, and the function returned {status_words(raw)}."
        )
    if raw is not None and raw.has_set:
        return (
            f"Check {state}'s {_steps(visit.type, after_result=True)}: "
            f"the task returned {field} set, the state's output lost it."
        )
    if invocation is not None:
        return f"Check what {md.code(invocation.function)} (behind {state}) does with {field}."
    if visit.type == "Pass":
        return f"Check {state}'s {_steps(visit.type, inputs=False)} for {field}."
    if visit.type in ("Map", "Parallel"):
        steps = ", ".join(dataflow.output_steps("JSONPath", visit.type, inputs=False))
        return (
            f"Check how {state} builds its result ({steps}) and what its iterations or branches "
            f"return for {field}."
        )
    steps = ", ".join(dataflow.output_steps("JSONPath", visit.type))
    return f"Check {state}'s data flow ({steps}) for {field}."


def _steps(state_type: str, **which: bool) -> str:
    """``Parameters, Result, ResultPath and OutputPath (or JSONata Output)``: the steps of
    the data-flow table (:mod:`sfn_trace.asl.dataflow`) that shape the state's output."""
    jsonpath = _and(dataflow.output_steps("JSONPath", state_type, **which))
    jsonata = dataflow.output_steps("JSONata", state_type, **which)
    return f"{jsonpath} (or JSONata {_and(jsonata)})" if jsonata else jsonpath


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
