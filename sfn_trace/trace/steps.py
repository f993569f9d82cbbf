"""Which replayed step changed the tracked field's status, and the expression responsible.

The replay (:mod:`sfn_trace.asl.replay`) knows nothing of the field; this reads its steps
with the field in mind.
"""

from __future__ import annotations

from collections.abc import Mapping

from sfn_trace.asl.jsonpath import compact, parse_location
from sfn_trace.asl.templates import describe_member, template_member
from sfn_trace.model.replay import FieldStep, Replay, Step
from sfn_trace.model.snapshot import Snapshot
from sfn_trace.trace.field import FieldIndex


def field_step(replay: Replay, field: str, index: FieldIndex | None = None) -> FieldStep | None:
    """The first step after which the field's status differs from the document before it;
    None when no step changes it (or nothing was replayed). ``index``: the trace's own, which
    has seen the visit's payloads and the parts of them each step shares."""
    fields = index if index is not None and index.field == field else FieldIndex(field)
    before = fields.of(replay.input)
    for position, step in enumerate(replay.steps):
        after = fields.of(step.value)
        if after.status is not before.status:
            path = _concerned(after, before)
            return FieldStep(step, position, before, after, _responsible(step, path), path)
        before = after
    return None


def _concerned(after: Snapshot, before: Snapshot) -> str | None:
    """The occurrence that tells the change: a new null, else the first one left."""
    for occurrence in after.occurrences:
        previous = before.value_at(occurrence.path)
        if not occurrence.is_set and (previous is None or previous.is_set):
            return occurrence.path
    return after.occurrences[0].path if after.occurrences else None


def _responsible(step: Step, path: str | None) -> str | None:
    """``Parameters "k.$": "$.x"`` for the template member that produced ``path``; the whole
    step when the field went missing or the step is a plain path."""
    if step.recorded and step.name == "Result":
        return None
    if step.default:
        return f"{step.name} (default {compact(step.expression)})" if step.expression else None
    if path is not None and isinstance(step.expression, Mapping):
        member = template_member(step.expression, parse_location(path))
        if member is not None:
            return describe_member(step.name, member[0], member[1])
    if isinstance(step.expression, str):
        return f"{step.name} {compact(step.expression)}"
    return step.name
