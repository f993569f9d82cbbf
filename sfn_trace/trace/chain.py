"""Where a value came from: inside one visit, and back across visits to its origin.

:func:`trace_location` follows one location of a replayed document backwards through the
visit's steps (``OutputPath`` → ``ResultPath`` → ``ResultSelector`` → the result, or →
``Parameters`` → ``InputPath`` → the raw input) and says where it started: the raw input, the
task result, a literal, the context object, a variable, a Map iteration or a Parallel branch.

:func:`blame_chain` strings those together across the execution, one hop per state, from the
last state that *read* the field (:func:`sfn_trace.asl.walkback.field_reads`, the rule lint
follows too) back to the origin: which path each state read, the
expression it used, and which earlier state wrote that path (docs/json-output.md,
``chain``). A Task whose result holds exactly what its parameters passed in (a Lambda
"passing the key through") is followed on to where the parameters came from.

The sentence a report leads with for one visit (``explain_first_null``,
``explain_lost_at``) is :mod:`sfn_trace.trace.explain`'s, which reads :func:`sent_value` and
:func:`task_label` from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sfn_trace.asl import dataflow, variables, walkback
from sfn_trace.asl.dataflow import Kind, Reads
from sfn_trace.asl.jsonpath import Segment, compact, format_path, parse_location, value_at
from sfn_trace.asl.replay import describe_member, same_json
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.replay import Replay, ReplayStatus, Step
from sfn_trace.model.result import Hop
from sfn_trace.model.text import brief
from sfn_trace.model.visits import Flow, FlowKind, Visit, VisitTree
from sfn_trace.trace.field import find_occurrences, snapshot_of

# --- inside one visit -----------------------------------------------------------------------


class OriginKind(str, Enum):
    INPUT = "input"
    """The visit's raw input."""
    RESULT = "result"
    """The recorded task result."""
    ITERATION = "iteration"
    """The output of a Map iteration (``Origin.index``)."""
    BRANCH = "branch"
    """The output of a Parallel branch (``Origin.index``)."""
    ERROR = "error"
    """The error output ``{"Error", "Cause"}`` of a caught failure."""
    LITERAL = "literal"
    """Written in the definition."""
    CONTEXT = "context"
    """The context object ``$$``."""
    VARIABLE = "variable"
    """A workflow variable (``Origin.detail`` names it)."""
    COMPUTED = "computed"
    """An intrinsic, a JSONata expression beyond a plain path, or an indefinite path."""


@dataclass(frozen=True)
class Link:
    """A step that moved or copied the value on its way to the location traced."""

    step: str
    expression: str
    """``Parameters "k.$": "$.a.b"``, ``ResultPath "$.x"``."""
    path: str
    """The location in that step's document."""


@dataclass(frozen=True)
class Origin:
    kind: OriginKind
    path: str | None
    """The location in the origin document (raw input, task result, variable...)."""
    links: tuple[Link, ...]
    """The steps that carried the value, the last step first."""
    detail: str | None = None
    """The variable name, or the expression of a context or computed value."""
    index: int | None = None
    """The iteration or branch index."""
    step: int = -1
    """Index of the step where the value entered (-1: it was in the raw input)."""

    @property
    def expression(self) -> str | None:
        """The carrying expressions in the order they ran, joined by arrows."""
        if not self.links:
            return None
        return " → ".join(link.expression for link in reversed(self.links))


def trace_location(replay: Replay, path: str, before_step: int | None = None) -> Origin:
    """Where the value at ``path`` of a step's document came from within the visit.

    ``before_step`` picks the document: that step's (default: the last step's, the output).
    """
    location: tuple[Segment, ...] = parse_location(path)
    index = len(replay.steps) - 1 if before_step is None else before_step
    links: list[Link] = []
    while index >= 0:
        step = replay.steps[index]
        moved = _back(replay, index, step, location)
        if moved.link is not None:
            links.append(Link(step.name, moved.link, format_path(location)))
        if moved.origin is not None:
            where = None if moved.location is None else format_path(moved.location)
            return Origin(moved.origin, where, tuple(links), moved.detail, moved.index, index)
        location = moved.location or ()
        index = index - 1 if moved.next_step is None else moved.next_step
    return Origin(OriginKind.INPUT, format_path(location), tuple(links))


@dataclass(frozen=True)
class _Move:
    """One step backwards: the location in the document the step read, or an origin."""

    location: tuple[Segment, ...] | None
    link: str | None = None
    origin: OriginKind | None = None
    detail: str | None = None
    index: int | None = None
    next_step: int | None = None
    """The step whose document ``location`` is in (None: the step before; -1: the raw input)."""


