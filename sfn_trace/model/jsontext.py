"""JSON text in and out: whatever a payload holds is read, and everything written is RFC 8259.

Reading (:func:`loads`) gives what :func:`json.loads` gives (read by msgspec where it
can, which is faster and agrees), with two differences:

- **Numbers Python cannot hold keep their text.** A number too large for a float (``1e400``,
  ``-1E+999``, an integer of more than 4,300 digits) and the tokens ``NaN``, ``Infinity`` and
  ``-Infinity`` (not JSON, but Python's own encoder writes them by default, so a Python
  Lambda's result may hold them) become a :class:`NonFinite`: a ``float`` (infinite or NaN,
  so comparisons and arithmetic work as Python always did) that remembers its text.
- **Depth.** Python's parser recurses and gives up near 1,000 levels; a document it cannot
  read for that reason is read again by an iterative parser, up to :data:`MAX_DEPTH` levels
  of arrays and objects (RFC 8259 section 9 lets a parser limit both depth and the range of
  numbers). A valid document nested deeper raises :class:`TooDeep` ("nested deeper than
  10000 levels"), never a plain "not JSON"; text that is not JSON raises :class:`ValueError`
  (:class:`json.JSONDecodeError`) whatever its depth.

Writing (:func:`dumps`) takes :func:`json.dumps`'s formatting arguments and gives the same text
for every document :func:`json.dumps` writes as strict JSON, and strict JSON for the others:

- a :class:`NonFinite` number is written as its text (``1e400`` stays ``1e400``); the
  tokens, which have no spelling as a JSON number, are written as the strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"`` (the convention of the Protocol Buffers JSON mapping); a
  non-finite ``float`` that comes from no text (arithmetic) is written
  ``1e999``/``-1e999`` (which any reader takes as infinite) or ``"NaN"``;
- a document nested too deeply for Python's encoder is written by an iterative one.

The common case costs nothing: :func:`json.loads` calls the number hook only for numbers with
a fraction or an exponent, and :func:`dumps` first runs :func:`json.dumps` with
``allow_nan=False``; only a document it refuses (a non-finite number) or cannot nest
(``RecursionError``) is written by the iterative encoder.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, Final

MAX_DEPTH: Final = 10_000
"""How many arrays and objects may nest in a payload: the limit of Go's ``encoding/json``
(``maxNestingDepth``), ten times what Python's parser reaches, far beyond any document a
workflow makes, and still cheap to read and write (10 ms each way at the limit)."""

INDENTED_LEVELS: Final = 100
"""With ``indent``, the levels written one member per line; deeper members follow each other
on one line (indenting 10,000 levels would write 200 MB of spaces)."""

FILE_DEPTH: Final = MAX_DEPTH + 4
"""How deep a history file may nest: a payload at the limit, decoded into the file (some
tools write payloads as objects), inside ``{"events": [{"...EventDetails": {"input": ...``."""

TOKENS: Final = ("NaN", "Infinity", "-Infinity")
"""The bare tokens Python reads but RFC 8259 does not allow; written back as strings."""


class NonFinite(float):
    """A number that Python reads as infinite or NaN, with the text the document spelled it.

    Compares and computes as the float it stands for (``NonFinite("1e400") == math.inf``);
    :attr:`json_text` is how :func:`dumps` writes it.
    """

    __slots__ = ("text",)

    text: str

    def __new__(cls, text: str) -> NonFinite:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __repr__(self) -> str:
        return f"NonFinite({self.text!r})"

    def __str__(self) -> str:
        return float.__repr__(self)  # "inf", "-inf", "nan", as for any float

    def __reduce__(self) -> tuple[type[NonFinite], tuple[str]]:
        return (NonFinite, (self.text,))

    @property
    def json_text(self) -> str:
        """The number's own text, or a JSON string for a bare token (``"NaN"``)."""
        return f'"{self.text}"' if self.text in TOKENS else self.text


class TooDeep(ValueError):
    """Valid JSON, nested deeper than the limit: ``str()`` is "nested deeper than N levels"."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


# --- reading ---------------------------------------------------------------------------------


def _number(text: str) -> float:
    """``parse_float`` hook: called only for numbers with a fraction or an exponent."""
    value = float(text)
    if value - value == 0.0:  # finite (inf - inf is NaN)
        return value
    return NonFinite(text)


def _integer(text: str) -> int | float:
    """``parse_int`` hook of the second try, for integers longer than Python converts."""
    try:
        return int(text)
    except ValueError:
        return NonFinite(text)


_DECODER: Final = json.JSONDecoder(parse_float=_number, parse_constant=NonFinite)
_LONG_INTEGERS: Final = json.JSONDecoder(
    parse_float=_number, parse_constant=NonFinite, parse_int=_integer
)


def loads(text: str | bytes | bytearray, *, max_depth: int | None = MAX_DEPTH) -> Any:
    """Parse one JSON document (see the module docstring).

    ``max_depth``: the nesting limit (:data:`FILE_DEPTH` for a history file; None: no
    limit). Raises :class:`TooDeep` for a valid document nested deeper, and
    :class:`ValueError` for text that is not JSON (:class:`UnicodeDecodeError` for bytes that
    are not text).
    """
    try:
        return _fast_decode()(text)
    except (ValueError, RecursionError):  # msgspec refused it: read it the exact way
        pass
    if not isinstance(text, str):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    # Python's parser stops near the recursion limit; unless someone raised that limit
    # above ours, it cannot return a document nested deeper than ours.
    if max_depth is None or sys.getrecursionlimit() <= max_depth:
        try:
            return _DECODER.decode(text)
        except RecursionError:
            pass
        except json.JSONDecodeError:
            raise
        except ValueError:
            # An integer of more than 4,300 digits (sys.get_int_max_str_digits).
            try:
                return _LONG_INTEGERS.decode(text)
            except RecursionError:
                pass
    return _Parser(text, max_depth).parse()


@functools.cache
def _fast_decode() -> Callable[[str | bytes | bytearray], Any]:
    """msgspec's JSON decoder (three to five times faster than :mod:`json` on payloads and
    history files), imported on first use. It gives exactly what :func:`json.loads` gives
    for every document it reads (integers of any size, ``-0.0``, the last of duplicate keys,
    correctly rounded floats; a property test checks it) and refuses the rest: numbers
    beyond a float (``1e400``), the ``NaN``/``Infinity`` tokens, lone surrogates, text that
    is not UTF-8 or not JSON, and documents nested beyond its recursion. Those go the exact,
    slower way."""
    import msgspec.json

    decode: Callable[[str | bytes | bytearray], Any] = msgspec.json.Decoder().decode
    return decode


_ScanString = Callable[[str, int, bool], tuple[str, int]]
_scanstring: Final[_ScanString] = json.decoder.scanstring  # type: ignore[attr-defined]
"""The JSON string reader of :mod:`json` (in C): the text of one string, and its end."""
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_NUMBER: Final = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS: Final[tuple[tuple[str, Any], ...]] = (
    ("null", None),
    ("true", True),
    ("false", False),
)
_OBJECT, _ARRAY = 0, 1


def _skip(text: str, position: int) -> int:
    """The position of the first character at or after ``position`` that is not blank."""
    blank = _WHITESPACE.match(text, position)
    return blank.end() if blank is not None else position


class _Parser:
    """An iterative JSON parser (no recursion, any depth), as strict as :func:`json.loads`.

    Beyond ``max_depth`` it stops building the document (a hostile file cannot make it hold
    millions of containers) but still reads the rest, so that text which is not JSON is
    reported as such, and only a valid document as :class:`TooDeep`.
    """

    def __init__(self, text: str, max_depth: int | None) -> None:
        self.text = text
        self.max_depth = max_depth

    def parse(self) -> Any:
        text = self.text
        kinds = bytearray()  # _OBJECT or _ARRAY for every open container
        containers: list[Any] = []  # the open containers while within the limit
        keys: list[str] = []  # the pending member name of every open object
        limit = self.max_depth
        too_deep = False
        position = _skip(text, 0)
        while True:
            # One value starts at ``position``.
            char = text[position : position + 1]
            value: Any
            if char == "{" or char == "[":
                kind = _OBJECT if char == "{" else _ARRAY
                position = _skip(text, position + 1)
                if limit is not None and len(kinds) >= limit:
                    too_deep = True
                    containers.clear()
                    keys.clear()
                closing = "}" if kind == _OBJECT else "]"
                if text[position : position + 1] == closing:
                    value = {} if kind == _OBJECT else []
                    position += 1
                else:
                    kinds.append(kind)
                    if not too_deep:
                        containers.append({} if kind == _OBJECT else [])
                    if kind == _OBJECT:
                        key, position = self._key(position)
                        if not too_deep:
                            keys.append(key)
                    continue
            elif char == '"':
                value, position = _scanstring(text, position + 1, True)
            else:
                value, position = self._scalar(position)
            # Put the value in its container; close the containers it completes.
            while True:
                if not kinds:
                    end = _skip(text, position)
                    if end != len(text):
                        raise json.JSONDecodeError("Extra data", text, end)
                    if too_deep:
                        assert limit is not None
                        raise TooDeep(limit)
                    return value
                kind = kinds[-1]
                if not too_deep:
                    if kind == _OBJECT:
                        containers[-1][keys[-1]] = value
                    else:
                        containers[-1].append(value)
                position = _skip(text, position)
                char = text[position : position + 1]
                if char == ",":
                    position = _skip(text, position + 1)
                    if kind == _OBJECT:
                        key, position = self._key(position)
                        if not too_deep:
                            keys[-1] = key
                    break
                if char != ("}" if kind == _OBJECT else "]"):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
                position += 1
                kinds.pop()
                if kind == _OBJECT and not too_deep:
                    keys.pop()
                value = containers.pop() if not too_deep else None

    def _key(self, position: int) -> tuple[str, int]:
        """A member name and its colon; returns the position of the member's value."""
        text = self.text
        if text[position : position + 1] != '"':
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, position
            )
        key, position = _scanstring(text, position + 1, True)
        position = _skip(text, position)
        if text[position : position + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, position)
        return key, _skip(text, position + 1)

    def _scalar(self, position: int) -> tuple[Any, int]:
        text = self.text
        number = _NUMBER.match(text, position)
        if number is not None:
            integer, fraction, exponent = number.groups()
            end = number.end()
            if fraction or exponent:
                return _number(text[position:end]), end
            return _integer(integer), end
        for literal, value in _LITERALS:
            if text.startswith(literal, position):
                return value, position + len(literal)
        for token in TOKENS:
            if text.startswith(token, position):
                return NonFinite(token), position + len(token)
        raise json.JSONDecodeError("Expecting value", text, position)


# --- writing ---------------------------------------------------------------------------------


def dumps(
    value: Any,
    *,
    indent: int | str | None = None,
    separators: tuple[str, str] | None = None,
    ensure_ascii: bool = True,
    sort_keys: bool = False,
    strict: bool = True,
) -> str:
    """:func:`json.dumps` (same arguments, same text) that always writes RFC 8259 JSON, at
    any depth (see the module docstring).

    ``strict=False`` writes every :class:`NonFinite` as its own text, the bare tokens
    included: for a payload's text, which only sfn-trace reads back (a payload a tool
    decoded into an object is turned back into the text it had), never for output.
    """
    try:
        return json.dumps(
            value,
            indent=indent,
            separators=separators,
            ensure_ascii=ensure_ascii,
            sort_keys=sort_keys,
            allow_nan=False,
        )
    except (ValueError, RecursionError):
        pass
    return _encode(value, indent, separators, ensure_ascii, sort_keys, strict)


def number_text(value: float, strict: bool = True) -> str:
    """How :func:`dumps` writes a float: ``repr`` when finite, else its JSON stand-in
    (``strict=False``: a :class:`NonFinite`'s own text, Python's tokens for the others)."""
    if isinstance(value, NonFinite):
        return value.json_text if strict else value.text
    if value != value:
        return '"NaN"' if strict else "NaN"
    if value == float("inf"):
        return "1e999" if strict else "Infinity"
    if value == float("-inf"):
        return "-1e999" if strict else "-Infinity"
    return float.__repr__(value)


def _encode(
    value: Any,
    indent: int | str | None = None,
    separators: tuple[str, str] | None = None,
    ensure_ascii: bool = True,
    sort_keys: bool = False,
    strict: bool = True,
) -> str:
    """The iterative encoder: :func:`json.dumps`'s output, strict, at any depth."""
    if isinstance(indent, int):
        indent = " " * indent
    if separators is not None:
        item_separator, key_separator = separators
    else:
        item_separator, key_separator = (", ", ": ") if indent is None else (",", ": ")
    string = encode_basestring_ascii if ensure_ascii else encode_basestring
    parts: list[str] = []
    # Every open container: its members still to write, whether it is an object, its id
    # (a container inside itself is an error, as in json.dumps) and how many were written.
    stack: list[tuple[Iterator[Any], bool, int, list[int]]] = []
    open_ids: set[int] = set()
    while True:
        # Write ``value``.
        if isinstance(value, str):
            parts.append(string(value))
        elif value is None:
            parts.append("null")
        elif value is True:
            parts.append("true")
        elif value is False:
            parts.append("false")
        elif isinstance(value, int):
            parts.append(int.__repr__(value))
        elif isinstance(value, float):
            parts.append(number_text(value, strict))
        elif isinstance(value, (list, tuple, dict)):
            is_object = isinstance(value, dict)
            if not value:
                parts.append("{}" if is_object else "[]")
            else:
                if id(value) in open_ids:
                    raise ValueError("Circular reference detected")
                open_ids.add(id(value))
                parts.append("{" if is_object else "[")
                members: Iterator[Any]
                if isinstance(value, dict):
                    items = value.items()
                    members = iter(sorted(items, key=_by_key) if sort_keys else items)
                else:
                    members = iter(value)
                stack.append((members, is_object, id(value), [0]))
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        # Find the next value to write, closing the containers that are done.
        while stack:
            members, is_object, container_id, written = stack[-1]
            member: Any = next(members, _END)
            if member is _END:
                stack.pop()
                open_ids.discard(container_id)
                if indent is not None and len(stack) < INDENTED_LEVELS:
                    parts.append("\n" + indent * len(stack))
                parts.append("}" if is_object else "]")
                continue
            if written[0]:
                parts.append(item_separator)
            written[0] += 1
            if indent is not None and len(stack) <= INDENTED_LEVELS:
                parts.append("\n" + indent * len(stack))
            if is_object:
                key, value = member
                parts.append(string(_key_text(key)))
                parts.append(key_separator)
            else:
                value = member
            break
        else:
            return "".join(parts)


_END: Final = object()


def _by_key(member: tuple[Any, Any]) -> Any:
    return member[0]


def _key_text(key: Any) -> str:
    """An object member's name as :func:`json.dumps` spells a key that is not a string."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        text = number_text(key)
        return text.strip('"')
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
