"""Every JSON document sfn-trace writes is RFC 8259 JSON, whatever the payloads held (issue 14).

Python reads ``1e400`` as ``inf`` and accepts the tokens ``NaN``, ``Infinity``, ``-Infinity``;
its encoder writes them back as ``Infinity``/``NaN``, which jq, JavaScript and Go reject.
:mod:`sfn_trace.model.jsontext` reads such a number as a :class:`NonFinite` (a float that keeps
its text) and writes it back as that text (``1e400`` stays ``1e400``; a bare token, which has
no spelling as a JSON number, becomes the string ``"NaN"``). Checked here:

- the reader and the writer themselves: the text kept, the float behaviour, the same output
  as :func:`json.dumps` for every document it writes strictly (any formatting argument), the
  same documents and the same refusals as :func:`json.loads`;
- every JSON output, parsed with a reader that refuses the tokens: the trace (stdout,
  ``-o FILE``, with a definition), its bundle (plain and gzip, replayed byte for byte), a
  history file whose payloads a tool decoded into objects, ``compare``, ``scan`` (through its
  renderer), ``lint`` and SARIF of a definition with such literals in Parameters and Result;
- that the payload's own text is what the trace shows (``-1E+999`` as ``-1E+999``);
- that the common path costs what it did (the generated benchmark history).
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import pickle
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from benchmarks.generate_history import generate
from sfn_trace.checks.scan import ScanQuery, ScanResult
from sfn_trace.cli import app
from sfn_trace.model import jsontext
from sfn_trace.model.events import Payload, events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.jsontext import NonFinite, TooDeep
from sfn_trace.model.text import brief
from sfn_trace.report import Command, ScanFormat, render
from sfn_trace.report.trace import json as trace_json
from sfn_trace.sources.aws.executions import ListedExecution
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import analyze
from tests.fleet_rows import judge_all
from tests.report.test_schemas import assert_valid

FIELD = "F"
runner = CliRunner()

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The payloads of the test history, as the service's history carries them (text). The field and
# other members hold every kind of number Python cannot hold.
START = (
    '{"F": 1e400, "limits": {"low": -1e400, "high": 1E309}, "ratio": NaN, '
    '"cap": Infinity, "floor": -Infinity}'
)
SPLIT = (
    '{"F": -1E+999, "a": {"F": 1E309}, "b": {"F": NaN}, "c": {"F": Infinity}, '
    '"d": {"F": -Infinity}, "e": {"F": -1e400}, "ratio": NaN, "cap": Infinity}'
)
LOST = '{"F": null, "b": {"F": null}, "ratio": NaN, "cap": Infinity}'
VARIABLES = {"F": "1e400", "config": '{"F": NaN, "ceiling": 1E309}'}

SPLIT_OCCURRENCES = [
    ("$.F", "-1E+999"),
    ("$.a.F", "1E309"),
    ("$.b.F", '"NaN"'),
    ("$.c.F", '"Infinity"'),
    ("$.d.F", '"-Infinity"'),
    ("$.e.F", "-1e400"),
]
"""SPLIT's occurrences as the JSON output spells their values."""

DEFINITION = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Result": "RESULT", "ResultPath": "$", "Next": "C"},
        "C": {
            "Type": "Pass",
            "Parameters": {"F": None, "b": {"F": None}, "ratio.$": "$.ratio", "cap": "CAP"},
            "End": True,
        },
    },
}
LINT_DEFINITION = (
    '{"StartAt": "Make", "States": {\n'
    '  "Make": {"Type": "Pass", "Result": {"limit": 1e400, "floor": -1E+999, "ratio": NaN,\n'
    '           "cap": Infinity}, "ResultPath": "$", "Next": "Call"},\n'
    '  "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",\n'
    '           "Parameters": {"F.$": "$.F", "big": 1E309, "low": -Infinity}, "End": true}}}\n'
)


# --- helpers -----------------------------------------------------------------------------------


class Raw(str):
    """A number of an output, as the output spelled it (the reader's ``parse_float``)."""


def _refuse(token: str) -> Any:
    raise AssertionError(f"{token} is not RFC 8259 JSON")


