"""``sfn-trace compare``: align a good and a bad execution and name where they part ways.

"Was it always like this?" The same field is traced through two executions of (usually)
the same state machine, and their visits are paired by *where they sit in the run*, not by
their position in the history, which differs as soon as one run takes another Choice
branch, maps over more items or retries a task:

- a visit's key is the path from the root to it: in each flow (the root, one Map
  iteration, one Parallel branch) the state's name and how many times that flow had entered
  the state before (a loop's third pass pairs with the other run's third pass); a Map
  iteration is known by its index, a Parallel branch by the state it starts with (branch
  numbers depend on the definition, which a plain history file may lack);
- retries stay inside one visit (its attempts), so they never shift the pairing;
- a key only one run has is a visit only that run made: a Choice branch the other did not
  take, an extra Map iteration, an extra loop pass. They are listed, never paired with a
  neighbour.

The *divergence* is the first paired visit where the field's status (``set``, ``null``,
``mixed``, ``missing``) differs between the runs, in the bad run's order of events: a visit
counts at its exit when only its output differs (the order ``first_null`` uses, so an
inner Map iteration comes before the Map holding it), and at its entry when its input
already differs (the two runs brought different documents to it: the cause lies before,
often in states only one run visited, which the divergence names). A status one run could
not see (``unknown``) never counts as a difference; such visits are counted as
undetermined.

Pure: two :class:`~sfn_trace.model.result.TraceResult` values in, one :class:`Comparison`
out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from sfn_trace.errors import ExitCode
from sfn_trace.model.result import TraceResult, VisitTrace
from sfn_trace.model.snapshot import Snapshot
from sfn_trace.model.visits import Flow, FlowKind, Visit

KeyPart = tuple[str, str, int]
"""(kind, name, ordinal): ``("state", "Fan", 0)``, ``("iteration", "3", 0)``,
``("branch", "FirstStateOfBranch", 0)``."""
Key = tuple[KeyPart, ...]


class Run(str, Enum):
    """Which of the two executions; ``good`` is the first argument, ``bad`` the second."""

    GOOD = "good"
    BAD = "bad"


DOCUMENTS = ("input", "output")
"""The documents whose status is compared (parameters and results are shown, not compared:
they are steps inside one visit, and a difference there shows in the output)."""


@dataclass(frozen=True, slots=True)
class Placed:
    """One run's visit with where it sits: its key and the flow it belongs to."""

    trace: VisitTrace
    key: Key
    flow: tuple[Key, ...]
    """Keys of the visits of its flow, in entry order (to find the states just before it)."""
    position: int
    """Its index in ``flow``."""

    @property
    def visit(self) -> Visit:
        return self.trace.visit


@dataclass(frozen=True, slots=True)
class Pair:
    """One key of the merged timeline: a visit both runs made, or one only one run made."""

    key: Key
    good: Placed | None
    bad: Placed | None
    differs: tuple[str, ...] = ()
    """Documents (``input``, ``output``) whose field status differs; both sides seen."""
    undetermined: tuple[str, ...] = ()
    """Documents whose status one run could not see (``unknown``): not compared."""

    @property
    def only_in(self) -> Run | None:
        if self.good is None:
            return Run.BAD
        if self.bad is None:
            return Run.GOOD
        return None

    @property
    def shared(self) -> bool:
        return self.good is not None and self.bad is not None

    @property
    def either(self) -> Placed:
        placed = self.bad or self.good
        assert placed is not None  # a pair always has at least one side
        return placed

    @property
    def state(self) -> str:
        return self.either.visit.state

    @property
    def type(self) -> str:
        return self.either.visit.type

    @property
    def scope(self) -> tuple[str, ...]:
        return self.either.visit.scope

    @property
    def occurrence(self) -> int:
        """1 for a flow's first visit of the state, 2 for its second pass (a loop), ..."""
        return self.key[-1][2] + 1

    @property
    def label(self) -> str:
        """``MergeChunkGroups[2] > MergeGroup``, with ``(pass 2)`` for a loop's second pass."""
        text = " > ".join(self.scope)
        return text if self.occurrence == 1 else f"{text} (pass {self.occurrence})"

    @property
    def outcomes_differ(self) -> bool:
        """One run left the state normally and the other did not (failed, aborted, ...)."""
        return (
            self.good is not None
            and self.bad is not None
            and self.good.visit.outcome is not self.bad.visit.outcome
        )

    def side(self, run: Run) -> Placed | None:
        return self.good if run is Run.GOOD else self.bad


