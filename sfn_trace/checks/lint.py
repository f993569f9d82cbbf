"""Find, from the definition alone, the paths on which a field can be lost before it is read.

``sfn-trace lint definition.asl.json --field F`` (issue 4). For every state that *reads* the
field (:func:`sfn_trace.asl.walkback.field_reads`: a ``.$`` path or intrinsic argument rooted
at ``$`` and ending in ``F``, or a JSONata expression with a plain ``$states.input`` path
ending in ``F``, in a step that reads the state's input) and every path from ``StartAt`` to
it (Choice branches, catchers, into Map processors and Parallel branches; a loop is walked
once), the read location is followed backwards through each earlier state's data
flow (the same steps the replay runs, read in reverse) to where the value is made:

- the execution input, a literal, the context, a variable, or a Task that *produces* it:
  fine;
- a Task whose result is copied back (``ResultSelector "F.$": "$.Payload.F"``, or a
  ``ResultPath`` over the field's parent) although its ``Parameters`` pass the field in: the
  value survives only if the Lambda (or service) returns what it was given. This is the
  seed incident: ``PrepareFinalMerge`` read ``$.chunked_data.poll_results_s3_key``, which
  only ``SplitIntoChunks``'s Lambda could keep set;
- a step that cannot hold it: ``Parameters``/``ItemSelector``/``Output`` without it, a
  ``ResultSelector`` or ``Result`` without it, ``OutputPath: null``, a Catch whose
  ``ResultPath`` (``$`` by default) puts the error output over it.

Known gaps: values that come out of a Map's or Parallel's result are not followed into the
iterations; indefinite paths, intrinsics and JSONata beyond plain paths end the analysis
without a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_trace.asl import choice, dataflow, results, walkback
from sfn_trace.asl.dataflow import DataStep, Kind, Reads
from sfn_trace.asl.jsonpath import Segment, compact, format_path, value_at
from sfn_trace.asl.replay import describe_member
from sfn_trace.checks import lint_causes, lint_paths
from sfn_trace.checks.lint_causes import ERROR, SEVERITIES, WARNING, IgnoreRule, LintCause
from sfn_trace.errors import ExitCode, Option, SfnTraceError, UsageError
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.definition import Definition, StateDef
from sfn_trace.model.options import MAX_INPUT
from sfn_trace.model.text import quote
from sfn_trace.sources.files import read_definition


@dataclass(frozen=True)
class LintFinding:
    reader: str
    """The state that reads the field."""
    expression: str
    """How it reads it, e.g. ``Parameters "F.$": "$.chunked_data.F"``."""
    read: str
    """The location it reads, in its raw input."""
    path: tuple[str, ...]
    """The states from ``StartAt`` to the reader (inclusive)."""
    dropper: str
    """The state on that path that can drop the field."""
    reason: str
    hint: str
    kind: str
    """What kind of drop it is, one of :data:`DROP_KINDS` (machine-readable; ``reason`` says
    the same in words)."""
    step: str = ""
    """The dropper's step that drops it (``Parameters``, ``ResultSelector``, ``Catch #1``,
    ``result`` for a copy from the task's result ...): with ``dropper`` and ``kind``, the
    cause findings are grouped by."""
    paths: int = 1
    """How many paths from ``StartAt`` to the reader pass the dropper this way (those the
    search follows, at most :data:`lint_paths.MAX_PATHS`); ``path`` is the first."""

    @property
    def severity(self) -> str:
        """``warning`` when the field survives if a task returns it, else ``error``."""
        return WARNING if self.kind == DEPENDS_ON_TASK_RESULT else ERROR


TEMPLATE_DROP = "template-drop"
"""``Parameters``/``ItemSelector``/``Arguments``/``Output`` build a document without it."""
RESULT_SELECTOR_DROP = "result-selector-drop"
"""A ``ResultSelector`` without it, put over it by ``ResultPath``."""
RESULT_LITERAL_DROP = "result-literal-drop"
"""A Pass state's literal ``Result`` without it, put over it by ``ResultPath``."""
NULL_PATH = "null-path"
"""``InputPath: null`` or ``OutputPath: null``: the document becomes ``{}``."""
CATCH_OVERWRITE = "catch-overwrite"
"""On a caught error, the error output replaces the document (or the field's parent)."""
DEPENDS_ON_TASK_RESULT = "depends-on-task-result"
"""The value is copied back from a task's result: set only if the task returns it."""

