"""Where each state's key is in a definition's text: line and column, for SARIF.

``json`` gives no positions, so :func:`state_positions` scans the text once more with a
small tokenizer. It is iterative (an explicit stack, however deep the nesting), compares
key names decoded (``"A\\u00e9"`` is the state ``Aé``), and keys each state by the same
location string :attr:`sfn_trace.model.definition.StateDef.location` uses
(``States.Fan.ItemProcessor.States.Convert``, ``States.P.Branches[0].States.X``), so a
state name reused in a nested machine still finds its own key.

Lines are counted 1-based and end at ``\\r\\n``, ``\\n`` or a lone ``\\r`` (the same breaks
Python's universal newlines read); a UTF-8 byte order mark at the start is not a column.
Columns are 1-based, both in Unicode code points and in UTF-16 code units (SARIF's default
``columnKind``).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sfn_trace.model.definition import Place, StateDef

__all__ = ["Position", "positions_of", "state_positions"]


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    """1-based."""
    column: int
    """1-based, in Unicode code points."""
    utf16_column: int
    """1-based, in UTF-16 code units (a character beyond U+FFFF counts 2)."""


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.DOTALL)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")

# What a JSON container is to the state machine structure.
_OTHER = 0
_MACHINE = 1  # an object with StartAt/States: the root, an ItemProcessor, a Parallel branch
_STATES = 2  # a machine's States object: each key is a state
_STATE = 3  # one state's body
_BRANCHES = 4  # a Parallel state's Branches array


class _Frame:
    __slots__ = ("count", "expect_key", "is_object", "key", "place", "role")

    def __init__(self, is_object: bool, role: int, place: Place | None) -> None:
        self.is_object = is_object
        self.role = role
        self.place = place
        """_MACHINE: the place its ``States`` hangs from (None at the top); _STATES: its
        place; _STATE and _BRANCHES: the state's place (linked, as the definition's:
        :class:`~sfn_trace.model.definition.Place`)."""
        self.expect_key = is_object
        self.key = ""
        self.count = 0


def state_positions(text: str) -> dict[str, Position]:
    """The position of every state's key (the opening quote of ``"Name"``), by location.

    Text that is not valid JSON gives what could be found, without raising. For a key given
    twice, the last one wins, as it does for ``json``.
    """
    keys = _state_keys(text)
    return _positions(text, {place.text: offset for place, offset in keys})


def positions_of(text: str, states: Iterable[StateDef]) -> dict[str, Position]:
    """The position of the key of each of ``states`` (by state name), found as
    :func:`state_positions` finds it. Only these states' locations are compared (link by
    link), so a definition nested thousands of levels deep costs no location strings."""
    wanted = list(states)
    if not wanted:
        return {}
    by_name: dict[str, list[tuple[Place, int]]] = {}
    for place, offset in _state_keys(text):
        by_name.setdefault(place.piece, []).append((place, offset))
    offsets: dict[str, int] = {}
    for state in wanted:
        found = [offset for place, offset in by_name.get(state.name, ()) if place == state.place]
        if found:
            offsets[state.name] = found[-1]
    return _positions(text, offsets)


def _state_keys(text: str) -> list[tuple[Place, int]]:
    """(place, offset) of every state's key, in the order of the text."""
    found: list[tuple[Place, int]] = []
    stack: list[_Frame] = []
    for token in _TOKEN.finditer(text):
        value = token.group()
        first = value[0]
        top = stack[-1] if stack else None
        if first == '"' and top is not None and top.is_object and top.expect_key:
            top.key = _decode(value)
            top.expect_key = False
            if top.role == _STATES:
                found.append((Place(top.place, top.key), token.start()))
        elif first in "{[":
            stack.append(_child(top, is_object=first == "{"))
        elif first in "}]":
            if stack:
                stack.pop()
        elif first == ",":
            if top is not None and top.is_object:
                top.expect_key = True
        elif first != ":" and top is not None and not top.is_object:
            top.count += 1  # a scalar element of an array
    return found


def _child(parent: _Frame | None, is_object: bool) -> _Frame:
    """The frame of a container that starts as a value of ``parent``."""
    if parent is None:
        return _Frame(is_object, _MACHINE if is_object else _OTHER, None)
    role: int = _OTHER
    place: Place | None = None
    if parent.is_object:
        key = parent.key
        if parent.role == _MACHINE and key == "States" and is_object:
            role, place = _STATES, Place(parent.place, "States")
        elif parent.role == _STATES and is_object:
            role, place = _STATE, Place(parent.place, key)
        elif parent.role == _STATE and key in ("ItemProcessor", "Iterator") and is_object:
            role, place = _MACHINE, Place(parent.place, key)
        elif parent.role == _STATE and key == "Branches" and not is_object:
            role, place = _BRANCHES, parent.place
    else:
        index = parent.count
        parent.count += 1
        if parent.role == _BRANCHES and is_object:
            role, place = _MACHINE, Place(parent.place, f"Branches[{index}]")
    return _Frame(is_object, role, place)


def _decode(literal: str) -> str:
    if "\\" not in literal:
        return literal[1:-1]  # nothing escaped: the text between the quotes is the key
    try:
        decoded = json.loads(literal)
    except ValueError:
        return literal[1:-1]
    return decoded if isinstance(decoded, str) else literal[1:-1]


def _positions(text: str, offsets: dict[str, int]) -> dict[str, Position]:
    """Line and columns of each offset, in one pass over the text (a minified definition is
    one long line: each key's columns are counted on from the previous key's)."""
    starts = [1 if text.startswith(_BOM) else 0]
    starts.extend(match.end() for match in _LINE_BREAK.finditer(text))
    found: dict[str, Position] = {}
    line, since, wide = 0, 0, 0
    for location, offset in sorted(offsets.items(), key=lambda item: item[1]):
        at_line = bisect.bisect_right(starts, offset)
        if at_line != line:
            line, since, wide = at_line, starts[at_line - 1], 0
        wide += len(_BEYOND_BMP.findall(text, since, offset))
        since = offset
        column = offset - starts[line - 1] + 1
        found[location] = Position(line, column, column + wide)
    return found
