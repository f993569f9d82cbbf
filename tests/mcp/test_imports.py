"""The MCP SDK, pydantic and starlette stay off every path but ``sfn-trace mcp``'s: checked
in a fresh interpreter, by module name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.data import DEFINITION, ROOT, fixture_history

HEAVY = ["mcp", "mcp_types", "pydantic", "starlette", "anyio", "sfn_trace.mcp"]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["mcp", "--help"],
        [
            str(fixture_history("flat_split_drops_key")),
            "--field",
            "poll_results_s3_key",
            "--definition",
            str(DEFINITION),
            "--format",
            "json",
        ],
    ],
)
def test_help_and_a_plain_trace_do_not_import_the_sdk(args: list[str]) -> None:
    code = (
        "import os, sys, runpy\n"
        "real_exit = os._exit\n"
        "def observed(code):\n"
        f"    print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        f" or m.startswith('sfn_trace.mcp')))\n"
        "    sys.stdout.flush()\n"
        "    real_exit(code)\n"
        "os._exit = observed\n"
        f"sys.argv = ['sfn-trace', *{args!r}]\n"
        "runpy.run_module('sfn_trace', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr[-500:]
