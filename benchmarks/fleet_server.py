"""A fleet of synthetic Step Functions executions behind AWS's token buckets, on loopback.

``FleetServer(executions=10_000, burst=400, rate=20)`` (standard library, ``127.0.0.1``)
answers the calls a scan makes, in the AWS JSON 1.0 protocol botocore speaks:

- ``ListExecutions``: the executions newest first, ``statusFilter``, ``maxResults``
  (1..1000, 0 → 100) and an opaque ``nextToken``; with ``mapRunArn``, that Map Run's child;
- ``GetExecutionHistory``: each history a page of at most :data:`PAGE_EVENTS` events at a
  time (fewer if ``maxResults`` says so), each page answered after ``latency`` seconds (AWS
  answers in 100-300 ms; 0.15 by default);
- ``DescribeMapRun``: the Map Run of a ``distributed`` execution (one child, succeeded).

Three shapes take turns (execution ``i`` has shape ``i % 3``): ``flat``, one page (a few Pass
states); ``long``, three pages (60 states); ``distributed``, one page whose Distributed Map
started a Map Run, whose one child execution is listed and has a one-page history of its
own. Every fifth execution loses the tracked field (``poll_results_s3_key``): ``flat`` in
``Normalize``, ``long`` in ``Step17``, ``distributed`` in ``Collect`` after its Map; every
tenth (from the seventh) is FAILED, the rest SUCCEEDED.

Every call takes a token from its operation's bucket, as AWS meters them per account and
region (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): the
``GetExecutionHistory`` bucket is ``burst`` and ``rate`` (AWS documents 400 and 20 a
second; a benchmark may refill faster to keep its run short, or give a quarter of the bucket
as if another client spent the rest), ``ListExecutions`` 100 and 2 a second,
``DescribeMapRun`` 200 and 1 a second. A call that
finds its bucket empty is answered at once with HTTP 400 ``ThrottlingException`` "Rate
exceeded", as AWS answers, and takes no token. ``server.stats()`` (also ``GET /stats``)
counts the calls answered and throttled per operation, and the calls signed with each access
key id (the ``Credential=`` of the SigV4 ``Authorization`` header; no signature is checked).

``python -m benchmarks.fleet_server --executions 10000 --rate 100`` serves until killed and
prints ``listening on http://127.0.0.1:PORT`` first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REGION = "us-west-2"
ACCOUNT = "123456789012"
MACHINE = "fleet-ingest"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"
"""The fleet's state machine in the default account."""
FIELD = "poll_results_s3_key"
PAGE_EVENTS = 50
"""Events per history page: AWS pages by size as well as by ``maxResults``; small pages
make a three-page history out of 60 states."""
SHAPES = ("flat", "long", "distributed")
T0 = 1_763_380_800.0  # 2025-11-17T12:00:00Z
LIST_BUCKET = (100.0, 2.0)
DESCRIBE_MAP_RUN_BUCKET = (200.0, 1.0)


def state_machine_arn(account: str = ACCOUNT) -> str:
    return f"arn:aws:states:{REGION}:{account}:stateMachine:{MACHINE}"


def execution_arn(index: int, account: str = ACCOUNT) -> str:
    return f"arn:aws:states:{REGION}:{account}:execution:{MACHINE}:run-{index:05d}"


def child_arn(index: int, account: str = ACCOUNT) -> str:
    return f"arn:aws:states:{REGION}:{account}:execution:{MACHINE}/Fan:child-{index:05d}"


def map_run_arn(index: int, account: str = ACCOUNT) -> str:
    return f"arn:aws:states:{REGION}:{account}:mapRun:{MACHINE}/Fan:run-{index:05d}"


def shape_of(index: int) -> str:
    return SHAPES[index % 3]


def loses(index: int) -> bool:
    return index % 5 == 0


def status_of(index: int) -> str:
    return "FAILED" if index % 10 == 7 else "SUCCEEDED"


def expected_pages(executions: int) -> int:
    """GetExecutionHistory pages a scan of the first ``executions`` reads (children apart)."""
    return sum(3 if shape_of(i) == "long" else 1 for i in range(executions))