DROP_KINDS = (
    TEMPLATE_DROP,
    RESULT_SELECTOR_DROP,
    RESULT_LITERAL_DROP,
    NULL_PATH,
    CATCH_OVERWRITE,
    DEPENDS_ON_TASK_RESULT,
)
"""Every :attr:`LintFinding.kind`, in a fixed order."""


@dataclass(frozen=True)
class LintedDefinition:
    """One definition file the lint was asked about: its findings, or why it is unreadable."""

    source: Path | str
    """The path as given on the command line, or the state machine ARN (a ``str``) the
    definition was read from."""
    definition: Definition | None
    """None when the file could not be read as a definition (then ``error`` says why)."""
    findings: list[LintFinding]
    error: str | None = None
    cut: str | None = None
    """Why ``findings`` are not all of them (the work bound was reached), else None."""
    causes: tuple[LintCause, ...] = ()
    """The findings grouped by the step that drops the field
    (:func:`sfn_trace.checks.lint_causes.causes`), with their suppressions."""
    error_code: ExitCode = ExitCode.USAGE
    """The exit code of ``error``: 2 for a file, 3 when AWS did not give the definition."""


_ABSENT = object()


def lint(
    definition: Definition, field: str, sdk_members: results.SdkShapes | None = None
) -> list[LintFinding]:
    """Every (reader, state that can drop the field) pair, with the first path that shows it
    (those found before the work bound, see :func:`lint_definition`). ``sdk_members``: what
    an ``aws-sdk`` Task's result always holds (:mod:`sfn_trace.asl.results`)."""
    return lint_definition(definition, field, sdk_members)[0]


def lint_definition(
    definition: Definition, field: str, sdk_members: results.SdkShapes | None = None
) -> tuple[list[LintFinding], str | None]:
    """:func:`lint`, and why the findings are incomplete (None when they are not): the
    search stops past :data:`lint_paths.MAX_WORK` or :data:`lint_paths.MAX_STEPS`."""
    search = _search(definition, field, sdk_members)
    findings: dict[tuple[str, str, str, str], LintFinding] = {}
    cut = None
    try:
        for reader, expression, location in _readers(definition, field):
            for drop, path, count in search.findings(reader, location):
                key = (reader, expression, drop.state, drop.reason)
                findings.setdefault(
                    key,
                    LintFinding(
                        reader=reader,
                        expression=expression,
                        read=format_path(location),
                        path=path,
                        dropper=drop.state,
                        reason=drop.reason,
                        hint=drop.hint,
                        kind=drop.kind,
                        step=drop.step,
                        paths=count,
                    ),
                )
    except lint_paths.Cut as stop:
        # What the user sees: findings are causes (one per dropping state and step), as
        # the table, JSON and SARIF list them, not the (reader, dropper) pairs they group.
        found = len(lint_causes.causes(list(findings.values())))
        cut = f"stopped after {found:,} finding(s): {stop}"
        if findings:
            cut += "; fix these and lint again"
    ordered = sorted(findings.values(), key=lambda f: (len(f.path), f.reader, f.dropper))
    return ordered, cut


@dataclass(frozen=True)
class LintReport:
    """What ``sfn-trace lint`` found in the definitions it was given, in their order."""

    field: str
    definitions: tuple[LintedDefinition, ...]
    severity: str = WARNING
    """The exit threshold: causes at or above it count (``--severity``)."""

    @property
    def unreadable(self) -> tuple[LintedDefinition, ...]:
        return tuple(each for each in self.definitions if each.error is not None)

    @property
    def counted(self) -> list[LintCause]:
        """The causes that count toward the exit code: not suppressed, at or above
        :attr:`severity`."""
        return [
            cause
            for each in self.definitions
            for cause in lint_causes.counts(each.causes, self.severity)
        ]

    @property
    def exit_code(self) -> ExitCode:
        """3 when AWS did not give a state machine's definition, else 2 when a definition
        could not be read, else 1 when a cause counts, else 0."""
        if self.unreadable:
            return max(each.error_code for each in self.unreadable)
        if self.counted:
            return ExitCode.FINDING
        return ExitCode.INTACT


