"""``sfn-trace lint --format sarif``, several definitions per run, and the pre-commit hook.

No SARIF 2.1.0 JSON schema ships in any package installed here (sarif-om has classes, no
schema), so :data:`SARIF_REQUIRED` encodes what the OASIS SARIF 2.1.0 standard requires and
constrains for the objects sfn-trace writes (sarifLog 3.13, run 3.14, tool 3.18,
toolComponent 3.19, reportingDescriptor 3.49, result 3.27, location 3.28, physicalLocation
3.29, region 3.30, message 3.11, invocation 3.20, notification 3.58), and
:func:`check_sarif` adds the cross-references a schema cannot say (``ruleId`` names a rule,
``ruleIndex`` points at it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from sfn_trace.asl.positions import Position, positions_of, state_positions
from sfn_trace.checks.lint import DROP_KINDS, LintReport, lint
from sfn_trace.checks.lint_causes import causes
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.model.definition import Definition
from sfn_trace.report.lint.sarif import RULES
from sfn_trace.report.lint.sarif import render as render_sarif
from sfn_trace.sources.files import read_definition
from tests.data import DEFINITION, FIXED_DEFINITION, ROOT

FIELD = "poll_results_s3_key"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
runner = CliRunner()

_MESSAGE = {
    "type": "object",
    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
    "properties": {"text": {"type": "string"}, "id": {"type": "string"}},
}
_REGION = {
    "type": "object",
    "properties": {
        "startLine": {"type": "integer", "minimum": 1},
        "startColumn": {"type": "integer", "minimum": 1},
        "endLine": {"type": "integer", "minimum": 1},
        "endColumn": {"type": "integer", "minimum": 1},
    },
}
_LOCATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": -1},
        "message": _MESSAGE,
        "physicalLocation": {
            "type": "object",
            "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
            "properties": {
                "artifactLocation": {
                    "type": "object",
                    "properties": {"uri": {"type": "string", "format": "uri-reference"}},
                },
                "region": _REGION,
            },
        },
    },
}
_DESCRIPTOR = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string"},
        "shortDescription": _MESSAGE,
        "fullDescription": _MESSAGE,
        "defaultConfiguration": {
            "type": "object",
            "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
        },
    },
}
SARIF_REQUIRED: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {
            "enum": [
                "https://json.schemastore.org/sarif-2.1.0.json",
                "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
            ]
        },
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "informationUri": {"type": "string", "format": "uri"},
                                    "rules": {
                                        "type": "array",
                                        "items": _DESCRIPTOR,
                                        "uniqueItems": True,
                                    },
                                },
                            }
                        },
                    },
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "newlineSequences": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"type": "string"},
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "toolExecutionNotifications": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["message"],
                                        "properties": {
                                            "message": _MESSAGE,
                                            "level": {"enum": ["none", "note", "warning", "error"]},
                                            "locations": {"type": "array", "items": _LOCATION},
                                        },
                                    },
                                },
                            },
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {"type": "array", "items": _LOCATION},
                                "relatedLocations": {"type": "array", "items": _LOCATION},
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                                "fingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def check_sarif(text: str) -> dict[str, Any]:
    """Parse strictly, validate against :data:`SARIF_REQUIRED`, check rule references."""
    assert text.endswith("\n")

    def no_constants(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    log: dict[str, Any] = json.loads(text, parse_constant=no_constants)
    jsonschema.Draft202012Validator.check_schema(SARIF_REQUIRED)
    jsonschema.Draft202012Validator(SARIF_REQUIRED).validate(log)
    [run] = log["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert result["ruleId"] in rules
        assert rules[result["ruleIndex"]] == result["ruleId"]
    return log


def lint_cli(*args: str, field: str = FIELD) -> Any:
    return runner.invoke(app, ["lint", *args, "--field", field, "--format", "sarif"])


def key_position(text: str, name_literal: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the ``occurrence``-th ``"NAME": {`` in ``text``, found by plain text
    search (``name_literal`` as written in the file, escapes and all)."""
    needle = f'"{name_literal}": {{'
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        start = line.find(needle)
        while start >= 0:
            seen += 1
            if seen == occurrence:
                return number, start + 1
            start = line.find(needle, start + 1)
    raise AssertionError(f"{needle} not in text")


