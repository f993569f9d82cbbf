"""The context object (``$$`` in JSONPath, ``$states.context`` in JSONata) of a visit, from
what the history and DescribeExecution hold: the one home of its members, read by the replay
(:mod:`sfn_trace.asl.replay`) and by ``--confirm``, which sends it to TestState
(:mod:`sfn_trace.checks.confirm_plan`).

AWS's page (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html)
lists ``Execution`` (``Id``, ``Input``, ``Name``, ``RoleArn``, ``StartTime``,
``RedriveCount``, ``RedriveTime``), ``State`` (``EnteredTime``, ``Name``, ``RetryCount``),
``StateMachine`` (``Id``, ``Name``) and ``Task`` (``Token``). What sfn-trace cannot see is an
unknown placeholder (:func:`sfn_trace.asl.jsonpath.unknown`): a replay that reads it is not
replayed, the history's fault, and :func:`known` leaves it out of what is sent to TestState.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sfn_trace.asl.jsonpath import is_unknown, unknown
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.visits import Visit

__all__ = ["execution_context", "iso", "known", "visit_context"]

_RETRIED = frozenset({"Task", "Map", "Parallel"})
"""The state types that may carry ``Retry``, and so ``$$.State.RetryCount``. AWS gives a Pass
state none: its recorded context object is ``{"Name", "EnteredTime"}`` (the LocalStack
recordings ``test_base__test_query_context_object_values`` and
``test_assign_base__test_base_cases_BASE_PATHS`` in tests/data/aws-recorded)."""


def iso(moment: datetime) -> str:
    """A context timestamp: ISO 8601 in UTC with milliseconds (``2019-03-26T20:14:13.192Z``,
    as on AWS's context-object page)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def execution_context(
    execution_input: Payload | None,
    execution: ExecutionInfo | None,
    *,
    role_arn: str | None = None,
) -> dict[str, Any]:
    """``$$.Execution`` and ``$$.StateMachine``, the same for every visit of an execution
    (but ``RedriveCount``, which :func:`visit_context` sets for each visit).

    - ``Id``, ``Name`` and ``StateMachine``: DescribeExecution's, or split from the execution
      ARN (``arn:...:execution:MACHINE:NAME``).
    - ``Input``: the ``ExecutionStarted`` event's; unknown when it is truncated or unreadable
      (a truncated payload's content cannot be trusted).
    - ``StartTime``: :attr:`ExecutionInfo.start` (DescribeExecution's ``startDate``; for a
      history file, its first event's time).
    - ``RoleArn``: ``role_arn``, the ``ExecutionStarted`` event's ``roleArn`` (the recorded
      context objects show that value: ``test_base__test_query_context_object_values`` in
      tests/data/aws-recorded); unknown when the history does not hold it.
    - ``RedriveCount``: unknown here; the visit's own count in :func:`visit_context`.
    """
    arn = execution.arn if execution else None
    name = execution.name if execution else None
    machine = execution.state_machine_arn if execution else None
    if arn and ":execution:" in arn:
        prefix, rest = arn.split(":execution:", 1)
        name = name or rest.rsplit(":", 1)[-1]
        machine = machine or f"{prefix}:stateMachine:{rest.split(':', 1)[0]}"
    parsed_input: Any = NOT_JSON
    if execution_input is not None and not execution_input.truncated:
        parsed_input = execution_input.value
    start = execution.start if execution else None
    return {
        "Execution": {
            "Id": arn or unknown("$$.Execution.Id"),
            "Input": unknown("$$.Execution.Input") if parsed_input is NOT_JSON else parsed_input,
            "Name": name or unknown("$$.Execution.Name"),
            "RoleArn": role_arn or unknown("$$.Execution.RoleArn"),
            "StartTime": iso(start) if start is not None else unknown("$$.Execution.StartTime"),
            "RedriveCount": unknown("$$.Execution.RedriveCount"),
        },
        "StateMachine": {
            "Id": machine or unknown("$$.StateMachine.Id"),
            "Name": machine.rsplit(":", 1)[-1] if machine else unknown("$$.StateMachine.Name"),
        },
    }


def visit_context(
    visit: Visit, execution: Mapping[str, Any], resource: Any = None
) -> dict[str, Any]:
    """The context object a visit reads: ``execution`` (:func:`execution_context`) with
    ``$$.State`` and, for a Task that waits for a token, ``$$.Task``.

    ``$$.Execution.RedriveCount`` is the number of redrives before the visit was entered
    (:attr:`Visit.redrive_count`: 0 in the first run, then the last ``ExecutionRedriven``
    event's ``redriveCount``, which AWS documents as the number of times the execution was
    redriven: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ExecutionRedrivenEventDetails.html);
    unknown when the history does not begin with the execution's start. AWS's recorded
    context of a run never redriven has ``"RedriveCount": 0`` and no ``RedriveTime``; after a
    redrive, ``RedriveTime`` is there, but no recording shows how AWS writes it: unknown.

    ``RetryCount`` is the number of attempts before the last one for a Task; 0 for a Map or
    Parallel; absent for the other states (:data:`_RETRIED`). ``$$.Task`` exists only in a
    Task state; a service integration that does not wait for a task token has none (the
    recorded context of a ``lambda:invoke`` Task ends with ``State``, LocalStack recording
    ``test_base_scenarios__test_lambda_service_invoke_with_retry_extended_input``); the token
    itself is never in the history, so it is unknown.
    """
    entered = visit.entered.timestamp
    state: dict[str, Any] = {
        "EnteredTime": iso(entered) if entered is not None else unknown("$$.State.EnteredTime"),
        "Name": visit.state,
    }
    if visit.type in _RETRIED:
        state["RetryCount"] = max(len(visit.attempts) - 1, 0) if visit.type == "Task" else 0
    context: dict[str, Any] = {**execution, "State": state}
    if isinstance(execution.get("Execution"), Mapping):
        context["Execution"] = _redrives(execution["Execution"], visit.redrive_count)
    if visit.type == "Task" and _may_have_token(resource):
        context["Task"] = {"Token": unknown("$$.Task.Token")}
    return context


def _redrives(execution: Mapping[str, Any], count: int | None) -> dict[str, Any]:
    """``$$.Execution`` with the visit's ``RedriveCount`` (and ``RedriveTime`` once
    redriven)."""
    members = dict(execution)
    if count is None:
        members["RedriveCount"] = unknown("$$.Execution.RedriveCount")
        return members
    members["RedriveCount"] = count
    if count > 0:
        members["RedriveTime"] = unknown("$$.Execution.RedriveTime")
    return members


def _may_have_token(resource: Any) -> bool:
    """Whether a Task's ``Resource`` may give ``$$.Task.Token``: anything but a service
    integration (``arn:...:states:::service:action``) without ``.waitForTaskToken``."""
    if not isinstance(resource, str) or ":states:::" not in resource:
        return True
    return resource.endswith(".waitForTaskToken")


def known(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` without the members sfn-trace cannot see (unknown placeholders), and
    without the objects left empty by that."""
    found: dict[str, Any] = {}
    for name, value in context.items():
        if is_unknown(value):
            continue
        if isinstance(value, Mapping) and name != "Input":
            inner = known(value)
            if inner:
                found[name] = inner
        else:
            found[name] = value
    return found