_RAW_INPUT = -1


def _back(replay: Replay, index: int, step: Step, location: tuple[Segment, ...]) -> _Move:
    """One step backwards, by what the data-flow table says the step does."""
    if step.name == dataflow.CATCH:
        return _through_catch(replay, step, location)
    spec = dataflow.step_named(replay.query_language, replay.type, step.name)
    if spec is None:
        return _through_template(replay, step, location, index - 1)
    if step.default:
        if spec.kind is Kind.TEMPLATE and spec.reads is Reads.STATES:
            # JSONata's default Output is the result (Task, Map, Parallel) or the input.
            return _Move(location, next_step=index - 1 if index > 0 else _RAW_INPUT)
        return _Move(location)
    if spec.kind is Kind.PATH:
        return _through_path(step.name, step.expression, location)
    if spec.kind in (Kind.RESULT, Kind.LITERAL):
        return _from_result(step, location)
    if spec.kind is Kind.MERGE:
        return _through_result_path(step.expression, location, index)
    if spec.kind is Kind.ITEM_TEMPLATE:
        return _through_item_selector(replay, step, location)
    reads = _RAW_INPUT if spec.reads is Reads.STATES or spec.kind is Kind.ITEMS else index - 1
    return _through_template(replay, step, location, reads)


def _through_path(name: str, expression: Any, location: tuple[Segment, ...]) -> _Move:
    if expression is None:
        return _Move(None, f"{name} null", OriginKind.LITERAL)
    link = f"{name} {compact(expression)}"
    return _from_path(expression, location, link if expression != "$" else None, None)


def _from_path(
    expression: Any, rest: tuple[Segment, ...], link: str | None, reads: int | None
) -> _Move:
    """A location read through a path: in the document read, the context or a variable."""
    return _moved(None, walkback.path_source(expression, rest), link, reads)


_ORIGINS = {
    walkback.From.RESULT: OriginKind.RESULT,
    walkback.From.ERROR: OriginKind.ERROR,
    walkback.From.CONTEXT: OriginKind.CONTEXT,
    walkback.From.VARIABLE: OriginKind.VARIABLE,
    walkback.From.COMPUTED: OriginKind.COMPUTED,
}


def _moved(
    replay: Replay | None, found: walkback.Source, link: str | None, reads: int | None
) -> _Move:
    """A step backwards (:mod:`sfn_trace.asl.walkback`) as the chain follows it: on in the
    document read (``reads``), the raw input or the replayed result, or an origin."""
    if found.source is walkback.From.DOCUMENT:
        return _Move(found.location, link, next_step=reads)
    if found.source is walkback.From.RAW_INPUT:
        return _Move(found.location, link, next_step=_RAW_INPUT)
    if found.source is walkback.From.RESULT and replay is not None:
        result = _step_index(replay, "Result")
        if result is not None:
            return _Move(found.location, link, next_step=result)
    return _Move(found.location, link, _ORIGINS[found.source], detail=found.detail)


def _from_result(step: Step, location: tuple[Segment, ...]) -> _Move:
    if not step.recorded:
        return _Move(location, f"Result {compact(step.expression)}", OriginKind.LITERAL)
    if step.expression in ("Iterations", "Branches") and location and isinstance(location[0], int):
        kind = OriginKind.ITERATION if step.expression == "Iterations" else OriginKind.BRANCH
        return _Move(location[1:], None, kind, index=location[0])
    return _Move(location, None, OriginKind.RESULT)


def _through_result_path(expression: Any, location: tuple[Segment, ...], index: int) -> _Move:
    """Inside the ResultPath node the value is the (selected) result; elsewhere it is the
    raw input, untouched."""
    merged = walkback.result_path_back(expression, location)
    if merged.location is None:
        return _Move(None, f"ResultPath {compact(expression)}", OriginKind.COMPUTED)
    if not merged.inside:
        return _Move(location, next_step=_RAW_INPUT)
    link = f"ResultPath {compact(expression)}" if merged.prefix else None
    return _Move(merged.location, link, next_step=index - 1)


def _through_catch(replay: Replay, step: Step, location: tuple[Segment, ...]) -> _Move:
    catcher = step.expression if isinstance(step.expression, Mapping) else {}
    if replay.query_language == "JSONata":
        if "Output" not in catcher:
            return _Move(location, "Catch (the error output)", OriginKind.ERROR)
        return _through_template(replay, Step("Catch", catcher["Output"], None), location, -1)
    path = catcher.get("ResultPath", "$")
    merged = walkback.result_path_back(path, location)
    if not merged.inside:
        return _Move(location, next_step=_RAW_INPUT)
    return _Move(merged.location, f"Catch ResultPath {compact(path)}", OriginKind.ERROR)


