"""Histories that end before the execution does, or whose events do not fit together.

Never a silent definite verdict (issue 14, part 5; docs/design.md, "unknown,
partial_verdict and unseen"):

- a history without a terminal event says nothing about the execution still running: only
  a ``RUNNING`` status from DescribeExecution (a live trace) or from a bundle that recorded
  one does. Without it the history may be cut: the verdict is ``unknown`` (exit 4), even
  when what was seen is intact, ``partial_verdict`` says what was seen, ``first_null`` is
  reported once it happened, and one warning line says where the history ends;
- ids repeated with other content, ids that skip or come out of order, and a
  ``previousEventId`` that names no earlier event are history anomalies: ``unknown``, the
  partial verdict kept. An identical copy of an event is the same event: read once, with a
  warning, and the verdict stands. A file listing its events in another order (newest
  first) is sorted by id when read: nothing is missing, the report is the same.

Checked on the seed incident and the intact line-ingest fixture, cut after each event in
turn, through :func:`sfn_trace.trace.analyze` and the command line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData, ExecutionInfo, infer_info
from sfn_trace.sources.bundle import bundle_bytes, bundle_document
from sfn_trace.sources.files import history_data, load_history_file
from sfn_trace.trace import TraceResult, Verdict, analyze
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_history, corpus_names, fixture_history

FIELD = "poll_results_s3_key"
SEED = fixture_history("flat_split_drops_key")
INTACT = fixture_history("flat_intact")
ARN = "arn:aws:states:us-west-2:123456789012:execution:line-ingest-sf-dev-1554303:run-1"
PREFIX = "sfn-trace: "
WARNING = "sfn-trace: warning: "
UNENDED_CORPUS = {
    # Recorded while the execution had not ended (a Wait far in the future, a state that
    # never started): their files hold no terminal event.
    "test_base_scenarios__test_max_concurrency_path_negative",
    "test_wait__test_timestamp_too_far_in_future_boundary_24855",
}

Raw = list[dict[str, Any]]


def raw_events(path: Path) -> Raw:
    events: Raw = json.loads(path.read_text(encoding="utf-8"))["events"]
    return events


SEED_RAW = raw_events(SEED)
INTACT_RAW = raw_events(INTACT)


def from_file(raw: Raw) -> ExecutionData:
    """What the loader makes of a history file holding ``raw``."""
    return history_data({"events": raw}, "cut.history.json", None)


def live(raw: Raw, status: str | None) -> ExecutionData:
    """A live trace: DescribeExecution said ``status``."""
    events = events_from_api(raw)
    info = ExecutionInfo(arn=ARN, name="run-1", status=status, start=events[0].timestamp)
    return ExecutionData(info=info, events=events, source="aws")


def trace(data: ExecutionData) -> TraceResult:
    return analyze(data, FIELD)


def cut_warnings(result: TraceResult) -> list[str]:
    return [w for w in result.warnings if "without a terminal event" in w]


def end_of_history(result: TraceResult) -> bool:
    return any(u.document == "end of history" for u in result.unseen)


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


def invoke(path: Path, *args: str) -> Any:
    return runner.invoke(app, [str(path), "--field", FIELD, *args], catch_exceptions=False)


def write(path: Path, raw: Raw) -> Path:
    path.write_text(json.dumps({"events": raw}), encoding="utf-8")
    return path


def stderr_lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def warnings_and_reason(result: Any) -> tuple[list[str], str]:
    """Exit 4: warnings, then the one line that says why, last."""
    assert "Traceback" not in result.stderr
    *warnings, reason = stderr_lines(result)
    assert all(w.startswith(WARNING) for w in warnings), warnings
    assert reason.startswith(PREFIX + "incomplete: "), reason
    return warnings, reason


# --- what a history file says about its status ------------------------------------------------


def test_a_file_without_a_terminal_event_has_no_status() -> None:
    events = events_from_api(SEED_RAW[:5])
    assert infer_info(events).status is None
    assert infer_info(events).stop is None
    assert infer_info(events, unended="RUNNING").status == "RUNNING"
    assert infer_info(events_from_api(SEED_RAW)).status == "SUCCEEDED"
    assert from_file(SEED_RAW[:5]).info.status is None


def test_a_redrive_without_a_new_end_has_no_status() -> None:
    ended = [*SEED_RAW[:-1], {**SEED_RAW[-1], "type": "ExecutionFailed"}]
    ended[-1].pop("executionSucceededEventDetails", None)
    redriven = {
        "id": len(ended) + 1,
        "previousEventId": len(ended),
        "timestamp": ended[-1]["timestamp"],
        "type": "ExecutionRedriven",
        "executionRedrivenEventDetails": {"redriveCount": 1},
    }
    assert infer_info(events_from_api(ended)).status == "FAILED"
    assert infer_info(events_from_api([*ended, redriven])).status is None


# --- only ExecutionStarted ----------------------------------------------------------------------


def test_only_execution_started_is_unknown() -> None:
    result = trace(from_file(SEED_RAW[:1]))
    assert result.verdict is Verdict.UNKNOWN and result.exit_code == ExitCode.INCOMPLETE
    assert result.partial_verdict is Verdict.ABSENT
    assert result.final_source == "the execution input (no state exited)"
    assert result.first_null is None and result.lost_at is None
    assert result.execution.status is None and result.anomalies == ()
    assert [u.document for u in result.unseen] == ["end of history"]
    assert result.warnings == (
        "the history ends at event 1 (ExecutionStarted) without a terminal event: it may be "
        f"cut; what became of {FIELD} after that event is unknown",
    )


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_only_execution_started_exits_4_with_one_line_saying_what_is_missing(
    tmp_path: Path, fmt: str
) -> None:
    path = write(tmp_path / "started.history.json", SEED_RAW[:1])
    result = invoke(path, "--format", fmt)
    assert result.exit_code == ExitCode.INCOMPLETE
    warnings, reason = warnings_and_reason(result)
    assert warnings == [
        WARNING + "the history ends at event 1 (ExecutionStarted) without a terminal event: "
        f"it may be cut; what became of {FIELD} after that event is unknown"
    ]
    assert reason == (
        "sfn-trace: incomplete: the answer needs 1 document the history does not hold "
        "(history has no terminal event); partial verdict: absent"
    )


# --- cut after each event ----------------------------------------------------------------------


def test_the_seed_cut_after_each_event_is_never_definite() -> None:
    full = trace(from_file(SEED_RAW))
    assert full.verdict is Verdict.LOST and full.first_null is not None
    went_null = full.first_null.visit.exit_event_id
    assert went_null is not None
    for k in range(1, len(SEED_RAW)):
        result = trace(from_file(SEED_RAW[:k]))
        assert result.verdict is Verdict.UNKNOWN, k
        assert result.exit_code == ExitCode.INCOMPLETE
        assert end_of_history(result)
        assert cut_warnings(result) == [
            f"the history ends at event {k} ({SEED_RAW[k - 1]['type']}) without a terminal "
            f"event: it may be cut; what became of {FIELD} after that event is unknown"
        ]
        assert result.partial_verdict is not None and result.partial_verdict is not Verdict.UNKNOWN
        if k < went_null:
            assert result.first_null is None, k
            assert result.partial_verdict in (Verdict.ABSENT, Verdict.INTACT), k
        else:
            # Once the field went null, the cut history still says where.
            assert result.first_null is not None, k
            assert result.first_null.visit.seq == full.first_null.visit.seq
            assert result.first_null.became == full.first_null.became
            assert result.first_null.path == full.first_null.path
            assert result.partial_verdict is Verdict.LOST, k
            assert result.lost_at is not None
    assert not end_of_history(full) and not cut_warnings(full)


@pytest.mark.parametrize("k", range(1, len(SEED_RAW) + 1))
def test_the_seed_cut_after_each_event_on_the_command_line(tmp_path: Path, k: int) -> None:
    path = write(tmp_path / f"cut-{k}.history.json", SEED_RAW[:k])
    result = invoke(path, "--format", "json")
    document = json.loads(result.stdout)
    if k == len(SEED_RAW):
        assert result.exit_code == ExitCode.FINDING and document["verdict"] == "lost"
        assert result.stderr.strip() == ""
        return
    assert result.exit_code == ExitCode.INCOMPLETE
    assert document["verdict"] == "unknown" and document["partial_verdict"] is not None
    assert document["execution"]["status"] is None
    warnings, reason = warnings_and_reason(result)
    assert [w for w in warnings if "terminal event" in w] == [
        WARNING + f"the history ends at event {k} ({SEED_RAW[k - 1]['type']}) without a "
        f"terminal event: it may be cut; what became of {FIELD} after that event is unknown"
    ]
    assert reason.endswith(f"partial verdict: {document['partial_verdict']}")


def test_the_intact_fixture_cut_is_never_intact() -> None:
    assert trace(from_file(INTACT_RAW)).verdict is Verdict.INTACT
    partials = set()
    for k in range(1, len(INTACT_RAW)):
        result = trace(from_file(INTACT_RAW[:k]))
        assert result.verdict is Verdict.UNKNOWN, k
        assert result.exit_code == ExitCode.INCOMPLETE
        assert result.partial_verdict in (Verdict.ABSENT, Verdict.INTACT), k
        partials.add(result.partial_verdict)
    assert partials == {Verdict.ABSENT, Verdict.INTACT}


def test_a_cut_history_of_an_ended_execution_is_unknown_even_when_intact_so_far() -> None:
    cut = INTACT_RAW[:-3]
    result = trace(live(cut, "SUCCEEDED"))
    assert result.verdict is Verdict.UNKNOWN and result.partial_verdict is Verdict.INTACT
    assert end_of_history(result)
    last = cut[-1]
    assert cut_warnings(result) == [
        f"the history ends at event {last['id']} ({last['type']}) without a terminal event "
        f"although the execution is SUCCEEDED: it is cut; what became of {FIELD} after that "
        "event is unknown"
    ]


# --- a running execution: traced as far as it got -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SEED_RAW[:1], Verdict.ABSENT),
        (SEED_RAW[:-2], Verdict.LOST),
        (INTACT_RAW[:-2], Verdict.INTACT),
    ],
    ids=["only ExecutionStarted", "seed after the loss", "intact so far"],
)
def test_describe_execution_running_keeps_the_still_running_trace(
    raw: Raw, expected: Verdict
) -> None:
    result = trace(live(raw, "RUNNING"))
    assert result.verdict is expected and result.partial_verdict is None
    assert not end_of_history(result) and not cut_warnings(result)
    assert "the execution is still running (no terminal event): traced as far as it got" in (
        result.warnings
    )


def _bundle(tmp_path: Path, name: str, data: ExecutionData) -> Path:
    document = bundle_document(data, fetched_at=datetime(2025, 11, 17, tzinfo=timezone.utc))
    path = tmp_path / name
    path.write_bytes(bundle_bytes(document, compress=False))
    return path


def test_a_bundle_that_recorded_running_is_still_running(tmp_path: Path) -> None:
    running = _bundle(tmp_path, "running.bundle.json", live(SEED_RAW[:-2], "RUNNING"))
    result = invoke(running, "--format", "json")
    assert result.exit_code == ExitCode.FINDING
    assert json.loads(result.stdout)["verdict"] == "lost"
    assert "still running" in result.stderr

    cut = _bundle(tmp_path, "cut.bundle.json", from_file(SEED_RAW[:-2]))
    result = invoke(cut, "--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE
    document = json.loads(result.stdout)
    assert document["verdict"] == "unknown" and document["partial_verdict"] == "lost"
    warnings, _ = warnings_and_reason(result)
    assert [w for w in warnings if "without a terminal event" in w]


# --- events that do not fit together -------------------------------------------------------------


def _other_content(raw: Raw) -> Raw:
    """Event 11 twice: SplitIntoChunks' exit, then the same id with another output."""
    other = copy.deepcopy(raw[10])
    other["stateExitedEventDetails"]["output"] = "{}"
    return [*raw[:11], other, *raw[11:]]


