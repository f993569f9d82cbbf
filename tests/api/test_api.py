"""api.trace's orchestration: what it overlaps and what it builds once (no AWS: the log
fetch is replaced by a function that answers from memory)."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import pytest

from sfn_trace import api
from sfn_trace.model.execution import LambdaLogs
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import logs
from tests.data import DEFINITION, fixture_history

analyze_module = importlib.import_module(
    "sfn_trace.trace.analyze"
)  # the package exports the function

FIELD = "poll_results_s3_key"
OPTIONS = AwsOptions(region="us-west-2")


def _trace_with_logs(**options: Any) -> api.TraceRun:
    return api.trace(
        fixture_history("flat_split_drops_key"),
        FIELD,
        definition=DEFINITION,
        aws=OPTIONS,
        file_logs=True,
        **options,
    )


def test_a_trace_that_reads_lambda_logs_builds_its_visit_tree_once(
    monkeypatch: pytest.MonkeyPatch, tree_builds: list[int]
) -> None:
    """The logs need the Lambda invocations (from the visits), and so does the analysis."""
    monkeypatch.setattr(logs, "fetch_lambda_logs", lambda *args, **kwargs: LambdaLogs())
    run = _trace_with_logs()
    assert run.result.logs_fetched
    assert len(tree_builds) == 1


def test_the_lambda_logs_are_fetched_while_the_replay_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fetch answers only once the replay has started (it waits for it, up to 10 s,
    never in a passing run): fetched before the replay, it would time out."""
    replay_started = threading.Event()
    real_replays = analyze_module._replays

    def replays(*args: Any) -> Any:
        replay_started.set()
        return real_replays(*args)

    def fetch(*args: Any, **kwargs: Any) -> LambdaLogs:
        if not replay_started.wait(10):
            raise AssertionError("the logs were fetched before the replay started")
        return LambdaLogs(warnings=("fetched during the replay",))

    monkeypatch.setattr(analyze_module, "_replays", replays)
    monkeypatch.setattr(logs, "fetch_lambda_logs", fetch)
    run = _trace_with_logs()
    assert "logs: fetched during the replay" in run.result.warnings
    assert run.data.lambda_logs is not None  # kept for --save-bundle


def test_an_error_while_fetching_the_logs_is_raised_by_the_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sfn_trace.errors import AwsError

    def fetch(*args: Any, **kwargs: Any) -> LambdaLogs:
        raise AwsError("logs: throttled")

    monkeypatch.setattr(logs, "fetch_lambda_logs", fetch)
    with pytest.raises(AwsError, match="logs: throttled"):
        _trace_with_logs()


def test_a_redacted_trace_fetches_the_logs_first_and_redacts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def fetch(*args: Any, **kwargs: Any) -> LambdaLogs:
        calls.append("fetched")
        return LambdaLogs()

    monkeypatch.setattr(logs, "fetch_lambda_logs", fetch)
    run = _trace_with_logs(redact=True)
    assert calls == ["fetched"]
    assert run.result.logs_fetched
