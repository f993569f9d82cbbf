"""What every AWS call of sfn-trace shares: options, clients, retries, and error messages.

The fetch package is the only place that imports boto3/botocore. Every botocore failure is
turned here, by :func:`translate`, into one :class:`~sfn_trace.errors.SfnTraceError` whose
message is a single line fit for stderr (docs/cli.md), so no botocore exception or traceback
reaches the user.
"""

from __future__ import annotations

import re
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
from sfn_trace.errors import AwsError, SfnTraceError, UsageError
from sfn_trace.model.arn import ExecutionArn
from sfn_trace.model.options import AwsOptions

ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)

_CREDENTIALS_HELP = (
    "set AWS_PROFILE or pass --profile, or configure credentials "
    "(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html)"
)
# Access key ids are not secret keys, but they identify credentials: never echo them.
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA)[A-Z0-9]{12,}\b")
_OBJECT_REPR = re.compile(r"^<[^>]*>:\s*")  # "<...AWSHTTPConnection object at 0x...>: "
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def make_client(service: str, region: str, options: AwsOptions) -> Any:
    """A boto3 client with bounded standard retries, from the normal credential chain.

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
        session = boto3.Session(profile_name=options.profile, region_name=region)
        return session.client(service, endpoint_url=options.endpoint_url, config=config)
    except ProfileNotFound as exc:
        profile = exc.kwargs.get("profile", options.profile)
        raise UsageError(f"AWS profile {profile!r} not found") from exc
    except InvalidRegionError as exc:
        raise UsageError(f"invalid AWS region {exc.kwargs.get('region_name')!r}") from exc
    except BotoCoreError as exc:
        raise UsageError(f"AWS configuration error: {one_line(str(exc))}") from exc
    except ValueError as exc:  # botocore rejects a malformed endpoint URL with a ValueError
        raise UsageError(f"invalid --endpoint-url: {one_line(str(exc))}") from exc


def default_region(options: AwsOptions) -> str:
    """The region boto3 would use (profile, AWS_REGION, ...), for targets without an ARN."""
    try:
        region = boto3.Session(profile_name=options.profile).region_name
    except ProfileNotFound as exc:
        raise UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found") from exc
    if not region:
        raise UsageError("no AWS region configured for the Lambda logs: pass --region")
    return str(region)


def stepfunctions_client(arn: ExecutionArn, options: AwsOptions) -> Any:
    """A Step Functions client in the ARN's region unless ``--region`` says otherwise."""
    return make_client("stepfunctions", options.region or arn.region, options)


@dataclass(frozen=True)
class Context:
    """What an error message needs besides the exception: the target and the client."""

    arn: ExecutionArn | None
    client: Any
    max_attempts: int
    target: str = ""
    """What the call was about, when not the execution (a log group, a function)."""

    @property
    def region(self) -> str | None:
        return getattr(getattr(self.client, "meta", None), "region_name", None)

    @property
    def endpoint(self) -> str:
        url = getattr(getattr(self.client, "meta", None), "endpoint_url", None) or "(unknown)"
        return _URL_USERINFO.sub("", str(url))

    @property
    def service(self) -> tuple[str, str]:
        """(IAM action prefix, display name) of the client's service."""
        model = getattr(getattr(self.client, "meta", None), "service_model", None)
        prefix = str(getattr(model, "signing_name", None) or "states")
        return prefix, _SERVICE_NAMES.get(prefix, prefix)


_SERVICE_NAMES = {"states": "Step Functions", "logs": "CloudWatch Logs", "lambda": "Lambda"}


def translate(
    exc: Exception,
    ctx: Context,
    operation: str,
    progress: tuple[int, int] = (0, 0),
) -> SfnTraceError:
    """One clear line for a botocore failure of ``operation``, naming how far a fetch got."""
    pages, events = progress
    got = f" after {pages} page{'s' if pages != 1 else ''} ({events} events)" if pages else ""
    arn = ctx.target or (ctx.arn.arn if ctx.arn else "")
    prefix, service = ctx.service

    if isinstance(exc, ClientError):
        code = error_code(exc)
        op = str(getattr(exc, "operation_name", None) or operation)
        message = one_line(str(exc.response.get("Error", {}).get("Message") or ""))
        if code in ("ExecutionDoesNotExist", "StateMachineDoesNotExist"):
            what = "execution" if code == "ExecutionDoesNotExist" else "state machine for execution"
            where = f"looked in region {ctx.region}"
            if ctx.arn is not None and ctx.region != ctx.arn.region:
                where += f"; the ARN says region {ctx.arn.region}"
            return AwsError(
                f"{what} not found: {arn} ({where} — check --region/--profile/the account)"
            )
        if code == "InvalidArn":
            return AwsError(f"AWS rejected the execution ARN {arn} ({code} on {op}): {message}")
        if code in ACCESS_DENIED:
            return AwsError(
                f"access denied: the credentials lack IAM permission {prefix}:{op} on {arn}{got}"
            )
        if code in THROTTLED:
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
            detail = f" ({one_line(str(exc))})"
        elif isinstance(exc, CredentialRetrievalError):
            detail = f" (the {exc.kwargs.get('provider', 'configured')} provider failed)"
        return AwsError(f"no AWS credentials found{detail}: {_CREDENTIALS_HELP}")
    if isinstance(exc, (SSOError, TokenRetrievalError)):
        return AwsError(f"AWS credentials unavailable: {one_line(str(exc))}")
    if isinstance(exc, ProfileNotFound):
        return UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return AwsError(f"cannot reach the {service} endpoint {ctx.endpoint}{got}: {_reason(exc)}")
    return AwsError(f"AWS error on {operation}{got}: {one_line(str(exc))}")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "Unknown")


def _reason(exc: BotoCoreError) -> str:
    """Why a connection failed, without botocore's object reprs."""
    if isinstance(exc, ConnectTimeoutError):
        return f"connection timed out ({one_line(str(exc))})"
    if isinstance(exc, ReadTimeoutError):
        return f"no response in time ({one_line(str(exc))})"
    cause = exc.kwargs.get("error")
    if cause is not None:
        text = _OBJECT_REPR.sub("", one_line(str(cause)))
        text = text.rpartition("Failed to establish a new connection: ")[2]
        if text:
            return text
    return one_line(str(exc))


def one_line(text: str) -> str:
    """The first line of a service or library message, with access key ids masked.

    Some AWS messages (InvalidSignatureException) continue with the canonical request,
    which can carry a session token: only the first line is ever shown.
    """
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = _ACCESS_KEY_ID.sub("<access-key-id>", line)
    return line if len(line) <= 400 else line[:399] + "…"
