"""States nested 1,000 levels deep are traced, linted and compared (issue 14, part 4b).

A definition and a history are input: how deep Parallel and Map states nest is the writer's
choice, and 250 nested Parallels used to end in ``RecursionError`` (an internal error, exit
2). Every stage now walks them with explicit stacks: building visits, freezing flows,
indexing the definition, replaying, the blame chain, redaction, bundles, ``compare`` and
``lint``. Checked here with 1,000 nested Parallel states (one branch each, whose only state is
the next Parallel), 1,000 nested inline Maps (one item each) and the two alternating, the
innermost state a Pass that sets the field to null: through the CLI in every format and
through :func:`sfn_trace.api.trace`, with the verdict, ``first_null`` (its state and the depth
of its scope), ``lost_at``, the blame chain and the exit code; with the execution failing at
the bottom (every level ends, the error going up unchanged through the Maps); and with one
state whose own settings nest 1,000 levels deep (a Parameters template, Choice rules,
intrinsic calls, a ResultPath), drift included.

The documents stay shallow (each level's ``OutputPath`` unwraps its result array, each Map's
``ItemSelector`` passes the same object down): deep *payloads* are tests/model/
test_deep_payloads.py's business. Each history is written as text, as ``json.dumps`` cannot
nest the definition (four JSON levels per Parallel state).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.checks.compare import Run, compare
from sfn_trace.cli import app
from sfn_trace.model import jsontext
from sfn_trace.model.replay import ReplayStatus
from sfn_trace.model.result import Verdict
from sfn_trace.model.visits import Outcome
from sfn_trace.report.registry import CompareFormat, LintFormat, TraceFormat

DEPTH = 1_000
FIELD = "F"
INPUT = {"F": "key", "items": [1]}
DROPPED = {"F": None, "items": [1], "seen": "key"}
SHAPES = ("parallel", "map", "mix")
TRACE_FORMATS = [f.value for f in TraceFormat]


def _runner() -> CliRunner:
    """stderr apart from stdout: the default from click 8.2 on, ``mix_stderr`` before."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    return result


def read_json(text: str) -> Any:
    return jsontext.loads(text, max_depth=None)


# --- the machines -----------------------------------------------------------------------------


def kinds_of(shape: str, depth: int = DEPTH) -> list[str]:
    """The state type of each level, outermost first."""
    if shape == "parallel":
        return ["Parallel"] * depth
    if shape == "map":
        return ["Map"] * depth
    return ["Parallel" if level % 2 == 0 else "Map" for level in range(depth)]


def inner_scope(kind: str, level: int) -> str:
    """The scope element of the flow inside level ``level``."""
    return f"L{level}.Branches[0]" if kind == "Parallel" else f"L{level}[0]"


BOTTOM = {
    # Sets the field to null, and reads it (so the blame chain climbs every level).
    "drop": '{"Type": "Pass", "Parameters": {"F": null, "items.$": "$.items", "seen.$": "$.F"}, '
    '"End": true}',
    "keep": '{"Type": "Pass", "End": true}',
    "fail": '{"Type": "Fail", "Error": "Boom", "Cause": "at the bottom"}',
}


def definition_text(kinds: Sequence[str], bottom: str) -> str:
    """Level ``i`` is the state ``L<i>``, the only state of its parent's branch or item
    processor; ``Bottom`` is the innermost state. Each level's ``OutputPath`` takes the one
    branch's or iteration's output out of its result array; a Map iterates over ``items``
    (one item) with an ItemSelector that passes the same object down."""
    opened: list[str] = []
    closing: list[str] = []
    for level, kind in enumerate(kinds):
        opened.append(f'"StartAt": "L{level}", "States": {{"L{level}": ')
        if kind == "Parallel":
            opened.append('{"Type": "Parallel", "OutputPath": "$[0]", "End": true, "Branches": [{')
            closing.append("}]}}")
        else:
            opened.append(
                '{"Type": "Map", "ItemsPath": "$.items", "OutputPath": "$[0]", "End": true, '
                '"ItemSelector": {"F.$": "$.F", "items.$": "$.items"}, '
                '"ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, '
            )
            closing.append("}}}")
    innermost = f'"StartAt": "Bottom", "States": {{"Bottom": {BOTTOM[bottom]}}}'
    return "{" + "".join(opened) + innermost + "".join(reversed(closing)) + "}"


