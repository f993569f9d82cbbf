"""No credential escapes, whatever its source (issue 24, item 5).

The CLI runs as a user runs it (a subprocess, ``HOME`` and every AWS file in the test's
folder) against a loopback endpoint that plays Step Functions, STS (assume-role) and the SSO
portal. The credentials come in turn from the environment, a profile in a shared credentials
file, a config ``credential_process``, an SSO cached token, and an assume-role from a source
profile; the endpoint's error message echoes the access key id, the secret key and the
session token the CLI ended up with (and the SSO portal's cached access token, an
assume-role's source keys): on its first line, percent-encoded in a signed URL, and cut
short. Neither the ``error:`` line, ``--debug``'s traceback, nor a JSON report (whose
warnings quote AWS messages) may hold any of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from benchmarks.paging_proxy import wire_events
from sfn_trace.errors import ExitCode
from tests.data import ROOT, fixture_describe, fixture_history

NAME = "flat_intact"
FIELD = "poll_results_s3_key"
ARN = json.loads(fixture_describe(NAME).read_text())["executionArn"]


@dataclass(frozen=True)
class Credentials:
    """Obviously fake credentials, distinct per source, shaped like AWS's."""

    access_key: str
    secret_key: str
    token: str

    @classmethod
    def fake(cls, tag: str) -> Credentials:
        digest = hashlib.sha256(tag.encode()).digest()
        letters = base64.b32encode(digest).decode()[:16]
        return cls(
            access_key=f"ASIA{letters}",
            secret_key=base64.b64encode(digest[:30]).decode(),
            token=base64.b64encode(hashlib.sha512(tag.encode()).digest() * 3).decode(),
        )

    @property
    def values(self) -> tuple[str, str, str]:
        return (self.access_key, self.secret_key, self.token)


@dataclass
class FakeAws:
    """Step Functions, STS and the SSO portal on 127.0.0.1."""

    issued: dict[str, Credentials] = field(default_factory=dict)
    """The credentials STS (``sts``) and the SSO portal (``sso``) hand out."""
    echo: Credentials | None = None
    """The credentials Step Functions' error messages quote."""
    also: tuple[str, ...] = ()
    """Further secrets they quote (the SSO portal's access token, an assume-role's source
    keys)."""
    failing: str = "DescribeExecution"
    """The Step Functions operation that fails (KmsAccessDeniedException on the definition
    is only a warning: the trace goes on and its JSON report quotes the message)."""
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def message(self) -> str:
        assert self.echo is not None
        key, secret, token = self.echo.values
        return (
            f"The security token {token} for key {key} (secret {secret}) is not valid\n"
            f"https://example.com/?X-Amz-Security-Token={quote(token, safe='')}"
            f"&X-Amz-Credential={key}%2F20260101&X-Amz-Signature={'ab' * 32}\n"
            f"token began {token[7:60]}, secret {secret[3:30]}; also {' '.join(self.also)}"
        )

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, str, bytes]:
        target = request.headers.get("X-Amz-Target", "")
        if request.path.startswith("/federation/credentials"):
            creds = self.issued["sso"]
            role = {
                "accessKeyId": creds.access_key,
                "secretAccessKey": creds.secret_key,
                "sessionToken": creds.token,
                "expiration": 4_102_444_800_000,
            }
            return 200, "application/json", json.dumps({"roleCredentials": role}).encode()
        if b"Action=AssumeRole" in body:
            creds = self.issued["sts"]
            xml = (
                '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                "<AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>"
                "<Arn>arn:aws:sts::123456789012:assumed-role/reader/s</Arn></AssumedRoleUser>"
                f"<Credentials><AccessKeyId>{creds.access_key}</AccessKeyId>"
                f"<SecretAccessKey>{creds.secret_key}</SecretAccessKey>"
                f"<SessionToken>{creds.token}</SessionToken>"
                "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
                "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId>"
                "</ResponseMetadata></AssumeRoleResponse>"
            )
            return 200, "text/xml", xml.encode()
        operation = target.rpartition(".")[2]
        if operation == self.failing:
            code = "ValidationException"
            if operation != "DescribeExecution":
                code = "KmsAccessDeniedException"
            error = {"__type": code, "message": self.message()}
            return 400, "application/x-amz-json-1.0", json.dumps(error).encode()
        if operation == "DescribeExecution":
            return 200, "application/x-amz-json-1.0", fixture_describe(NAME).read_bytes()
        if operation == "GetExecutionHistory":
            events = json.loads(fixture_history(NAME).read_text())["events"]
            page = {"events": wire_events(events)}
            return 200, "application/x-amz-json-1.0", json.dumps(page).encode()
        error = {"__type": "UnknownOperationException", "message": operation}
        return 400, "application/x-amz-json-1.0", json.dumps(error).encode()


