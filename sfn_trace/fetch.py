"""Fetch one Standard execution from AWS: DescribeExecution, the definition it ran, its history.

This is the only module in the package that imports boto3/botocore. Every botocore failure is
turned here, by :func:`_translate`, into one :class:`~sfn_trace.errors.SfnTraceError` whose
message is a single line fit for stderr (DESIGN.md, "CLI contract"), so no botocore exception
or traceback reaches the user. API facts: /work/shared/reference/asl-and-history.md §5.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from sfn_trace import __version__
from sfn_trace.arn import ExecutionArn, parse_execution_arn
from sfn_trace.definition import Definition
from sfn_trace.errors import AwsError, InputError, SfnTraceError, UsageError
from sfn_trace.execution import ExecutionData, ExecutionInfo
from sfn_trace.history import events_from_api, parse_timestamp


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

_DEFAULT_OPTIONS = AwsOptions()
_HISTORY_PAGE_SIZE = 1000  # the API maximum; the default (100) would mean 10x the calls

_ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
# A missing definition only costs the per-step replay, so these do not stop the trace.
_DEFINITION_OPTIONAL = _ACCESS_DENIED | {"KmsAccessDeniedException"}

_CREDENTIALS_HELP = (
    "set AWS_PROFILE or pass --profile, or configure credentials "
    "(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html)"
)
# Access key ids are not secret keys, but they identify credentials: never echo them.
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA)[A-Z0-9]{12,}\b")
_OBJECT_REPR = re.compile(r"^<[^>]*>:\s*")  # "<...AWSHTTPConnection object at 0x...>: "
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def stepfunctions_client(arn: ExecutionArn, options: AwsOptions) -> Any:
    """A Step Functions client in the ARN's region (unless overridden) with bounded retries.

    botocore's "standard" retry mode backs off on throttling by itself; ``max_attempts`` is
    passed as ``total_max_attempts`` so that ``--max-attempts N`` means N tries in all.
    """
    if options.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, not {options.max_attempts}")
    config = Config(
        retries={"mode": "standard", "total_max_attempts": options.max_attempts},
        user_agent_extra=f"sfn-trace/{__version__}",
        connect_timeout=10,
        read_timeout=60,
    )
    try:
        session = boto3.Session(
            profile_name=options.profile, region_name=options.region or arn.region
        )
        return session.client("stepfunctions", endpoint_url=options.endpoint_url, config=config)
    except ProfileNotFound as exc:
        profile = exc.kwargs.get("profile", options.profile)
        raise UsageError(f"AWS profile {profile!r} not found") from exc
    except InvalidRegionError as exc:
        raise UsageError(f"invalid AWS region {exc.kwargs.get('region_name')!r}") from exc
    except BotoCoreError as exc:
        raise UsageError(f"AWS configuration error: {_one_line(str(exc))}") from exc
    except ValueError as exc:  # botocore rejects a malformed endpoint URL with a ValueError
        raise UsageError(f"invalid --endpoint-url: {_one_line(str(exc))}") from exc


def fetch_execution(
    arn: str,
    options: AwsOptions = _DEFAULT_OPTIONS,
    *,
    client: Any = None,
    on_page: ProgressCallback | None = None,
) -> ExecutionData:
    """Fetch everything the trace needs about one Standard execution.

    The ARN is parsed before any call so that a typo fails with exit 2 and no network. The
    definition is optional (a warning when it cannot be had); the history is all or nothing:
    a failure part way raises, saying how far it got, rather than returning a cut history.
    """
    parsed = parse_execution_arn(arn)
    if parsed.express:
        raise UsageError(
            f"{parsed.arn} is an Express execution: Express executions have no "
            "GetExecutionHistory, their history lives only in the state machine's CloudWatch "
            "Logs (logging level ALL with includeExecutionData); tracing Express executions "
            "from logs is not supported yet"
        )
    if client is None:
        client = stepfunctions_client(parsed, options)
    ctx = _Context(parsed, client, options.max_attempts)
    warnings: list[str] = []

    try:
        described = client.describe_execution(executionArn=parsed.arn)
    except (BotoCoreError, ClientError) as exc:
        raise _translate(exc, ctx, "DescribeExecution") from exc
    info = ExecutionInfo(
        arn=described.get("executionArn", parsed.arn),
        name=described.get("name"),
        status=described.get("status"),
        state_machine_arn=described.get("stateMachineArn"),
        start=parse_timestamp(described.get("startDate")),
        stop=parse_timestamp(described.get("stopDate")),
    )

    definition = _fetch_definition(client, ctx, warnings)
    events = events_from_api(_fetch_history(client, ctx, on_page))
    if info.status == "RUNNING":
        warnings.append(
            f"execution is still RUNNING: traced as far as it got ({len(events)} events)"
        )
    return ExecutionData(
        info=info, events=events, definition=definition, source="aws", warnings=tuple(warnings)
    )


@dataclass(frozen=True)
class _Context:
    """What an error message needs besides the exception: the target and the client."""

    arn: ExecutionArn
    client: Any
    max_attempts: int

    @property
    def region(self) -> str | None:
        return getattr(getattr(self.client, "meta", None), "region_name", None)

    @property
    def endpoint(self) -> str:
        url = getattr(getattr(self.client, "meta", None), "endpoint_url", None) or "(unknown)"
        return _URL_USERINFO.sub("", str(url))


def _fetch_definition(client: Any, ctx: _Context, warnings: list[str]) -> Definition | None:
    """The definition the execution actually ran (not the machine's current one), if allowed."""
    try:
        response = client.describe_state_machine_for_execution(executionArn=ctx.arn.arn)
    except ClientError as exc:
        error = _translate(exc, ctx, "DescribeStateMachineForExecution")
        if _code(exc) not in _DEFINITION_OPTIONAL:
            raise error from exc
        warnings.append(f"definition not available, tracing without it: {error.message}")
        return None
    except BotoCoreError as exc:
        raise _translate(exc, ctx, "DescribeStateMachineForExecution") from exc
    try:
        return Definition.from_text(
            str(response.get("definition", "")),
            origin="definition from DescribeStateMachineForExecution",
        )
    except InputError as exc:
        warnings.append(f"definition not used, tracing without it: {_one_line(exc.message)}")
        return None


def _fetch_history(
    client: Any, ctx: _Context, on_page: ProgressCallback | None
) -> list[Mapping[str, Any]]:
    """All history events, oldest first, with execution data.

    A ``nextToken`` expires (``InvalidToken``) and cannot be refreshed, so the only recovery
    is to start again from the first page; that is tried once.
    """
    paginator = client.get_paginator("get_execution_history")
    for attempt in (1, 2):
        raw: list[Mapping[str, Any]] = []
        pages = 0
        try:
            for page in paginator.paginate(
                executionArn=ctx.arn.arn,
                includeExecutionData=True,
                reverseOrder=False,
                PaginationConfig={"PageSize": _HISTORY_PAGE_SIZE},
            ):
                pages += 1
                raw.extend(page.get("events", []))
                if on_page is not None:
                    on_page(pages, len(raw))
            return raw
        except ClientError as exc:
            if _code(exc) == "InvalidToken" and attempt == 1:
                continue
            error = _translate(exc, ctx, "GetExecutionHistory", (pages, len(raw)))
            if _code(exc) == "InvalidToken":
                error = AwsError(f"{error.message} (also after restarting from the first page)")
            raise error from exc
        except BotoCoreError as exc:
            raise _translate(exc, ctx, "GetExecutionHistory", (pages, len(raw))) from exc
    raise AssertionError("unreachable: the loop returns or raises")


def _translate(
    exc: Exception,
    ctx: _Context,
    operation: str,
    progress: tuple[int, int] = (0, 0),
) -> SfnTraceError:
    """One clear line for a botocore failure of ``operation``, naming how far a fetch got."""
    pages, events = progress
    got = f" after {pages} page{'s' if pages != 1 else ''} ({events} events)" if pages else ""
    arn = ctx.arn.arn

    if isinstance(exc, ClientError):
        code = _code(exc)
        op = str(getattr(exc, "operation_name", None) or operation)
        message = _one_line(str(exc.response.get("Error", {}).get("Message") or ""))
        if code in ("ExecutionDoesNotExist", "StateMachineDoesNotExist"):
            what = "execution" if code == "ExecutionDoesNotExist" else "state machine for execution"
            where = f"looked in region {ctx.region}"
            if ctx.region != ctx.arn.region:
                where += f"; the ARN says region {ctx.arn.region}"
            return AwsError(
                f"{what} not found: {arn} ({where} — check --region/--profile/the account)"
            )
        if code == "InvalidArn":
            return AwsError(f"AWS rejected the execution ARN {arn} ({code} on {op}): {message}")
        if code in _ACCESS_DENIED:
            return AwsError(
                f"access denied: the credentials lack IAM permission states:{op} on {arn}{got}"
            )
        if code in _THROTTLED:
            retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
            attempts = retries + 1 if isinstance(retries, int) else ctx.max_attempts
            return AwsError(
                f"throttled by AWS on {op} after {attempts} attempts{got}; "
                "retry later or raise --max-attempts"
            )
        if code in _BAD_CREDENTIALS:
            return AwsError(f"AWS rejected the credentials ({code}){got}: {message}")
        return AwsError(f"AWS error {code} on {op}{got}: {message}")

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)):
        detail = ""
        if isinstance(exc, PartialCredentialsError):  # names variables, never values
            detail = f" ({_one_line(str(exc))})"
        elif isinstance(exc, CredentialRetrievalError):
            detail = f" (the {exc.kwargs.get('provider', 'configured')} provider failed)"
        return AwsError(f"no AWS credentials found{detail}: {_CREDENTIALS_HELP}")
    if isinstance(exc, (SSOError, TokenRetrievalError)):
        return AwsError(f"AWS credentials unavailable: {_one_line(str(exc))}")
    if isinstance(exc, ProfileNotFound):
        return UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return AwsError(
            f"cannot reach the Step Functions endpoint {ctx.endpoint}{got}: {_reason(exc)}"
        )
    return AwsError(f"AWS error on {operation}{got}: {_one_line(str(exc))}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "Unknown")


def _reason(exc: BotoCoreError) -> str:
    """Why a connection failed, without botocore's object reprs."""
    if isinstance(exc, ConnectTimeoutError):
        return f"connection timed out ({_one_line(str(exc))})"
    if isinstance(exc, ReadTimeoutError):
        return f"no response in time ({_one_line(str(exc))})"
    cause = exc.kwargs.get("error")
    if cause is not None:
        text = _OBJECT_REPR.sub("", _one_line(str(cause)))
        text = text.rpartition("Failed to establish a new connection: ")[2]
        if text:
            return text
    return _one_line(str(exc))


def _one_line(text: str) -> str:
    """The first line of a service or library message, with access key ids masked.

    Some AWS messages (InvalidSignatureException) continue with the canonical request,
    which can carry a session token: only the first line is ever shown.
    """
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = _ACCESS_KEY_ID.sub("<access-key-id>", line)
    return line if len(line) <= 400 else line[:399] + "…"
