"""How to reach AWS: plain values, importable without boto3 (offline runs never load it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS; ``None`` means boto3's normal resolution."""

    region: str | None = None
    """Default: the region in the ARN."""
    profile: str | None = None
    endpoint_url: str | None = None
    """When None, botocore itself honours ``AWS_ENDPOINT_URL``."""
    max_attempts: int = 10
    """Total attempts per request (first try included) before throttling becomes an error."""


ProgressCallback = Callable[[int, int], None]
"""Called after each history page with (pages fetched so far, events so far)."""

DEFAULT_OPTIONS = AwsOptions()


FollowChildren = int | Literal["all"]
"""``--follow-children``: at most N child executions in all, or every one."""
