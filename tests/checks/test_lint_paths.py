"""sfn_trace.checks.lint_paths: the lint's backwards search, linear in the definition.

- the same findings, first paths and order as following every path one by one (the search
  lint did before), on random machines with loops, catchers, Map and Parallel states;
- the work counted in states searched grows at most in proportion to the definition (n and
  2n states, for a chain read at every state, a wide Choice, nested Parallel and Map, a loop
  back to ``StartAt``);
- a definition whose report would grow with the square of its size stops at the bound and
  says so;
- 100,000 states through the command line, under a 2 GiB address-space limit.
"""

from __future__ import annotations

import dataclasses
import json
import random
import resource
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.checks import lint as lint_module
from sfn_trace.checks import lint_paths
from sfn_trace.checks.lint import LintFinding, lint, lint_definition, lint_files
from sfn_trace.model.definition import Definition
from sfn_trace.report.lint.json import render as render_json
from sfn_trace.report.lint.sarif import render as render_sarif
from sfn_trace.report.lint.table import render as render_table
from tests.data import ROOT

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


# --- the path-by-path search, as the oracle ----------------------------------------------------


def _paths(definition: Definition, target: str) -> Iterator[tuple[list[str], list[Any]]]:
    """Every path from StartAt to ``target`` in the order the lint searches them: backwards,
    incoming edges last first, a state at most twice, StartAt ends a path, at most
    MAX_PATHS paths."""
    incoming = lint_module.incoming_edges(definition)
    start = definition.start_at
    if target == start:
        return
    count = 0
    stack: list[tuple[list[str], list[Any]]] = [([target], [])]
    while stack:
        states, edges = stack.pop()
        if states[-1] == start:
            count += 1
            yield states[::-1], edges[::-1]
            if count >= lint_paths.MAX_PATHS:
                return
            continue
        times = Counter(states)
        for source, edge in incoming.get(states[-1], ()):
            if times[source] < lint_paths.VISITS_PER_PATH:
                stack.append(([*states, source], [*edges, edge]))


def path_by_path(definition: Definition, field: str) -> list[LintFinding]:
    findings: dict[tuple[str, str, str, str], LintFinding] = {}
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for reader, expression, location in lint_module._readers(definition, field):
        for path, edges in _paths(definition, reader):
            on_path: set[tuple[str, str, str, str]] = set()
            current: Any = location
            for position in range(len(path) - 2, -1, -1):
                if current is None:
                    break
                state = definition.states[path[position]]
                back = lint_module._Backwards(state, field, edges[position])
                current = back.through(current)
                for drop in back.drops:
                    finding = LintFinding(
                        reader=reader,
                        expression=expression,
                        read=lint_module.format_path(location),
                        path=tuple(path),
                        dropper=drop.state,
                        reason=drop.reason,
                        hint=drop.hint,
                        kind=drop.kind,
                        step=drop.step,
                    )
                    key = (reader, expression, drop.state, drop.reason)
                    findings.setdefault(key, finding)
                    on_path.add(key)
            counts.update(on_path)
    counted = [dataclasses.replace(f, paths=counts[k]) for k, f in findings.items()]
    return sorted(counted, key=lambda f: (len(f.path), f.reader, f.dropper))