def lint_files(
    paths: Sequence[str | Path],
    field: str,
    max_input: int = MAX_INPUT,
    *,
    sdk_members: results.SdkShapes | None = None,
    severity: str = WARNING,
    ignore: Sequence[IgnoreRule] = (),
    fetch: Callable[[str], Definition] | None = None,
) -> LintReport:
    """:func:`lint` each file in turn; one that cannot be read gets its one-line error and
    the others are still checked. The findings are grouped into causes, suppressed by the
    definition's Comments and by ``ignore`` (:mod:`sfn_trace.checks.lint_causes`).
    ``fetch``: how a state machine ARN (a ``str`` starting ``arn:``) is read; without it,
    every one is a path."""
    if severity not in SEVERITIES:
        raise UsageError(
            Option("severity"), f" must be one of {', '.join(SEVERITIES)}, not {severity!r}"
        )
    linted: list[LintedDefinition] = []
    for given in paths:
        arn = fetch is not None and isinstance(given, str) and looks_like_arn(given)
        source: Path | str = given if arn else Path(given)
        try:
            if isinstance(source, str) and fetch is not None:
                definition = fetch(source)
            else:
                definition = read_definition(source, max_input)
            findings, cut = lint_definition(definition, field, sdk_members)
            grouped = lint_causes.causes(findings)
            made = lint_causes.suppress(grouped, definition, source, field, ignore)
            linted.append(
                LintedDefinition(source, definition, findings, cut=cut, causes=tuple(made))
            )
        except SfnTraceError as error:
            unread = LintedDefinition(source, None, [], error.message, error_code=error.exit_code)
            linted.append(unread)
        except RecursionError:
            message = f"{source}: nested too deeply to analyse"
            linted.append(LintedDefinition(source, None, [], message))
    return LintReport(field, tuple(linted), severity)


# --- readers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One read of the field that lint follows back: a member of one step of a state."""

    state: str
    step: str
    """The ASL field holding the member (``Parameters``, ``Output``, ``Assign`` ...)."""
    expression: str
    """The member as the definition spells it."""
    location: tuple[Segment, ...] | None
    """Where it reads the field, in the state's raw input; None for a read of a variable or
    the context object, or behind an ``InputPath`` that is null or indefinite."""


def reads(definition: Definition, field: str) -> Iterator[Read]:
    """Every read of the field, in the definition's order: each member of a step that reads
    the state's input (:func:`sfn_trace.asl.walkback.reading_steps`) that reads the field
    (:func:`sfn_trace.asl.walkback.field_reads`)."""
    for name, state in definition.states.items():
        for step, template in _reading_templates(state):
            for _, key, value in walkback.computed_members(template):
                for read in walkback.field_reads(key, value, field):
                    location = _in_raw_input(state, read)
                    yield Read(name, step, describe_member(step, key, value), location)


def _readers(definition: Definition, field: str) -> Iterator[tuple[str, str, tuple[Segment, ...]]]:
    """(state, expression, location in the state's raw input) of each of :func:`reads` that
    lint follows back: those of the state's input (a variable's value was made by an
    ``Assign``, the context's by the execution, not by the states before the reader)."""
    for read in reads(definition, field):
        if read.location is not None:
            yield read.state, read.expression, read.location


