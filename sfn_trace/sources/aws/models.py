"""What an ``aws-sdk`` Task's result always holds, read from botocore's service models.

``sfn-trace lint`` asks :func:`sdk_required_members` (through
:data:`sfn_trace.asl.results.SdkMembers`) only when a finding depends on an ``aws-sdk``
result, so botocore is imported, and a service's model loaded (a JSON file botocore ships,
no network), only then, once per service.

The result of ``arn:aws:states:::aws-sdk:SERVICE:ACTION`` is the API's response with its
members in PascalCase ("Parameters in Step Functions are expressed in PascalCase",
https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html); a
member the output shape marks ``required`` is always there.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["sdk_required_members"]

_SERVICE_NAMES = {"sfn": "stepfunctions"}
"""Where the name in the resource is not botocore's."""
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""A service name as botocore's data folders spell them (nothing else is looked up)."""


def sdk_required_members(service: str, action: str) -> frozenset[str] | None:
    """The members the response of ``service``'s ``action`` always has, as Step Functions
    names them; None when botocore has no model of the service or no such operation."""
    if not _SERVICE.match(service):
        return None
    operations = _operations(_SERVICE_NAMES.get(service, service))
    if operations is None:
        return None
    return operations.get(action.lower())


@functools.lru_cache(maxsize=32)
def _operations(service: str) -> dict[str, frozenset[str]] | None:
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    try:
        model: dict[str, Any] = Loader().load_service_model(service, "service-2")
    except (DataNotFoundError, ValueError):
        return None
    shapes = model.get("shapes", {})
    found: dict[str, frozenset[str]] = {}
    for name, operation in model.get("operations", {}).items():
        output = shapes.get(operation.get("output", {}).get("shape", ""), {})
        required = output.get("required", ())
        found[name.lower()] = frozenset(member[:1].upper() + member[1:] for member in required)
    return found
