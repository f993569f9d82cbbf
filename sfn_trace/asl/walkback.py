"""Walking a location back through a state's data-flow steps, and which reads read the field.

The one home of the rules the blame chain (:mod:`sfn_trace.trace.chain`, on replayed
documents) and lint (:mod:`sfn_trace.checks.lint`, on the definition alone) both follow
when they step backwards through the steps of :mod:`sfn_trace.asl.dataflow`:

- one step back: where a template member (:func:`member_source`), a path
  (:func:`path_source`), a JSONata expression (:func:`jsonata_source`) or a ``ResultPath``
  (:func:`result_path_back`) took a location of what it made from. The chain and lint each
  dispatch on the step's kind (the table's) and say what the answer means for them: the
  chain an origin or the step to go on from, lint a state that can drop the field;
- the computed members of a template, with where each lands (:func:`computed_members`);
- which steps of a state can read the tracked field from its input
  (:func:`reading_steps`), and whether a member reads it (:func:`field_reads`).

**Reads the field.** A member reads the field ``F`` when it dereferences ``F`` (a path
whose last step is ``F``) from data the state consumes:

- its input: a JSONPath ``"k.$"`` path, or a path argument of an intrinsic, rooted at ``$``
  (the effective input, after ``InputPath``); a JSONata ``$states.input(.name|[n])*.F``
  anywhere in the expression (the raw input);
- a variable (``$v.F``, in both languages) or the context object (``$$.Execution.Input.F``,
  ``$states.context...F``): the state consumes the field's value from there, and the blame
  chain names where that came from (the ``Assign`` that set the variable, the execution
  input). Lint names the state as a reader, but has nothing to follow back along the data
  flow: an ``Assign`` or the execution input made the value, not the states before it.

Not reads of the field: ``$states.result`` (the state's own result, which a JSONPath state
reads only in ``ResultSelector``, a step no read starts from: the chain follows a value
through it), ``F``'s members (``$states.input.F.a`` reads ``a``), and ``F`` named in a string
or a key. From https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
(``$states.input`` "the original input to the state", ``$states.result``,
``$states.context``) and
https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sfn_trace.asl import dataflow, jsonata_eval
from sfn_trace.asl.dataflow import Kind, Reads
from sfn_trace.asl.intrinsics import is_intrinsic, parse_intrinsic, paths_in
from sfn_trace.asl.jsonpath import ParsedPath, Segment, StatesError, parse_path
from sfn_trace.asl.templates import template_member

__all__ = [
    "FieldRead",
    "From",
    "JsonataPath",
    "Merge",
    "Source",
    "computed_members",
    "field_reads",
    "jsonata_input_prefix",
    "jsonata_path",
    "jsonata_segments",
    "jsonata_source",
    "member_source",
    "parsed_path",
    "path_location",
    "path_source",
    "reading_steps",
    "result_path_back",
    "under_result_path",
]

_STEPS = r"((?:\.[A-Za-z_]\w*|\[\d+\])*)"
_STATES_PATH = re.compile(r"^\$states\.(input|result|errorOutput|context)" + _STEPS + "$")
_VARIABLE_PATH = re.compile(r"^\$([A-Za-z_]\w*)" + _STEPS + "$")
_STATES_INPUT = re.compile(r"\$states\.input" + _STEPS)
_SEGMENT = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")


def jsonata_segments(text: str) -> tuple[Segment, ...]:
    """``.a.b[0]`` → ``("a", "b", 0)``."""
    return tuple(int(index) if index else name for name, index in _SEGMENT.findall(text))


_STEP_DOWN = re.compile(r"\.(?:\*\*|\*|[A-Za-z_]\w*)")


def jsonata_input_prefix(text: str) -> tuple[Segment, ...] | None:
    """The plain ``$states.input`` path that a JSONata path starts with, when what follows
    only goes further down: ``.name``, ``.*``, ``.**`` and bracketed predicates or indexes
    (``$states.input.messages[-1].content[name = "x"]`` → ``("messages",)``); None when it
    is no such path or goes on with anything else (an operator, a function call)."""
    start = _STATES_INPUT.match(text)
    if start is None or start.end() == len(text) or not _goes_down(text, start.end()):
        return None
    return jsonata_segments(start.group(1))


def _goes_down(text: str, at: int) -> bool:
    """Whether ``text[at:]`` is only path steps (brackets and quotes balanced)."""
    while at < len(text):
        step = _STEP_DOWN.match(text, at)
        if step is not None:
            at = step.end()
            continue
        if text[at] != "[":
            return False
        depth, quote_char = 0, ""
        while at < len(text):
            char = text[at]
            if quote_char:
                if char == "\\":
                    at += 1
                elif char == quote_char:
                    quote_char = ""
            elif char in "\"'":
                quote_char = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    break
            at += 1
        if depth != 0:
            return False
        at += 1
    return True


@dataclass(frozen=True)
class JsonataPath:
    """A JSONata expression that is only a plain path: ``$states.input.a[0]`` or ``$v.x``."""

    root: str
    """``input``, ``result``, ``errorOutput`` or ``context`` (of ``$states``), or the name of
    a variable."""
    segments: tuple[Segment, ...]
    variable: bool = False


def jsonata_path(text: str) -> JsonataPath | None:
    """The plain path a JSONata expression is, or None (anything beyond a plain path
    computes its value)."""
    states = _STATES_PATH.match(text)
    if states is not None:
        return JsonataPath(states.group(1), jsonata_segments(states.group(2)))
    variable = _VARIABLE_PATH.match(text)
    if variable is not None and variable.group(1) != "states":
        return JsonataPath(variable.group(1), jsonata_segments(variable.group(2)), True)
    return None


def parsed_path(expression: Any) -> ParsedPath | None:
    """A JSONPath parsed, or None when it is not a string or not a path."""
    if not isinstance(expression, str):
        return None
    try:
        return parse_path(expression)
    except StatesError:
        return None


def path_location(expression: Any) -> tuple[Segment, ...] | None:
    """The location a definite path rooted at ``$`` selects; None for anything else (the
    context ``$$``, a variable, an indefinite path, not a path)."""
    parsed = parsed_path(expression)
    if parsed is None or parsed.root != "$" or parsed.segments is None:
        return None
    return parsed.segments


def under_result_path(
    prefix: tuple[Segment, ...], location: tuple[Segment, ...]
) -> tuple[Segment, ...] | None:
    """Where ``location`` of a ``ResultPath`` step's output is in what it put at ``prefix``
    (the result, or a catcher's error output); None: outside that node, where the value is
    the raw input's, untouched."""
    if tuple(location[: len(prefix)]) != prefix:
        return None
    return location[len(prefix) :]


@dataclass(frozen=True)
class Merge:
    """One step back through a ``ResultPath`` (a state's, or a catcher's)."""

    location: tuple[Segment, ...] | None
    """Inside: the location in what was put there; outside: the same location of the raw
    input; None: the ``ResultPath`` is not a definite path rooted at ``$``."""
    inside: bool
    prefix: tuple[Segment, ...] = ()
    """Where the ``ResultPath`` puts it."""


def result_path_back(expression: Any, location: tuple[Segment, ...]) -> Merge:
    """Where ``location`` of what a ``ResultPath`` made came from: ``null`` keeps the raw
    input; inside its node the value is what it put there, outside it the raw input's."""
    if expression is None:
        return Merge(location, False)
    prefix = path_location(expression)
    if prefix is None:
        return Merge(None, False)
    inside = under_result_path(prefix, location)
    if inside is None:
        return Merge(location, False)
    return Merge(inside, True, prefix)


class From(str, Enum):
    """Where a member of a template (or a path step) took the value it wrote."""

    DOCUMENT = "document"
    """A location of the document the step reads (a JSONPath rooted at ``$``)."""
    RAW_INPUT = "raw input"
    """JSONata's ``$states.input``."""
    RESULT = "result"
    """JSONata's ``$states.result``."""
    ERROR = "error output"
    """JSONata's ``$states.errorOutput``."""
    CONTEXT = "context"
    """The context object (``$$``, ``$states.context``)."""
    VARIABLE = "variable"
    """A workflow variable (``Source.detail`` names it)."""
    COMPUTED = "computed"
    """An intrinsic, an indefinite path, a JSONata expression beyond a plain path."""
    LITERAL = "literal"
    """Written in the template itself."""


@dataclass(frozen=True)
class Source:
    """One step backwards through a path or a template member."""

    source: From
    location: tuple[Segment, ...] | None
    """The location in what ``source`` names (None: computed)."""
    key: str = ""
    """The template member's key (``"k.$"``, ``"k"``; ``""``: the whole template)."""
    value: Any = None
    """The member's value (the path or expression)."""
    detail: str | None = None
    """The variable's name, or the expression of a context or computed value."""


def path_source(expression: Any, rest: tuple[Segment, ...]) -> Source:
    """Where a JSONPath (of a path step or a ``"k.$"`` member) took ``rest`` of what it
    selected from: the document read, the context or a variable."""
    parsed = parsed_path(expression)
    if parsed is None or parsed.segments is None:
        return Source(From.COMPUTED, None, detail=str(expression))
    location = parsed.segments + rest
    if parsed.root == "$$":
        return Source(From.CONTEXT, location, detail=str(expression))
    if parsed.root != "$":
        return Source(From.VARIABLE, location, detail=parsed.root)
    return Source(From.DOCUMENT, location)


_JSONATA_ROOTS = {
    "input": From.RAW_INPUT,
    "result": From.RESULT,
    "errorOutput": From.ERROR,
    "context": From.CONTEXT,
}


def jsonata_source(text: str, rest: tuple[Segment, ...]) -> Source:
    """Where a JSONata expression took ``rest`` of its value from: a plain path is followed
    (``$states.input.a.b``, ``$var.x``); anything else computed the value."""
    plain = jsonata_path(text)
    if plain is None:
        return Source(From.COMPUTED, None, detail=text)
    location = plain.segments + rest
    if plain.variable:
        return Source(From.VARIABLE, location, detail=plain.root)
    source = _JSONATA_ROOTS[plain.root]
    return Source(source, location, detail=text if source is From.CONTEXT else None)


def member_source(template: Any, location: tuple[Segment, ...]) -> Source | None:
    """Where the member of ``template`` that wrote ``location`` of its document took the
    value from (a ``"k.$"`` path or intrinsic, a JSONata expression, or a literal); None when
    the template does not write ``location`` (or is not a template)."""
    if isinstance(template, Mapping):
        member = template_member(template, location)
    elif jsonata_eval.is_expression(template):
        member = ("", template, 0)
    else:
        member = None
    if member is None:
        return None
    key, value, consumed = member
    rest = location[consumed:]
    if key.endswith(".$") and isinstance(value, str):
        found = path_source(value, rest)
    elif jsonata_eval.is_expression(value):
        found = jsonata_source(jsonata_eval.expression_text(value), rest)
    else:
        return Source(From.LITERAL, location, key, value)
    return Source(found.source, found.location, key, value, found.detail)


def computed_members(
    template: Any, at: tuple[Segment, ...] = ()
) -> Iterator[tuple[tuple[Segment, ...], str, Any]]:
    """(location in the rendered document, key, value) of each computed member of a template
    (a ``"k.$"`` member, or a JSONata expression: a member's value, an array's element or the
    whole template), in the template's order. An explicit stack: the definition chooses how
    deep templates nest."""
    stack: list[tuple[Any, tuple[Segment, ...], str | None]] = [(template, at, None)]
    while stack:
        node, where, key = stack.pop()
        if key is not None:
            yield where, key, node
        elif isinstance(node, Mapping):
            members: list[tuple[Any, tuple[Segment, ...], str | None]] = []
            for name, value in node.items():
                if name.endswith(".$"):
                    members.append((value, (*where, name[:-2]), name))
                elif jsonata_eval.is_expression(value):
                    members.append((value, (*where, name), name))
                else:
                    members.append((value, (*where, name), None))
            stack.extend(reversed(members))
        elif isinstance(node, list):
            stack.extend((value, (*where, i), None) for i, value in reversed(list(enumerate(node))))
        elif jsonata_eval.is_expression(node):
            yield where, "", node


@functools.lru_cache(maxsize=64)
def reading_steps(query_language: str, state_type: str) -> tuple[dataflow.DataStep, ...]:
    """The steps of a state type whose templates can read the field from the state's input:
    every template, item template and ``Assign`` of its row that reads the input (raw,
    effective, or JSONata's ``$states``), not those that read the result (``ResultSelector``,
    a JSONPath ``Assign`` after a result)."""
    kinds = (Kind.TEMPLATE, Kind.TASK_INPUT, Kind.ITEM_TEMPLATE, Kind.ASSIGN)
    reads = (Reads.RAW_INPUT, Reads.EFFECTIVE_INPUT, Reads.STATES)
    return tuple(
        step
        for step in dataflow.steps_of(query_language, state_type)
        if step.kind in kinds and step.reads in reads
    )


@dataclass(frozen=True)
class FieldRead:
    """One read of the field by a member."""

    location: tuple[Segment, ...]
    """Where it reads it, in what ``source`` names."""
    source: From
    """:attr:`From.DOCUMENT` (a JSONPath rooted at ``$``: the effective input),
    :attr:`From.RAW_INPUT` (``$states.input``), :attr:`From.VARIABLE` or
    :attr:`From.CONTEXT`."""
    variable: str | None = None
    """The variable's name."""


_JSONATA_READ = re.compile(r"(?<![\w$.])\$([A-Za-z_]\w*)" + _STEPS)


def field_reads(key: str, value: Any, field: str) -> Iterator[FieldRead]:
    """Each read of ``field`` by one computed member (see the module's docstring)."""
    if not isinstance(value, str):
        return
    if key.endswith(".$"):
        paths = [value]
        if is_intrinsic(value):
            try:
                paths = list(paths_in(parse_intrinsic(value)))
            except StatesError:
                return
        for path in paths:
            found = path_source(path, ())
            if found.location and found.location[-1] == field:
                variable = found.detail if found.source is From.VARIABLE else None
                yield FieldRead(found.location, found.source, variable)
        return
    if not jsonata_eval.is_expression(value):
        return
    for match in _JSONATA_READ.finditer(jsonata_eval.expression_text(value)):
        name, location = match.group(1), jsonata_segments(match.group(2))
        if name == "states":
            root, location = (location[0], location[1:]) if location else (None, ())
            source = {"input": From.RAW_INPUT, "context": From.CONTEXT}.get(str(root))
            if source is not None and location and location[-1] == field:
                yield FieldRead(location, source)
        elif location and location[-1] == field:
            yield FieldRead(location, From.VARIABLE, name)
