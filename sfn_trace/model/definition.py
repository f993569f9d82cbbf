"""The Amazon States Language definition an execution ran, indexed by state name.

State names are unique across a whole state machine, nested Map and Parallel states
included (https://states-language.net/#state-machine-structure), so one flat index answers
"which state is this, and which Parallel branch holds it".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sfn_trace.errors import InputError
from sfn_trace.model import jsontext


class Place:
    """Where a member sits in a definition: its key, after the place of the member that holds
    it. Linked, not a string: a state nested 2,000 levels deep under long names costs one
    link, not a string of megabytes (a string per state would grow with the square of the
    nesting)."""

    __slots__ = ("parent", "piece")

    def __init__(self, parent: Place | None, piece: str) -> None:
        self.parent = parent
        self.piece = piece

    def pieces(self) -> list[str]:
        """The keys from the top, e.g. ``["States", "Fan", "ItemProcessor", ...]``."""
        found: list[str] = []
        at: Place | None = self
        while at is not None:
            found.append(at.piece)
            at = at.parent
        found.reverse()
        return found

    @property
    def text(self) -> str:
        """``States.Fan.ItemProcessor.States.Convert``, ``States.P.Branches[0].States.X``."""
        return ".".join(self.pieces())

    def __eq__(self, other: object) -> bool:
        """The same keys from the top (compared link by link, without building strings)."""
        if not isinstance(other, Place):
            return NotImplemented
        one: Place | None = self
        two: Place | None = other
        while one is not None and two is not None:
            if one is two:
                return True
            if one.piece != two.piece:
                return False
            one, two = one.parent, two.parent
        return one is None and two is None

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Place({self.text!r})"


@dataclass(frozen=True, slots=True)
class StateDef:
    name: str
    type: str
    body: Mapping[str, Any]
    place: Place
    """Where the state's key sits in the definition (:attr:`location` as text)."""
    parent: str | None
    """The Map or Parallel state that contains this one, if any."""
    branch: int | None
    """Index in the parent's ``Branches`` (Parallel) or None."""
    query_language: str
    """``JSONPath`` or ``JSONata``: the state's own setting, else the machine's."""

    @property
    def location(self) -> str:
        """JSON location in the definition, e.g. ``States.Fan.ItemProcessor.States.Convert``
        (built when asked: see :class:`Place`)."""
        return self.place.text


@dataclass(frozen=True)
class Definition:
    body: Mapping[str, Any]
    text: str
    states: Mapping[str, StateDef] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, origin: str = "definition") -> Definition:
        try:
            # As deep as a payload may nest: Parallel and Map states nest their branches,
            # three or four JSON levels per state, and Python's own parser stops near 1,000.
            body = jsontext.loads(text)
        except jsontext.TooDeep as exc:
            raise InputError(f"{origin}: the definition is {exc}") from None
        except ValueError as exc:
            raise InputError(f"{origin}: not valid JSON ({exc})") from exc
        if not isinstance(body, Mapping) or not isinstance(body.get("States"), Mapping):
            raise InputError(f"{origin}: not an Amazon States Language definition (no 'States')")
        language = str(body.get("QueryLanguage", "JSONPath"))
        states = dict(_index(body["States"], Place(None, "States"), None, None, language))
        return cls(body=body, text=text, states=states)

    def state(self, name: str) -> StateDef | None:
        return self.states.get(name)

    @property
    def start_at(self) -> str | None:
        start = self.body.get("StartAt")
        return start if isinstance(start, str) else None

    def inner_starts(self, name: str) -> tuple[str, ...]:
        """The first state of a Map's processor, or of each Parallel branch (in order)."""
        state = self.states.get(name)
        if state is None:
            return ()
        bodies: list[Any] = [state.body.get("ItemProcessor"), state.body.get("Iterator")]
        branches = state.body.get("Branches")
        if isinstance(branches, list):
            bodies.extend(branches)
        return tuple(
            str(body["StartAt"])
            for body in bodies
            if isinstance(body, Mapping) and isinstance(body.get("StartAt"), str)
        )

    def transitions(self, name: str) -> tuple[Transition, ...]:
        """Where a state can go next: ``Next``, each Choice rule and ``Default``, each
        catcher (https://states-language.net/#transitions)."""
        state = self.states.get(name)
        if state is None:
            return ()
        body = state.body
        found: list[Transition] = []
        if isinstance(body.get("Next"), str):
            found.append(Transition(name, body["Next"], "next"))
        for rule in body.get("Choices") or ():
            if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                found.append(Transition(name, rule["Next"], "choice"))
        if isinstance(body.get("Default"), str):
            found.append(Transition(name, body["Default"], "default"))
        for number, catcher in enumerate(body.get("Catch") or ()):
            if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
                found.append(Transition(name, catcher["Next"], "catch", number))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge of the state graph."""

    source: str
    target: str
    kind: str
    """``next``, ``choice``, ``default`` or ``catch``."""
    catcher: int | None = None
    """Index in the source's ``Catch`` for a ``catch`` edge."""


