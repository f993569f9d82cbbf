"""Replay each visit's data flow from its recorded input, step by step, and check it.

For every visit the definition's data-flow steps are recomputed from what the history
recorded, in AWS's order
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html):

- JSONPath states: ``InputPath`` → ``Parameters``/``ItemSelector`` (with the context object
  ``$$`` and the variables in scope) → the *recorded* raw result (a Task's result, a Pass
  state's ``Result``, the array of a Map's iteration or a Parallel's branch outputs) →
  ``ResultSelector`` → ``ResultPath`` (into the raw input) → ``OutputPath``; Choice, Wait
  and Succeed only have ``InputPath``/``OutputPath``.
- JSONata states (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html):
  ``Arguments`` → result → ``Output``, and ``Assign``, with ``$states.input``,
  ``$states.result``, ``$states.errorOutput`` and ``$states.context``.
- A caught error: ``{"Error", "Cause"}`` placed by the catcher's ``ResultPath`` (or its
  ``Output``), https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html.

Tasks are never re-run: their results, like the errors of failed tasks and the outputs of Map
iterations and Parallel branches, come from the history. What the replay computes is compared
with what AWS recorded (the output or the error, the assigned variables, a Task's parameters
and each iteration's and branch's input): ``match`` means the definition in hand explains the
visit exactly, so its steps can be trusted to say where a field went; ``mismatch`` means the
replay ran and differs; ``not_replayed`` means it could not run. Each of the last two says
whose fault it is (:class:`~sfn_trace.model.replay.Fault`): the definition's, only with
evidence from the history that it is not the one that ran (a state it lacks, or of another
type); the history's, when it lacks what the replay needs (S3 items, a Distributed Map's
children, a random number AWS drew, a context value, a cut payload, a visit that never
finished); or sfn-trace's own (a feature it does not evaluate, a step it evaluates otherwise
than AWS, or one of its budgets, :mod:`sfn_trace.asl.budgets`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.budgets import OverBudget
from sfn_trace.asl.context import execution_context, visit_context
from sfn_trace.asl.dataflow import DataStep, Kind, Reads, catch_step, choice_source, steps_of
from sfn_trace.asl.intrinsics import evaluate_intrinsic, is_intrinsic, java_string
from sfn_trace.asl.jsonpath import (
    PathMissing,
    Roots,
    Segment,
    StatesError,
    StatesRuntime,
    Unreplayable,
    Unsupported,
    apply_result_path,
    compact,
    first_unknown,
    format_path,
    is_path,
    is_unknown,
    read,
    read_parameter,
    select,
    unknown,
    value_at,
)
from sfn_trace.asl.maps import is_distributed
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import NOT_JSON, EventKind, Payload
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.replay import FAULT_PREFIX, Failure, Fault, Replay, ReplayStatus, Step
from sfn_trace.model.visits import Flow, FlowKind, Outcome, Visit, VisitTree

__all__ = [
    "EarlyReplay",
    "EarlyReplays",
    "StatesError",
    "StatesRuntime",
    "execution_context",
    "replay_visit",
    "replay_visits",
    "same_json",
    "variables_in_scope",
]


def replay_visits(
    tree: VisitTree,
    definition: Definition,
    execution: ExecutionInfo | None = None,
    early: EarlyReplays | None = None,
) -> dict[int, Replay]:
    """Replay every visit of ``tree`` against ``definition``, keyed by visit ``seq``.

    ``execution`` fills the context object (``$$.Execution.Id``, ``$$.StateMachine.Name``...);
    without it, paths that read those values make a visit unreplayable. ``early``: visits
    replayed while the history was still arriving (:class:`EarlyReplays`); each is used only
    where the tree shows exactly what it was replayed from.
    """
    scopes = _variable_scopes(tree)
    next_state = _next_states(tree)
    context = execution_context(tree.execution_input, execution)
    known = early.usable(definition, context) if early is not None else {}
    replays = {}
    with jsonata_eval.execution_budget():  # one hostile expression in a loop pays once
        for visit in tree.visits:
            seq = visit.seq
            variables, after = scopes.get(seq, _NO_VARIABLES), next_state.get(seq)
            found = known.get(seq)
            if found is not None and found.fits(visit, variables, after):
                replays[seq] = found.replay
            else:
                replays[seq] = replay_visit(visit, definition, context, variables, after)
    return _attributed(replays)


def replay_visit(
    visit: Visit,
    definition: Definition,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    next_state: str | None,
) -> Replay:
    """One visit replayed, before :func:`replay_visits` attributes the faults. A pure
    function of its arguments: the visit, the definition, the execution's context object
    (:func:`execution_context`), the variables in scope at its entry and the state it went
    to next in its flow (None: none)."""
    run = _Run(visit, definition, context, variables, next_state)
    run.execute()
    return run.result()


_NO_VARIABLES: Mapping[str, Any] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class EarlyReplay:
    """A visit replayed from what the history held when it was replayed."""

    visit: Visit
    variables: Mapping[str, Any]
    next_state: str | None
    replay: Replay

    def fits(self, visit: Visit, variables: Mapping[str, Any], next_state: str | None) -> bool:
        """Whether the final tree shows the same visit, variables and next state: then, the
        replay being a pure function of them, it is the replay of ``visit``."""
        try:
            return (
                next_state == self.next_state
                and same_values(variables, self.variables)
                and visit == self.visit
            )
        except RecursionError:  # == on documents nested deeper than it goes: replay again
            return False


@dataclasses.dataclass(frozen=True, slots=True)
class EarlyReplays:
    """Visits replayed while the history was still arriving (a live trace replays each
    visit as soon as its events are complete), with what they were replayed against."""

    definition: Definition
    context: Mapping[str, Any]
    replays: Mapping[int, EarlyReplay]

    def usable(
        self, definition: Definition, context: Mapping[str, Any]
    ) -> Mapping[int, EarlyReplay]:
        """The early replays, if they were made with this definition and context object."""
        if definition is not self.definition or not same_values(context, self.context):
            return {}
        return self.replays


def same_values(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """The same names with the same values: the same objects (parsed once, from the same
    payloads) or equal context values (strings, unknown placeholders), nested mappings
    compared the same way. Stricter than JSON equality (``1`` and ``1.0`` differ), as a
    replay may tell them apart."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if a.keys() != b.keys():
            return False
        for key, x in a.items():
            y = b[key]
            if x is y:
                continue
            if type(x) is not type(y):
                return False
            if type(x) is dict:
                stack.append((x, y))
            elif not (type(x) is str or is_unknown(x)) or x != y:
                return False
    return True


def _attributed(replays: dict[int, Replay]) -> dict[int, Replay]:
    """Each replay that is not a match, with its fault and the prefix of its reason
    (:data:`FAULT_PREFIX`).

    A replay that ran and differs from the recording is the definition's fault only with
    evidence that the definition is not the one that ran: the history shows a state it lacks,
    or a state of another type (then every such difference is, as it may come from the same
    drift). Without evidence, it is sfn-trace's: a forensic tool never blames the user's
    deployment for its own gap.
    """
    evidence = sorted({r.reason or "" for r in replays.values() if r.fault is Fault.DEFINITION})
    attributed = {}
    for seq, replay in replays.items():
        fault = replay.fault
        detail = replay.reason or ""
        if replay.status is ReplayStatus.MATCH:
            attributed[seq] = replay
            continue
        if fault is None:  # a difference: whose, the evidence says
            fault = Fault.DEFINITION if evidence else Fault.SFN_TRACE
            if evidence:
                shown = "; ".join(evidence[:2]) + (
                    f"; +{len(evidence) - 2} more" if len(evidence) > 2 else ""
                )
                detail += f" (the history shows the definition is not the one that ran: {shown})"
        attributed[seq] = dataclasses.replace(
            replay, fault=fault, reason=f"{FAULT_PREFIX[fault]}: {detail}"
        )
    return attributed


