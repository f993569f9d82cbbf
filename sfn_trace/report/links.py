"""Every URL sfn-trace writes, built only from validated parts.

A report gets pasted into tickets where people click its links, and the ARN it links to comes
from a file someone else wrote. So a link is made only from parts that pass AWS's own syntax:

- the partition is one of AWS's, each with its own console domain;
- the region matches that partition's region syntax (the ``regionRegex`` of botocore's
  ``data/partitions.json``, matched whole and in ASCII only);
- the ARN parses as an execution ARN (:func:`sfn_trace.model.arn.parse_execution_arn`) and is
  percent-encoded into the URL's fragment, so that no character of it can end the link or
  start another.

Anything else gives no link, and :func:`console_link` says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from sfn_trace.errors import UsageError
from sfn_trace.model.arn import parse_execution_arn


@dataclass(frozen=True)
class _Partition:
    console: str
    """The console's domain; the page is ``https://{region}.{console}/...``."""
    region: re.Pattern[str]


_PARTITIONS: Final = {
    # https://docs.aws.amazon.com/general/latest/gr/rande.html (console endpoints),
    # https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Ningxia.html,
    # https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-endpoints.html;
    # region syntax: botocore/data/partitions.json.
    "aws": _Partition(
        "console.aws.amazon.com", re.compile(r"(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+", re.ASCII)
    ),
    "aws-cn": _Partition("console.amazonaws.cn", re.compile(r"cn-\w+-\d+", re.ASCII)),
    "aws-us-gov": _Partition(
        "console.amazonaws-us-gov.com", re.compile(r"us-gov-\w+-\d+", re.ASCII)
    ),
}
"""The partitions whose Step Functions console has a public address."""

_FRAGMENT_SAFE: Final = ":/"
"""What stays as it is in the ARN inside the URL: its separators. Everything but letters,
digits and ``-._~`` is percent-encoded (``(``, ``)``, ``[``, ``]``, ``<``, ``#``, spaces)."""


@dataclass(frozen=True)
class Link:
    url: str | None
    """The page, or None when no link can be made."""
    why_not: str | None = None
    """Why there is no link (None when there is one, or when there is no ARN at all)."""


def console_link(arn: str | None) -> Link:
    """The execution's page in the AWS console, for the ARN's partition and region."""
    if arn is None:
        return Link(None)
    try:
        parsed = parse_execution_arn(arn)
    except UsageError:
        return Link(None, "the execution ARN is not of AWS's form")
    partition = _PARTITIONS.get(parsed.partition)
    if partition is None:
        return Link(None, f"no public console address is known for partition {parsed.partition}")
    if partition.region.fullmatch(parsed.region) is None:
        return Link(None, f"{parsed.region} is not a region of partition {parsed.partition}")
    region = parsed.region
    return Link(
        f"https://{region}.{partition.console}/states/home?region={region}"
        f"#/v2/executions/details/{quote(parsed.arn, safe=_FRAGMENT_SAFE)}"
    )
