"""sfn_trace.asl.replay: four features evaluated as AWS evaluates them.

1. Wait ``Timestamp``/``TimestampPath`` validation;
2. a Map's ``MaxConcurrencyPath``, ``ToleratedFailure*Path``, ``MaxItemsPath`` (variables,
   strings that spell numbers, values out of range) and their JSONata forms;
3. JSONPath bracket notation: escaped quotes, either quote, Jayway's escapes, several names;
4. a JSONata Choice Rule's own ``Output`` and ``Assign``.

Each feature is tested on a history AWS recorded where one exists: the corpus
(tests/data/aws-recorded), or localstack's AWS-recorded snapshots (the corpus's source,
Apache-2.0), transcribed event by event where the corpus lacks them. Where AWS recorded none,
the history is built here and its expected outcome corrected by hand to AWS's documentation or
to the source AWS runs (Jayway JsonPath); each test's docstring says which.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sfn_trace.asl.jsonpath import PathSyntaxError, Roots, StatesRuntime, parse_path, read, select
from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.replay import Fault, Replay, ReplayStatus
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history
from tests.history_builder import History


def replay_events(definition: dict[str, Any] | str, events: list[dict[str, Any]]) -> list[Replay]:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    parsed = Definition.from_text(text)
    tree = build_visits(events_from_api(events), parsed)
    return list(replay_visits(tree, parsed).values())


def replay_built(definition: dict[str, Any], build: Callable[[History], None]) -> list[Replay]:
    history = History()
    build(history)
    return replay_events(definition, history.events)


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def one_item_map_succeeds(h: History, started: int) -> None:
    """Map ``M`` (started at event ``started``) runs its one item ``"a"`` through the Pass
    state ``I``, and the execution succeeds with ``["a"]``."""
    h.add("MapIterationStarted", name="M", index=0)
    h.pass_state("I", "a", "a")
    h.add("MapIterationSucceeded", name="M", index=0)
    h.add("MapStateSucceeded", started)
    h.add("MapStateExited", name="M", output=["a"])
    h.succeed(["a"])


def prefix(state: str, entered: int = 2) -> str:
    return (
        f"An error occurred while executing the state '{state}' "
        f"(entered at the event id #{entered}). "
    )


# --- 1. Wait timestamps ---------------------------------------------------------------------


REJECTED_BY_AWS = [
    # corpus history, the value AWS named in its cause
    ("test_base_scenarios__test_wait_timestamp_path_NO_Z", "2016-12-05T21:29:29"),
    ("test_base_scenarios__test_wait_timestamp_path_INVALID_DATE", "2016-13-05T21:29:29Z"),
    ("test_base_scenarios__test_wait_timestamp_jsonata_INVALID_DATE", "2016-13-05T21:29:29Z"),
]


@pytest.mark.parametrize(("name", "value"), REJECTED_BY_AWS, ids=[n for n, _ in REJECTED_BY_AWS])
def test_a_timestamp_aws_rejected_fails_with_aws_error_and_cause(name: str, value: str) -> None:
    """Recorded by AWS. The corpus replaced the timestamp in the input with ``"timestamp"``
    but kept AWS's cause, which names it: the input gets that value back, and the replay must
    then fail with AWS's error and cause, word for word (the JSONPath ``TimestampPath`` with
    ``States.Runtime``, the JSONata ``Timestamp`` with ``States.QueryEvaluationError``)."""
    events = json.loads(corpus_history(name).read_text())["events"]
    recorded = next(e for e in events if e["type"] == "ExecutionFailed")
    assert recorded["executionFailedEventDetails"]["cause"].endswith(value)
    for event in events:
        for details in event.values():
            if isinstance(details, dict) and isinstance(details.get("input"), str):
                details["input"] = details["input"].replace('"timestamp"', json.dumps(value))
    definition = corpus_definition(name)
    assert definition is not None
    [replay] = replay_events(definition.read_text(), events)
    assert replay.status is ReplayStatus.MATCH, replay.reason
    assert replay.failure is not None
    assert replay.failure.error == recorded["executionFailedEventDetails"]["error"]
    assert replay.failure.cause == recorded["executionFailedEventDetails"]["cause"]


ACCEPTED = [
    "2016-03-14T01:59:00Z",  # the corpus's literal Timestamp (test_wait_timestamp_SECONDS)
    "2024-08-18T17:33:00.00Z",  # fractions: 2, 3, 6, 7, 9 digits as in the recorded tests
    "2024-08-18T17:33:00.000Z",
    "2024-08-18T17:33:00.000000Z",
    "2024-08-18T17:33:00.0000000Z",
    "2024-08-18T17:33:00.123456789Z",
    "2024-02-29T23:59:59Z",  # a leap day
    "2024-08-18T17:33:00+02:00",  # an RFC 3339 offset (Java's ISO offset format reads it)
]
REJECTED = [
    "2024-08-18T17:33:00",  # no zone (recorded: NO_Z, and the ".000000" suffix)
    "2024-13-18T17:33:00Z",  # month 13 (recorded: INVALID_DATE)
    "2024-08-18T25:33:00Z",  # hour 25
    "2024-08-18T24:00:00Z",  # hour 24
    "2024-08-18T17:60:00Z",  # minute 60
    "2023-02-29T00:00:00Z",  # no leap day in 2023
    "2024-04-31T00:00:00Z",  # April has 30 days
    "2024-08-18 17:33:00Z",  # no T
    "2024-08-18",  # a date alone
    "17:33:00Z",  # a time alone
    "2024-08-18T17:33:00+0200",  # an offset without its colon
    "",
    "timestamp",
]


def wait_history(value: str, accepted: bool) -> Callable[[History], None]:
    document = {"at": value}

    def build(h: History) -> None:
        h.start(document)
        h.add("WaitStateEntered", name="W", input=document)
        if accepted:
            h.add("WaitStateExited", name="W", output=document)
            h.succeed(document)
        else:
            h.add(
                "ExecutionFailed",
                error="States.Runtime",
                cause=prefix("W") + "The TimestampPath parameter does not reference a valid "
                f"ISO-8601 extended offset date-time format string: $.at == {value}",
            )

    return build


WAIT = machine(W={"Type": "Wait", "TimestampPath": "$.at", "End": True})


@pytest.mark.parametrize(
    ("value", "accepted"), [(v, True) for v in ACCEPTED] + [(v, False) for v in REJECTED]
)
def test_wait_timestamp_path_accepts_what_aws_documents(value: str, accepted: bool) -> None:
    """Built here, the outcome corrected by hand to AWS's rule: "Timestamps must conform to
    the RFC3339 profile of ISO 8601, with the further restrictions that an uppercase T must
    separate the date and time portions, and an uppercase Z must denote that a numeric time
    zone offset is not present" (https://docs.aws.amazon.com/step-functions/latest/dg/
    state-wait.html), the cause as AWS recorded it (tests/data/aws-recorded), dates and
    times that exist (AWS rejected month 13). A history with the other outcome must not
    match."""
    [replay] = replay_built(WAIT, wait_history(value, accepted))
    assert replay.status is ReplayStatus.MATCH, replay.reason
    [wrong] = replay_built(WAIT, wait_history(value, not accepted))
    assert wrong.status is ReplayStatus.MISMATCH


@pytest.mark.parametrize(
    "value", ["2024-08-18t17:33:00Z", "2024-08-18T17:33:00z", "2024-08-18T17:33Z", 20240818]
)
def test_a_timestamp_no_aws_record_settles_is_not_judged(value: Any) -> None:
    """Built here. A lowercase ``t`` or ``z`` or a time without seconds: RFC 3339 and AWS's
    documentation reject them, Java's ISO_OFFSET_DATE_TIME (whose name AWS's cause uses)
    reads them; a number is no string at all. Nothing recorded says what AWS does: the
    replay says it does not evaluate this, and blames nobody else."""
    document = {"at": value}

    def build(h: History) -> None:
        h.start(document)
        h.add("WaitStateEntered", name="W", input=document)
        h.add("WaitStateExited", name="W", output=document)
        h.succeed(document)

    [replay] = replay_built(WAIT, build)
    assert replay.status is ReplayStatus.NOT_REPLAYED and replay.fault is Fault.SFN_TRACE
    assert "Wait TimestampPath" in (replay.reason or "")


# --- 2. Map settings read at run time --------------------------------------------------------


def test_a_max_concurrency_path_reading_a_variable_that_holds_a_string() -> None:
    """Recorded by AWS: localstack's snapshot test_assign_reference_variables.snapshot.json,
    ``test_reference_in_map_state[MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH]``, with its
    template map_state_reference_in_max_concurrency_path.json5, transcribed event by event
    (ids and predecessors as recorded; the corpus lacks this history). The variable holds the
    string ``"1"``; AWS reads it as the number and runs the Map."""
    definition = machine(
        Start={
            "Type": "Pass",
            "Assign": {"maxConcurrency": "1"},
            "Result": {"Values": [1, 2, 3]},
            "Next": "MapState",
        },
        MapState={
            "Type": "Map",
            "ItemsPath": "$.Values",
            "MaxConcurrencyPath": "$maxConcurrency",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "HandleItem",
                "States": {"HandleItem": {"Type": "Pass", "End": True}},
            },
            "End": True,
        },
    )

    def build(h: History) -> None:
        h.start({})
        h.add("PassStateEntered", 0, name="Start", input={})
        h.add(
            "PassStateExited",
            name="Start",
            output={"Values": [1, 2, 3]},
            assignedVariables={"maxConcurrency": '"1"'},
            assignedVariablesDetails={"truncated": False},
        )
        h.add("MapStateEntered", name="MapState", input={"Values": [1, 2, 3]})
        h.add("MapStateStarted", length=3)
        previous = h.last
        for index, item in enumerate([1, 2, 3]):
            h.add("MapIterationStarted", previous, index=index, name="MapState")
            h.add("PassStateEntered", name="HandleItem", input=item)
            previous = h.add("PassStateExited", name="HandleItem", output=item)
            h.add("MapIterationSucceeded", index=index, name="MapState")
        h.add("MapStateSucceeded", previous)
        h.add("MapStateExited", previous, name="MapState", output=[1, 2, 3])
        h.succeed([1, 2, 3])

    replays = replay_built(definition, build)
    assert [r.status for r in replays] == [ReplayStatus.MATCH] * 5, [r.reason for r in replays]


def test_a_negative_max_items_path_fails_the_item_reader_as_recorded() -> None:
    """Recorded by AWS (corpus test_map_item_reader_csv_max_items_paths_-1): MaxItemsPath
    reads -1 and the Map Run fails with ``States.ItemReaderFailed``, "field MaxItems must be
    positive", before any item is read from S3."""
    name = "test_base_scenarios__test_map_item_reader_csv_max_items_paths_-1"
    definition = corpus_definition(name)
    assert definition is not None
    events = json.loads(corpus_history(name).read_text())["events"]
    [replay] = replay_events(definition.read_text(), events)
    assert replay.status is ReplayStatus.MATCH, replay.reason
    assert replay.failure is not None
    assert (replay.failure.error, replay.failure.cause) == (
        "States.ItemReaderFailed",
        "field MaxItems must be positive",
    )


