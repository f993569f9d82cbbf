"""Definition drift: the states where the definition that ran differs from another one.

``--expect-definition local.asl.json`` answers "is the deployed definition the one in the
repository?" (issue 4). Definitions are compared as parsed JSON, so formatting and key order
do not count; a Map's or Parallel's nested states are compared as states of their own, so a
change inside an iteration is reported on the inner state, not on the container too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sfn_trace.model.definition import Change, Definition, Drift, StateDef, StateDrift


def compare_definitions(ran: Definition, expected: Definition) -> Drift:
    """What differs between the definition that ran and the expected one, state by state."""
    drifts: list[StateDrift] = []
    for name, state in ran.states.items():
        other = expected.states.get(name)
        if other is None:
            drifts.append(StateDrift(name, Change.REMOVED, location=state.location))
            continue
        keys = _differing_keys(_shape(state), _shape(other))
        if keys:
            drifts.append(StateDrift(name, Change.CHANGED, keys, other.location))
    for name, state in expected.states.items():
        if name not in ran.states:
            drifts.append(StateDrift(name, Change.ADDED, location=state.location))
    machine = _differing_keys(_without_states(ran.body), _without_states(expected.body))
    return Drift(tuple(drifts), machine)


def _differing_keys(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[str, ...]:
    keys = set(left) | set(right)
    return tuple(sorted(k for k in keys if _differ(left.get(k, _ABSENT), right.get(k, _ABSENT))))


_ABSENT = object()


def _differ(left: Any, right: Any) -> bool:
    """``left != right``. Python's ``!=`` recurses (in C) and gives up on values nested
    about 1,000 deep, which a definition's template may be: those are compared by an
    explicit stack, with the same answer."""
    try:
        return bool(left != right)
    except RecursionError:
        pass
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            if a.keys() != b.keys():
                return True
            stack.extend((value, b[key]) for key, value in a.items())
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return True
            stack.extend(zip(a, b, strict=True))
        elif isinstance(a, (Mapping, list)) or isinstance(b, (Mapping, list)) or a != b:
            return True
    return False


def _without_states(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "States"}


def _shape(state: StateDef) -> dict[str, Any]:
    """A state's body with nested ``States`` maps reduced to their names: the nested states
    are compared on their own, and a location change (moving a state) shows up there."""
    shaped: dict[str, Any] = {}
    for key, value in state.body.items():
        if key in ("ItemProcessor", "Iterator") and isinstance(value, Mapping):
            shaped[key] = _flow_shape(value)
        elif key == "Branches" and isinstance(value, list):
            shaped[key] = [_flow_shape(b) if isinstance(b, Mapping) else b for b in value]
        else:
            shaped[key] = value
    return shaped


def _flow_shape(flow: Mapping[str, Any]) -> dict[str, Any]:
    states = flow.get("States")
    shaped = dict(flow)
    if isinstance(states, Mapping):
        shaped["States"] = sorted(states)
    return shaped