def _random_state(rng: random.Random, names: list[str], i: int) -> dict[str, Any]:
    kind = rng.choice(["pass", "params", "task", "selector", "null", "literal", "catch", "choice"])
    body: dict[str, Any] = {"Type": "Pass"}
    if kind == "params":
        body["Parameters"] = rng.choice([{"F.$": "$.F"}, {"G.$": "$.G"}, {"a": {"F.$": "$.a.F"}}])
    elif kind in ("task", "catch"):
        body = {"Type": "Task", "Resource": ARN, "Parameters": {"F.$": "$.F"}}
        body["ResultPath"] = rng.choice(["$", "$.r", "$.F"])
        if kind == "catch":
            catcher = {"ErrorEquals": ["States.ALL"], "Next": rng.choice(names)}
            body["Catch"] = [{**catcher, "ResultPath": "$.e"} if rng.random() < 0.5 else catcher]
    elif kind == "selector":
        body = {"Type": "Task", "Resource": ARN, "Parameters": {"F.$": "$.F"}}
        body.update({"ResultSelector": {"F.$": "$.Payload.F"}, "ResultPath": "$"})
    elif kind == "null":
        body["OutputPath"] = None
    elif kind == "literal":
        body.update({"Result": {"x": 1}, "ResultPath": rng.choice(["$", "$.r"])})
    if kind == "choice":
        rules = [
            {"Variable": "$.k", "NumericEquals": j, "Next": rng.choice(names)}
            for j in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.3:  # a guard: the branch settles whether F is present
            guard = rng.choice([{"IsPresent": True}, {"IsPresent": False}, {"IsNull": False}])
            rules.insert(0, {"Variable": "$.F", **guard, "Next": rng.choice(names)})
        return {"Type": "Choice", "Choices": rules, "Default": rng.choice(names)}
    if rng.random() < 0.15:
        return {**body, "End": True}
    later = names[i + 1 :] if i + 1 < len(names) and rng.random() < 0.8 else names
    return {**body, "Next": rng.choice(later)}


def _random_machine(rng: random.Random, size: int, prefix: str = "S") -> dict[str, Any]:
    names = [f"{prefix}{i}" for i in range(size)]
    states: dict[str, Any] = {}
    for i, name in enumerate(names):
        if len(prefix) < 5 and rng.random() < 0.1:
            inner = [_random_machine(rng, rng.randint(1, 4), f"{name}b{b}x") for b in range(2)]
            if rng.random() < 0.5:
                states[name] = {"Type": "Parallel", "Branches": inner, "ResultPath": "$.p"}
            else:
                states[name] = {"Type": "Map", "ItemProcessor": inner[0], "ResultPath": "$.m"}
                states[name]["ItemSelector"] = {"F.$": "$.F"}
            states[name].update({"Next": names[i + 1]} if i + 1 < size else {"End": True})
        else:
            states[name] = _random_state(rng, names, i)
    return {"StartAt": names[0], "States": states}


@pytest.mark.parametrize("seed", range(300))
def test_the_search_finds_what_following_every_path_finds(seed: int) -> None:
    rng = random.Random(seed)
    definition = Definition.from_text(json.dumps(_random_machine(rng, rng.randint(2, 16))))
    assert lint(definition, "F") == path_by_path(definition, "F")


def test_past_the_path_bound_the_same_paths_are_followed() -> None:
    """Twelve Choices in a row, each with two branches that join again: 4,096 paths to the
    reader, more than MAX_PATHS, and droppers on some branches."""
    rng = random.Random(7)
    states: dict[str, Any] = {}
    for i in range(12):
        after = f"C{i + 1}" if i < 11 else "R"
        rule = {"Variable": "$.k", "NumericEquals": 1, "Next": f"A{i}"}
        states[f"C{i}"] = {"Type": "Choice", "Choices": [rule], "Default": f"B{i}"}
        for side in "AB":
            body: dict[str, Any] = {"Type": "Pass", "Next": after}
            if rng.random() < 0.2:
                body["OutputPath"] = None
            states[f"{side}{i}"] = body
    states["R"] = {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "End": True}
    definition = Definition.from_text(json.dumps({"StartAt": "C0", "States": states}))
    found = lint(definition, "F")
    # Past the bound the path counts are of the paths followed, which the two searches
    # split differently: only the findings and their first paths must agree.
    uncounted = [dataclasses.replace(f, paths=0) for f in path_by_path(definition, "F")]
    assert found and [dataclasses.replace(f, paths=0) for f in found] == uncounted
    assert all(1 <= f.paths <= lint_paths.MAX_PATHS for f in found)


# --- linear work ---------------------------------------------------------------------------------


def _chain(n: int, every_state_reads: bool = True, loop: bool = False) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(n):
        body: dict[str, Any] = {"Type": "Pass", "ResultPath": "$.r"}
        if every_state_reads or i == n - 1:
            body["Parameters"] = {"F.$": "$.F", "i": i}
        states[f"S{i}"] = {**body, "Next": f"S{i + 1}"} if i < n - 1 else {**body, "End": True}
    if loop:
        last = states[f"S{n - 1}"]
        del last["End"]
        rule = {"Variable": "$.again", "BooleanEquals": True, "Next": "S0"}
        states["Again"] = {"Type": "Choice", "Choices": [rule], "Default": "Done"}
        states["Done"] = {"Type": "Succeed"}
        last["Next"] = "Again"
    return {"StartAt": "S0", "States": states}


def _wide_choice(n: int) -> dict[str, Any]:
    rules = [{"Variable": "$.k", "NumericEquals": i, "Next": f"B{i}"} for i in range(n)]
    states: dict[str, Any] = {"C": {"Type": "Choice", "Choices": rules, "Default": "R"}}
    for i in range(n):
        states[f"B{i}"] = {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "Next": "R"}
    states["R"] = {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "End": True}
    return {"StartAt": "C", "States": states}


def _nested(n: int) -> dict[str, Any]:
    """A Parallel of four branches, each a Map whose processor is a chain of n/4 states."""
    branches = []
    for b in range(4):
        inner = _chain(n // 4)
        renamed = {
            f"b{b}{name}": {**body, **({"Next": f"b{b}{body['Next']}"} if "Next" in body else {})}
            for name, body in inner["States"].items()
        }
        processor = {"StartAt": f"b{b}S0", "States": renamed}
        map_state = {"Type": "Map", "ItemProcessor": processor, "End": True}
        branches.append({"StartAt": f"M{b}", "States": {f"M{b}": map_state}})
    parallel = {"Type": "Parallel", "Branches": branches, "End": True}
    return {"StartAt": "P", "States": {"P": parallel}}


def _work(body: dict[str, Any]) -> int:
    """States searched plus predecessors joined: the search's inner loop, counted."""
    definition = Definition.from_text(json.dumps(body))
    search = lint_module._search(definition, "F")
    joins = 0
    join = search._join

    def counted(*args: Any) -> None:
        nonlocal joins
        joins += 1
        join(*args)

    search._join = counted  # type: ignore[method-assign]
    for reader, _, location in lint_module._readers(definition, "F"):
        list(search.findings(reader, location))
    return search.searched + joins


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(_chain, id="a chain read at every state"),
        pytest.param(lambda n: _chain(n, every_state_reads=False), id="a chain read at its end"),
        pytest.param(lambda n: _chain(n, loop=True), id="a chain looping back to StartAt"),
        pytest.param(_wide_choice, id="a wide Choice"),
        pytest.param(_nested, id="Maps in a Parallel"),
    ],
)
def test_twice_the_states_is_at_most_twice_the_work(shape: Any) -> None:
    small, large = _work(shape(400)), _work(shape(800))
    assert small >= 400
    assert large <= 2.1 * small