class Events:
    """API-shaped events, each linked to its causal predecessor (docs/aws-reference.md
    section 2)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, previous: int, **details: Any) -> int:
        number = len(self.events) + 1
        event: dict[str, Any] = {
            "id": number,
            "previousEventId": previous,
            "timestamp": f"2025-11-17T{5 + number // 3600:02d}:{number // 60 % 60:02d}:"
            f"{number % 60:02d}.000Z",
            "type": type_,
        }
        if details:
            for suffix in ("StateEntered", "StateExited"):
                if type_.endswith(suffix):
                    member = "state" + suffix + "EventDetails"
                    break
            else:
                member = type_[0].lower() + type_[1:] + "EventDetails"
            event[member] = {
                k: json.dumps(v) if k in ("input", "output") else v for k, v in details.items()
            }
        self.events.append(event)
        return number


def history(kinds: Sequence[str], bottom: str) -> dict[str, Any]:
    """Enter every level (``*StateEntered``, ``*StateStarted``, a Map's one
    ``MapIterationStarted``), run the bottom state, then leave every level inside out:
    ``MapIterationSucceeded``, ``*StateSucceeded`` and ``*StateExited`` after the last event
    of the branch or iteration (or, when the bottom fails, ``MapIterationFailed``,
    ``*StateFailed`` and ``ExecutionFailed``)."""
    h = Events()
    h.add("ExecutionStarted", 0, input=INPUT, roleArn="arn:aws:iam::123456789012:role/r")
    previous = 0
    for level, kind in enumerate(kinds):
        entered = h.add(f"{kind}StateEntered", previous, name=f"L{level}", input=INPUT)
        started = h.add(f"{kind}StateStarted", entered, **({"length": 1} if kind == "Map" else {}))
        previous = started
        if kind == "Map":
            previous = h.add("MapIterationStarted", started, name=f"L{level}", index=0)
    if bottom == "fail":
        last = h.add("FailStateEntered", previous, name="Bottom", input=INPUT)
        for level in reversed(range(len(kinds))):
            if kinds[level] == "Map":
                last = h.add("MapIterationFailed", last, name=f"L{level}", index=0, error="Boom")
            last = h.add(f"{kinds[level]}StateFailed", last)
        h.add("ExecutionFailed", last, error="Boom", cause="at the bottom")
        return {"events": h.events}
    output = DROPPED if bottom == "drop" else INPUT
    entered = h.add("PassStateEntered", previous, name="Bottom", input=INPUT)
    last = h.add("PassStateExited", entered, name="Bottom", output=output)
    for level in reversed(range(len(kinds))):
        kind = kinds[level]
        if kind == "Map":
            last = h.add("MapIterationSucceeded", last, name=f"L{level}", index=0)
        h.add(f"{kind}StateSucceeded", last)
        last = h.add(f"{kind}StateExited", last, name=f"L{level}", output=output)
    h.add("ExecutionSucceeded", last, output=output)
    return {"events": h.events}


@dataclass(frozen=True)
class Machine:
    kinds: tuple[str, ...]
    definition: Path
    history: Path


def write_machine(folder: Path, shape: str, bottom: str, depth: int = DEPTH) -> Machine:
    kinds = kinds_of(shape, depth)
    folder.mkdir(parents=True, exist_ok=True)
    definition = folder / f"{shape}-{bottom}.asl.json"
    definition.write_text(definition_text(kinds, bottom), encoding="utf-8")
    events = folder / f"{shape}-{bottom}.history.json"
    events.write_text(json.dumps(history(kinds, bottom)), encoding="utf-8")
    return Machine(tuple(kinds), definition, events)


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Machine]:
    folder = tmp_path_factory.mktemp("deep")
    return {
        (shape, bottom): write_machine(folder, shape, bottom)
        for shape in SHAPES
        for bottom in ("drop", "keep", "fail")
    }


class Runs:
    """Each machine traced (and bundled) once for the module: a trace of 1,000 levels (5,000
    events) takes half a second."""

    def __init__(self, machines: dict[tuple[str, str], Machine], folder: Path) -> None:
        self.machines = machines
        self.folder = folder
        self.runs: dict[tuple[str, str], api.TraceRun] = {}
        self.bundles: dict[tuple[str, str], Path] = {}

    def run(self, shape: str, bottom: str) -> api.TraceRun:
        if (shape, bottom) not in self.runs:
            machine = self.machines[(shape, bottom)]
            self.runs[(shape, bottom)] = api.trace(
                machine.history, FIELD, definition=machine.definition
            )
        return self.runs[(shape, bottom)]

    def bundle(self, shape: str, bottom: str) -> Path:
        """A bundle of the machine: its history with its own definition."""
        if (shape, bottom) not in self.bundles:
            path = self.folder / f"{shape}-{bottom}.bundle.json"
            path.write_bytes(api.bundle(self.run(shape, bottom)))
            self.bundles[(shape, bottom)] = path
        return self.bundles[(shape, bottom)]


@pytest.fixture(scope="module")
def runs(
    machines: dict[tuple[str, str], Machine], tmp_path_factory: pytest.TempPathFactory
) -> Runs:
    return Runs(machines, tmp_path_factory.mktemp("bundles"))


def trace_args(machine: Machine, *more: str) -> list[str]:
    return [str(machine.history), "--definition", str(machine.definition), "--field", FIELD, *more]


def check_finding(finding: Any, machine: Machine) -> None:
    """``first_null``: the bottom state, inside every level."""
    assert finding["state"] == "Bottom"
    assert finding["became"] == "null"
    scope = finding["scope"]
    assert len(scope) == DEPTH + 1
    assert scope[-1] == "Bottom"
    assert scope[0] == inner_scope(machine.kinds[0], 0)
    assert scope[-2] == inner_scope(machine.kinds[-1], DEPTH - 1)


# --- the small machine behaves like the deep one ------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_the_generated_machine_is_traced_as_expected_when_shallow(
    shape: str, tmp_path: Path
) -> None:
    machine = write_machine(tmp_path, shape, "drop", depth=3)
    run = api.trace(machine.history, FIELD, definition=machine.definition)
    result = run.result
    assert result.verdict is Verdict.LOST and result.anomalies == ()
    assert [t.visit.state for t in result.visits] == ["L0", "L1", "L2", "Bottom"]
    assert {t.replay.status for t in result.visits if t.replay} == {ReplayStatus.MATCH}
    assert result.first_null is not None and result.first_null.visit.state == "Bottom"
    assert result.lost_at is not None and result.lost_at.visit.state == "L0"
    assert [hop.state for hop in result.chain] == ["Bottom", "L2", "L1", "L0"]


# --- the trace ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_api_trace_names_the_bottom_state(
    shape: str, machines: dict[tuple[str, str], Machine], runs: Runs
) -> None:
    machine = machines[(shape, "drop")]
    result = runs.run(shape, "drop").result
    assert result.verdict is Verdict.LOST
    assert result.exit_code == 1
    assert result.anomalies == () and result.warnings == ()
    assert len(result.visits) == DEPTH + 1
    assert all(t.visit.outcome is Outcome.SUCCEEDED for t in result.visits)
    assert {t.replay.status for t in result.visits if t.replay} == {ReplayStatus.MATCH}
    first_null = result.first_null
    assert first_null is not None and first_null.visit.state == "Bottom"
    assert first_null.became == "null" and first_null.last_value == "key"
    assert first_null.scope == (
        *(inner_scope(kind, level) for level, kind in enumerate(machine.kinds)),
        "Bottom",
    )
    assert first_null.visit.map_iteration == (0 if "Map" in machine.kinds else None)
    lost_at = result.lost_at
    assert lost_at is not None and lost_at.visit.state == "L0" and lost_at.scope == ("L0",)
    # The blame chain climbs from the bottom out, level by level, up to its bound.
    hops = [hop.state for hop in result.chain]
    assert hops == ["Bottom", *(f"L{level}" for level in range(DEPTH - 1, DEPTH - 200, -1))]
    assert result.chain[-1].note == "the chain stops after 200 hops"


@pytest.mark.parametrize("fmt", TRACE_FORMATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_cli_trace_in_every_format(
    shape: str, fmt: str, machines: dict[tuple[str, str], Machine]
) -> None:
    machine = machines[(shape, "drop")]
    result = invoke(*trace_args(machine, "--format", fmt))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    text = result.stdout
    if fmt == TraceFormat.JSON.value:
        document = read_json(text)
        assert document["verdict"] == "lost"
        check_finding(document["first_null"], machine)
        assert document["lost_at"]["state"] == "L0" and document["lost_at"]["scope"] == ["L0"]
        assert len(document["visits"]) == DEPTH + 1
        assert {v["replay"] for v in document["visits"]} == {"match"}
    elif fmt == TraceFormat.CSV.value:
        rows = text.splitlines()
        assert len(rows) == 1 + DEPTH + 1
    elif fmt == TraceFormat.TABLE.value:
        assert "LOST" in text and "Bottom (Pass, event" in text
    else:
        assert text.startswith("# LOST: `F` went null in `Bottom`")


def test_cli_trace_writes_and_reads_back_a_redacted_bundle(
    machines: dict[tuple[str, str], Machine], tmp_path: Path
) -> None:
    machine = machines[("mix", "drop")]
    bundle = tmp_path / "deep.bundle.json.gz"
    report = tmp_path / "deep.json"
    result = invoke(
        *trace_args(machine, "--redact", "--format", "json", "-o", str(report)),
        "--save-bundle",
        str(bundle),
    )
    assert result.exit_code == 1, result.stderr
    replayed = invoke(str(bundle), "--field", FIELD, "--format", "json")
    assert replayed.exit_code == 1, replayed.stderr
    for document in (read_json(report.read_text(encoding="utf-8")), read_json(replayed.stdout)):
        assert document["verdict"] == "lost"
        check_finding(document["first_null"], machine)
        assert document["lost_at"]["state"] == "L0"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_failure_at_the_bottom_ends_every_level(
    shape: str, machines: dict[tuple[str, str], Machine], runs: Runs
) -> None:
    """Every level ends failed or aborted. A Map names itself in ``MapIterationFailed``, so
    the error goes up unchanged through every Map; a Parallel's ``ParallelStateFailed``
    follows the one of the Parallel inside it, whose visit is still open (it has no exit), and
    is attributed to that one (trace/visits.py, ``_container_event``): the Parallels around it
    end aborted when the execution fails."""
    machine = machines[(shape, "fail")]
    result = runs.run(shape, "fail").result
    assert result.anomalies == ()
    assert len(result.visits) == DEPTH + 1
    outcomes = [(t.visit.state, t.visit.outcome, t.visit.error) for t in result.visits]
    assert outcomes[-2:] == [
        (f"L{DEPTH - 1}", Outcome.FAILED, "Boom"),
        ("Bottom", Outcome.FAILED, "Boom"),
    ]
    assert {outcome for _, outcome, _ in outcomes} <= {Outcome.FAILED, Outcome.ABORTED}
    if shape == "map":
        assert {(outcome, error) for _, outcome, error in outcomes} == {(Outcome.FAILED, "Boom")}
    assert result.verdict is Verdict.INTACT  # no state exited: the input holds F set
    if shape == "mix":
        cli = invoke(*trace_args(machine, "--format", "json"))
        assert cli.exit_code == 0, cli.stderr
        assert read_json(cli.stdout)["visits"][-1]["error"] == "Boom"


# --- lint and compare -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_lint_finishes(shape: str, machines: dict[tuple[str, str], Machine]) -> None:
    machine = machines[(shape, "drop")]
    report = api.lint([machine.definition], FIELD)
    [linted] = report.definitions
    # Every Map reads F from its input, and nothing on the way drops it.
    assert linted.error is None and linted.findings == []
    assert linted.definition is not None and len(linted.definition.states) == DEPTH + 1
    fmt = LINT_FORMATS[SHAPES.index(shape)]
    result = invoke("lint", str(machine.definition), "--field", FIELD, "--format", fmt)
    assert result.exit_code == 0, result.stderr


LINT_FORMATS = [f.value for f in LintFormat]


@pytest.mark.parametrize("shape", SHAPES)
def test_compare_with_an_intact_run(shape: str, runs: Runs) -> None:
    intact, lost = runs.run(shape, "keep").result, runs.run(shape, "drop").result
    assert compare(lost, lost).exit_code == 0
    comparison = compare(intact, lost)
    assert comparison.divergence is not None and comparison.exit_code == 1
    assert comparison.divergence.pair.state == "Bottom"
    assert comparison.divergence.documents == ("output",)
    assert len(comparison.divergence.pair.key) == 2 * DEPTH + 1
    assert len(comparison.shared) == DEPTH + 1
    assert comparison.extra_iterations == ()


COMPARE_CASES = [("table", "drop", 0), ("json", "keep", 1)]


@pytest.mark.parametrize(("fmt", "bad", "code"), COMPARE_CASES)
def test_cli_compare_in_every_format(fmt: str, bad: str, code: int, runs: Runs) -> None:
    """The mixed machine against itself, and its intact variant against it."""
    assert sorted(case[0] for case in COMPARE_CASES) == sorted(f.value for f in CompareFormat)
    lost, good = runs.bundle("mix", "drop"), runs.bundle("mix", bad)
    result = invoke("compare", str(good), str(lost), "--field", FIELD, "--format", fmt)
    assert result.exit_code == code, result.stderr
    if fmt == CompareFormat.JSON.value:
        assert read_json(result.stdout)["divergence"]["state"] == "Bottom"


def test_compare_runs_that_part_at_the_top(runs: Runs) -> None:
    """Alternating Parallel and Map against Parallels only: both runs share L0 and enter a
    state L1 inside it, then nothing more; everything under L1 is one run's only (a Map
    iteration against a branch), 999 levels deep on each side."""
    comparison = compare(runs.run("mix", "drop").result, runs.run("parallel", "keep").result)
    assert [pair.state for pair in comparison.shared] == ["L0", "L1"]
    assert len(comparison.only_in(Run.GOOD)) == len(comparison.only_in(Run.BAD)) == DEPTH - 1
    [top_good] = comparison.top_only_in(Run.GOOD)
    [top_bad] = comparison.top_only_in(Run.BAD)
    assert top_good.state == top_bad.state == "L2"
    [extra] = comparison.extra_iterations
    assert (extra.map_state, extra.index, extra.only_in) == ("L1", 0, Run.GOOD)
    mix, parallel = runs.bundle("mix", "drop"), runs.bundle("parallel", "keep")
    result = invoke("compare", str(mix), str(parallel), "--field", FIELD, "--format", "table")
    assert result.exit_code in (0, 1), result.stderr
    assert "Map sizes" in result.stdout


# --- one state nested deep ----------------------------------------------------------------------


def nested_settings(depth: int) -> tuple[str, dict[str, Any]]:
    """A definition whose states nest their own settings ``depth`` levels deep, and its
    history: ``Template`` renders a Parameters template that deep (its result discarded by
    ``ResultPath: null``), ``Rules`` a Choice rule under ``depth`` Nots, ``Calls`` an
    intrinsic call inside ``depth`` calls, ``Path`` writes at a ResultPath of ``depth`` steps
    (``OutputPath: null`` then drops everything, F included)."""
    template = '{"a": ' * depth + '{"F.$": "$.F"}' + "}" * depth
    rule = '{"Not": ' * depth + '{"Variable": "$.F", "IsPresent": false}' + "}" * depth
    calls = "States.ArrayLength(" + "States.Array(" * depth + "$.F" + ")" * (depth + 1)
    result_path = "$" + ".x" * depth
    text = (
        '{"StartAt": "Template", "States": {'
        f'"Template": {{"Type": "Pass", "Parameters": {template}, "ResultPath": null, '
        '"Next": "Rules"}, '
        f'"Rules": {{"Type": "Choice", "Choices": [{{"Next": "Calls", "Not": {rule}}}], '
        '"Default": "Calls"}, '
        f'"Calls": {{"Type": "Pass", "Parameters": {{"n.$": "{calls}", "F.$": "$.F"}}, '
        '"Next": "Path"}, '
        f'"Path": {{"Type": "Pass", "Result": "r", "ResultPath": "{result_path}", '
        '"OutputPath": null, "End": true}}}'
    )
    h = Events()
    document: Any = {"F": "key"}
    h.add("ExecutionStarted", 0, input=document, roleArn="arn:aws:iam::123456789012:role/r")
    previous = 0
    steps: list[tuple[str, str, Any]] = [
        ("Template", "Pass", document),
        ("Rules", "Choice", document),
        ("Calls", "Pass", {"n": 1, "F": "key"}),
        ("Path", "Pass", {}),
    ]
    for name, kind, output in steps:
        entered = h.add(f"{kind}StateEntered", previous, name=name, input=document)
        previous = h.add(f"{kind}StateExited", entered, name=name, output=output)
        document = output
    h.add("ExecutionSucceeded", previous, output=document)
    return text, {"events": h.events}


def test_settings_nested_deep_inside_one_state(tmp_path: Path) -> None:
    text, events = nested_settings(DEPTH)
    definition = tmp_path / "settings.asl.json"
    definition.write_text(text, encoding="utf-8")
    path = tmp_path / "settings.history.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    result = api.trace(path, FIELD, definition=definition).result
    assert [(t.visit.state, t.replay and t.replay.status) for t in result.visits] == [
        (name, ReplayStatus.MATCH) for name in ("Template", "Rules", "Calls", "Path")
    ]
    assert result.verdict is Verdict.LOST
    assert result.first_null is not None and result.first_null.visit.state == "Path"
    assert result.first_null.became == "missing"
    cli = invoke(str(path), "--definition", str(definition), "--field", FIELD, "--format", "json")
    assert cli.exit_code == 1, cli.stderr
    assert read_json(cli.stdout)["first_null"]["state"] == "Path"
    linted = invoke("lint", str(definition), "--field", FIELD, "--format", "json")
    assert linted.exit_code == 0, linted.stderr
    # Drift: the same definition, then one that differs at the bottom of the template.
    same = api.trace(path, FIELD, definition=definition, expect_definition=definition)
    assert same.result.drift is not None and same.result.drift.identical
    other = tmp_path / "other.asl.json"
    other.write_text(text.replace('{"F.$": "$.F"}', '{"G.$": "$.F"}', 1), encoding="utf-8")
    drift = api.trace(path, FIELD, definition=definition, expect_definition=other).result.drift
    assert drift is not None
    assert [(d.state, d.change.value, d.keys) for d in drift.states] == [
        ("Template", "changed", ("Parameters",))
    ]


def test_a_definition_nested_past_the_limit_is_a_clean_error(tmp_path: Path) -> None:
    """A definition is read up to :data:`~sfn_trace.model.jsontext.MAX_DEPTH` (10,000)
    levels of JSON, some 2,500 nested Parallels or 3,300 nested Maps; deeper is exit 2 with
    one line that says so."""
    too_deep = tmp_path / "too-deep.asl.json"
    levels = jsontext.MAX_DEPTH
    too_deep.write_text(
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": '
        + "[" * levels
        + "]" * levels
        + ', "End": true}}}',
        encoding="utf-8",
    )
    reason = f"{too_deep}: the definition is nested deeper than {levels} levels"
    result = invoke("lint", str(too_deep), "--field", FIELD)
    assert result.exit_code == 2
    assert reason in result.stderr
    machine = write_machine(tmp_path, "parallel", "drop", depth=3)
    traced = invoke(str(machine.history), "--definition", str(too_deep), "--field", FIELD)
    assert traced.exit_code == 2
    assert traced.stderr.strip().splitlines() == [f"sfn-trace: error: {reason}"]
