"""Property-based tests: odd and damaged event sequences never break the pipeline.

Each example builds a history the way AWS writes one (Pass, Lambda tasks with retries and
catches, Map iterations and Parallel branches interleaved, a terminal event or none), then
damages it: ids shuffled, exits removed, orphan events, unknown types, duplicate ids, bad
timestamps, payloads that are not JSON or are cut or flagged ``truncated``, documents nested
thousands of levels deep, huge strings, unicode keys, and tracked field names with dots,
brackets, quotes or ``$``. It goes through :func:`sfn_trace.model.events.events_from_api`,
:func:`sfn_trace.trace.analyze` and every trace renderer of :data:`sfn_trace.report.RENDERERS`,
and must never raise. A payload that was cut, flagged truncated, or is not JSON although it
mentions the field must come out ``unknown`` (never ``null``/``missing``/``set``): the
truth cannot be known from it (docs/design.md, "Field semantics"; issue 7).

Deterministic: ``derandomize=True`` and a fixed number of examples, no example database.
The payload pre-check gaps found here are pinned by the tests at the end.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfn_trace.model.definition import Definition
from sfn_trace.model.events import HistoryEvent, Payload, events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.snapshot import Status
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.trace import Verdict, analyze

FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Field names a user may well pass: plain, JSONPath-looking, quoted, unicode.
FIELDS = st.sampled_from(
    [
        "poll_results_s3_key",
        "a.b",
        "items[0]",
        "$.x",
        "$",
        "it's",
        'say "hi"',
        "back\\slash",
        "ключ",
        "キー",
        "emoji🔑",
        "with space",
        "[*]",
        "..",
    ]
)
KEYS = st.one_of(
    st.sampled_from(["a", "data", "Payload", "items", "$", "a.b", "x'y", 'q"', "ü", "🔑"]),
    st.text(max_size=6),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
NAMES = st.sampled_from(["Step", "Task A", "Map", "Par", "ステップ", "a.b", "x'y", "Step"])


def documents(field: str) -> st.SearchStrategy[Any]:
    """JSON documents in which ``field`` occurs often, at any depth, set or null."""
    keys = st.one_of(KEYS, st.just(field), st.just(field))
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=4),
        ),
        max_leaves=12,
    )


# --- building histories the AWS way ----------------------------------------------------


class Builder:
    """Events with symbolic keys and predecessors; ids are given in emission order."""

    def __init__(self) -> None:
        self._keys = itertools.count(1)

    def event(self, type_: str, prev: int, details: dict[str, Any] | None = None) -> dict:
        event: dict[str, Any] = {"_k": next(self._keys), "_p": prev, "type": type_}
        if details is not None:
            event[_member(type_)] = details
        return event


def _member(type_: str) -> str:
    for suffix, member in (
        ("StateEntered", "stateEnteredEventDetails"),
        ("StateExited", "stateExitedEventDetails"),
    ):
        if type_.endswith(suffix):
            return member
    return type_[0].lower() + type_[1:] + "EventDetails"


def text(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


@st.composite
def interleave(draw: Any, fragments: list[list[dict]]) -> list[dict]:
    """Concurrent threads' events in one timeline, each thread's order kept."""
    tokens = [i for i, fragment in enumerate(fragments) for _ in fragment]
    order = draw(st.permutations(tokens))
    cursors = [0] * len(fragments)
    merged = []
    for thread in order:
        merged.append(fragments[thread][cursors[thread]])
        cursors[thread] += 1
    return merged


@st.composite
def state(draw: Any, b: Builder, prev: int, field: str, depth: int) -> tuple[list[dict], int, bool]:
    """One state visit's events: (events, key of its last event, whether it exited)."""
    docs = documents(field)
    name = draw(NAMES)
    kinds = ["Pass", "Task", "Task", "Choice"] + (["Map", "Parallel"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    entered = b.event(f"{kind}StateEntered", prev, {"name": name, "input": text(draw(docs))})
    events = [entered]
    last = entered["_k"]
    exits = True
    if kind == "Task":
        retries = draw(st.integers(0, 2))
        # Only a top-level Task fails the execution; inner flows always complete here.
        outcomes = ["succeeded", "succeeded", "caught"] + (["uncaught"] if depth == 0 else [])
        outcome = draw(st.sampled_from(outcomes))
        for attempt in range(retries + 1):
            final = attempt == retries
            scheduled = b.event(
                "TaskScheduled",
                last,
                {
                    "resourceType": "lambda",
                    "resource": "invoke",
                    "region": "us-west-2",
                    "parameters": text({"FunctionName": "fn", "Payload": draw(docs)}),
                },
            )
            started = b.event("TaskStarted", scheduled["_k"], {"resource": "invoke"})
            events += [scheduled, started]
            if final and outcome == "succeeded":
                result = {"Payload": draw(docs), "SdkResponseMetadata": {"RequestId": "r-1"}}
                end = b.event("TaskSucceeded", started["_k"], {"output": text(result)})
            else:
                cause = text({"errorMessage": "boom", "errorType": "E", "requestId": "r-2"})
                end = b.event("TaskFailed", started["_k"], {"error": "E", "cause": cause})
            events.append(end)
            last = end["_k"]
        exits = outcome != "uncaught"
    elif kind in ("Map", "Parallel"):
        count = draw(st.integers(1, 3))  # Map iterations or Parallel branches
        started = b.event(f"{kind}StateStarted", last, {"length": count} if kind == "Map" else None)
        events.append(started)
        threads = []
        for index in range(count):
            thread: list[dict] = []
            tprev = started["_k"]
            if kind == "Map":
                begin = b.event("MapIterationStarted", tprev, {"name": name, "index": index})
                thread.append(begin)
                tprev = begin["_k"]
            for _ in range(draw(st.integers(1, 2))):
                inner, tprev, inner_exits = draw(state(b, tprev, field, depth + 1))
                thread += inner
                if not inner_exits:
                    break
            if kind == "Map":
                thread.append(
                    b.event("MapIterationSucceeded", tprev, {"name": name, "index": index})
                )
            threads.append((thread, tprev))
        merged = draw(interleave([t for t, _ in threads]))
        events += merged
        last = merged[-1]["_k"]  # the branch or iteration that finished last
        events.append(b.event(f"{kind}StateSucceeded", last))
    if exits:
        exited = b.event(f"{kind}StateExited", last, {"name": name, "output": text(draw(docs))})
        events.append(exited)
        last = exited["_k"]
    return events, last, exits


@st.composite
def histories(draw: Any, field: str) -> list[dict[str, Any]]:
    """A well-formed history (ids 1..N, previousEventId chains), before any damage."""
    b = Builder()
    docs = documents(field)
    first = b.event("ExecutionStarted", 0, {"input": text(draw(docs)), "roleArn": "r"})
    events = [first]
    prev = 0  # the first StateEntered points at 0, like ExecutionStarted
    exited = True
    for _ in range(draw(st.integers(0, 4))):
        visit, prev, exited = draw(state(b, prev, field, 0))
        events += visit
        if not exited:
            break
    terminal = draw(st.sampled_from(["Succeeded", "Failed", "Aborted", "none"]))
    if terminal == "Succeeded" and exited:
        events.append(b.event("ExecutionSucceeded", prev, {"output": text(draw(docs))}))
    elif terminal in ("Failed", "Aborted") or not exited:
        ending = terminal if terminal in ("Failed", "Aborted") else "Failed"
        events.append(b.event(f"Execution{ending}", prev, {"error": "E", "cause": "c"}))
    ids = {event["_k"]: position for position, event in enumerate(events, start=1)}
    stamps = draw(st.sampled_from(["iso", "epoch", "mixed"]))
    for position, event in enumerate(events, start=1):
        key, prev_key = event.pop("_k"), event.pop("_p")
        event["id"] = ids[key]
        event["previousEventId"] = ids.get(prev_key, 0)
        seconds = 1_763_358_539 + position * 0.037
        event["timestamp"] = (
            seconds
            if stamps == "epoch" or (stamps == "mixed" and position % 2)
            else f"2025-11-17T05:48:{position % 60:02d}.{position % 1000:03d}+00:00"
        )
    return events


# --- damage -----------------------------------------------------------------------------

_PAYLOAD_KEYS = ("input", "output")


def _payload_slots(events: list[dict]) -> list[tuple[dict, str]]:
    slots = []
    for event in events:
        for member, details in event.items():
            if member.endswith("EventDetails") and isinstance(details, dict):
                slots += [(details, k) for k in _PAYLOAD_KEYS if isinstance(details.get(k), str)]
    return slots


@st.composite
def corrupt_payloads(draw: Any, events: list[dict], field: str) -> set[str]:
    """Damage some payloads in place; returns the texts that must read as ``unknown``."""
    spelled = json.dumps(field, ensure_ascii=False)
    must_be_unknown: set[str] = set()
    slots = _payload_slots(events)
    if not slots:
        return must_be_unknown
    chosen = draw(st.lists(st.sampled_from(range(len(slots))), max_size=6, unique=True))
    for index in chosen:
        details, key = slots[index]
        how = draw(
            st.sampled_from(
                ["not_json", "not_json_closed", "cut", "flag", "deep", "huge", "unicode"]
            )
        )
        if how == "not_json":
            garbage = draw(st.text(max_size=30))
            details[key] = "{" + spelled + ": " + garbage + " <not json"
            must_be_unknown.add(details[key])
        elif how == "not_json_closed":
            details[key] = "{" + spelled + ": oops}"
            must_be_unknown.add(details[key])
        elif how == "cut":
            # The field is in the part that stays: what was cut away cannot be known.
            whole = text({field: draw(SCALARS), "rest": draw(documents(field)), "end": 1})
            at = draw(st.integers(whole.index(spelled) + len(spelled), len(whole) - 1))
            details[key] = whole[:at]
            must_be_unknown.add(details[key])
        elif how == "flag":
            details[f"{key}Details"] = {"truncated": draw(st.sampled_from([True, "true"]))}
        elif how == "deep":
            depth = draw(st.sampled_from([50, 400, 900, 990, 1500, 5000]))
            inner = text({field: "deep"})
            details[key] = '{"a":' + "[" * depth + inner + "]" * depth + "}"
        elif how == "huge":
            size = draw(st.sampled_from([10_000, 300_000]))
            details[key] = text({field: "x" * size, "pad": "y" * size})
        else:
            details[key] = text({"ключ": {field: "値"}, "🔑": [{field: None}], "\u0000": 1})
    return must_be_unknown


@st.composite
def damage(draw: Any, events: list[dict]) -> list[dict]:
    """Structural damage: the pipeline must cope, attributing what it can."""
    events = [dict(e) for e in events]
    n = len(events)
    if draw(st.booleans()):  # some exits never happened
        exits = [i for i, e in enumerate(events) if e["type"].endswith("StateExited")]
        drop = set(draw(st.lists(st.sampled_from(exits), max_size=3))) if exits else set()
        events = [e for i, e in enumerate(events) if i not in drop]
    extra: list[dict] = []
    for _ in range(draw(st.integers(0, 3))):  # orphans pointing at nothing
        type_ = draw(
            st.sampled_from(
                [
                    "TaskSucceeded",
                    "TaskFailed",
                    "PassStateExited",
                    "MapIterationSucceeded",
                    "MapIterationStarted",
                    "ParallelStateSucceeded",
                    "MapStateFailed",
                    "TaskStateAborted",
                    "EvaluationFailed",
                    "ExecutionRedriven",
                    "TaskStateEntered",
                ]
            )
        )
        details = {"name": draw(NAMES), "index": draw(st.integers(-1, 5)), "output": "{}"}
        extra.append(
            {
                "id": n + 100 + len(extra),
                "type": type_,
                "previousEventId": draw(st.sampled_from([10**6, -1, n + 100 + len(extra)])),
                _member(type_): details,
            }
        )
    for _ in range(draw(st.integers(0, 2))):  # types this version does not know
        extra.append(
            {
                "id": n + 200 + len(extra),
                "type": draw(st.sampled_from(["FutureStateEntered", "Foo", ""])),
                "previousEventId": draw(st.integers(0, n)),
                "futureEventDetails": {"input": "{}", "name": "X"},
            }
        )
    if events and draw(st.booleans()):  # duplicate ids
        for original in draw(st.lists(st.sampled_from(events), max_size=3)):
            copy = dict(original)
            if draw(st.booleans()):
                copy["type"] = draw(st.sampled_from(["PassStateEntered", "TaskSucceeded"]))
            extra.append(copy)
    events += extra
    if events and draw(st.booleans()):  # ids shuffled: chains now point at the wrong events
        ids = [e["id"] for e in events]
        for event, new_id in zip(events, draw(st.permutations(ids)), strict=True):
            event["id"] = new_id
    if events and draw(st.booleans()):  # timestamps of every shape
        for event in draw(st.lists(st.sampled_from(events), max_size=4)):
            event["timestamp"] = draw(
                st.sampled_from([None, "yesterday", "", True, 1e300, -1, "2025-13-45T99:00:00Z"])
            )
    return draw(st.permutations(events))


# --- the properties -------------------------------------------------------------------------


def run_pipeline(raw: list[dict], field: str, definition: Definition | None = None) -> Any:
    events = events_from_api(raw)
    data = ExecutionData(info=infer_info(events), events=events, definition=definition)
    result = analyze(data, field)
    for output_format in TraceFormat:
        rendered = render(Command.TRACE, output_format, result)
        assert isinstance(rendered, str) and rendered.endswith("\n")
        if output_format is TraceFormat.JSON:
            document = json.loads(rendered)
            assert document["verdict"] in {v.value for v in Verdict}
            assert len(document["visits"]) == len(result.visits)
    return result


def assert_unknown_where_unseeable(result: Any, must_be_unknown: set[str]) -> None:
    for trace in result.visits:
        visit = trace.visit
        documents = [(visit.input, trace.input)]
        if visit.exited:
            documents.append((visit.output, trace.output))
        for payload, snapshot in documents:
            if payload is None:
                continue
            if payload.truncated or payload.text in must_be_unknown:
                assert snapshot.status is Status.UNKNOWN, (
                    f"{visit.state} {payload!r} read as {snapshot.status.value}"
                )


@FUZZ
@given(data=st.data())
def test_well_formed_histories_trace_and_render(data: Any) -> None:
    field = data.draw(FIELDS)
    raw = data.draw(histories(field))
    result = run_pipeline(raw, field)
    entered = sum(1 for e in raw if e["type"].endswith("StateEntered"))
    assert len(result.visits) == entered, "one visit per StateEntered"
    anomalies = [w for w in result.warnings if "anomal" in w]
    assert not anomalies, anomalies


@FUZZ
@given(data=st.data())
def test_damaged_payloads_read_as_unknown(data: Any) -> None:
    field = data.draw(FIELDS)
    raw = data.draw(histories(field))
    must_be_unknown = data.draw(corrupt_payloads(raw, field))
    result = run_pipeline(raw, field)
    assert_unknown_where_unseeable(result, must_be_unknown)
    if must_be_unknown and result.verdict is not Verdict.UNKNOWN:
        # Unseen documents may only leave a verdict standing when it is "intact".
        assert result.verdict is Verdict.INTACT or not result.unseen


@FUZZ
@given(data=st.data())
def test_damaged_histories_never_raise(data: Any) -> None:
    field = data.draw(FIELDS)
    raw = data.draw(histories(field))
    must_be_unknown = data.draw(corrupt_payloads(raw, field))
    raw = data.draw(damage(raw))
    result = run_pipeline(raw, field)
    assert_unknown_where_unseeable(result, must_be_unknown)


@FUZZ
@given(data=st.data())
def test_damaged_histories_with_a_definition_never_raise(data: Any) -> None:
    field = data.draw(FIELDS)
    raw = data.draw(damage(data.draw(histories(field))))
    names = sorted(
        {
            d["name"]
            for e in raw
            for k, d in e.items()
            if k == "stateEnteredEventDetails" and isinstance(d.get("name"), str)
        }
    )
    states: dict[str, Any] = {
        name: {"Type": "Pass", "Parameters": {f"{field}.$": f"$.{field}"}, "End": True}
        for name in names
    }
    if names:
        states[names[0]] = {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": True}}}],
            "End": True,
        }
    definition = Definition.from_text(
        json.dumps(
            {"StartAt": names[0] if names else "S", "States": states or {"S": {"Type": "Succeed"}}}
        )
    )
    run_pipeline(raw, field, definition)


# --- single payloads: the pre-check that skips documents without the field ------------------


def snapshot_status(payload_text: str, field: str = "poll_results_s3_key") -> Status:
    """The input status of one Pass visit whose input text is ``payload_text``."""
    raw = [
        {
            "id": 1,
            "type": "ExecutionStarted",
            "previousEventId": 0,
            "executionStartedEventDetails": {"input": "{}"},
        },
        {
            "id": 2,
            "type": "PassStateEntered",
            "previousEventId": 0,
            "stateEnteredEventDetails": {"name": "P", "input": payload_text},
        },
    ]
    result = analyze(
        ExecutionData(info=infer_info(events_from_api(raw)), events=events_from_api(raw)), field
    )
    return result.visits[0].input.status


@pytest.mark.parametrize(
    "payload_text",
    [
        '{"poll_results_s3_key": "a", "x": ',
        '{"poll_results_s3_key": oops}',
        '{"poll_results_s3_key":' + "[" * 10_001 + "]" * 10_001 + "}",
    ],
    ids=["cut", "not JSON, closed", "too deep to parse"],
)
def test_unreadable_payloads_that_mention_the_field_are_unknown(payload_text: str) -> None:
    assert snapshot_status(payload_text) is Status.UNKNOWN


@pytest.mark.parametrize(
    "payload_text", ["not json at all", "<html>502 Bad Gateway</html>"], ids=["prose", "html"]
)
def test_non_json_payload_without_the_field_is_unknown(payload_text: str) -> None:
    assert snapshot_status(payload_text) is Status.UNKNOWN


def test_payload_cut_after_a_nested_object_is_unknown() -> None:
    whole = '{"meta":{"a":1},"poll_results_s3_key":"k"}'
    cut = whole[: whole.index("}") + 1]  # '{"meta":{"a":1}'
    assert cut.endswith("}") and "poll_results_s3_key" not in cut
    assert snapshot_status(cut) is Status.UNKNOWN


def test_payload_helpers_agree_with_the_property_tests() -> None:
    """The fuzz tests rely on these Payload facts; if they change, revisit the tests."""
    assert Payload('{"a":1', truncated=False).looks_complete() is False
    assert Payload("x", truncated=True).truncated
    assert isinstance(HistoryEvent.from_api({"id": 1, "type": "Foo"}), HistoryEvent)
