"""The variables in scope at each visit's entry
(https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html): those assigned
by earlier visits of its flow and of the flows around it, decoded from what the history
recorded (a truncated or unreadable value is unknown). Branches and iterations read outer
variables, but their own assignments do not leak out.

One rule, read three ways: :func:`variable_scopes` folds it over a finished tree (the
replay), :func:`assigned_after` one visit at a time (a live trace folds each flow as its
visits settle, trace/unfolding.py), and :func:`assigner` walks it back from one visit to the
visit whose ``Assign`` set a variable it saw (the blame chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sfn_trace.asl.jsonpath import unknown
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.visits import Flow, VisitTree

__all__ = ["Assigning", "assigned_after", "assigner", "decode_variables", "variable_scopes"]


class Assigning(Protocol):
    """A visit as the rule reads it: what its ``Assign`` set, as the history recorded it (a
    finished tree's :class:`~sfn_trace.model.visits.Visit` and a visit of a history still
    being read both are)."""

    @property
    def variables(self) -> Sequence[tuple[str, Payload]] | None: ...
    @property
    def variables_truncated(self) -> bool: ...


_V = TypeVar("_V", bound=Assigning)


def assigned_after(scope: Mapping[str, Any], visit: Assigning) -> Mapping[str, Any]:
    """The variables in scope after ``visit`` (for the visit after it in its flow): ``scope``,
    those in scope at its entry, with what its ``Assign`` set over them."""
    if not visit.variables:
        return scope
    return {**scope, **decode_variables(visit.variables, visit.variables_truncated)}


def variable_scopes(tree: VisitTree) -> dict[int, Mapping[str, Any]]:
    """Variables in scope at each visit's entry, by ``seq``."""
    scopes: dict[int, Mapping[str, Any]] = {}
    # An explicit stack of flows with the variables at their start: the history chooses how
    # deep flows nest.
    stack: list[tuple[Flow, Mapping[str, Any]]] = [(tree.root, {})]
    while stack:
        flow, env = stack.pop()
        for visit in flow.visits:
            scopes[visit.seq] = env
            stack.extend((child, env) for child in visit.children)
            env = assigned_after(env, visit)
    return scopes


def assigner(
    visit: _V,
    name: str,
    previous: Callable[[_V], _V | None],
    holder: Callable[[_V], _V | None],
) -> _V | None:
    """The visit whose ``Assign`` set the variable ``name`` that ``visit`` saw: the latest
    earlier visit of its flow that assigned it, else of the flow around it, outwards.
    ``previous`` gives a visit's predecessor in its flow, ``holder`` the Map or Parallel
    visit holding its flow (None for both at the ends)."""
    current: _V | None = visit
    while current is not None:
        earlier = previous(current)
        while earlier is not None:
            if any(assigned == name for assigned, _ in earlier.variables or ()):
                return earlier
            earlier = previous(earlier)
        current = holder(current)
    return None


def decode_variables(variables: Sequence[tuple[str, Payload]], truncated: bool) -> dict[str, Any]:
    return {name: _variable_value(name, payload, truncated) for name, payload in variables}


def _variable_value(name: str, payload: Payload, truncated: bool) -> Any:
    value = payload.value
    if truncated or payload.truncated or value is NOT_JSON:
        return unknown(f"variable ${name}")
    return value