@dataclass(frozen=True, slots=True)
class ExtraIteration:
    """A Map iteration only one run made (its Map visit is paired): the other mapped over
    fewer items."""

    map_key: Key
    map_state: str
    map_scope: tuple[str, ...]
    index: int
    only_in: Run
    visits: int
    """Visits inside that iteration (nested ones included)."""

    @property
    def label(self) -> str:
        """``MergeChunkGroups[3]``, as the iteration's visits name it in their scope."""
        return f"{self.map_state}[{self.index}]"


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first paired visit whose field status differs between the runs."""

    pair: Pair
    documents: tuple[str, ...]
    """``("output",)``, ``("input",)`` or both."""
    reached_through: tuple[tuple[Placed, ...], tuple[Placed, ...]]
    """When the input differs: the visits only one run made just before it in the same flow
    (good's, bad's), i.e. the different roads that led to it. Empty otherwise."""
    explanation: str

    @property
    def state(self) -> str:
        return self.pair.state


@dataclass(frozen=True)
class Comparison:
    field: str
    good: TraceResult
    bad: TraceResult
    timeline: tuple[Pair, ...]
    """Every key in the bad run's order, read as a tree (each flow in entry order, a Map's or
    Parallel's inner visits right after it); visits only the good run made are placed after
    the shared visit they followed in the good run."""
    divergence: Divergence | None
    extra_iterations: tuple[ExtraIteration, ...]
    warnings: tuple[str, ...] = ()
    sources: tuple[str, str] = ("", "")
    """What the user named for each run (ARN or file), for the report's header."""

    @property
    def shared(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.timeline if p.shared)

    def only_in(self, run: Run) -> tuple[Pair, ...]:
        return tuple(p for p in self.timeline if p.only_in is run)

    def top_only_in(self, run: Run) -> tuple[Pair, ...]:
        """Visits only ``run`` made whose enclosing visit both made (or at the root): the
        roots of what differs, without repeating what is nested in them.

        Only the enclosing visit (the key without its last flow and state) is looked up: a
        visit outside it that only ``run`` made would make it only ``run``'s too. So each
        visit costs its key's length, not its square (keys grow with nesting)."""
        keys = {p.key for p in self.timeline if p.only_in is run}
        return tuple(
            p
            for p in self.timeline
            if p.only_in is run and not (len(p.key) > 2 and p.key[:-2] in keys)
        )

    @property
    def undetermined(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.timeline if p.undetermined)

    @property
    def exit_code(self) -> ExitCode:
        """1: the field's status diverges; 4: it does not where both could be seen, but
        some paired visit could not be compared; 0: no divergence."""
        if self.divergence is not None:
            return ExitCode.FINDING
        if self.undetermined:
            return ExitCode.INCOMPLETE
        return ExitCode.INTACT


def compare(
    good: TraceResult, bad: TraceResult, *, sources: tuple[str, str] = ("", "")
) -> Comparison:
    """Align ``bad`` on ``good`` and find the first divergence of the field's status."""
    if good.field != bad.field:
        raise ValueError(f"traced different fields: {good.field!r} and {bad.field!r}")
    good_placed = {p.key: p for p in _place(good)}
    bad_placed = {p.key: p for p in _place(bad)}
    pairs = {
        key: _pair(key, good_placed.get(key), bad_placed.get(key))
        for key in (*bad_placed, *(k for k in good_placed if k not in bad_placed))
    }
    timeline = _merge(list(good_placed), list(bad_placed), pairs)
    bad_first_null = None
    if bad.first_null is not None:
        seq = bad.first_null.visit.seq
        bad_first_null = next((p for p in bad_placed.values() if p.visit.seq == seq), None)
    warnings = []
    machines = {r.execution.state_machine_arn for r in (good, bad)} - {None}
    if len(machines) > 1:
        warnings.append(
            "the two executions ran different state machines: "
            + " and ".join(sorted(str(m) for m in machines))
        )
    return Comparison(
        field=good.field,
        good=good,
        bad=bad,
        timeline=timeline,
        divergence=_divergence(timeline, pairs, bad_first_null),
        extra_iterations=_extra_iterations(timeline, pairs),
        warnings=tuple(warnings),
        sources=sources,
    )


# --- placing each run's visits ---------------------------------------------------------------