class _Events:
    """Events as the API returns them (epoch timestamps, details members)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, member: str | None = None, **details: Any) -> None:
        number = len(self.events) + 1
        event: dict[str, Any] = {
            "timestamp": T0 + number * 0.05,
            "type": kind,
            "id": number,
            "previousEventId": number - 1,
        }
        if member is not None:
            event[member] = details
        self.events.append(event)

    def state(self, kind: str, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.add(f"{kind}StateEntered", "stateEnteredEventDetails", name=name, input=_j(before))
        self.add(f"{kind}StateExited", "stateExitedEventDetails", name=name, output=_j(after))


def _j(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _history(
    shape: str, lost: bool, index: int = 0, account: str = ACCOUNT
) -> list[dict[str, Any]]:
    document: dict[str, Any] = {"job": "fleet", FIELD: "s3://bucket/results/key.json", "n": 1}
    events = _Events()
    events.add(
        "ExecutionStarted",
        "executionStartedEventDetails",
        input=_j(document),
        roleArn=f"arn:aws:iam::{account}:role/fleet",
    )
    if shape == "flat":
        for name in ("Receive", "Normalize", "Store"):
            after = dict(document, stage=name)
            if lost and name == "Normalize":
                after[FIELD] = None
            events.state("Pass", name, document, after)
            document = after
    elif shape == "long":
        for step in range(60):
            name = f"Step{step:02d}"
            after = dict(document, step=step)
            if lost and step == 17:
                after[FIELD] = None
            events.state("Pass", name, document, after)
            document = after
    else:
        events.add("MapStateEntered", "stateEnteredEventDetails", name="Fan", input=_j(document))
        events.add(
            "MapRunStarted", "mapRunStartedEventDetails", mapRunArn=map_run_arn(index, account)
        )
        events.add("MapRunSucceeded")
        events.add("MapStateExited", "stateExitedEventDetails", name="Fan", output=_j(document))
        after = dict(document, collected=True)
        if lost:
            after[FIELD] = None
        events.state("Pass", "Collect", document, after)
        document = after
    events.add("ExecutionSucceeded", "executionSucceededEventDetails", output=_j(document))
    return events.events


def _child_history(account: str = ACCOUNT) -> list[dict[str, Any]]:
    return _history("flat", False, account=account)


class Bucket:
    """AWS's token bucket: ``burst`` at once, ``rate`` a second, a throttled call free."""

    def __init__(self, burst: float, rate: float) -> None:
        self.burst, self.rate = burst, rate
        self.tokens = burst
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


@dataclass
class _Page:
    body: bytes