def test_a_report_the_square_of_the_definition_stops_at_the_bound_and_says_so() -> None:
    """Every state reads the field, and the second can drop it: each reader's finding names
    a path through the chain before it."""
    body = _chain(3000)
    body["States"]["S1"] = {"Type": "Pass", "Parameters": {"other": 1}, "Next": "S2"}
    definition = Definition.from_text(json.dumps(body))
    findings, cut = lint_definition(definition, "F")
    assert cut is not None and "200,000 states" in cut
    assert cut.startswith("stopped after 1 finding(s)")  # one cause, S1's Parameters
    assert sum(len(f.path) for f in findings) <= lint_paths.MAX_WORK
    assert {f.dropper for f in findings} == {"S1"}


def test_a_cut_lint_counts_the_findings_every_format_shows(tmp_path: Path) -> None:
    """The cut line counts findings as the report lists them, one per cause (here the
    Parameters of A and of B, before thousands of readers), the same in every format."""
    body = _chain(3000)
    drop = {"Type": "Pass", "Parameters": {"other": 1}, "Next": "S0"}
    rule = {"Variable": "$.k", "NumericEquals": 1, "Next": "A"}
    choice = {"Type": "Choice", "Choices": [rule], "Default": "B"}
    body = {"StartAt": "C", "States": {"C": choice, "A": drop, "B": drop, **body["States"]}}
    path = tmp_path / "wide.asl.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    report = lint_files([path], "F")
    [linted] = report.definitions
    assert [c.dropper for c in linted.causes] == ["A", "B"]
    assert len(linted.findings) > 100  # (reader, dropper) pairs
    assert linted.cut is not None and linted.cut.startswith("stopped after 2 finding(s): ")
    said = f"The lint {linted.cut}."
    assert said in render_table(report)
    assert json.loads(render_json(report))["cut"] == linted.cut
    [notification] = json.loads(render_sarif(report))["runs"][0]["invocations"][0][
        "toolExecutionNotifications"
    ]
    assert notification["message"]["text"] == said


