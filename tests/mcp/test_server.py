"""The MCP server in process, with the SDK's own client: on the line-ingest fixtures and on
recorded AWS histories. Every answer is checked by :func:`tests.mcp.valid` (the output
schema, the report's schema in docs/schema/, the headline then the JSON, the budget)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client

from sfn_trace import api
from sfn_trace.mcp import schemas
from sfn_trace.mcp.server import build
from tests.data import (
    DEFINITION,
    FIXED_DEFINITION,
    SCENARIOS,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
    fixture_names,
)
from tests.mcp import SCHEMAS, call, error_of, valid

F = "poll_results_s3_key"
SEED = "flat_split_drops_key"
EXPECTED = {each["name"]: each["expected"] for each in json.loads(SCENARIOS.read_text("utf-8"))}
OPEN_WORLD = {
    "trace_field": True,
    "trace_visits": True,
    "scan_field_loss": True,
    "compare_executions": True,
    "lint_definition": True,
    "incident_report": True,
}


def test_tools_list_every_tool_with_its_annotations_and_schemas() -> None:
    async def go() -> Any:
        async with Client(build()) as client:
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(go)}
    assert set(tools) == set(OPEN_WORLD) == set(schemas.TOOLS)
    for name, tool in tools.items():
        hints = tool.annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.idempotent_hint, hints.destructive_hint) == (
            True,
            True,
            False,
        ), name
        assert hints.open_world_hint is OPEN_WORLD[name], name
        assert tool.output_schema is not None
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        properties = tool.input_schema["properties"]
        assert properties["budget"]["default"] == 20_000, name
        assert properties["budget"]["minimum"] == 4_000, name


def test_the_schemas_are_offered_as_resources() -> None:
    async def go() -> dict[str, str]:
        async with Client(build()) as client:
            listed = (await client.list_resources()).resources
            read = {}
            for resource in listed:
                contents = (await client.read_resource(str(resource.uri))).contents
                read[str(resource.uri)] = contents[0].text  # type: ignore[union-attr]
            return read

    read = anyio.run(go)
    assert set(read) == {f"sfn-trace://schema/{name}" for name in schemas.REPORTS}
    for name in schemas.REPORTS:
        assert read[f"sfn-trace://schema/{name}"] == (SCHEMAS / f"{name}.schema.json").read_text(
            "utf-8"
        )


@pytest.mark.parametrize("name", fixture_names())
def test_trace_field_on_each_fixture_names_the_culprits(name: str) -> None:
    result = call(
        "trace_field",
        {"target": str(fixture_history(name)), "field": F, "definition": str(DEFINITION)},
    )
    content = valid("trace_field", result)
    report, expected = content["report"], EXPECTED[name]
    assert report["verdict"] == expected["verdict"]
    for key in ("first_null", "lost_at"):
        found = report[key]
        assert (found and found["state"]) == (expected[key] and expected[key]["state"])
    pointed = {f["seq"] for f in (report["first_null"], report["lost_at"]) if f}
    assert {visit["seq"] for visit in report["visits"]} == pointed
    assert (
        content["exit_code"]
        == api.trace(fixture_history(name), F, definition=DEFINITION).result.exit_code
    )
    text = result.content[0].text  # type: ignore[union-attr]
    if expected["first_null"]:
        assert f"went null: {expected['first_null']['state']}" in text.splitlines()[1]


def test_the_seed_answer_names_culprit_expression_and_last_copy_first() -> None:
    result = call(
        "trace_field",
        {"target": str(fixture_history(SEED)), "field": F, "definition": str(DEFINITION)},
    )
    head = result.content[0].text.partition("\n\n")[0].splitlines()  # type: ignore[union-attr]
    assert head[0] == f"{F}: lost (exit 1) in the execution (SUCCEEDED)"
    assert head[1].startswith("went null: SplitIntoChunks (Task, visit 2): ")
    assert head[2] == (
        'expression: ResultSelector "poll_results_s3_key.$": "$.Payload.poll_results_s3_key" '
        '→ ResultPath "$.chunked_data"'
    )
    assert head[3].startswith("last copy: PrepareFinalMerge (Pass, visit 4): ")


RECORDED = corpus_names()[::10]
"""One recorded AWS history in ten (every kind of state is among them): each call is
cheap, but the corpus holds hundreds."""


def test_trace_field_and_visits_on_recorded_aws_histories() -> None:
    async def go() -> list[tuple[str, Any, Any]]:
        answers = []
        async with Client(build()) as client:
            for name in RECORDED:
                definition = corpus_definition(name)
                arguments = {"target": str(corpus_history(name)), "field": "Payload"}
                if definition is not None:
                    arguments["definition"] = str(definition)
                field = await client.call_tool("trace_field", arguments)
                visits = await client.call_tool("trace_visits", {**arguments, "budget": 4_000})
                answers.append((name, field, visits))
        return answers

    for name, field, visits in anyio.run(go):
        if field.is_error:  # what the command line refuses too, in its own words
            message, code = error_of(field)
            with pytest.raises(api.SfnTraceError) as raised:
                api.trace(corpus_history(name), "Payload", definition=corpus_definition(name))
            assert (message, code) == (raised.value.message, raised.value.exit_code), name
            continue
        valid("trace_field", field)
        page = valid("trace_visits", visits, budget=4_000)
        assert page["visits_total"] == field.structured_content["visits_total"], name  # type: ignore[index]


def test_trace_visits_pages_with_a_cursor_and_a_state() -> None:
    target = {"target": str(fixture_history(SEED)), "field": F, "definition": str(DEFINITION)}
    seen: list[int] = []
    cursor = None
    while True:
        page = valid(
            "trace_visits",
            call("trace_visits", {**target, "cursor": cursor, "budget": 4_000}),
            4_000,
        )
        seen += [visit["seq"] for visit in page["visits"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(1, page["visits_total"] + 1))
    only = valid("trace_visits", call("trace_visits", {**target, "state": "SplitIntoChunks"}))
    assert [v["state"] for v in only["visits"]] == ["SplitIntoChunks"]
    assert only["visits_matching"] == 1 and only["next_cursor"] is None


def test_compare_lint_and_incident_report_on_the_fixtures() -> None:
    compared = valid(
        "compare_executions",
        call(
            "compare_executions",
            {
                "good": str(fixture_history("flat_intact")),
                "bad": str(fixture_history(SEED)),
                "field": F,
                "definition": str(DEFINITION),
            },
        ),
    )
    assert compared["report"]["divergence"]["state"] == "SplitIntoChunks"
    assert compared["exit_code"] == 1

    linted = valid(
        "lint_definition", call("lint_definition", {"definition": str(DEFINITION), "field": F})
    )
    assert linted["report"]["findings"] and len(linted["rule_ids"]) == len(
        linted["report"]["findings"]
    )
    assert linted["exit_code"] == 1
    fixed = valid(
        "lint_definition",
        call("lint_definition", {"definition": str(FIXED_DEFINITION), "field": F}),
    )
    assert fixed["exit_code"] == 0 and fixed["rule_ids"] == []

    report = valid(
        "incident_report",
        call(
            "incident_report",
            {"target": str(fixture_history(SEED)), "field": F, "definition": str(DEFINITION)},
        ),
    )
    assert "```mermaid" in report["markdown"] and "SplitIntoChunks" in report["markdown"]
    assert report["truncated"] == []
    small = call(
        "incident_report",
        {
            "target": str(fixture_history(SEED)),
            "field": F,
            "definition": str(DEFINITION),
            "budget": 4_000,
        },
    )
    cut = valid("incident_report", small, budget=4_000)
    assert cut["truncated"] == [
        {"path": "/markdown", "cut": "text", "chars": len(report["markdown"])}
    ]
    assert cut["markdown"].endswith(f"… [truncated: {len(report['markdown'])} chars]")


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("trace_field", {"target": "missing.json", "field": F}),
        ("trace_field", {"target": "arn:aws:states:us-west-2:1:execution:x", "field": F}),
        ("trace_field", {"target": str(fixture_history(SEED)), "field": ""}),
        ("trace_field", {"target": str(DEFINITION), "field": F}),
        ("trace_field", {"target": "-", "field": F}),
        ("trace_visits", {"target": str(fixture_history(SEED)), "field": F, "cursor": "next"}),
        ("trace_visits", {"target": str(fixture_history(SEED)), "field": F, "state": "Nope"}),
        ("scan_field_loss", {"state_machine_arn": "arn:aws:states:x", "field": F}),
        ("compare_executions", {"good": "a.json", "bad": str(fixture_history(SEED)), "field": F}),
        ("lint_definition", {"definition": "missing.asl.json", "field": F}),
        (
            "lint_definition",
            {"definition": "arn:aws:states:us-west-2:1:stateMachine:m", "field": F},
        ),
    ],
)
def test_bad_inputs_are_tool_errors_with_the_command_lines_message(
    tool: str, arguments: dict[str, Any]
) -> None:
    message, code = error_of(call(tool, arguments))
    assert code == api.ExitCode.USAGE
    if tool == "trace_field" and arguments["target"] != "-":
        with pytest.raises(api.SfnTraceError) as raised:
            api.trace(arguments["target"], arguments["field"])
        assert message == raised.value.message
    assert "\n" not in message


def test_a_cut_history_file_is_a_tool_error(tmp_path: Any) -> None:
    whole = fixture_history(SEED).read_text("utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(whole[: len(whole) // 2], encoding="utf-8")
    message, code = error_of(call("trace_field", {"target": str(cut), "field": F}))
    with pytest.raises(api.SfnTraceError) as raised:
        api.trace(cut, F)
    assert (message, code) == (raised.value.message, raised.value.exit_code)


def test_arguments_out_of_range_are_refused_by_the_sdk() -> None:
    result = call("trace_field", {"target": str(fixture_history(SEED)), "field": F, "budget": 10})
    assert result.is_error
    assert "budget" in result.content[0].text  # type: ignore[union-attr]


def test_redact_keeps_other_payload_values_out_of_every_answer() -> None:
    """``redact``: every payload value but the field's becomes a placeholder, as the command
    line's ``--redact`` does; the execution input's ``batch_type`` is such a value."""
    arguments = {"target": str(fixture_history(SEED)), "field": F, "definition": str(DEFINITION)}
    plain = call("incident_report", arguments)
    assert "LINE_EMBEDDING" in "".join(c.text for c in plain.content)  # type: ignore[union-attr]
    for tool in ("trace_field", "trace_visits", "incident_report"):
        result = call(tool, {**arguments, "redact": True})
        text = "".join(c.text for c in result.content)  # type: ignore[union-attr]
        assert not result.is_error, text
        assert "LINE_EMBEDDING" not in text, tool
        if tool == "trace_field":  # its report carries the warnings
            assert f"payload values other than {F}'s are redacted" in text, tool
