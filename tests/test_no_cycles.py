"""A trace leaves no reference cycles behind: reference counting frees what it drops.

The program runs with the cyclic garbage collector off (sfn_trace.cli.main): that rests on
this. A cycle among the
structures a trace builds per visit (visit-tree nodes linked to their parents, a replay's
steps keeping bound methods of themselves) would be memory that only the collector frees,
growing with the history. The same holds for what a scan reads over the network: botocore
makes a parser for every answer, and a cycle there would grow with the fleet.
"""

from __future__ import annotations

import gc
import inspect
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import fleet_server
from sfn_trace import api
from sfn_trace.checks.scan import ScanQuery, scan
from sfn_trace.model.options import AwsOptions
from tests.data import (
    DEFINITION,
    corpus_definition,
    corpus_history,
    fixture_history,
)

_HISTORIES = [
    (fixture_history("flat_split_drops_key"), DEFINITION, "poll_results_s3_key"),
    (
        corpus_history("test_base_scenarios__test_map_state_item_selector_MAP_STATE_ITEM_SELECTOR"),
        corpus_definition(
            "test_base_scenarios__test_map_state_item_selector_MAP_STATE_ITEM_SELECTOR"
        ),
        "bucket",
    ),
    (
        corpus_history("test_base_scenarios__test_map_state_legacy_reentrant"),
        corpus_definition("test_base_scenarios__test_map_state_legacy_reentrant"),
        "result",
    ),
]


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def _cyclic_garbage() -> list[object]:
    """What only the collector could free."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found = list(gc.garbage)
    gc.set_debug(0)
    gc.garbage.clear()
    return found


def _trace_and_report(history: Path, definition: Path | None, field: str) -> None:
    run = api.trace(history, field, definition=definition)
    for output_format in ("json", "markdown", "table", "csv"):
        api.render(run.result, output_format)


@pytest.mark.parametrize(("history", "definition", "field"), _HISTORIES)
def test_a_trace_and_its_reports_leave_no_cycles(
    history: Path, definition: Path | None, field: str, collector_off: None
) -> None:
    _trace_and_report(history, definition, field)  # first-time imports and caches
    _cyclic_garbage()
    _trace_and_report(history, definition, field)
    garbage = _cyclic_garbage()
    assert [_ours(o) for o in garbage if _ours(o)] == []


@pytest.fixture
def example_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS's documented example keys, and no profile of this machine."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("example_keys")
def test_a_scan_leaves_no_cycle_per_page_it_reads(collector_off: None) -> None:
    """A scan through real botocore clients (the loopback fleet server): what only the
    collector could free does not grow with the pages read. A scan of 59 executions reads
    89 history pages more than one of 6 and leaves (nearly) nothing more in cycles: one
    object in ten pages at most, where botocore's parser of each answer, in a cycle with a
    method bound to itself, left three per page. Both scans end the same way (one listing
    page, cut at the limit) and use one worker, so the same HTTP connections: the clients
    made for a scan, and their connection pools, are cyclic garbage once it ends."""
    with fleet_server.FleetServer(60, burst=400, rate=1000, latency=0.0) as server:
        options = AwsOptions(endpoint_url=server.endpoint_url, region=fleet_server.REGION)

        def cycles_of_a_scan(executions: int) -> list[object]:
            gc.collect()  # what came before is freed, not counted
            query = ScanQuery(fleet_server.STATE_MACHINE_ARN, fleet_server.FIELD, limit=executions)
            result = scan(query, options, workers=1, rate=1000, keep_rows=False)
            assert result.totals.executions == executions and result.totals.unreadable == 0
            return _cyclic_garbage()

        cycles_of_a_scan(3)  # first-time imports and caches
        before = server.stats()["answered"]["GetExecutionHistory"]
        few = cycles_of_a_scan(6)
        many = cycles_of_a_scan(59)
        pages = server.stats()["answered"]["GetExecutionHistory"] - before
    more_pages = fleet_server.expected_pages(59) - fleet_server.expected_pages(6)
    assert pages == fleet_server.expected_pages(6) + fleet_server.expected_pages(59)
    assert len(many) - len(few) <= more_pages // 10, _kinds(many, few)


def _kinds(many: list[object], few: list[object]) -> str:
    """What the bigger scan left in cycles that the smaller one did not, most first."""
    counts = Counter(type(thing).__qualname__ for thing in many)
    counts.subtract(Counter(type(thing).__qualname__ for thing in few))
    return ", ".join(f"{count} {kind}" for kind, count in counts.most_common(8) if count > 0)


def _ours(thing: object) -> str | None:
    """How ``thing`` belongs to sfn-trace: an instance of one of its classes, a function or
    frame of its code, a method bound to one of its objects (other libraries' garbage, such
    as the closures of the standard JSON encoder, is theirs)."""
    if type(thing).__module__.startswith("sfn_trace."):
        return f"a {type(thing).__qualname__}"
    if inspect.ismethod(thing) and type(thing.__self__).__module__.startswith("sfn_trace."):
        return f"a method bound to a {type(thing.__self__).__qualname__}"
    code = getattr(thing, "__code__", None) or getattr(thing, "f_code", None)
    if code is not None and "sfn_trace" in Path(code.co_filename).parts:
        return f"{type(thing).__name__} {code.co_name}"
    return None
