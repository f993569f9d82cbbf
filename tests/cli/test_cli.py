"""Every exit code and error message of the CLI, end to end (httpie's test_exit_status style)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import ROOT
from tests.history_builder import History

runner = CliRunner()
ARN = "arn:aws:states:us-west-2:123456789012:execution:line-ingest-sf-dev-1554303:8ee0d036"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert "Traceback" not in text
    return lines[0]


def history_with(tmp_path: Path, *documents: object, final: object = "same") -> Path:
    """A straight-line history of Pass states whose outputs are ``documents`` in order."""
    history = History()
    history.start(documents[0])
    previous = documents[0]
    for i, document in enumerate(documents[1:], start=1):
        history.pass_state(f"Step{i}", previous, document)
        previous = document
    history.succeed(previous if final == "same" else final)
    return history.write(tmp_path / "history.json")


@pytest.fixture
def intact(tmp_path: Path) -> Path:
    return history_with(tmp_path, {"key": "a"}, {"key": "a", "x": 1})


@pytest.fixture
def lost(tmp_path: Path) -> Path:
    return history_with(tmp_path, {"key": "a"}, {"wrapper": {"key": "a"}}, {"key": None})


def test_intact_exits_0_with_the_json_schema(intact: Path) -> None:
    result = invoke(str(intact), "--field", "key")
    assert result.exit_code == ExitCode.INTACT
    document = json.loads(result.stdout)
    assert document["schema"] == "sfn-trace/1"
    assert document["verdict"] == "intact"
    assert document["first_null"] is None and document["lost_at"] is None
    assert [v["state"] for v in document["visits"]] == ["Step1"]


def test_lost_exits_1_and_names_the_state(lost: Path) -> None:
    result = invoke(str(lost), "--field", "key", "--format", "json")
    assert result.exit_code == ExitCode.FINDING
    document = json.loads(result.stdout)
    assert document["verdict"] == "lost"
    assert document["first_null"]["state"] == "Step2"
    assert document["first_null"]["last_value"] == "a"
    assert document["first_null"]["became"] == "null"
    assert document["lost_at"]["state"] == "Step2"


def test_never_set_and_absent_exit_1(tmp_path: Path) -> None:
    never = history_with(tmp_path, {"key": None}, {"key": None, "y": 2})
    result = invoke(str(never), "--field", "key")
    assert result.exit_code == ExitCode.FINDING
    assert json.loads(result.stdout)["verdict"] == "never_set"
    result = invoke(str(never), "--field", "other")
    assert result.exit_code == ExitCode.FINDING
    assert json.loads(result.stdout)["verdict"] == "absent"


def test_data_not_included_exits_4(tmp_path: Path) -> None:
    history = History()
    history.add("ExecutionStarted", 0, roleArn="r")
    history.add("PassStateEntered", name="A")
    history.add("PassStateExited", name="A")
    history.add("ExecutionSucceeded")
    path = history.write(tmp_path / "metadata-only.json")
    result = invoke(str(path), "--field", "key")
    assert result.exit_code == ExitCode.INCOMPLETE
    document = json.loads(result.stdout)
    assert document["verdict"] == "unknown"
    assert document["final"]["status"] == "unknown"
    assert {u["document"] for u in document["unseen"]} >= {"input", "output"}


def test_table_format_has_headline_and_timeline(lost: Path) -> None:
    result = invoke(str(lost), "--field", "key", "--format", "table")
    assert result.exit_code == ExitCode.FINDING
    assert "Verdict    LOST" in result.stdout
    assert "Went null  Step2 (Pass" in result.stdout
    assert "Timeline of key (2 visits)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arn:aws:states:us-west-2:123:execution:x"], "malformed execution ARN"),
        (
            ["arn:aws:states:us-west-2:123456789012:stateMachine:sm"],
            "is a state machine ARN",
        ),
        (["no-such-file.json"], "neither an execution ARN"),
    ],
)
def test_bad_target_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = invoke(*args, "--field", "key")
    assert result.exit_code == ExitCode.USAGE
    assert message in one_line(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"{not json", "not valid JSON at line 1"),
        (b'{"foo": 1}', "not a Step Functions history"),
        (b'{"events": [{"type": "PassStateEntered"}]}', "not a history event"),
        (gzip.compress(b'{"events": []}' * 50)[:30], "corrupt or truncated gzip"),
    ],
)
def test_unreadable_file_exits_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = invoke(str(path), "--field", "key")
    assert result.exit_code == ExitCode.USAGE
    assert message in one_line(result.stderr)


def test_missing_field_option_is_a_usage_error(intact: Path) -> None:
    result = runner.invoke(app, [str(intact)])
    assert result.exit_code == ExitCode.USAGE
    assert "--field" in result.stderr


def test_bad_definition_exits_2(intact: Path, tmp_path: Path) -> None:
    definition = tmp_path / "definition.json"
    definition.write_text('{"StartAt": "A"}')
    result = invoke(str(intact), "--field", "key", "--definition", str(definition))
    assert result.exit_code == ExitCode.USAGE
    assert "not an Amazon States Language definition" in one_line(result.stderr)


def test_unreachable_endpoint_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = invoke(
        ARN, "--field", "key", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1"
    )
    assert result.exit_code == ExitCode.AWS
    assert "cannot reach the Step Functions endpoint http://127.0.0.1:9" in one_line(result.stderr)


def test_ctrl_c_exits_130_and_writes_no_output(
    intact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "load", interrupted)
    out = tmp_path / "report.json"
    result = invoke(str(intact), "--field", "key", "--output", str(out))
    assert result.exit_code == ExitCode.INTERRUPTED
    assert one_line(result.stderr) == "sfn-trace: interrupted"
    assert not out.exists()


def test_output_file_written_only_after_success(intact: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = invoke(str(intact), "--field", "key", "--output", str(out))
    assert result.exit_code == ExitCode.INTACT
    assert result.stdout == ""
    assert json.loads(out.read_text())["verdict"] == "intact"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []

    failed = tmp_path / "failed.json"
    result = invoke(str(tmp_path / "missing.json"), "--field", "key", "--output", str(failed))
    assert result.exit_code == ExitCode.USAGE
    assert not failed.exists()


def test_internal_errors_are_one_line_without_traceback(
    intact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(api, "load", broken)
    result = invoke(str(intact), "--field", "key")
    assert result.exit_code == ExitCode.INTERNAL == 70
    assert "internal error: ValueError: boom" in one_line(result.stderr)


def test_help_shows_example_and_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Usage: sfn-trace TARGET --field NAME [OPTIONS]" in result.stdout
    assert "--field poll_results_s3_key" in result.stdout
    for line in ("0  the field is intact", "3  an AWS error", "4  the answer is incomplete"):
        assert line in result.stdout


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("sfn-trace ")


def test_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(
        [sys.executable, "-m", "sfn_trace", "arn:aws:states:bogus", "--field", "k"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert completed.returncode == ExitCode.USAGE
    assert completed.stdout == ""
    assert one_line(completed.stderr).startswith("sfn-trace: error: malformed execution ARN")


_PIPELINE = ["sfn_trace.api", "sfn_trace.asl.replay", "sfn_trace.checks.scan"]
_LIBRARIES = ["boto3", "botocore", "pandas", "tabulate", "rich", "jsonata", "jsonpath_ng"]


@pytest.mark.parametrize(
    ("args", "not_loaded"),
    [
        (["--version"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["--help"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["-h"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["scan", "--help"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["compare", "-h"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["lint", "--help"], [*_PIPELINE, *_LIBRARIES, "pydantic"]),
        (["arn:aws:states:us-west-2:1:execution:x", "--field", "F"], [*_LIBRARIES, "pydantic"]),
        (["missing.json", "--field", "F"], [*_LIBRARIES, "pydantic"]),
    ],
)
def test_help_version_and_usage_errors_import_only_what_they_need(
    args: list[str], not_loaded: list[str]
) -> None:
    """--help and --version load the command line only: not the pipeline (the api, the
    replay, the checks), boto3, pandas, tabulate, rich, jsonata, jsonpath-ng, or pydantic
    (which typer imports to convert option values: the help flag needs no conversion, and
    plain values are converted without it, sfn_trace/cli/values.py). A malformed ARN or a
    missing file is reported by the api, before boto3 or any other library is imported.
    Checked in a fresh interpreter, by module name, never by time."""
    import subprocess
    import sys

    # The program ends with os._exit (sfn_trace.cli.main): observed just before it.
    code = (
        "import os, sys, runpy\n"
        "real_exit = os._exit\n"
        "def observed(code):\n"
        "    print('exit', code)\n"
        f"    print(sorted(m for m in {not_loaded!r} if m in sys.modules))\n"
        "    sys.stdout.flush()\n"
        "    real_exit(code)\n"
        "os._exit = observed\n"
        f"sys.argv = ['sfn-trace', *{args!r}]\n"
        "runpy.run_module('sfn_trace', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "[]", done.stdout[-500:]
    assert lines[-2] == ("exit 2" if "--field" in args else "exit 0")
    assert done.returncode == (2 if "--field" in args else 0)
