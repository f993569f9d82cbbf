"""Each tool's output schema, derived from the report schemas of ``docs/schema/``.

A tool's structured content holds the report the command line writes with ``--format json``
under ``report`` (it validates against ``docs/schema/<command>.schema.json`` as it is), next
to what the server adds: the exit code the command line would give, the cuts made to fit the
budget, and a cursor where there is more. The report schema's ``$defs`` are lifted to the top
of the tool's schema and the report itself becomes one more definition, so that every
``$ref`` (``#/$defs/...``) resolves within the one document a client validates against.
``trace_visits`` and ``incident_report`` pick members of the trace report's schema instead.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"

REPORTS = ("trace", "scan", "compare", "lint", "bundle")
"""The report schemas, each offered as the resource ``sfn-trace://schema/<name>``."""

_HERE = Path(__file__).resolve().parent
_PLACES = (_HERE / "schema", _HERE.parents[1] / "docs" / "schema")
"""Where the report schemas are: beside this module in a wheel (pyproject.toml copies
``docs/schema`` there), ``docs/schema`` itself in a checkout."""

EXIT_CODE: dict[str, Any] = {
    "type": "integer",
    "description": "The exit code the command line gives for this answer: 0 intact, 1 a "
    "finding, 4 incomplete (docs/cli.md).",
}

CURSOR: dict[str, Any] = {
    "type": ["string", "null"],
    "description": "Pass it back as cursor for the next page (null: nothing more).",
}

TRUNCATED: dict[str, Any] = {
    "type": "array",
    "description": "Every cut made to fit the answer into its budget (empty: nothing was cut). "
    "A cut value is replaced in place by {truncated: true, json_chars, preview}; a cut text "
    "ends with '… [truncated: N chars]'; a cut list keeps its first items.",
    "items": {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": "Where, as a JSON Pointer (RFC 6901) into the structured content.",
            },
            "cut": {
                "type": "string",
                "enum": ["value", "text", "items"],
                "description": "value: a JSON value replaced by a marker; text: a string "
                "shortened; items: a list shortened.",
            },
            "chars": {
                "type": "integer",
                "minimum": 0,
                "description": "value and text: the length of the whole value's JSON text or "
                "of the whole string.",
            },
            "kept": {"type": "integer", "minimum": 0, "description": "items: how many kept."},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "items: how many there were.",
            },
        },
        "required": ["path", "cut"],
        "additionalProperties": False,
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "description": "The structured content of an error (isError): the command line's message "
    "and exit code.",
    "properties": {
        "error": {"type": "string", "description": "The one-line message."},
        "exit_code": EXIT_CODE,
    },
    "required": ["error", "exit_code"],
    "additionalProperties": False,
}


@functools.cache
def _read(name: str) -> str:
    for place in _PLACES:
        path = place / f"{name}.schema.json"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"the report schema {name}.schema.json is not installed")


def report_schema_text(name: str) -> str:
    """``docs/schema/<name>.schema.json`` as it is (a resource's text)."""
    return _read(name)


def report_schema(name: str) -> dict[str, Any]:
    """``docs/schema/<name>.schema.json``, parsed (a fresh copy each time)."""
    parsed: dict[str, Any] = json.loads(_read(name))
    return parsed


def _object(
    description: str,
    properties: dict[str, Any],
    required: list[str],
    definitions: dict[str, Any],
) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "$defs": definitions,
    }


def _with_report(
    name: str, description: str, extra: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    report = report_schema(name)
    definitions = report.pop("$defs", {})
    for key in ("$schema", "$id"):
        report.pop(key, None)
    own = f"{name}_report"
    if own in definitions:  # a later version of the report schema took the name
        raise ValueError(f"the {name} schema already defines {own}")
    definitions[own] = report
    properties = {
        "report": {
            "$ref": f"#/$defs/{own}",
            "description": f"The report of `sfn-trace {name} --format json` "
            f"(docs/schema/{name}.schema.json), cut to the budget as truncated says.",
        },
        **extra,
        "exit_code": EXIT_CODE,
        "truncated": TRUNCATED,
    }
    return _object(
        description, properties, ["report", *required, "exit_code", "truncated"], definitions
    )


def _from_trace(description: str, picked: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    trace = report_schema("trace")
    properties = {name: copy.deepcopy(trace["properties"][name]) for name in picked}
    properties.update(extra)
    properties["exit_code"] = EXIT_CODE
    properties["truncated"] = TRUNCATED
    return _object(description, properties, list(properties), trace["$defs"])


@functools.cache
def _tool_schemas() -> dict[str, str]:
    visits_total = {
        "type": "integer",
        "minimum": 0,
        "description": "How many visits the execution has (report.visits holds the ones the "
        "verdict points at; trace_visits pages through all of them).",
    }
    schemas = {
        "trace_field": _with_report(
            "trace",
            "Where the field went null: the trace report with only the visits the verdict "
            "points at (first_null, lost_at), their Lambda log lines included.",
            {"visits_total": visits_total},
            ["visits_total"],
        ),
        "trace_visits": _from_trace(
            "One page of the per-visit timeline.",
            ["execution", "field", "verdict", "visits"],
            {
                "visits_total": visits_total,
                "visits_matching": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "How many visits match the state asked for (all of them "
                    "when none was).",
                },
                "next_cursor": CURSOR,
            },
        ),
        "scan_field_loss": _with_report(
            "scan",
            "How many executions lost the field, and where: the scan report (summary.culprits "
            "is the tally by culprit state), a few execution ARNs per culprit, and a cursor to "
            "scan the older executions.",
            {
                "samples": {
                    "type": "array",
                    "description": "Per culprit state (most frequent first), a few of the "
                    "executions that lost the field there.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "state": {"type": "string"},
                            "executions": {"type": "integer", "minimum": 1},
                            "arns": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["state", "executions", "arns"],
                        "additionalProperties": False,
                    },
                },
                "next_cursor": {
                    **CURSOR,
                    "description": "When more executions matched than were scanned: pass it "
                    "back as cursor to scan the ones started before (null: none left).",
                },
            },
            ["samples", "next_cursor"],
        ),
        "compare_executions": _with_report(
            "compare", "Where the bad run parts from the good one: the compare report.", {}, []
        ),
        "lint_definition": _with_report(
            "lint",
            "Where the definition can drop the field before it is read.",
            {
                "rule_ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The rule id of each finding (SARIF's ruleId), in the "
                    "order of report.findings (one per state step that can drop the field).",
                }
            },
            ["rule_ids"],
        ),
        "incident_report": _from_trace(
            "The Markdown incident report (with its Mermaid flowchart), to paste into a ticket.",
            ["execution", "field", "verdict"],
            {"markdown": {"type": "string", "description": "The report, in Markdown."}},
        ),
    }
    # Kept as text: each caller gets its own copy to hand on.
    return {name: json.dumps(schema) for name, schema in schemas.items()}


def tool_schema(tool: str) -> dict[str, Any]:
    """The output schema of ``tool`` (a fresh copy)."""
    parsed: dict[str, Any] = json.loads(_tool_schemas()[tool])
    return parsed


TOOLS = (
    "trace_field",
    "trace_visits",
    "scan_field_loss",
    "compare_executions",
    "lint_definition",
    "incident_report",
)
