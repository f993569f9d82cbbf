"""Bounded time on a bad network: ``--timeout`` (default 90 s) and ``--max-attempts``.

A Step Functions endpoint on 127.0.0.1 (a thread, port 0) misbehaves as each test tells it:
it accepts and never answers, answers slowly, closes or resets the connection, or throttles.
The CLI runs in process (typer's CliRunner) with ``--endpoint-url`` at it and fake
credentials; nothing leaves the machine. The budgets are small (1 to 3 s) so that each test
takes a few seconds; the 90 s default is checked by reading the configuration.
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from typer.testing import CliRunner

from sfn_trace.checks.fleet import ScanStats
from sfn_trace.cli import app
from sfn_trace.cli.options import flag_naming, with_aws_options
from sfn_trace.cli.progress import HistoryProgress, ScanProgressBar
from sfn_trace.errors import AwsError, ExitCode, UsageError
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions, RetryNotice
from sfn_trace.sources.aws.client import (
    STALLED_ATTEMPTS,
    NoAnswerError,
    Timeouts,
    _Watch,
    make_client,
    max_backoff,
)
from sfn_trace.sources.aws.history import fetch_execution
from tests.data import DEFINITION, fixture_describe, fixture_history

FIELD = "poll_results_s3_key"
INTACT = fixture_history("flat_intact")
DESCRIBED: dict[str, Any] = json.loads(fixture_describe("flat_intact").read_text("utf-8"))
ARN: str = DESCRIBED["executionArn"]
SM_ARN: str = DESCRIBED["stateMachineArn"]
EVENTS: list[dict[str, Any]] = json.loads(INTACT.read_text("utf-8"))["events"]
PAGE = 6  # 28 events: 5 pages
AT_ONCE_3 = {
    "DescribeExecution": 3,
    "DescribeStateMachineForExecution": 3,
    "GetExecutionHistory": 3,
}
"""Three attempts of each call a trace makes first: they go at once."""
MARGIN = 4.0
"""Seconds a command may run past its budget: the client's creation, the report, and a busy
machine (a loaded 2-core CI run was once 1.06 s over a 1 s budget). How many attempts were
made is told by the endpoint's call counts, not by the clock; this bound only catches a
command that hangs (a stalled request is released after 60 s)."""


def _runner() -> CliRunner:
    """stderr apart from stdout: the default from click 8.2 on, ``mix_stderr`` before."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


# --- the endpoint -----------------------------------------------------------------------------


