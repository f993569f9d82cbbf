"""Every exit other than 0 and 1 says why in one line on stderr, whatever the format.

The contract: stdout carries the report only; an exit other than 0 and 1 prints exactly one
line on stderr that says why (``sfn-trace: ...``), the last one, whatever ``--format`` and
whether or not ``-o FILE`` took the report. Warnings (``sfn-trace: warning: ...``) may come
before it. Exits 0 and 1 are the report's answer and print no such line. Checked here for
every command (the main form, ``compare``, ``scan``) and each of its formats: exit 4 (the
answer is incomplete), 2 (unreadable input), 3 (an AWS error: an unreachable endpoint on the
loopback, nothing leaves the machine) and 130 (Ctrl-C).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.checks import scan as checks_scan
from sfn_trace.checks.compare import compare
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.report import Command, CompareFormat, RenderOptions, TraceFormat, render
from sfn_trace.report.lines import exit_reason
from sfn_trace.sources.aws import executions as executions_module
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from tests.cli.test_hostile_files import seed_events, without_execution_data
from tests.data import fixture_history
from tests.stubbing import paginator_for

FIELD = "poll_results_s3_key"
PREFIX = "sfn-trace: "
WARNING = "sfn-trace: warning: "
REGION = "us-west-2"
ACCOUNT = "123456789012"
MACHINE = "line-ingest"
SM_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"
UNREACHABLE = ("--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1")

TRACE_FORMATS = [f.value for f in TraceFormat]
COMPARE_FORMATS = [f.value for f in CompareFormat]
SCAN_FORMATS = ["table", "json", "csv"]


def _runner() -> CliRunner:
    """stderr apart from stdout: the default from click 8.2 on, ``mix_stderr`` before."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def reason_of(result: Any, *, before: Sequence[str] = ()) -> str:
    """The one line that says why the command exits neither 0 nor 1: every stderr line is
    ``sfn-trace: ...``, all but the last are warnings (or the lines ``before`` lists, in
    order), and the last is the reason."""
    assert "Traceback" not in result.stderr
    printed = lines(result)
    assert printed, "an exit other than 0 and 1 must say why"
    assert all(line.startswith(PREFIX) for line in printed), printed
    *others, last = printed
    assert [line for line in others if not line.startswith(WARNING)] == list(before), printed
    assert not last.startswith(WARNING), printed
    return last


def no_reason(result: Any, *, expected: Sequence[str] = ()) -> None:
    """Exit 0 or 1: nothing on stderr but warnings (and the lines ``expected`` lists)."""
    assert "Traceback" not in result.stderr
    others = [line for line in lines(result) if not line.startswith(WARNING)]
    assert others == list(expected), result.stderr


# --- histories --------------------------------------------------------------------------------


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"events": events}), encoding="utf-8")
    return path


@pytest.fixture
def blind(tmp_path: Path) -> Path:
    """The seed history as GetExecutionHistory returns it with includeExecutionData=false."""
    return _write(tmp_path / "no-data.history.json", without_execution_data(seed_events()))


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.history.json"
    path.write_text('{"events": [', encoding="utf-8")
    return path


LOST = fixture_history("flat_split_drops_key")
INTACT = fixture_history("flat_intact")


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials that sign but reach nothing, and no configuration of this machine's."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def traced(path: Path) -> TraceResult:
    return analyze(load_target_file(path), FIELD)


def trace_report(path: Path, fmt: str) -> str:
    """The report exactly as the main form renders it for a history file."""
    result = traced(path)
    if fmt == TraceFormat.MARKDOWN.value:
        options = RenderOptions(target=str(path))
        return render(Command.TRACE, TraceFormat.MARKDOWN, result, options)
    return render(Command.TRACE, TraceFormat(fmt), result)


# --- the main form ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TRACE_FORMATS)
def test_trace_exit_4_says_what_is_missing(blind: Path, fmt: str) -> None:
    result = invoke(str(blind), "--field", FIELD, "--format", fmt)
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stdout == trace_report(blind, fmt), "stdout carries the report only"
    reason = reason_of(result)
    assert reason == PREFIX + (exit_reason(Command.TRACE, traced(blind)) or "")
    assert reason.startswith("sfn-trace: incomplete: the answer needs 15 documents the history")
    assert "execution data not included" in reason