def _index(
    states: Mapping[str, Any],
    location: Place,
    parent: str | None,
    branch: int | None,
    language: str,
) -> Iterator[tuple[str, StateDef]]:
    """Every state, each before the states nested in it (its ``ItemProcessor``, ``Iterator``,
    then each of its ``Branches``) and those before its next sibling.

    An explicit stack, not recursion: the definition chooses how deep states nest."""
    stack: list[Iterator[tuple[str, StateDef]]] = [
        _states_of(states, location, parent, branch, language)
    ]
    while stack:
        found = next(stack[-1], None)
        if found is None:
            stack.pop()
            continue
        yield found
        name, state = found
        # Pushed last first: the first nested body is walked first.
        stack.extend(reversed(_nested(name, state.body, state.place, state.query_language)))


def _states_of(
    states: Mapping[str, Any],
    location: Place,
    parent: str | None,
    branch: int | None,
    language: str,
) -> Iterator[tuple[str, StateDef]]:
    """The states of one ``States`` object (not those nested in them)."""
    for name, body in states.items():
        if not isinstance(body, Mapping):
            continue
        yield (
            name,
            StateDef(
                name=name,
                type=str(body.get("Type", "")),
                body=body,
                place=Place(location, name),
                parent=parent,
                branch=branch,
                query_language=str(body.get("QueryLanguage", language)),
            ),
        )


def _nested(
    name: str, body: Mapping[str, Any], here: Place, own_language: str
) -> list[Iterator[tuple[str, StateDef]]]:
    """The ``States`` objects directly inside one state, in the order they are indexed."""
    found = []
    for key in ("ItemProcessor", "Iterator"):
        processor = body.get(key)
        if isinstance(processor, Mapping) and isinstance(processor.get("States"), Mapping):
            inner_language = str(processor.get("QueryLanguage", own_language))
            found.append(
                _states_of(
                    processor["States"],
                    Place(Place(here, key), "States"),
                    name,
                    None,
                    inner_language,
                )
            )
    branches = body.get("Branches")
    if isinstance(branches, list):
        for i, branch_body in enumerate(branches):
            if isinstance(branch_body, Mapping) and isinstance(branch_body.get("States"), Mapping):
                inner_language = str(branch_body.get("QueryLanguage", own_language))
                found.append(
                    _states_of(
                        branch_body["States"],
                        Place(Place(here, f"Branches[{i}]"), "States"),
                        name,
                        i,
                        inner_language,
                    )
                )
    return found


class Change(str, Enum):
    ADDED = "added"
    """In the expected definition only (the one that ran lacks it)."""
    REMOVED = "removed"
    """In the definition that ran only."""
    CHANGED = "changed"


@dataclass(frozen=True)
class StateDrift:
    state: str
    change: Change
    keys: tuple[str, ...] = ()
    """The state's top-level keys that differ (``changed`` only), sorted."""
    location: str = ""
    """Where the state sits, e.g. ``States.Fan.ItemProcessor.States.Convert``."""


@dataclass(frozen=True)
class Drift:
    states: tuple[StateDrift, ...]
    machine_keys: tuple[str, ...] = ()
    """Top-level keys other than ``States`` that differ (``StartAt``, ``QueryLanguage``...)."""

    @property
    def identical(self) -> bool:
        return not self.states and not self.machine_keys