Behaviour = Callable[["_Handler", str, dict[str, Any]], None]
"""What the endpoint does with one request: (handler, operation, request body)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.calls: Counter[str] = Counter()
        self.released = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet when the client gave up first (it timed out): a traceback printed from this
        thread would land in whatever test holds sys.stderr then."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
        with self.server.lock:
            self.server.calls[operation] += 1
        self.server.behaviour(self, operation, json.loads(body or b"{}"))

    def answer(self, status: int, document: dict[str, Any], **headers: str) -> None:
        data = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class Endpoint:
    def __init__(self, server: _Server) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    @property
    def calls(self) -> dict[str, int]:
        with self.server.lock:
            return dict(self.server.calls)


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], Endpoint]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour) -> Endpoint:
        server = _Server(behaviour)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return Endpoint(server)

    yield start
    for server in servers:
        server.released.set()  # the stalled requests end
        server.shutdown()
        server.server_close()


def stall(handler: _Handler, operation: str, body: dict[str, Any]) -> None:
    """Accept, read the request, never answer."""
    handler.server.released.wait(60)
    handler.close_connection = True


def close(handler: _Handler, operation: str, body: dict[str, Any]) -> None:
    """Read the request, close the connection without a word."""
    handler.close_connection = True


def reset(handler: _Handler, operation: str, body: dict[str, Any]) -> None:
    """Read the request, reset the connection (an RST, not a FIN)."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def throttle(retry_after_ms: int | None = None) -> Behaviour:
    def behaviour(handler: _Handler, operation: str, body: dict[str, Any]) -> None:
        headers = {} if retry_after_ms is None else {"x-amz-retry-after": str(retry_after_ms)}
        error = {"__type": "ThrottlingException", "message": "Rate exceeded"}
        handler.answer(400, error, **headers)

    return behaviour


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def answer(delay: float = 0.0, throttled: int = 0, page_size: int = PAGE) -> Behaviour:
    """The flat_intact execution, every answer after ``delay`` seconds, its history in pages
    of :data:`PAGE` events (newest first with ``reverseOrder``, as AWS pages it); the first
    ``throttled`` DescribeExecution requests are throttled instead."""
    served = Counter[str]()

    def behaviour(handler: _Handler, operation: str, body: dict[str, Any]) -> None:
        with handler.server.lock:
            served[operation] += 1
            if operation == "DescribeExecution" and served[operation] <= throttled:
                throttle()(handler, operation, body)
                return
        time.sleep(delay)
        if operation == "DescribeExecution":
            described = dict(DESCRIBED)
            described["startDate"] = _epoch(DESCRIBED["startDate"])
            described["stopDate"] = _epoch(DESCRIBED["stopDate"])
            handler.answer(200, described)
        elif operation == "DescribeStateMachineForExecution":
            definition = DEFINITION.read_text("utf-8")
            document = {
                "stateMachineArn": SM_ARN,
                "name": SM_ARN.rsplit(":", 1)[1],
                "definition": definition,
                "roleArn": "arn:aws:iam::123456789012:role/line-ingest",
                "updateDate": _epoch(DESCRIBED["startDate"]),
            }
            handler.answer(200, document)
        elif operation == "GetExecutionHistory":
            start = int(body.get("nextToken") or 0)
            ordered = EVENTS[::-1] if body.get("reverseOrder") else EVENTS
            page: dict[str, Any] = {"events": ordered[start : start + page_size]}
            if start + page_size < len(EVENTS):
                page["nextToken"] = str(start + page_size)
            handler.answer(200, page)
        else:
            handler.answer(400, {"__type": "InvalidArn", "message": f"no {operation} here"})

    return behaviour


# --- running it -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials that sign but reach nothing, and no configuration of this machine's."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def run(endpoint: Endpoint, *args: str) -> tuple[Any, float]:
    """The command ``args`` against ``endpoint``, and how long it took."""
    start = time.perf_counter()
    result = runner.invoke(app, [*args, "--endpoint-url", endpoint.url], catch_exceptions=False)
    return result, time.perf_counter() - start


def trace(endpoint: Endpoint, *args: str) -> tuple[Any, float]:
    return run(endpoint, ARN, "--field", FIELD, "--format", "json", "--no-logs", *args)


_STRAY_SERVER_ERROR = re.compile(
    r"^-{40}\nException occurred during processing of request from .*?^-{40}\n",
    re.MULTILINE | re.DOTALL,
)
"""What socketserver prints when a request handler fails: a test server's thread (of an
earlier test, still finishing a request the client gave up on) may print it while the
CliRunner holds sys.stderr. It is no output of sfn-trace's."""


def reason(result: Any) -> str:
    """The one line on stderr, and nothing on stdout."""
    stderr = _STRAY_SERVER_ERROR.sub("", result.stderr)
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert result.stdout == ""
    return lines[0]


ERROR = "sfn-trace: error: "


def no_answer(endpoint: Endpoint, operation: str, budget: int, attempts: int) -> str:
    return (
        f"no answer from {endpoint.url} within {budget} s "
        f"({operation}, {attempts} attempts): check the network or --endpoint-url"
    )


# --- the budget and its split -----------------------------------------------------------------


def test_the_default_budget_is_90_s_in_3_stalled_attempts() -> None:
    assert DEFAULT_OPTIONS.timeout == 90.0 and DEFAULT_OPTIONS.max_attempts == 10
    timeouts = Timeouts(DEFAULT_OPTIONS.timeout, DEFAULT_OPTIONS.max_attempts)
    assert timeouts.stalled_attempts == STALLED_ATTEMPTS == 3
    assert timeouts.connect == 5.0
    assert timeouts.read == pytest.approx(24.95)
    client = make_client("stepfunctions", "us-west-2", DEFAULT_OPTIONS)
    assert client.meta.config.connect_timeout == 5.0
    assert client.meta.config.read_timeout == pytest.approx(24.95)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}