SETTINGS = [
    # field, the value it reads, the cause AWS fails with (None: it runs)
    ("MaxConcurrencyPath", "3", None),
    ("MaxConcurrencyPath", 0, None),
    ("MaxConcurrencyPath", "+2", None),
    (
        "MaxConcurrencyPath",
        3.0,
        'The MaxConcurrencyPath field refers to value "3.0" which is not a valid integer: $.v',
    ),
    (
        "MaxConcurrencyPath",
        "1.5",
        'The MaxConcurrencyPath field refers to value "1.5" which is not a valid integer: $.v',
    ),
    (
        "MaxConcurrencyPath",
        True,
        'The MaxConcurrencyPath field refers to value "true" which is not a valid integer: $.v',
    ),
    (
        "MaxConcurrencyPath",
        -1,
        "Expected non-negative integer for MaxConcurrency, got '-1' instead.",
    ),
    (
        "MaxConcurrencyPath",
        "-2",
        "Expected non-negative integer for MaxConcurrency, got '-2' instead.",
    ),
    ("ToleratedFailureCountPath", "2", None),
    ("ToleratedFailureCountPath", "-1", "ToleratedFailureCount cannot be negative."),
    ("ToleratedFailurePercentagePath", "12.5", None),
    ("ToleratedFailurePercentagePath", 100, None),
    (
        "ToleratedFailurePercentagePath",
        100.5,
        "ToleratedFailurePercentage must be between 0 and 100.",
    ),
    ("ToleratedFailurePercentagePath", -1, "ToleratedFailurePercentage must be between 0 and 100."),
    (
        "ToleratedFailurePercentagePath",
        [],
        'The ToleratedFailurePercentagePath field refers to value "[]" which is not a valid '
        "float: $.v",
    ),
]


