"""The variables in scope at each visit's entry
(https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html): those assigned
by earlier visits of its flow and of the flows around it, decoded from what the history
recorded (a truncated or unreadable value is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sfn_trace.asl.jsonpath import (
    unknown,
)
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.visits import Flow, VisitTree

__all__ = ["decode_variables", "variable_scopes", "variables_in_scope"]


def variable_scopes(tree: VisitTree) -> dict[int, Mapping[str, Any]]:
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
                env = {**env, **decode_variables(visit.variables, visit.variables_truncated)}
    return scopes


def decode_variables(variables: Sequence[tuple[str, Payload]], truncated: bool) -> dict[str, Any]:
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
