"""Option values converted without pydantic (sfn_trace/cli/values.py) are converted exactly as
typer's own adapter converts them: the same value of the same type, or the same error.

Every parameter of every command, with valid and invalid values and its default. And the
program never imports pydantic for the values it takes every day.
"""

from __future__ import annotations

import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from typer._click import Context
from typer._coercion import build_runtime_param
from typer.main import get_command

from sfn_trace.cli import app
from sfn_trace.cli.values import PlainValue
from tests.data import DEFINITION, fixture_history

_ROOT = get_command(app)
_PARAMS = [
    (name, param)
    for name, command in sorted(_ROOT.commands.items())  # type: ignore[attr-defined]
    for param in command.params
    if getattr(param, "type_descriptor", None) is not None
]


def _values(param: Any, tmp_path: Path) -> list[Any]:
    unreadable = tmp_path / "unreadable"
    unreadable.write_text("{}")
    unreadable.chmod(0)
    strings = ["x", "", " a ", "-", "ü", "arn:aws:states:us-west-2:1:execution:m:e", "a\0b"]
    paths = [str(tmp_path), str(tmp_path / "missing.json"), str(unreadable), "/dev/null"]
    numbers = ["1", "0", "007", "10", "-1", " 3", "1.0", "1.5", "0.5", "90", "1e3", "abc", "+2"]
    scalars: list[Any] = [*strings, *paths, *numbers, 5, 0, -3, 1.5, 90, True, 2**60]
    annotation = param.type_descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        for member in annotation:
            scalars += [member, member.value, str(member.value).upper()]
    values: list[Any] = [param.default, *scalars]
    if param.multiple or param.nargs == -1:
        values += [tuple(strings[:2]), (str(tmp_path), "-"), tuple(paths), ()]
    return values


def _converted(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        return f"raises {type(error).__name__}", message
    if isinstance(result, list):
        return "list", [(type(item), item) for item in result]
    return type(result).__name__, result


@pytest.mark.parametrize(("command", "param"), _PARAMS, ids=[f"{c}-{p.name}" for c, p in _PARAMS])
def test_each_parameter_is_converted_as_typer_converts_it(
    command: str, param: Any, tmp_path: Path
) -> None:
    ctx = Context(_ROOT.commands[command])  # type: ignore[attr-defined]
    plain = PlainValue.of(param.type_descriptor)
    typer_adapter = build_runtime_param(param.type_descriptor)
    for value in _values(param, tmp_path):
        assert _converted(plain, value, param, ctx) == _converted(
            typer_adapter, value, param, ctx
        ), value


def test_a_trace_in_every_format_never_imports_pydantic(tmp_path: Path) -> None:
    """The options a trace takes every day (a file, a definition, a format, outputs, a
    timeout) are all plain: pydantic stays unloaded. Checked in a fresh interpreter, by
    module name."""
    code = (
        "import os, sys\n"
        "real_exit = os._exit\n"
        "def observed(code):\n"
        "    print('exit', code, 'pydantic' in sys.modules)\n"
        "    sys.stdout.flush()\n"
        "    real_exit(code)\n"
        "os._exit = observed\n"
        "from sfn_trace.cli import main\n"
        "main()\n"
    )
    history, definition = fixture_history("flat_split_drops_key"), DEFINITION
    runs = [
        [str(history), "--field", "poll_results_s3_key", "--definition", str(definition)],
        [str(history), "-f", "poll_results_s3_key", "--format", "json", "-o", "out.json"],
        [str(history), "-f", "k", "--format", "MARKDOWN", "--csv", "t.csv", "--timeout", "30"],
        ["lint", str(definition), "--field", "poll_results_s3_key", "--format", "sarif"],
        ["compare", str(history), str(history), "--field", "poll_results_s3_key"],
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        last = done.stdout.strip().splitlines()[-1]
        assert last.startswith("exit ") and last.endswith(" False"), (args, done.stderr[-300:])