# --- comparing JSON -------------------------------------------------------------------------


def same_json(left: Any, right: Any) -> bool:
    """Equal as parsed JSON: ``1 == 1.0``, but ``true`` is not ``1``; member order ignored.

    Python's ``==`` (fast, in C) is JSON equality but for one thing: ``True == 1``. So ``==``
    decides, and an iterative walk (no recursion, whatever the depth) looks only for a
    boolean facing a number. ``==`` itself recurses (in C): for documents nested deeper than
    it goes, the walk compares everything.
    """
    if left is right:
        return True
    try:
        if left != right:
            # NaN is never equal to itself: a payload's NaN token read twice differs for ==
            return _has_nan(left) and _same_json_deep(left, right)
    except RecursionError:
        return _same_json_deep(left, right)
    if type(left) is not dict and type(left) is not list:
        return (type(left) is bool) is (type(right) is bool)
    # Equal for ==: the same members and lengths. Only containers are stacked; a subtree
    # both sides share (the same object) is equal to itself.
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if type(a) is dict:
            pairs: Iterable[tuple[Any, Any]] = ((value, b[key]) for key, value in a.items())
        else:
            pairs = zip(a, b, strict=True)
        for value, other in pairs:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append((value, other))
            elif (kind is bool) is not (type(other) is bool):
                return False
    return True


def _same_json_deep(left: Any, right: Any) -> bool:
    """:func:`same_json` without ``==`` on containers: an explicit stack, any depth."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                return False
            stack.extend((value, b[key]) for key, value in a.items())
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif not _same_scalar(a, b):
            return False
    return True


def _same_scalar(a: Any, b: Any) -> bool:
    """Two values that are not both objects or both arrays, as JSON."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN and NaN: the same JSON token
    return (type(a) is bool) is (type(b) is bool) and (a is b or a == b)