def _dangling(raw: Raw) -> Raw:
    damaged = copy.deepcopy(raw)
    damaged[7]["previousEventId"] = 999
    return damaged


DAMAGE: dict[str, tuple[Callable[[Raw], Raw], str]] = {
    "an id repeated with other content": (
        _other_content,
        "duplicate event id 11 (TaskStateExited) with other content than the first event "
        "with that id (TaskStateExited); the first is kept",
    ),
    "a missing event": (
        lambda raw: [*raw[:4], *raw[5:]],
        "event 5 is missing: the ids skip from 4 to 6",
    ),
    "the first events missing": (
        lambda raw: raw[4:],
        "events 1 to 4 are missing: the history starts at 5",
    ),
    "a previousEventId that names no event": (
        _dangling,
        "event 8 (TaskScheduled) follows event 999 (previousEventId), which is not an "
        "earlier event of the history",
    ),
    "a previousEventId that names a later event": (
        lambda raw: [*raw[:7], {**raw[7], "previousEventId": 20}, *raw[8:]],
        "event 8 (TaskScheduled) follows event 20 (previousEventId), which is not an "
        "earlier event of the history",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_history_is_unknown_with_its_partial_verdict(damage: str) -> None:
    change, anomaly = DAMAGE[damage]
    result = trace(from_file(change(SEED_RAW)))
    assert result.verdict is Verdict.UNKNOWN and result.exit_code == ExitCode.INCOMPLETE
    assert result.partial_verdict is Verdict.LOST
    assert result.first_null is not None and result.first_null.visit.state == "SplitIntoChunks"
    assert "history anomaly: " + anomaly in result.warnings
    assert anomaly in result.anomalies
    assert any(w.startswith("the history is damaged (") for w in result.warnings)


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_history_exits_4_on_the_command_line(tmp_path: Path, damage: str) -> None:
    change, anomaly = DAMAGE[damage]
    path = write(tmp_path / "damaged.history.json", change(SEED_RAW))
    result = invoke(path, "--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE
    document = json.loads(result.stdout)
    assert document["verdict"] == "unknown" and document["partial_verdict"] == "lost"
    warnings, reason = warnings_and_reason(result)
    assert WARNING + "history anomaly: " + anomaly in warnings
    assert reason.endswith("partial verdict: lost")
    # The last line says why the answer is unknown: the damage, and the first anomaly.
    assert "the history is damaged (" in reason and anomaly in reason


def test_several_repeated_ids_make_one_line() -> None:
    damaged = _other_content(SEED_RAW)
    other = copy.deepcopy(SEED_RAW[14])
    other["type"] = "TaskFailed"
    damaged.append(other)
    tree = build_visits(events_from_api(damaged))
    repeated = [a for a in tree.anomalies if "duplicate event id" in a]
    assert repeated == [
        "duplicate event id 11 (TaskStateExited) with other content than the first event "
        "with that id (TaskStateExited); the first is kept (and 1 other id repeated)"
    ]


def test_identical_copies_are_one_event(tmp_path: Path) -> None:
    """A history assembled from overlapping pages: the copies carry nothing new."""
    copies = [*SEED_RAW, copy.deepcopy(SEED_RAW[10]), copy.deepcopy(SEED_RAW[-1])]
    seed, copied = trace(from_file(SEED_RAW)), trace(from_file(copies))
    assert copied.verdict is seed.verdict is Verdict.LOST
    assert copied.partial_verdict is None
    assert copied.first_null is not None and seed.first_null is not None
    assert copied.first_null.visit.seq == seed.first_null.visit.seq
    assert len(copied.visits) == len(seed.visits)
    assert copied.warnings == (
        "the history holds 2 identical copies of events it already lists: each event is read once",
        *seed.warnings,
    )
    assert build_visits(events_from_api(copies)).anomalies == ()

    result = invoke(write(tmp_path / "copies.history.json", copies), "--format", "json")
    plain = invoke(SEED, "--format", "json")
    assert result.exit_code == plain.exit_code == ExitCode.FINDING
    document, expected = json.loads(result.stdout), json.loads(plain.stdout)
    assert document.pop("warnings") == [
        "the history holds 2 identical copies of events it already lists: each event is read once"
    ]
    expected.pop("warnings")
    assert document == expected


def test_ids_out_of_order_in_a_file_are_sorted(tmp_path: Path) -> None:
    """A file may list its events newest first, or in any order: the loader sorts them by
    id, nothing is missing, and the report is the same."""
    swapped = [*SEED_RAW[:5], SEED_RAW[6], SEED_RAW[5], *SEED_RAW[7:]]
    forward = invoke(SEED, "--format", "json")
    for order in (swapped, SEED_RAW[::-1]):
        result = invoke(write(tmp_path / "order.history.json", order), "--format", "json")
        assert result.exit_code == forward.exit_code == ExitCode.FINDING
        assert result.stdout == forward.stdout
        assert result.stderr == forward.stderr


def test_events_handed_over_out_of_id_order_are_an_anomaly() -> None:
    """The loaders sort by id; events handed to the trace in another order do not fit."""
    events = events_from_api(SEED_RAW)
    shuffled = (*events[:5], events[6], events[5], *events[7:])
    tree = build_visits(shuffled)
    assert tree.anomalies[0] == (
        "event 6 (TaskStateExited) comes after event 7: the events are not in id order"
    )
    data = ExecutionData(info=infer_info(events), events=shuffled)
    result = trace(data)
    assert result.verdict is Verdict.UNKNOWN and result.partial_verdict is Verdict.LOST


# --- the recorded corpus -------------------------------------------------------------------------


def test_the_recorded_corpus_is_complete_but_for_two_unended_histories() -> None:
    unended = set()
    for name in corpus_names():
        data = load_history_file(corpus_history(name))
        tree = build_visits(data.events, data.definition)
        assert tree.anomalies == (), name
        if tree.terminal is None:
            unended.add(name)
            assert data.info.status is None
            result = trace(data)
            assert result.verdict is Verdict.UNKNOWN and end_of_history(result), name
    assert unended == UNENDED_CORPUS
