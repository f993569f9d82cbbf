"""The data flow of every state type, written once: which steps a state runs, in which
order, which document each step reads and what it makes.

One table per query language (:data:`JSONPATH`, :data:`JSONATA`), one row per state type,
each a tuple of :class:`DataStep`. Four readers, and no other place spells these rules:

- the replay (:mod:`sfn_trace.asl.replay`) runs a visit's steps in this order;
- the blame chain (:mod:`sfn_trace.trace.chain`) follows a value backwards through them;
- lint (:mod:`sfn_trace.checks.lint`) walks a definition's states backwards through them;
- the report's advice (:mod:`sfn_trace.report.trace.markdown`) names the steps to check.

From AWS's documentation:
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
(JSONPath: InputPath → Parameters → the result → ResultSelector → ResultPath → OutputPath),
https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (JSONata:
Arguments → the result → Output, and Assign), and for Catch
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html.
docs/aws-reference.md sections 3 and 4 summarise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What a step does with the document it reads."""

    PATH = "path"
    """Selects one node of it with a JSONPath (``null``: the empty object)."""
    TEMPLATE = "template"
    """Builds a new document from a template: ``"key.$"`` paths and intrinsics (JSONPath),
    or ``{% %}`` expressions (JSONata); members it does not write are gone."""
    TASK_INPUT = "task input"
    """A template whose result is what the Task sends its resource (AWS records it, so the
    replay checks it)."""
    ITEMS = "items"
    """Evaluates to the array a Map iterates over."""
    ITEM_TEMPLATE = "item template"
    """A template rendered once per item (``$$.Map.Item``), making each iteration's input."""
    RESULT = "result"
    """The raw result, recorded by AWS: a Task's result, the outputs of a Map's iterations
    or of a Parallel's branches (in their order)."""
    LITERAL = "literal"
    """A result written in the definition (a Pass state's ``Result``)."""
    MERGE = "merge"
    """Puts the result at a path of the state's raw input (``null``: the input unchanged)."""
    ASSIGN = "assign"
    """Sets workflow variables; the document flowing on is unchanged."""


class Reads(str, Enum):
    """Which document a step reads."""

    RAW_INPUT = "raw input"
    """The state's input as it arrived (JSONata's ``$states.input``)."""
    PREVIOUS = "previous"
    """What the step before it made (the raw input for the first step)."""
    EFFECTIVE_INPUT = "effective input"
    """The input after ``InputPath``."""
    SELECTED_RESULT = "selected result"
    """The result after ``ResultSelector`` (JSONPath ``Assign`` reads it)."""
    STATES = "states"
    """JSONata's ``$states``: the input, the result (once there is one), the context."""


@dataclass(frozen=True)
class DataStep:
    """One step of a state's data flow."""

    name: str
    """The ASL field that writes it (``InputPath``, ``Parameters``, ``Result`` ...)."""
    kind: Kind
    reads: Reads
    default: str | None = None
    """What applies when the definition does not write the field (``"$"``: the document
    unchanged; ``"result or input"``: JSONata's Output); None: no step then."""
    also: tuple[str, ...] = ()
    """Older names for the same step (a legacy Map's ``Parameters`` for ``ItemSelector``)."""
    shapes_output: bool = True
    """Whether it can change the document the state passes on (``Assign`` cannot)."""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.also)


# JSONPath steps
INPUT_PATH = DataStep("InputPath", Kind.PATH, Reads.RAW_INPUT, default="$")
PARAMETERS = DataStep("Parameters", Kind.TEMPLATE, Reads.EFFECTIVE_INPUT)
TASK_PARAMETERS = DataStep("Parameters", Kind.TASK_INPUT, Reads.EFFECTIVE_INPUT)
ITEMS_PATH = DataStep("ItemsPath", Kind.PATH, Reads.EFFECTIVE_INPUT, default="$")
ITEM_SELECTOR = DataStep(
    "ItemSelector", Kind.ITEM_TEMPLATE, Reads.EFFECTIVE_INPUT, also=("Parameters",)
)
RESULT = DataStep("Result", Kind.RESULT, Reads.PREVIOUS)
PASS_RESULT = DataStep("Result", Kind.LITERAL, Reads.PREVIOUS)
RESULT_SELECTOR = DataStep("ResultSelector", Kind.TEMPLATE, Reads.PREVIOUS)
RESULT_PATH = DataStep("ResultPath", Kind.MERGE, Reads.PREVIOUS, default="$")
OUTPUT_PATH = DataStep("OutputPath", Kind.PATH, Reads.PREVIOUS, default="$")
ASSIGN = DataStep("Assign", Kind.ASSIGN, Reads.SELECTED_RESULT, shapes_output=False)
INPUT_ASSIGN = DataStep("Assign", Kind.ASSIGN, Reads.EFFECTIVE_INPUT, shapes_output=False)