def _reading_templates(state: StateDef) -> Iterator[tuple[str, Any]]:
    """(step, template) of each of a state's reading steps: a Choice's ``Output`` and
    ``Assign`` are also its Choice Rules' (:func:`sfn_trace.asl.dataflow.choice_source`)."""
    rules = state.body.get("Choices") if state.type == "Choice" else None
    for step in _reading_steps(state):
        yield step, state.body.get(step)
        if step in dataflow.CHOICE_RULE_FIELDS and isinstance(rules, list):
            for rule in rules:
                if isinstance(rule, Mapping) and step in rule:
                    yield step, rule[step]


def _reading_steps(state: StateDef) -> tuple[str, ...]:
    """The ASL fields of a state whose templates can read the field from its input (a legacy
    Map's ``Parameters`` before its ``ItemSelector``)."""
    steps = walkback.reading_steps(state.query_language, state.type)
    return tuple(dict.fromkeys(name for step in steps for name in (*step.also, step.name)))


_OF_THE_INPUT = (walkback.From.DOCUMENT, walkback.From.RAW_INPUT)
"""The reads lint follows back along the data flow."""


def _in_raw_input(state: StateDef, read: walkback.FieldRead) -> tuple[Segment, ...] | None:
    """Where a read is in the state's raw input: JSONata's ``$states.input`` is; a JSONPath
    read is in the effective input, after ``InputPath``; None for a read of a variable or
    the context (or behind ``InputPath: null``)."""
    if read.source is walkback.From.RAW_INPUT:
        return read.location
    if read.source is not walkback.From.DOCUMENT:
        return None
    input_path = state.body.get("InputPath", "$")
    if input_path is None:
        return None
    prefix = walkback.path_location(str(input_path))
    return None if prefix is None else prefix + read.location


def _written(template: Any, location: tuple[Segment, ...]) -> walkback.Source | None:
    """Where the member of a JSONPath template that wrote ``location`` took it from; None
    when the template does not write it."""
    return walkback.member_source(template, location) if isinstance(template, Mapping) else None


# --- paths --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    kind: str
    """``next``, ``choice``, ``default``, ``catch`` or ``enter`` (into a Map/Parallel)."""
    catcher: int | None = None
    rule: int | None = None
    """For a ``choice`` edge: the number of its Choice Rule in ``Choices``."""


def incoming_edges(definition: Definition) -> dict[str, list[tuple[str, _Edge]]]:
    """Per state, the (source, edge) pairs that lead to it, in definition order (``enter``:
    from a Map or Parallel to the first state of what it runs)."""
    incoming: dict[str, list[tuple[str, _Edge]]] = {}
    edges: dict[tuple[str, int | None, int | None], _Edge] = {}
    enter = _Edge("enter")
    for name in definition.states:
        rules = _rule_numbers(definition.states[name])
        for transition in definition.transitions(name):
            rule = next(rules, None) if transition.kind == "choice" else None
            kind = (transition.kind, transition.catcher, rule)
            edge = edges.get(kind) or edges.setdefault(kind, _Edge(*kind))
            incoming.setdefault(transition.target, []).append((name, edge))
        for start in definition.inner_starts(name):
            incoming.setdefault(start, []).append((name, enter))
    return incoming


def _rule_numbers(state: StateDef) -> Iterator[int]:
    """The number in ``Choices`` of each rule that has a ``Next`` (the ``choice`` transitions,
    in their order)."""
    rules = state.body.get("Choices") if state.type == "Choice" else None
    for number, rule in enumerate(rules if isinstance(rules, list) else ()):
        if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
            yield number


def _search(
    definition: Definition, field: str, sdk_members: results.SdkShapes | None = None
) -> lint_paths.PathSearch[_Edge, _Drop]:
    """The backwards search over the definition's states (:func:`incoming_edges`), each
    state read in reverse (:class:`_Backwards`), once per (state, edge, location)."""
    incoming = incoming_edges(definition)
    steps: dict[_StepKey, _Step] = {}

    def step(name: str, edge: _Edge, location: Any) -> _Step:
        key = (name, edge, location)
        known = steps.get(key)
        if known is None:
            back = _Backwards(definition.states[name], field, edge, sdk_members)
            known = steps[key] = (back.through(location), tuple(back.drops))
        return known

    return lint_paths.PathSearch(
        definition.start_at, incoming, step, lambda drop: (drop.state, drop.reason)
    )


