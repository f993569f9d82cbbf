"""Record what every command prints on every fixture and recorded history; compare two records.

A restructuring must not change the program. Before it, record::

    python -m tests.record_outputs record out/before

and after each step::

    python -m tests.record_outputs record out/after
    python -m tests.record_outputs compare out/before out/after

``record`` runs, in process, through the command line exactly as a user would:

- ``--help`` of the main form and of every sub-command;
- the main form on every line-ingest fixture and every recorded AWS history (with its
  definition when one was recorded), in every ``--format``, for the field the fixture tracks
  or, for a recorded history, for a key its execution input holds and for one no document
  holds; on the fixtures also with ``--redact``, ``--expect-definition`` (the fixed
  definition), ``--log-lines 0`` and a saved bundle as TARGET;
- ``compare`` on every ordered pair of fixtures, in every format;
- ``scan`` over the fixtures served by a fake Step Functions client (fixed dates), in every
  format;
- ``lint`` on the line-ingest definitions and every recorded definition, in every format.

Each invocation is written as one file holding its exit code, stdout and stderr. ``compare``
lists the invocations whose files differ (and those only one record has) and exits 1 if any.
Nothing here reaches a network: the fake client is in process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.data import (
    DEFINITION,
    FIXED_DEFINITION,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_describe,
    fixture_history,
    fixture_names,
    input_keys,
)
from tests.stubbing import paginator_for

FIELD = "poll_results_s3_key"
ABSENT_FIELD = "no_such_field_anywhere"
TRACE_FORMATS = ("table", "json", "csv", "markdown")
COMPARE_FORMATS = ("table", "json")
SCAN_FORMATS = ("table", "json", "csv")
LINT_FORMATS = ("table", "json", "sarif")
SM_ARN = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest-sf-dev-1554303"
FETCHED_AT = datetime(2025, 11, 17, 6, 2, 11, tzinfo=timezone.utc)


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


class Recorder:
    def __init__(self, out: Path) -> None:
        from sfn_trace.cli import app

        self.app = app
        self.runner = _runner()
        self.out = out
        self.count = 0

    def run(self, name: str, *args: str | Path) -> None:
        words = [str(a) for a in args]
        result = self.runner.invoke(self.app, words, catch_exceptions=True)
        text = (
            f"$ sfn-trace {' '.join(words)}\nexit {result.exit_code}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            text += f"--- exception\n{type(result.exception).__name__}: {result.exception}\n"
        path = self.out / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="backslashreplace")
        self.count += 1


# --- what to run ------------------------------------------------------------------------------


def record(out: Path) -> int:
    recorder = Recorder(out)
    for command in ((), ("scan",), ("compare",), ("lint",)):
        recorder.run(f"help/{'-'.join(command) or 'main'}", *command, "--help")
    _fixtures(recorder)
    _corpus(recorder)
    _compare(recorder)
    _scan(recorder)
    _lint(recorder)
    print(f"recorded {recorder.count} invocations in {out}", file=sys.stderr)
    return 0


def _fixtures(recorder: Recorder) -> None:
    # One fixed folder: a bundle's path is part of what the reports print.
    bundles = Path(tempfile.gettempdir()) / "sfn-trace-recorded-bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    for name in fixture_names():
        history = fixture_history(name)
        base = (history, "--definition", DEFINITION, "--field", FIELD)
        for fmt in TRACE_FORMATS:
            recorder.run(f"fixture/{name}/{fmt}", *base, "--format", fmt)
            recorder.run(f"fixture/{name}/redact-{fmt}", *base, "--format", fmt, "--redact")
        recorder.run(f"fixture/{name}/expect", *base, "--expect-definition", FIXED_DEFINITION)
        recorder.run(f"fixture/{name}/log-lines-0", *base, "--format", "table", "--log-lines", "0")
        bundle = _bundle(name, bundles)
        for fmt in TRACE_FORMATS:
            recorder.run(f"fixture/{name}/bundle-{fmt}", bundle, "--field", FIELD, "--format", fmt)


def _bundle(name: str, folder: Path) -> Path:
    """The fixture as a live fetch would have saved it (DescribeExecution's facts)."""
    from sfn_trace.model.execution import ExecutionInfo
    from sfn_trace.sources.files import load_history_file
    from tests.bundles import write_bundle

    data = load_history_file(fixture_history(name), DEFINITION)
    describe = json.loads(fixture_describe(name).read_text(encoding="utf-8"))
    data = dataclasses.replace(
        data,
        info=ExecutionInfo(
            arn=describe["executionArn"],
            name=describe["name"],
            status=describe["status"],
            state_machine_arn=describe["stateMachineArn"],
            start=datetime.fromisoformat(describe["startDate"]),
            stop=datetime.fromisoformat(describe["stopDate"]),
        ),
        source="aws",
    )
    path = folder / f"{name}.bundle.json"
    write_bundle(path, data, command=("sfn-trace", "recorded"), fetched_at=FETCHED_AT)
    return path


def _corpus(recorder: Recorder) -> None:
    for name in corpus_names():
        history = corpus_history(name)
        definition = corpus_definition(name)
        extra: tuple[str | Path, ...] = ("--definition", definition) if definition else ()
        for field, label in ((_input_key(history), "key"), (ABSENT_FIELD, "absent")):
            for fmt in TRACE_FORMATS:
                recorder.run(
                    f"corpus/{name}/{label}-{fmt}",
                    history,
                    *extra,
                    "--field",
                    field,
                    "--format",
                    fmt,
                )


def _input_key(history: Path) -> str:
    """A key the execution input holds (its first), or the absent field."""
    keys = input_keys(history)
    return keys[0] if keys else ABSENT_FIELD


def _compare(recorder: Recorder) -> None:
    for good, bad in itertools.permutations(fixture_names(), 2):
        for fmt in COMPARE_FORMATS:
            recorder.run(
                f"compare/{good}--{bad}/{fmt}",
                "compare",
                fixture_history(good),
                fixture_history(bad),
                "--definition",
                DEFINITION,
                "--field",
                FIELD,
                "--format",
                fmt,
            )


def _lint(recorder: Recorder) -> None:
    definitions = [
        ("line-ingest", DEFINITION, FIELD),
        ("line-ingest-fixed", FIXED_DEFINITION, FIELD),
    ]
    for name in corpus_names():
        definition = corpus_definition(name)
        if definition is not None:
            definitions.append((name, definition, _read_key(definition)))
    for label, definition, field in definitions:
        for fmt in LINT_FORMATS:
            recorder.run(
                f"lint/{label}/{fmt}", "lint", definition, "--field", field, "--format", fmt
            )
    several = [DEFINITION, FIXED_DEFINITION]
    for fmt in LINT_FORMATS:
        recorder.run(f"lint/several/{fmt}", "lint", *several, "--field", FIELD, "--format", fmt)


def _read_key(definition: Path) -> str:
    """The last segment of the first ``"k.$": "$.a.b"`` path in the definition (a field some
    state reads), else the seed's field."""
    text = definition.read_text(encoding="utf-8")
    start = text.find('.$": "$.')
    if start < 0:
        return FIELD
    path = text[start + 6 : text.find('"', start + 6)]
    last = path.rsplit(".", 1)[-1]
    return last if last.isidentifier() else FIELD


# --- scan over a fake Step Functions ------------------------------------------------------------

SCAN_FIXTURES = {f"run-{i}": (name, i * 7, "SUCCEEDED") for i, name in enumerate(fixture_names())}


class _FakeStepFunctions:
    """ListExecutions and GetExecutionHistory from the fixtures, with fixed dates."""

    T0 = datetime(2025, 11, 17, 12, 0, tzinfo=timezone.utc)

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def get_paginator(self, name: str) -> Any:
        return paginator_for(self.list_executions, "ListExecutions")

    def list_executions(self, **params: Any) -> dict[str, Any]:
        items = []
        for name, (_, minutes, status) in SCAN_FIXTURES.items():
            start = self.T0 - timedelta(minutes=minutes)
            items.append(
                {
                    "executionArn": f"{SM_ARN.replace(':stateMachine:', ':execution:')}:{name}",
                    "stateMachineArn": SM_ARN,
                    "name": name,
                    "status": status,
                    "startDate": start,
                    "stopDate": start + timedelta(seconds=1),
                }
            )
        return {"executions": items}

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        name = params["executionArn"].rsplit(":", 1)[1]
        fixture = SCAN_FIXTURES[name][0]
        return {"events": json.loads(fixture_history(fixture).read_text())["events"]}


@contextmanager
def _fake_aws() -> Iterator[None]:
    """Serve the scan from the fake client: every module that makes a Step Functions client
    for the scan is patched, whatever its name after a restructuring."""
    fake = _FakeStepFunctions()
    patched: list[tuple[Any, str, Any]] = []
    for module_name in list(sys.modules):
        module = sys.modules[module_name]
        if not module_name.startswith("sfn_trace") or module is None:
            continue
        if callable(getattr(module, "make_client", None)) and hasattr(module, "list_executions"):
            patched.append((module, "make_client", module.make_client))
            module.make_client = lambda *args, **kwargs: fake
    try:
        yield
    finally:
        for module, attribute, original in patched:
            setattr(module, attribute, original)


def _import_scan_sources() -> None:
    for candidate in ("sfn_trace.sources.files.aws.executions", "sfn_trace.sources.aws.executions"):
        try:
            __import__(candidate)
        except ImportError:
            continue


def _scan(recorder: Recorder) -> None:
    _import_scan_sources()
    with _fake_aws():
        for fmt in SCAN_FORMATS:
            recorder.run(
                f"scan/{fmt}",
                "scan",
                SM_ARN,
                "--field",
                FIELD,
                "--since",
                "2025-11-16",
                "--format",
                fmt,
                "--region",
                "us-west-2",
            )


# --- comparing two records --------------------------------------------------------------------


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.txt"))
    }


def compare(before: Path, after: Path) -> int:
    old, new = _digests(before), _digests(after)
    differ = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    only_old = sorted(old.keys() - new.keys())
    only_new = sorted(new.keys() - old.keys())
    for label, names in (("differ", differ), ("only before", only_old), ("only after", only_new)):
        for name in names:
            print(f"{label}: {name}")
    same = len(old.keys() & new.keys()) - len(differ)
    print(
        f"{same} identical, {len(differ)} differ, {len(only_old)} only before, "
        f"{len(only_new)} only after",
        file=sys.stderr,
    )
    return 1 if differ or only_old or only_new else 0


def main(argv: Sequence[str]) -> int:
    commands: dict[str, Callable[..., int]] = {"record": record, "compare": compare}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](*(Path(a) for a in argv[1:]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
