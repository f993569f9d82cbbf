"""Neutral text: nothing the account wrote reaches a terminal, Markdown or CSV raw.

State names, error causes, payload values, Lambda log lines, execution names and file names
are chosen by others. A property-based test sends arbitrary strings (controls, ESC sequences,
bidi overrides, newlines that would forge lines, formula starts, lone surrogates) through
every human format of every command and checks that no raw control or bidi character comes
out, that no newline from the data starts a line, and that every CSV cell is inert in a
spreadsheet. JSON stays exact: the same strings come back from it as they went in.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sfn_trace.checks.compare import compare
from sfn_trace.checks.lint import LintedDefinition, LintReport, lint
from sfn_trace.checks.scan import ScanQuery, ScanResult
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import (
    ExecutionData,
    InvocationLogs,
    LambdaLogs,
    LogLine,
    infer_info,
)
from sfn_trace.report import (
    Command,
    CompareFormat,
    LintFormat,
    ScanFormat,
    TraceFormat,
    render,
)
from sfn_trace.report.neutral import (
    UNSAFE,
    UNSAFE_BUT_NEWLINE,
    csv_cell,
    neutral,
    neutral_json,
    neutral_lines,
    spreadsheet_safe,
)
from sfn_trace.sources.aws.executions import ListedExecution
from sfn_trace.trace import analyze
from sfn_trace.trace.invocations import all_invocations
from sfn_trace.trace.visits import build_visits
from tests.data import DEFINITION, fixture_history
from tests.fleet_rows import judge_all

FIELD = "poll_results_s3_key"
MARKER = "FORGED"
"""Follows a newline in every hostile string: no output line may begin with it."""


HOSTILE = [
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://example.invalid\x07link\x1b]8;;\x07",
    "\x1b]0;window title\x07",
    "cursor\x1b[2J\x1b[H",
    "line\rover",
    "a\u202eevil\u202c",
    "\u2066isolate\u2069",
    "\x9b31m C1 CSI",
    '=HYPERLINK("https://example.invalid")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "\ud800 lone surrogate",
    "back\\slash and `tick` and |pipe| and *star*",
]


# --- the function itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name", "plain name"),
        ("café ünïcode 名前 🚀", "café ünïcode 名前 🚀"),
        ("a\nb", "a\\nb"),
        ("a\rb\tc", "a\\rb\\tc"),
        ("\x1b[31m", "\\x1b[31m"),
        ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
        ("\x85\x9b", "\\x85\\x9b"),
        (
            "\u202e\u202a\u2066\u2069\u200e\u200f\u061c",
            "\\u202e\\u202a\\u2066\\u2069\\u200e\\u200f\\u061c",
        ),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\ud83d", "\\ud83d"),
        ("one\\x1b two", "one\\x1b two"),  # a backslash is left as it is
    ],
)
def test_neutral_shows_each_unsafe_character_as_an_escape(text: str, shown: str) -> None:
    assert neutral(text) == shown


def test_text_without_unsafe_characters_is_the_same_object() -> None:
    text = "SplitIntoChunks > MergeGroup"
    assert neutral(text) is text
    assert neutral_lines(text) is text
    assert neutral_json(text) is text


def test_neutral_lines_keeps_only_the_newlines() -> None:
    assert neutral_lines("one\x1b[2J\ntwo\r\n") == "one\\x1b[2J\ntwo\\r\n"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(JSON_VALUES)
def test_neutral_json_is_the_same_document(document: Any) -> None:
    for indent in (None, 2):
        text = json.dumps(document, ensure_ascii=False, indent=indent)
        shown = neutral_json(text)
        assert json.loads(shown) == document
        assert UNSAFE_BUT_NEWLINE.search(shown) is None


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("-5", "-5"),
        ("-0.25", "-0.25"),
        ("+1e3", "+1e3"),
        ("-.5", "-.5"),
        ("12", "12"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_follows_owasp_and_keeps_numbers(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


def test_csv_cell_neutralises_before_guarding() -> None:
    assert csv_cell("\t=1") == "\\t=1"  # a tab shown as \t no longer starts the cell
    assert csv_cell("=a\nb") == "'=a\\nb"
    assert csv_cell("one\ntwo", kind="lines") == "one\ntwo"
    assert json.loads(csv_cell('["\u202e"]', kind="json")) == ["\u202e"]


# --- every human format -------------------------------------------------------------------------


def _raw_history() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_history("flat_split_drops_key").read_text())
    return document


RAW = _raw_history()
DEFINITION_TEXT = DEFINITION.read_text(encoding="utf-8")
NAMES = sorted(
    {
        details["name"]
        for event in RAW["events"]
        for key, details in event.items()
        if key.endswith("EventDetails") and isinstance(details, dict) and "name" in details
    }
)


def _rename(name: str, hostile: str) -> str:
    return f"{hostile}{name}"


def hostile_data(hostile: str) -> ExecutionData:
    """The fixture with every state renamed, the field's first value, the execution's end and
    every Lambda log line carrying ``hostile``."""
    raw = json.loads(json.dumps(RAW))
    for event in raw["events"]:
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, dict) and "name" in details:
                details["name"] = _rename(details["name"], hostile)
    # The execution's input and the first state's hold the field with the hostile value.
    for event in raw["events"][:2]:
        details = next(v for k, v in event.items() if k.endswith("EventDetails"))
        document = json.loads(details["input"])
        document[FIELD] = hostile
        details["input"] = json.dumps(document, ensure_ascii=False)
    last = raw["events"][-1]
    assert last["type"] == "ExecutionSucceeded"
    last["type"] = "ExecutionFailed"
    del last["executionSucceededEventDetails"]
    last["executionFailedEventDetails"] = {"error": hostile, "cause": hostile}
    definition = DEFINITION_TEXT
    for name in NAMES:
        definition = definition.replace(
            json.dumps(name), json.dumps(_rename(name, hostile), ensure_ascii=False)
        )
    events = events_from_api(raw["events"])
    data = ExecutionData(
        info=infer_info(events), events=events, definition=Definition.from_text(definition)
    )
    invocations = all_invocations(build_visits(data.events, data.definition).visits)
    logs = LambdaLogs(
        by_attempt={
            invocation.start_event_id: InvocationLogs(
                request_id=invocation.request_id,
                log_group=f"/aws/lambda/{invocation.function}",
                log_stream="2025/11/17/[$LATEST]0123456789abcdef",
                matched_by="request_id",
                lines=(
                    LogLine(1763358539677, f"[INFO] {hostile} {FIELD}\n", "s", "e1"),
                    LogLine(1763358539678, hostile, "s", "e2"),
                ),
            )
            for invocation in invocations
        },
        log_groups={i.function: f"/aws/lambda/{i.function}" for i in invocations},
        warnings=(f"{hostile}: access denied on logs:FilterLogEvents",),
    )
    return dataclasses.replace(data, lambda_logs=logs)


def plain_data() -> ExecutionData:
    events = events_from_api(RAW["events"])
    return ExecutionData(
        info=infer_info(events), events=events, definition=Definition.from_text(DEFINITION_TEXT)
    )


def assert_inert(text: str, what: str) -> None:
    found = UNSAFE_BUT_NEWLINE.search(text)
    assert found is None, f"{what}: raw {found.group()!r} at {found.start()}"
    forged = [line for line in text.splitlines() if line.lstrip(" |`>-*#").startswith(MARKER)]
    assert not forged, f"{what}: a newline in the data started a line: {forged[0]!r}"


def assert_inert_csv(text: str, what: str, lines_columns: frozenset[str] = frozenset()) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    for row in body:
        assert len(row) == len(header), f"{what}: a row has {len(row)} cells"
        for column, cell in zip(header, row, strict=True):
            allowed = "\n" if column in lines_columns else ""
            raw = [c for c in UNSAFE.findall(cell) if c not in allowed]
            assert not raw, f"{what}: raw {raw[0]!r} in {column}"
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                float(cell)  # only a plain number may begin so


hostile_strings = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=12),
    st.text(
        alphabet=st.sampled_from(
            [*"=+-@ab\\`|", "\x1b", "\r", "\t", "\x00", "\x7f", "\x85", "\u202e", "\u2066"]
        ),
        min_size=1,
        max_size=12,
    ),
).map(lambda text: f"{text}\n{MARKER}")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(hostile=hostile_strings)
@example(hostile="\x1b[2J\u202e=cmd\n" + MARKER)
def test_no_raw_control_reaches_a_human_format(hostile: str) -> None:
    data = hostile_data(hostile)
    result = analyze(data, FIELD)
    for output_format in (TraceFormat.TABLE, TraceFormat.MARKDOWN):
        assert_inert(render(Command.TRACE, output_format, result), f"trace {output_format.value}")
    assert_inert_csv(
        render(Command.TRACE, TraceFormat.CSV, result),
        "trace csv",
        lines_columns=frozenset({"log_excerpt"}),
    )

    # JSON stays exact: the hostile value comes back as it went in.
    document = json.loads(render(Command.TRACE, TraceFormat.JSON, result))
    assert document["visits"][0]["input"]["occurrences"][0]["value"] == hostile

    comparison = compare(analyze(plain_data(), FIELD), result, sources=(hostile, hostile))
    assert_inert(render(Command.COMPARE, CompareFormat.TABLE, comparison), "compare table")

    start = datetime(2025, 11, 17, 5, 48, 11, tzinfo=timezone.utc)
    machine = f"arn:aws:states:us-west-2:123456789012:stateMachine:{hostile}"
    listed = [
        ListedExecution(f"{machine}:{n}", f"{hostile}{n}", "FAILED", machine, start, start)
        for n in range(2)
    ]

    def load(execution: ListedExecution) -> ExecutionData:
        if execution.name.endswith("1"):
            raise ValueError(hostile)
        return data

    scan = ScanResult(ScanQuery(machine, FIELD), tuple(judge_all(listed, load, FIELD, workers=1)))
    assert_inert(render(Command.SCAN, ScanFormat.TABLE, scan), "scan table")
    assert_inert_csv(render(Command.SCAN, ScanFormat.CSV, scan), "scan csv")

    definition = data.definition
    assert definition is not None
    # A file name from the command line holds no surrogate but the \udc80-\udcff of bytes
    # that are not UTF-8 (os.fsdecode).
    hostile = os.fsdecode(hostile.encode("utf-8", "surrogatepass"))
    report = LintReport(
        FIELD,
        (
            LintedDefinition(Path(f"{hostile}.asl.json"), definition, lint(definition, FIELD)),
            LintedDefinition(Path(hostile), None, [], error=hostile),
        ),
    )
    assert_inert(render(Command.LINT, LintFormat.TABLE, report), "lint table")
    for exact in (LintFormat.JSON, LintFormat.SARIF):
        json.loads(render(Command.LINT, exact, report))


def test_the_hostile_fixture_reaches_every_section() -> None:
    """The property above is only worth something if the hostile text is shown at all."""
    hostile = "HOSTILE"
    result = analyze(hostile_data(hostile), FIELD)
    table = render(Command.TRACE, TraceFormat.TABLE, result)
    markdown = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert result.first_null is not None
    assert f"{hostile}{result.first_null.visit.state.removeprefix(hostile)}" in table
    assert "Lambda logs" in table and f"[INFO] {hostile}" in table
    assert hostile in markdown and "```json" in markdown


def test_a_newline_in_a_state_name_does_not_forge_a_headline() -> None:
    forged = "Normalize\nVerdict    INTACT: all is well"
    result = analyze(hostile_data(forged), FIELD)
    table = render(Command.TRACE, TraceFormat.TABLE, result)
    verdicts = [line for line in table.splitlines() if line.startswith("Verdict")]
    assert len(verdicts) == 1 and not verdicts[0].startswith("Verdict    INTACT")
    assert "Normalize\\nVerdict    INTACT" in table


def test_stderr_lines_are_neutral_and_one_line(tmp_path: Path) -> None:
    """An error quoting what the user or the account named (here a file name) is one line."""
    from typer.testing import CliRunner

    from sfn_trace.cli import app

    missing = tmp_path / "a\x1b]0;title\x07\nsfn-trace: forged\u202e.json"
    result = CliRunner().invoke(app, [str(missing), "--field", FIELD])
    assert result.exit_code == 2
    lines = result.stderr.splitlines() if hasattr(result, "stderr") else result.output.splitlines()
    assert len(lines) == 1, lines
    assert UNSAFE.search(lines[0]) is None
    assert "a\\x1b]0;title\\x07\\nsfn-trace: forged\\u202e.json" in lines[0]