def _through_template(
    replay: Replay, step: Step, location: tuple[Segment, ...], reads: int
) -> _Move:
    found = walkback.member_source(step.expression, location)
    if found is None:
        return _Move(location, None, OriginKind.LITERAL)
    link = describe_member(step.name, found.key, found.value)
    if found.source is walkback.From.LITERAL:
        return _Move(location, link, OriginKind.LITERAL)
    return _moved(replay, found, link, reads)


def _step_index(replay: Replay, *names: str) -> int | None:
    return next((i for i, s in enumerate(replay.steps) if s.name in names), None)


_MAP_ITEM = ("Map", "Item", "Value")


def _through_item_selector(replay: Replay, step: Step, location: tuple[Segment, ...]) -> _Move:
    """An ItemSelector document is the list of iteration inputs: item ``i`` was rendered
    with ``$`` (``$states.input``) the Map's effective input and ``$$.Map.Item.Value`` the
    ``i``-th item."""
    if not location or not isinstance(location[0], int):
        return _Move(None, None, OriginKind.COMPUTED)
    item, rest = location[0], location[1:]
    effective = _step_index(replay, dataflow.INPUT_PATH.name)
    moved = _through_template(replay, step, rest, _RAW_INPUT if effective is None else effective)
    inside = moved.location or ()
    if moved.origin is OriginKind.CONTEXT and tuple(inside[:3]) == _MAP_ITEM:
        items = _step_index(replay, dataflow.ITEMS_PATH.name, dataflow.ITEMS.name)
        return _Move(
            (item, *inside[3:]), moved.link, next_step=_RAW_INPUT if items is None else items
        )
    return moved


# --- which visit wrote what -----------------------------------------------------------------


_MAX_HOPS = 200
"""How many hops a blame chain shows at most; a longer one ends with a note that says so."""


def blame_chain(tree: VisitTree, replays: Mapping[int, Replay], field: str) -> tuple[Hop, ...]:
    """The chain from the last visit that read ``field`` back to where its value came from;
    empty when no replayed visit reads the field."""
    reader = _last_reader(tree, replays, field)
    if reader is None:
        return ()
    visit, step_index, location, (key, member) = reader
    replay = replays[visit.seq]
    step = replay.steps[step_index]
    origin = trace_location(replay, format_path(location), before_step=step_index)
    value = value_at(step.value, location)
    walker = _Walker(tree, replays, field, value)
    walker.follow(visit, origin, describe_member(step.name, key, member))
    return walker.hops()


@dataclass
class _PendingHop:
    visit: Visit
    read: str | None
    source: str
    expression: str | None
    note: str | None = None


