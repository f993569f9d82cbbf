"""Tests of :mod:`sfn_trace.mcp`: with the MCP SDK's own client, in process and over stdio.

The helpers here call the server as an assistant would: :func:`call` opens a client on a
fresh in-process server, calls one tool and returns its result (the client has already
checked the structured content against the tool's output schema; :func:`valid` checks it
again, and the report against ``docs/schema/``, with jsonschema)."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import jsonschema
from mcp import Client
from mcp.types import CallToolResult

from sfn_trace import api
from sfn_trace.mcp.server import build
from tests.data import ROOT

SCHEMAS = ROOT / "docs" / "schema"


def call(
    tool: str,
    arguments: dict[str, Any],
    *,
    aws: api.AwsOptions | None = None,
    progress: Callable[[float, float | None, str | None], Awaitable[None]] | None = None,
) -> CallToolResult:
    async def go() -> CallToolResult:
        async with Client(build(aws)) as client:
            return await client.call_tool(tool, arguments, progress_callback=progress)

    return anyio.run(go)


def docs_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return loaded


@functools.cache
def tool_schemas() -> dict[str, dict[str, Any]]:
    async def go() -> dict[str, dict[str, Any]]:
        async with Client(build()) as client:
            listed = await client.list_tools()
        return {tool.name: tool.output_schema or {} for tool in listed.tools}

    return anyio.run(go)


@functools.cache
def validator(schema_text: str) -> jsonschema.Draft202012Validator:
    """A validator of the schema (checked once: compiling costs far more than validating)."""
    schema = json.loads(schema_text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


REPORT_OF = {
    "trace_field": "trace",
    "scan_field_loss": "scan",
    "compare_executions": "compare",
    "lint_definition": "lint",
}


def valid(tool: str, result: CallToolResult, budget: int = 20_000) -> dict[str, Any]:
    """The structured content, once checked: no error; valid against the tool's output
    schema and its report against docs/schema/; the text is the headline lines then the
    same JSON (the incident report: then the Markdown), within the budget."""
    assert not result.is_error, result.content
    content = result.structured_content
    assert content is not None
    validator(json.dumps(tool_schemas()[tool])).validate(content)
    if tool in REPORT_OF:
        validator(json.dumps(docs_schema(REPORT_OF[tool]))).validate(content["report"])
    if tool == "trace_visits":
        trace = docs_schema("trace")
        visit = {"$schema": trace["$schema"], "$defs": trace["$defs"], "$ref": "#/$defs/visit"}
        for each in content["visits"]:
            validator(json.dumps(visit)).validate(each)
    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text) <= budget
    head, _, body = text.partition("\n\n")
    assert head and "\n\n" not in head
    if tool == "incident_report":
        assert body == content["markdown"]
    else:
        assert json.loads(body) == content
    return content


def error_of(result: CallToolResult) -> tuple[str, int]:
    """(message, exit code) of a tool error."""
    assert result.is_error
    content = result.structured_content or {}
    text = result.content[0].text  # type: ignore[union-attr]
    assert text == f"error: {content['error']} (exit {content['exit_code']})"
    assert "Traceback" not in text
    return content["error"], content["exit_code"]
