"""What a Task's result always holds: the members AWS returns for a service integration.

One table, :data:`OPTIMIZED`, for the optimized integrations
(``arn:aws:states:::SERVICE:ACTION[.sync|.sync:2]``): the members a successful result always
carries, each entry citing the AWS page that documents the integration; the members were
checked against the results recorded on real AWS in ``tests/data/aws-recorded`` (named per
entry). What is *inside* a member (a Lambda's ``Payload``, a nested execution's ``Output``)
is still the callee's: only the member itself is settled.

For ``arn:aws:states:::aws-sdk:SERVICE:ACTION``, and for an optimized request-response
integration deeper than :data:`OPTIMIZED` says, the result is the API's response, whose shape
is the service model's: the members of its structures are the service's to return, except a
paginator's output token (``LastEvaluatedKey``: absent on the last page, unless required), a
list's elements (the list may be empty) and a map's keys. This module does not read the model
(the SDK is imported only by the package that calls AWS, docs/architecture.md):
:func:`always_returned` asks the ``sdk_shapes`` callable it is given (None: nothing is known of
API responses beyond the table). A Lambda's ``Payload``, a nested execution's ``Output`` and
a callback's result are the caller's own code's, never the model's.

``.waitForTaskToken`` results are whatever ``SendTaskSuccess`` sent: nothing is settled.
Activities and plain Lambda ARNs return what the worker or function returns: nothing either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["OPTIMIZED", "Integration", "SdkShapes", "always_returned", "integration_of"]

_STATES = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:(.+)$")
"""An integration's resource: ``arn:aws:states:::SERVICE:ACTION`` (a region and account may
be written, and another partition)."""
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
"""A template's substitution (``${AWS::Region}``), as a definition in a SAM or CloudFormation
template holds it before deployment."""
_DOCS = "https://docs.aws.amazon.com/step-functions/latest/dg/"
_METADATA = ("SdkHttpMetadata", "SdkResponseMetadata")
"""Every optimized request-response integration adds these (all recorded results do)."""

SdkShapes = Callable[[str, str, "tuple[str | int, ...]"], bool]
"""``(service, action, location)`` → whether the API's response always holds the location
(False when the service model is not known)."""

_USER_RESULTS = frozenset({"lambda", "states"})
"""Services whose request-response result carries the caller's own data beyond the table
(a function's ``Payload``, an execution's ``Output``): not the service model's to settle."""

OPTIMIZED: Mapping[str, tuple[frozenset[str], str]] = {
    # Payload is the function's answer (JSON-parsed); StatusCode, ExecutedVersion and the
    # metadata come with every synchronous invoke (recorded: every lambda:invoke result).
    "lambda:invoke": (
        frozenset({"Payload", "StatusCode", "ExecutedVersion", *_METADATA}),
        _DOCS + "connect-lambda.html",
    ),
    # The nested execution's description (recorded: test_start_execution_sync*).
    "states:startExecution.sync": (
        frozenset(
            {"ExecutionArn", "StateMachineArn", "Name", "Status", "StartDate"}
            | {"StopDate", "Input", "InputDetails", "Output", "OutputDetails"}
        ),
        _DOCS + "connect-stepfunctions.html",
    ),
    "states:startExecution.sync:2": (
        frozenset(
            {"ExecutionArn", "StateMachineArn", "Name", "Status", "StartDate"}
            | {"StopDate", "Input", "InputDetails", "Output", "OutputDetails"}
        ),
        _DOCS + "connect-stepfunctions.html",
    ),
    # StartExecution's response: executionArn and startDate are required.
    "states:startExecution": (
        frozenset({"ExecutionArn", "StartDate", *_METADATA}),
        _DOCS + "connect-stepfunctions.html",
    ),
    "sns:publish": (frozenset({"MessageId", *_METADATA}), _DOCS + "connect-sns.html"),
    "sqs:sendMessage": (
        frozenset({"MessageId", "MD5OfMessageBody", *_METADATA}),
        _DOCS + "connect-sqs.html",
    ),
    # Only the metadata is certain: GetItem's Item is absent when no item matched, PutItem's
    # and DeleteItem's Attributes only with ReturnValues (recorded: dynamodb:putItem,
    # dynamodb:deleteItem hold nothing else).
    "dynamodb:getItem": (frozenset(_METADATA), _DOCS + "connect-ddb.html"),
    "dynamodb:putItem": (frozenset(_METADATA), _DOCS + "connect-ddb.html"),
    "dynamodb:deleteItem": (frozenset(_METADATA), _DOCS + "connect-ddb.html"),
    "dynamodb:updateItem": (frozenset(_METADATA), _DOCS + "connect-ddb.html"),
    "ecs:runTask": (
        frozenset({"Tasks", "Failures", *_METADATA}),
        _DOCS + "connect-ecs.html",
    ),
    # The stopped task's description (recorded: ecs:runTask.sync).
    "ecs:runTask.sync": (
        frozenset(
            {"TaskArn", "ClusterArn", "TaskDefinitionArn", "LastStatus"}
            | {"DesiredStatus", "Containers", "CreatedAt"}
        ),
        _DOCS + "connect-ecs.html",
    ),
    "apigateway:invoke": (
        frozenset({"Headers", "ResponseBody", "StatusCode", "StatusText"}),
        _DOCS + "connect-api-gateway.html",
    ),
    "events:putEvents": (
        frozenset({"Entries", "FailedEntryCount"}),
        _DOCS + "connect-eventbridge.html",
    ),
}
"""Per optimized resource (after ``arn:aws:states:::``): the members its result always has,
and the AWS page of the integration."""


@dataclass(frozen=True)
class Integration:
    """A Task's ``Resource`` read as a service integration."""

    service: str
    action: str
    pattern: str
    """``""`` (request-response), ``.sync``, ``.sync:2`` or ``.waitForTaskToken``."""
    sdk: bool
    """An ``aws-sdk:SERVICE:ACTION`` resource."""


def integration_of(resource: object) -> Integration | None:
    """The integration a ``Resource`` names; None for anything else (a Lambda or activity
    ARN, a JSONata or path resource)."""
    text = _PLACEHOLDER.sub("x", resource) if isinstance(resource, str) else None
    match = _STATES.match(text) if text is not None else None
    if match is None or match.group(1).startswith("activity:"):
        return None
    rest = match.group(1)
    pattern = ""
    for suffix in (".waitForTaskToken", ".sync:2", ".sync"):
        if rest.endswith(suffix):
            rest, pattern = rest[: -len(suffix)], suffix
            break
    parts = rest.split(":")
    if parts[0] == "aws-sdk" and len(parts) == 3:
        return Integration(parts[1], parts[2], pattern, True)
    if len(parts) == 2:
        return Integration(parts[0], parts[1], pattern, False)
    return None


def always_returned(
    resource: object, location: tuple[str | int, ...], sdk_shapes: SdkShapes | None = None
) -> bool:
    """Whether the result of a Task with this ``Resource`` always holds ``location`` (a
    successful result: a failed Task has no result)."""
    found = integration_of(resource)
    if found is None or found.pattern == ".waitForTaskToken" or not location:
        return False
    if not found.sdk:
        entry = OPTIMIZED.get(f"{found.service}:{found.action}{found.pattern}")
        if entry is not None and len(location) == 1 and location[0] in entry[0]:
            return True
        if found.pattern or found.service in _USER_RESULTS:
            return False  # a .sync result is the Describe call's, not the action's
    return sdk_shapes is not None and sdk_shapes(found.service, found.action, location)
