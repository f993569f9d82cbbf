"""The sentences a report leads with, read from one visit's replayed data flow.

:func:`explain_first_null` says which step put the null (or dropped the field) and how it
reached the output; :func:`explain_lost_at` which step dropped the last set copy. Both
return None when the replay shows no such step, and the recorded snapshots speak instead
(:mod:`sfn_trace.trace.verdict`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sfn_trace.asl import dataflow
from sfn_trace.asl.dataflow import Kind
from sfn_trace.asl.jsonpath import compact, parse_location
from sfn_trace.asl.templates import describe_member, template_member
from sfn_trace.model.replay import FieldStep, Replay, Step
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.model.text import brief, quote
from sfn_trace.trace.chain import sent_value, task_label, trace_location
from sfn_trace.trace.field import find_occurrences, snapshot_of
from sfn_trace.trace.steps import field_step


def explain_first_null(replay: Replay, field: str) -> str | None:
    """The headline for ``first_null``, e.g. ``F went null in S (Task, lambda:invoke fn): the
    Lambda result had "F": null although its parameters passed "..."; ResultSelector "F.$":
    "$.Payload.F" and ResultPath "$.x" copied it to $.x.F.``

    None when the replay shows no step changing the field.
    """
    change = field_step(replay, field)
    if change is None:
        return None
    became = "missing" if change.after.status is Status.MISSING else "null"
    sentence = f"{field} went {became} in {replay.state} ({_kind(replay)}): "
    sentence += _cause(replay, change, field)
    carried = _carried(replay, change, field)
    return sentence + (f"; {carried}" if carried else "") + "."


def explain_lost_at(replay: Replay, field: str) -> str | None:
    """The headline for ``lost_at``, e.g. ``Last set copy dropped by S: Parameters "F.$":
    "$.a.F" read the null and the rest of the input was discarded.``

    None when no replayed step drops the last set copy.
    """
    before = snapshot_of(replay.input, field)
    for step in replay.steps:
        after = snapshot_of(step.value, field)
        if before.has_set and not after.has_set:
            return (
                f"Last set copy dropped by {replay.state}: {_dropped(replay, step, after, field)}."
            )
        before = after
    return None


def _kind(replay: Replay) -> str:
    """``Task, lambda:invoke my-function``: the state type and what it called."""
    resource = replay.resource or ""
    if ":::" in resource:
        service = resource.split(":::", 1)[1]
        function = _function_name(replay)
        return f"{replay.type}, {service} {function}" if function else f"{replay.type}, {service}"
    if ":function:" in resource:
        return f"{replay.type}, lambda {resource.rsplit(':function:', 1)[1]}"
    return replay.type


def _function_name(replay: Replay) -> str | None:
    names = dataflow.task_input(replay.query_language, replay.type)
    step = next((s for s in replay.steps if s.name in names), None)
    function = step.value.get("FunctionName") if step and isinstance(step.value, dict) else None
    if not isinstance(function, str):
        return None
    return function.rsplit(":function:", 1)[-1].split(":")[0]


def _cause(replay: Replay, change: FieldStep, field: str) -> str:
    step, after = change.step, change.after
    if step.name == "Result" and step.recorded:
        sent = sent_value(replay, field)
        if after.status is Status.MISSING:
            text = f'{task_label(replay)} did not hold "{field}"'
        else:
            text = f'{task_label(replay)} had "{field}": null'
        return text + (f" although its parameters passed {brief(sent, 60)}" if sent else "")
    if step.name == "Catch":
        error = replay.caught.error if replay.caught else "an error"
        return f"the state failed with {quote(error)} and a Catch replaced its output"
    expression = change.expression or step.name
    if after.status is Status.MISSING:
        return f"{expression} produced a document without {field}"
    return f"{expression} put null at {change.path}" if change.path else f"{expression} changed it"


def _carried(replay: Replay, change: FieldStep, field: str) -> str | None:
    """How the null reached the output: the expressions after the changing step."""
    if not replay.produced:
        return None
    for occurrence in find_occurrences(replay.output, field):
        if occurrence.is_set:
            continue
        origin = trace_location(replay, occurrence.path)
        if origin.step < change.index:
            continue
        carriers = [link.expression for link in reversed(origin.links)]
        if carriers:
            return f"{' and '.join(carriers)} copied it to {occurrence.path}"
        return f"it reached the output at {occurrence.path}"
    return None


def _dropped(replay: Replay, step: Step, after: Snapshot, field: str) -> str:
    null = next((o for o in after.occurrences if not o.is_set), None)
    if step.name == dataflow.CATCH:
        return "a Catch replaced the output with the error output"
    spec = dataflow.step_named(replay.query_language, replay.type, step.name)
    kind = spec.kind if spec is not None else None
    if isinstance(step.expression, Mapping):
        if null is None:
            return (
                f"{step.name} built a new document without {field} (the rest of the input was "
                "discarded)"
            )
        member = template_member(step.expression, parse_location(null.path))
        described = describe_member(step.name, member[0], member[1]) if member else step.name
        return f"{described} read the null and the rest of the input was discarded"
    if kind is Kind.RESULT and step.recorded:
        return "the task result replaced the input, and it holds no set copy"
    if kind in (Kind.PATH, Kind.MERGE):
        return f"{step.name} {compact(step.expression)} left no set copy"
    return f"{step.name} left no set copy"