def region(location: dict[str, Any]) -> tuple[int, int]:
    found = location["physicalLocation"]["region"]
    return found["startLine"], found["startColumn"]


# --- the seed and the fixed definition ----------------------------------------------------------


def test_the_seed_definition_gives_a_valid_log_at_each_droppers_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    relative = DEFINITION.relative_to(ROOT).as_posix()
    result = lint_cli(relative)
    assert result.exit_code == ExitCode.FINDING
    log = check_sarif(result.stdout)
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sfn-trace"
    from sfn_trace import __version__

    assert driver["version"] == __version__
    assert run["columnKind"] == "utf16CodeUnits"
    grouped = causes(lint(read_definition(DEFINITION), FIELD))
    assert len(run["results"]) == len(grouped) == 3
    text = DEFINITION.read_text(encoding="utf-8")
    for result_, cause in zip(run["results"], grouped, strict=True):
        [where] = result_["locations"]
        assert where["physicalLocation"]["artifactLocation"]["uri"] == relative
        assert region(where) == key_position(text, cause.dropper)
        related = result_["relatedLocations"]
        assert [r["id"] for r in related] == list(range(1, len(cause.readers) + 1))
        for location, reader in zip(related, cause.readers, strict=True):
            assert region(location) == key_position(text, reader.reader)
            assert " -> ".join(reader.path) in location["message"]["text"]
        assert result_["ruleId"] == cause.kind
        assert result_["level"] == "warning"
        assert "suppressions" not in result_
        message = result_["message"]["text"]
        for part in (cause.dropper, *cause.hints, *(r.reader for r in cause.readers)):
            assert part in message
    first = run["results"][0]
    assert first["ruleId"] == "depends-on-task-result"
    assert region(first["locations"][0]) == key_position(text, "SplitIntoChunks")
    assert region(first["relatedLocations"][0]) == key_position(text, "PrepareFinalMerge")


def test_the_fixed_definition_gives_a_valid_log_with_no_results() -> None:
    result = lint_cli(str(FIXED_DEFINITION))
    assert result.exit_code == ExitCode.INTACT
    log = check_sarif(result.stdout)
    [run] = log["runs"]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_every_kind_has_a_rule_in_a_fixed_order() -> None:
    log = check_sarif(render_sarif(LintReport(FIELD, ())))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(DROP_KINDS)
    assert set(RULES) == set(DROP_KINDS)
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]


def test_an_absolute_path_is_a_file_uri() -> None:
    log = check_sarif(lint_cli(str(DEFINITION)).stdout)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == DEFINITION.as_uri()


# --- the kind of each drop ----------------------------------------------------------------------


def _reader(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "use", "Payload": {"F.$": "$.F"}},
        "End": True,
        **extra,
    }


def _task(**extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **extra}


KIND_CASES = {
    "template-drop": {"Type": "Pass", "Parameters": {"o.$": "$.o"}, "Next": "R"},
    "result-selector-drop": _task(ResultSelector={"x.$": "$.x"}, ResultPath="$", Next="R"),
    "result-literal-drop": {"Type": "Pass", "Result": {"x": 1}, "Next": "R"},
    "null-path": {"Type": "Pass", "OutputPath": None, "Next": "R"},
    "depends-on-task-result": _task(
        Parameters={"Payload": {"F.$": "$.F"}}, ResultSelector={"F.$": "$.Payload.F"}, Next="R"
    ),
}


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_each_drop_has_its_kind(kind: str) -> None:
    body = {"StartAt": "D", "States": {"D": KIND_CASES[kind], "R": _reader()}}
    [finding] = lint(Definition.from_text(json.dumps(body)), "F")
    assert (finding.dropper, finding.kind) == ("D", kind)


def test_a_catcher_that_overwrites_is_catch_overwrite() -> None:
    body = {
        "StartAt": "T",
        "States": {
            "T": _task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "R"}], End=True),
            "R": _reader(),
        },
    }
    [finding] = lint(Definition.from_text(json.dumps(body)), "F")
    assert (finding.dropper, finding.kind) == ("T", "catch-overwrite")
    assert set(KIND_CASES) | {"catch-overwrite"} == set(DROP_KINDS)


# --- positions ----------------------------------------------------------------------------------