def _has_nan(document: Any) -> bool:
    """Whether a float NaN sits anywhere in ``document`` (an explicit stack)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float) and node != node:
            return True
    return False


def first_difference(left: Any, right: Any, at: tuple[Segment, ...] = ()) -> str:
    """Where two JSON documents first differ, as a path (for mismatch reasons): down the
    first differing member of each object (its members, then the other's) or of each array
    of the same length, to where the two differ as a whole.

    A loop, not recursion: documents nest as deep as their writer chose."""
    location = list(at)
    while True:
        if isinstance(left, dict) and isinstance(right, dict):
            key = next(
                (
                    k
                    for k in [*left, *(k for k in right if k not in left)]
                    if k not in left or k not in right or not same_json(left[k], right[k])
                ),
                None,
            )
            if key is not None and (key not in left or key not in right):
                return format_path((*location, key))
            if key is not None:
                left, right = left[key], right[key]
                location.append(key)
                continue
        if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            index = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(left, right, strict=True))
                    if not same_json(a, b)
                ),
                None,
            )
            if index is not None:
                left, right = left[index], right[index]
                location.append(index)
                continue
        return format_path(tuple(location))


# --- the engine -----------------------------------------------------------------------------


class _Verdict(Exception):
    """Ends a replay early with a status, who is at fault (None: a difference whose fault
    :func:`_attributed` decides from the evidence) and what happened."""

    def __init__(self, status: ReplayStatus, fault: Fault | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.fault = fault
        self.detail = detail


def _drift(detail: str) -> _Verdict:
    """The history shows the definition is not the one that ran."""
    return _Verdict(ReplayStatus.MISMATCH, Fault.DEFINITION, detail)


def _differs(detail: str) -> _Verdict:
    """The replay ran and differs from the recording (``detail`` names the step and the
    first JSON path where they differ)."""
    return _Verdict(ReplayStatus.MISMATCH, None, detail)


def _lacks(detail: str) -> _Verdict:
    """The history does not hold what the replay needs."""
    return _Verdict(ReplayStatus.NOT_REPLAYED, Fault.HISTORY, detail)


_UNFINISHED = {
    Outcome.ABORTED: "the visit was aborted: there is no output to compare",
    Outcome.RUNNING: "the visit has no end in the history: there is no output to compare",
}


def _variable_scopes(tree: VisitTree) -> dict[int, Mapping[str, Any]]:
    """Variables in scope at each visit's entry: those assigned by earlier visits of its flow
    and of the flows around it. Branches and iterations read outer variables, but their own
    assignments do not leak out
    (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html)."""
    scopes: dict[int, Mapping[str, Any]] = {}
    # An explicit stack of flows with the variables at their start: the history chooses how
    # deep flows nest.
    stack: list[tuple[Flow, Mapping[str, Any]]] = [(tree.root, {})]
    while stack:
        flow, env = stack.pop()
        for visit in flow.visits:
            scopes[visit.seq] = env
            stack.extend((child, env) for child in visit.children)
            if visit.variables:
                env = {**env, **_decode_variables(visit.variables, visit.variables_truncated)}
    return scopes


def _decode_variables(variables: Sequence[tuple[str, Payload]], truncated: bool) -> dict[str, Any]:
    return {name: _variable_value(name, payload, truncated) for name, payload in variables}


def variables_in_scope(assigned: Mapping[str, tuple[Payload, bool]]) -> dict[str, Any]:
    """The variables a replay reads, from those assigned before a visit as the history
    recorded them (:class:`sfn_trace.trace.visits.Settled`)."""
    return {
        name: _variable_value(name, payload, truncated)
        for name, (payload, truncated) in assigned.items()
    }


def _variable_value(name: str, payload: Payload, truncated: bool) -> Any:
    value = payload.value
    if truncated or payload.truncated or value is NOT_JSON:
        return unknown(f"variable ${name}")
    return value


def _next_states(tree: VisitTree) -> dict[int, str]:
    """The state each visit went to in its flow (to tell which Choice rule matched)."""
    found: dict[int, str] = {}
    stack = [tree.root]  # not recursion: the history chooses how deep flows nest
    while stack:
        flow = stack.pop()
        for visit, after in zip(flow.visits, flow.visits[1:], strict=False):
            found[visit.seq] = after.state
        stack.extend(child for visit in flow.visits for child in visit.children)
    return found


class _Run:
    """The replay of one visit: runs the state's steps, then judges the outcome."""

    def __init__(
        self,
        visit: Visit,
        definition: Definition,
        execution_context: Mapping[str, Any],
        variables: Mapping[str, Any],
        next_state: str | None,
    ) -> None:
        self.visit = visit
        self.execution_context = execution_context
        self.next_state = next_state
        state = definition.state(visit.state)
        self.state = state
        self.body: Mapping[str, Any] = state.body if state else {}
        self.steps: list[Step] = []
        self.failure: Failure | None = None
        self.caught: Failure | None = None
        self.assigned: Mapping[str, Any] | None = None
        self.variables = variables
        self.input: Any = None
        self.status = ReplayStatus.NOT_REPLAYED
        self.fault: Fault | None = None
        self.reason: str | None = None
        self.prefix = (
            f"An error occurred while executing the state '{visit.state}' "
            f"(entered at the event id #{visit.entered.id}). "
        )
        self.context = self._context()

    def _context(self) -> dict[str, Any]:
        return visit_context(self.visit, self.execution_context, _resource(self.body, self.visit))

    def result(self) -> Replay:
        visit = self.visit
        return Replay(
            seq=visit.seq,
            state=visit.state,
            type=visit.type,
            query_language=self.state.query_language if self.state else "JSONPath",
            input=self.input,
            steps=tuple(self.steps),
            status=self.status,
            reason=self.reason,
            fault=self.fault,
            failure=self.failure,
            caught=self.caught,
            variables=self.variables,
            assigned=self.assigned,
            resource=_resource(self.body, visit),
        )

    # -- running

    def execute(self) -> None:
        try:
            self._run_steps()
            self.status = self._judge()
        except _Verdict as verdict:
            self.status, self.fault, self.reason = verdict.status, verdict.fault, verdict.detail
        except Unreplayable as gap:
            self.status, self.fault, self.reason = (
                ReplayStatus.NOT_REPLAYED,
                Fault.HISTORY,
                gap.reason,
            )
        except Unsupported as gap:
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = f"it does not evaluate {gap.feature}"
        except OverBudget as spent:  # sfn-trace's own bound (asl/budgets.py), not AWS's
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = spent.reason
        except RecursionError:
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = "a document is nested too deeply to replay"

    def _run_steps(self) -> None:
        visit, state = self.visit, self.state
        if state is None:
            raise _drift(f"the definition has no state named {visit.state}")
        if state.type != visit.type:
            raise _drift(f"{visit.state} is a {state.type} in the definition, a {visit.type} ran")
        payload = visit.input
        if payload is None or payload.truncated or payload.value is NOT_JSON:
            raise _lacks("the visit's input is not recorded")
        self.input = payload.value
        try:
            _Steps(self).execute()
        except StatesError as error:
            self.failure = Failure(error.error, self._cause(error))

    def _cause(self, error: StatesError) -> str:
        """AWS prefixes the cause of ``States.Runtime`` and evaluation errors with the state."""
        if error.error == "States.Runtime" and not error.cause.startswith("An error occurred"):
            return self.prefix + error.cause
        return error.cause

    def add(self, name: str, expression: Any, value: Any, **flags: bool) -> Any:
        self.steps.append(Step(name, expression, value, **flags))
        return value

    def roots(self, document: Any, context: Any = None) -> Roots:
        return Roots(document, self.context if context is None else context, self.variables)

    # -- judging

    def _judge(self) -> ReplayStatus:
        visit = self.visit
        if not visit.exited and visit.outcome in _UNFINISHED:
            raise _lacks(_UNFINISHED[visit.outcome])
        if self.failure is not None:
            self._judge_failure(self.failure)
        else:
            self._judge_output()
        self._judge_assignments()
        return ReplayStatus.MATCH

    def _judge_failure(self, failure: Failure) -> None:
        visit = self.visit
        if visit.exited or visit.outcome is not Outcome.FAILED:
            raise _differs(
                f"the replay fails with {failure.error} ({failure.cause}) {self._where()}, "
                f"but the visit {visit.outcome.value}"
            )
        if failure.error != (visit.error or ""):
            raise _differs(
                f"the replay fails with {failure.error} {self._where()}, the visit failed "
                f"with {visit.error}"
            )
        # An empty replayed cause is one whose text AWS's documentation does not give.
        if visit.cause and failure.cause and not _same_cause(failure.cause, visit.cause):
            raise _differs(
                f"the replay fails with {failure.error} as recorded, but with the cause "
                f"{failure.cause!r}"
            )

    def _where(self) -> str:
        """The step the replay was at when it failed."""
        return f"after {self.steps[-1].name}" if self.steps else "before its first step"

    def _judge_output(self) -> None:
        visit = self.visit
        if not visit.exited:
            raise _differs(
                f"the replay produced an output, but the visit failed with {visit.error}"
            )
        recorded = visit.output
        if recorded is None or recorded.truncated or recorded.value is NOT_JSON:
            raise _lacks("the visit's output is not recorded")
        replayed = self.steps[-1].value
        if not same_json(replayed, recorded.value):
            where = first_difference(replayed, recorded.value)
            raise _differs(
                f"the replayed output (after {self.steps[-1].name}) differs from the recorded "
                f"one at {where}"
            )

    def _judge_assignments(self) -> None:
        recorded = self.visit.variables
        if self.assigned is None or recorded is None:
            return
        values = _decode_variables(recorded, self.visit.variables_truncated)
        if first_unknown(values) is not None:
            return
        names = sorted(values.keys() | self.assigned.keys())
        differing = [
            n
            for n in names
            if n not in values
            or n not in self.assigned
            or not same_json(values[n], self.assigned[n])
        ]
        if differing:
            raise _differs(
                f"Assign sets {', '.join('$' + n for n in differing)} differently than recorded"
            )

    # -- what the history holds

    def recorded_parameters(self) -> Any:
        recorded = self.visit.parameters
        if recorded is None or recorded.truncated or recorded.value is NOT_JSON:
            return _MISSING
        return recorded.value

    def sent_parameters(self, name: str, template: Any, replayed: Any) -> Any:
        """Add a Task's Parameters/Arguments step, checked against what the task was sent.

        Only the members the template *computes* (``.$`` paths and intrinsics, ``{% %}``
        expressions) must agree: integrations add members (ECS adds ``StartedBy``) and a
        deployment rewrites literals (``${AWS::Region}``), neither of which is data flow.
        When the documents differ only there, the step shows what was really sent.
        """
        recorded = self.recorded_parameters()
        if recorded is _MISSING or same_json(replayed, recorded):
            return self.add(name, template, replayed)
        for location in computed_locations(template):
            here, there = (
                value_at(replayed, location, _MISSING),
                value_at(recorded, location, _MISSING),
            )
            if there is _MISSING or not same_json(here, there):
                raise _differs(
                    f"the replayed {name} differ from the recorded parameters at "
                    f"{format_path(location)}"
                )
        return self.add(name, template, recorded, recorded=True)

    def task_result(self) -> Any:
        attempt = self.visit.attempts[-1] if self.visit.attempts else None
        if attempt is None or attempt.end is None:
            raise _lacks(_UNFINISHED.get(self.visit.outcome, "the task has no result"))
        if attempt.result is None or attempt.result.truncated or attempt.result.value is NOT_JSON:
            raise _lacks("the task result is not recorded")
        return attempt.result.value

    def failed(self) -> bool:
        """Whether the task (or an iteration or branch of a Map/Parallel) failed: then only a
        Catch can give the visit an output."""
        visit = self.visit
        if visit.type == "Task" and visit.attempts:
            return visit.attempts[-1].failed
        return visit.outcome in (Outcome.CAUGHT, Outcome.FAILED) and visit.error is not None

    def flows(self, kind: FlowKind) -> list[Flow]:
        """The iterations or branches of the last (re)try of a Map or Parallel visit."""
        visit = self.visit
        epoch = visit.attempts[-1].start.id if visit.attempts else visit.entered.id
        current = [
            f for f in visit.children if f.kind is kind and (f.start is None or f.start.id >= epoch)
        ]
        return sorted(current, key=lambda f: f.index or 0)

    # -- errors

    def catcher(self, error: str) -> Mapping[str, Any] | None:
        for catcher in self.body.get("Catch") or ():
            if not isinstance(catcher, Mapping):
                continue
            names = catcher.get("ErrorEquals")
            if isinstance(names, list) and error_matches(error, [str(n) for n in names]):
                return catcher
        return None

    def error_output(self) -> dict[str, Any]:
        """``{"Error", "Cause"}`` of the event that failed the visit: null members when that
        event has neither, an empty Cause when it has only an error (as AWS recorded)."""
        raw = _failure_event(self.visit)
        if raw is None:
            return {"Error": self.visit.error, "Cause": self.visit.cause}
        error, cause = raw
        if error is None and cause is None:
            return {"Error": None, "Cause": None}
        return {"Error": error, "Cause": "" if cause is None else cause}


_MISSING = object()


class _Documents:
    """The documents of one visit's data flow as its steps make them."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.effective = raw
        self.current = raw
        self.items: list[Any] = []
        self.selected: Any = _MISSING


class _Stop(Exception):
    """A Catch took over: the remaining steps do not run."""


class _Steps:
    """Runs one visit's data flow as the table (:mod:`sfn_trace.asl.dataflow`) lists the
    steps of its state type; the query language decides how each step is written."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.body = run.body
        self.type = run.visit.type
        self.jsonata = bool(run.state and run.state.query_language == "JSONata")
        self.choice_source: Mapping[str, Any] = run.body
        """Where a Choice takes its Output and Assign from (:func:`choice_source`)."""

    def execute(self) -> None:
        if self.type == "Fail":
            self.fail()
            return
        steps = steps_of("JSONata" if self.jsonata else "JSONPath", self.type)
        if not steps:
            raise Unsupported(f"state type {self.type}")
        documents = _Documents(self.run.input)
        if self.jsonata:
            self.entered(documents)
        try:
            for step in steps:
                _STEP_HANDLERS[step.kind](self, step, documents)
        except _Stop:
            return

    # -- checks that come with a state type, before its steps read the effective input

    def entered(self, documents: _Documents) -> None:
        """What a state checks once its effective input is known (AWS fails the state
        before it goes on)."""
        run, body, effective = self.run, self.body, documents.effective
        if self.type == "Map":
            self.map_settings(documents, BEFORE_ITEMS)
            if "ItemReader" in body:
                self.map_settings(documents, AFTER_ITEMS)  # the items are in S3: check them now
                raise Unreplayable("the Map reads its items with an ItemReader (from S3)")
        elif self.type == "Wait":
            if self.jsonata:
                for name in ("Seconds", "Timestamp"):
                    if name in body:
                        value = self.render(name, body[name], self.states(documents))
                        if name == "Timestamp" and jsonata_eval.is_expression(body[name]):
                            _check_wait_timestamp(value, run.prefix)
            else:
                _check_wait(body, run.roots(effective))
        if self.type == "Choice":
            rule = _matched_rule(run, effective if not self.jsonata else run.input)
            self.choice_source = choice_source(body, rule)

    def map_settings(self, documents: _Documents, settings: Sequence[_MapSetting]) -> None:
        """A Map's run-time settings (``MaxConcurrency``, ``ToleratedFailure*``, the item
        reader's ``MaxItems``): their ``*Path`` forms (JSONPath, over the effective input and
        the variables) or their JSONata expressions, which AWS evaluates and checks."""
        run, body = self.run, self.body
        reader = body.get("ItemReader")
        config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
        for setting in settings:
            holder = config if setting is MAX_ITEMS else body
            if not isinstance(holder, Mapping):
                continue
            if self.jsonata:
                expression = holder.get(setting.name)
                if jsonata_eval.is_expression(expression):
                    # AWS names the field in its causes; where MaxItems sits is a guess
                    where = "ItemReader/ReaderConfig/MaxItems" if setting is MAX_ITEMS else ""
                    value = self.render(where or setting.name, expression, self.states(documents))
                    _check_map_expression(setting, value)
            elif isinstance(holder.get(setting.name + "Path"), str):
                _check_map_path(
                    setting,
                    holder[setting.name + "Path"],
                    run.roots(documents.effective),
                    lambda error: run.catcher(error) is not None,
                )

    # -- the kinds of step

    def path(self, step: DataStep, documents: _Documents) -> None:
        run, name = self.run, step.name
        document = documents.current
        if name not in self.body:
            value = run.add(name, "$", document, default=True)
        else:
            expression = self.body[name]
            value = run.add(name, expression, select(expression, run.roots(document)))
        if name == "InputPath":
            documents.effective = documents.current = value
            self.entered(documents)
        elif name == "ItemsPath":
            if not isinstance(value, list):
                raise StatesRuntime(f"Map state input must be an array but was: {compact(value)}")
            documents.items = value
            self.before_items(documents)
        else:
            documents.current = value

    def template(self, step: DataStep, documents: _Documents) -> None:
        name = step.name
        if name == "Output":
            self.output(documents)
            return
        if name == "ResultSelector" and self.type == "Pass":
            return
        if name not in self.body:
            if name != "ResultSelector":
                documents.current = documents.effective
            return
        template = self.body[name]
        if self.jsonata:
            value = self.render(name, template, self.states(documents))
        else:
            reads = documents.current if name == "ResultSelector" else documents.effective
            value = render_template(template, self.run.roots(reads))
        documents.current = self.run.add(name, template, value)
        if name == "ResultSelector":
            documents.selected = documents.current

    def task_input(self, step: DataStep, documents: _Documents) -> None:
        run, body, name = self.run, self.body, step.name
        if name not in body:
            return
        try:
            if self.jsonata:
                replayed = self.render(name, body[name], self.states(documents))
            else:
                replayed = render_template(body[name], run.roots(documents.effective))
        except Unreplayable:
            recorded = run.recorded_parameters()
            if recorded is _MISSING:
                raise
            run.add(name, body[name], recorded, recorded=True)
            return
        run.sent_parameters(name, body[name], replayed)

    def items(self, step: DataStep, documents: _Documents) -> None:
        run, body = self.run, self.body
        if "Items" not in body:
            if not isinstance(documents.effective, list):
                raise StatesError(
                    jsonata_eval.QUERY_EVALUATION_ERROR,
                    f"{run.prefix}Map state input must be an array but was: "
                    f"{compact(documents.effective)}",
                )
            documents.items = documents.effective
            self.before_items(documents)
            return
        items = run.add(
            "Items", body["Items"], self.render("Items", body["Items"], self.states(documents))
        )
        if not isinstance(items, list):
            text = _expression_text(body["Items"])
            raise StatesError(
                jsonata_eval.QUERY_EVALUATION_ERROR,
                f"{run.prefix}The JSONata expression '{text}' specified for the field 'Items' "
                "returned an unexpected result type. Expected 'array', but was "
                f"'{jsonata_eval.type_name(items)}' for value: {compact(items)}",
            )
        documents.items = items
        self.before_items(documents)

    def before_items(self, documents: _Documents) -> None:
        self.map_settings(documents, AFTER_ITEMS)
        if "ItemBatcher" in self.body:
            raise Unsupported("Map ItemBatcher")

    def item_template(self, step: DataStep, documents: _Documents) -> None:
        run = self.run
        name = next((n for n in step.names if n in self.body), None)
        if name is None:
            documents.current = documents.items
            return
        template = self.body[name]
        selected = []
        for index, item in enumerate(documents.items):
            context = _item_context(run, index, item)
            if self.jsonata:
                value = self.render(
                    name, template, {"input": documents.effective, "context": context}
                )
            else:
                value = render_template(template, run.roots(documents.effective, context))
            selected.append(value)
        documents.current = list(run.add(name, template, selected))

    def result(self, step: DataStep, documents: _Documents) -> None:
        run = self.run
        if self.type == "Map":
            self.check_iterations(documents)
        elif self.type == "Parallel":
            _check_flow_inputs([(flow, documents.current) for flow in run.flows(FlowKind.BRANCH)])
        if run.failed():
            self.catch(documents)
        if self.type == "Task":
            result = run.task_result()
            run.add("Result", self.body.get("Resource"), result, recorded=True)
        else:
            kind = FlowKind.ITERATION if self.type == "Map" else FlowKind.BRANCH
            flows = run.flows(kind)
            expected = len(documents.items) if self.type == "Map" else None
            if expected is not None and len(flows) != expected:
                raise _lacks(f"{len(flows)} of {expected} iterations are in the history")
            result = [_flow_output(flow) for flow in flows]
            run.add(
                "Result", "Iterations" if self.type == "Map" else "Branches", result, recorded=True
            )
        documents.current = documents.selected = result

    def check_iterations(self, documents: _Documents) -> None:
        """A Map's iterations: inline, with the inputs the item template made."""
        run, body = self.run, self.body
        if is_distributed(body) and not run.visit.children:
            raise Unreplayable("a Distributed Map's iterations run as child executions")
        selected = documents.current
        _check_flow_inputs(
            [
                (f, selected[f.index])
                for f in run.flows(FlowKind.ITERATION)
                if f.index is not None and f.index < len(selected)
            ]
        )
        if "ResultWriter" in body and not run.failed():
            raise Unreplayable("the Map writes its results to S3 (ResultWriter)")

    def literal(self, step: DataStep, documents: _Documents) -> None:
        if "Result" in self.body:
            documents.current = self.run.add("Result", self.body["Result"], self.body["Result"])
        documents.selected = documents.current

    def merge(self, step: DataStep, documents: _Documents) -> None:
        run, body = self.run, self.body
        if documents.selected is _MISSING:
            documents.selected = documents.current
        if "ResultPath" in body:
            path = body["ResultPath"]
            after = apply_result_path(path, documents.raw, documents.selected)
            documents.current = run.add("ResultPath", path, after)
        else:
            documents.current = run.add("ResultPath", "$", documents.selected, default=True)

    def assign(self, step: DataStep, documents: _Documents) -> None:
        if self.jsonata:
            return  # evaluated with Output, over the same $states
        template = self.body.get("Assign")
        document = documents.selected
        if step.reads is Reads.EFFECTIVE_INPUT:
            document = documents.effective
            if self.type == "Choice":
                template = self.choice_source.get("Assign")
        if template is not None:
            self.run.assigned = render_template(template, self.run.roots(document))

    # -- JSONata

    def states(self, documents: _Documents, **extra: Any) -> dict[str, Any]:
        states = {"input": self.run.input, "context": self.run.context, **extra}
        if documents.selected is not _MISSING:
            states["result"] = documents.selected
        return states

    def render(self, name: str, template: Any, states: Mapping[str, Any]) -> Any:
        return jsonata_eval.render(template, states, self.run.variables, name, self.run.prefix)

    def output(self, documents: _Documents) -> None:
        """``Output`` (default: the result, or the input for states without one) and
        ``Assign``, both evaluated with the variables as they were at entry."""
        run = self.run
        body = self.choice_source if self.type == "Choice" else self.body
        states = self.states(documents)
        default = documents.selected if documents.selected is not _MISSING else documents.raw
        if "Output" in body:
            run.add("Output", body["Output"], self.render("Output", body["Output"], states))
        else:
            run.add("Output", None, default, default=True)
        assign = body.get("Assign")
        if assign is not None:
            run.assigned = self.render("Assign", assign, states)

    # -- Fail and Catch

    def fail(self) -> None:
        body, run = self.body, self.run
        if self.jsonata:
            states = {"input": run.input, "context": run.context}
            error = self.render("Error", body.get("Error"), states)
            cause = self.render("Cause", body.get("Cause"), states)
        else:
            roots = run.roots(run.input)
            error = _fail_field(body, "Error", roots)
            cause = _fail_field(body, "Cause", roots)
        raise StatesError("" if error is None else str(error), "" if cause is None else str(cause))

    def catch(self, documents: _Documents) -> None:
        """A failure: the first catcher that matches makes the output of ``{"Error",
        "Cause"}``; without one the visit fails with the error
        (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
        run = self.run
        error = run.visit.error or "States.TaskFailed"
        catcher = run.catcher(error)
        if catcher is None:
            raise StatesError(error, run.visit.cause or "")
        run.caught = Failure(error, run.visit.cause)
        output = run.error_output()
        step = catch_step("JSONata" if self.jsonata else "JSONPath")
        if self.jsonata:
            states = {"input": run.input, "context": run.context, "errorOutput": output}
            name = step.name
            value = self.render(name, catcher[name], states) if name in catcher else output
            run.add("Catch", catcher, value)
            if "Assign" in catcher:
                run.assigned = self.render("Assign", catcher["Assign"], states)
        else:
            path = catcher.get(step.name, step.default)
            run.add("Catch", catcher, apply_result_path(path, documents.raw, output))
            # On Catch only the catcher's Assign runs, over the error output.
            if catcher.get("Assign") is not None:
                run.assigned = render_template(catcher["Assign"], run.roots(output))
        raise _Stop


_STEP_HANDLERS: dict[Kind, Callable[[_Steps, DataStep, _Documents], None]] = {
    Kind.PATH: _Steps.path,
    Kind.TEMPLATE: _Steps.template,
    Kind.TASK_INPUT: _Steps.task_input,
    Kind.ITEMS: _Steps.items,
    Kind.ITEM_TEMPLATE: _Steps.item_template,
    Kind.RESULT: _Steps.result,
    Kind.LITERAL: _Steps.literal,
    Kind.MERGE: _Steps.merge,
    Kind.ASSIGN: _Steps.assign,
}
"""How each kind of step of the data-flow table is run: functions of the class, not bound
methods kept on each run (those would tie every run into a reference cycle that only the
garbage collector frees)."""


def _flow_output(flow: Flow) -> Any:
    last = flow.visits[-1] if flow.visits else None
    if last is None or not last.exited or last.output is None:
        raise _lacks(f"{flow.label} has no recorded output")
    if last.output.truncated or last.output.value is NOT_JSON:
        raise _lacks(f"the output of {flow.label} is not recorded")
    return last.output.value


def _check_flow_inputs(pairs: Sequence[tuple[Flow, Any]]) -> None:
    """Each iteration's and branch's first input is recorded: it must be what was sent."""
    for flow, value in pairs:
        first = flow.visits[0] if flow.visits else None
        if first is None or first.input is None or first.input.value is NOT_JSON:
            continue
        if not same_json(value, first.input.value):
            where = first_difference(value, first.input.value)
            raise _differs(
                f"the replayed input of {flow.label} differs from the recorded one at {where}"
            )


def _fail_field(body: Mapping[str, Any], name: str, roots: Roots) -> Any:
    """A Fail state's ``Error``/``Cause``, or its ``ErrorPath``/``CausePath``."""
    path = body.get(name + "Path")
    if not isinstance(path, str):
        return body.get(name)
    if is_intrinsic(path):
        return evaluate_intrinsic(path, roots, name + "Path")
    return read_parameter(path, name + "Path", roots)


def _expression_text(value: Any) -> str:
    return jsonata_eval.expression_text(value) if isinstance(value, str) else compact(value)


# --- templates, errors and settings ---------------------------------------------------------


def render_template(template: Any, roots: Roots) -> Any:
    """A ``Parameters``/``ResultSelector``/``ItemSelector``/``Assign`` payload template: keys
    ending in ``.$`` take the value of their path or intrinsic, without the suffix
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html).

    Members are evaluated in the template's order, each object's and array's before the
    next member (the first failure is the one reported), by an explicit stack: the
    definition chooses how deep a template nests."""
    root: list[Any] = [None]
    # (template node, the container its rendering goes into, the key or index there)
    stack: list[tuple[Any, Any, Any]] = [(template, root, 0)]
    while stack:
        node, into, at = stack.pop()
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            into[at] = out
            pending = []
            for key, value in node.items():
                if key.endswith(".$") and isinstance(value, str):
                    pending.append((_Dollar(key, value), out, key[:-2]))
                else:
                    pending.append((value, out, key))
            stack.extend(reversed(pending))
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            into[at] = items
            stack.extend((item, items, index) for index, item in reversed(list(enumerate(node))))
        elif isinstance(node, _Dollar):
            into[at] = _dollar_value(node.key, node.expression, roots)
        else:
            into[at] = node
    return root[0]


class _Dollar:
    """A ``"key.$"`` member still to evaluate (:func:`render_template`)."""

    __slots__ = ("expression", "key")

    def __init__(self, key: str, expression: str) -> None:
        self.key = key
        self.expression = expression


def _dollar_value(key: str, expression: str, roots: Roots) -> Any:
    if is_path(expression):
        return read_parameter(expression, key, roots)
    if is_intrinsic(expression):
        return evaluate_intrinsic(expression, roots, key)
    raise StatesRuntime(
        f"The value for the field '{key}' must be a valid JSONPath or an intrinsic function call"
    )


def computed_locations(template: Any) -> Iterator[tuple[Segment, ...]]:
    """Where a rendered template holds values computed from data rather than literals, in
    the template's order (an explicit stack: the definition chooses the depth)."""
    stack: list[tuple[Any, tuple[Segment, ...], bool]] = [(template, (), False)]
    while stack:
        node, at, computed = stack.pop()
        if computed:
            yield at
        elif isinstance(node, Mapping):
            stack.extend(
                (value, (*at, key[:-2]), True)
                if key.endswith(".$") and isinstance(value, str)
                else (value, (*at, key), False)
                for key, value in reversed(list(node.items()))
            )
        elif isinstance(node, list):
            stack.extend(
                (value, (*at, index), False) for index, value in reversed(list(enumerate(node)))
            )
        elif jsonata_eval.is_expression(node):
            yield at


_NOT_CAUGHT_BY_ALL = frozenset({"States.Runtime"})


def error_matches(error: str, names: Sequence[str]) -> bool:
    """Whether a Retry/Catch ``ErrorEquals`` covers ``error``: ``States.ALL`` covers all;
    ``States.TaskFailed`` all but ``States.Timeout``; nothing catches ``States.Runtime``
    (docs/aws-reference.md section 3)."""
    if error in _NOT_CAUGHT_BY_ALL:
        return False
    if error in names:
        return True
    return "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


def _failure_event(visit: Visit) -> tuple[str | None, str | None] | None:
    """The error and cause members of the event that failed the visit, as recorded: a
    failed Map or Parallel's are those of the latest failed visit inside it, and so on
    inwards (a loop, not recursion: the history chooses how deep they nest)."""
    inside: dict[int, Visit] | None = None
    current: Visit | None = visit
    while current is not None:
        end = current.attempts[-1].end if current.attempts else None
        if end is None:
            return None
        if end.kind is EventKind.TASK_FAILED:
            return end.error, end.cause
        if end.kind not in (EventKind.MAP_FAILED, EventKind.PARALLEL_FAILED):
            return None
        if inside is None:
            inside = _failed_inside(visit)
        current = inside.get(current.seq)
    return None


def _failed_inside(visit: Visit) -> dict[int, Visit]:
    """For ``visit`` and each visit nested in it (by ``seq``), the latest failed visit inside
    it (its error is a failed Map's or Parallel's), the first in entry order when several
    ended at the same event.

    One pass from the innermost visits out, each visit's answer made from those of the
    visits directly inside it: following the failure inwards walks the tree once."""
    latest: dict[int, Visit] = {}
    for holder in reversed(visit.walk()):
        found: Visit | None = None
        for flow in holder.children:
            for top in flow.visits:
                below = latest.get(top.seq)
                if _failed(top) and (below is None or _ended(top) >= _ended(below)):
                    below = top
                if below is not None and (found is None or _ended(below) > _ended(found)):
                    found = below
        if found is not None:
            latest[holder.seq] = found
    return latest


def _failed(visit: Visit) -> bool:
    return visit.error is not None and visit.outcome is Outcome.FAILED


def _ended(visit: Visit) -> int:
    """When a visit ended (a Fail state's visit is still open when its branch fails)."""
    return (visit.end or visit.entered).id


_PLACEHOLDER = re.compile(r"<[^<>\s]+>")


def _same_cause(replayed: str, recorded: str) -> bool:
    """Causes are compared as text; the AWS-recorded corpus redacts run-time values as
    ``<json-input:1>`` or ``<timestamp>``, which stand for any text."""
    if replayed == recorded:
        return True
    if "<" not in recorded:
        return False
    pattern = ".*".join(re.escape(p) for p in _PLACEHOLDER.split(recorded))
    return re.fullmatch(pattern, replayed, re.DOTALL) is not None


def _resource(body: Mapping[str, Any], visit: Visit) -> str | None:
    resource = body.get("Resource")
    return resource if isinstance(resource, str) else visit.resource


def _item_context(run: _Run, index: int, item: Any) -> dict[str, Any]:
    return {**run.context, "Map": {"Item": {"Index": index, "Value": item}}}


def _check_wait(body: Mapping[str, Any], roots: Roots) -> None:
    """``SecondsPath``/``TimestampPath`` failures, with AWS's messages (docs/aws-reference.md
    section 3 and the histories in tests/data/aws-recorded)."""
    for name in ("SecondsPath", "TimestampPath"):
        if not isinstance(body.get(name), str):
            continue
        path = body[name]
        try:
            value = read(path, roots)
        except PathMissing:
            raise StatesRuntime(
                f"The {name} parameter does not reference an input value: {path}"
            ) from None
        if name == "SecondsPath" and _is_number(value):
            if not float(value).is_integer():
                raise StatesRuntime(
                    f"The SecondsPath parameter cannot be parsed as a long value: {path} == {value}"
                )
            if value < 0:
                raise StatesRuntime(
                    f"The SecondsPath parameter references a negative value: {path} == {int(value)}"
                )
        if name == "TimestampPath" and not _timestamp_accepted(value, name):
            raise StatesRuntime(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                f"date-time format string: {path} == {value}"
            )


def _check_wait_timestamp(value: Any, prefix: str) -> None:
    """A JSONata Wait's ``Timestamp`` expression must give a timestamp AWS accepts; otherwise
    ``States.QueryEvaluationError`` with AWS's cause (as recorded in tests/data/aws-recorded,
    test_base_scenarios__test_wait_timestamp_jsonata_INVALID_DATE)."""
    if not _timestamp_accepted(value, "Timestamp"):
        raise StatesError(
            jsonata_eval.QUERY_EVALUATION_ERROR,
            f"{prefix}The Timestamp field cannot be parsed as an ISO-8601 extended offset "
            f"date-time format string: {value}",
        )


_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})([Tt])([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
    r"(?:\.([0-9]*))?([Zz]|[+-]([0-9]{2}):([0-9]{2})(:[0-9]{2})?)"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _timestamp_accepted(value: Any, field: str) -> bool:
    """Whether AWS waits until ``value`` (a Wait's ``Timestamp`` or ``TimestampPath`` value).

    AWS's documentation (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html):
    "Timestamps must conform to the RFC3339 profile of ISO 8601, with the further restrictions
    that an uppercase T must separate the date and time portions, and an uppercase Z must
    denote that a numeric time zone offset is not present". AWS's cause names Java's
    ``DateTimeFormatter.ISO_OFFSET_DATE_TIME`` ("ISO-8601 extended offset date-time format"),
    which resolves dates strictly. The recorded histories (tests/data/aws-recorded, with the
    values their localstack tests sent): a timestamp without a zone fails (NO_Z, ".000000"),
    so does month 13 (INVALID_DATE); ``Z`` after 0, 2, 6 or 9 fraction digits succeeds (".00Z",
    ".000000Z", NANOSECONDS; localstack's AWS-validated list adds 3 and 7).

    Where RFC 3339 and Java agree, so does this: a date and a time joined by ``T`` with a zone
    (``Z`` or ``+HH:MM``) and a real calendar date and time is accepted, anything else is
    not. Where they disagree (a lowercase ``t`` or ``z``, no seconds, no or more than nine
    fraction digits, a leap second, an offset with seconds or beyond 18 hours) nothing
    recorded or documented says which AWS follows: :class:`Unsupported`."""
    if not isinstance(value, str):
        raise Unsupported(f"a Wait {field} that is not a string ({jsonata_eval.type_name(value)})")
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute = (int(match.group(g)) for g in (1, 2, 3, 5, 6))
    second = int(match.group(7) or 0)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    if (month, day) == (2, 29) and not leap:
        return False
    offset_hours = int(match.group(10) or 0)
    if hour > 23 or minute > 59 or second > 60 or int(match.group(11) or 0) > 59:
        return False
    if offset_hours > 23:
        return False
    fraction = match.group(8)
    disputed = (
        match.group(4) == "t"
        or match.group(9) == "z"
        or match.group(7) is None
        or (fraction is not None and not 1 <= len(fraction) <= 9)
        or second == 60
        or match.group(12) is not None
        or offset_hours > 18
    )
    if disputed:
        raise Unsupported(
            f"the Wait {field} {value!r}: RFC 3339 and Java's ISO_OFFSET_DATE_TIME disagree on "
            "it and no AWS record settles which AWS follows"
        )
    return True


class _MapSetting:
    """A Map setting AWS evaluates at run time: ``name`` (a number, or a JSONata expression)
    or ``name + "Path"`` (JSONPath), and what it must be."""

    def __init__(self, name: str, kind: str, low: float, high: float | None = None) -> None:
        self.name = name
        self.kind = kind
        """``integer`` or ``float``, as AWS's causes name it."""
        self.low = low
        self.high = high


MAX_CONCURRENCY = _MapSetting("MaxConcurrency", "integer", 0)
TOLERATED_FAILURE_PERCENTAGE = _MapSetting("ToleratedFailurePercentage", "float", 0, 100)
TOLERATED_FAILURE_COUNT = _MapSetting("ToleratedFailureCount", "integer", 0)
MAX_ITEMS = _MapSetting("MaxItems", "integer", 0)
"""Inside ``ItemReader.ReaderConfig``."""

BEFORE_ITEMS = (MAX_CONCURRENCY,)
"""Checked before the Map has its items (AWS fails a bad MaxConcurrencyPath before
``MapStateStarted``, tests/data/aws-recorded test_max_concurrency_path_max_concurrency_value0)."""
AFTER_ITEMS = (TOLERATED_FAILURE_PERCENTAGE, TOLERATED_FAILURE_COUNT, MAX_ITEMS)
"""Checked once the items are known (AWS fails them after ``MapStateStarted``)."""

_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _map_number(value: Any, kind: str) -> float | None:
    """A Map ``*Path`` setting's value as AWS reads it, or None when AWS rejects it.

    A JSON number must be an integer for an integer setting (AWS rejects ``1.5``, recorded in
    test_map_item_reader_csv_max_items_paths_1.5; a number written with a fraction is a
    Java double, whose text ``3.0`` is no integer either). A string is read as the number it
    spells: AWS ran a Map whose MaxConcurrencyPath and ToleratedFailure*Path read variables
    holding ``"1"`` (localstack's AWS-recorded snapshot
    test_assign_reference_variables.snapshot.json, MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH
    and MAP_STATE_REFERENCE_IN_TOLERATED_FAILURE_PATH), and rejects ``"NoNumber"``
    (test_map_state_tolerated_failure_percentage_path_NoNumber). Anything else is rejected
    (``{}``, recorded)."""
    if isinstance(value, str):
        if kind == "integer":
            return int(value) if _JAVA_INTEGER.fullmatch(value) else None
        return float(value) if _DECIMAL.fullmatch(value) else None
    if not _is_number(value):
        return None
    if kind == "integer":
        return value if isinstance(value, int) else None
    return float(value)


def _check_map_path(
    setting: _MapSetting, path: str, roots: Roots, catches: Callable[[str], bool]
) -> None:
    """A Map's ``*Path`` setting: AWS fails the state when it reads no number, or one out of
    range. Causes as recorded in tests/data/aws-recorded (not a valid integer/float,
    "ToleratedFailureCount cannot be negative.", MaxItems' ``States.ItemReaderFailed``); for
    a negative MaxConcurrency and a percentage beyond 0..100 as localstack's implementation,
    validated against AWS, words them."""
    name = setting.name + "Path"
    value = select(path, roots)
    number = _map_number(value, setting.kind)
    if number is None:
        raise StatesRuntime(
            f'The {name} field refers to value "{java_string(value)}" which is not a '
            f"valid {setting.kind}: {path}"
        )
    if setting.low <= number and (setting.high is None or number <= setting.high):
        return
    if setting is MAX_ITEMS:
        if catches("States.ItemReaderFailed"):
            raise Unsupported("a Catch of the MaxItemsPath failure of an ItemReader")
        raise StatesError("States.ItemReaderFailed", "field MaxItems must be positive")
    if setting is MAX_CONCURRENCY:
        raise StatesRuntime(
            f"Expected non-negative integer for MaxConcurrency, got '{int(number)}' instead."
        )
    if setting is TOLERATED_FAILURE_COUNT:
        raise StatesRuntime("ToleratedFailureCount cannot be negative.")
    raise StatesRuntime("ToleratedFailurePercentage must be between 0 and 100.")


def _check_map_expression(setting: _MapSetting, value: Any) -> None:
    """A JSONata Map setting's value: a number in range, as for the ``*Path`` form. What AWS
    does with anything else is neither documented nor recorded: :class:`Unsupported`."""
    integer = isinstance(value, int) or setting.kind != "integer"
    if not (_is_number(value) and integer and setting.low <= value):
        raise Unsupported(f"a Map {setting.name} expression that evaluates to {compact(value)}")
    if setting.high is not None and value > setting.high:
        raise Unsupported(f"a Map {setting.name} expression that evaluates to {compact(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


# --- Choice rules ---------------------------------------------------------------------------


def _matched_rule(run: _Run, document: Any) -> Mapping[str, Any] | None:
    """The first Choice Rule that matches, or None when the state goes to its ``Default``; no
    match and no ``Default`` is ``States.NoChoiceMatched``
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html)."""
    for rule in run.body.get("Choices") or ():
        if isinstance(rule, Mapping) and _rule_matches(run, rule, document):
            return rule
    if "Default" not in run.body:
        raise StatesError("States.NoChoiceMatched", "")
    return None


def _rule_matches(run: _Run, rule: Mapping[str, Any], document: Any) -> bool:
    try:
        return _evaluate_rule(run, rule, document)
    except Unsupported:
        # A comparison this replay does not evaluate: go by where the execution went.
        return rule.get("Next") == run.next_state


_NO_RULE: Any = object()


def _evaluate_rule(run: _Run, rule: Mapping[str, Any], document: Any) -> bool:
    """A Choice rule: ``And`` and ``Or`` stop at the first sub-rule that decides, as
    ``all``/``any`` do. An explicit stack of the open ``And``/``Or``/``Not`` rules, not
    recursion: the definition chooses how deep rules nest."""
    open_rules: list[tuple[str, Iterator[Any]]] = []
    node: Any = rule
    while True:
        result: bool | None = None
        if "Condition" in node:
            states = {"input": run.input, "context": run.context}
            result = jsonata_eval.render(node["Condition"], states, run.variables, "Condition")
            result = result is True
        elif "And" in node:
            open_rules.append(("And", iter(node["And"])))
        elif "Or" in node:
            open_rules.append(("Or", iter(node["Or"])))
        elif "Not" in node:
            open_rules.append(("Not", iter((node["Not"],))))
        else:
            result = _comparison(run, node, document)
        # Hand the result to the open rules until one needs its next sub-rule.
        while open_rules:
            kind, rest = open_rules[-1]
            if result is not None and (kind == "Not" or result is (kind == "Or")):
                open_rules.pop()  # decided: a Not's only sub-rule, a false And, a true Or
                result = not result if kind == "Not" else result
                continue
            following = next(rest, _NO_RULE)
            if following is _NO_RULE:
                open_rules.pop()  # every sub-rule agreed: all true (And), all false (Or)
                result = kind == "And"
                continue
            node = following
            break
        else:
            return bool(result)


def _comparison(run: _Run, rule: Mapping[str, Any], document: Any) -> bool:
    """A rule that compares its ``Variable`` (not ``And``, ``Or``, ``Not``, ``Condition``)."""
    roots = run.roots(document)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise Unsupported("a Choice rule without Variable")
    try:
        value, present = read(variable, roots), True
    except PathMissing:
        value, present = None, False
    operators = [k for k in rule if k not in ("Variable", "Next", "Assign", "Comment")]
    if len(operators) != 1:
        raise Unsupported("a Choice rule without exactly one comparison")
    operator, operand = operators[0], rule[operators[0]]
    if operator.endswith("Path"):
        operator, operand = operator[: -len("Path")], read(str(operand), roots)
    return _compare(operator, value, operand, present)


def _compare(operator: str, value: Any, operand: Any, present: bool) -> bool:
    if operator == "IsPresent":
        return present is bool(operand)
    if not present:
        raise StatesRuntime("Invalid path: the Choice rule's Variable is not in the input")
    kinds = {
        "IsNull": value is None,
        "IsNumeric": _is_number(value),
        "IsString": isinstance(value, str),
        "IsBoolean": isinstance(value, bool),
    }
    if operator in kinds:
        return kinds[operator] is bool(operand)
    if operator == "BooleanEquals":
        return isinstance(value, bool) and value == operand
    if operator == "StringMatches":
        return isinstance(value, str) and _wildcard(str(operand)).fullmatch(value) is not None
    for prefix, accepts in (("String", _is_string), ("Numeric", _is_number)):
        if operator.startswith(prefix):
            if not (accepts(value) and accepts(operand)):
                return False
            return _relate(operator[len(prefix) :], value, operand)
    raise Unsupported(f"the Choice operator {operator}")


def _relate(relation: str, left: Any, right: Any) -> bool:
    relations = {
        "Equals": lambda: left == right,
        "LessThan": lambda: left < right,
        "GreaterThan": lambda: left > right,
        "LessThanEquals": lambda: left <= right,
        "GreaterThanEquals": lambda: left >= right,
    }
    if relation not in relations:
        raise Unsupported(f"the Choice comparison {relation}")
    return bool(relations[relation]())


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``StringMatches``: ``*`` is any text, ``\\*`` a literal star."""
    parts = re.split(r"(?<!\\)\*", pattern)
    return re.compile(".*".join(re.escape(p.replace("\\*", "*")) for p in parts), re.DOTALL)


# --- how a template member is written --------------------------------------------------------


def describe_member(step: str, key: str, value: Any) -> str:
    """``Parameters "k.$": "$.x"``: a template member as the definition spells it."""
    if not key:
        return f"{step} {compact(value)}"
    return f"{step} {compact(key)}: {compact(value)}"


def template_member(
    template: Mapping[str, Any], location: Sequence[Segment]
) -> tuple[str, Any, int] | None:
    """The template member that produced ``location`` of the rendered document: its key (a
    ``"key.$"`` path or intrinsic, a JSONata ``{% %}`` string, or a literal), its value and
    how many steps of ``location`` it accounts for; None when the template does not write
    ``location``."""
    node: Any = template
    for depth, segment in enumerate(location):
        if isinstance(node, Mapping) and isinstance(segment, str):
            if segment + ".$" in node:
                return segment + ".$", node[segment + ".$"], depth + 1
            if segment not in node:
                return None
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return None
        if jsonata_eval.is_expression(node) or depth == len(location) - 1:
            return str(segment), node, depth + 1
    if jsonata_eval.is_expression(node):
        return "", node, len(location)
    return None