def strict(text: str | bytes) -> Any:
    """Parse as jq, JavaScript or Go would: the tokens are refused; numbers with a fraction or
    an exponent come back as their text (:class:`Raw`), so the spelling can be checked."""
    return json.loads(text, parse_constant=_refuse, parse_float=Raw)


def spelled(value: Any) -> str:
    """How a value parsed by :func:`strict` was written: ``1e400``, ``"NaN"``, ``null``."""
    return str(value) if isinstance(value, Raw) else json.dumps(value)


def history(*states: tuple[str, str, str], variables: dict[str, str] | None = None) -> Any:
    """Pass states, each ``(name, input text, output text)``; the payloads are kept as text."""
    events: list[dict[str, Any]] = []

    def add(type_: str, member: str, **details: Any) -> None:
        number = len(events) + 1
        events.append(
            {
                "id": number,
                "previousEventId": number - 1,
                "timestamp": f"2025-11-17T05:48:{10 + number:02d}.000Z",
                "type": type_,
                member: details,
            }
        )

    add("ExecutionStarted", "executionStartedEventDetails", input=states[0][1])
    for position, (name, text_in, text_out) in enumerate(states):
        add("PassStateEntered", "stateEnteredEventDetails", name=name, input=text_in)
        exited: dict[str, Any] = {"name": name, "output": text_out}
        if variables is not None and position == len(states) - 1:
            exited["assignedVariables"] = variables
            exited["assignedVariablesDetails"] = {"truncated": False}
        add("PassStateExited", "stateExitedEventDetails", **exited)
    add("ExecutionSucceeded", "executionSucceededEventDetails", output=states[-1][2])
    return {"events": events}


def lost_history(**extra: Any) -> Any:
    return history(("A", START, START), ("B", START, SPLIT), ("C", SPLIT, LOST), **extra)


def kept_history() -> Any:
    return history(("A", START, START), ("B", START, SPLIT), ("C", SPLIT, SPLIT))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=4), encoding="utf-8")
    return path


def write_definition(path: Path) -> Path:
    text = json.dumps(DEFINITION, indent=2)
    text = text.replace('"RESULT"', SPLIT).replace('"CAP"', "Infinity")
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def occurrences(snapshot_json: dict[str, Any]) -> list[tuple[str, str]]:
    return [(o["path"], spelled(o["value"])) for o in snapshot_json["occurrences"]]


# --- the reader ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e400", math.inf),
        ("-1e400", -math.inf),
        ("1E309", math.inf),
        ("-1E+999", -math.inf),
        ("1.5e99999", math.inf),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("9" * 5_000, math.inf),
        ("-" + "9" * 5_000, -math.inf),
    ],
)
def test_a_number_python_cannot_hold_keeps_its_text(text: str, value: float) -> None:
    document = jsontext.loads(f'{{"n": {text}, "list": [{text}]}}')
    for number in (document["n"], document["list"][0]):
        assert isinstance(number, NonFinite) and number.text == text
        assert number == value
    written = f'"{text}"' if text in jsontext.TOKENS else text
    assert jsontext.dumps(document) == f'{{"n": {written}, "list": [{written}]}}'


def test_nan_is_a_float_that_keeps_its_token() -> None:
    nan = jsontext.loads("NaN")
    assert isinstance(nan, NonFinite) and nan.text == "NaN" and math.isnan(nan)
    assert jsontext.dumps([nan]) == '["NaN"]'
    assert jsontext.dumps([nan], strict=False) == "[NaN]"


def test_a_non_finite_number_still_computes_and_compares() -> None:
    big = jsontext.loads("1e400")
    assert big > 1e308 and big == math.inf and -big == -math.inf
    assert big + 1 == math.inf and not isinstance(big + 1, NonFinite)
    assert math.isinf(big) and float(big) == math.inf and str(big) == "inf"
    assert copy.deepcopy([big]) == [big] and copy.deepcopy(big).text == "1e400"
    assert pickle.loads(pickle.dumps(big)).text == "1e400"
    assert repr(big) == "NonFinite('1e400')"
    assert jsontext.loads("1e308") == 1e308 and type(jsontext.loads("1e308")) is float
    assert type(jsontext.loads("-0.0")) is float