class _Walker:
    """Follows one value from hop to hop, back to its origin."""

    def __init__(
        self, tree: VisitTree, replays: Mapping[int, Replay], field: str, value: Any
    ) -> None:
        self.index = _FlowIndex(tree)
        self.replays = replays
        self.field = field
        self.value = value
        self.pending: list[_PendingHop] = []

    def hops(self) -> tuple[Hop, ...]:
        hops = []
        for position, hop in enumerate(self.pending):
            writer = self.pending[position + 1].visit if position + 1 < len(self.pending) else None
            hops.append(
                Hop(
                    state=hop.visit.state,
                    seq=hop.visit.seq,
                    scope=hop.visit.scope,
                    read=hop.read,
                    source=hop.source,
                    value=self.value,
                    expression=hop.expression,
                    written_by=writer.state if writer else None,
                    written_by_seq=writer.seq if writer else None,
                    note=hop.note,
                )
            )
        return tuple(hops)

    def follow(self, visit: Visit, origin: Origin, expression: str | None) -> None:
        """Record the hop for ``visit``, then move to whoever wrote what it read."""
        while len(self.pending) < _MAX_HOPS:
            replay = self.replays.get(visit.seq)
            if origin.kind is OriginKind.RESULT and replay is not None:
                echoed = self._echoed(replay, origin)
                if echoed is not None:
                    expression, origin = echoed
            hop = _PendingHop(visit, origin.path, origin.kind.value, expression)
            self.pending.append(hop)
            if origin.kind is OriginKind.INPUT and origin.path is not None:
                found = self._writer(visit, parse_location(origin.path))
                if found is None:
                    hop.note = "the value comes from the execution input"
                    return
            elif origin.kind in (OriginKind.ITERATION, OriginKind.BRANCH):
                found = self._inside(visit, origin)
                if found is None:
                    return
            else:
                hop.note = self._note(visit, replay, origin)
                return
            visit, origin, expression = found
        # The bound, not the origin, ended the chain (a loop, never recursion: visits may
        # nest and follow each other as deep and long as the history goes).
        self.pending[-1].note = f"the chain stops after {_MAX_HOPS} hops"

    def _writer(
        self, visit: Visit, location: tuple[Segment, ...]
    ) -> tuple[Visit, Origin, str | None] | None:
        """The earlier visit whose output put the value at ``location`` of ``visit``'s input,
        past the visits that pass it through unchanged."""
        current = visit
        while True:
            previous = self.index.previous(current)
            if previous is None:
                container = self.index.container(current)
                if container is None:
                    return None
                return self._from_container(container, current, location)
            replay = self.replays.get(previous.seq)
            if replay is not None and replay.produced and replay.status is ReplayStatus.MATCH:
                origin = trace_location(replay, format_path(location))
                unchanged = origin.kind is OriginKind.INPUT and not origin.links
                if not (unchanged and origin.path == format_path(location)):
                    return previous, origin, origin.expression
            elif not _holds(previous.input, location, self.value):
                # Not replayed: the recorded input shows whether it passed through.
                return previous, Origin(OriginKind.COMPUTED, format_path(location), ()), None
            current = previous

    def _from_container(
        self, container: Visit, first: Visit, location: tuple[Segment, ...]
    ) -> tuple[Visit, Origin, str | None]:
        """The first input of an iteration or branch came from its Map or Parallel."""
        replay = self.replays.get(container.seq)
        if replay is None or not replay.steps:
            return container, Origin(OriginKind.COMPUTED, None, ()), None
        step = _last_step_index(
            replay, dataflow.before_result(replay.query_language, container.type)
        )
        where: tuple[Segment, ...] = location
        if container.type == "Map":
            where = (first.map_iteration or 0, *location)
        if step is None:
            origin = Origin(OriginKind.INPUT, format_path(where), ())
        else:
            origin = trace_location(replay, format_path(where), before_step=step)
        return container, origin, origin.expression

    def _inside(self, container: Visit, origin: Origin) -> tuple[Visit, Origin, str | None] | None:
        """A Map/Parallel result item came from the last state of that iteration/branch."""
        last = self.index.flow_output(container, origin.kind, origin.index)
        if last is None or origin.path is None:
            return None
        replay = self.replays.get(last.seq)
        if replay is None or not replay.produced:
            return last, Origin(OriginKind.COMPUTED, origin.path, ()), None
        inner = trace_location(replay, origin.path)
        return last, inner, inner.expression

    def _echoed(self, replay: Replay, origin: Origin) -> tuple[str, Origin] | None:
        """A task result holding what the task's parameters passed in: follow the parameters
        (the Lambda passed the value through)."""
        step = _step_index(replay, *dataflow.task_input(replay.query_language, replay.type))
        if step is None:
            return None
        sent = find_occurrences(replay.steps[step].value, self.field)
        for occurrence in sent:
            if same_json(occurrence.value, self.value):
                inner = trace_location(replay, occurrence.path, before_step=step)
                sent_by = inner.expression or replay.steps[step].name
                carried = origin.expression
                text = f"{sent_by} → the task returned it → {carried}" if carried else sent_by
                return text, inner
        return None

    def _note(self, visit: Visit, replay: Replay | None, origin: Origin) -> str | None:
        kind = origin.kind
        if kind is OriginKind.RESULT:
            what = task_label(replay) if replay else "the task result"
            text = f"{what} held {brief(self.value, 60)} at {origin.path}"
            sent = sent_value(replay, self.field) if replay else None
            if sent is not None and not same_json(sent, self.value):
                text += f" although its parameters passed {brief(sent, 60)}"
            return text
        if kind is OriginKind.VARIABLE:
            assigner = self.index.assigner(visit, origin.detail or "")
            by = f", assigned by {assigner.state}" if assigner else ""
            return f"the variable ${origin.detail}{by}"
        notes = {
            OriginKind.LITERAL: "a literal in the definition",
            OriginKind.CONTEXT: f"the context object ({origin.detail})",
            OriginKind.COMPUTED: f"computed by {origin.detail}" if origin.detail else "computed",
            OriginKind.ERROR: "the error output of a caught failure",
        }
        return notes.get(kind)


