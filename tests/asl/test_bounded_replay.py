"""The replay within bounds: expressions written to run forever or to grow toward gigabytes.

Each case is built here: a state whose expression a definition from someone else could hold,
between two ordinary states. The hostile visit is ``not_replayed``, fault ``sfn_trace``, with
a reason that names the bound (sfn_trace/asl/budgets.py), or, where AWS documents a limit of
its own, fails as AWS fails; the ordinary visits still match. The bounds are counts, never
times, so every case ends the same way on any machine; the end-to-end case runs the command
under a 2 GiB address-space limit, with a time-out only as a safety net.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.asl import budgets, jsonata_eval
from sfn_trace.asl.jsonpath import Roots, read
from sfn_trace.model import jsontext
from sfn_trace.model.replay import Fault, Replay, ReplayStatus
from tests.asl.test_replay_features import machine, replay_events
from tests.data import ROOT
from tests.history_builder import History

DOCUMENT = {"id": "a-1", "n": 3}
BUDGET = "(sfn-trace's replay budget)"


def jsonata(expression: str) -> dict[str, Any]:
    return {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% " + expression + " %}"}


def between(state: dict[str, Any]) -> dict[str, Any]:
    """``Before`` → ``Hostile`` (``state``) → ``After``: two ordinary states around it."""
    return machine(
        Before={"Type": "Pass", "Parameters": {"id.$": "$.id", "n.$": "$.n"}, "Next": "Hostile"},
        Hostile={**state, "Next": "After"},
        After={
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% $states.input ~> |$|{'done': true}| %}",
            "End": True,
        },
    )


def run(state: dict[str, Any], hostile_input: str | None = None) -> dict[str, Replay]:
    """The three visits replayed; ``hostile_input`` is the Hostile state's input as JSON text
    (a document nested deeper than the history builder's encoder goes)."""
    h = History()
    h.start(DOCUMENT)
    h.pass_state("Before", DOCUMENT, DOCUMENT)
    h.add("PassStateEntered", name="Hostile", input=DOCUMENT)
    if hostile_input is not None:
        h.events[-1]["stateEnteredEventDetails"]["input"] = hostile_input
    h.add("PassStateExited", name="Hostile", output=DOCUMENT)
    h.pass_state("After", DOCUMENT, {**DOCUMENT, "done": True})
    h.succeed({**DOCUMENT, "done": True})
    replays = replay_events(between(state), h.events)
    return {r.state: r for r in replays}


def stopped(state: dict[str, Any], hostile_input: str | None = None) -> str:
    """The reason the Hostile visit was not replayed; the others match."""
    replays = run(state, hostile_input)
    assert replays["Before"].status is ReplayStatus.MATCH
    assert replays["After"].status is ReplayStatus.MATCH
    hostile = replays["Hostile"]
    assert hostile.status is ReplayStatus.NOT_REPLAYED, hostile.reason
    assert hostile.fault is Fault.SFN_TRACE
    assert hostile.reason is not None
    assert hostile.reason.startswith("sfn-trace cannot reproduce this step: ")
    assert hostile.reason.endswith(BUDGET) or "payload limit" in hostile.reason
    return hostile.reason


def nested(levels: int, leaf: str = "1") -> str:
    return '{"x":' * levels + leaf + "}" * levels


# --- JSONata --------------------------------------------------------------------------------


def test_a_self_recursive_function_stops_after_its_steps() -> None:
    reason = stopped(jsonata("($f := function($n) { $f($n + 1) }; $f(0))"))
    assert f"after {budgets.JSONATA_STEPS:,} steps" in reason


def test_a_deep_recursion_stops_at_its_depth() -> None:
    reason = stopped(jsonata("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))"))
    assert f"{budgets.JSONATA_DEPTH} levels deep" in reason


@pytest.mark.parametrize(
    "expression",
    [
        "$count([1..10000000].[1..10000000])",
        "$count([1..1e7] ~> $map(function($x) { [1..1e7] }))",
        "$count([1..3000000].[1..3000000])",
    ],
)
def test_a_range_product_stops_at_its_items(expression: str) -> None:
    assert f"making {budgets.JSONATA_ITEMS:,} array items" in stopped(jsonata(expression))


def test_pad_to_a_billion_characters_is_not_built() -> None:
    reason = stopped(jsonata("$pad('x', 1000000000)"))
    assert f"$pad would build a string of more than {budgets.JSONATA_STRING:,}" in reason
    assert "$pad would build" in stopped(jsonata("$pad('x', -1e300)"))


def test_join_of_many_long_strings_is_not_built() -> None:
    expression = "$join($map([1..100], function($i) { $pad('', 200000) }))"
    assert "$join would build" in stopped(jsonata(expression))


def test_string_of_one_document_repeated_is_not_built() -> None:
    names = zip("sabcdefg", "abcdefgh", strict=True)
    doubled = "; ".join(f"${b} := [${a}, ${a}]" for a, b in names)
    expression = f"($s := $pad('', 100000); {doubled}; $string($h))"
    assert "$string would build" in stopped(jsonata(expression))


def test_replace_that_multiplies_a_string_is_not_built() -> None:
    expression = "$replace($pad('', 100000, 'a'), 'a', $pad('', 1000, 'b'))"
    assert "$replace would build" in stopped(jsonata(expression))


def test_a_doubling_string_stops_at_its_characters() -> None:
    expression = "($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('x', 40))"
    assert f"making {budgets.JSONATA_CHARACTERS:,} characters" in stopped(jsonata(expression))


def test_distinct_of_a_long_array_is_not_compared_item_by_item() -> None:
    assert "$distinct of more than" in stopped(jsonata("$distinct([1..100000])"))


def test_a_variable_that_would_hide_the_meter_is_not_evaluated() -> None:
    hostile = jsonata("($__evaluate_entry := $nothing; $f := function($n) { $f($n) }; $f(0))")
    replays = run(hostile)
    assert replays["Hostile"].status is ReplayStatus.NOT_REPLAYED
    assert "__evaluate_" in (replays["Hostile"].reason or "")
    assert replays["After"].status is ReplayStatus.MATCH


def test_one_execution_shares_a_budget_of_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loops of 409 steps against 1,000 steps an expression and 1,000 an execution: the
    first two run to their end, the third stops at the execution's budget, and after it
    nothing is evaluated (the bounds are made small here so that the case stays fast)."""
    monkeypatch.setattr(jsonata_eval, "JSONATA_STEPS", 1000)
    monkeypatch.setattr(jsonata_eval, "JSONATA_EXECUTION_STEPS", 1000)
    loop = "$count($map([1..400], function($i) { $i }))"
    with jsonata_eval.execution_budget():
        first = jsonata_eval.evaluate(loop, {}, {})
        second = jsonata_eval.evaluate(loop, {}, {})
        with pytest.raises(budgets.OverBudget, match="took 1,000 steps together"):
            jsonata_eval.evaluate(loop, {}, {})
        with pytest.raises(budgets.OverBudget, match="used up their budget"):
            jsonata_eval.evaluate("1 + 1", {}, {})
    assert first == second == 400
    assert jsonata_eval.evaluate(loop, {}, {}) == 400  # outside, each has its own


def test_ordinary_expressions_are_untouched() -> None:
    states = {"input": {"items": [{"p": i, "t": ["a", "b"]} for i in range(50)]}}
    value = jsonata_eval.evaluate(
        "$states.input.items[p > 40].{'p': p, 's': $join(t, '-') & $string(p), "
        "'w': $pad($string(p), 5, '#'), 'r': $replace('a.b', '.', '/')}",
        states,
        {},
    )
    assert value[0] == {"p": 41, "s": "a-b41", "w": "41###", "r": "a/b"}
    assert jsonata_eval.evaluate("$distinct([1, 1, 2])", states, {}) == [1, 2]


def test_a_regular_expression_that_backtracks_for_ages_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``(.*){1,32000}[bc]`` on fifty a's backtracks for minutes; each use of a pattern is
    bounded (the bound is lowered here so that the test takes a fraction of a second)."""
    monkeypatch.setattr(jsonata_eval, "REGEX_SECONDS", 0.2)
    for function in ("$match", "$contains", "$split", "$replace"):
        extra = ", 'x'" if function == "$replace" else ""
        text = f"{function}('{'a' * 50}', /(.*){{1,32000}}[bc]/{extra})"
        reason = stopped(jsonata(text))
        assert f"a regular expression ran for more than 0.2 s {BUDGET}" in reason, function


def test_regular_expressions_read_as_before() -> None:
    states = {"input": {"s": "a1B2c3"}}
    assert jsonata_eval.evaluate("$match($states.input.s, /[a-z]([0-9])/)", states, {}) == [
        {"match": "a1", "index": 0, "groups": ["1"]},
        {"match": "c3", "index": 4, "groups": ["3"]},
    ]
    assert jsonata_eval.evaluate("$contains($states.input.s, /b2/i)", states, {}) is True
    assert jsonata_eval.evaluate("$split($states.input.s, /[0-9]/)", states, {}) == [
        "a",
        "B",
        "c",
        "",
    ]
    assert jsonata_eval.evaluate("$replace($states.input.s, /[0-9]/, '#')", states, {}) == (
        "a#B#c#"
    )


# --- JSONPath -------------------------------------------------------------------------------


def test_a_deep_recursive_descent_stops_at_its_nodes() -> None:
    state = {"Type": "Pass", "Parameters": {"r.$": "$..x"}}
    reason = stopped(state, nested(5000))
    assert f"$..x visits more than {budgets.DESCENT_NODES:,} nodes" in reason
    assert "$..* visits more than" in stopped(
        {**state, "Parameters": {"r.$": "$..*"}}, nested(5000)
    )


def test_a_wide_recursive_descent_stops_at_its_nodes() -> None:
    wide = json.dumps({f"k{i}": {f"m{j}": j for j in range(1000)} for i in range(1000)})
    assert "visits more than" in stopped({"Type": "Pass", "Parameters": {"r.$": "$..*"}}, wide)


def test_a_recursive_descent_within_its_budget_reads_as_before() -> None:
    document = {"a": {"x": 1, "b": [{"x": 2}, {"y": {"x": 3}}]}, "x": 0}
    assert read("$..x", Roots(document)) == [0, 1, 2, 3]
    chain = jsontext.loads(nested(1000))  # 1,000 matches of 500,500 nodes in all: within
    assert len(read("$..x", Roots(chain))) == 1000


# --- intrinsics -----------------------------------------------------------------------------


def failing(state: dict[str, Any], error: str, cause: str) -> Replay:
    """Before → Hostile, whose replay fails; the execution failed there as recorded."""
    h = History()
    h.start(DOCUMENT)
    h.pass_state("Before", DOCUMENT, DOCUMENT)
    entered = h.add("PassStateEntered", name="Hostile", input=DOCUMENT)
    h.add("ExecutionFailed", error=error, cause=cause)
    replays = {r.state: r for r in replay_events(between(state), h.events)}
    assert entered == 4
    assert replays["Before"].status is ReplayStatus.MATCH
    return replays["Hostile"]


def test_array_range_past_aws_limit_fails_as_aws_fails_before_it_is_made() -> None:
    state = {"Type": "Pass", "Parameters": {"r.$": "States.ArrayRange(0, 1000000000000000, 1)"}}
    cause = (
        "An error occurred while executing the state 'Hostile' (entered at the event id #4). "
        "States.ArrayRange: the range holds more than 1000 items"
    )
    replay = failing(state, "States.Runtime", cause)
    assert replay.status is ReplayStatus.MATCH
    assert replay.failure is not None and replay.failure.cause == cause


def test_array_range_of_exactly_1000_items_is_made() -> None:
    state = {"Type": "Pass", "Parameters": {"r.$": "States.ArrayRange(1, 1000, 1)"}}
    replays = run(state)
    assert replays["Hostile"].status is ReplayStatus.MISMATCH  # the recording holds no "r"
    assert replays["Hostile"].steps[-1].value["r"] == list(range(1, 1001))


@pytest.mark.parametrize("function", ["Base64Encode", "Hash"])
def test_text_past_aws_limit_fails_as_aws_documents(function: str) -> None:
    extra = ", 'SHA-256'" if function == "Hash" else ""
    document = {"s": "a" * 10_001}
    state = {"Type": "Pass", "Parameters": {"r.$": f"States.{function}($.s{extra})"}}
    h = History()
    h.start(document)
    h.add("PassStateEntered", name="Hostile", input=document)
    h.add("ExecutionFailed", error="States.Runtime", cause="")
    definition = machine(Hostile={**state, "End": True})
    (replay,) = replay_events(definition, h.events)
    assert replay.failure is not None
    assert replay.failure.error == "States.Runtime"
    assert "10,001 characters, more than the 10,000 AWS takes" in replay.failure.cause
    h.events[1]["stateEnteredEventDetails"]["input"] = json.dumps({"s": "a" * 10_000})
    (replay,) = replay_events(definition, h.events)
    assert replay.failure is None  # 10,000 characters are taken


def test_nested_arrays_of_one_document_are_not_written_out() -> None:
    inner = "States.Array(" + ", ".join(["$"] * 100) + ")"
    outer = "States.Array(" + ", ".join([inner] * 3) + ")"
    for expression in (outer, f"States.JsonToString({inner})", f"States.Hash({inner}, 'MD5')"):
        payload = {"Type": "Pass", "Parameters": {"r.$": expression}}
        replays = run(payload, json.dumps({"big": "b" * 5000}))
        reason = replays["Hostile"].reason or replays["Hostile"].failure.cause  # type: ignore[union-attr]
        assert "payload limit of 262,144 bytes" in reason or "10,000" in reason
        assert replays["After"].status is ReplayStatus.MATCH


def test_format_of_one_document_many_times_is_not_written_out() -> None:
    template = "States.Format('" + "{}" * 500 + "', " + ", ".join(["$.big"] * 500) + ")"
    state = {"Type": "Pass", "Parameters": {"r.$": template}}
    assert "payload limit" in stopped(state, json.dumps({"big": "b" * 1000}))


# --- end to end -----------------------------------------------------------------------------


HOSTILE_STATES: dict[str, dict[str, Any]] = {
    "Recursive": jsonata("($f := function($n) { $f($n + 1) }; $f(0))"),
    "Product": jsonata("$count([1..10000000].[1..10000000])"),
    "Pad": jsonata("$pad('x', 1000000000)"),
    "Descent": {"Type": "Pass", "Parameters": {"r.$": "$..x"}},
    "Range": {"Type": "Pass", "Parameters": {"r.$": "States.ArrayRange(0, 999999999999, 1)"}},
}


def _limited() -> None:  # runs in the child, before the command
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.fixture
def hostile_files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A history through every hostile state, each given the deep document, and an ordinary
    last state that drops the field; with its definition."""
    names = list(HOSTILE_STATES)
    states = {
        name: {**state, "Next": names[i + 1] if i + 1 < len(names) else "Drop"}
        for i, (name, state) in enumerate(HOSTILE_STATES.items())
    }
    states["Drop"] = {"Type": "Pass", "Parameters": {"other": 1}, "End": True}
    deep = nested(5000, '{"field": 1}')
    shallow = '{"field": 1}'
    events: list[dict[str, Any]] = []

    def add(type_: str, key: str, **details: Any) -> None:
        number = len(events) + 1
        stamp = f"2025-01-01T00:00:{number:02d}.000Z"
        events.append(
            {"id": number, "previousEventId": number - 1, "timestamp": stamp, "type": type_}
        )
        events[-1][key] = details

    add("ExecutionStarted", "executionStartedEventDetails", input=shallow, roleArn="arn:r")
    for name in [*names, "Drop"]:
        document = deep if name == "Descent" else shallow
        add("PassStateEntered", "stateEnteredEventDetails", name=name, input=document)
        output = '{"other":1}' if name == "Drop" else document
        add("PassStateExited", "stateExitedEventDetails", name=name, output=output)
    add("ExecutionSucceeded", "executionSucceededEventDetails", output='{"other":1}')
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"events": events}), encoding="utf-8")
    definition = tmp_path / "definition.asl.json"
    definition.write_text(json.dumps({"StartAt": names[0], "States": states}), encoding="utf-8")
    yield history, definition


def test_a_hostile_definition_is_traced_within_2_gib(hostile_files: tuple[Path, Path]) -> None:
    history, definition = hostile_files
    command = [sys.executable, "-m", "sfn_trace", str(history), "--definition", str(definition)]
    done = subprocess.run(
        [*command, "--field", "field", "--format", "json"],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the field is lost, and the trace says where
    assert "internal error" not in done.stderr
    report = json.loads(done.stdout)
    reasons = {visit["state"]: visit["replay_reason"] or "" for visit in report["visits"]}
    assert "200,000 steps" in reasons["Recursive"]
    assert "5,000,000 array items" in reasons["Product"]
    assert "$pad would build" in reasons["Pad"]
    assert "$..x visits more than" in reasons["Descent"]
    assert "States.ArrayRange: the range holds more than 1000 items" in reasons["Range"]
    assert report["lost_at"] is not None and "Drop" in json.dumps(report["lost_at"])


def test_the_visits_of_one_execution_share_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five visits of 409 steps each against an execution's budget of 1,000 (made small so
    that the case stays fast): two replay, the third stops at the budget, the last two are
    not evaluated; a second trace of the same execution gets its own budget."""
    monkeypatch.setattr(jsonata_eval, "JSONATA_STEPS", 1000)
    monkeypatch.setattr(jsonata_eval, "JSONATA_EXECUTION_STEPS", 1000)
    names = [f"S{i}" for i in range(5)]
    loop = jsonata("$count($map([1..400], function($i) { $i }))")
    states = {n: {**loop, "Next": names[i + 1]} for i, n in enumerate(names[:-1])}
    states[names[-1]] = {**loop, "End": True}
    h = History()
    h.start(DOCUMENT)
    for name in names:
        h.pass_state(name, DOCUMENT if name == "S0" else 400, 400)
    h.succeed(400)
    for _ in range(2):
        replays = replay_events(machine(**states), h.events)
        statuses = [r.status for r in replays]
        assert statuses[:2] == [ReplayStatus.MATCH] * 2
        assert statuses[2:] == [ReplayStatus.NOT_REPLAYED] * 3
        assert "took 1,000 steps together" in (replays[2].reason or "")
        assert "used up their budget" in (replays[4].reason or "")