def test_a_non_finite_float_without_text_has_a_strict_spelling() -> None:
    assert jsontext.dumps([math.inf, -math.inf, math.nan]) == '[1e999, -1e999, "NaN"]'
    assert strict(jsontext.dumps({"x": math.inf}, indent=2)) == {"x": Raw("1e999")}


def test_loads_reads_bytes_like_json_loads() -> None:
    assert jsontext.loads(b'\xef\xbb\xbf{"a": 1e400}') == {"a": math.inf}
    assert jsontext.loads('{"a": "\\u00e9"}'.encode("utf-16")) == {"a": "é"}
    with pytest.raises(UnicodeDecodeError):
        jsontext.loads(b'{"a": "\xff"}')


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)
FORMATS: list[dict[str, Any]] = [
    {},
    {"ensure_ascii": False},
    {"indent": 2},
    {"indent": 1, "ensure_ascii": False},
    {"indent": "\t", "sort_keys": True},
    {"indent": 0},
    {"separators": (",", ":"), "ensure_ascii": False},
    {"separators": (",", ":"), "indent": 3},
]


@FUZZ
@given(value=JSON)
def test_the_iterative_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    for arguments in FORMATS:
        expected = json.dumps(value, **arguments)
        assert jsontext._encode(value, **arguments) == expected
        assert jsontext.dumps(value, **arguments) == expected


@FUZZ
@given(value=JSON)
def test_the_iterative_parser_reads_what_json_loads_reads(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2, ensure_ascii=False)):
        parsed = jsontext._Parser(text, jsontext.MAX_DEPTH).parse()
        assert parsed == json.loads(text)
        assert jsontext.dumps(parsed) == json.dumps(json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "[",
        "[1,]",
        '{"a":1,}',
        '{"a" 1}',
        "{a:1}",
        "01",
        "1.",
        ".5",
        "-",
        "nul",
        '"\x01"',
        "[1 2]",
        '"abc',
        '{"a":1}x',
        "[-Infinityx]",
        "1e",
        "--1",
        "[1,,2]",
        "{,}",
        "\ufeff[]",
        '"\\x"',
        "infinity",
        "nan",
        "[" * 3_000 + "]" * 2_999,
        "[" * 3_000 + "]" * 3_000 + ",",
        "[" * 20_000 + "]" * 19_999,
    ],
)
def test_text_that_is_not_json_is_refused_at_any_depth(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        jsontext.loads(text)
    assert not isinstance(refused.value, TooDeep)
    with pytest.raises(ValueError):
        jsontext._Parser(text, None).parse()


def test_dumps_refuses_what_json_dumps_refuses() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        jsontext.dumps(loop)
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"when": datetime(2025, 1, 1, tzinfo=timezone.utc)})


# --- payloads --------------------------------------------------------------------------------


def test_payload_values_keep_the_text_of_their_numbers() -> None:
    value = Payload(SPLIT).value
    assert [value["F"].text, value["b"]["F"].text, value["e"]["F"].text] == [
        "-1E+999",
        "NaN",
        "-1e400",
    ]
    assert Payload(SPLIT).unreadable is None
    assert brief(value["F"]) == "-1E+999" and brief(value["b"]) == '{"F": "NaN"}'


def test_payloads_a_tool_decoded_into_objects_keep_their_text(tmp_path: Path) -> None:
    raw = json.dumps(lost_history())
    # The tool wrote each payload as an object, in Python's spelling (NaN and all).
    for payload in (START, SPLIT, LOST):
        raw = raw.replace(json.dumps(payload), payload)
    path = tmp_path / "decoded.json"
    path.write_text(raw, encoding="utf-8")
    data = load_target_file(path)
    started = data.events[0].input
    assert started is not None
    assert started.text == START.replace(": ", ":").replace(", ", ",")
    result = invoke(str(path), "--field", FIELD, "--format", "json")
    assert result.exit_code == 1
    document = strict(result.stdout)
    assert_valid("trace", document)


