"""``--confirm``, planning: which culprit states to send to ``states:TestState``, and the
request for each (the definition that ran, the visit's recorded input, its context object
and the variables in scope, every Task mocked with its recorded result or error), or why a
state is not sent. :mod:`sfn_trace.checks.confirm` sends them and judges the answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfn_trace.asl.context import execution_context, known, visit_context
from sfn_trace.asl.jsonpath import first_unknown
from sfn_trace.asl.maps import is_distributed, uses_s3
from sfn_trace.asl.next_state import next_states
from sfn_trace.errors import Option, word
from sfn_trace.model import jsontext
from sfn_trace.model.confirm import (
    MAX_STATES,
    MOCKED_TYPES,
    Mock,
    StateTestRequest,
    UnmockedStateError,
)
from sfn_trace.model.definition import Definition, StateDef
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.replay import Replay
from sfn_trace.model.result import TraceResult, VisitTrace
from sfn_trace.model.visits import Outcome, Visit
from sfn_trace.trace.visits import build_visits

EXPECTED_STATUS = {
    Outcome.SUCCEEDED: "SUCCEEDED",
    Outcome.CAUGHT: "CAUGHT_ERROR",
    Outcome.FAILED: "FAILED",
}
"""The TestState status that reproduces how the visit ended."""

_NOT_READ = ("ItemProcessor", "Iterator", "Branches", "Comment")
"""Members whose text is not the state's own reading: the states nested in a Map or
Parallel (mocked, they do not run) and comments."""

_CONTEXT_READ = re.compile(
    r"\$\$(?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))?"
    r"|\$states\.context(?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))?"
)
_SENT_ORDER = {
    "Execution": ("Id", "Name", "StartTime", "Input"),
    "StateMachine": ("Id", "Name"),
    "State": ("Name", "RetryCount", "EnteredTime"),
}
"""The context members sent to TestState, in the order of the requests made so far (a saved
answer is found again by its request's text); the task token is never sent (unknown)."""
_WHOLE_OBJECTS = frozenset({"State", "StateMachine", "Map"})
"""Context objects sfn-trace can give whole (every member known when any is)."""


CONFIRM = Option("confirm", "True")
"""The option the warnings of a confirmation name (:func:`~sfn_trace.errors.word`)."""


@dataclass(frozen=True)
class Target:
    """One culprit state to confirm: its visit (real values, even under ``--redact``) and the
    request to send, or why it is not sent."""

    trace: VisitTrace
    visit: Visit
    request: StateTestRequest | None
    skipped: str | None = None
    next_state: str | None = None
    """The state the visit went to next in its flow, as the history recorded it."""


def plan(result: TraceResult, data: ExecutionData) -> tuple[list[Target], list[str]]:
    """The culprit states in execution order, each with its request or why it is not sent,
    and the warnings of the choice (none to confirm, too many)."""
    traces = {trace.visit.seq: trace for trace in result.visits}
    chosen: list[VisitTrace] = []
    child: dict[int, str] = {}
    for finding in (result.first_null, result.lost_at):
        if finding is not None:
            chosen.append(finding.trace)
            if finding.child is not None:
                child[finding.trace.visit.seq] = (
                    f"the field went null inside {finding.child.ref.label}, a Distributed Map "
                    "child execution: its states are not sent"
                )
    chosen += [traces[hop.seq] for hop in reversed(result.chain) if hop.seq in traces]
    distinct: list[VisitTrace] = []
    for trace in chosen:
        if all(trace.visit.state != kept.visit.state for kept in distinct):
            distinct.append(trace)
    warnings = []
    if not distinct:
        warnings.append(
            word(CONFIRM, ": no culprit state to confirm (the field went null nowhere)")
        )
    if len(distinct) > MAX_STATES:
        left = [trace.visit.state for trace in distinct[MAX_STATES:]]
        warnings.append(
            word(
                CONFIRM,
                f": {len(distinct)} culprit states, only {MAX_STATES} sent to TestState "
                f"(not: {', '.join(left)})",
            )
        )
        distinct = distinct[:MAX_STATES]
    if not distinct:
        return [], warnings
    definition = data.definition
    if definition is None:
        warnings.append(word(CONFIRM, ": no definition to test the states with"))
        return [
            Target(t, t.visit, None, "no definition: TestState needs the definition that ran")
            for t in sorted(distinct, key=lambda t: t.visit.seq)
        ], warnings
    context = _Context(result, data)
    targets = []
    for trace in sorted(distinct, key=lambda t: t.visit.seq):
        visit = context.visits.get(trace.visit.seq, trace.visit)
        reason = child.get(visit.seq)
        request = None
        if reason is None:
            request, reason = _request(trace, visit, definition, context)
        targets.append(Target(trace, visit, request, reason, context.next_states.get(visit.seq)))
    return targets, warnings


def _request(
    trace: VisitTrace, visit: Visit, definition: Definition, context: _Context
) -> tuple[StateTestRequest | None, str | None]:
    """The TestState request for one visit, or why none can be sent faithfully."""
    state = definition.state(visit.state)
    if state is None or state.type != visit.type:
        return None, f"the definition has no {visit.type} state named {visit.state}"
    if visit.outcome not in EXPECTED_STATUS:
        return None, f"the visit did not end ({visit.outcome.value}): no output to compare with"
    if state.type == "Wait":
        return None, "a Wait state is not sent (TestState may wait for real)"
    if state.type == "Map" and (is_distributed(state.body) or uses_s3(state.body)):
        return None, "a Distributed Map (child executions, S3 items or results) is not sent"
    problem = _payload_problem(visit.input, visit.input_included, "input")
    if problem is not None:
        return None, problem
    if visit.outcome is not Outcome.FAILED:
        problem = _payload_problem(visit.output, visit.output_included, "output")
        if problem is not None:
            return None, problem
    replay = trace.replay
    variables: str | None = None
    if replay is not None and replay.variables:
        unknown = first_unknown(dict(replay.variables))
        if unknown is not None:
            return None, f"the variables in scope are not all recorded ({unknown})"
        variables = jsontext.dumps(dict(replay.variables), ensure_ascii=False)
    mock: Mock | None = None
    retries: int | None = None
    if state.type in MOCKED_TYPES:
        mock, problem = _mock(state, visit, replay)
        if mock is None:
            return None, problem
        if mock.error is not None and visit.attempts:
            retries = len(visit.attempts) - 1
    reads = _context_reads(state)
    context_text: str | None = None
    if reads:
        if mock is None:
            return None, (
                f"it reads the context object ({reads[0]}), which TestState takes only with a "
                "mock (Task, Map, Parallel)"
            )
        document, missing = context.of(visit, state, reads)
        if missing is not None:
            return None, f"it reads {missing}, which the history does not hold"
        context_text = jsontext.dumps(document, ensure_ascii=False)
    elif mock is not None:
        document, _ = context.of(visit, state, ())
        context_text = jsontext.dumps(document, ensure_ascii=False)
    assert visit.input is not None  # _payload_problem said so
    try:
        return (
            StateTestRequest(
                definition=definition.text,
                state_name=visit.state,
                input=visit.input.text,
                mock=mock,
                context=context_text,
                variables=variables,
                retrier_retry_count=retries,
            ),
            None,
        )
    except UnmockedStateError as refused:
        return None, f"not sent: {refused}"


def _payload_problem(payload: Payload | None, included: bool, what: str) -> str | None:
    if payload is None:
        if not included:
            return f"the visit's {what} was not recorded (execution data not included)"
        return f"the visit has no recorded {what}"
    if payload.truncated:
        return f"the visit's {what} is truncated in the history"
    if payload.value is NOT_JSON:
        return f"the visit's {what} cannot be read ({payload.unreadable})"
    return None


def _mock(state: StateDef, visit: Visit, replay: Replay | None) -> tuple[Mock | None, str | None]:
    """What the state returns instead of running: its last attempt's recorded result or
    error (a Task), the outputs of its iterations or branches (a Map, a Parallel)."""
    last = visit.attempts[-1] if visit.attempts else None
    if state.type == "Task":
        if last is not None and last.result is not None and not last.failed:
            if last.result.truncated:
                return None, "the task's recorded result is truncated: it cannot be mocked"
            return Mock(result=last.result.text), None
        error = (last.error if last is not None else None) or visit.error
        if error is not None:
            cause = (last.cause if last is not None and last.error else None) or visit.cause
            return Mock(error=error, cause=cause), None
        return None, "the task's last attempt has no recorded result or error to mock"
    if visit.error is not None and visit.outcome is not Outcome.SUCCEEDED:
        return Mock(error=visit.error, cause=visit.cause), None
    step = replay.step("Result") if replay is not None else None
    if step is None or first_unknown(step.value) is not None:
        what = "iterations" if state.type == "Map" else "branches"
        why = f" ({replay.reason})" if replay is not None and replay.reason else ""
        return None, f"the outputs of its {what} could not be assembled to mock it{why}"
    return Mock(result=jsontext.dumps(step.value, ensure_ascii=False)), None


def _context_reads(state: StateDef) -> list[str]:
    """The context paths the state itself reads (``$$.Execution.Name``), not those of the
    states nested in it; a Map's own ``$$.Map.Item`` reads are AWS's to fill."""
    body = {k: v for k, v in state.body.items() if k not in _NOT_READ}
    text = jsontext.dumps(body, ensure_ascii=False)
    reads = []
    for match in _CONTEXT_READ.finditer(text):
        parts = [p for p in match.groups() if p]
        if state.type == "Map" and parts[:1] == ["Map"]:
            continue
        path = "$$" + "".join(f".{p}" for p in parts)
        if path not in reads:
            reads.append(path)
    return reads


class _Context:
    """The context object of each visit, from what the history and DescribeExecution hold
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html)."""

    def __init__(self, result: TraceResult, data: ExecutionData) -> None:
        events = tuple(dict.fromkeys(data.events))  # identical copies read once, as analyze
        tree = build_visits(events, data.definition)
        self.visits = {visit.seq: visit for visit in tree.visits}
        self.replays = {t.visit.seq: t.replay for t in result.visits}
        self.parents: dict[int, tuple[Visit, int | None]] = {}
        self.next_states = next_states(tree)
        for visit in tree.visits:
            for flow in visit.children:
                for inner in flow.visits:
                    self.parents[inner.seq] = (visit, flow.index)
        execution_input = tree.execution_input
        self.execution = execution_context(execution_input, data.info, role_arn=tree.role_arn)

    def of(
        self, visit: Visit, state: StateDef, reads: Sequence[str]
    ) -> tuple[dict[str, Any], str | None]:
        """The context to send, and the first path ``reads`` names that it lacks."""
        whole = known(visit_context(visit, self.execution, state.body.get("Resource")))
        if not any(r.startswith("$$.Execution.Input") for r in reads):
            whole.get("Execution", {}).pop("Input", None)
        document = _in_order(whole)
        item = self._map_item(visit)
        if item is not None:
            document["Map"] = {"Item": item}
        for path in reads:
            parts = path.split(".")[1:]
            if not parts or (len(parts) == 1 and parts[0] not in _WHOLE_OBJECTS):
                return document, f"the whole context object ({path})"
            node: Any = document
            for part in parts:
                if not isinstance(node, Mapping) or part not in node:
                    return document, path
                node = node[part]
        return document, None

    def _map_item(self, visit: Visit) -> dict[str, Any] | None:
        """``$$.Map.Item`` of the innermost inline Map iteration holding the visit."""
        seq = visit.seq
        while seq in self.parents:
            parent, index = self.parents[seq]
            if parent.type == "Map":
                if index is None:
                    return None
                item: dict[str, Any] = {"Index": index}
                items = self._items(parent)
                if items is not None and 0 <= index < len(items):
                    item["Value"] = items[index]
                return item
            seq = parent.seq
        return None

    def _items(self, map_visit: Visit) -> list[Any] | None:
        replay = self.replays.get(map_visit.seq)
        if replay is None:
            return None
        for name in ("ItemsPath", "Items"):
            step = replay.step(name)
            if step is not None and isinstance(step.value, list):
                return step.value
        return replay.input if isinstance(replay.input, list) else None


def _in_order(context: Mapping[str, Any]) -> dict[str, Any]:
    """The known members of ``context`` that are sent, in :data:`_SENT_ORDER`."""
    document: dict[str, Any] = {}
    for name, members in _SENT_ORDER.items():
        part = context.get(name, {})
        kept = {member: part[member] for member in members if member in part}
        if kept:
            document[name] = kept
    return document
