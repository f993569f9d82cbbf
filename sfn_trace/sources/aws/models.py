"""Whether an AWS API's response always holds a location, read from botocore's service models.

``sfn-trace lint`` asks :func:`response_holds` (as :data:`sfn_trace.asl.results.SdkShapes`)
only when a finding depends on the result of an ``aws-sdk`` Task (or of an optimized
request-response integration, whose result is the API's response too), so botocore is
imported, and a service's model loaded (JSON files botocore ships, no network), only then,
once per service.

The result is the API's response with its members in PascalCase ("Parameters in Step
Functions are expressed in PascalCase",
https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html). A
location is held when each of its steps is a member of a structure in the output shape,
which the service documents returning, except:

- a member the operation's paginator names as its output token (``LastEvaluatedKey``,
  ``NextToken``): absent on the last page, unless the shape marks it required;
- an optional member that is a map (DynamoDB's ``Item``): the caller's data, absent when
  there is none;
- an element of a list (the list may be empty) or a key of a map (the caller's data);
- a member the model does not have, or a step into a blob, string or number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["response_holds"]

_SERVICE_NAMES = {"sfn": "stepfunctions", "states": "stepfunctions"}
"""Where the name in the resource is not botocore's."""
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""A service name as botocore's data folders spell them (nothing else is looked up)."""


def response_holds(service: str, action: str, location: tuple[str | int, ...]) -> bool:
    """Whether the response of ``service``'s ``action`` always holds ``location``; False
    when botocore has no model of the service or no such operation."""
    if not _SERVICE.match(service) or not location:
        return False
    model = _model(_SERVICE_NAMES.get(service, service))
    if model is None:
        return False
    operations, shapes, tokens = model
    name = operations.get(action.lower())
    if name is None:
        return False
    shape = shapes.get(name, {})
    for depth, step in enumerate(location):
        if shape.get("type") != "structure" or not isinstance(step, str):
            return False
        members: Mapping[str, Any] = shape.get("members", {})
        # Step Functions spells members as the Java SDK does (DBClusters: DbClusters).
        member = next((m for m in members if m.lower() == step.lower()), None)
        if member is None:
            return False
        required = member in shape.get("required", ())
        if depth == 0 and not required and member in tokens.get(name, ()):
            return False
        shape = shapes.get(members[member].get("shape", ""), {})
        if not required and shape.get("type") == "map":
            return False  # the caller's data (GetItem's Item): absent when there is none
    return True


_Model = tuple[dict[str, str], dict[str, Any], dict[str, frozenset[str]]]


@functools.lru_cache(maxsize=32)
def _model(service: str) -> _Model | None:
    """(operation name lowercased → its output shape's name, the shapes, output shape's name
    → its paginator's output token members)."""
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    loader = Loader()
    try:
        model: dict[str, Any] = loader.load_service_model(service, "service-2")
    except (DataNotFoundError, ValueError):
        return None
    try:
        pages: dict[str, Any] = loader.load_service_model(service, "paginators-1")
    except (DataNotFoundError, ValueError):
        pages = {}
    operations: dict[str, str] = {}
    tokens: dict[str, frozenset[str]] = {}
    for name, operation in model.get("operations", {}).items():
        output = operation.get("output", {}).get("shape")
        if not isinstance(output, str):
            continue
        operations[name.lower()] = output
        paginator = pages.get("pagination", {}).get(name, {})
        token = paginator.get("output_token", ())
        names = [token] if isinstance(token, str) else list(token)
        more = paginator.get("more_results")
        names += [more] if isinstance(more, str) else []
        tokens[output] = frozenset(str(t).split(".")[0].split("[")[0] for t in names)
    return operations, model.get("shapes", {}), tokens
