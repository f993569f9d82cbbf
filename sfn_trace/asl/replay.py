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
from collections.abc import Mapping
from typing import Any

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.context import execution_context
from sfn_trace.asl.engine import replay_visit
from sfn_trace.asl.jsoncompare import first_difference, same_json, same_values
from sfn_trace.asl.jsonpath import StatesError, StatesRuntime
from sfn_trace.asl.next_state import next_states
from sfn_trace.asl.templates import describe_member, template_member
from sfn_trace.asl.variables import variable_scopes
from sfn_trace.model.definition import Definition
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.replay import FAULT_PREFIX, Fault, Replay, ReplayStatus
from sfn_trace.model.visits import Visit, VisitTree

__all__ = [
    "EarlyReplay",
    "EarlyReplays",
    "StatesError",
    "StatesRuntime",
    "describe_member",
    "execution_context",
    "first_difference",
    "replay_visit",
    "replay_visits",
    "same_json",
    "template_member",
]
"""What other modules use. The replay itself is here (:func:`replay_visits`, the early
replays of a live trace and whose fault a difference is); the rest is re-exported from its
home: the engine that replays one visit (:mod:`~sfn_trace.asl.engine`), the context object
(:mod:`~sfn_trace.asl.context`), JSON comparison (:mod:`~sfn_trace.asl.jsoncompare`),
templates (:mod:`~sfn_trace.asl.templates`). Choice rules (:mod:`~sfn_trace.asl.choice`), errors
(:mod:`~sfn_trace.asl.failures`) and AWS's run-time checks (:mod:`~sfn_trace.asl.aws_checks`)
are the engine's."""


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
    scopes = variable_scopes(tree)
    next_state = next_states(tree)
    context = execution_context(tree.execution_input, execution, role_arn=tree.role_arn)
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
