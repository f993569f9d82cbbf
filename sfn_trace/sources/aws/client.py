"""What every AWS call of sfn-trace shares: options, clients, retries, and error messages.

``sources/aws`` is the only package that imports boto3/botocore. Every botocore failure is
turned here, by :func:`translate`, into one :class:`~sfn_trace.errors.SfnTraceError` whose
message is a single line fit for stderr (docs/cli.md), its advice naming options in the
library's words (:class:`~sfn_trace.errors.Option`; the CLI words them as flags), so no
botocore exception or traceback reaches the user.

Bounded time on a bad network (``--timeout``, default 90 s): one request (one API call, so
one page of a paginated read) may go that long without any answer, its retries and their
back-off included. :class:`Timeouts` splits the budget into botocore's per-attempt connect and
read timeouts so that a stalled endpoint gets :data:`STALLED_ATTEMPTS` attempts, and
:class:`_Watch`, hooked on the client's ``before-send`` and ``needs-retry`` events, keeps the
clock: it stops the retries when no further attempt could end within the budget
(:class:`NoAnswerError`), and tells ``AwsOptions.on_retry`` of each retry. Any answer, even
throttling or a server error, restarts the clock: throttled requests keep all their
``--max-attempts``, and a history of many pages is never cut by a budget meant for one
request.

No credential is ever printed: every session made here registers the credentials botocore
resolved for it (:class:`_Credentials`, into :mod:`sfn_trace.model.secrets`), whatever their
source, and every message worded here is scrubbed of them (:func:`one_line`,
:func:`translate`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import JSONFileCache
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
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
from botocore.retries.standard import (
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)
from botocore.utils import SSOTokenLoader, parse_timestamp

from sfn_trace import __version__
from sfn_trace.errors import AwsError, Named, Option, SfnTraceError, UsageError
from sfn_trace.model.arn import ExecutionArn
from sfn_trace.model.options import AwsOptions, RetryCallback, RetryNotice
from sfn_trace.model.secrets import remember, scrub
from sfn_trace.sources.aws.pages import ParserFactory

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
    "set AWS_PROFILE or pass ",
    Option("profile"),
    ", or configure credentials "
    "(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html)",
)
CHECK_ACCOUNT: tuple[str | Named, ...] = (Option("region"), "/", Option("profile"), "/the account")
"""What to check when AWS says a resource does not exist: the region, the profile (the
account its credentials are in)."""
# Access key ids are not secret keys, but they identify credentials: never echo them.
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA)[A-Z0-9]{12,}\b")
_OBJECT_REPR = re.compile(r"^<[^>]*>:\s*")  # "<...AWSHTTPConnection object at 0x...>: "
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


STALLED_ATTEMPTS = 3
"""Attempts a stalled endpoint gets within ``--timeout`` (``--max-attempts`` if lower)."""
MAX_CONNECT_TIMEOUT = 5.0
"""Seconds an attempt may take to connect (TCP and TLS), at most; less for a small budget."""
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 20.0
# botocore's standard mode, after an attempt that got no answer (nor a retry-after header),
# waits rand() * min(0.05 * 2 ** (attempt - 1), 20) s (botocore/retries/standard.py).


def max_backoff(attempt: int) -> float:
    """The longest botocore waits before retrying failed attempt ``attempt`` (1-based) that
    got no answer."""
    return min(_BACKOFF_BASE * 2.0 ** (attempt - 1), _BACKOFF_CAP)


@dataclass(frozen=True)
class Timeouts:
    """``--timeout`` split into what botocore enforces on each attempt.

    A stalled endpoint gets ``stalled_attempts`` attempts within the budget: each may take
    ``attempt`` seconds at most (``connect`` + ``read``), and their back-offs are set aside
    first. With the defaults (90 s, 10 attempts): 3 attempts of 5 s to connect and 24.95 s
    to answer. The wall-clock check between attempts (:class:`_Watch`) is what bounds the
    whole; these only make the attempts fit in it.
    """

    budget: float
    max_attempts: int

    @property
    def stalled_attempts(self) -> int:
        return min(self.max_attempts, STALLED_ATTEMPTS)

    @property
    def attempt(self) -> float:
        """The longest one attempt can take: connecting, then waiting for the answer."""
        backoffs = sum(max_backoff(n) for n in range(1, self.stalled_attempts))
        return (self.budget - backoffs) / self.stalled_attempts

    @property
    def connect(self) -> float:
        return min(MAX_CONNECT_TIMEOUT, self.attempt / 4)

    @property
    def read(self) -> float:
        """botocore's read timeout: the longest wait for the answer, or between two of its
        reads."""
        return self.attempt - self.connect


def make_client(
    service: str,
    region: str,
    options: AwsOptions,
    *,
    host_prefix: bool = True,
    session: Any = None,
    pool: int | None = None,
) -> Any:
    """A boto3 client with bounded standard retries, from the normal credential chain.

    botocore's "standard" retry mode backs off on throttling by itself; ``max_attempts`` is
    passed as ``total_max_attempts`` so that ``--max-attempts N`` means N tries in all.
    ``--timeout`` bounds how long each request may go without an answer (:class:`Timeouts`,
    :class:`_Watch`). ``host_prefix=False`` keeps an operation's host prefix (TestState's
    ``sync-``) off the endpoint, which a local emulator's address cannot take. ``session``:
    the boto3 session to make it from (:class:`Clients` shares one); by default the
    caller's (``options.session``) or a new one (:func:`new_session`). ``pool``: the HTTP
    connections kept for calls made at once from many threads (botocore keeps 10).
    """
    options.check()
    timeouts = Timeouts(options.timeout, options.max_attempts)
    config = Config(
        retries={"mode": "standard", "total_max_attempts": options.max_attempts},
        user_agent_extra=f"sfn-trace/{__version__}",
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        inject_host_prefix=host_prefix,
        **({"max_pool_connections": pool} if pool else {}),
    )
    try:
        if session is None:
            session = new_session(options, region)
        # Resolved once: the session keeps them, and the client signs with the same object.
        # (None: the client looks once more, and its first call fails without credentials.)
        credentials = _Credentials(session.get_credentials())
        client = session.client(
            service, region_name=region, endpoint_url=options.endpoint_url, config=config
        )
    except BotoCoreError as exc:
        raise _unusable(exc, options) from exc
    except ValueError as exc:  # botocore rejects a malformed endpoint URL with a ValueError
        raise UsageError("invalid ", Option("endpoint_url"), f": {one_line(str(exc))}") from exc
    _Watch(timeouts, options.on_retry).attach(client)
    credentials.attach(client)
    return client


def new_session(options: AwsOptions, region: str | None = None) -> Any:
    """The boto3 session clients are made from: the caller's own (``options.session``, left
    as it is), or a new one from the normal credential chain (``options.profile``), whose
    profile keys are registered as secrets, whose timestamps are read by :func:`_timestamp`
    and whose history pages are decoded by :mod:`sfn_trace.sources.aws.pages`."""
    if options.session is not None:  # the caller's own session and credentials
        return options.session
    try:
        core = botocore.session.get_session()
        parsers = ParserFactory()  # history pages decoded fast (sources/aws/pages.py)
        parsers.set_parser_defaults(timestamp_parser=_timestamp)
        core.register_component("response_parser_factory", parsers)
        session = boto3.Session(
            profile_name=options.profile, region_name=region, botocore_session=core
        )
        remember(*_profile_keys(core))
    except BotoCoreError as exc:
        raise _unusable(exc, options) from exc
    return session


def _unusable(exc: BotoCoreError, options: AwsOptions) -> UsageError:
    """The line for a session or a client botocore could not make: a profile that does not
    exist, a malformed region, another configuration error."""
    if isinstance(exc, ProfileNotFound):
        return UsageError(f"AWS profile {exc.kwargs.get('profile', options.profile)!r} not found")
    if isinstance(exc, InvalidRegionError):
        return UsageError(f"invalid AWS region {exc.kwargs.get('region_name')!r}")
    return UsageError(f"AWS configuration error: {one_line(str(exc))}")


def _timestamp(value: Any) -> Any:
    """A timestamp of an answer, as botocore's parser reads it (an aware datetime), read
    faster: the JSON protocols send epoch seconds, which become UTC datetimes here, where
    botocore's default asks the local time zone of each of them (13 of the 32 ms that a
    1,000-event history page took to parse). Anything else goes to botocore's parser."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        with contextlib.suppress(OSError, OverflowError, ValueError):
            return datetime.fromtimestamp(value, timezone.utc)
    return parse_timestamp(value)