@pytest.mark.parametrize("budget", [1.0, 2.0, 90.0, 600.0])
@pytest.mark.parametrize("max_attempts", [1, 2, 3, 10])
def test_the_stalled_attempts_and_their_backoffs_fit_the_budget(
    budget: float, max_attempts: int
) -> None:
    timeouts = Timeouts(budget, max_attempts)
    stalled = timeouts.stalled_attempts
    assert stalled == min(max_attempts, 3)
    backoffs = sum(max_backoff(n) for n in range(1, stalled))
    assert stalled * (timeouts.connect + timeouts.read) + backoffs == pytest.approx(budget)
    assert 0 < timeouts.connect <= 5.0 and timeouts.read > timeouts.connect


@pytest.mark.parametrize("timeout", [0.5, 0.0, -1.0, float("nan"), float("inf")])
def test_a_budget_below_one_second_is_a_usage_error(timeout: float) -> None:
    with pytest.raises(UsageError, match="timeout= must be at least 1 second"):
        make_client("stepfunctions", "us-west-2", AwsOptions(timeout=timeout))


def test_every_command_that_reads_aws_takes_timeout() -> None:
    seen: list[AwsOptions] = []
    probe = typer.Typer()

    @probe.command()
    @with_aws_options
    def read(aws: AwsOptions = DEFAULT_OPTIONS) -> None:
        seen.append(aws)

    assert runner.invoke(probe, []).exit_code == 0
    assert runner.invoke(probe, ["--timeout", "2.5", "--max-attempts", "4"]).exit_code == 0
    assert runner.invoke(probe, ["--timeout", "0.5"]).exit_code == ExitCode.USAGE
    assert [(a.timeout, a.max_attempts) for a in seen] == [(90.0, 10), (2.5, 4)]
    assert isinstance(seen[0].timeout, float)
    for command in ([], ["scan"], ["compare"]):
        shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).stdout
        assert "--timeout SECONDS" in shown and "[default: 90; x>=1]" in shown, command


# --- a stalled endpoint -----------------------------------------------------------------------


def test_a_stalled_endpoint_fails_within_the_budget(serve: Any) -> None:
    endpoint = serve(stall)
    result, seconds = trace(endpoint, "--timeout", "2")
    assert result.exit_code == ExitCode.AWS
    assert reason(result) == ERROR + no_answer(endpoint, "DescribeExecution", 2, 3)
    # The describes and the first page go at once; the description's failure is told.
    assert endpoint.calls == AT_ONCE_3
    read = Timeouts(2, 10).read
    assert 3 * read <= seconds < 2 + MARGIN, f"took {seconds:.2f} s"


@pytest.mark.parametrize(
    ("command", "operation"),
    [
        (["compare", str(INTACT), ARN], "DescribeExecution"),
        (["scan", SM_ARN], "ListExecutions"),
    ],
)
def test_compare_and_scan_keep_the_budget_too(
    serve: Any, command: list[str], operation: str
) -> None:
    endpoint = serve(stall)
    result, seconds = run(
        endpoint, *command, "--field", FIELD, "--format", "json", "--timeout", "2"
    )
    assert result.exit_code == ExitCode.AWS
    assert reason(result) == ERROR + no_answer(endpoint, operation, 2, 3)
    assert endpoint.calls == (AT_ONCE_3 if operation == "DescribeExecution" else {operation: 3})
    assert seconds < 2 + MARGIN, f"took {seconds:.2f} s"


def test_max_attempts_1_waits_the_whole_budget_once(serve: Any) -> None:
    endpoint = serve(stall)
    result, seconds = trace(endpoint, "--timeout", "1", "--max-attempts", "1")
    assert result.exit_code == ExitCode.AWS
    assert reason(result) == (
        f"sfn-trace: error: no answer from {endpoint.url} in 1 s "
        "(DescribeExecution, 1 attempt: the --max-attempts limit): "
        "check the network or --endpoint-url"
    )
    assert endpoint.calls == {name: 1 for name in AT_ONCE_3}
    assert Timeouts(1, 1).read <= seconds < 1 + MARGIN, f"took {seconds:.2f} s"


# --- slow answers -----------------------------------------------------------------------------


