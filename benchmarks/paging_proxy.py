"""A loopback HTTP proxy in front of the lab's moto server that pages history like AWS.

moto's ``GetExecutionHistory`` returns every event in one response and ignores
``maxResults``, ``nextToken``, ``reverseOrder`` and ``includeExecutionData`` (reference
section 8, gap 10), so a client's paging, its call counts and its recovery from a failed or
expired page cannot be exercised against moto alone. :class:`PagingProxy` answers
``GetExecutionHistory`` itself, the way the API documents it
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html):
``maxResults`` 1..1000 (0 or absent: 100; more: ``ValidationException``), an opaque
``nextToken`` bound to the execution and the other arguments (``InvalidToken`` otherwise),
newest first with ``reverseOrder``, no input/output with ``includeExecutionData: false``.
The events come from a snapshot taken at the first page: moto's own full answer for that
execution, or a history registered with :meth:`PagingProxy.serve_history` (a generated
history of any size for an execution that exists in moto, so that ``DescribeExecution`` and
``DescribeStateMachineForExecution`` are still moto's answers). Every other request is
passed to moto unchanged.

It counts requests per operation (``states:GetExecutionHistory``, ``logs:FilterLogEvents``,
...) and injects faults: on a fraction of requests an HTTP 400 ``ThrottlingException``, an
HTTP 500, or a connection closed without a response, the kinds taken in turn (three faults
exercise all three). Which requests fail is drawn from one seeded random stream per
operation, so it depends only on the seed and on the order of that operation's requests: a
client that pages sequentially sees the same faults every run, even if it reads other
services from several threads. A given
history page can also be made to fail N times (or always), answered slowly, or have its
``nextToken`` "expire" (HTTP 400 ``InvalidToken``) N times.

Standard library only (``http.server``, ``http.client``, ``threading``); binds 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HISTORY = "states:GetExecutionHistory"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
FAULT_KINDS = ("throttle", "error500", "drop")
_TARGET_PREFIXES = {"AWSStepFunctions": "states", "Logs_20140328": "logs"}
_DATA_MEMBERS = ("input", "inputDetails", "output", "outputDetails")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def operation_of(method: str, path: str, target: str | None) -> str:
    """``states:GetExecutionHistory`` from ``X-Amz-Target``; a few REST calls by path."""
    if target:
        prefix, _, name = target.partition(".")
        return f"{_TARGET_PREFIXES.get(prefix, prefix)}:{name}"
    route = path.split("?", 1)[0].rstrip("/")
    if method == "GET" and route.startswith("/2015-03-31/functions/"):
        if route.endswith("/configuration"):
            return "lambda:GetFunctionConfiguration"
        return "lambda:GetFunction"
    return f"{method} {route or '/'}"


def wire_events(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """History events as the JSON protocol carries them: ``timestamp`` in epoch seconds.

    Accepts the AWS CLI's ISO 8601 strings, boto3's datetimes or numbers.
    """
    converted = []
    for event in events:
        event = dict(event)
        stamp = event.get("timestamp")
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if isinstance(stamp, datetime):
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=timezone.utc)
            event["timestamp"] = round(stamp.timestamp(), 3)
        converted.append(event)
    return converted


@dataclass
class PageServed:
    """One successful GetExecutionHistory answer: which slice of which snapshot."""

    execution_arn: str
    snapshot: int
    offset: int
    count: int
    reverse: bool


class _Snapshot:
    """The events one fetch pages through (its JSON encoding made once, on first use)."""

    def __init__(self, arn: str, events: list[dict[str, Any]]) -> None:
        self.arn = arn
        self.events = events
        self._encoded: list[str] | None = None
        self._lock = threading.Lock()

    def encoded(self) -> list[str]:
        with self._lock:
            if self._encoded is None:
                self._encoded = [json.dumps(e, ensure_ascii=False) for e in self.events]
            return self._encoded


class _Reply(Exception):
    """An early answer (error or fault) from inside the history handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class PagingProxy:
    """See the module docstring. Use as a context manager or :meth:`start`/:meth:`stop`."""

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        fault_rate: float = 0.0,
        fault_kinds: Iterable[str] = FAULT_KINDS,
        fault_operations: Iterable[str] | None = None,
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        self.fault_operations = None if fault_operations is None else set(fault_operations)
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self._faults_drawn = 0
        self._delays: dict[tuple[int, bool], float] = {}
        self._lock = threading.Lock()
        self._overrides: dict[str, _Snapshot] = {}
        self._snapshots: dict[int, _Snapshot] = {}
        self._fail_pages: dict[tuple[int, bool], tuple[int | None, str]] = {}
        self._expire_pages: dict[tuple[int, bool], int] = {}
        self._latest: dict[str, int] = {}
        """Execution ARN -> the snapshot its last forward first page began."""
        self.calls: Counter[str] = Counter()
        """Requests received, per operation (faulted ones included)."""
        self.ok: Counter[str] = Counter()
        """Requests answered with a 2xx, per operation."""
        self.faults: Counter[str] = Counter()
        """Faults injected, per kind (``throttle``, ``error500``, ``drop``, ``invalid_token``,
        ``page_failure``)."""
        self.pages: list[PageServed] = []
        self.history_latency = 0.0
        """Seconds every GetExecutionHistory answer (either direction) waits."""
        self.other_latency = 0.0
        """Seconds every other answer waits (a faraway region's round trip)."""
        self.reject_signatures = False
        """When set, every request is answered like AWS answers a bad signature: HTTP 400
        ``InvalidSignatureException`` whose message echoes the canonical request, signed
        headers (``x-amz-security-token`` included) and all."""
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration ----------------------------------------------------------------

    def serve_history(self, execution_arn: str, events: Iterable[Mapping[str, Any]]) -> None:
        """Answer GetExecutionHistory for ``execution_arn`` with ``events`` (any timestamp
        form) instead of asking moto; every other call about it still goes to moto."""
        snapshot = _Snapshot(execution_arn, wire_events(events))
        with self._lock:
            self._overrides[execution_arn] = snapshot

    def fail_history_page(
        self, page: int, times: int | None = None, kind: str = "error500", *, reverse: bool = False
    ) -> None:
        """Make history page ``page`` (0-based, by offset / page size, of the forward read
        or, with ``reverse``, of the newest-first one) fail ``times`` times (None: always)
        with ``kind`` (``error500`` or ``throttle``)."""
        if kind not in ("error500", "throttle"):
            raise ValueError(f"a failing page answers error500 or throttle, not {kind!r}")
        with self._lock:
            self._fail_pages[(page, reverse)] = (times, kind)

    def expire_token(self, page: int, times: int = 1, *, reverse: bool = False) -> None:
        """Answer ``InvalidToken`` the next ``times`` requests for history page ``page``
        (page >= 1: page 0 has no token)."""
        if page < 1:
            raise ValueError("only pages after the first are requested with a nextToken")
        with self._lock:
            self._expire_pages[(page, reverse)] = times

    def delay_history_page(self, page: int, seconds: float, *, reverse: bool = False) -> None:
        """Answer history page ``page`` only after ``seconds`` (a slow page to interrupt)."""
        with self._lock:
            self._delays[(page, reverse)] = seconds

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.ok.clear()
            self.faults.clear()
            self.pages.clear()

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> PagingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> PagingProxy:
        proxy = self

        class Handler(_Handler):
            pass

        Handler.proxy = proxy
        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- requests ---------------------------------------------------------------------

    def handle(self, request: _Handler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        operation = operation_of(method, request.path, request.headers.get("X-Amz-Target"))
        with self._lock:
            self.calls[operation] += 1
            fault = self._draw_fault(operation)
        if self.reject_signatures:
            request.send_error_json(400, "InvalidSignatureException", _signature_message(request))
            return
        if fault == "drop":
            request.drop()
            return
        if fault == "throttle":
            request.send_error_json(400, "ThrottlingException", "Rate exceeded")
            return
        if fault == "error500":
            request.send_error_json(500, "InternalFailure", "Internal service error (injected)")
            return
        time.sleep(self.history_latency if operation == HISTORY else self.other_latency)
        if operation == HISTORY:
            try:
                status, payload = self._history(request, body)
            except _Reply as reply:
                request.send_error_json(reply.status, reply.code, reply.message)
                return
            request.send_body(status, payload)
        else:
            status, headers, payload = self._forward(request, method, body)
            request.send_body(status, payload, headers)
        if 200 <= status < 300:
            with self._lock:
                self.ok[operation] += 1

    def _draw_fault(self, operation: str) -> str | None:
        if self.fault_rate <= 0 or not self.fault_kinds:
            return None
        if self.fault_operations is not None and operation not in self.fault_operations:
            return None
        if operation not in self._streams:
            self._streams[operation] = random.Random(f"{self._seed}/{operation}")
        if self._streams[operation].random() >= self.fault_rate:
            return None
        kind = self.fault_kinds[self._faults_drawn % len(self.fault_kinds)]
        self._faults_drawn += 1
        self.faults[kind] += 1
        return kind

    def _forward(
        self, request: _Handler, method: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            connection.request(method, request.path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_HEADERS and k.lower() not in ("server", "date")
            ]
            return response.status, kept, payload
        finally:
            connection.close()

    def _history(self, request: _Handler, body: bytes) -> tuple[int, bytes]:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _Reply(400, "SerializationException", "request body is not JSON") from None
        arn = params.get("executionArn")
        if not isinstance(arn, str):
            raise _Reply(400, "ValidationException", "executionArn is required")
        size = params.get("maxResults") or DEFAULT_PAGE
        if not isinstance(size, int) or not 0 < size <= MAX_PAGE:
            raise _Reply(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to "
                f"satisfy constraint: Member must have value less than or equal to {MAX_PAGE}",
            )
        reverse = bool(params.get("reverseOrder", False))
        include = params.get("includeExecutionData", True) is not False
        token = params.get("nextToken")
        with self._lock:
            latest = self._latest.get(arn) if reverse and token is None else None
            if latest not in self._snapshots:
                latest = None
        if latest is not None:
            # The newest-first reader of a fetch reads the snapshot its forward reader began.
            snapshot_id, offset = latest, 0
        elif token is None:
            snapshot_id, error = self._snapshot(request, arn)
            if error is not None:  # moto answered with an error: passed on as is
                return error
            offset = 0
        else:
            snapshot_id, offset = self._read_token(token, arn, reverse, include)
        page = offset // size
        with self._lock:
            key = (page, reverse)
            if self._expire_pages.get(key, 0) > 0 and token is not None:
                self._expire_pages[key] -= 1
                self.faults["invalid_token"] += 1
                raise _Reply(400, "InvalidToken", "Invalid Token: 'Token has expired'")
            if key in self._fail_pages:
                times, kind = self._fail_pages[key]
                if times is None or times > 0:
                    if times is not None:
                        self._fail_pages[key] = (times - 1, kind)
                    self.faults["page_failure"] += 1
                    if kind == "throttle":
                        raise _Reply(400, "ThrottlingException", "Rate exceeded")
                    raise _Reply(500, "InternalFailure", "Internal service error (page)")
            snapshot = self._snapshots[snapshot_id]
            delay = self._delays.get(key, 0.0)
        if delay:
            time.sleep(delay)
        total = len(snapshot.events)
        indices = range(offset, min(offset + size, total))
        if reverse:
            indices = range(total - 1 - offset, max(total - 1 - offset - size, -1), -1)
        if include:
            encoded = snapshot.encoded()
            parts = [encoded[i] for i in indices]
        else:
            parts = [json.dumps(_without_data(snapshot.events[i])) for i in indices]
        text = '{"events":[' + ",".join(parts) + "]"
        if offset + len(parts) < total:
            text += ',"nextToken":' + json.dumps(
                _token(snapshot_id, offset + len(parts), arn, reverse, include)
            )
        text += "}"
        with self._lock:
            self.pages.append(PageServed(arn, snapshot_id, offset, len(parts), reverse))
        return 200, text.encode()

    def _snapshot(self, request: _Handler, arn: str) -> tuple[int, tuple[int, bytes] | None]:
        """A new snapshot of the execution's events (the first page of a fetch)."""
        with self._lock:
            snapshot = self._overrides.get(arn)
        if snapshot is None:
            status, _, payload = self._forward(
                request, "POST", json.dumps({"executionArn": arn}).encode()
            )
            if status != 200:
                return 0, (status, payload)
            events = sorted(json.loads(payload).get("events", []), key=lambda e: e["id"])
            snapshot = _Snapshot(arn, events)
        with self._lock:
            snapshot_id = max(self._snapshots, default=0) + 1
            self._snapshots[snapshot_id] = snapshot
            self._latest[arn] = snapshot_id
            for old in [k for k in self._snapshots if k <= snapshot_id - 8]:
                del self._snapshots[old]  # keep memory bounded across many fetches
        return snapshot_id, None

    def _read_token(self, token: Any, arn: str, reverse: bool, include: bool) -> tuple[int, int]:
        try:
            data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
            fields = (data["s"], data["o"], data["a"], data["r"], data["d"])
        except (ValueError, KeyError, TypeError):
            raise _Reply(400, "InvalidToken", "Invalid Token: 'Invalid token'") from None
        snapshot_id, offset, token_arn, token_reverse, token_include = fields
        if (token_arn, token_reverse, token_include) != (arn, reverse, include):
            raise _Reply(
                400, "InvalidToken", "Invalid Token: 'the arguments changed between pages'"
            )
        with self._lock:
            if snapshot_id not in self._snapshots:
                raise _Reply(400, "InvalidToken", "Invalid Token: 'Token has expired'")
        return int(snapshot_id), int(offset)


def _signature_message(request: _Handler) -> str:
    """AWS's InvalidSignatureException message: it shows the canonical request it expected,
    which lists the signed headers with their values (the session token among them)."""
    authorization = request.headers.get("Authorization", "")
    signed = authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    canonical = "\n".join(f"{name}:{request.headers.get(name, '')}" for name in signed if name)
    scope = authorization.partition("Credential=")[2].partition(",")[0].partition("/")[2]
    return (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        f"been\n'POST\n/\n\n{canonical}\n\n{';'.join(signed)}\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\n"
        "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"
        f"{request.headers.get('X-Amz-Date', '')}\n{scope}\n"
        "0000000000000000000000000000000000000000000000000000000000000000'\n"
    )


def _token(snapshot: int, offset: int, arn: str, reverse: bool, include: bool) -> str:
    data = {"s": snapshot, "o": offset, "a": arn, "r": reverse, "d": include, "pad": "x" * 64}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _without_data(event: Mapping[str, Any]) -> dict[str, Any]:
    stripped = {}
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k not in _DATA_MEMBERS}
        stripped[key] = value
    return stripped


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True
    """The headers and the body go in two sends: with Nagle's algorithm the body waits for
    the client's delayed acknowledgement of the headers (~40 ms on loopback), a stall AWS
    does not add, and every answer would come that much later than its latency says."""
    proxy: PagingProxy

    def do_POST(self) -> None:
        self.proxy.handle(self, "POST")

    def do_GET(self) -> None:
        self.proxy.handle(self, "GET")

    def do_PUT(self) -> None:
        self.proxy.handle(self, "PUT")

    def do_DELETE(self) -> None:
        self.proxy.handle(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the benchmark's output

    def send_body(
        self, status: int, payload: bytes, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(status)
        sent = set()
        for key, value in headers or ():
            self.send_header(key, value)
            sent.add(key.lower())
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/x-amz-json-1.0")
        if "x-amzn-requestid" not in sent:
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def send_error_json(self, status: int, code: str, message: str) -> None:
        self.send_body(status, json.dumps({"__type": code, "message": message}).encode())

    def drop(self) -> None:
        """Close the connection without a byte of response (a dropped connection)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