class Clients:
    """The clients of one command, made once per (service, region) from one session, from
    any thread: ``clients("logs", region)``.

    One session for all: its loader reads botocore's shared data files (partitions,
    endpoints, defaults) once, so the second and later clients cost ~10-40 ms of CPU
    instead of ~50-110 ms (three clients of a live trace: 105 ms instead of 180-250 ms). A
    session is not thread-safe: clients are made under a lock (and a client, once made, is).
    """

    def __init__(self, options: AwsOptions) -> None:
        self.options = options
        self._session: Any = None
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        with self._lock:
            if (service, region) not in self._cache:
                if self._session is None:
                    self._session = new_session(self.options, region)
                self._cache[(service, region)] = make_client(
                    service, region, self.options, session=self._session
                )
            return self._cache[(service, region)]


_KEY_NAMES = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
_SSO_TOKEN_CACHE = os.path.join("~", ".aws", "sso", "cache")
"""Where botocore (and the AWS CLI's ``aws sso login``) keep SSO access tokens."""


def _profile_keys(core: Any) -> list[str | None]:
    """The static keys of the profile in use and of the ``source_profile`` chain an
    assume-role starts from (config and shared credentials files, as botocore merged them):
    botocore signs its STS calls with them; and an SSO profile's cached access token, with
    which botocore asks the SSO portal for the role's credentials."""
    config = core.full_config
    profiles = config.get("profiles", {})
    name = core.profile or "default"
    seen: set[str] = set()
    keys: list[str | None] = []
    while isinstance(name, str) and name not in seen:
        seen.add(name)
        profile = profiles.get(name)
        if not isinstance(profile, dict):
            break
        keys += [value for key in _KEY_NAMES if isinstance(value := profile.get(key), str)]
        keys += _sso_tokens(profile, config.get("sso_sessions", {}))
        name = profile.get("source_profile")
    return keys


