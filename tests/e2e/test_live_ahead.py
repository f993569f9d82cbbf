"""A live trace works while the history arrives (trace/ahead.py), end to end against moto:
the visit tree is the one followed page by page (never built again), every visit that
settled was replayed then and taken, and the result is the one a trace of the saved
history gives."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from fixtures.line_ingest.scenarios import SEED
from fixtures.line_ingest.scenarios import run as run_scenario
from sfn_trace import api
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import history as history_module

pytestmark = pytest.mark.moto_server
# The module, not the function of the same name the package exports.
analyze_module = importlib.import_module("sfn_trace.trace.analyze")
FIELD = "poll_results_s3_key"


@pytest.mark.usefixtures("aws_env")
def test_a_live_trace_replays_each_visit_as_its_page_arrives(
    lab: Any,
    monkeypatch: pytest.MonkeyPatch,
    tree_builds: list[int],
    early_replays_taken: list[bool],
) -> None:
    arn = run_scenario(lab, SEED, execution_name="")
    real_read_ahead = history_module.read_ahead

    def in_pages_of_7(pages: Any) -> Any:
        """moto answers the whole history at once: cut it as AWS would page it."""
        for page in real_read_ahead(pages):
            events = page.get("events", [])
            for start in range(0, len(events), 7):
                yield {**page, "events": events[start : start + 7]}

    monkeypatch.setattr(history_module, "read_ahead", in_pages_of_7)
    pages: list[int] = []
    run = api.trace(
        arn,
        FIELD,
        aws=AwsOptions(endpoint_url=lab.endpoint_url),
        logs=False,
        on_page=lambda page, events: pages.append(page),
    )
    assert len(pages) > 3
    assert tree_builds == [], "the tree followed page by page is the tree analysed"
    taken = early_replays_taken
    assert len(taken) == len(run.result.visits) and all(taken)

    whole = analyze_module.analyze(run.data, FIELD)  # the saved history, traced at once
    assert api.render(run.result, "json") == api.render(whole, "json")
    assert run.result.first_null is not None
    assert run.result.first_null.visit.state == "SplitIntoChunks"