NESTED = """{
  "StartAt": "Fan",
  "States": {
    "Fan": {
      "Type": "Map",
      "ItemProcessor": {
        "StartAt": "Drop",
        "States": {
          "Drop": {"Type": "Pass", "Parameters": {"o.$": "$.o"}, "Next": "Use"},
          "Use": READER
        }
      },
      "Next": "Both"
    },
    "Both": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "Idle", "States": {"Idle": {"Type": "Succeed"}}},
        {
          "StartAt": "Narrow",
          "States": {
            "Narrow": {"Type": "Pass", "OutputPath": null, "Next": "Read"},
            "Read": READER
          }
        }
      ],
      "End": true
    }
  }
}
""".replace("READER", json.dumps(_reader()))


def test_nested_states_are_located_at_their_own_key(tmp_path: Path) -> None:
    path = tmp_path / "nested.asl.json"
    path.write_text(NESTED, encoding="utf-8")
    result = lint_cli(str(path), field="F")
    assert result.exit_code == ExitCode.FINDING
    results = check_sarif(result.stdout)["runs"][0]["results"]
    located = {
        (r["properties"]["dropper"], r["properties"]["readers"][0]["reader"]): (
            region(r["locations"][0]),
            region(r["relatedLocations"][0]),
        )
        for r in results
    }
    assert located == {
        ("Drop", "Use"): (key_position(NESTED, "Drop"), key_position(NESTED, "Use")),
        ("Narrow", "Read"): (key_position(NESTED, "Narrow"), key_position(NESTED, "Read")),
    }
    assert {r["ruleId"] for r in results} == {"template-drop", "null-path"}


def test_positions_are_keyed_like_the_definitions_state_locations() -> None:
    definition = Definition.from_text(NESTED)
    positions = state_positions(NESTED)
    assert {state.location for state in definition.states.values()} == set(positions)
    assert positions["States.Both.Branches[1].States.Narrow"] == Position(
        *key_position(NESTED, "Narrow"), key_position(NESTED, "Narrow")[1]
    )


def test_positions_of_some_states_are_those_of_their_locations() -> None:
    """What SARIF asks for: only the states its findings name, by name, each matched to its
    own key by its place in the nesting, not by its name alone."""
    definition = Definition.from_text(NESTED)
    every = state_positions(NESTED)
    states = definition.states.values()
    assert positions_of(NESTED, states) == {s.name: every[s.location] for s in states}
    some = [definition.states["Narrow"], definition.states["Drop"]]
    assert positions_of(NESTED, some) == {s.name: every[s.location] for s in some}


def test_a_name_reused_in_nested_machines_keeps_each_key() -> None:
    branch = '{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}'
    text = '{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [@, @]}}}'
    text = text.replace("@", branch)
    positions = state_positions(text)
    first = text.index('"X": {')
    second = text.index('"X": {', first + 1)
    assert positions["States.P.Branches[0].States.X"].column == first + 1
    assert positions["States.P.Branches[1].States.X"].column == second + 1


def test_state_names_with_escapes_and_beyond_ascii() -> None:
    names = ['Quo"te', "Café", "Über ✓ 𝄞", "back\\slash"]
    written = ['Quo\\"te', "Caf\\u00e9", "Über ✓ 𝄞", "back\\\\slash"]
    members = ",\n".join(f'    "{literal}": {{"Type": "Pass", "End": true}}' for literal in written)
    prefix = '{"Comment": "𝄞𝄞", "StartAt": "Café", "States": {"𝄞": {"Type": "Succeed"}, '
    text = f"{prefix}\n{members}\n}}}}\n"
    assert set(json.loads(text)["States"]) == {"𝄞", *names}
    positions = state_positions(text)
    for name, literal in zip(names, written, strict=True):
        line, column = key_position(text, literal)
        assert positions[f"States.{name}"] == Position(line, column, column)
    # On the first line, each 𝄞 before a key is 1 code point and 2 UTF-16 code units.
    column = prefix.index('"𝄞": {') + 1
    assert positions["States.𝄞"] == Position(1, column, column + 2)