def test_a_complete_lint_is_not_cut() -> None:
    body = _chain(50)
    body["States"]["S1"] = {"Type": "Pass", "Parameters": {"other": 1}, "Next": "S2"}
    findings, cut = lint_definition(Definition.from_text(json.dumps(body)), "F")
    assert cut is None and len(findings) == 48


def _limited() -> None:
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _lint_sarif(definition: Path) -> subprocess.CompletedProcess[str]:
    """``sfn-trace lint DEFINITION --field F --format sarif`` in a process under the 2 GiB
    limit; the timeout is a safety net, not a measurement."""
    command = ["lint", str(definition), "--field", "F", "--format", "sarif"]
    return subprocess.run(
        [sys.executable, "-m", "sfn_trace", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=_limited,
        timeout=600,
    )


def test_100000_states_lint_under_2_gib(tmp_path: Path) -> None:
    """Every state reads the field, no finding: SARIF as a code-scanning job asks for it.
    The timeout is a safety net, not a measurement."""
    definition = tmp_path / "big.asl.json"
    definition.write_text(json.dumps(_chain(100_000)))
    run = _lint_sarif(definition)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["runs"][0]["results"] == []


BOTTOM = {
    "StartAt": "Drop",
    "States": {
        "Drop": {"Type": "Pass", "Parameters": {"other": 1}, "Next": "Read"},
        "Read": {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "End": True},
    },
}
"""The machine at the bottom of the nesting: a state that drops F before one that reads it."""


def test_a_definition_nested_2400_deep_under_long_names_lints_under_2_gib(
    tmp_path: Path,
) -> None:
    """A state's location (``States.P.Branches[0].States.…``) is as long as its nesting: as
    strings, one per state, 2,400 levels of 1,000-character names would take gigabytes."""
    levels, long = 2400, "N" * 1000
    # Written as text: the json module recurses once per level.
    head = "".join(
        f'{{"StartAt": "{long}{level}", "States": {{"{long}{level}": '
        '{"Type": "Parallel", "End": true, "Branches": ['
        for level in reversed(range(levels))
    )
    definition = tmp_path / "deep.asl.json"
    definition.write_text(head + json.dumps(BOTTOM) + "]}}}" * levels, encoding="utf-8")
    run = _lint_sarif(definition)
    assert run.returncode == 1, run.stderr
    [result] = json.loads(run.stdout)["runs"][0]["results"]
    assert result["properties"]["dropper"] == "Drop"
    region = result["locations"][0]["physicalLocation"]["region"]
    column = len(head) + len('{"StartAt": "Drop", "States": {') + 1
    assert region == {"startLine": 1, "startColumn": column}
