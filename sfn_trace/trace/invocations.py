"""Which Lambda invocations a history made: function, request id, and time window per attempt.

A ``lambda:invoke`` service task names the function in its parameters' ``FunctionName`` (a
name, a partial or full ARN, with an optional alias or version); a legacy Task names it in
its resource ARN. The request id is in the raw result (``SdkResponseMetadata.RequestId``, or
the ``x-amzn-RequestId`` header), in a Python runtime's error payload (``requestId``), or in a
timeout message (``RequestId: <id>``). Every retry attempt is its own invocation.
See https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sfn_trace.model.definition import Definition
from sfn_trace.model.visits import Attempt, LambdaInvocation, Visit

_LAMBDA_ARN = re.compile(
    r"^arn:[^:]+:lambda:(?P<region>[^:]*):[^:]*:function:(?P<name>[^:]+)(?::(?P<q>.+))?$"
)
_LAMBDA_INVOKE = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:lambda:invoke(?:\.waitForTaskToken)?$")
_PARTIAL_ARN = re.compile(r"^(?:\d{12}:)?function:(?P<name>[^:]+)(?::(?P<q>.+))?$")
_RESULT_REQUEST_ID = re.compile(r'"RequestId"\s*:\s*"([^"\\]+)"')
_HEADER_REQUEST_ID = re.compile(r'"x-amzn-RequestId"\s*:\s*"([^"\\]+)"', re.IGNORECASE)
_ERROR_REQUEST_ID = re.compile(r'"requestId"\s*:\s*"([^"\\]+)"|RequestId: ([0-9a-fA-F-]{36})')


def visit_invocations(visit: Visit) -> tuple[LambdaInvocation, ...]:
    """One entry per attempt of a Task visit that invoked a Lambda function."""
    if visit.type != "Task":
        return ()
    found = []
    for attempt in visit.attempts:
        reference = _function_reference(attempt)
        if reference is None:
            continue
        name, qualifier, region = split_function(reference)
        found.append(
            LambdaInvocation(
                function=name,
                qualifier=qualifier,
                reference=reference,
                region=region,
                request_id=_request_id(attempt),
                attempt=attempt.number,
                start_event_id=attempt.start.id,
                start=attempt.start.timestamp,
                end=attempt.end.timestamp if attempt.end else None,
            )
        )
    return tuple(found)


def all_invocations(visits: Iterable[Visit]) -> list[LambdaInvocation]:
    return [i for visit in visits for i in visit_invocations(visit)]


def definition_functions(definition: Definition) -> list[str]:
    """The Lambda functions a definition's Task states name with a constant, as the tasks'
    attempts will name them (:func:`_function_reference`): a ``lambda:invoke`` task's
    ``FunctionName`` (in ``Parameters``, or JSONata ``Arguments``), or a Lambda ARN as the
    resource. A name computed at run time (``FunctionName.$``, a JSONata expression) is
    known only from the history."""
    found: dict[str, None] = {}
    for state in definition.states.values():
        resource = state.body.get("Resource")
        if state.type != "Task" or not isinstance(resource, str):
            continue
        if _LAMBDA_INVOKE.match(resource):
            for template in (state.body.get("Parameters"), state.body.get("Arguments")):
                name = template.get("FunctionName") if isinstance(template, Mapping) else None
                if isinstance(name, str) and not name.startswith("{%"):
                    found[name] = None
        elif ":lambda:" in resource:
            found[resource] = None
    return list(found)


def split_function(reference: str) -> tuple[str, str | None, str | None]:
    """(name, qualifier, region) from a name, a partial ARN or a full ARN."""
    match = _LAMBDA_ARN.match(reference)
    if match:
        return match["name"], match["q"], match["region"] or None
    match = _PARTIAL_ARN.match(reference)
    if match:
        return match["name"], match["q"], None
    name, _, qualifier = reference.partition(":")
    return name, qualifier or None, None


def _function_reference(attempt: Attempt) -> str | None:
    if attempt.resource_type == "lambda":
        params = attempt.parameters.value if attempt.parameters is not None else None
        if isinstance(params, dict) and isinstance(params.get("FunctionName"), str):
            return str(params["FunctionName"])
        return None
    if attempt.resource and ":lambda:" in attempt.resource:
        return attempt.resource
    return None


def _request_id(attempt: Attempt) -> str | None:
    # Searched in the text rather than parsed: results can be large and this runs per attempt.
    payload = attempt.result or attempt.submitted
    if payload is not None:
        text = payload.text
        start = text.rfind('"SdkResponseMetadata"')
        match = _RESULT_REQUEST_ID.search(text, start) if start >= 0 else None
        if match is None:
            match = _HEADER_REQUEST_ID.search(text)
        if match:
            return match.group(1)
    if attempt.cause:
        match = _ERROR_REQUEST_ID.search(attempt.cause)
        if match:
            return match.group(1) or match.group(2)
    return None
