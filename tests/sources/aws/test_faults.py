"""Faults during a live fetch: retried transparently, or one clear line and exit 3.

The lab's moto server sits behind :class:`benchmarks.paging_proxy.PagingProxy`, which pages
GetExecutionHistory like AWS (1,000 events a page) and injects faults. The execution exists
in moto (its definition, Lambda functions and log groups too); the proxy serves a generated
2,500-event history for it (3 pages: a Map with interleaved iterations, retries and a
Parallel). The CLI runs in process with ``--endpoint-url`` at the proxy and fake credentials.

- 20 % of requests throttled (HTTP 400 ThrottlingException), failed (HTTP 500) or dropped:
  the JSON report is byte-identical to a clean run's, and the pages the fetch used (from
  both ends: the history has three pages) cover the history, each page read once;
- a page that keeps failing past the retries: exit 3, the message says how far it got, no
  output file;
- ``nextToken`` expired once: the fetch restarts from the first page and succeeds; twice:
  exit 3;
- Ctrl-C during a slow page: exit 130, no traceback, no output file.

botocore's standard retry mode backs off with jitter (50 ms base for 500s and dropped
connections, 1 s for throttling), so ``--max-attempts`` is kept low and each run's wall time
is bounded in the assertions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from benchmarks.bench import deploy_generated
from benchmarks.generate_history import Generated, check, generate
from benchmarks.paging_proxy import HISTORY, PagingProxy
from fixtures.lab import Lab
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.children import hears_ctrl_c
from tests.data import ROOT

pytestmark = pytest.mark.moto_server

EVENTS = 2_500
FIELD = "poll_results_s3_key"
runner = CliRunner()


def aws_env(**extra: str | None) -> dict[str, str | None]:
    """Fake credentials, and none of the caller's AWS settings (None unsets a variable)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-west-2",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def generated() -> Generated:
    return generate(EVENTS, seed=5)


@pytest.fixture(scope="module")
def execution(lab: Lab, generated: Generated) -> str:
    return deploy_generated(lab, generated)


@pytest.fixture
def proxy_factory(lab: Lab, execution: str, generated: Generated) -> Iterator[Any]:
    started: list[PagingProxy] = []

    def make(**options: Any) -> PagingProxy:
        proxy = PagingProxy(lab.endpoint_url, **options).start()
        proxy.serve_history(execution, generated.events)
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def trace(proxy: PagingProxy, execution: str, *args: str) -> tuple[Any, float]:
    start = time.perf_counter()
    result = runner.invoke(
        app,
        [
            execution,
            "--field",
            FIELD,
            "--format",
            "json",
            "--endpoint-url",
            proxy.endpoint_url,
            *args,
        ],
        env=aws_env(),
        catch_exceptions=False,
    )
    return result, time.perf_counter() - start


def one_line(text: str) -> str:
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


def reads_whole_history(proxy: PagingProxy) -> bool:
    """Whether the pages of the last fetch (the last snapshot) the proxy served cover the
    history, each read once: forward from the first event and newest first from the last,
    each direction's pages in order with no page twice, at most one page past the point
    where the two met."""
    last = proxy.pages[-1].snapshot
    served = [p for p in proxy.pages if p.snapshot == last]
    covered: set[int] = set()
    for reverse in (False, True):
        pages = [p for p in served if p.reverse is reverse]
        assert [p.offset for p in pages] == [
            sum(q.count for q in pages[:n]) for n in range(len(pages))
        ]
        for page in pages:
            span = range(page.offset, page.offset + page.count)
            covered.update(EVENTS - 1 - i if reverse else i for i in span)
    assert len(served) <= 4, served
    return covered == set(range(EVENTS))


@pytest.fixture(scope="module")
def clean_reports(lab: Lab, execution: str, generated: Generated) -> dict[str, str]:
    """The reports of a fault-free run, with and without logs."""
    reports = {}
    with PagingProxy(lab.endpoint_url) as proxy:
        proxy.serve_history(execution, generated.events)
        for logs in ("logs", "no-logs"):
            result, _ = trace(proxy, execution, *(["--no-logs"] if logs == "no-logs" else []))
            assert result.exit_code == ExitCode.FINDING, result.stderr
            reports[logs] = result.stdout
            assert reads_whole_history(proxy)
            assert proxy.ok[HISTORY] <= 4 * len(reports)
    return reports


