"""What a Task's result always holds: the members AWS returns for a service integration.

One table, :data:`OPTIMIZED`, for the optimized integrations
(``arn:aws:states:::SERVICE:ACTION[.sync|.sync:2]``): the members a successful result always
carries, each entry citing the AWS page that documents the integration; the members were
checked against the results recorded on real AWS in ``tests/data/aws-recorded`` (named per
entry). What is *inside* a member (a Lambda's ``Payload``, a nested execution's ``Output``)
is still the callee's: only the member itself is settled.

For ``arn:aws:states:::aws-sdk:SERVICE:ACTION`` the result is the API's response, whose shape
is the service model's: a member the model marks ``required`` is always there, any other
(``LastEvaluatedKey``) may be absent. This module does not read the model (the SDK is imported
only by the package that calls AWS, docs/architecture.md): :func:`always_returned` asks the
``sdk_members`` callable it is given (None: nothing is known of ``aws-sdk`` results).

``.waitForTaskToken`` results are whatever ``SendTaskSuccess`` sent: nothing is settled.
Activities and plain Lambda ARNs return what the worker or function returns: nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["OPTIMIZED", "Integration", "SdkMembers", "always_returned", "integration_of"]

_STATES = "arn:aws:states:::"
_DOCS = "https://docs.aws.amazon.com/step-functions/latest/dg/"
_METADATA = ("SdkHttpMetadata", "SdkResponseMetadata")
"""Every optimized request-response integration adds these (all recorded results do)."""

SdkMembers = Callable[[str, str], "frozenset[str] | None"]
"""``(service, action)`` of an ``aws-sdk`` resource → the members its response always has
(the output shape's required members), or None when the service model is not known."""

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
    if not isinstance(resource, str) or not resource.startswith(_STATES):
        return None
    rest = resource[len(_STATES) :]
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
    resource: object, member: object, sdk_members: SdkMembers | None = None
) -> bool:
    """Whether the result of a Task with this ``Resource`` always has ``member`` at its top
    (a successful result: a failed Task has no result)."""
    found = integration_of(resource)
    if found is None or found.pattern == ".waitForTaskToken" or not isinstance(member, str):
        return False
    if found.sdk:
        if sdk_members is None:
            return False
        members = sdk_members(found.service, found.action)
        return members is not None and member in members
    entry = OPTIMIZED.get(f"{found.service}:{found.action}{found.pattern}")
    return entry is not None and member in entry[0]