# JSONata steps
ARGUMENTS = DataStep("Arguments", Kind.TEMPLATE, Reads.STATES)
TASK_ARGUMENTS = DataStep("Arguments", Kind.TASK_INPUT, Reads.STATES)
ITEMS = DataStep("Items", Kind.ITEMS, Reads.STATES)
JSONATA_ITEM_SELECTOR = DataStep("ItemSelector", Kind.ITEM_TEMPLATE, Reads.STATES)
OUTPUT = DataStep("Output", Kind.TEMPLATE, Reads.STATES, default="result or input")
JSONATA_ASSIGN = DataStep("Assign", Kind.ASSIGN, Reads.STATES, shapes_output=False)

JSONPATH: Mapping[str, tuple[DataStep, ...]] = {
    "Task": (
        INPUT_PATH,
        TASK_PARAMETERS,
        RESULT,
        RESULT_SELECTOR,
        RESULT_PATH,
        OUTPUT_PATH,
        ASSIGN,
    ),
    "Pass": (INPUT_PATH, PARAMETERS, PASS_RESULT, RESULT_PATH, OUTPUT_PATH, ASSIGN),
    "Map": (
        INPUT_PATH,
        ITEMS_PATH,
        ITEM_SELECTOR,
        RESULT,
        RESULT_SELECTOR,
        RESULT_PATH,
        OUTPUT_PATH,
        ASSIGN,
    ),
    "Parallel": (
        INPUT_PATH,
        PARAMETERS,
        RESULT,
        RESULT_SELECTOR,
        RESULT_PATH,
        OUTPUT_PATH,
        ASSIGN,
    ),
    "Choice": (INPUT_PATH, OUTPUT_PATH, INPUT_ASSIGN),
    "Wait": (INPUT_PATH, OUTPUT_PATH, INPUT_ASSIGN),
    "Succeed": (INPUT_PATH, OUTPUT_PATH, INPUT_ASSIGN),
    "Fail": (),
}
"""JSONPath states: InputPath → Parameters (Task: sent to the resource; Map: ItemsPath and
ItemSelector per item) → the result → ResultSelector → ResultPath → OutputPath; Assign reads
the selected result (a Choice's or Wait's, their effective input). A Pass state's ``Result``
replaces what Parameters made. Choice, Wait and Succeed only filter their input."""

JSONATA: Mapping[str, tuple[DataStep, ...]] = {
    "Task": (TASK_ARGUMENTS, RESULT, OUTPUT, JSONATA_ASSIGN),
    "Pass": (OUTPUT, JSONATA_ASSIGN),
    "Map": (ITEMS, JSONATA_ITEM_SELECTOR, RESULT, OUTPUT, JSONATA_ASSIGN),
    "Parallel": (ARGUMENTS, RESULT, OUTPUT, JSONATA_ASSIGN),
    "Choice": (OUTPUT, JSONATA_ASSIGN),
    "Wait": (OUTPUT, JSONATA_ASSIGN),
    "Succeed": (OUTPUT, JSONATA_ASSIGN),
    "Fail": (),
}
"""JSONata states: Arguments → the result → Output (default: the result, or the input for
states without one), and Assign; every expression reads ``$states`` (input, result,
context) and the variables as they were when the state was entered. A Choice's Output and
Assign are those of the Choice Rule that matched (:func:`choice_source`)."""

CHOICE_RULE_FIELDS = ("Output", "Assign")
"""A Choice Rule may carry its own ``Output`` (JSONata) and ``Assign`` (both languages)."""