@pytest.fixture
def aws() -> Iterator[FakeAws]:
    fake = FakeAws()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, kind, data = fake.answer(self, self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def environment(home: Path, aws: FakeAws, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_STS=aws.url,
        AWS_ENDPOINT_URL_SSO=aws.url,
    )
    env.update(extra)
    return env


def run(home: Path, env: dict[str, str], aws: FakeAws, *args: str) -> tuple[int, str, str]:
    command = [sys.executable, "-m", "sfn_trace", ARN, "--field", FIELD]
    command += ["--endpoint-url", aws.url, "--max-attempts", "1", *args]
    done = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def assert_absent(credentials: Credentials, home: Path, *texts: str) -> None:
    sources = {f"output {n}": text for n, text in enumerate(texts)}
    for path in home.glob("*.json"):
        sources[path.name] = path.read_text()
    for where, text in sources.items():
        for value in credentials.values:
            assert value not in text, f"{value[:8]}... appears in {where}"
            for start in range(0, len(value) - 16, 4):  # nor 16 characters of it
                assert value[start : start + 16] not in text, f"part of {value[:8]}... in {where}"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def setup_environment(home: Path, aws: FakeAws) -> tuple[dict[str, str], Credentials]:
    creds = Credentials.fake("environment")
    env = environment(
        home,
        aws,
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_SESSION_TOKEN=creds.token,
    )
    return env, creds


def setup_profile_file(home: Path, aws: FakeAws) -> tuple[dict[str, str], Credentials]:
    creds = Credentials.fake("profile file")
    write(
        home / ".aws" / "credentials",
        f"[reader]\naws_access_key_id = {creds.access_key}\n"
        f"aws_secret_access_key = {creds.secret_key}\naws_session_token = {creds.token}\n",
    )
    return environment(home, aws, AWS_PROFILE="reader"), creds


def setup_process(home: Path, aws: FakeAws) -> tuple[dict[str, str], Credentials]:
    creds = Credentials.fake("credential process")
    answer = {
        "Version": 1,
        "AccessKeyId": creds.access_key,
        "SecretAccessKey": creds.secret_key,
        "SessionToken": creds.token,
        "Expiration": "2099-01-01T00:00:00Z",
    }
    script = home / "credentials.py"
    write(script, f"import json\nprint(json.dumps({answer!r}))\n")
    write(
        home / ".aws" / "config",
        f"[profile tool]\ncredential_process = {sys.executable} {script}\n",
    )
    return environment(home, aws, AWS_PROFILE="tool"), creds


PORTAL_TOKEN = "aoaAAAAFakePortalAccessToken0123456789:MGUCMQDfake+portal/token"


def setup_sso(home: Path, aws: FakeAws) -> tuple[dict[str, str], Credentials]:
    creds = aws.issued["sso"] = Credentials.fake("sso")
    start = "https://fake-portal.example.com/start"
    write(
        home / ".aws" / "config",
        f"[profile sso]\nsso_start_url = {start}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Reader\n",
    )
    cached = {
        "startUrl": start,
        "region": "us-east-1",
        "accessToken": PORTAL_TOKEN,
        "expiresAt": "2099-01-01T00:00:00Z",
    }
    name = hashlib.sha1(start.encode()).hexdigest() + ".json"
    write(home / ".aws" / "sso" / "cache" / name, json.dumps(cached))
    aws.also = (PORTAL_TOKEN,)
    return environment(home, aws, AWS_PROFILE="sso"), creds


def setup_assume_role(home: Path, aws: FakeAws) -> tuple[dict[str, str], Credentials]:
    source = Credentials.fake("assume-role source")
    creds = aws.issued["sts"] = Credentials.fake("assumed role")
    aws.also = (source.access_key, source.secret_key)
    write(
        home / ".aws" / "credentials",
        f"[base]\naws_access_key_id = {source.access_key}\n"
        f"aws_secret_access_key = {source.secret_key}\n",
    )
    write(
        home / ".aws" / "config",
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/reader\nsource_profile = base\n",
    )
    return environment(home, aws, AWS_PROFILE="role"), creds


SOURCES = {
    "environment": setup_environment,
    "profile file": setup_profile_file,
    "credential_process": setup_process,
    "sso": setup_sso,
    "assume-role": setup_assume_role,
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_an_error_echoing_the_credentials_prints_none_of_them(
    source: str, aws: FakeAws, tmp_path: Path
) -> None:
    env, creds = SOURCES[source](tmp_path, aws)
    aws.echo = creds
    code, stdout, stderr = run(tmp_path, env, aws, "--debug", "-o", "report.json")
    assert code == ExitCode.AWS, stderr
    # The answer came from the endpoint, signed with these credentials, and was said.
    assert "sfn-trace: error: AWS error ValidationException on DescribeExecution" in stderr
    assert "The security token <redacted> for key <redacted> (secret <redacted>)" in stderr
    assert "Traceback" in stderr  # --debug
    assert_absent(creds, tmp_path, stdout, stderr)
    assert not [value for value in aws.also if value in stdout + stderr]
    code, stdout, stderr = run(tmp_path, env, aws)
    assert code == ExitCode.AWS
    assert_absent(creds, tmp_path, stdout, stderr)
    assert not [value for value in aws.also if value in stdout + stderr]


@pytest.mark.parametrize("source", ["environment", "profile file"])
def test_a_warning_echoing_the_credentials_is_scrubbed_in_the_json_report(
    source: str, aws: FakeAws, tmp_path: Path
) -> None:
    env, creds = SOURCES[source](tmp_path, aws)
    aws.echo = creds
    aws.failing = "DescribeStateMachineForExecution"
    args = ("--no-logs", "--format", "json")
    code, stdout, stderr = run(tmp_path, env, aws, *args, "-o", "report.json")
    assert code in (ExitCode.INTACT, ExitCode.FINDING), stderr
    report = json.loads((tmp_path / "report.json").read_text())
    warnings = " ".join(report["warnings"]) if "warnings" in report else json.dumps(report)
    assert "KmsAccessDeniedException" in warnings
    assert "<redacted>" in warnings
    code, stdout, stderr = run(tmp_path, env, aws, *args)
    assert "KmsAccessDeniedException" in stdout
    assert_absent(creds, tmp_path, stdout, stderr)