def _sso_tokens(profile: dict[str, Any], sessions: dict[str, Any]) -> list[str | None]:
    """The cached access and refresh tokens of an SSO profile (none if not logged in)."""
    session = profile.get("sso_session")
    start = profile.get("sso_start_url")
    if isinstance(session, str) and isinstance(sessions.get(session), dict):
        start = sessions[session].get("sso_start_url", start)
    if not isinstance(start, str):
        return []
    cache = JSONFileCache(os.path.expanduser(_SSO_TOKEN_CACHE))
    try:
        token = SSOTokenLoader(cache=cache)(start, session if isinstance(session, str) else None)
    except (BotoCoreError, OSError, ValueError):
        return []
    return [token.get("accessToken"), token.get("refreshToken")]


class _Credentials:
    """The credentials one client signs with, registered as secrets to scrub as soon as
    their values are known: at once when botocore resolved them with the session
    (environment, a profile's keys, a ``credential_process``), before each request is sent
    when it fetches them for the first request (SSO, assume-role) or refreshes them, and
    the session token each signed request carries."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials
        self.remember()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service}", self.before_send)

    def before_send(self, request: Any = None, **_: Any) -> None:
        headers = getattr(request, "headers", None)
        if headers is not None:
            token = headers.get("X-Amz-Security-Token")
            remember(token.decode("ascii", "replace") if isinstance(token, bytes) else token)
        self.remember()

    def remember(self) -> None:
        credentials = self.credentials
        if credentials is None:
            return
        pending = getattr(credentials, "refresh_needed", None)
        if pending is not None and pending(0):
            return  # not fetched yet (SSO, assume-role), or expired: signing fetches them
        try:
            frozen = credentials.get_frozen_credentials()
        except (BotoCoreError, ClientError):
            return  # a refresh failed: the request that needs them says so
        remember(frozen.access_key, frozen.secret_key, frozen.token)


class NoAnswerError(BotoCoreError):  # type: ignore[misc]  # botocore has no type hints
    """A request got no answer, and ``--timeout`` or ``--max-attempts`` allows it no further
    attempt. Raised by :class:`_Watch` in place of the last attempt's exception (``error``,
    also the ``__cause__``); :func:`translate` words it."""

    fmt = "no answer to {operation} after {attempts} attempt(s) in {elapsed:.1f} s: {error}"

    operation: str
    attempts: int
    elapsed: float
    """Seconds since the first attempt that got no answer started."""
    timeout: float
    out_of: str
    """``"time"`` (one more attempt could not end within ``--timeout``) or ``"attempts"``."""
    error: Exception

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("operation", "attempts", "elapsed", "timeout", "out_of", "error"):
            setattr(self, name, kwargs[name])


_NO_ANSWER = (BotoConnectionError, HTTPClientError)
"""What an attempt raises when it got no HTTP answer: botocore retries exactly these."""
_SILENT_SINCE = "sfn_trace_silent_since"
"""Key in botocore's per-request context: when the first attempt since the last answer (or
the first attempt) was sent."""


class _Watch:
    """The ``--timeout`` clock and the retry notices, as hooks on one client's events.

    ``before-send`` (each attempt) starts the clock unless it runs; ``needs-retry`` (after
    each attempt, first, ahead of botocore's own retry handler, which decides and backs off)
    stops it on an answer, and on an attempt that got none raises :class:`NoAnswerError`
    when botocore will not retry (``--max-attempts``) or when one more attempt, after the
    longest back-off, might not end within the budget. Otherwise it returns None and
    botocore goes on as usual. The state lives in the request's own context, so one client
    serves many threads.
    """

    def __init__(
        self,
        timeouts: Timeouts,
        on_retry: RetryCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeouts = timeouts
        self.on_retry = on_retry
        self._clock = clock
        self._adapter = RetryEventAdapter()
        # The conditions of botocore's standard mode, asked beforehand what it will decide.
        self._conditions = StandardRetryConditions(max_attempts=timeouts.max_attempts)
        self._throttling = ThrottlingErrorDetector(self._adapter)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_id.hyphenize()
        events.register(f"before-send.{service}", self.before_send)
        events.register_first(f"needs-retry.{service}", self.needs_retry)

    def before_send(self, request: Any = None, **_: Any) -> None:
        context = getattr(request, "context", None)
        if isinstance(context, dict):
            context.setdefault(_SILENT_SINCE, self._clock())

    def needs_retry(self, **kwargs: Any) -> None:
        now = self._clock()
        request_context = kwargs["request_dict"].get("context")
        context: dict[str, Any] = request_context if isinstance(request_context, dict) else {}
        attempts: int = kwargs["attempts"]
        operation = str(kwargs["operation"].name)
        retry = self._adapter.create_retry_context(**kwargs)
        will_retry = bool(self._conditions.is_retryable(retry))
        silent: float | None = None
        if kwargs["response"] is not None:  # an answer, whatever it says: the clock stops
            context.pop(_SILENT_SINCE, None)
        elif isinstance(kwargs["caught_exception"], _NO_ANSWER):
            since = float(context.get(_SILENT_SINCE, now))
            silent = now - since
            next_end = now + max_backoff(attempts) + self.timeouts.attempt
            fits = next_end <= since + self.timeouts.budget
            if not will_retry or not fits:
                raise NoAnswerError(
                    operation=operation,
                    attempts=attempts,
                    elapsed=silent,
                    timeout=self.timeouts.budget,
                    out_of="time" if will_retry else "attempts",
                    error=kwargs["caught_exception"],
                ) from kwargs["caught_exception"]
        if will_retry and self.on_retry is not None:
            self.on_retry(
                RetryNotice(
                    operation=operation,
                    reason=self._reason(retry),
                    attempt=attempts + 1,
                    max_attempts=self.timeouts.max_attempts,
                    silent=silent,
                    timeout=self.timeouts.budget,
                )
            )

    def _reason(self, retry: Any) -> str:
        """What the failed attempt got, in words for a progress line."""
        if retry.http_response is not None:
            if self._throttling.is_throttling_error_from_context(retry):
                return "throttling"
            return f"an HTTP {retry.http_response.status_code} answer"
        error = retry.caught_exception
        if isinstance(error, ReadTimeoutError):
            return "a read timeout"
        if isinstance(error, ConnectTimeoutError):
            return "a connect timeout"
        if isinstance(error, ConnectionClosedError):
            return "a closed connection"
        if isinstance(error, EndpointConnectionError):
            return "a failed connection"
        return "a connection error"


def configured_region(options: AwsOptions) -> str | None:
    """The region a client would be made in without one from an ARN: the caller's session's
    (``options.session``), else boto3's resolution (the profile, ``AWS_REGION``, ...);
    None when none is configured."""
    if options.session is not None:
        region = options.session.region_name
    else:
        try:
            region = boto3.Session(profile_name=options.profile).region_name
        except ProfileNotFound as exc:
            raise UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found") from exc
    return str(region) if region else None


def default_region(options: AwsOptions) -> str:
    """:func:`configured_region`, for the Lambda logs of a target without an ARN."""
    region = configured_region(options)
    if region is None:
        raise UsageError("no AWS region configured for the Lambda logs: pass ", Option("region"))
    return region


def stepfunctions_client(
    arn: ExecutionArn, options: AwsOptions, clients: Callable[[str, str], Any] | None = None
) -> Any:
    """A Step Functions client in the ARN's region unless ``--region`` says otherwise (from
    ``clients``, a :class:`Clients`, when given)."""
    region = options.region or arn.region
    if clients is not None:
        return clients("stepfunctions", region)
    return make_client("stepfunctions", region, options)


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
    """One clear line for a botocore failure of ``operation``, naming how far a fetch got,
    without any credential (an error code or message from the endpoint may echo one)."""
    error = _translate(exc, ctx, operation, progress)
    clean = tuple(scrub(part) if isinstance(part, str) else part for part in error.parts)
    return error if clean == error.parts else type(error)(*clean)


def _translate(
    exc: Exception, ctx: Context, operation: str, progress: tuple[int, int]
) -> SfnTraceError:
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
            return AwsError(f"{what} not found: {arn} ({where} — check ", *CHECK_ACCOUNT, ")")
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
                f"throttled by AWS on {op} after {attempts} attempts{got}; retry later or raise ",
                Option("max_attempts"),
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
        return AwsError(f"no AWS credentials found{detail}: ", *_CREDENTIALS_HELP)
    if isinstance(exc, (SSOError, TokenRetrievalError)):
        return AwsError(f"AWS credentials unavailable: {one_line(str(exc))}")
    if isinstance(exc, ProfileNotFound):
        return UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found")
    if isinstance(exc, NoAnswerError):
        return _no_answer(exc, ctx, got)
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return AwsError(f"cannot reach the {service} endpoint {ctx.endpoint}{got}: {_reason(exc)}")
    return AwsError(f"AWS error on {operation}{got}: {one_line(str(exc))}")


def _no_answer(exc: NoAnswerError, ctx: Context, got: str) -> AwsError:
    """The line for a request that got no answer: a timeout says how long it waited, any
    other failure (refused, closed, reset) what it was; both name the operation and how many
    attempts it had."""
    tries = f"{exc.operation}, {exc.attempts} attempt{'s' if exc.attempts != 1 else ''}"
    if isinstance(exc.error, (ConnectTimeoutError, ReadTimeoutError)):
        limit: tuple[str | Named, ...] = ()
        if exc.out_of == "time":
            waited = f"within {exc.timeout:g} s"
        else:
            waited = f"in {max(1, math.ceil(exc.elapsed))} s"
            limit = (": the ", Option("max_attempts"), " limit")
        return AwsError(
            f"no answer from {ctx.endpoint} {waited} ({tries}",
            *limit,
            f"){got}: check the network or ",
            Option("endpoint_url"),
        )
    _, service = ctx.service
    return AwsError(
        f"cannot reach the {service} endpoint {ctx.endpoint} ({tries}){got}: {_reason(exc.error)}"
    )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "Unknown")


def _reason(exc: BotoCoreError) -> str:
    """Why a connection failed, without botocore's object reprs."""
    if isinstance(exc, ConnectTimeoutError):
        return f"connection timed out ({one_line(str(exc))})"
    if isinstance(exc, ReadTimeoutError):
        return f"no response in time ({one_line(str(exc))})"
    cause = exc.kwargs.get("error")
    if isinstance(exc, ConnectionClosedError) and cause is not None:
        # urllib3's ProtocolError("Connection aborted.", ConnectionResetError(104, ...)).
        inner = cause.args[-1] if getattr(cause, "args", None) else cause
        return f"the connection was closed before an answer ({one_line(str(inner))})"
    if cause is not None:
        text = _OBJECT_REPR.sub("", one_line(str(cause)))
        text = text.rpartition("Failed to establish a new connection: ")[2]
        if text:
            return text
    return one_line(str(exc))


def one_line(text: str) -> str:
    """The first line of a service or library message, with access key ids masked and
    every credential scrubbed (:func:`sfn_trace.model.secrets.scrub`).

    Some AWS messages (InvalidSignatureException) continue with the canonical request,
    which can carry a session token: only the first line is ever shown.
    """
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = _ACCESS_KEY_ID.sub("<access-key-id>", scrub(line))
    return line if len(line) <= 400 else line[:399] + "…"