def _last_step_index(replay: Replay, names: Sequence[str]) -> int | None:
    found = [i for i, s in enumerate(replay.steps) if s.name in names]
    return found[-1] if found else None


def _holds(payload: Payload | None, location: tuple[Segment, ...], value: Any) -> bool:
    if payload is None or payload.value is NOT_JSON:
        return False
    found = value_at(payload.value, location, _ABSENT)
    return found is not _ABSENT and same_json(found, value)


def sent_value(replay: Replay, field: str) -> Any:
    """The set value of the field in the task's parameters, if any."""
    step = next(
        (
            s
            for s in replay.steps
            if s.name in dataflow.task_input(replay.query_language, replay.type)
        ),
        None,
    )
    found = snapshot_of(step.value, field).first_set() if step else None
    return found.value if found else None


def task_label(replay: Replay) -> str:
    return "the Lambda result" if "lambda" in (replay.resource or "") else "the task result"


_ABSENT = object()


class _FlowIndex:
    """Each visit's flow, its predecessor there, and the Map/Parallel holding the flow."""

    def __init__(self, tree: VisitTree) -> None:
        self.flow_of: dict[int, tuple[Flow, int]] = {}
        self.holder: dict[int, Visit | None] = {}
        # An explicit stack of flows and the visit holding each: the history chooses how
        # deep flows nest.
        stack: list[tuple[Flow, Visit | None]] = [(tree.root, None)]
        while stack:
            flow, holder = stack.pop()
            for position, visit in enumerate(flow.visits):
                self.flow_of[visit.seq] = (flow, position)
                self.holder[visit.seq] = holder
                stack.extend((child, visit) for child in visit.children)

    def previous(self, visit: Visit) -> Visit | None:
        flow, position = self.flow_of[visit.seq]
        return flow.visits[position - 1] if position > 0 else None

    def container(self, visit: Visit) -> Visit | None:
        return self.holder.get(visit.seq)

    def flow_output(self, container: Visit, kind: OriginKind, number: int | None) -> Visit | None:
        """The last visit of iteration/branch ``number`` (of the Map's or Parallel's last try)."""
        wanted = FlowKind.ITERATION if kind is OriginKind.ITERATION else FlowKind.BRANCH
        flows = [f for f in container.children if f.kind is wanted and f.index == number]
        return flows[-1].visits[-1] if flows and flows[-1].visits else None

    def assigner(self, visit: Visit, name: str) -> Visit | None:
        """The visit whose Assign set the variable ``visit`` saw (asl/variables.py)."""
        return variables.assigner(visit, name, self.previous, self.container)


def _last_reader(
    tree: VisitTree, replays: Mapping[int, Replay], field: str
) -> tuple[Visit, int, tuple[Segment, ...], tuple[str, Any]] | None:
    """The last of :func:`readers`: the visit, the step, the member's location in the step's
    document, the member."""
    return next(iter(readers(tree, replays, field, last_first=True)), None)


def readers(
    tree: VisitTree, replays: Mapping[int, Replay], field: str, *, last_first: bool = False
) -> Iterator[tuple[Visit, int, tuple[Segment, ...], tuple[str, Any]]]:
    """Each replayed visit (in entry order, or the last first) with a template member that
    reads the field (:func:`sfn_trace.asl.walkback.field_reads`), in a step that makes a
    document from the state's input (:func:`sfn_trace.asl.walkback.reading_steps`: the chain
    follows a location of that document back); its first such member."""
    for visit in reversed(tree.visits) if last_first else tree.visits:
        replay = replays.get(visit.seq)
        if replay is None:
            continue
        found = _first_read(replay, visit.type, field)
        if found is not None:
            step_index, location, member = found
            yield visit, step_index, location, member


_DOCUMENT_TEMPLATES = (Kind.TEMPLATE, Kind.TASK_INPUT)
"""Steps whose output is the document a read member lands in (an item template makes one
document per item, ``Assign`` none)."""


def _first_read(
    replay: Replay, state_type: str, field: str
) -> tuple[int, tuple[Segment, ...], tuple[str, Any]] | None:
    reading = walkback.reading_steps(replay.query_language, state_type)
    for step_index, step in enumerate(replay.steps):
        spec = dataflow.step_named(replay.query_language, state_type, step.name)
        if spec is None or spec not in reading or spec.kind not in _DOCUMENT_TEMPLATES:
            continue
        for location, key, value in walkback.computed_members(step.expression):
            if any(walkback.field_reads(key, value, field)):
                return step_index, location, (key, value)
    return None