def _place(result: TraceResult) -> Iterator[Placed]:
    """Every visit of one run with its key, walking the flow tree from the root."""
    by_seq = {t.visit.seq: t for t in result.visits}
    nested = {
        visit.seq
        for trace in result.visits
        for flow in trace.visit.children
        for visit in flow.visits
    }
    roots = [t.visit for t in result.visits if t.visit.seq not in nested]
    yield from _place_flow(roots, (), by_seq)


def _place_flow(
    visits: Sequence[Visit], prefix: Key, by_seq: dict[int, VisitTrace]
) -> Iterator[Placed]:
    """Every visit of a flow, each followed by those of its iterations and branches.

    An explicit stack of flows, not nested generators: the history chooses how deep flows
    nest (and a chain of ``yield from`` costs its depth on every visit it passes up)."""
    stack = [_flow_places(visits, prefix, by_seq)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, Placed):
            yield item
        else:
            stack.append(_flow_places(item.visits, item.prefix, by_seq))


@dataclass(frozen=True)
class _Inner:
    """A flow to place next, inside the visit whose key is ``prefix``'s start."""

    visits: Sequence[Visit]
    prefix: Key


def _flow_places(
    visits: Sequence[Visit], prefix: Key, by_seq: dict[int, VisitTrace]
) -> Iterator[Placed | _Inner]:
    """One flow's visits, each followed by its iterations and branches (to place before
    the next visit)."""
    seen: Counter[str] = Counter()
    keys: list[Key] = []
    for visit in visits:
        keys.append((*prefix, ("state", visit.state, seen[visit.state])))
        seen[visit.state] += 1
    flow = tuple(keys)
    for position, (visit, key) in enumerate(zip(visits, keys, strict=True)):
        trace = by_seq.get(visit.seq)
        if trace is None:  # not traced (cannot happen with analyze's output)
            continue
        yield Placed(trace, key, flow, position)
        flows: Counter[tuple[str, str]] = Counter()
        for child in visit.children:
            kind, name = _flow_name(child)
            part: KeyPart = (kind, name, flows[(kind, name)])
            flows[(kind, name)] += 1
            yield _Inner(child.visits, (*key, part))


def _flow_name(flow: Flow) -> tuple[str, str]:
    if flow.kind is FlowKind.ITERATION:
        return "iteration", str(flow.index)
    first = flow.visits[0].state if flow.visits else flow.label
    return "branch", first


# --- pairing ---------------------------------------------------------------------------------


def _pair(key: Key, good: Placed | None, bad: Placed | None) -> Pair:
    if good is None or bad is None:
        return Pair(key, good, bad)
    differs: list[str] = []
    undetermined: list[str] = []
    for document in DOCUMENTS:
        if document == "output" and not (good.visit.exited and bad.visit.exited):
            continue  # one of them has no output at all: an outcome difference, not a status
        a, b = _document(good.trace, document), _document(bad.trace, document)
        if not (a.known and b.known):
            undetermined.append(document)
        elif a.status is not b.status:
            differs.append(document)
    return Pair(key, good, bad, tuple(differs), tuple(undetermined))


def _document(trace: VisitTrace, document: str) -> Snapshot:
    return trace.input if document == "input" else trace.output


def _merge(good: list[Key], bad: list[Key], pairs: dict[Key, Pair]) -> tuple[Pair, ...]:
    """The bad run's keys in tree order, each good-only key inserted after the last key the
    good run had visited before it that both runs share."""
    shared = {k for k, p in pairs.items() if p.shared}
    after: dict[Key | None, list[Key]] = {}
    anchor: Key | None = None
    for key in good:
        if key in shared:
            anchor = key
        else:
            after.setdefault(anchor, []).append(key)
    order: list[Key] = list(after.get(None, []))
    for key in bad:
        order.append(key)
        order.extend(after.get(key, []))
    return tuple(pairs[k] for k in order)


# --- the divergence ---------------------------------------------------------------------------


def _divergence(
    timeline: tuple[Pair, ...], pairs: dict[Key, Pair], bad_first_null: Placed | None
) -> Divergence | None:
    candidates = [p for p in timeline if p.differs]
    if not candidates:
        return None
    first = min(candidates, key=_observed_at)
    documents = first.differs
    through: tuple[tuple[Placed, ...], tuple[Placed, ...]] = ((), ())
    if "input" in documents:
        assert first.good is not None and first.bad is not None
        through = (_road(first.good, pairs), _road(first.bad, pairs))
    return Divergence(first, documents, through, _explain(first, through, bad_first_null))