def test_utf16_columns_in_the_log(tmp_path: Path) -> None:
    text = (
        '{"Comment": "𝄞", "StartAt": "D", "States": {"D": {"Type": "Pass", '
        '"OutputPath": null, "Next": "R"}, "R": ' + json.dumps(_reader()) + "}}"
    )
    path = tmp_path / "wide.asl.json"
    path.write_text(text, encoding="utf-8")
    [result] = check_sarif(lint_cli(str(path), field="F").stdout)["runs"][0]["results"]
    assert region(result["locations"][0]) == (1, text.index('"D": {') + 2)


def test_crlf_and_a_byte_order_mark_do_not_move_a_key(tmp_path: Path) -> None:
    text = DEFINITION.read_text(encoding="utf-8")
    expected = state_positions(text)
    assert state_positions(text.replace("\n", "\r\n")) == expected
    assert state_positions("\ufeff" + text) == expected
    assert state_positions(text.replace("\n", "\r")) == expected
    crlf = tmp_path / "crlf.asl.json"
    crlf.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    lf = tmp_path / "lf.asl.json"
    lf.write_bytes(text.encode("utf-8"))
    regions = [
        [
            region(r["locations"][0])
            for r in check_sarif(lint_cli(str(p)).stdout)["runs"][0]["results"]
        ]
        for p in (crlf, lf)
    ]
    assert regions[0] == regions[1]
    assert regions[0][0] == key_position(text, "SplitIntoChunks")


def _deep_parallel(depth: int) -> str:
    """``depth`` Parallel states, each the only state of its parent's only branch, written
    without recursion (``json.dumps`` would hit the recursion limit)."""
    opening = []
    for level in range(depth - 1, 0, -1):
        opening.append(
            f'{{"StartAt": "L{level}", "States": {{"L{level}": '
            '{"Type": "Parallel", "End": true, "Branches": ['
        )
    innermost = '{"StartAt": "L0", "States": {"L0": {"Type": "Pass", "End": true}}}'
    return "".join(opening) + innermost + "]}}}" * (depth - 1)


def test_a_thousand_nested_parallel_states_do_not_crash_the_position_finder(
    tmp_path: Path,
) -> None:
    text = _deep_parallel(1000)
    positions = state_positions(text)
    assert len(positions) == 1000
    deepest = "States.L999" + "".join(
        f".Branches[0].States.L{level}" for level in range(998, -1, -1)
    )
    column = text.index('"L0": {') + 1
    assert positions[deepest] == Position(1, column, column)
    path = tmp_path / "deep.asl.json"
    path.write_text(text, encoding="utf-8")
    result = lint_cli(str(path))
    # Within the documented depth limit (sfn_trace.model.jsontext.MAX_DEPTH): read and linted,
    # no recursion on the way (tests/trace/test_deep_structures.py for deeper ones).
    assert result.exit_code == ExitCode.INTACT, result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_json_never_raises_in_the_position_finder() -> None:
    for text in ("", "{", '{"States": {"A": {', '{"States": {"A\\', "]]}}", '"x"', "[1, {"):
        state_positions(text)


# --- fingerprints -------------------------------------------------------------------------------


def _fingerprints(path: Path) -> list[str]:
    results = check_sarif(lint_cli(str(path)).stdout)["runs"][0]["results"]
    return [r["partialFingerprints"]["sfnTraceFinding/v2"] for r in results]


def test_fingerprints_are_stable_unique_and_survive_lines_moving(tmp_path: Path) -> None:
    copy = tmp_path / "definition.asl.json"
    text = DEFINITION.read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    first = _fingerprints(copy)
    assert first == _fingerprints(copy)
    assert len(set(first)) == len(first)
    assert all(re.fullmatch(r"[0-9a-f]{32}:\d+", value) for value in first)
    copy.write_text(text.replace("{\n", '{\n  "Comment": "moved",\n', 1), encoding="utf-8")
    assert _fingerprints(copy) == first


# --- several definitions ------------------------------------------------------------------------


