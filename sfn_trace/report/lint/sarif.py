"""``sfn-trace lint --format sarif``: the findings as a SARIF 2.1.0 log, for code scanning.

One run for every definition given. Each cause (a state and step that can drop the field,
:mod:`sfn_trace.checks.lint_causes`) is one ``result`` located at the key of that state
(``"SplitIntoChunks": {``), with one related location per reader it affects, so GitHub or
GitLab code scanning shows it on the definition's lines:

- ``ruleId``/``ruleIndex``: the cause's kind (:data:`sfn_trace.checks.lint.DROP_KINDS`); every
  kind is described in ``tool.driver.rules``, in that order;
- ``level``: ``error`` for a definite drop, ``warning`` when the field survives if a task
  returns it (each rule's ``defaultConfiguration`` says which);
- ``suppressions``: present on a cause a state's ``Comment`` (``kind: inSource``) or the
  config file (``kind: external``) suppresses, with the justification;
- ``artifactLocation.uri``: the definition's path as given, with forward slashes and
  percent-encoded (a relative path is resolved against the repository root by the
  consumer; an absolute one becomes a ``file://`` URI); a definition read from AWS, its
  state machine ARN (``arn:aws:states:...``, a URI of its own);
- ``region``: ``startLine``/``startColumn``, 1-based, columns in UTF-16 code units
  (``run.columnKind`` says so), lines ending at CRLF, LF or a lone CR
  (``run.newlineSequences``);
- ``partialFingerprints["sfnTraceFinding/v2"]``: a hash of the rule, field, file, dropper
  and step, then ``:N`` for the N-th result with that hash: stable across runs, across
  edits elsewhere in the file and across readers added or removed.

A definition that cannot be read has no results; it makes ``executionSuccessful`` false and
gets an error notification in ``invocations``. A definition whose lint stopped before it
found everything (:attr:`sfn_trace.checks.lint.LintedDefinition.cut`) gets a warning
notification there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sfn_trace import __version__
from sfn_trace.asl.positions import Position, positions_of
from sfn_trace.checks.lint import (
    CATCH_OVERWRITE,
    DEPENDS_ON_TASK_RESULT,
    DROP_KINDS,
    NULL_PATH,
    RESULT_LITERAL_DROP,
    RESULT_SELECTOR_DROP,
    TEMPLATE_DROP,
    LintedDefinition,
    LintReport,
)
from sfn_trace.checks.lint_causes import ERROR, WARNING, LintCause
from sfn_trace.model import jsontext
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "sfnTraceFinding/v2"

RULES: dict[str, tuple[str, str, str]] = {
    TEMPLATE_DROP: (
        "TemplateDropsField",
        "A Parameters, ItemSelector, Arguments or Output template builds a new document "
        "without the field.",
        "The state replaces its input with the document its template builds; a later state "
        "that reads the field finds nothing. Copy the field in the template "
        '("FIELD.$": "$.FIELD"), or read it from where it still is.',
    ),
    RESULT_SELECTOR_DROP: (
        "ResultSelectorDropsField",
        "A ResultSelector without the field is put over it by ResultPath.",
        "The task's ResultPath writes the ResultSelector's output where the field was; the "
        "ResultSelector has no member for it. Add one, or use a ResultPath that keeps it.",
    ),
    RESULT_LITERAL_DROP: (
        "ResultLiteralDropsField",
        "A Pass state's literal Result without the field is put over it.",
        "The Pass state's ResultPath writes its Result where the field was, and the literal "
        "does not hold it. Add the field to the Result, or use a ResultPath that keeps it.",
    ),
    NULL_PATH: (
        "NullPathDropsDocument",
        "InputPath or OutputPath null replaces the document with {}.",
        "With InputPath: null or OutputPath: null the state passes on an empty document, "
        "so every field of its input is gone. Remove it, or point it at a node that holds "
        "the field.",
    ),
    CATCH_OVERWRITE: (
        "CatchOverwritesField",
        "On a caught error, the catcher's ResultPath puts the error output over the field.",
        'A catcher without ResultPath (or with ResultPath "$") replaces the input with the '
        'error output. Give it a ResultPath such as "$.error" so the input is kept.',
    ),
    DEPENDS_ON_TASK_RESULT: (
        "FieldDependsOnTaskResult",
        "The field is copied back from a task's result: it is only set if the task returns it.",
        "The task is given the field in its Parameters, and the field is then read from "
        "its result (ResultSelector or ResultPath): if the Lambda or service does not echo "
        "it, it is gone. Read it from where it still is, or keep it with a ResultPath.",
    ),
}
"""Per kind: rule name, short description, full description (the help)."""


def render(report: LintReport, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    return jsontext.dumps(sarif_log(report.definitions, report.field), indent=2) + "\n"


def sarif_log(linted: Sequence[LintedDefinition], field: str) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for each in linted:
        uri = artifact_uri(each.source)
        if each.definition is None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": each.error or "unreadable definition"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                }
            )
            continue
        if each.cut is not None:
            notifications.append(
                {
                    "level": "warning",
                    "message": {"text": f"The lint {each.cut}."},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                }
            )
        # The text is scanned only when a finding needs a position, and only the states
        # the findings name are looked for.
        named = {c.dropper for c in each.causes} | {
            r.reader for c in each.causes for r in c.readers
        }
        states = each.definition.states
        at = positions_of(each.definition.text, (states[n] for n in named if n in states))
        seen: dict[str, int] = {}
        for cause in each.causes:
            digest = fingerprint(cause, field, uri)
            seen[digest] = seen.get(digest, 0) + 1
            results.append(_result(cause, field, uri, at, f"{digest}:{seen[digest]}"))
    failed = any(each["level"] == "error" for each in notifications)
    invocation: dict[str, Any] = {"executionSuccessful": not failed}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sfn-trace",
                        "version": __version__,
                        "rules": [_rule(kind) for kind in DROP_KINDS],
                    }
                },
                "invocations": [invocation],
                "columnKind": "utf16CodeUnits",
                "newlineSequences": ["\r\n", "\n", "\r"],
                "results": results,
            }
        ],
    }


def _rule(kind: str) -> dict[str, Any]:
    name, short, full = RULES[kind]
    return {
        "id": kind,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": full},
        "defaultConfiguration": {"level": WARNING if kind == DEPENDS_ON_TASK_RESULT else ERROR},
        "properties": {"tags": ["step-functions", "data-flow"]},
    }


def _result(
    cause: LintCause,
    field: str,
    uri: str,
    at: dict[str, Position],
    fingerprint_value: str,
) -> dict[str, Any]:
    readers = ", ".join(f"{r.reader} ({r.read})" for r in cause.readers)
    text = (
        f"{cause.dropper} ({cause.step}) can drop {field} before {len(cause.readers)} "
        f"reader(s) read it: {'; '.join(cause.reasons)}. Read by: {readers}. "
        f"Fix: {'; '.join(cause.hints)}."
    )
    related = [
        {
            "id": number,
            **_location(uri, at.get(r.reader)),
            "message": {
                "text": f"{r.reader} reads {r.read} here ({r.expression}); {r.paths} path(s) "
                f"from StartAt, e.g. {' -> '.join(r.path)}"
            },
        }
        for number, r in enumerate(cause.readers, start=1)
    ]
    result: dict[str, Any] = {
        "ruleId": cause.kind,
        "ruleIndex": DROP_KINDS.index(cause.kind),
        "level": cause.severity,
        "message": {"text": text},
        "locations": [_location(uri, at.get(cause.dropper))],
        "relatedLocations": related,
        "partialFingerprints": {FINGERPRINT: fingerprint_value},
        "properties": {
            "field": field,
            "dropper": cause.dropper,
            "step": cause.step,
            "readers": [
                {"reader": r.reader, "read": r.read, "path": list(r.path), "paths": r.paths}
                for r in cause.readers
            ],
        },
    }
    if cause.suppressed is not None:
        result["suppressions"] = [
            {"kind": cause.suppressed.kind, "justification": cause.suppressed.justification}
        ]
    return result


def _location(uri: str, position: Position | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if position is not None:
        physical["region"] = {"startLine": position.line, "startColumn": position.utf16_column}
    return {"physicalLocation": physical}


def artifact_uri(path: Path | str) -> str:
    """The path as given, as a URI reference: relative with forward slashes, or ``file:``;
    a state machine ARN (a ``str``) as it is, an absolute URI of scheme ``arn``."""
    if isinstance(path, str):
        return quote(path, safe=":/", errors="surrogateescape")
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix(), safe="/", errors="surrogateescape")


def fingerprint(cause: LintCause, field: str, uri: str) -> str:
    """What identifies a cause across runs: not its line, nor its readers and paths."""
    parts = (cause.kind, field, uri, cause.dropper, cause.step)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
