"""Security: sfn-trace only reads, and never writes credentials anywhere.

1. Credentials: the CLI runs (as a subprocess, as a user runs it) with distinctive fake
   credentials in the environment, ``--debug``, and every file option it has (report,
   CSV, Markdown, bundle), on success and on failures (not found, unreachable, a rejected
   signature whose AWS message echoes the signed headers), with progress lines forced on
   by a pseudo-terminal. Neither the credentials nor signed-request material may appear on
   stdout, stderr or in any file written (``HOME`` points into the test's directory).
2. Read-only: every AWS operation the package calls during end-to-end traces is recorded
   (a wrapper around botocore's ``BaseClient._make_api_call``) and must be one of the read
   actions issue 7 allows and the README's IAM policy lists; a static scan of
   ``sfn_trace/`` finds no client of another service and no other operation.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import botocore.session
import pytest
from botocore import xform_name
from typer.testing import CliRunner

from benchmarks.bench import deploy_generated
from benchmarks.generate_history import generate
from benchmarks.paging_proxy import PagingProxy
from fixtures.lab import Lab
from fixtures.line_ingest import scenarios
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import ROOT, fixture_history

PACKAGE = ROOT / "sfn_trace"
FIELD = "poll_results_s3_key"

ACCESS_KEY_ID = "AKIAFAKEFAKEFAKE1234"
SECRET_ACCESS_KEY = "fAkE/SecretAccessKey+DoNotLeak0123456789xyz"
SESSION_TOKEN = "FwoGZXIvYXdzEFakeSessionToken/DoNotLeak+4f2a9c=="
SECRETS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)
# Signed-request material: an Authorization header's parts or a signed token header.
SIGNED = re.compile(r"Credential=|Signature=|x-amz-security-token|X-Amz-Credential", re.I)

# Issue 7: the read actions sfn-trace may call, and nothing else.
ALLOWED = frozenset(
    {
        "states:GetExecutionHistory",
        "states:DescribeExecution",
        "states:DescribeStateMachineForExecution",
        "states:ListExecutions",
        "states:ListMapRuns",
        "states:DescribeMapRun",
        "states:DescribeStateMachine",
        "logs:FilterLogEvents",
        "lambda:GetFunctionConfiguration",
    }
)
CONFIRM_ONLY = frozenset({"states:TestState"})
"""Called only with ``--confirm``, from ``sources/aws/teststate.py``: AWS evaluates one state
with every resource mocked (the README lists it as an optional extra)."""


def cli_options() -> str:
    return subprocess.run(
        [sys.executable, "-m", "sfn_trace", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout


def secret_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN=SESSION_TOKEN,
        AWS_DEFAULT_REGION="us-west-2",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        HOME=str(home),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_cli(workdir: Path, *args: str, tty_stderr: bool = False) -> tuple[int, str, str]:
    """``python -m sfn_trace ARGS`` with the fake credentials; (exit code, stdout, stderr)."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "sfn_trace", *args]
    if not tty_stderr:
        done = subprocess.run(
            command, env=secret_env(home), cwd=workdir, capture_output=True, text=True, timeout=60
        )
        return done.returncode, done.stdout, done.stderr
    # A terminal on stderr turns the progress lines on.
    master, slave = pty.openpty()
    child = subprocess.Popen(
        command, env=secret_env(home), cwd=workdir, stdout=subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = child.stdout.read().decode() if child.stdout else ""
    child.wait(timeout=60)
    os.close(master)
    return child.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


def assert_nothing_leaks(workdir: Path, *texts: str) -> None:
    written = [p for p in workdir.rglob("*") if p.is_file()]
    sources = {f"output {i}": text for i, text in enumerate(texts)}
    for path in written:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            raw = gzip.decompress(raw)
        sources[str(path.relative_to(workdir))] = raw.decode("utf-8", "replace")
    for where, text in sources.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret[:8]}... appears in {where}"
        match = SIGNED.search(text)
        assert match is None, f"signed-request material {match.group()!r} appears in {where}"


