"""sfn_trace.report.trace.markdown: an incident report that renders as intended.

Checked by parsing it with markdown-it-py (CommonMark plus GFM tables): every table must parse
as a table with the same number of cells in every row, whatever the state names and payload
values hold.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.result import Hop
from sfn_trace.report import Command, RenderOptions, TraceFormat, render
from sfn_trace.report.links import console_link
from sfn_trace.report.trace import collapse
from sfn_trace.sources.files import load_history_file
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from tests.data import DEFINITION, fixture_history, fixture_names
from tests.history_builder import History

FIELD = "poll_results_s3_key"
ARN = (
    "arn:aws:states:us-west-2:123456789012:execution:line-ingest-sf-dev-1554303:"
    "8ee0d036-2881-4a5d-b6d5-57022197226a"
)

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")


def _fixture(name: str = "flat_split_drops_key") -> TraceResult:
    return analyze(load_target_file(fixture_history(name), DEFINITION), FIELD)


def _timeline(text: str) -> list[list[str]]:
    """The timeline table (the blame chain's table may come before it)."""
    return next(t for t in _tables(text) if t[0][:3] == ["#", "state", "type"])


def _tables(text: str) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header row first); asserts rows are rectangular."""
    tables: list[list[list[str]]] = []
    rows: list[list[str]] = []
    tokens = _MD.parse(text)
    for position, token in enumerate(tokens):
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open":
            rows.append([])
        elif token.type in ("th_open", "td_open"):
            rows[-1].append(_inline_text(tokens[position + 1]))
        elif token.type == "table_close":
            widths = {len(row) for row in rows}
            assert len(widths) == 1, f"a table row has a different number of cells: {rows}"
            tables.append(rows)
    return tables


def _inline_text(token: Token) -> str:
    return "".join(child.content for child in token.children or [])


def _headings(text: str) -> list[str]:
    tokens = _MD.parse(text)
    return [_inline_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_report_parses_with_its_timeline_table(name: str) -> None:
    result = _fixture(name)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    timeline = _timeline(text)
    assert timeline[0] == [
        "#",
        "state",
        "type",
        "input",
        "output",
        "value in output",
        "changed",
        "note",
    ]
    # One row per visit, but for the runs of visits that say the same (report/trace/collapse.py).
    assert len(timeline) == len(collapse.rows(result)) + 1
    headings = _headings(text)
    assert headings[0].startswith(result.verdict.value.upper().replace("_", " "))
    for section in ("Execution", "Finding", "Reproduce", "Next steps"):
        assert section in headings


def test_the_seed_incident_report() -> None:
    result = _fixture()
    result = dataclasses.replace(
        result,
        execution=dataclasses.replace(
            result.execution, arn=ARN, name=ARN.rsplit(":", 1)[1], state_machine_arn="arn:sm"
        ),
    )
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    headings = _headings(text)
    assert headings[0] == (
        "LOST: poll_results_s3_key went null in SplitIntoChunks "
        "(execution 8ee0d036-2881-4a5d-b6d5-57022197226a)"
    )
    assert "The culprit: SplitIntoChunks" in headings
    link = console_link(ARN).url
    assert link == (
        "https://us-west-2.console.aws.amazon.com/states/home?region=us-west-2"
        f"#/v2/executions/details/{ARN}"
    )
    hrefs = [
        child.attrs.get("href")
        for token in _MD.parse(text)
        for child in token.children or []
        if child.type == "link_open"
    ]
    assert hrefs == [link]
    assert f"sfn-trace {ARN} --field poll_results_s3_key" in text
    timeline = _timeline(text)
    split = next(row for row in timeline if row[1] == "SplitIntoChunks")
    assert split[-1] == "← went null"
    assert "Check that embedding-split-into-chunks-lambda-dev's handler returns" in (_plain(text))
    assert "Symptom:" in _plain(text) and "MarkBatchesComplete" in _plain(text)


def _plain(text: str) -> str:
    """The text a reader sees (inline content of every block)."""
    return "\n".join(_inline_text(t) for t in _MD.parse(text) if t.type == "inline")


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws-cn:states:cn-north-1:123456789012:execution:sm:run",
            "https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1"
            "#/v2/executions/details/arn:aws-cn:states:cn-north-1:123456789012:execution:sm:run",
        ),
        (None, None),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:sm", None),
    ],
)
def test_console_link(arn: str | None, expected: str | None) -> None:
    assert console_link(arn).url == expected


def _weird(tmp_path: Path) -> TraceResult:
    """State names and values full of Markdown: pipes, backticks, stars, brackets, HTML."""
    history = History()
    history.start({FIELD: "k"})
    history.pass_state("Load | `x` *y* [z](u)", {FIELD: "k"}, {FIELD: "a|b `c` <b>d</b>"})
    history.pass_state("# Drop _it_", {FIELD: "a|b `c` <b>d</b>"}, {FIELD: None})
    history.succeed({FIELD: None})
    return analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)


def test_markdown_in_names_and_values_cannot_break_the_tables(tmp_path: Path) -> None:
    text = render(
        Command.TRACE, TraceFormat.MARKDOWN, _weird(tmp_path), RenderOptions(target="my dir/h.json")
    )
    timeline = _timeline(text)
    assert [row[1] for row in timeline[1:]] == ["Load | `x` *y* [z](u)", "# Drop _it_"]
    assert '"a|b `c` <b>d</b>"' in timeline[1][5]
    tokens = _MD.parse(text)
    children = [c for t in tokens if t.type == "inline" for c in t.children or []]
    assert not any(t.type in ("html_inline", "html_block") for t in tokens + children)
    assert not any(c.type in ("em_open", "link_open", "image") for c in children)
    strong = {children[i + 1].content for i, c in enumerate(children) if c.type == "strong_open"}
    assert all(s.endswith(":") or s.startswith("Verdict") for s in strong), strong
    code = {c.content for c in children if c.type == "code_inline"}
    assert {"# Drop _it_", '"a|b `c` <b>d</b>"'} <= code
    explanation = next(p for p in _plain(text).splitlines() if p.startswith("its input held"))
    assert explanation.startswith('its input held "a|b `c` <b>d</b>" at $.poll_results_s3_key')
    assert _headings(text)[0] == "LOST: poll_results_s3_key went null in # Drop _it_"
    assert "sfn-trace 'my dir/h.json' --field poll_results_s3_key" in text


def test_long_payloads_are_trimmed_around_the_field(tmp_path: Path) -> None:
    secret = "x" * 5000
    holder = {
        FIELD: "s3://bucket/key",
        "sibling": "y" * 300,
        "small": 3,
        "items": list(range(1000)),
        "nested": {"deep": secret},
        **{f"k{i}": i for i in range(40)},
    }
    big = {"blob": secret, "meta": {"a": 1}, "holder": holder}
    history = History()
    history.start(big)
    history.pass_state("Drop", big, {**big, "holder": {**big["holder"], FIELD: None}})
    history.succeed({FIELD: None})
    text = render(
        Command.TRACE,
        TraceFormat.MARKDOWN,
        analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD),
    )
    assert secret not in text and "y" * 300 not in text
    assert len(text) < 8000, len(text)
    block = text.split("### Input (event 2)", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    shown = json.loads(block)
    assert shown == {
        "holder": {
            FIELD: "s3://bucket/key",
            "sibling": "y" * 60 + "… (240 more characters)",
            "small": 3,
            "items": ["(… 1,000 items)"],
            "nested": {"…": "(1 member)"},
            **{f"k{i}": i for i in range(15)},
            "…": "(25 more members)",
        },
        "…": "(2 more members)",
    }
    assert "(trimmed around `poll_results_s3_key`: the whole document is" in text


def test_the_blame_chain_is_rendered_when_present() -> None:
    chain = (
        Hop(
            state="MarkBatchesComplete",
            seq=7,
            scope=(),
            read="$.poll_results_s3_key",
            source="input",
            value=None,
            expression='"poll_results_s3_key.$": "$.poll_results_s3_key"',
            written_by="PrepareMarkBatchesComplete",
        ),
        Hop(
            state="SplitIntoChunks",
            seq=2,
            scope=(),
            read="$.Payload.poll_results_s3_key",
            source="result",
            value=None,
            expression="ResultSelector | pipe",
            written_by="embedding-split-into-chunks-lambda-dev",
        ),
    )
    text = render(Command.TRACE, TraceFormat.MARKDOWN, dataclasses.replace(_fixture(), chain=chain))
    assert "Blame chain" in _headings(text)
    table = _tables(text)[0]
    assert table[0] == ["#", "state", "read", "value", "expression", "written by"]
    assert table[1][1] == "MarkBatchesComplete" and table[2][4] == "ResultSelector | pipe"
    without = dataclasses.replace(_fixture(), chain=())
    assert "Blame chain" not in _headings(render(Command.TRACE, TraceFormat.MARKDOWN, without))


def test_log_lines_of_the_culprit_are_shown() -> None:
    from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine

    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    split = next(t for t in analyze(data, FIELD).visits if t.visit.state == "SplitIntoChunks")
    messages = ["START RequestId: r", "```not a fence", "returning chunks without the key"]
    lines = tuple(LogLine(i, m, "s") for i, m in enumerate(messages))
    logs = LambdaLogs(
        by_attempt={
            split.visit.attempts[-1].start.id: InvocationLogs(
                "r", "/aws/lambda/f", "s", "request_id", lines
            )
        }
    )
    result = analyze(dataclasses.replace(data, lambda_logs=logs), FIELD)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result, RenderOptions(log_lines=2))
    assert "Lambda log lines" in _headings(text)
    fences = [t for t in _MD.parse(text) if t.type == "fence" and t.info == "text"]
    assert [f.content.splitlines() for f in fences] == [messages[:2]]
    assert "(… 1 more lines)" in text


def test_redacted_reports_say_so() -> None:
    from sfn_trace.trace.redact import redact

    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, analyze(redact(data, FIELD), FIELD))
    assert "payload values other than poll_results_s3_key's are redacted" in _plain(text)


def test_a_report_without_findings_or_arn(tmp_path: Path) -> None:
    history = History()
    history.start({"other": 1})
    history.pass_state("P", {"other": 1}, {"other": 2})
    history.succeed({"other": 2})
    result = analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)
    result = dataclasses.replace(result, execution=ExecutionInfo(status="SUCCEEDED"))
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert _headings(text)[0] == "ABSENT: no document holds poll_results_s3_key"
    assert "sfn-trace HISTORY_FILE --field poll_results_s3_key" in text
    assert "Check the field name" in _plain(text)
    assert "The culprit" not in text


def test_a_long_timeline_keeps_the_visits_that_tell_the_story(tmp_path: Path) -> None:
    history = History()
    history.start({FIELD: "k"})
    for i in range(80):
        history.pass_state(f"Step{i}", {FIELD: "k"}, {FIELD: None if i == 50 else "k"})
        if i == 50:
            break
    for i in range(51, 80):
        history.pass_state(f"Step{i}", {FIELD: None}, {FIELD: None})
    history.succeed({FIELD: None})
    result = analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    timeline = _timeline(text)
    assert [row[1] for row in timeline[1:]] == ["Step50"]
    assert "(79 visits where poll_results_s3_key did not change are not shown" in _plain(text)
