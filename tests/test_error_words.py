"""Library errors name options in the library's words (the ``api`` keyword: ``field=``);
the command line words the same errors with its flags (``--field``), from one table."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.cli.options import FLAGS, flag_naming
from sfn_trace.errors import (
    InputError,
    Option,
    SfnTraceError,
    TraceCall,
    UsageError,
    options_named,
    word,
)
from sfn_trace.model.options import AwsOptions
from tests.data import ROOT, fixture_history

PACKAGE = ROOT / "sfn_trace"
FIELD = "poll_results_s3_key"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:line-ingest:run-1"
MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest"
ERRORS = {"SfnTraceError", "UsageError", "InputError", "AwsError", "ExpressLoggingError"}
AWS_CLI = "aws stepfunctions get-execution-history --output json"
"""The AWS CLI's own command, named where a file is not a history: not one of our flags."""


def _cli_flags() -> set[str]:
    """Every flag a command of the command line declares."""
    import typer.main

    group = typer.main.get_command(app)
    flags: set[str] = set()
    for command in group.commands.values():  # type: ignore[attr-defined]
        for parameter in command.params:
            flags.update(o for o in parameter.opts if o.startswith("--"))
    return flags


def _library_modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] != "cli":
            yield path


def _texts(node: ast.AST, constants: dict[str, list[str]]) -> Iterator[str]:
    """The string constants in ``node``, and in the module constants it names."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
            yield inner.value
        elif isinstance(inner, ast.Name) and inner.id in constants:
            yield from constants[inner.id]


def _raised_texts() -> Iterator[tuple[str, int, str]]:
    """(module, line, text) of every string an error of ours is made with, outside cli/."""
    for path in _library_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, list[str]] = {}
        for statement in tree.body:
            targets = (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
                if isinstance(statement, ast.AnnAssign) and statement.value is not None
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = list(_texts(statement.value, {}))  # type: ignore[arg-type]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in ERRORS or name in {"AskFailure", "word"}:
                for text in _texts(node, constants):
                    yield str(path.relative_to(PACKAGE)), node.lineno, text


def test_no_error_raised_outside_the_cli_names_a_flag() -> None:
    flags = _cli_flags()
    assert {"--field", "--since", "--max-attempts", "--output"} <= flags
    found = []
    for module, line, text in _raised_texts():
        named = set(re.findall(r"--[a-z][a-z-]*", text.replace(AWS_CLI, ""))) & flags
        if named:
            found.append(f"{module}:{line}: {sorted(named)} in {text!r}")
    assert found == []


def test_the_scan_sees_the_raise_sites() -> None:
    """The test above reads real raise sites (it would pass on an empty scan)."""
    texts = [text for _, _, text in _raised_texts()]
    assert " must not be empty" in texts
    assert any("neither an execution ARN" in text for text in texts)
    assert any(AWS_CLI in text for text in texts)


def _option_names() -> set[str]:
    names = set()
    for path in _library_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Option":
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}:{node.lineno}"
                names.add(first.value)
    return names


def test_every_option_the_library_names_has_a_flag_and_a_keyword() -> None:
    used = _option_names()
    assert {"field", "since", "until", "max_attempts", "confirm"} <= used
    assert used <= set(FLAGS)
    keywords = {
        name
        for function in (api.trace, api.load, api.scan, api.compare, api.lint)
        for name in inspect.signature(function).parameters
    } | set(inspect.signature(AwsOptions).parameters)
    assert set(FLAGS) <= keywords
    assert set(FLAGS.values()) <= _cli_flags()


def test_a_message_is_worded_by_the_front_end() -> None:
    error = UsageError("the time window is empty: ", Option("since"), " is after ", Option("until"))
    assert error.message == str(error) == "the time window is empty: since= is after until="
    assert error.options == ("since", "until")
    assert error.worded(flag_naming) == "the time window is empty: --since is after --until"
    with options_named(flag_naming):
        assert error.message == "the time window is empty: --since is after --until"
        assert word("pass ", Option("region")) == "pass --region"
    assert error.message == "the time window is empty: since= is after until="
    wrapped = InputError(Option("max_input"), " raises it").around("file.json: ")
    assert type(wrapped) is InputError and wrapped.options == ("max_input",)
    assert wrapped.message == "file.json: max_input= raises it"
    call = TraceCall(EXECUTION)
    assert word(call) == f"trace({EXECUTION!r}, field)"
    assert word(call, naming=flag_naming) == f"sfn-trace {EXECUTION} --field F"
    bug = TraceCall(EXECUTION, debug=True)
    assert word(bug) == f"trace({EXECUTION!r}, field) raises it with its traceback"
    assert word(bug, naming=flag_naming) == (
        f"sfn-trace {EXECUTION} --field F --debug shows the traceback"
    )


def _api_error(call: object) -> SfnTraceError:
    with pytest.raises(SfnTraceError) as caught:
        call()  # type: ignore[operator]
    return caught.value


HISTORY = str(fixture_history("flat_split_drops_key"))
CASES = [
    (
        lambda: api.trace(HISTORY, ""),
        ["sfn-trace", HISTORY, "--field", ""],
        "field= must not be empty",
        "--field must not be empty",
    ),
    (
        lambda: api.trace(HISTORY, FIELD, confirm=True),
        ["sfn-trace", HISTORY, "--field", FIELD, "--confirm"],
        "confirm=True needs the definition that ran: it is fetched for an execution ARN; "
        "for a history file pass it with definition=",
        "--confirm needs the definition that ran: it is fetched for an execution ARN; "
        "for a history file pass it with --definition",
    ),
    (
        lambda: api.trace(HISTORY, FIELD, express_log_group="group"),
        ["sfn-trace", HISTORY, "--field", FIELD, "--express-log-group", "group"],
        "express_log_group= needs an execution ARN as TARGET, not a file",
        "--express-log-group needs an execution ARN as TARGET, not a file",
    ),
    (
        lambda: api.scan(
            MACHINE, FIELD, since="2026-01-02T00:00:00Z", until="2026-01-01T00:00:00Z"
        ),
        [
            "sfn-trace",
            "scan",
            MACHINE,
            "--field",
            FIELD,
            "--since",
            "2026-01-02T00:00:00Z",
            "--until",
            "2026-01-01T00:00:00Z",
        ],
        "the time window is empty: since= is after until=",
        "the time window is empty: --since is after --until",
    ),
    (
        lambda: api.scan(EXECUTION, FIELD),
        ["sfn-trace", "scan", EXECUTION, "--field", FIELD],
        f"{EXECUTION!r} is an execution ARN; scan needs the state machine's ARN "
        f"(arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest); to trace this one "
        f"execution: trace({EXECUTION!r}, field)",
        f"{EXECUTION!r} is an execution ARN; scan needs the state machine's ARN "
        f"(arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest); to trace this one "
        f"execution: sfn-trace {EXECUTION} --field F",
    ),
    (
        lambda: api.scan(MACHINE, FIELD, profiles={"999999999999": "prod"}),
        ["sfn-trace", "scan", MACHINE, "--field", FIELD, "--account-profile", "999999999999=prod"],
        "profiles=: account 999999999999 owns none of the state machines scanned "
        "(their accounts: 123456789012)",
        "--account-profile: account 999999999999 owns none of the state machines scanned "
        "(their accounts: 123456789012)",
    ),
    (
        lambda: api.trace(EXECUTION, FIELD, aws=AwsOptions(timeout=0.5)),
        None,  # the command line refuses --timeout below 1 itself
        "timeout= must be at least 1 second, not 0.5",
        "--timeout must be at least 1 second, not 0.5",
    ),
]


@pytest.mark.parametrize(("call", "argv", "library", "cli"), CASES)
def test_an_api_error_names_the_parameter_and_the_cli_the_flag(
    call: object, argv: list[str] | None, library: str, cli: str
) -> None:
    error = _api_error(call)
    assert error.message == library
    assert error.worded(flag_naming) == cli
    if argv is not None:
        result = CliRunner().invoke(app, argv[1:])
        assert result.exit_code == error.exit_code
        assert result.stderr == f"sfn-trace: error: {cli}\n"