@pytest.fixture(scope="module")
def seed_execution(lab: Lab) -> str:
    return scenarios.run(lab, scenarios.SEED, execution_name="")


# --- 1. credentials never written ------------------------------------------------------


@pytest.mark.moto_server
def test_a_successful_trace_writes_no_credentials(
    lab: Lab, seed_execution: str, tmp_path: Path
) -> None:
    options = cli_options()
    files = ["-o", "report.json"]
    for option, name in (
        ("--csv", "timeline.csv"),
        ("--report", "incident.md"),
        ("--save-bundle", "bundle.json.gz"),
    ):
        if option in options:
            files += [option, name]
    code, stdout, stderr = run_cli(
        tmp_path,
        seed_execution,
        "--field",
        FIELD,
        "--format",
        "json",
        "--endpoint-url",
        lab.endpoint_url,
        "--debug",
        *files,
        tty_stderr=True,
    )
    assert code == ExitCode.FINDING, stderr
    assert (tmp_path / "report.json").exists()
    assert_nothing_leaks(tmp_path, stdout, stderr)
    # Once more with the terminal report on stdout (JSON, CSV and Markdown were files above).
    code, stdout, stderr = run_cli(
        tmp_path,
        seed_execution,
        "--field",
        FIELD,
        "--format",
        "table",
        "--endpoint-url",
        lab.endpoint_url,
        "--debug",
    )
    assert code == ExitCode.FINDING, stderr
    assert "SplitIntoChunks" in stdout
    assert_nothing_leaks(tmp_path, stdout, stderr)


@pytest.mark.moto_server
def test_failures_with_debug_write_no_credentials(lab: Lab, tmp_path: Path) -> None:
    missing = "arn:aws:states:us-west-2:123456789012:execution:nowhere:nothing"
    cases = [
        ([missing, "--endpoint-url", lab.endpoint_url], ExitCode.AWS),
        ([missing, "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1"], ExitCode.AWS),
        (["arn:aws:states:us-west-2:123:execution:bad"], ExitCode.USAGE),
    ]
    for args, expected in cases:
        code, stdout, stderr = run_cli(
            tmp_path, *args, "--field", FIELD, "--debug", "-o", "report.json"
        )
        assert code == expected, stderr
        assert_nothing_leaks(tmp_path, stdout, stderr)
        assert not (tmp_path / "report.json").exists()


@pytest.mark.moto_server
def test_a_rejected_signature_without_debug_writes_no_credentials(lab: Lab, tmp_path: Path) -> None:
    with PagingProxy(lab.endpoint_url) as proxy:
        proxy.reject_signatures = True
        missing = "arn:aws:states:us-west-2:123456789012:execution:nowhere:nothing"
        code, stdout, stderr = run_cli(
            tmp_path, missing, "--field", FIELD, "--endpoint-url", proxy.endpoint_url
        )
    assert code == ExitCode.AWS
    assert "InvalidSignatureException" in stderr
    assert_nothing_leaks(tmp_path, stdout, stderr)


@pytest.mark.moto_server
def test_a_rejected_signature_with_debug_writes_no_credentials(lab: Lab, tmp_path: Path) -> None:
    with PagingProxy(lab.endpoint_url) as proxy:
        proxy.reject_signatures = True
        missing = "arn:aws:states:us-west-2:123456789012:execution:nowhere:nothing"
        code, stdout, stderr = run_cli(
            tmp_path, missing, "--field", FIELD, "--endpoint-url", proxy.endpoint_url, "--debug"
        )
    assert code == ExitCode.AWS
    assert_nothing_leaks(tmp_path, stdout, stderr)


# --- 2. read-only -------------------------------------------------------------------------


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Every AWS action any botocore client of this process calls, as ``prefix:Operation``."""
    calls: set[str] = set()
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.add(f"{self.meta.service_model.endpoint_prefix}:{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    yield calls


def readme_policy() -> set[str]:
    """The actions of the IAM policy in README.md's "IAM permissions" section."""
    text = (ROOT / "README.md").read_text()
    start = text.find("IAM permissions")
    assert start >= 0, "README.md has no 'IAM permissions' section"
    section = text[start : text.find("\n#", start + 1)]
    return set(re.findall(r'"([a-z0-9-]+:[A-Za-z]+)"', section))