def test_slow_answers_within_the_budget_succeed_however_many_pages(serve: Any) -> None:
    endpoint = serve(answer(delay=0.5, page_size=2))
    result, seconds = trace(endpoint, "--timeout", "3")
    assert result.exit_code == ExitCode.INTACT, result.stderr
    assert _STRAY_SERVER_ERROR.sub("", result.stderr) == ""
    report = json.loads(result.stdout)
    assert report["field"] == FIELD
    pages = len(EVENTS) // 2
    assert pages == 14 and endpoint.calls["GetExecutionHistory"] >= pages
    # Read from both ends, at least eight rounds of 0.5 s one after the other (page 1 with
    # the describes, then a page from each end at a time): the whole read takes longer than
    # the budget of one request.
    assert seconds >= 8 * 0.5 > 3


# --- connections closed or reset --------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "why"),
    [
        (close, "Remote end closed connection without response"),
        (reset, "Connection reset by peer"),
    ],
)
def test_a_closed_or_reset_connection_is_retried_then_one_line(
    serve: Any, behaviour: Behaviour, why: str
) -> None:
    endpoint = serve(behaviour)
    result, seconds = trace(endpoint, "--timeout", "2", "--max-attempts", "3")
    assert result.exit_code == ExitCode.AWS
    line = reason(result)
    assert line.startswith(
        f"sfn-trace: error: cannot reach the Step Functions endpoint {endpoint.url} "
        "(DescribeExecution, 3 attempts): the connection was closed before an answer ("
    ), line
    assert why in line, line
    assert endpoint.calls == AT_ONCE_3
    assert seconds < 2 + MARGIN


# --- throttling -------------------------------------------------------------------------------


def test_throttling_keeps_its_max_attempts_past_the_budget(serve: Any) -> None:
    # AWS asks to wait 0.7 s each time: two retries take longer than --timeout 1, and still
    # happen, since a "slow down" is an answer.
    endpoint = serve(throttle(retry_after_ms=700))
    result, seconds = trace(endpoint, "--timeout", "1", "--max-attempts", "3")
    assert result.exit_code == ExitCode.AWS
    assert reason(result) == (
        "sfn-trace: error: throttled by AWS on DescribeExecution after 3 attempts; "
        "retry later or raise --max-attempts"
    )
    assert endpoint.calls == AT_ONCE_3
    assert seconds >= 1.4


def test_throttled_then_answered_succeeds_and_says_it_retried(serve: Any) -> None:
    endpoint = serve(answer(throttled=2))
    notices: list[RetryNotice] = []
    options = AwsOptions(endpoint_url=endpoint.url, timeout=1, on_retry=notices.append)
    data = fetch_execution(ARN, options)
    assert len(data.events) == len(EVENTS)
    assert endpoint.calls["DescribeExecution"] == 3
    assert notices == [
        RetryNotice("DescribeExecution", "throttling", attempt, 10, silent=None, timeout=1)
        for attempt in (2, 3)
    ]
    assert str(notices[0]) == "retrying DescribeExecution after throttling (attempt 2 of 10)"


# --- the retry notices ------------------------------------------------------------------------