def test_several_definitions_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "defs").mkdir()
    shutil.copy(DEFINITION, tmp_path / "defs" / "seed.asl.json")
    shutil.copy(FIXED_DEFINITION, tmp_path / "defs" / "fixed.asl.json")
    (tmp_path / "defs" / "nested flow.asl.json").write_text(NESTED, encoding="utf-8")
    names = ["defs/seed.asl.json", "defs/fixed.asl.json", "defs/nested flow.asl.json"]
    result = lint_cli(*names, field="F")
    assert result.exit_code == ExitCode.FINDING
    [run] = check_sarif(result.stdout)["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"defs/nested%20flow.asl.json"}
    result = lint_cli("defs/seed.asl.json", "defs/fixed.asl.json")
    [run] = check_sarif(result.stdout)["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"defs/seed.asl.json"}


def test_an_unreadable_definition_among_several(tmp_path: Path) -> None:
    bad = tmp_path / "bad.asl.json"
    bad.write_text("{", encoding="utf-8")
    missing = tmp_path / "missing.asl.json"
    result = lint_cli(str(DEFINITION), str(bad), str(missing))
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 2
    [run] = check_sarif(result.stdout)["runs"]
    assert run["results"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notified = [
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for n in invocation["toolExecutionNotifications"]
    ]
    assert notified == [bad.as_uri(), missing.as_uri()]


def test_one_unreadable_definition_writes_nothing_to_stdout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.asl.json"
    bad.write_text("{", encoding="utf-8")
    result = lint_cli(str(bad))
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_several_definitions_as_json_and_as_a_table(tmp_path: Path) -> None:
    missing = tmp_path / "missing.asl.json"
    paths = [str(DEFINITION), str(FIXED_DEFINITION), str(missing)]
    result = runner.invoke(app, ["lint", *paths, "--field", FIELD, "--format", "json"])
    assert result.exit_code == ExitCode.USAGE
    document = json.loads(result.stdout)
    assert document["schema"] == "sfn-trace-lint-multi/2"
    assert document["field"] == FIELD
    entries = document["definitions"]
    assert [e["definition"] for e in entries] == paths
    assert [e["error"] is None for e in entries] == [True, True, False]
    single = json.loads(
        runner.invoke(app, ["lint", str(DEFINITION), "--field", FIELD, "--format", "json"]).stdout
    )
    assert entries[0]["findings"] == single["findings"]
    assert entries[1]["findings"] == entries[2]["findings"] == []
    table = runner.invoke(app, ["lint", *paths[:2], "--field", FIELD]).stdout
    assert table.startswith(f"== {DEFINITION}\n")
    assert f"\n\n== {FIXED_DEFINITION}\nNo path lets a state drop {FIELD}" in table


def test_help_lists_the_sarif_format() -> None:
    result = runner.invoke(app, ["lint", "--help"])
    assert result.exit_code == 0
    assert "sarif" in result.stdout


# --- the pre-commit hook ------------------------------------------------------------------------


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "sfn-trace-lint"]
    return dict(hook)


def test_the_hook_manifest() -> None:
    hook = _hook()
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert shlex.split(hook["entry"]) == ["sfn-trace", "lint"]
    files = re.compile(hook["files"])
    assert files.search("statemachines/line_ingest.asl.json")
    assert not files.search("package.json")


def _run_hook(tmp_path: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """As pre-commit runs it: entry, then the user's args, then the staged file names."""
    hook = _hook()
    bin_dir = str(Path(sys.executable).parent)
    search = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    assert shutil.which("sfn-trace", path=search), "the sfn-trace console script is missing"
    command = [*shlex.split(hook["entry"]), *hook.get("args", []), "--field", FIELD, *names]
    return subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PATH": search},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_hook_entry_fails_on_the_seed_and_passes_the_fixed_definition(
    tmp_path: Path,
) -> None:
    shutil.copy(DEFINITION, tmp_path / "line_ingest.asl.json")
    shutil.copy(FIXED_DEFINITION, tmp_path / "line_ingest_fixed.asl.json")
    seed = _run_hook(tmp_path, "line_ingest.asl.json")
    assert seed.returncode == ExitCode.FINDING, seed.stderr
    assert "SplitIntoChunks can drop it" in seed.stdout
    fixed = _run_hook(tmp_path, "line_ingest_fixed.asl.json")
    assert fixed.returncode == ExitCode.INTACT, fixed.stderr
    both = _run_hook(tmp_path, "line_ingest_fixed.asl.json", "line_ingest.asl.json")
    assert both.returncode == ExitCode.FINDING
    assert "== line_ingest.asl.json\n" in both.stdout
