"""A trace leaves no reference cycles behind: reference counting frees what it drops.

The program runs with the cyclic garbage collector off (sfn_trace.cli.main): that rests on
this. A cycle among the
structures a trace builds per visit (visit-tree nodes linked to their parents, a replay's
steps keeping bound methods of themselves) would be memory that only the collector frees,
growing with the history.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfn_trace import api
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
