"""The paths lint follows a read back along: from a reader to ``StartAt``, searched backwards,
with work linear in the size of the definition (and of what is reported).

:mod:`sfn_trace.checks.lint` asks, for every read of the field, which states on a path from
``StartAt`` to the reader can drop it, and names the first path (in a fixed search order) that
shows each. Enumerating the paths one by one costs their length each: a chain of 100,000
states read at every state costs 100,000²/2 steps. Here the search is shared instead:

- a state's incoming edges are tried last first, a state appears at most twice in a path (a
  loop is walked once, then cut), a reader's search stops after :data:`MAX_PATHS` paths have
  reached ``StartAt``, and ``StartAt`` ends every path (its own predecessors are not walked);
- what lies *beyond* a state on the search (the drops on the paths behind it, the first path
  that shows each, how many paths reach ``StartAt``) depends only on that state and the
  location read in its input, unless the state is on a loop, in which case it depends on
  which states the path already holds. So it is worked out once per (state, location) for
  every state that is on no loop (:class:`Beyond`), and shared by every reader and every path
  that reaches that state with that location. States on loops are searched path by path,
  as before;
- paths are kept as shared links (a state and the link of the path before it), turned into
  tuples only for a reported finding.

The answers are those of the path-by-path search: the same findings, the same first paths,
in the same order (``tests/checks/test_lint_paths.py`` compares both on random graphs).

What is reported can itself grow with the square of the definition (every state reads the
field and a state near ``StartAt`` can drop it: each reader's finding names a path through
the whole chain), so the search counts the drops it carries and the states of reported
paths and stops past :data:`MAX_WORK`, and counts the states it searches (a loop of
100,000 states is searched path by path) and stops past :data:`MAX_STEPS`; :class:`Cut`
says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["MAX_PATHS", "MAX_WORK", "Beyond", "Cut", "Found", "PathSearch"]

MAX_PATHS = 2000
"""Per reader: the paths that reach ``StartAt``. Enough for real machines, a bound for
pathological ones (a chain of Choices, each branch joining again, has 2ⁿ paths)."""
VISITS_PER_PATH = 2
"""Once through a loop shows what its body can drop; more only repeats it."""
MAX_WORK = 200_000
"""Drops carried from state to state plus states in the paths of reported findings, for one
definition. A definition without findings costs nothing; a real machine's findings cost
hundreds. It keeps a definition whose every state reads the field behind a dropper near
``StartAt`` (a report with the square of its size in path states) to seconds and a report
of some megabytes."""

MAX_STEPS = 5_000_000
"""States searched, for one definition. A state on no loop is searched once per location
read in it; a state on a loop once per path through it (up to :data:`MAX_PATHS` per
reader), so one large loop read at many states is what this bounds."""

Edge = TypeVar("Edge", bound=Hashable)
Drop = TypeVar("Drop")
Location = Hashable
Link = tuple[str, "Link | None"]
"""A path from ``StartAt``: its last state and the link of the path before it (None at
``StartAt``)."""


class Cut(Exception):
    """The search passed :data:`MAX_WORK` or :data:`MAX_STEPS`; the message says which."""


@dataclass(slots=True)
class Found(Generic[Drop]):
    """One drop on a path to the state searched from, and the first path that shows it."""

    drop: Drop
    path_index: int
    """Which path (in search order) first shows it, counted from the state searched from."""
    link: Link
    """That path, from ``StartAt`` to the state searched from."""
    count: int = 1
    """On how many of the paths from here to ``StartAt`` it is (up to :data:`MAX_PATHS`)."""


@dataclass(slots=True)
class Beyond(Generic[Drop]):
    """What lies behind one state, for one location read in its input."""

    found: list[Found[Drop]] = field(default_factory=list)
    """Each drop once (its first path), in the order the path-by-path search meets them."""
    paths: int = 0
    """How many paths reach ``StartAt`` from here (at most :data:`MAX_PATHS`)."""
    first: Link | None = None
    """The first of them."""


class _Frame(Generic[Edge, Drop]):
    """A state on the path being searched, with what has been found behind it so far."""

    __slots__ = ("beyond", "drops", "keys", "location", "memo", "state", "tries")

    def __init__(
        self,
        state: str,
        location: Location | None,
        drops: tuple[Drop, ...],
        tries: Iterator[tuple[str, Edge]],
        memo: bool,
    ) -> None:
        self.state = state
        self.location = location
        self.drops = drops
        """This state's own drops (found stepping back through it), reported with the first
        path behind it."""
        self.tries = tries
        self.memo = memo
        self.beyond: Beyond[Drop] = Beyond()
        self.keys: dict[Hashable, Found[Drop]] = {}


class PathSearch(Generic[Edge, Drop]):
    """Searches backwards from readers over one definition's state graph.

    ``incoming``: per state, the (source, edge) pairs that lead to it, in definition order.
    ``step(state, edge, location)``: the location in ``state``'s raw input that its output
    ``location`` comes from (None: made there), and the drops stepping back found; ``edge``
    is the one the path leaves ``state`` by. ``key(drop)``: what makes two drops the same.
    """

    def __init__(
        self,
        start: str | None,
        incoming: Mapping[str, Sequence[tuple[str, Edge]]],
        step: Callable[[str, Edge, Location], tuple[Location | None, tuple[Drop, ...]]],
        key: Callable[[Drop], Hashable],
    ) -> None:
        self.start = start
        self.incoming = incoming
        self.step = step
        self.key = key
        self.on_loop = _on_loops(incoming, start)
        self.known: dict[tuple[str, Location | None], Beyond[Drop]] = {}
        self.work = 0
        self.searched = 0
        """States whose predecessors were searched (a measure of the work, for tests)."""

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > MAX_WORK:
            raise Cut(f"the paths to report pass {MAX_WORK:,} states")

    def findings(
        self, reader: str, location: Location
    ) -> Iterator[tuple[Drop, tuple[str, ...], int]]:
        """Each drop on a path from ``StartAt`` to ``reader`` (reading ``location`` in its raw
        input) with the first path that shows it and the number of paths it is on, in the
        order the path-by-path search meets them."""
        if reader == self.start:
            return
        beyond = self.beyond(reader, location, ())
        for each in beyond.found:
            path = _tuple(each.link)
            self.spend(len(path))
            yield each.drop, path, each.count

    def beyond(
        self, state: str, location: Location | None, drops: tuple[Drop, ...]
    ) -> Beyond[Drop]:
        """What lies behind ``state`` (the reader, or a state reached with ``location``)."""
        known = self.known.get((state, location))
        if known is not None:
            return known
        times: Counter[str] = Counter()
        stack = [self._frame(state, location, drops, times)]
        while True:
            top = stack[-1]
            tried = next(top.tries, None) if top.beyond.paths < MAX_PATHS else None
            if tried is None:
                stack.pop()
                times[top.state] -= 1
                if top.memo:
                    self.known[(top.state, top.location)] = top.beyond
                if not stack:
                    return top.beyond
                self._join(stack[-1], top.drops, top.beyond)
                continue
            source, edge = tried
            if times[source] >= VISITS_PER_PATH:
                continue
            moved: Location | None = None
            found: tuple[Drop, ...] = ()
            if top.location is not None:
                moved, found = self.step(source, edge, top.location)
            if source == self.start:
                self._join(top, found, _start_link(source))
                continue
            known = self.known.get((source, moved))
            if known is not None:
                self._join(top, found, known)
                continue
            stack.append(self._frame(source, moved, found, times))

    def _frame(
        self,
        state: str,
        location: Location | None,
        drops: tuple[Drop, ...],
        times: Counter[str],
    ) -> _Frame[Edge, Drop]:
        times[state] += 1
        self.searched += 1
        if self.searched > MAX_STEPS:
            raise Cut(f"the search passed {MAX_STEPS:,} states")
        tries = reversed(self.incoming.get(state, ()))
        return _Frame(state, location, drops, iter(tries), state not in self.on_loop)

    def _join(
        self, into: _Frame[Edge, Drop], drops: tuple[Drop, ...], behind: Beyond[Drop]
    ) -> None:
        """Add a predecessor's own drops and what lies behind it to ``into``: the drops on
        each path in search order, each drop once, the paths counted up to the bound."""
        if not behind.paths or behind.first is None:
            return
        beyond = into.beyond
        offset = beyond.paths
        first: Link = (into.state, behind.first)
        self.spend(len(drops) + len(behind.found))
        if beyond.first is None:
            beyond.first = first
        room = MAX_PATHS - offset
        own: set[Hashable] = set()
        for drop in drops:
            if self.key(drop) in own:
                continue
            own.add(self.key(drop))
            self._add(into, drop, offset, first, min(behind.paths, room))
        for each in behind.found:
            if offset + each.path_index >= MAX_PATHS:
                break
            # A drop of the predecessor itself is on all its paths, counted above.
            count = 0 if self.key(each.drop) in own else min(each.count, room)
            self._add(into, each.drop, offset + each.path_index, (into.state, each.link), count)
        beyond.paths = min(offset + behind.paths, MAX_PATHS)

    def _add(
        self, into: _Frame[Edge, Drop], drop: Drop, index: int, link: Link, count: int
    ) -> None:
        key = self.key(drop)
        known = into.keys.get(key)
        if known is None:
            into.keys[key] = found = Found(drop, index, link, count)
            into.beyond.found.append(found)
        else:
            known.count += count


def _start_link(start: str) -> Beyond[Drop]:
    """``StartAt`` itself: one path, holding only it."""
    return Beyond([], 1, (start, None))


def _tuple(link: Link) -> tuple[str, ...]:
    states: list[str] = []
    at: Link | None = link
    while at is not None:
        states.append(at[0])
        at = at[1]
    return tuple(reversed(states))


def _core(graph: dict[str, list[str]]) -> dict[str, list[str]]:
    """The part of ``graph`` that can hold a loop: states are peeled off while one has no
    predecessor left (Kahn's topological order), then while one has no successor left. A
    machine without loops peels to nothing, in time linear in its size."""
    into: Counter[str] = Counter(target for targets in graph.values() for target in targets)
    ready = [state for state in graph if not into[state]]
    peeled: set[str] = set()
    while ready:
        state = ready.pop()
        peeled.add(state)
        for target in graph.get(state, ()):
            into[target] -= 1
            if not into[target]:
                ready.append(target)
    left = {
        state: [target for target in targets if target not in peeled]
        for state, targets in graph.items()
        if state not in peeled
    }
    back: dict[str, list[str]] = {}
    for state, targets in left.items():
        for target in targets:
            back.setdefault(target, []).append(state)
    out = Counter({state: len(targets) for state, targets in left.items()})
    ready = [state for state in left if not out[state]]
    while ready:
        state = ready.pop()
        peeled.add(state)
        for source in back.get(state, ()):
            out[source] -= 1
            if not out[source]:
                ready.append(source)
    return {
        state: [target for target in targets if target not in peeled]
        for state, targets in left.items()
        if state not in peeled
    }


def _on_loops(incoming: Mapping[str, Sequence[tuple[str, object]]], start: str | None) -> set[str]:
    """The states on a loop of the graph the search walks: ``StartAt``'s own predecessors
    are never walked, so a loop back to ``StartAt`` is none. Tarjan's strongly connected
    components, with an explicit stack (a chain may be 100,000 states long)."""
    graph: dict[str, list[str]] = {}
    for state, sources in incoming.items():
        if state == start:
            continue
        for source, _ in sources:
            graph.setdefault(source, []).append(state)
    graph = _core(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: list[str] = []
    placed: set[str] = set()
    looped: set[str] = set()
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        component.append(root)
        work = [(root, iter(graph.get(root, ())))]
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    component.append(target)
                    work.append((target, iter(graph.get(target, ()))))
                elif target not in placed:
                    low[node] = min(low[node], index[target])
                if target == node:
                    looped.add(node)
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = component.pop()
                    placed.add(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    looped.update(members)
    return looped
