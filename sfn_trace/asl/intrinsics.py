"""ASL intrinsic functions (``States.Format(...)`` and friends) for JSONPath states.

https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html

A ``.$`` value that does not start with ``$`` is an intrinsic call. Arguments are nested
calls, string literals in single quotes (``\\'``, ``\\{``, ``\\}`` and ``\\\\`` escape), numbers,
``null``/``true``/``false`` and paths (``$.x``, ``$$.Execution.Name``, ``$var``). Where the
documentation is silent, behaviour follows what AWS recorded (tests/data/aws-recorded):

- ``States.Format`` prints non-string arguments as Java's ``toString`` does:
  ``{Arg1=1, Arg2=[]}`` for an object, ``[1, 2]`` for an array, ``1.1`` for a number.
- ``States.MathAdd`` rounds each operand half up (Java ``Math.round``): ``-1.5`` is ``-1``.
- ``States.StringSplit`` splits as ``java.util.StringTokenizer``: on any delimiter character,
  without empty tokens (``", , ,"`` split on ``","`` is ``[" ", " "]``).
- ``States.StringToJson`` of a blank string is ``null``.

AWS's limits are checked before anything is built (the page above): ``States.ArrayRange``
makes at most 1,000 items, ``States.Base64Encode``, ``States.Base64Decode`` and
``States.Hash`` take at most 10,000 characters; each fails the state with ``States.Runtime``,
as every intrinsic failure does. A value an intrinsic would make larger than AWS's payload
limit (262,144 bytes, which the state's input or output it goes into cannot exceed) is not
made: the replay stops with :class:`~sfn_trace.asl.budgets.OverBudget`, as AWS's error for it
is not documented.

``States.MathRandom`` and ``States.UUID`` are not reproducible (even a seeded MathRandom uses
Java's generator): evaluating them raises :class:`~sfn_trace.asl.jsonpath.Unreplayable`.
Failures raise ``States.Runtime`` as AWS does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from sfn_trace.asl.budgets import OverBudget, at_least
from sfn_trace.asl.jsonpath import (
    PathMissing,
    Roots,
    StatesRuntime,
    Unreplayable,
    compact,
    parse_path,
    read,
)
from sfn_trace.model import jsontext


@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None
    """A string literal as written (escapes kept): ``States.Format`` needs ``\\{``."""


@dataclass(frozen=True)
class PathArg:
    path: str


@dataclass(frozen=True)
class Call:
    name: str
    """Without the ``States.`` prefix, e.g. ``"Format"``."""
    args: tuple[Argument, ...]
    text: str


Argument = Call | Literal | PathArg


class IntrinsicSyntaxError(StatesRuntime):
    def __init__(self, text: str, detail: str) -> None:
        super().__init__(f"The intrinsic function '{text}' cannot be parsed: {detail}")


# --- parsing --------------------------------------------------------------------------------


_NAME = re.compile(r"States\.([A-Za-z0-9]+)\s*\(")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"(null|true|false)\b")


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.lstrip().startswith("States.")


@lru_cache(maxsize=1024)
def parse_intrinsic(text: str) -> Call:
    """Parse ``States.Name(arg, ...)``; raises :class:`IntrinsicSyntaxError`."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.position != len(text):
        raise IntrinsicSyntaxError(text, f"unexpected text at {parser.position}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def fail(self, detail: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(self.text, detail)

    def call(self) -> Call:
        """``States.Name(arg, ...)`` with its nested calls, read left to right.

        An explicit stack of the calls still open, not recursion: the definition chooses how
        deep calls nest."""
        open_calls: list[tuple[str, int, list[Argument]]] = []
        finished = self.open_call(open_calls)
        while True:
            if finished is None:
                # The innermost open call's next argument.
                self.skip_space()
                if self.text.startswith("States.", self.position):
                    finished = self.open_call(open_calls)
                    continue
                argument: Argument = self.argument()
            elif not open_calls:
                return finished
            else:
                argument = finished
            name, start, args = open_calls[-1]
            args.append(argument)
            self.skip_space()
            char = self.peek()
            self.position += 1
            if char == ")":
                open_calls.pop()
                finished = Call(name, tuple(args), self.text[start : self.position])
            elif char == ",":
                finished = None
            else:
                raise self.fail(f"expected ',' or ')' at {self.position - 1}")

    def open_call(self, open_calls: list[tuple[str, int, list[Argument]]]) -> Call | None:
        """Read ``States.Name(``: the call when it takes no argument (``States.UUID()``),
        else None with the call pushed on ``open_calls``."""
        self.skip_space()
        start = self.position
        match = _NAME.match(self.text, self.position)
        if match is None:
            raise self.fail(f"expected States.<Function>( at {self.position}")
        self.position = match.end()
        self.skip_space()
        if self.peek() == ")":
            self.position += 1
            return Call(match.group(1), (), self.text[start : self.position])
        open_calls.append((match.group(1), start, []))
        return None

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def argument(self) -> Argument:
        """An argument that is not a call: a string, a path, a number, null/true/false."""
        self.skip_space()
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return PathArg(self.path())
        number = _NUMBER.match(self.text, self.position)
        if number is not None:
            self.position = number.end()
            literal = number.group(0)
            is_int = not any(c in literal for c in ".eE")
            return Literal(int(literal) if is_int else float(literal))
        word = _WORD.match(self.text, self.position)
        if word is not None:
            self.position = word.end()
            return Literal({"null": None, "true": True, "false": False}[word.group(1)])
        raise self.fail(f"unexpected argument at {self.position}")

    def string(self) -> Literal:
        self.position += 1
        start = self.position
        chars: list[str] = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\" and self.position + 1 < len(self.text):
                chars.append(self.text[self.position + 1])
                self.position += 2
                continue
            if char == "'":
                raw = self.text[start : self.position]
                self.position += 1
                return Literal("".join(chars), raw)
            chars.append(char)
            self.position += 1
        raise self.fail("unterminated string literal")

    def path(self) -> str:
        """A path argument runs to the next ``,`` or ``)`` outside brackets and quotes."""
        start, depth, quote = self.position, 0, ""
        while self.position < len(self.text):
            char = self.text[self.position]
            if quote:
                if char == "\\":
                    self.position += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.position += 1
        return self.text[start : self.position].strip()


def paths_in(call: Call) -> Iterator[str]:
    """Every path the call reads, nested calls included, in the order written (for the
    blame chain and lint); an explicit stack, whatever the nesting."""
    stack: list[Argument] = list(reversed(call.args))
    while stack:
        arg = stack.pop()
        if isinstance(arg, PathArg):
            yield arg.path
        elif isinstance(arg, Call):
            stack.extend(reversed(arg.args))


# --- evaluation -----------------------------------------------------------------------------


def evaluate_intrinsic(text: str | Call, roots: Roots, key: str = "") -> Any:
    """Evaluate an intrinsic call against ``roots``; ``key`` names the ``.$`` field."""
    call = parse_intrinsic(text) if isinstance(text, str) else text
    return _evaluate(call, roots, key)


def _evaluate(call: Call, roots: Roots, key: str) -> Any:
    """A call's value: a function is looked up when its call is reached, its arguments are
    evaluated left to right (nested calls first), then it runs. An explicit stack of the
    calls under way, not recursion: the definition chooses how deep calls nest."""
    under_way: list[tuple[Call, list[Any]]] = []
    _start(call, under_way)
    while True:
        current, args = under_way[-1]
        if len(args) < len(current.args):
            arg = current.args[len(args)]
            if isinstance(arg, Call):
                _start(arg, under_way)
            else:
                args.append(_argument(arg, roots, key))
            continue
        under_way.pop()
        value = _apply(current, args)
        if current.name in _GROWING:
            _check_size(current, value)
        if not under_way:
            return value
        under_way[-1][1].append(value)


def _start(call: Call, under_way: list[tuple[Call, list[Any]]]) -> None:
    if call.name not in _FUNCTIONS:
        raise StatesRuntime(f"The intrinsic function 'States.{call.name}' is not supported")
    under_way.append((call, []))


def _apply(call: Call, args: list[Any]) -> Any:
    """Run one call on its evaluated arguments."""
    arity = _ARITY.get(call.name)
    if arity is not None and not arity[0] <= len(args) <= arity[1]:
        raise StatesRuntime(
            f"States.{call.name} takes {_arity_text(arity)} argument(s), got {len(args)}"
        )
    if call.name == "Format":
        # Format needs its template as written (with its escapes), not only its value.
        return _format(call.args[0] if call.args else None, args)
    return _FUNCTIONS[call.name](*args)


# https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
ARRAY_RANGE_ITEMS: Final = 1000
"""``States.ArrayRange``: "The newly generated array can't contain more than 1000 items"."""
TEXT_CHARACTERS: Final = 10_000
"""``States.Base64Encode`` and ``States.Base64Decode`` take "a data string of up to 10,000
characters"; ``States.Hash``'s data "must be an object string containing 10,000 characters or
less"."""
# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (payload size)
PAYLOAD_BYTES: Final = 262_144
"""The largest input or output a state may have, in bytes of UTF-8 JSON (256 KB)."""


_GROWING: Final = frozenset({"Array", "JsonMerge"})
"""The calls whose value may be larger than any one of their arguments (the others make at
most what they are given, or a string they measure before they write it)."""


def _check_size(call: Call, value: Any) -> None:
    """A value no state could hold (:data:`PAYLOAD_BYTES`) is not replayed further. Its
    length is bounded from below without writing it out: nested ``States.Array`` calls may
    hold one document a million times over in a few kilobytes of references, which is why
    the value a call makes is measured, and what is written out (``States.Format``,
    ``States.JsonToString``, ``States.Hash``) is measured before it is written."""
    if isinstance(value, (list, dict)) and at_least(value, PAYLOAD_BYTES) > PAYLOAD_BYTES:
        raise OverBudget(
            f"States.{call.name} makes a value larger than AWS's payload limit of "
            f"{PAYLOAD_BYTES:,} bytes, which sfn-trace does not replay"
        )


def _arity_text(arity: tuple[int, int]) -> str:
    low, high = arity
    if low == high:
        return str(low)
    return f"at least {low}" if high >= _MANY else f"{low} to {high}"


def _argument(arg: Literal | PathArg, roots: Roots, key: str) -> Any:
    if isinstance(arg, Literal):
        return arg.value
    try:
        return read(parse_path(arg.path), roots)
    except PathMissing:
        raise StatesRuntime(
            f"The JSONPath '{arg.path}' specified for the field '{key}' could not be found "
            f"in the input '{compact(roots.document)}'"
        ) from None


def _fail(function: str, detail: str) -> StatesRuntime:
    return StatesRuntime(f"States.{function}: {detail}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(function: str, value: Any, what: str) -> int:
    if _is_number(value) and float(value).is_integer():
        return int(value)
    raise _fail(function, f"{what} must be an integer, got {compact(value)}")


def _array(function: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(function, f"expected an array, got {compact(value)}")
    return value


def _string(function: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(function, f"expected a string, got {compact(value)}")
    return value


def _canonical(value: Any) -> str:
    """A key under which JSON-equal values are equal (``true`` is not ``1``)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        # Deeper than Python's encoder goes: the same text, written iteratively.
        return jsontext.dumps(value, sort_keys=True, separators=(",", ":"), strict=False)


# The functions, each from its documentation page section.


def _format(template: Argument | None, args: list[Any]) -> str:
    values = args[1:]
    if isinstance(template, Literal) and template.raw is not None:
        # A literal keeps its escapes: an escaped brace is a brace, not a placeholder.
        pieces = [_unescape(p) for p in re.split(r"(?<!\\)\{\}", template.raw)]
    else:
        pieces = _string("Format", args[0] if args else None).split("{}")
    if len(pieces) - 1 != len(values):
        raise _fail(
            "Format",
            f"the template has {len(pieces) - 1} placeholder(s) for {len(values)} argument(s)",
        )
    out = [pieces[0]]
    size = len(pieces[0])
    for value, piece in zip(values, pieces[1:], strict=True):
        # Each argument is measured before it is written: one document given many times
        # would otherwise be written out many times before the whole is measured.
        size += at_least(value, PAYLOAD_BYTES) + len(piece)
        if size > PAYLOAD_BYTES:
            break
        out.append(java_string(value))
        out.append(piece)
    else:
        return "".join(out)
    raise OverBudget(
        f"States.Format makes a value larger than AWS's payload limit of {PAYLOAD_BYTES:,} "
        "bytes, which sfn-trace does not replay"
    )


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def java_string(value: Any) -> str:
    """How Java's ``toString`` prints a JSON value (what ``States.Format`` shows):
    ``[1, 2]``, ``{a=1, b=[]}``. Written piece by piece from an explicit stack (a
    :class:`_Text` is written as it is, anything else as a value): a payload nests as deep
    as its writer chose."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item.text)
        elif isinstance(item, list):
            pieces: list[Any] = [_Text("[")]
            for position, member in enumerate(item):
                pieces.extend((_Text(", "), member) if position else (member,))
            pieces.append(_Text("]"))
            stack.extend(reversed(pieces))
        elif isinstance(item, dict):
            pieces = [_Text("{")]
            for position, (key, member) in enumerate(item.items()):
                pieces.extend((_Text(f"{', ' if position else ''}{key}="), member))
            pieces.append(_Text("}"))
            stack.extend(reversed(pieces))
        else:
            out.append(_java_scalar(item))
    return "".join(out)


@dataclass(frozen=True)
class _Text:
    """Text :func:`java_string` writes as it is (brackets, separators, keys)."""

    text: str


def _java_scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    return str(value)


def _java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``1.0E10`` notation."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{len(text) - 1 + int(exponent)}"


def _string_to_json(text: Any) -> Any:
    text = _string("StringToJson", text)
    if not text.strip():
        return None
    try:
        try:
            return json.loads(text)
        except RecursionError:
            # Deeper than Python's parser goes: read iteratively, up to jsontext's limit.
            return jsontext.loads(text)
    except jsontext.TooDeep as too_deep:
        raise Unreplayable(f"States.StringToJson of a document {too_deep}") from None
    except ValueError:
        raise _fail("StringToJson", f"not valid JSON: {text}") from None


def _json_to_string(value: Any) -> str:
    if at_least(value, PAYLOAD_BYTES) > PAYLOAD_BYTES:
        raise OverBudget(
            "States.JsonToString makes a value larger than AWS's payload limit of "
            f"{PAYLOAD_BYTES:,} bytes, which sfn-trace does not replay"
        )
    return compact(value)


def _array_of(*values: Any) -> list[Any]:
    return list(values)


def _array_partition(array: Any, size: Any) -> list[Any]:
    items = _array("ArrayPartition", array)
    chunk = _integer("ArrayPartition", size, "the chunk size")
    if chunk <= 0:
        raise _fail("ArrayPartition", "the chunk size must be greater than 0")
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _array_contains(array: Any, value: Any) -> bool:
    wanted = _canonical(value)
    return any(_canonical(item) == wanted for item in _array("ArrayContains", array))


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    first = _integer("ArrayRange", start, "the start")
    last = _integer("ArrayRange", end, "the end")
    stride = _integer("ArrayRange", step, "the step")
    if stride == 0:
        raise _fail("ArrayRange", "the step must not be 0")
    values = range(first, last + (1 if stride > 0 else -1), stride)
    if len(values) > ARRAY_RANGE_ITEMS:  # a range's length is known before it is made
        raise _fail("ArrayRange", "the range holds more than 1000 items")
    return list(values)


def _array_get_item(array: Any, index: Any) -> Any:
    items = _array("ArrayGetItem", array)
    position = _integer("ArrayGetItem", index, "the index")
    if not 0 <= position < len(items):
        raise _fail("ArrayGetItem", f"index {position} is out of bounds")
    return items[position]


def _array_length(array: Any) -> int:
    return len(_array("ArrayLength", array))


def _array_unique(array: Any) -> list[Any]:
    seen: set[str] = set()
    unique = []
    for item in _array("ArrayUnique", array):
        key = _canonical(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _text(function: str, value: Any) -> str:
    """A string argument AWS takes up to :data:`TEXT_CHARACTERS` of."""
    text = _string(function, value)
    if len(text) > TEXT_CHARACTERS:
        raise _fail(
            function,
            f"the input holds {len(text):,} characters, more than the {TEXT_CHARACTERS:,} AWS "
            "takes",
        )
    return text


def _base64_encode(text: Any) -> str:
    return base64.b64encode(_text("Base64Encode", text).encode("utf-8")).decode("ascii")


def _base64_decode(text: Any) -> str:
    try:
        raw = base64.b64decode(_text("Base64Decode", text), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _fail("Base64Decode", "not valid base64-encoded UTF-8") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"


def _hash(data: Any, algorithm: Any) -> str:
    name = _HASHES.get(_string("Hash", algorithm))
    if name is None:
        raise _fail("Hash", f"unsupported algorithm {algorithm}; use one of {', '.join(_HASHES)}")
    if not isinstance(data, str) and at_least(data, TEXT_CHARACTERS) > TEXT_CHARACTERS:
        # Measured before it is written out: it may repeat one document many times.
        raise _fail(
            "Hash", f"the input holds more than the {TEXT_CHARACTERS:,} characters AWS accepts"
        )
    text = _text("Hash", data if isinstance(data, str) else compact(data))
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def _json_merge(first: Any, second: Any, deep: Any) -> dict[str, Any]:
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise _fail("JsonMerge", "both arguments must be JSON objects")
    if deep is not False:
        # "Step Functions only supports the shallow merging mode".
        raise _fail("JsonMerge", "only the shallow merge (false) is supported")
    return {**first, **second}


def _math_random(*_args: Any) -> Any:
    raise Unreplayable("States.MathRandom returns a random number")


def _uuid(*_args: Any) -> Any:
    raise Unreplayable("States.UUID returns a random identifier")


def _java_round(value: Any) -> int:
    if not _is_number(value):
        raise _fail("MathAdd", f"expected a number, got {compact(value)}")
    return math.floor(float(value) + 0.5)


def _math_add(first: Any, second: Any) -> int:
    return _java_round(first) + _java_round(second)


def _string_split(text: Any, delimiters: Any) -> list[str]:
    source = _string("StringSplit", text)
    separators = _string("StringSplit", delimiters)
    if not separators:
        return [source] if source else []
    pattern = "[" + re.escape(separators) + "]"
    return [token for token in re.split(pattern, source) if token]


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "Format": _format,
    "StringToJson": _string_to_json,
    "JsonToString": _json_to_string,
    "Array": _array_of,
    "ArrayPartition": _array_partition,
    "ArrayContains": _array_contains,
    "ArrayRange": _array_range,
    "ArrayGetItem": _array_get_item,
    "ArrayLength": _array_length,
    "ArrayUnique": _array_unique,
    "Base64Encode": _base64_encode,
    "Base64Decode": _base64_decode,
    "Hash": _hash,
    "JsonMerge": _json_merge,
    "MathRandom": _math_random,
    "MathAdd": _math_add,
    "StringSplit": _string_split,
    "UUID": _uuid,
}

_MANY = 1000
_ARITY: dict[str, tuple[int, int]] = {
    "Format": (1, _MANY),
    "StringToJson": (1, 1),
    "JsonToString": (1, 1),
    "Array": (0, _MANY),
    "ArrayPartition": (2, 2),
    "ArrayContains": (2, 2),
    "ArrayRange": (3, 3),
    "ArrayGetItem": (2, 2),
    "ArrayLength": (1, 1),
    "ArrayUnique": (1, 1),
    "Base64Encode": (1, 1),
    "Base64Decode": (1, 1),
    "Hash": (2, 2),
    "JsonMerge": (3, 3),
    "MathRandom": (2, 3),
    "MathAdd": (2, 2),
    "StringSplit": (2, 2),
    "UUID": (0, 0),
}