def _observed_at(pair: Pair) -> tuple[float, int]:
    """The bad run's event where the difference shows: the entry when the input already
    differs, else the exit (a visit that never exited sorts last)."""
    assert pair.bad is not None
    visit = pair.bad.visit
    if "input" in pair.differs:
        return float(visit.entered.id), visit.seq
    return (float(visit.end.id) if visit.end is not None else math.inf), visit.seq


def _road(placed: Placed, pairs: dict[Key, Pair]) -> tuple[Placed, ...]:
    """The visits only this run made just before ``placed`` in its flow."""
    road: list[Placed] = []
    for key in reversed(placed.flow[: placed.position]):
        pair = pairs[key]
        if pair.shared:
            break
        road.append(pair.either)
    return tuple(reversed(road))


def _explain(
    pair: Pair,
    through: tuple[tuple[Placed, ...], tuple[Placed, ...]],
    bad_first_null: Placed | None,
) -> str:
    assert pair.good is not None and pair.bad is not None
    good, bad = pair.good.trace, pair.bad.trace
    where = f"{pair.label} ({pair.type})"
    if "input" not in pair.differs:
        return (
            f"{where} received the field {good.input.status.value} in both runs, and its "
            f"output holds it {good.output.status.value} in the good run but "
            f"{bad.output.status.value} in the bad run"
        )
    text = (
        f"{where} already received the field differently: {good.input.status.value} in the "
        f"good run, {bad.input.status.value} in the bad run"
    )
    good_road, bad_road = through
    if good_road or bad_road:
        roads = [
            f"only the {name} run went through {', '.join(p.visit.state for p in road)}"
            for name, road in (("good", good_road), ("bad", bad_road))
            if road
        ]
        text += f"; the runs reached it by different paths ({'; '.join(roads)})"
        if bad_first_null is not None and any(
            bad_first_null.key[: len(p.key)] == p.key for p in bad_road
        ):
            text += (
                f"; on the bad run's path, the field went null in "
                f"{' > '.join(bad_first_null.visit.scope)}"
            )
    elif pair.bad.position == 0 and len(pair.key) == 1:
        text += "; the two executions started with different inputs"
    return text


def _extra_iterations(
    timeline: tuple[Pair, ...], pairs: dict[Key, Pair]
) -> tuple[ExtraIteration, ...]:
    """Map iterations only one run made, under a Map visit both runs made."""
    iterations = {run: _iteration_keys(pairs, run) for run in Run}
    innermost = _innermost_shared_iterations(pairs)
    found: dict[tuple[Key, Run], dict[int, int]] = {}
    for pair in timeline:
        run = pair.only_in
        if run is None:
            continue
        depth = innermost.get(pair.key)
        if depth is not None:
            index = pair.key[depth][1]
            if pair.key[: depth + 1] not in iterations[_other(run)]:
                counts = found.setdefault((pair.key[:depth], run), {})
                counts[int(index)] = counts.get(int(index), 0) + 1
    extras: list[ExtraIteration] = []
    for (map_key, run), counts in found.items():
        map_pair = pairs[map_key]
        extras.extend(
            ExtraIteration(map_key, map_pair.state, map_pair.scope, index, run, visits)
            for index, visits in sorted(counts.items())
        )
    return tuple(extras)


def _other(run: Run) -> Run:
    return Run.GOOD if run is Run.BAD else Run.BAD


def _innermost_shared_iterations(pairs: dict[Key, Pair]) -> dict[Key, int]:
    """For each visit's key, where in it the innermost iteration of a Map visit both runs
    made is (the index of its ``iteration`` part); keys inside no such iteration are left
    out.

    From each visit's enclosing visit (its key without the last flow and state), outermost
    first: it is its own flow when the enclosing visit is a shared Map visit, else the
    enclosing visit's answer. Linear in the keys' total length, whatever the nesting."""
    found: dict[Key, int] = {}
    for key in sorted(pairs, key=len):
        if len(key) < 3:
            continue
        holder = key[:-2]
        pair = pairs.get(holder)
        if key[-2][0] == "iteration" and pair is not None and pair.shared:
            found[key] = len(key) - 2
        elif holder in found:
            found[key] = found[holder]
    return found


def _iteration_keys(pairs: dict[Key, Pair], run: Run) -> set[Key]:
    """Keys of the Map iterations ``run`` made (each ends with an ``iteration`` part): each
    holds a visit of ``run`` whose key is the iteration's key and one more state, as every
    visit's enclosing visits are ``run``'s too."""
    return {
        key[:-1]
        for key, pair in pairs.items()
        if pair.side(run) is not None and len(key) > 1 and key[-2][0] == "iteration"
    }
