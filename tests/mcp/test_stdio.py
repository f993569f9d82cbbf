"""``sfn-trace mcp`` as an assistant runs it: the SDK's stdio client starts
``python -m sfn_trace mcp`` with its environment given explicitly (the lab's fake
credentials and loopback endpoint, no AWS variable of the calling shell), traces a saved
history, then the seed incident live from its ARN, and cancels a slow scan."""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from moto.stepfunctions.responses import StepFunctionResponse

from fixtures.lab import Lab
from fixtures.line_ingest.scenarios import FIELD, SEED, run
from tests.data import DEFINITION, ROOT, fixture_history

pytestmark = pytest.mark.moto_server

EXECUTIONS = 20
"""Executions of the slow scan's state machine: more than its 8 workers fetch at once."""


def server(lab: Lab) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(lab.env)
    env["PYTHONPATH"] = str(ROOT)
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "sfn_trace", "mcp", "--endpoint-url", lab.endpoint_url, "--verbose"],
        env=env,
        cwd=str(ROOT),
    )


class Gate:
    """Holds every GetExecutionHistory of one state machine in the lab until opened (the
    lab's moto server runs in this process), and counts the executions asked for."""

    def __init__(self, machine: str) -> None:
        self.machine, self.opened, self.asked = machine, threading.Event(), set[str]()
        self.lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = StepFunctionResponse.get_execution_history
        gate = self

        def held(response: Any) -> Any:
            arn = response._get_param("executionArn")
            if f":{gate.machine}:" in arn:
                with gate.lock:
                    gate.asked.add(arn)
                gate.opened.wait(timeout=60)  # a safety net: the test opens it
            return real(response)

        monkeypatch.setattr(StepFunctionResponse, "get_execution_history", held)


def slow_machine(lab: Lab) -> tuple[str, str]:
    name = f"mcp-cancel-{uuid.uuid4().hex[:8]}"
    arn = lab.deploy_state_machine(
        name, {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}
    )
    started = [
        lab.sfn.start_execution(
            stateMachineArn=arn, name=f"run-{i:02d}", input=json.dumps({FIELD: f"k/{i}"})
        )["executionArn"]
        for i in range(EXECUTIONS)
    ]
    for execution in started:
        lab.wait(execution, timeout=60)
    return name, arn


def test_an_assistant_over_stdio_diagnoses_the_seed_and_cancels_a_scan(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_arn = run(lab, SEED, execution_name="")
    name, machine_arn = slow_machine(lab)
    gate = Gate(name)
    gate.install(monkeypatch)
    errors = tmp_path / "server-stderr.txt"
    pages: list[tuple[float, float | None, str | None]] = []

    async def session() -> dict[str, Any]:
        answers: dict[str, Any] = {}
        with errors.open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(server(lab), errlog=errlog)) as client:
                answers["tools"] = [t.name for t in (await client.list_tools()).tools]
                answers["file"] = await client.call_tool(
                    "trace_field",
                    {
                        "target": str(fixture_history(SEED.name)),
                        "field": FIELD,
                        "definition": str(DEFINITION),
                    },
                )

                async def on_page(
                    progress: float, total: float | None, message: str | None
                ) -> None:
                    pages.append((progress, total, message))

                answers["live"] = await client.call_tool(
                    "trace_field", {"target": seed_arn, "field": FIELD}, progress_callback=on_page
                )
                listed = anyio.Event()

                async def on_scan(
                    progress: float, total: float | None, message: str | None
                ) -> None:
                    answers.setdefault("scan_progress", []).append(message)
                    listed.set()

                async with anyio.create_task_group() as group:
                    scope = anyio.CancelScope()

                    async def scan() -> None:
                        with scope:
                            answers["scan"] = await client.call_tool(
                                "scan_field_loss",
                                {"state_machine_arn": machine_arn, "field": FIELD},
                                progress_callback=on_scan,
                            )

                    group.start_soon(scan)
                    with anyio.fail_after(60):
                        await listed.wait()
                    scope.cancel()  # the client sends notifications/cancelled
                # The server answers while the cancelled scan's fetches are still held.
                answers["after"] = await client.call_tool(
                    "lint_definition", {"definition": str(DEFINITION), "field": FIELD}
                )
                gate.opened.set()
                with anyio.fail_after(60):  # a safety net: the server logs the stop
                    while "scan_field_loss stopped, cancelled" not in errors.read_text("utf-8"):
                        await anyio.sleep(0.05)
        return answers

    answers = anyio.run(session)
    assert len(answers["tools"]) == 6
    assert not answers["file"].is_error
    assert answers["file"].structured_content["report"]["first_null"]["state"] == "SplitIntoChunks"

    live = answers["live"]
    assert not live.is_error, live.content
    text = live.content[0].text
    head = text.partition("\n\n")[0]
    assert "went null: SplitIntoChunks" in head and "last copy: PrepareFinalMerge" in head
    assert "expression: " in head
    assert len(text) <= 20_000
    assert pages and pages[0][2] is not None and "history page" in pages[0][2]

    assert "scan" not in answers  # cancelled: no answer came
    assert answers["scan_progress"] == [f"{EXECUTIONS} executions listed"]
    assert not answers["after"].is_error
    assert len(gate.asked) < EXECUTIONS  # the scan stopped: the rest were never fetched
    log = errors.read_text("utf-8")
    assert "Traceback" not in log


def test_without_the_extra_one_line_and_exit_2(tmp_path: Path) -> None:
    """A Python where the SDK cannot be imported: `sfn-trace mcp` says how to install it."""
    blocker = tmp_path / "mcp"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no', name='mcp')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "sfn_trace", "mcp"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "sfn-trace: error: sfn-trace mcp needs the MCP SDK: pip install 'sfn-trace[mcp]' "
        "(or run uvx --from 'sfn-trace[mcp]' sfn-trace mcp)"
    ]