# --- every JSON output is strict ---------------------------------------------------------------


def test_the_trace_json_is_strict_in_every_form(tmp_path: Path) -> None:
    path = write_json(tmp_path / "history.json", lost_history(variables=VARIABLES))
    out = tmp_path / "trace.json"
    stdout = invoke(str(path), "--field", FIELD, "--format", "json")
    to_file = invoke(str(path), "--field", FIELD, "--format", "json", "-o", str(out))
    assert stdout.exit_code == to_file.exit_code == 1
    assert out.read_text(encoding="utf-8") == stdout.stdout
    document = strict(stdout.stdout)
    assert_valid("trace", document)
    assert document["verdict"] == "lost"
    # The variables are read through Payload.value: their numbers keep their text.
    variables = document["visits"][-1]["variables"]
    assert occurrences(variables) == [("$F", "1e400"), ("$config.F", '"NaN"')]


def test_the_trace_json_with_a_definition_is_strict(tmp_path: Path) -> None:
    path = write_json(tmp_path / "history.json", lost_history())
    definition = write_definition(tmp_path / "definition.asl.json")
    result = invoke(
        str(path), "--field", FIELD, "--definition", str(definition), "--format", "json"
    )
    assert result.exit_code == 1
    document = strict(result.stdout)
    assert_valid("trace", document)
    assert [v["state"] for v in document["visits"]] == ["A", "B", "C"]


def test_the_replay_compares_out_of_range_numbers_as_numbers(tmp_path: Path) -> None:
    """``1e400`` in a payload and ``1E309`` written by the replay are the same number; (NaN is
    not equal to itself in Python: a payload with a NaN token does not replay, see
    asl/replay.py ``same_json``)."""
    start = '{"F": 1e400, "x": -1E+999}'
    made = '{"F": null, "x": -1E+999, "y": 1E309}'
    path = write_json(tmp_path / "history.json", history(("A", start, start), ("B", start, made)))
    definition = tmp_path / "definition.asl.json"
    definition.write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", '
        '"Parameters": {"F": null, "x.$": "$.x", "y": 1e400}, "End": true}}}',
        encoding="utf-8",
    )
    result = invoke(
        str(path), "--field", FIELD, "--definition", str(definition), "--format", "json"
    )
    document = strict(result.stdout)
    assert [(v["replay"], v["replay_reason"]) for v in document["visits"]] == [
        ("match", None),
        ("match", None),
    ]
    assert document["first_null"]["state"] == "B"


@pytest.mark.parametrize("name", ["bundle.json", "bundle.json.gz"])
def test_a_bundle_is_strict_and_replays_byte_for_byte(tmp_path: Path, name: str) -> None:
    path = write_json(tmp_path / "history.json", lost_history(variables=VARIABLES))
    bundle = tmp_path / name
    live = invoke(str(path), "--field", FIELD, "--format", "json", "--save-bundle", str(bundle))
    raw = bundle.read_bytes()
    document = strict(gzip.decompress(raw) if name.endswith(".gz") else raw)
    assert_valid("bundle", document)
    texts = [
        details[member]
        for event in document["events"]
        for key, details in event.items()
        if key.endswith("EventDetails")
        for member in ("input", "output")
        if member in details
    ]
    assert START in texts and SPLIT in texts and LOST in texts  # payloads byte for byte
    replayed = invoke(str(bundle), "--field", FIELD, "--format", "json")
    assert replayed.exit_code == live.exit_code == 1
    assert replayed.stdout == live.stdout