class FleetServer:
    """The fleet (see the module); ``with FleetServer(...) as server: server.endpoint_url``.

    ``account``: the AWS account the fleet is in (its state machine is
    ``state_machine_arn(account)``); two servers of two accounts, each with its own buckets,
    stand for two accounts of one region.
    """

    def __init__(
        self,
        executions: int = 10_000,
        *,
        burst: float = 400,
        rate: float = 20,
        latency: float = 0.15,
        port: int = 0,
        account: str = ACCOUNT,
    ) -> None:
        self.executions = executions
        self.account = account
        self.state_machine_arn = state_machine_arn(account)
        self.latency = latency
        self.buckets = {
            "GetExecutionHistory": Bucket(burst, rate),
            "ListExecutions": Bucket(*LIST_BUCKET),
            "DescribeMapRun": Bucket(*DESCRIBE_MAP_RUN_BUCKET),
        }
        self.answered: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.access_keys: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.first_call: float | None = None
        self.last_call: float | None = None
        # Every history is one of a few: each page's events are made once.
        self._histories = {
            (shape, lost): _history(shape, lost, account=account)
            for shape in SHAPES
            for lost in (False, True)
        }
        self._child = _child_history(account)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, json.dumps(server.stats()).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                server.signed_by(self.headers.get("Authorization") or "")
                status, answer = server.answer(operation, body)
                self._send(status, answer)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that went away (a scan stopped with Ctrl-C): not news

        self._http = Server(("127.0.0.1", port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> FleetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "answered": dict(self.answered),
                "throttled": dict(self.throttled),
                "access_keys": dict(self.access_keys),
                "first_call": self.first_call,
                "last_call": self.last_call,
            }

    def signed_by(self, authorization: str) -> None:
        """Count a call under the access key id that signed it (``-`` when unsigned)."""
        _, _, credential = authorization.partition("Credential=")
        key = credential.partition("/")[0] or "-"
        with self.lock:
            self.access_keys[key] += 1

    def answer(self, operation: str, body: dict[str, Any]) -> tuple[int, bytes]:
        bucket = self.buckets.get(operation)
        now = time.monotonic()
        with self.lock:
            if self.first_call is None:
                self.first_call = now
        if bucket is not None and not bucket.take():
            with self.lock:
                self.throttled[operation] += 1
            return 400, _error("ThrottlingException", "Rate exceeded")
        if operation == "GetExecutionHistory":
            status, answer = self._history_page(body)
        elif operation == "ListExecutions":
            status, answer = self._list(body)
        elif operation == "DescribeMapRun":
            status, answer = self._describe_map_run(body)
        else:
            return 400, _error("UnknownOperationException", f"not served here: {operation}")
        time.sleep(self.latency)
        with self.lock:
            self.answered[operation] += 1
            self.last_call = time.monotonic()
        return status, answer

    def _list(self, body: dict[str, Any]) -> tuple[int, bytes]:
        size = int(body.get("maxResults") or 100)
        if not 1 <= size <= 1000:
            return 400, _error("ValidationException", "maxResults must be at most 1000")
        if body.get("mapRunArn"):
            index = int(str(body["mapRunArn"]).rsplit("-", 1)[1])
            item = _item(child_arn(index, self.account), index, "SUCCEEDED", self.account)
            return 200, json.dumps({"executions": [item]}).encode()
        if body.get("stateMachineArn") != self.state_machine_arn:
            return 400, _error("StateMachineDoesNotExist", "State Machine Does Not Exist")
        wanted = body.get("statusFilter")
        start = int(body.get("nextToken") or 0)
        items: list[dict[str, Any]] = []
        index = start
        while index < self.executions and len(items) < size:
            status = status_of(index)
            if wanted in (None, status):
                items.append(_item(execution_arn(index, self.account), index, status, self.account))
            index += 1
        answer: dict[str, Any] = {"executions": items}
        if index < self.executions:
            answer["nextToken"] = str(index)
        return 200, json.dumps(answer).encode()

    def _history_page(self, body: dict[str, Any]) -> tuple[int, bytes]:
        arn = str(body.get("executionArn", ""))
        name = arn.rsplit(":", 1)[-1]
        try:
            index = int(name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return 400, _error("InvalidArn", f"Invalid Arn: '{arn}'")
        if index >= self.executions:
            return 400, _error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        if name.startswith("child-"):
            events = self._child
        else:
            events = self._histories[shape_of(index), loses(index)]
            if shape_of(index) == "distributed":  # its own Map Run
                events = [
                    dict(
                        e,
                        mapRunStartedEventDetails={"mapRunArn": map_run_arn(index, self.account)},
                    )
                    if e["type"] == "MapRunStarted"
                    else e
                    for e in events
                ]
        size = min(PAGE_EVENTS, int(body.get("maxResults") or 100))
        start = int(body.get("nextToken") or 0)
        page = events[start : start + size]
        answer: dict[str, Any] = {"events": page}
        if start + size < len(events):
            answer["nextToken"] = str(start + size)
        return 200, json.dumps(answer).encode()

    def _describe_map_run(self, body: dict[str, Any]) -> tuple[int, bytes]:
        arn = str(body.get("mapRunArn", ""))
        index = int(arn.rsplit("-", 1)[1])
        counts = {
            "pending": 0,
            "running": 0,
            "succeeded": 1,
            "failed": 0,
            "timedOut": 0,
            "aborted": 0,
            "total": 1,
            "resultsWritten": 0,
        }
        answer = {
            "mapRunArn": arn,
            "executionArn": execution_arn(index, self.account),
            "status": "SUCCEEDED",
            "startDate": T0 - index + 0.2,
            "stopDate": T0 - index + 0.3,
            "maxConcurrency": 0,
            "toleratedFailurePercentage": 0.0,
            "toleratedFailureCount": 0,
            "itemCounts": counts,
            "executionCounts": counts,
        }
        return 200, json.dumps(answer).encode()


def _item(arn: str, index: int, status: str, account: str = ACCOUNT) -> dict[str, Any]:
    start = T0 - index
    return {
        "executionArn": arn,
        "stateMachineArn": state_machine_arn(account),
        "name": arn.rsplit(":", 1)[1],
        "status": status,
        "startDate": start,
        "stopDate": start + 1.5,
    }


def _error(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet_server", description=__doc__)
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--burst", type=float, default=400)
    parser.add_argument("--rate", type=float, default=20, help="GetExecutionHistory refill /s")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per answer")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account", default=ACCOUNT, help="the fleet's AWS account id")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.rate) and args.rate > 0):
        parser.error("--rate must be positive")
    if not (len(args.account) == 12 and args.account.isascii() and args.account.isdigit()):
        parser.error("--account must be 12 digits")
    with FleetServer(
        args.executions,
        burst=args.burst,
        rate=args.rate,
        latency=args.latency,
        port=args.port,
        account=args.account,
    ) as server:
        print(f"listening on {server.endpoint_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