def choice_source(state: Mapping[str, Any], rule: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Where a Choice state's :data:`CHOICE_RULE_FIELDS` come from: the Choice Rule that
    matched (its own, or none: the state's are then not used), else the state itself, as it
    goes to its ``Default``. The steps are those of the table's row; only the templates they
    render come from the rule.

    From https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html ("Assign ...
    assigns variables when this specific choice rule matches") and the AWS-recorded histories
    test_assign_base__test_assign_in_choice_CONDITION_TRUE/_FALSE (the rule's Assign when it
    matches, the state's with Default); a rule's ``Output`` the same way, as localstack's
    implementation (validated against AWS) evaluates it."""
    return rule if rule is not None else state


CATCH_JSONPATH = DataStep("ResultPath", Kind.MERGE, Reads.RAW_INPUT, default="$")
"""A caught error in a JSONPath state: the catcher's ResultPath puts ``{"Error", "Cause"}``
into the raw input (``$`` by default: the error output replaces it)."""
CATCH_JSONATA = DataStep("Output", Kind.TEMPLATE, Reads.STATES, default="error output")
"""A caught error in a JSONata state: the catcher's Output reads ``$states.errorOutput``
(default: the error output itself)."""

TABLES: Mapping[str, Mapping[str, tuple[DataStep, ...]]] = {
    "JSONPath": JSONPATH,
    "JSONata": JSONATA,
}


def steps_of(query_language: str, state_type: str) -> tuple[DataStep, ...]:
    """The data-flow steps of a state type, in the order AWS runs them (``()`` for a state
    type the table does not know)."""
    return TABLES.get(query_language, JSONPATH).get(state_type, ())


def step_named(query_language: str, state_type: str, name: str) -> DataStep | None:
    """The step of a state type that the ASL field ``name`` writes."""
    return next((s for s in steps_of(query_language, state_type) if name in s.names), None)


def catch_step(query_language: str) -> DataStep:
    """What a catcher does with the error output."""
    return CATCH_JSONATA if query_language == "JSONata" else CATCH_JSONPATH


def output_steps(
    query_language: str, state_type: str, *, after_result: bool = False, inputs: bool = True
) -> tuple[str, ...]:
    """The ASL fields that shape what a state passes on, in order: what to check when the
    field got lost there. ``after_result``: only those after its result; ``inputs=False``:
    without the paths that pick its input (InputPath, ItemsPath)."""
    steps = steps_of(query_language, state_type)
    at = next((i for i, s in enumerate(steps) if s.kind in (Kind.RESULT, Kind.LITERAL)), None)
    if after_result:
        steps = steps[at + 1 :] if at is not None else ()
    return tuple(
        s.name
        for position, s in enumerate(steps)
        if s.shapes_output
        and s.kind is not Kind.RESULT
        and (inputs or not (s.kind is Kind.PATH and at is not None and position < at))
    )


CATCH = "Catch"
"""The name a replay gives the step where a catcher turned the error into the output (it
runs :func:`catch_step`)."""


def before_result(query_language: str, state_type: str) -> tuple[str, ...]:
    """The ASL fields that make what a Map's iterations or a Parallel's branches start from:
    the steps before its result."""
    steps = steps_of(query_language, state_type)
    at = next((i for i, s in enumerate(steps) if s.kind is Kind.RESULT), len(steps))
    return tuple(name for step in steps[:at] for name in step.names)


def task_input(query_language: str, state_type: str) -> tuple[str, ...]:
    """The ASL fields that make what a Task sends its resource."""
    return tuple(
        name
        for s in steps_of(query_language, state_type)
        if s.kind is Kind.TASK_INPUT
        for name in s.names
    )


def work_input(query_language: str, state_type: str) -> tuple[str, ...]:
    """The ASL fields that make what a state hands its work: a Task's resource, a Parallel's
    branches, a Map's iterations (the templates before its result)."""
    steps = steps_of(query_language, state_type)
    at = next((i for i, s in enumerate(steps) if s.kind is Kind.RESULT), 0)
    kinds = (Kind.TASK_INPUT, Kind.TEMPLATE, Kind.ITEM_TEMPLATE)
    return tuple(name for s in steps[:at] if s.kind in kinds for name in s.names)