def test_the_retry_callback_hears_of_each_retry_and_why(serve: Any) -> None:
    endpoint = serve(stall)
    notices: list[RetryNotice] = []
    options = AwsOptions(endpoint_url=endpoint.url, timeout=2, on_retry=notices.append)
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, options)
    # The library names the option as its keyword; the command line, as its flag.
    assert caught.value.message.endswith("check the network or endpoint_url=")
    assert caught.value.worded(flag_naming) == no_answer(endpoint, "DescribeExecution", 2, 3)
    assert isinstance(caught.value.__cause__, NoAnswerError)
    assert isinstance(caught.value.__cause__.__cause__, ReadTimeoutError)
    # The three calls that go at once each heard of their retries.
    assert sorted((n.operation, n.reason, n.attempt, n.max_attempts) for n in notices) == [
        (operation, "a read timeout", attempt, 10)
        for operation in sorted(AT_ONCE_3)
        for attempt in (2, 3)
    ]
    notices = [n for n in notices if n.operation == "DescribeExecution"]
    read = Timeouts(2, 10).read
    assert notices[0].silent is not None and notices[0].silent >= read
    assert notices[1].silent is not None and notices[1].silent >= 2 * read
    assert str(notices[1]) == (
        "retrying DescribeExecution after a read timeout (attempt 3 of 10; no answer for 1 of 2 s)"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_the_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    notice = RetryNotice("GetExecutionHistory", "a read timeout", 2, 10, silent=25.2, timeout=90)
    with HistoryProgress() as progress:
        progress.on_page(1, 1000)
        progress.on_retry(notice)
    assert (
        "fetching history: 1 page(s), 1000 events: retrying GetExecutionHistory after a read "
        "timeout (attempt 2 of 10; no answer for 25 of 90 s)"
    ) in terminal.getvalue()


class _Row:
    lost_the_field = False
    error = None


def test_the_scan_line_shows_a_retry_until_the_next_update(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retry other than a throttle is shown until the line is next updated; a throttle is
    not shown as a retry: the line counts it among the throttles absorbed."""
    monkeypatch.setenv("COLUMNS", "250")
    failed = RetryNotice("GetExecutionHistory", "an HTTP 500 answer", 3, 10)
    throttled = RetryNotice("GetExecutionHistory", "throttling", 2, 10)
    drawn = []
    for then_updated in (False, True):
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        with ScanProgressBar() as progress:
            progress.on_stats(SCAN_STATS)
            progress.on_retry(throttled)
            progress.on_retry(failed)
            if then_updated:
                progress.on_stats(SCAN_STATS)
        drawn.append(terminal.getvalue())  # the line's last state is drawn when it stops
    retrying = "1 throttle absorbed: retrying GetExecutionHistory after an HTTP 500 answer"
    assert retrying in drawn[0]
    assert "after throttling" not in drawn[0]
    assert "retrying" not in drawn[1].rsplit("judged", 1)[1]


SCAN_STATS = ScanStats(
    listed=4,
    listing_done=True,
    fetched=1,
    judged=1,
    resumed=0,
    pages=1,
    elapsed=1.0,
    rate=20.0,
    quota=20.0,
    throttles=1,
    limit=100,
)


def test_no_retry_callback_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with HistoryProgress() as history, ScanProgressBar() as scan:
        assert history.on_retry is None and scan.on_retry is None


# --- the clock, step by step ------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_restarts_the_clock() -> None:
    """80 s of throttling, then a stall: the stall still gets its attempts within 90 s of
    silence, counted from the first attempt after the last answer."""
    client = make_client("stepfunctions", "us-west-2", DEFAULT_OPTIONS)
    operation = client.meta.service_model.operation_model("GetExecutionHistory")
    clock = _Clock()
    notices: list[RetryNotice] = []
    watch = _Watch(Timeouts(90, 10), notices.append, clock)
    context: dict[str, Any] = {}
    request_dict = {"context": context}

    class _Request:
        pass

    request = _Request()
    request.context = context  # type: ignore[attr-defined]

    def attempt(at: float, attempts: int, *, throttled: bool = False, ended: float) -> None:
        clock.now = at
        watch.before_send(request=request)
        clock.now = ended
        response = None
        error = None
        if throttled:
            http = AWSResponse("http://127.0.0.1", 400, {}, None)
            response = (http, {"Error": {"Code": "ThrottlingException"}})
        else:
            error = ReadTimeoutError(endpoint_url="http://127.0.0.1")
        watch.needs_retry(
            response=response,
            attempts=attempts,
            caught_exception=error,
            operation=operation,
            request_dict=request_dict,
        )

    attempt(0, 1, throttled=True, ended=0.1)
    attempt(40, 2, throttled=True, ended=40.1)
    attempt(80, 3, ended=105)  # silent since 80 s, not since 0 s
    attempt(105, 4, ended=130)
    with pytest.raises(NoAnswerError) as caught:
        attempt(130, 5, ended=155)  # a sixth attempt could end after 80 + 90 s
    assert caught.value.out_of == "time" and caught.value.attempts == 5
    assert caught.value.elapsed == 75
    assert [(n.reason, n.attempt, n.silent) for n in notices] == [
        ("throttling", 2, None),
        ("throttling", 3, None),
        ("a read timeout", 4, 25),
        ("a read timeout", 5, 50),
    ]
