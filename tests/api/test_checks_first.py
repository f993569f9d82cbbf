"""Options are checked before anything is fetched: an option combination that cannot work,
a value no AWS request can be made with, an unreadable definition, is refused before the
first AWS call (and, when the options alone say so, before any file is read). Every entry
point to AWS and every read is replaced by a recorder, which would answer if asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sfn_trace import api
from sfn_trace.api import loading
from sfn_trace.errors import InputError, SfnTraceError, UsageError
from sfn_trace.model.execution import LambdaLogs
from sfn_trace.model.options import AwsOptions
from tests.data import DEFINITION, fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")  # a history file: no definition in it
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:line-ingest:run-1"
OTHER = "arn:aws:states:us-west-2:123456789012:execution:line-ingest:run-2"
NETWORK = ("_fetch", "LiveTrace", "_logs_fetch", "_with_lambda_logs", "_with_map_runs")
READS = ("load_target_file", "document_data", "read_definition")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the AWS entry points and reads ``api`` made, in order. The AWS ones
    answer from memory (no logs, no Map Runs); a fetch of an ARN fails the test."""
    made: list[str] = []

    def recorded(name: str, answer: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            return answer(*args, **kwargs)

        return call

    def fetch(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the execution was fetched")

    answers: dict[str, Callable[..., Any]] = {
        "_fetch": fetch,
        "LiveTrace": lambda *a, **k: None,
        "_logs_fetch": lambda *a, **k: LambdaLogs,
        "_with_lambda_logs": lambda data, options, clients=None: data,
        "_with_map_runs": lambda data, options, follow: data,
    }
    # Each name is patched wherever the api looks it up: the package or its loading module.
    for module in (api, loading):
        for name in NETWORK:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, recorded(name, answers[name]))
        for name in READS:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))
    return made


def _refused(call: Callable[[], object], error: type[SfnTraceError], words: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert words in caught.value.message


def test_the_recorder_sees_a_fetch(calls: list[str]) -> None:
    """The control: a trace that may fetch the Lambda logs does, through the recorder."""
    api.trace(HISTORY, FIELD, definition=DEFINITION, file_logs=True, redact=True)
    assert calls == ["load_target_file", "_with_lambda_logs"]
    calls.clear()
    api.trace(HISTORY, FIELD, definition=DEFINITION, file_logs=True)
    assert calls == ["load_target_file", "_logs_fetch"]


@pytest.mark.parametrize("redact", [False, True])
@pytest.mark.parametrize("follow", [None, "all"])
def test_confirm_without_a_definition_is_refused_before_any_fetch(
    calls: list[str], redact: bool, follow: Any
) -> None:
    """Known once the file is read (a bundle would carry the definition), and before the
    Lambda logs or Map Runs are fetched (a redacted trace fetches the logs first)."""
    _refused(
        lambda: api.trace(
            HISTORY, FIELD, confirm=True, redact=redact, file_logs=True, follow_children=follow
        ),
        UsageError,
        "confirm=True needs the definition that ran",
    )
    assert calls == ["load_target_file"]


def test_expect_definition_without_a_definition_is_refused_before_any_fetch(
    calls: list[str],
) -> None:
    _refused(
        lambda: api.trace(HISTORY, FIELD, expect_definition=DEFINITION, file_logs=True),
        UsageError,
        "expect_definition= needs the definition that ran",
    )
    assert calls == ["read_definition", "load_target_file"]


@pytest.mark.parametrize("option", ["definition", "expect_definition"])
def test_an_unreadable_definition_is_refused_before_an_arn_is_fetched(
    calls: list[str], tmp_path: Path, option: str
) -> None:
    broken = tmp_path / "definition.asl.json"
    broken.write_text("{not json", encoding="utf-8")
    _refused(lambda: api.trace(EXECUTION, FIELD, **{option: broken}), InputError, str(broken))
    assert calls == ["read_definition"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"express_log_group": "/aws/vendedlogs/states/x"}, "express_log_group= needs an"),
        ({"follow_children": 0}, "follow_children= takes a positive number or 'all', not 0"),
        ({"follow_children": "some"}, "follow_children= takes a positive number"),
        ({"file_logs": True, "aws": AwsOptions(max_attempts=0)}, "max_attempts= must be"),
        ({"confirm": True, "aws": AwsOptions(timeout=0)}, "timeout= must be at least 1 second"),
    ],
)
def test_options_that_cannot_work_on_a_file_are_refused_before_it_is_read(
    calls: list[str], options: dict[str, Any], words: str
) -> None:
    _refused(lambda: api.trace(HISTORY, FIELD, **options), UsageError, words)
    if "confirm" not in options:  # load has no confirm
        _refused(lambda: api.load(HISTORY, **options), UsageError, words)
    assert calls == []


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"aws": AwsOptions(max_attempts=0)}, "max_attempts= must be at least 1, not 0"),
        ({"follow_children": -1}, "follow_children= takes a positive number"),
    ],
)
def test_options_that_cannot_work_on_an_arn_are_refused_before_the_fetch(
    calls: list[str], options: dict[str, Any], words: str
) -> None:
    _refused(lambda: api.trace(EXECUTION, FIELD, **options), UsageError, words)
    assert calls == []


def test_compare_checks_both_targets_before_tracing_either(
    calls: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"
    _refused(lambda: api.compare(HISTORY, missing, FIELD), UsageError, "nor an existing file")
    _refused(lambda: api.compare(EXECUTION, missing, FIELD), UsageError, "nor an existing file")
    _refused(
        lambda: api.compare(EXECUTION, OTHER + ":extra:parts", FIELD),
        UsageError,
        "execution ARN",
    )
    _refused(
        lambda: api.compare(EXECUTION, OTHER, FIELD, aws=AwsOptions(timeout=0.5)),
        UsageError,
        "timeout= must be at least 1 second",
    )
    assert calls == []


def test_scan_checks_its_options_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from sfn_trace.sources.aws import executions

    def client(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a client was made")

    monkeypatch.setattr(executions, "make_client", client)
    machine = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest"
    _refused(lambda: api.scan(machine, FIELD, limit=0), UsageError, "limit= must be at least 1")
    _refused(
        lambda: api.scan(machine, FIELD, aws=AwsOptions(max_attempts=0)),
        UsageError,
        "max_attempts= must be at least 1",
    )
    _refused(
        lambda: api.scan(machine, FIELD, since="2026-01-02T00:00:00Z", until="2026-01-01"),
        UsageError,
        "since= is after until=",
    )


@pytest.mark.parametrize("size", [0, -1, True])
def test_a_read_bound_below_one_byte_is_refused_before_any_read(
    calls: list[str], size: Any
) -> None:
    words = f"max_input= must be a number of bytes, at least 1, not {size!r}"
    _refused(lambda: api.trace(HISTORY, FIELD, max_input=size), UsageError, words)
    _refused(lambda: api.load(EXECUTION, max_input=size), UsageError, words)
    _refused(lambda: api.compare(HISTORY, HISTORY, FIELD, max_input=size), UsageError, words)
    _refused(lambda: api.lint([DEFINITION], FIELD, max_input=size), UsageError, words)
    assert calls == []