@pytest.mark.parametrize("fmt", TRACE_FORMATS)
def test_trace_exit_4_says_why_with_the_report_in_a_file(
    blind: Path, tmp_path: Path, fmt: str
) -> None:
    output = tmp_path / f"report.{fmt}"
    result = invoke(str(blind), "--field", FIELD, "--format", fmt, "-o", str(output))
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stdout == ""
    assert output.read_text(encoding="utf-8") == trace_report(blind, fmt)
    assert reason_of(result) == PREFIX + (exit_reason(Command.TRACE, traced(blind)) or "")


def test_trace_exit_4_with_a_partial_verdict(tmp_path: Path) -> None:
    events = seed_events()
    exited = next(
        e
        for e in events
        if e["type"] == "PassStateExited"
        and e["stateExitedEventDetails"]["name"] == "PrepareFinalMerge"
    )
    exited["stateExitedEventDetails"]["outputDetails"] = {"truncated": True}
    path = _write(tmp_path / "truncated.history.json", events)
    result = invoke(str(path), "--field", FIELD, "--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE
    assert reason_of(result) == (
        "sfn-trace: incomplete: the answer needs 1 document the history does not hold "
        "(payload truncated); partial verdict: lost"
    )


@pytest.mark.parametrize("fmt", TRACE_FORMATS)
@pytest.mark.parametrize(("history", "code"), [(INTACT, ExitCode.INTACT), (LOST, ExitCode.FINDING)])
def test_trace_exit_0_and_1_print_no_reason(history: Path, code: ExitCode, fmt: str) -> None:
    result = invoke(str(history), "--field", FIELD, "--format", fmt)
    assert result.exit_code == code
    assert result.stdout == trace_report(history, fmt)
    no_reason(result)


@pytest.mark.parametrize("fmt", TRACE_FORMATS)
def test_trace_exit_2_unreadable_file(unreadable: Path, fmt: str) -> None:
    result = invoke(str(unreadable), "--field", FIELD, "--format", fmt)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert reason_of(result).startswith("sfn-trace: error: ")


@pytest.mark.usefixtures("fake_credentials")
@pytest.mark.parametrize("fmt", TRACE_FORMATS)
def test_trace_exit_3_unreachable_endpoint(fmt: str) -> None:
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:run-1"
    result = invoke(arn, "--field", FIELD, "--format", fmt, *UNREACHABLE)
    assert result.exit_code == ExitCode.AWS
    assert result.stdout == ""
    assert reason_of(result).startswith(
        "sfn-trace: error: cannot reach the Step Functions endpoint http://127.0.0.1:9"
    )


# --- compare ----------------------------------------------------------------------------------


def compare_report(good: Path, bad: Path, fmt: str) -> str:
    comparison = compare(traced(good), traced(bad), sources=(str(good), str(bad)))
    return render(Command.COMPARE, CompareFormat(fmt), comparison)


@pytest.mark.parametrize("fmt", COMPARE_FORMATS)
def test_compare_exit_4_names_what_could_not_be_compared(blind: Path, fmt: str) -> None:
    result = invoke("compare", str(LOST), str(blind), "--field", FIELD, "--format", fmt)
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stdout == compare_report(LOST, blind, fmt)
    assert reason_of(result) == (
        "sfn-trace: incomplete: no divergence where both runs could be seen, but 7 visits "
        "could not be compared (one run's document was not seen): NormalizePollBatchesData "
        "(input, output), SplitIntoChunks (input, output), CheckChunkCount (input, output), "
        "+4 more"
    )


@pytest.mark.parametrize("fmt", COMPARE_FORMATS)
def test_compare_exit_4_says_why_with_the_report_in_a_file(
    blind: Path, tmp_path: Path, fmt: str
) -> None:
    output = tmp_path / f"comparison.{fmt}"
    result = invoke(
        "compare", str(LOST), str(blind), "--field", FIELD, "--format", fmt, "-o", str(output)
    )
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stdout == ""
    assert output.read_text(encoding="utf-8") == compare_report(LOST, blind, fmt)
    assert reason_of(result).startswith("sfn-trace: incomplete: no divergence where both")


@pytest.mark.parametrize("fmt", COMPARE_FORMATS)
@pytest.mark.parametrize(
    ("good", "bad", "code"),
    [(INTACT, INTACT, ExitCode.INTACT), (INTACT, LOST, ExitCode.FINDING)],
)
def test_compare_exit_0_and_1_print_no_reason(
    good: Path, bad: Path, code: ExitCode, fmt: str
) -> None:
    result = invoke("compare", str(good), str(bad), "--field", FIELD, "--format", fmt)
    assert result.exit_code == code
    assert result.stdout == compare_report(good, bad, fmt)
    no_reason(result)


@pytest.mark.parametrize("fmt", COMPARE_FORMATS)
def test_compare_exit_2_unreadable_file(unreadable: Path, fmt: str) -> None:
    result = invoke("compare", str(INTACT), str(unreadable), "--field", FIELD, "--format", fmt)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert reason_of(result).startswith("sfn-trace: error: ")


@pytest.mark.usefixtures("fake_credentials")
@pytest.mark.parametrize("fmt", COMPARE_FORMATS)
def test_compare_exit_3_unreachable_endpoint(fmt: str) -> None:
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:run-1"
    result = invoke("compare", str(INTACT), arn, "--field", FIELD, "--format", fmt, *UNREACHABLE)
    assert result.exit_code == ExitCode.AWS
    assert result.stdout == ""
    assert reason_of(result).startswith("sfn-trace: error: cannot reach")


# --- scan -------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 25, 23, 0, tzinfo=timezone.utc)


class FakeStepFunctions:
    """ListExecutions and GetExecutionHistory for the executions ``scenarios`` names:
    ``name -> events``, or None for an execution whose history reads are throttled."""

    def __init__(self, scenarios: dict[str, list[dict[str, Any]] | None]) -> None:
        self.scenarios = scenarios
        self.lock = threading.Lock()

    def get_paginator(self, name: str) -> Any:
        return paginator_for(self.list_executions, "ListExecutions")

    def list_executions(self, **params: Any) -> dict[str, Any]:
        items = []
        for minutes, name in enumerate(self.scenarios, start=1):
            start = T0 - timedelta(minutes=minutes)
            items.append(
                {
                    "executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:{name}",
                    "stateMachineArn": SM_ARN,
                    "name": name,
                    "status": "SUCCEEDED",
                    "startDate": start,
                    "stopDate": start + timedelta(seconds=1),
                }
            )
        return {"executions": items}

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        events = self.scenarios[params["executionArn"].rsplit(":", 1)[1]]
        if events is None:
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                    "ResponseMetadata": {"RetryAttempts": 0},
                },
                "GetExecutionHistory",
            )
        return {"events": events}