@pytest.mark.parametrize(("field", "value", "cause"), SETTINGS)
def test_map_path_settings_coerce_and_check_as_aws_does(
    field: str, value: Any, cause: str | None
) -> None:
    """Built here, the outcome corrected by hand. The recorded corpus gives the rejections'
    wording ("not a valid integer"/"float" for ``{}``, ``"NoNumber"`` and ``1.5``;
    "ToleratedFailureCount cannot be negative.") and localstack's AWS-recorded snapshot gives
    the coercion (a variable holding ``"1"`` is read as 1); a number with a fraction is a
    Java double, so ``3.0`` is no integer either. The causes for a negative MaxConcurrency
    and a percentage beyond 0..100 are those of localstack's implementation (validated
    against AWS), as no recorded history has them."""
    definition = machine(
        M={
            "Type": "Map",
            "ItemsPath": "$.items",
            field: "$.v",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    document = {"items": ["a"], "v": value}

    def build(h: History) -> None:
        h.start(document)
        entered = h.add("MapStateEntered", name="M", input=document)
        started = h.add("MapStateStarted", entered, length=1)
        if cause is not None:
            h.add("ExecutionFailed", error="States.Runtime", cause=prefix("M") + cause)
            return
        one_item_map_succeeds(h, started)

    replay = replay_built(definition, build)[0]
    assert replay.status is ReplayStatus.MATCH, replay.reason
    assert (replay.failure is None) is (cause is None)


def test_jsonata_map_settings_are_evaluated_with_the_variables() -> None:
    """Built here, corrected by hand to AWS's documentation: in JSONata a Map's
    ``MaxConcurrency`` may be an expression (https://docs.aws.amazon.com/step-functions/latest/
    dg/state-map-inline.html); it reads the variables, and one that evaluates to nothing
    fails like every JSONata field, with ``States.QueryEvaluationError`` naming the field
    (the wording AWS recorded for ``Output`` and ``Items``)."""

    def definition(expression: str) -> dict[str, Any]:
        return {
            "QueryLanguage": "JSONata",
            **machine(
                S={"Type": "Pass", "Assign": {"limit": 2}, "Next": "M"},
                M={
                    "Type": "Map",
                    "Items": "{% $states.input.items %}",
                    "MaxConcurrency": expression,
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                },
            ),
        }

    document = {"items": ["a"]}

    def build(failed: str | None) -> Callable[[History], None]:
        def run(h: History) -> None:
            h.start(document)
            h.add("PassStateEntered", name="S", input=document)
            h.add("PassStateExited", name="S", output=document, assignedVariables={"limit": "2"})
            entered = h.add("MapStateEntered", name="M", input=document)
            if failed is not None:
                h.add("ExecutionFailed", error="States.QueryEvaluationError", cause=failed)
                return
            started = h.add("MapStateStarted", entered, length=1)
            one_item_map_succeeds(h, started)

        return run

    replays = replay_built(definition("{% $limit %}"), build(None))
    assert [r.status for r in replays] == [ReplayStatus.MATCH] * 3
    cause = prefix("M", 4) + (
        "The JSONata expression '$nolimit' specified for the field 'MaxConcurrency' returned "
        "nothing (undefined)."
    )
    replays = replay_built(definition("{% $nolimit %}"), build(cause))
    assert replays[1].status is ReplayStatus.MATCH, replays[1].reason
    assert replays[1].failure is not None and replays[1].failure.cause == cause


# --- 3. JSONPath bracket notation --------------------------------------------------------------


DOCUMENT: dict[str, Any] = {
    "a'b": 1,
    'say "hi"': 2,
    "tab\tname": 3,
    "x": {"y z": 4},
    "m": {"p": 5, "q": 6},
    "it's": 7,
    "back\\slash": 8,
    "é": 9,
    "a,b]": 10,
}

BRACKETS = [
    # the path as the definition's JSON string holds it, what it reads
    ("$['a\\'b']", 1),  # an escaped quote
    ('$["a\'b"]', 1),  # the other quote is an ordinary character
    ('$["say \\"hi\\""]', 2),
    ("$['say \"hi\"']", 2),
    ("$['tab\\tname']", 3),  # Jayway's escapes: \t, \n, \r, \f, \b, \uXXXX
    ("$['\\u00e9']", 9),
    ("$['back\\\\slash']", 8),
    ("$[ 'x' ][ \"y z\" ]", 4),  # spaces around a name
    ("$.['x']['y z']", 4),  # a dot before a bracket
    ("$.it's", 7),  # a dot name runs to the next '.', '[' or '('
    ("$['a,b]']", 10),  # ',' and ']' inside the quotes
    ("$.m['p','q']", {"p": 5, "q": 6}),  # several names at the end: one object of them
    ("$.m['q', 'p', 'nope']", {"q": 6, "p": 5}),  # in the order named, absent ones left out
]


@pytest.mark.parametrize(("path", "expected"), BRACKETS, ids=[p for p, _ in BRACKETS])
def test_bracket_paths_read_what_jayway_reads(path: str, expected: Any) -> None:
    """Corrected by hand to the source AWS runs, Jayway JsonPath
    (https://github.com/json-path/JsonPath: ``PathCompiler.readBracketPropertyToken`` reads
    the names of one bracket, all in the quote that opens it, a backslash escaping the next
    character; ``Utils.unescape`` turns ``\\t``, ``\\uXXXX`` ... into characters and any other
    escaped character into itself; ``PropertyPathToken`` merges several names at the end of
    a path into one object). No recorded AWS history uses these forms."""
    parsed = parse_path(path)
    assert parsed.definite
    assert read(parsed, Roots(DOCUMENT)) == expected


def test_bracket_paths_in_a_replayed_state() -> None:
    """Built here, the output corrected by hand as in the test above: a Pass state's
    Parameters and OutputPath written with escaped quotes replay to what AWS would output."""
    definition = machine(
        P={
            "Type": "Pass",
            "Parameters": {
                "quote.$": "$['a\\'b']",
                "said.$": '$["say \\"hi\\""]',
                "tab.$": "$['tab\\tname']",
                "both.$": "$.m['p','q']",
            },
            "OutputPath": "$['both']",
            "End": True,
        }
    )
    output = {"p": 5, "q": 6}

    def build(h: History) -> None:
        h.start(DOCUMENT)
        h.pass_state("P", DOCUMENT, output)
        h.succeed(output)

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.MATCH, replay.reason
    assert replay.steps[1].value == {"quote": 1, "said": 2, "tab": 3, "both": output}


MISSING = [
    # the path, AWS's cause after "Invalid path '<path>' : "
    ('$["say \\"ho\\""]', 'No results for path: $["say "ho""]'),
    ("$['a\\'c']", "No results for path: $['a\\'c']"),
    ("$['x']['nope']['z']", "Missing property in path $['x']['nope']"),
    ("$.m['p'][3]", "No results for path: $['m']['p'][3]"),
]


@pytest.mark.parametrize(("path", "detail"), MISSING, ids=[p for p, _ in MISSING])
def test_a_missing_bracket_path_is_named_as_jayway_prints_it(path: str, detail: str) -> None:
    """Corrected by hand to Jayway's messages: a missing last step is "No results for path"
    with the path printed back from its tokens (``PropertyPathToken.getPathFragment``: the
    quote the name was written with, ``\\`` and ``'`` escaped); a missing step before the
    last is "Missing property in path" up to it (``PathToken.handleObjectProperty``, names as
    they are). AWS wraps them as ``Invalid path '<path>' : ...`` (recorded for
    ``$['NoSuchInputPath']``)."""
    with pytest.raises(StatesRuntime) as raised:
        select(path, Roots(DOCUMENT))
    assert str(raised.value) == f"States.Runtime: Invalid path '{path}' : {detail}"


def test_a_bad_escape_is_a_path_syntax_error() -> None:
    """Jayway's ``Utils.unescape`` rejects a ``\\u`` not followed by four hex digits."""
    with pytest.raises(PathSyntaxError):
        parse_path("$['\\uZZZZ']")


# --- 4. a JSONata Choice Rule's Output and Assign --------------------------------------------


CHOICE = {
    "QueryLanguage": "JSONata",
    **machine(
        C={
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $states.input.n > 1 %}",
                    "Next": "Big",
                    "Output": {"size": "big", "n": "{% $states.input.n %}"},
                    "Assign": {"picked": "{% 'rule ' & $string($states.input.n) %}"},
                },
                {"Condition": "{% $states.input.n = 1 %}", "Next": "Big"},
            ],
            "Default": "Small",
            "Output": {"size": "small"},
            "Assign": {"picked": "default"},
        },
        Big={"Type": "Succeed"},
        Small={"Type": "Succeed"},
    ),
}