def test_compare_json_is_strict(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", kept_history())
    bad = write_json(tmp_path / "bad.json", lost_history())
    result = invoke("compare", str(good), str(bad), "--field", FIELD, "--format", "json")
    assert result.exit_code == 1
    document = strict(result.stdout)
    assert_valid("compare", document)
    assert document["divergence"]["state"] == "C"


def test_scan_json_is_strict(tmp_path: Path) -> None:
    path = write_json(tmp_path / "history.json", lost_history())
    machine = "arn:aws:states:us-west-2:123456789012:stateMachine:strict"
    start = datetime(2025, 11, 17, 5, 48, 11, tzinfo=timezone.utc)
    listed = [
        ListedExecution(
            f"{machine.replace('stateMachine', 'execution')}:run-{n}",
            f"run-{n}",
            "SUCCEEDED",
            machine,
            start,
            start,
        )
        for n in range(2)
    ]
    data = load_target_file(path)

    def load(execution: ListedExecution) -> ExecutionData:
        return ExecutionData(info=execution.info, events=data.events)

    rows = judge_all(listed, load, FIELD, workers=2)
    result = ScanResult(query=ScanQuery(machine, FIELD), rows=rows)
    document = strict(render(Command.SCAN, ScanFormat.JSON, result))
    assert_valid("scan", document)
    assert [row["verdict"] for row in document["executions"]] == ["lost", "lost"]


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_lint_of_a_definition_with_such_literals_is_strict(
    tmp_path: Path, output_format: str
) -> None:
    definition = tmp_path / "literals.asl.json"
    definition.write_text(LINT_DEFINITION, encoding="utf-8")
    other = tmp_path / "other.asl.json"
    other.write_text(LINT_DEFINITION.replace('"Call"', '"Invoke"'), encoding="utf-8")
    for paths in ([definition], [definition, other]):
        result = invoke("lint", *map(str, paths), "--field", FIELD, "--format", output_format)
        assert result.exit_code == 1
        document = strict(result.stdout)
        if output_format == "json":
            assert_valid("lint", document)
            found = document.get("findings") or document["definitions"][0]["findings"]
        else:
            found = document["runs"][0]["results"]
        assert found, "the Pass state's Result drops F before Call reads it"


# --- the payload's own text in the output ------------------------------------------------------


def test_the_trace_shows_each_number_as_the_payload_wrote_it(tmp_path: Path) -> None:
    path = write_json(tmp_path / "history.json", lost_history())
    document = strict(invoke(str(path), "--field", FIELD, "--format", "json").stdout)
    a, b, c = document["visits"]
    assert occurrences(a["input"]) == occurrences(a["output"]) == [("$.F", "1e400")]
    assert occurrences(b["output"]) == SPLIT_OCCURRENCES
    assert occurrences(c["input"]) == SPLIT_OCCURRENCES
    assert document["first_null"]["state"] == "C"
    assert spelled(document["first_null"]["last_value"]) == "-1E+999"
    assert "-1E+999" in document["first_null"]["explanation"]


def test_compare_shows_each_number_as_the_payload_wrote_it(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", kept_history())
    bad = write_json(tmp_path / "bad.json", lost_history())
    result = invoke("compare", str(good), str(bad), "--field", FIELD, "--format", "json")
    divergence = strict(result.stdout)["divergence"]
    assert occurrences(divergence["good"]["output"]) == SPLIT_OCCURRENCES
    assert occurrences(divergence["bad"]["input"]) == SPLIT_OCCURRENCES


# --- the common path writes what the standard library writes ---------------------------------


def test_the_common_path_writes_what_the_standard_library_writes() -> None:
    """On a generated history with no number or text beyond JSON's common ground, the
    strict writer's output is byte for byte the standard library's (what it costs is
    measured by ``make bench``, not here)."""
    generated = generate(2_500, seed=11)
    events = events_from_api(generated.events)
    texts = [p.text for e in events for p in (e.input, e.output, e.parameters) if p is not None]
    assert [Payload(t).value for t in texts] == [json.loads(t) for t in texts]
    result = analyze(ExecutionData(info=infer_info(events), events=events), generated.field)
    document = trace_json.to_document(result)

    def stdlib_dumps(document: dict[str, Any]) -> str:  # the writer as it was
        head = dict(document)
        visits = head.pop("visits")
        text = json.dumps(head, indent=2, ensure_ascii=False)
        lines = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in visits)
        return text[:-2] + f',\n  "visits": [\n{lines}\n  ]\n}}\n'

    assert trace_json.dumps(document) == stdlib_dumps(document)