def _events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["events"]
    return events


def serve(monkeypatch: pytest.MonkeyPatch, **scenarios: list[dict[str, Any]] | None) -> None:
    fake = FakeStepFunctions(scenarios)
    monkeypatch.setattr(executions_module, "make_client", lambda *args, **kwargs: fake)


def scan(*args: str) -> Any:
    return invoke("scan", SM_ARN, "--field", FIELD, *args)


def scan_summary(*, intact: int, unknown: int, unreadable: int, lost: int = 0) -> list[str]:
    """What the summary says (also written to stderr under ``--format csv``)."""
    total = intact + unknown + unreadable + lost
    first = (
        f"{lost} of {total} execution{'s' if total != 1 else ''} lost {FIELD} "
        f"({lost} lost, 0 never set, 0 absent); {intact} intact"
    )
    incomplete = []
    if unknown:
        incomplete.append(f"{unknown} unknown (the history lacks the data)")
    if unreadable:
        incomplete.append(f"{unreadable} could not be read (see their rows)")
    return [first, "; ".join(incomplete)] if incomplete else [first]


@pytest.fixture
def incomplete_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(
        monkeypatch,
        **{
            "run-ok": _events(INTACT),
            "run-blind": without_execution_data(seed_events()),
            "run-throttled": None,
        },
    )


@pytest.mark.usefixtures("incomplete_scan")
@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_scan_exit_4_says_none_lost_it_but_some_could_not_be_told(fmt: str) -> None:
    result = scan("--format", fmt)
    assert result.exit_code == ExitCode.INCOMPLETE
    assert PREFIX not in result.stdout
    summary = scan_summary(intact=1, unknown=1, unreadable=1)
    # --format csv writes the summary to stderr too (stdout keeps to rows): before the reason.
    before = [PREFIX + s for s in summary] if fmt == "csv" else []
    assert reason_of(result, before=before) == (
        f"sfn-trace: incomplete: none of the 3 executions lost {FIELD}, but 2 could not be "
        "read or traced to a verdict: run-blind (unknown), run-throttled (not read)"
    )
    if fmt == "json":
        assert json.loads(result.stdout)["exit_code"] == ExitCode.INCOMPLETE