# --- following a location backwards -------------------------------------------------------------


_Back = tuple[tuple[Segment, ...] | None, bool]
"""One step backwards: the location in the document the step read (None: the value is made
here), and whether that document is the state's raw input (the walk is done)."""


@dataclass(frozen=True)
class _Drop:
    state: str
    reason: str
    hint: str
    kind: str
    step: str


_StepKey = tuple[str, "_Edge", tuple[Segment, ...]]
_Step = tuple[tuple[Segment, ...] | None, tuple["_Drop", ...]]


class _Backwards:
    """One state read in reverse: where ``location`` of its output comes from in its input.

    ``through`` returns the location in the state's raw input, or None when the value is
    made here (then ``drops`` says whether that is a risk)."""

    def __init__(
        self,
        state: StateDef,
        field: str,
        edge: _Edge,
        sdk_members: results.SdkShapes | None = None,
    ) -> None:
        self.sdk_members = sdk_members
        self.state = state
        self.body = state.body
        self.field = field
        self.edge = edge
        self.drops: list[_Drop] = []
        self.via = ""
        """How the value came from the task result (for the finding's reason)."""
        self.result_path: tuple[Segment, ...] = ()

    def drop(self, kind: str, reason: str, hint: str, step: str) -> None:
        self.drops.append(_Drop(self.state.name, reason, hint, kind, step))

    def through(self, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        if self.edge.kind == "enter":
            return self.entering(location)
        if self.edge.kind == "catch":
            return self.caught(location)
        moved = self.backwards(location)
        if self.edge.kind in ("choice", "default") and moved is not None and not self.drops:
            return self.guarded(moved)
        return moved

    def guarded(self, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        """A Choice branch that settles whether the location is present (an ``IsPresent``
        rule, a comparison of it, a JSONata ``$exists``, see
        :func:`sfn_trace.asl.choice.branch_presence`): present, what came before cannot have
        dropped it on this path; absent, the reader is not reached with it whatever came
        before. Either way nothing before the Choice is followed."""
        effective: tuple[Segment, ...] | None = location
        if self.state.query_language != "JSONata":
            prefix = walkback.path_location(str(self.body.get("InputPath", "$")))
            effective = walkback.under_result_path(prefix, location) if prefix is not None else None
        if effective is None:
            return location
        rule = self.edge.rule if self.edge.kind == "choice" else None
        if self.edge.kind == "choice" and rule is None:
            return location
        settled = choice.branch_presence(self.body, rule, effective)
        return location if settled is None else None

    def backwards(self, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        """The state's data-flow steps (:mod:`sfn_trace.asl.dataflow`), last first: each maps
        the location in the document it made to the one in the document it read, until the
        location is in the state's raw input (or the value is made here)."""
        current = location
        steps = dataflow.steps_of(self.state.query_language, self.state.type)
        for step in reversed(steps):
            if not step.shapes_output:
                continue
            handler = _HANDLERS.get(step.kind, _Backwards._not_followed)
            moved, done = handler(self, step, current)
            if done or moved is None:
                return moved
            current = moved
        return current

    def _path(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        return self.reference(step.name, location), False

    def _merge(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        """ResultPath: outside its node the value is the raw input's, untouched; inside it
        the (selected) result's."""
        merged = walkback.result_path_back(self.body.get(step.name, step.default), location)
        if not merged.inside:
            return merged.location, True
        if self.state.type not in ("Task", "Pass"):
            return None, True  # Map/Parallel results: not followed into the iterations
        self.result_path = merged.prefix
        return merged.location, False

    def _template(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        if step.reads is Reads.STATES:
            return self._jsonata_output(step, location)
        if step.reads is Reads.PREVIOUS:
            return self._result_selector(step, location)
        if step.name not in self.body:
            return location, False
        return self.template_source(step.name, location), False

    def _result_selector(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        body = self.body
        if step.name not in body:
            self.via = f"ResultPath {quote(compact(body.get('ResultPath', '$')))}"
            return location, False
        if not location:
            return None, True  # the reader reads the whole value the ResultSelector builds
        found = _written(body[step.name], location)
        if found is None:
            self.drop(
                RESULT_SELECTOR_DROP,
                f"ResultSelector does not write {quote(format_path(location))}, and ResultPath "
                f"{quote(format_path(self.result_path))} puts its output there",
                f"add a member for {self.field} to the ResultSelector of {quote(self.state.name)}",
                step.name,
            )
            return None, True
        if found.source is not walkback.From.DOCUMENT:
            return None, True
        self.via = describe_member(step.name, found.key, found.value)
        return found.location, False

    def _result(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        if self.state.type != "Task":
            return None, True  # Map/Parallel results: not followed into the iterations
        return self.task_result(location, self.via), True

    def _literal(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        if step.name not in self.body:
            return location, False
        self.check_literal(self.body[step.name], location, step.name)
        return None, True

    def _jsonata_output(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        if step.name in self.body:
            return self.jsonata_member(self.body[step.name], location, step.name), True
        # The default Output: the result (Task, Map, Parallel: the next step) or the input.
        self.via = "the default Output ($states.result)"
        return location, False

    def _not_followed(self, step: DataStep, location: tuple[Segment, ...]) -> _Back:
        return None, True

    def reference(self, name: str, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        if name not in self.body:
            return location
        value = self.body[name]
        if value is None:
            self.drop(
                NULL_PATH,
                f"{name}: null replaces the document with {{}}",
                f"remove {name}: null from {quote(self.state.name)}, or point it at a node "
                f"holding {self.field}",
                name,
            )
            return None
        prefix = walkback.path_location(str(value))
        return None if prefix is None else prefix + location

    def task_result(self, location: tuple[Segment, ...], via: str) -> tuple[Segment, ...] | None:
        """A location in the task result: a risk when the task was given the field, unless
        the integration always returns that member (:mod:`sfn_trace.asl.results`)."""
        passed = self.passed_in()
        if passed is None:
            return None  # the task produces the field
        if results.always_returned(self.body.get("Resource"), location, self.sdk_members):
            return None  # the integration's result always has it
        name = quote(self.state.name)
        self.drop(
            DEPENDS_ON_TASK_RESULT,
            f"{quote(via)} copies {quote(format_path(location))} of the result of {name}: it is "
            f"only set if the task returns the {self.field} its Parameters pass it "
            f"(from {quote(format_path(passed))})",
            f"read {quote(format_path(passed))} (what {name} was given) where it is still in "
            f"the document, or keep it with ResultPath instead of relying on {name} to return it",
            "result",
        )
        return passed

    def passed_in(self) -> tuple[Segment, ...] | None:
        """Where the task's Parameters/Arguments read the field, in its raw input."""
        for step in dataflow.task_input(self.state.query_language, self.state.type):
            for _, key, value in walkback.computed_members(self.body.get(step)):
                for read in walkback.field_reads(key, value, self.field):
                    if read.source in _OF_THE_INPUT:
                        return _in_raw_input(self.state, read)
        return None

    def template(self, name: str, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        """A location made by the template ``name`` (or, without one, the effective input),
        in the raw input."""
        if name not in self.body:
            return self.reference("InputPath", location)
        source = self.template_source(name, location)
        return None if source is None else self.reference("InputPath", source)

    def template_source(
        self, name: str, location: tuple[Segment, ...]
    ) -> tuple[Segment, ...] | None:
        """Where the template ``name`` read the location it wrote, in its effective input."""
        if not location:
            return None  # the value is the document the template builds
        found = _written(self.body[name], location)
        if found is None:
            self.drop(
                TEMPLATE_DROP,
                f"{name} builds a new document without {quote(format_path(location))}",
                f'add "{location[-1] if location else self.field}.$" to the {name} of '
                f"{quote(self.state.name)}, copying {self.field} from its input",
                name,
            )
            return None
        return found.location if found.source is walkback.From.DOCUMENT else None

    def check_literal(self, literal: Any, location: tuple[Segment, ...], name: str) -> None:
        if value_at(literal, location, _ABSENT) is _ABSENT:
            self.drop(
                RESULT_LITERAL_DROP,
                f"{name} replaces {quote(format_path(location))} with a literal without it",
                f"add {self.field} to the {name} of {quote(self.state.name)}, or use a "
                "ResultPath that keeps the input",
                name,
            )

    def entering(self, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        """The input of an iteration or branch: ItemSelector/Parameters over the container's
        effective input (or the item itself)."""
        body = self.body
        for name in dataflow.work_input(self.state.query_language, self.state.type):
            if name in body:
                if self.state.query_language == "JSONata":
                    return self.jsonata_template(name, location)
                return self.template(name, location)
        if self.state.type == "Map":
            return None  # the item itself: an element of ItemsPath
        return self.reference("InputPath", location)

    def caught(self, location: tuple[Segment, ...]) -> tuple[Segment, ...] | None:
        catchers = self.body.get("Catch") or []
        catcher = catchers[self.edge.catcher or 0] if catchers else {}
        step = dataflow.catch_step(self.state.query_language)
        if self.state.query_language == "JSONata":
            if step.name in catcher:
                return self.jsonata_member(catcher[step.name], location, f"Catch {step.name}")
            if _in_error_output(location):
                return None  # the error output's own member
            self.catch_drop("the error output replaces the input")
            return None
        path = catcher.get(step.name, step.default) if isinstance(catcher, Mapping) else "$"
        merged = walkback.result_path_back(path, location)
        if merged.inside:
            if merged.location is not None and _in_error_output(merged.location):
                return None  # the catcher writes it: the error output, its Error or Cause
            self.catch_drop(
                f"the catcher's ResultPath {quote(compact(path))} puts the error output over "
                f"{quote(format_path(location))}"
            )
            return None
        return merged.location

    def catch_drop(self, reason: str) -> None:
        self.drop(
            CATCH_OVERWRITE,
            f"on a caught error, {reason}",
            f"give the catcher of {quote(self.state.name)} a ResultPath such as "
            '"$.error" so the input is kept',
            f"Catch #{(self.edge.catcher or 0) + 1}",
        )

    # -- JSONata

    def jsonata_template(
        self, name: str, location: tuple[Segment, ...]
    ) -> tuple[Segment, ...] | None:
        return self.jsonata_member(self.body[name], location, name)

    def jsonata_member(
        self, template: Any, location: tuple[Segment, ...], name: str
    ) -> tuple[Segment, ...] | None:
        found = walkback.member_source(template, location)
        if found is None:
            if isinstance(template, Mapping) and location:
                self.drop(
                    TEMPLATE_DROP,
                    f"{name} builds a new document without {quote(format_path(location))}",
                    f"add {self.field} to the {name} of {quote(self.state.name)}",
                    name,
                )
            return None
        if found.source is walkback.From.RAW_INPUT:
            return found.location
        if (
            found.source is walkback.From.RESULT
            and self.state.type == "Task"
            and found.location is not None
        ):
            return self.task_result(found.location, f"{name} {quote(compact(found.value))}")
        return None


ERROR_OUTPUT = ("Error", "Cause")
"""What a caught error's output holds: ``{"Error": ..., "Cause": ...}``
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""


def _in_error_output(location: tuple[Segment, ...]) -> bool:
    """Whether the location (in a catcher's error output) is the error output itself or one
    of its own members."""
    return not location or (len(location) == 1 and location[0] in ERROR_OUTPUT)


_HANDLERS: dict[Kind, Callable[[_Backwards, DataStep, tuple[Segment, ...]], _Back]] = {
    Kind.PATH: _Backwards._path,
    Kind.MERGE: _Backwards._merge,
    Kind.TEMPLATE: _Backwards._template,
    Kind.RESULT: _Backwards._result,
    Kind.LITERAL: _Backwards._literal,
}
"""How :meth:`_Backwards.backwards` reads each kind of data-flow step in reverse."""