@pytest.mark.parametrize(
    ("n", "output", "assigned", "next_state"),
    [
        (5, {"size": "big", "n": 5}, {"picked": '"rule 5"'}, "Big"),
        (1, {"n": 1}, None, "Big"),
        (0, {"size": "small"}, {"picked": '"default"'}, "Small"),
    ],
)
def test_a_choice_rule_brings_its_own_output_and_assign(
    n: int, output: Any, assigned: dict[str, str] | None, next_state: str
) -> None:
    """Built here, corrected by hand to AWS's documentation of the Choice state
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html: a rule's
    ``Assign`` "assigns variables when this specific choice rule matches"; the state's own
    with ``Default``, as recorded in test_assign_base__test_assign_in_choice_CONDITION_TRUE/
    _FALSE) and to localstack's implementation for ``Output`` (validated against AWS): the
    matched rule's Output and Assign, none when the rule has none (the state's output is
    then its input), the state's own when it goes to its Default."""
    document = {"n": n}

    def build(h: History) -> None:
        h.start(document)
        h.add("ChoiceStateEntered", name="C", input=document)
        details: dict[str, Any] = {"name": "C", "output": output}
        if assigned is not None:
            details["assignedVariables"] = assigned
        h.add("ChoiceStateExited", **details)
        h.add("SucceedStateEntered", name=next_state, input=output)
        h.add("SucceedStateExited", name=next_state, output=output)
        h.succeed(output)

    choice = replay_built(CHOICE, build)[0]
    assert choice.status is ReplayStatus.MATCH, choice.reason
    assert choice.steps[-1].value == output