@pytest.mark.usefixtures("incomplete_scan")
@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_scan_exit_4_says_why_with_the_report_in_a_file(tmp_path: Path, fmt: str) -> None:
    on_stdout = scan("--format", fmt)
    output = tmp_path / f"scan.{fmt}"
    result = scan("--format", fmt, "-o", str(output))
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.stdout == ""
    assert output.read_text(encoding="utf-8") == on_stdout.stdout
    assert lines(result) == lines(on_stdout), "the same lines, the reason last"
    assert lines(result)[-1].startswith("sfn-trace: incomplete: none of the 3 executions")


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
@pytest.mark.parametrize(
    ("histories", "code"),
    [((INTACT,), ExitCode.INTACT), ((INTACT, LOST), ExitCode.FINDING)],
)
def test_scan_exit_0_and_1_print_no_reason(
    monkeypatch: pytest.MonkeyPatch, histories: tuple[Path, ...], code: ExitCode, fmt: str
) -> None:
    serve(monkeypatch, **{f"run-{i}": _events(h) for i, h in enumerate(histories)})
    result = scan("--format", fmt)
    assert result.exit_code == code
    lost = len(histories) - 1
    expected: list[str] = []
    if fmt == "csv":
        expected = [PREFIX + s for s in scan_summary(intact=1, unknown=0, unreadable=0, lost=lost)]
        if lost:
            expected.append(PREFIX + "went null in: SplitIntoChunks (1)")
    no_reason(result, expected=expected)


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_scan_exit_2_malformed_arn(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    def no_client(*_: Any, **__: Any) -> Any:
        raise AssertionError("no AWS call expected")

    monkeypatch.setattr(executions_module, "make_client", no_client)
    result = invoke("scan", "arn:aws:states:bogus", "--field", FIELD, "--format", fmt)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert reason_of(result).startswith("sfn-trace: error: ")


@pytest.mark.usefixtures("fake_credentials")
@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_scan_exit_3_unreachable_endpoint(fmt: str) -> None:
    result = scan("--format", fmt, *UNREACHABLE)
    assert result.exit_code == ExitCode.AWS
    assert result.stdout == ""
    assert reason_of(result).startswith("sfn-trace: error: cannot reach")


# --- Ctrl-C -----------------------------------------------------------------------------------


def _interrupted(*args: object, **kwargs: object) -> Any:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "args",
    [
        [str(INTACT), "--field", FIELD, "--format", "json"],
        ["compare", str(INTACT), str(LOST), "--field", FIELD, "--format", "json"],
        ["scan", SM_ARN, "--field", FIELD, "--format", "json"],
    ],
    ids=["trace", "compare", "scan"],
)
def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setattr(api, "load", _interrupted)
    monkeypatch.setattr(checks_scan, "scan", _interrupted)
    result = invoke(*args)
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stdout == ""
    assert reason_of(result) == "sfn-trace: interrupted"


def test_scan_exit_4_names_three_executions_then_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, **{f"run-{i}": None for i in range(5)})
    result = scan("--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE
    assert reason_of(result) == (
        f"sfn-trace: incomplete: none of the 5 executions lost {FIELD}, but 5 could not be "
        "read or traced to a verdict: run-0 (not read), run-1 (not read), run-2 (not read), "
        "+2 more"
    )


# --- usage errors that click finds before a command runs -----------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("history.json",), "sfn-trace --help"),  # --field missing
        (("history.json", "--field", "F", "--bogus"), "sfn-trace --help"),
        (("history.json", "--field", "F", "--format", "yaml"), "sfn-trace --help"),
        (("compare", "good.json", "--field", "F"), "sfn-trace compare --help"),
        (("scan", SM_ARN, "--field", "F", "--limit", "0"), "sfn-trace scan --help"),
        (("lint", "--field", "F"), "sfn-trace lint --help"),
        (("lint", "d.json", "--field", "F", "--format", "xml"), "sfn-trace lint --help"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(args: tuple[str, ...], hint: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    (line,) = lines(result)
    assert line.startswith("sfn-trace: error: "), line
    assert hint in line, line
    assert "Usage:" not in result.stderr


def test_help_and_version_still_exit_0() -> None:
    for args in (("--help",), ("scan", "--help"), ("lint", "-h"), ("--version",)):
        result = invoke(*args)
        assert result.exit_code == 0, args
        assert result.stdout and not result.stderr, args