@pytest.mark.moto_server
def test_end_to_end_traces_call_only_allowed_read_actions(
    lab: Lab, seed_execution: str, recorded: set[str], tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    generated = generate(1_200, seed=2)
    execution = deploy_generated(lab, generated)
    recorded.clear()  # from here on, only sfn-trace's calls
    with PagingProxy(lab.endpoint_url) as proxy:
        proxy.serve_history(execution, generated.events)
        proxy.expire_token(page=1)  # the restart path too
        runs = [
            [seed_execution, "--endpoint-url", lab.endpoint_url],
            [execution, "--endpoint-url", proxy.endpoint_url],
        ]
        for args in runs:
            result = runner.invoke(
                app, [*args, "--field", FIELD, "--format", "json"], env=env, catch_exceptions=False
            )
            assert result.exit_code == ExitCode.FINDING, result.stderr
    history = tmp_path / "history.json"
    history.write_text(fixture_history("flat_split_drops_key").read_text())
    result = runner.invoke(
        app,
        [str(history), "--field", FIELD, "--logs", "--format", "json"],
        env={**env, "AWS_ENDPOINT_URL": lab.endpoint_url},
        catch_exceptions=False,
    )
    assert result.exit_code == ExitCode.FINDING, result.stderr

    assert {"states:GetExecutionHistory", "states:DescribeExecution"} <= recorded
    assert recorded <= ALLOWED, f"not allowed: {sorted(recorded - ALLOWED)}"
    policy = readme_policy()
    extra = policy - ALLOWED
    assert extra <= CONFIRM_ONLY, f"README policy grants more: {sorted(extra - CONFIRM_ONLY)}"
    assert recorded <= policy, f"README policy misses {sorted(recorded - policy)}"


def _package_sources() -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}


# A client made from a literal service name: client("logs"), make_client("lambda", ...),
# factory("logs", region), boto3.client("s3") ...
CLIENT_CALL = re.compile(r"""(?:\w*client\w*|\w*factory\w*)\(\s*["']([a-z0-9-]+)["']""")


def test_the_package_creates_clients_only_for_allowed_services() -> None:
    session = botocore.session.get_session()
    services = set(session.get_available_services())
    allowed_prefixes = {action.split(":")[0] for action in ALLOWED}
    used: set[str] = set()
    for path, source in _package_sources().items():
        for name in CLIENT_CALL.findall(source):
            if name in services:
                used.add(name)
                prefix = session.get_service_model(name).endpoint_prefix
                assert prefix in allowed_prefixes, f"{path.name} makes a {name} client"
    assert "stepfunctions" in used


def test_the_package_calls_no_operation_outside_the_allowed_ones() -> None:
    session = botocore.session.get_session()
    sources = "\n".join(_package_sources().values())
    found: set[str] = set()
    for service in ("stepfunctions", "logs", "lambda"):
        model = session.get_service_model(service)
        for operation in model.operation_names:
            snake = xform_name(operation)
            pattern = rf"""\.{snake}\(|["']{snake}["']"""
            if re.search(pattern, sources):
                found.add(f"{model.endpoint_prefix}:{operation}")
    assert "states:GetExecutionHistory" in found
    outside = found - ALLOWED - CONFIRM_ONLY
    assert not outside, f"calls outside the read-only list: {sorted(outside)}"
    callers = [p.name for p, source in _package_sources().items() if ".test_state(" in source]
    assert callers == ["teststate.py"], callers


def test_only_sources_aws_imports_boto3() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path, source in _package_sources().items()
        if re.search(r"^\s*(?:import|from)\s+(?:boto3|botocore)\b", source, re.M)
    ]
    assert importers, "sources/aws imports boto3"
    outside = [p for p in importers if not p.startswith("sfn_trace/sources/aws/")]
    assert not outside, f"AWS clients may only come from sfn_trace/sources/aws: {outside}"