def test_the_clean_run_attributes_the_generated_history(
    clean_reports: dict[str, str], generated: Generated
) -> None:
    for report in clean_reports.values():
        assert check(generated, json.loads(report)) == []


@pytest.mark.parametrize("logs", ["no-logs", "logs"])
def test_twenty_percent_faults_change_nothing(
    proxy_factory: Any,
    execution: str,
    clean_reports: dict[str, str],
    logs: str,
) -> None:
    proxy = proxy_factory(seed=9, fault_rate=0.2)  # a seed whose faults hit every kind
    args = ["--max-attempts", "5", *(["--no-logs"] if logs == "no-logs" else [])]
    result, seconds = trace(proxy, execution, *args)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == clean_reports[logs], "faults must not change the report"
    assert set(proxy.faults) == {"throttle", "error500", "drop"}, proxy.faults
    assert sum(proxy.calls.values()) > sum(proxy.ok.values()), "some requests failed"
    # Every page once, in order: nothing lost or duplicated across retried pages.
    assert reads_whole_history(proxy)
    assert proxy.ok[HISTORY] in (3, 4)
    assert seconds < 15, f"retries took {seconds:.1f} s"


@pytest.mark.parametrize("kind", ["error500", "throttle"])
def test_a_page_failing_past_the_retries_exits_3_and_says_how_far(
    proxy_factory: Any, execution: str, kind: str, tmp_path: Path
) -> None:
    proxy = proxy_factory()
    # The second forward page: always asked for (the ends cannot meet before it).
    proxy.fail_history_page(1, times=None, kind=kind)
    output = tmp_path / "report.json"
    result, seconds = trace(proxy, execution, "--max-attempts", "2", "-o", str(output))
    assert result.exit_code == ExitCode.AWS
    line = one_line(result.stderr)
    assert "after 1 page (1000 events)" in line, line
    assert "GetExecutionHistory" in line or "throttled" in line, line
    assert result.stdout == ""
    assert not output.exists(), "a failed fetch must not leave a report"
    assert proxy.faults["page_failure"] == 2  # the second page, tried twice
    assert seconds < 10, f"took {seconds:.1f} s"


def test_an_expired_token_restarts_the_fetch_once(
    proxy_factory: Any, execution: str, clean_reports: dict[str, str]
) -> None:
    proxy = proxy_factory()
    proxy.expire_token(page=1, times=1)
    result, _ = trace(proxy, execution)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == clean_reports["logs"]
    assert proxy.faults["invalid_token"] == 1
    # Page 1, the expired page 2 (with the newest-first reader's pages on the way), then
    # all three again, forward only.
    assert reads_whole_history(proxy)
    assert [p.reverse for p in proxy.pages[-3:]] == [False] * 3


def test_a_token_expiring_twice_exits_3(proxy_factory: Any, execution: str) -> None:
    proxy = proxy_factory()
    proxy.expire_token(page=1, times=2)
    result, _ = trace(proxy, execution)
    assert result.exit_code == ExitCode.AWS
    line = one_line(result.stderr)
    assert "InvalidToken" in line, line
    assert "restart" in line, line
    assert result.stdout == ""
    assert proxy.faults["invalid_token"] == 2


def test_ctrl_c_during_a_fetch_exits_130_without_output(
    proxy_factory: Any, execution: str, tmp_path: Path
) -> None:
    proxy = proxy_factory()
    proxy.delay_history_page(1, 5.0)
    output = tmp_path / "report.json"
    env = {k: v for k, v in aws_env().items() if v is not None}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [
            *(sys.executable, "-m", "sfn_trace", execution, "--field", FIELD, "-o", str(output)),
            *("--endpoint-url", proxy.endpoint_url, "--format", "json"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=hears_ctrl_c,
    )
    deadline = time.monotonic() + 20
    while proxy.calls[HISTORY] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # wait until the slow second page is being fetched
    assert proxy.calls[HISTORY] >= 2, "the fetch never reached the slow page"
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=20)
    assert child.returncode == ExitCode.INTERRUPTED, stderr
    assert one_line(stderr) == "sfn-trace: interrupted"
    assert stdout == ""
    assert not output.exists()
    assert not list(tmp_path.iterdir()), "no temporary file left behind"
