"""The JSONPath subset of the Amazon States Language, with AWS's results and error messages.

ASL uses JSONPath in two shapes
(https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html):

- *Reference paths* (``ResultPath``; in practice also ``InputPath``, ``OutputPath``,
  ``ItemsPath`` and most ``.$`` values): ``$``, ``$.a.b``, ``$['a b']``, ``$.a[0]``. They name
  one node, and are the only paths that can *write* (``ResultPath``).
- *Paths* in ``.$`` values, ``InputPath`` and ``OutputPath`` may use the full syntax of
  Jayway JsonPath, which AWS runs: wildcards, slices, unions, ``..`` and filters
  (``$.users[?(@.status == 0)]``). A path with any of those is *indefinite* and yields a list
  (possibly empty); a definite path yields the node itself, and a missing node is an error.

Every path may start from one of three roots: ``$`` (the document at hand), ``$$`` (the
context object, https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html)
or ``$name`` (a workflow variable,
https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).

Why two parsers: the full syntax is delegated to **jsonpath-ng** (its ``ext`` parser, which
has filters), a maintained library that evaluates wildcards, slices and filters as Jayway
does. It lacks what is ASL-specific, which this module adds: the ``$$`` and ``$var`` roots,
Jayway's definite/indefinite result shape, AWS's ``States.Runtime`` messages, writing a
``ResultPath`` into a copy of the raw input, and member names it cannot lex (``where``,
non-ASCII letters, names starting with a digit). Definite paths are therefore read by a small
tokenizer here, which knows every member name, and jsonpath-ng only sees the rest.

Failures raise :class:`StatesRuntime` (AWS's error name and cause, without the
``An error occurred while executing the state ...`` prefix, which the replay adds) or
:class:`Unreplayable` when the answer depends on something the history does not hold.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Final

from sfn_trace.asl.budgets import DESCENT_NODES, OverBudget
from sfn_trace.model import jsontext

Segment = str | int
"""One step of a definite path: an object member name or an array index."""


class StatesError(Exception):
    """A failure the state machine itself reports: an error name and a cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class StatesRuntime(StatesError):
    """``States.Runtime``: a path or intrinsic that cannot be evaluated.

    AWS fails the execution directly with it, past any Retry or Catch
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
    """

    def __init__(self, cause: str) -> None:
        super().__init__("States.Runtime", cause)


class Unreplayable(Exception):
    """The value depends on something the history does not record (a random number, a UUID,
    a context value that was never logged): the replay cannot say what AWS computed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(Exception):
    """A feature this replay does not implement (the visit is reported as a mismatch)."""

    def __init__(self, feature: str) -> None:
        super().__init__(feature)
        self.feature = feature


class _Unknown:
    """A context value the history does not hold (e.g. ``$$.Execution.RoleArn``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<unknown {self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unknown) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def unknown(name: str) -> Any:
    """A placeholder for a value the history does not hold; reading it is unreplayable."""
    return _Unknown(name)


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is an unknown placeholder (:func:`unknown`)."""
    return isinstance(value, _Unknown)


def first_unknown(value: Any) -> str | None:
    """The name of the first unknown placeholder inside ``value``, if any."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Unknown):
            return item.name
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


_ABSENT: Final = object()


@dataclass(frozen=True)
class Roots:
    """What a path may start from: ``$``, ``$$`` and the variables in scope."""

    document: Any
    context: Any = _ABSENT
    variables: Mapping[str, Any] = field(default_factory=dict)


# --- parsing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedPath:
    text: str
    root: str
    """``"$"``, ``"$$"`` or the variable name."""
    segments: tuple[Segment, ...] | None
    """The steps of a definite path; None for an indefinite one."""
    query: Any = None
    """The jsonpath-ng expression (relative to the root) for an indefinite path."""
    quotes: tuple[str, ...] = ()
    """The quote each step of ``segments`` (or of ``parent``, then ``merge``) was written with
    (``'`` for ``.name``, ``""`` for an index; empty when not known): Jayway prints a path
    back with them."""
    merge: tuple[str, ...] | None = None
    """``$.a['b','c']``: names in one bracket at the end of a path. Jayway reads them as one
    object of those members of the node at ``parent`` (``segments`` is None: the path names no
    node of the document)."""
    parent: tuple[Segment, ...] = ()
    """The steps to the node ``merge`` reads."""

    @property
    def definite(self) -> bool:
        return self.segments is not None or self.merge is not None


_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
_DOT_NAME = re.compile(r"\.?\.([^.\[( ]+)")
"""``.name``: Jayway reads a name up to the next ``.``, ``[`` or ``(`` (a space is an error);
``..`` is a deep scan and ``*`` a wildcard, neither of which names one node."""
_INDEX = re.compile(r"\[ *(-?[0-9]+) *\]")


class PathSyntaxError(StatesRuntime):
    def __init__(self, text: str, detail: str) -> None:
        super().__init__(f"Invalid path '{text}': {detail}")


def is_path(text: Any) -> bool:
    """Whether a ``.$`` value is a path (else it is an intrinsic function call)."""
    return isinstance(text, str) and text.startswith("$")


@lru_cache(maxsize=4096)
def parse_path(text: str) -> ParsedPath:
    """Parse an ASL path; raises :class:`PathSyntaxError` for text no JSONPath reads."""
    if not text.startswith("$"):
        raise PathSyntaxError(text, "a path starts with '$'")
    if text.startswith("$$"):
        root, rest = "$$", text[2:]
    else:
        variable = _VARIABLE.match(text)
        root, rest = (variable.group(1), text[variable.end() :]) if variable else ("$", text[1:])
    try:
        simple = _simple_segments(rest)
    except ValueError as bad:  # an escape Jayway cannot read
        raise PathSyntaxError(text, str(bad)) from None
    if simple is not None:
        return dataclasses.replace(simple, text=text, root=root)
    # jsonpath-ng (20 ms to import) only for the paths the simple reader does not know
    from jsonpath_ng.ext.parser import parse as parse_full  # type: ignore[import-untyped]

    try:
        query = parse_full("$" + rest)
    except Exception as exc:  # jsonpath-ng's parser and lexer errors, and bare Exceptions
        raise PathSyntaxError(text, str(exc)) from None
    definite = _definite_segments(query)
    if definite is not None:
        return ParsedPath(text, root, definite)
    return ParsedPath(text, root, None, _bounded(query))


def _bounded(query: Any) -> Any:
    """``query`` with each recursive descent (``..``) made one that stops past
    :data:`~sfn_trace.asl.budgets.DESCENT_NODES` (the tree is walked by an explicit stack,
    filters included)."""
    from jsonpath_ng import Descendants

    stack, seen = [query], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not type(node).__module__.startswith("jsonpath_ng"):
            continue
        seen.add(id(node))
        if type(node) is Descendants:
            node.__class__ = _bounded_descendants()
        for member in getattr(node, "__dict__", {}).values():
            stack.extend(member if isinstance(member, (list, tuple)) else (member,))
    return query


class _DescentOverBudget(Exception):
    """A recursive descent went past :data:`~sfn_trace.asl.budgets.DESCENT_NODES`."""


@cache
def _bounded_descendants() -> type:
    """jsonpath-ng's ``Descendants`` (``left..right``), walking as it does (depth first, in
    order) while it counts the nodes it visits and the nodes of each match."""
    from jsonpath_ng import DatumInContext, Descendants, Fields, Index

    class BoundedDescendants(Descendants):  # type: ignore[misc]
        def find(self, datum: Any) -> list[Any]:
            left = self.left.find(datum)
            stack = list(reversed(left if isinstance(left, list) else [left]))
            matches: list[Any] = []
            spent = 0
            while stack:
                datum = stack.pop()
                found = list(self.right.find(datum))
                spent += 1
                for match in found:
                    spent += nodes_in(match.value, DESCENT_NODES - spent)
                if spent > DESCENT_NODES:
                    raise _DescentOverBudget
                matches.extend(found)
                value = datum.value
                if isinstance(value, list):
                    stack.extend(
                        DatumInContext(value[i], context=datum, path=Index(i))
                        for i in range(len(value) - 1, -1, -1)
                    )
                elif isinstance(value, dict):
                    stack.extend(
                        DatumInContext(child, context=datum, path=Fields._compliant_constructor(k))
                        for k, child in reversed(value.items())
                    )
            return matches

    return BoundedDescendants


def nodes_in(value: Any, limit: int) -> int:
    """How many nodes ``value`` holds (itself, and every member and item below it), counting
    no further than just past ``limit``."""
    count, stack = 0, [value]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _simple_segments(rest: str) -> ParsedPath | None:
    """A definite path of ``.name``, ``['name']`` (either quote, Jayway's escapes) and ``[n]``
    steps, read as Jayway's ``PathCompiler`` reads them, with ``['a','b']`` allowed as the last
    step; None when anything else appears (the full parser then reads the path).

    https://github.com/json-path/JsonPath (``PathCompiler.readBracketPropertyToken``,
    ``readPropertyOrFunctionToken``; ``Utils.unescape``)."""
    segments: list[Segment] = []
    quotes: list[str] = []
    position = 0
    while position < len(rest):
        if rest.startswith(".[", position):
            position += 1  # Jayway reads "$.['a']" as "$['a']"
        dot = _DOT_NAME.match(rest, position)
        if dot is not None:
            name = dot.group(1)
            if dot.group(0).startswith("..") or name.startswith("*"):
                return None
            if rest.startswith("(", dot.end()):
                return None  # a function such as .length()
            segments.append(name)
            quotes.append("'")
            position = dot.end()
            continue
        index = _INDEX.match(rest, position)
        if index is not None:
            segments.append(int(index.group(1)))
            quotes.append("")
            position = index.end()
            continue
        bracket = _bracket_names(rest, position)
        if bracket is None:
            return None
        names, quote, position = bracket
        if len(names) > 1:
            if position < len(rest):
                return None  # several names before more steps: an indefinite path
            return ParsedPath(
                "", "", None, quotes=(*quotes, quote), merge=tuple(names), parent=tuple(segments)
            )
        segments.append(names[0])
        quotes.append(quote)
    return ParsedPath("", "", tuple(segments), quotes=tuple(quotes))


def _bracket_names(rest: str, position: int) -> tuple[list[str], str, int] | None:
    """``['a']``, ``["a"]`` or ``['a','b']`` at ``position``: the names, the quote they are
    written with and where the bracket ends; None when there is no such bracket.

    As Jayway reads them: the first quote after ``[`` is the one every name uses (the other is
    an ordinary character), a backslash escapes the character after it, and spaces may
    surround the names and commas."""
    if not rest.startswith("[", position):
        return None
    at = _skip_spaces(rest, position + 1)
    if at >= len(rest) or rest[at] not in "'\"":
        return None
    quote = rest[at]
    names: list[str] = []
    while True:
        end, escaped = at + 1, False
        while end < len(rest) and (escaped or rest[end] != quote):
            escaped = not escaped and rest[end] == "\\"
            end += 1
        if end >= len(rest):
            return None  # the name is not closed
        names.append(_unescape(rest[at + 1 : end], quote))
        after = _skip_spaces(rest, end + 1)
        if rest.startswith("]", after):
            return names, quote, after + 1
        if not rest.startswith(",", after):
            return None
        at = _skip_spaces(rest, after + 1)
        if at >= len(rest) or rest[at] != quote:
            return None


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position


_ESCAPES = {"r": "\r", "f": "\f", "t": "\t", "n": "\n", "b": "\b"}


def _unescape(text: str, quote: str) -> str:
    """A bracketed name's escapes, as Jayway's ``Utils.unescape`` reads them: ``\\n``,
    ``\\t``, ``\\r``, ``\\f``, ``\\b``, ``\\uXXXX``, and any other escaped character
    as itself (``\\'`` is ``'``, ``\\\\`` is ``\\``), but for the quote that does not
    delimit the name: AWS keeps its backslash. ``$['Test\\""Name"']`` read the member
    ``Test\\""Name"`` on AWS (LocalStack's AWS recording test_base_scenarios.snapshot.json,
    test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONPATH]), where Jayway would look for
    ``Test""Name"``."""
    if "\\" not in text:
        return text
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        position += 1
        if char != "\\":
            out.append(char)
        elif position >= len(text):
            out.append("\\")  # a trailing backslash stays
        elif text[position] in "'\"" and text[position] != quote:
            out.append("\\" + text[position])
            position += 1
        elif text[position] == "u":
            digits = text[position + 1 : position + 5]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError(f"Unable to parse unicode value: {digits}")
            out.append(chr(int(digits, 16)))
            position += 5
        else:
            out.append(_ESCAPES.get(text[position], text[position]))
            position += 1
    return "".join(out)


def _definite_segments(node: Any) -> tuple[Segment, ...] | None:
    """Jayway calls a path definite when it holds no wildcard, slice, union, ``..`` or filter;
    such a path names one node. The steps of a definite jsonpath-ng tree, else None.

    The tree's leaves left to right, by an explicit stack (a long path is a deep tree)."""
    from jsonpath_ng import Child, Fields, Index, Root, This  # type: ignore[import-untyped]

    segments: list[Segment] = []
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, Child):
            stack.extend((node.right, node.left))
        elif isinstance(node, Fields) and len(node.fields) == 1 and node.fields[0] != "*":
            segments.append(str(node.fields[0]))
        elif isinstance(node, Index) and len(getattr(node, "indices", ())) == 1:
            segments.append(int(node.indices[0]))
        elif not isinstance(node, (Root, This)):
            return None
    return tuple(segments)


# --- reading --------------------------------------------------------------------------------


class PathMissing(Exception):
    """A definite path names no node: ``depth`` steps matched before the miss."""

    def __init__(self, path: ParsedPath, depth: int, past_the_end: bool = False) -> None:
        super().__init__(path.text)
        self.path = path
        self.depth = depth
        self.past_the_end = past_the_end
        """The step that missed is an index past the end of an array."""

    def invalid_path(self) -> StatesRuntime:
        """AWS's message for InputPath/OutputPath/ItemsPath (docs/aws-reference.md section 3).

        Jayway (``PathToken.handleObjectProperty``, ``handleArrayIndex``): a member missing
        before the last step is "Missing property in path" up to it; a missing last member,
        or an index past the end of an array anywhere, finds nothing, which is "No results
        for path" with the whole path as Jayway prints it back."""
        path = self.path
        steps = path.segments if path.segments is not None else path.parent
        last = self.depth >= len(steps) - 1 and path.merge is None
        if last or self.past_the_end:
            detail = f"No results for path: {jayway_path(steps, path.quotes, path.merge)}"
        else:
            detail = f"Missing property in path {jayway_path(steps[: self.depth + 1])}"
        return StatesRuntime(f"Invalid path '{path.text}' : {detail}")


def read(path: str | ParsedPath, roots: Roots) -> Any:
    """The value ``path`` names; a list for an indefinite path.

    Raises :class:`PathMissing` when a definite path names nothing, :class:`Unreplayable`
    when it reads a value the history does not hold, :class:`StatesRuntime` for an unknown
    variable or a path that does not parse.
    """
    parsed = parse_path(path) if isinstance(path, str) else path
    start = _root_value(parsed, roots)
    if parsed.merge is not None:
        value = _merged(_walk(start, parsed, parsed.parent), parsed)
    elif parsed.segments is not None:
        value = _walk(start, parsed, parsed.segments)
    else:
        if first_unknown(start) is not None and parsed.root == "$$":
            raise Unreplayable(f"{parsed.text} reads context values the history does not hold")
        try:
            value = [match.value for match in parsed.query.find(start)]
        except _DescentOverBudget:
            raise OverBudget(
                f"the recursive descent of {parsed.text} visits more than "
                f"{DESCENT_NODES:,} nodes (sfn-trace's replay budget)"
            ) from None
    missing = first_unknown(value) if parsed.root != "$" else None
    if missing is not None:
        raise Unreplayable(f"{parsed.text} reads {missing}, which the history does not hold")
    return value


def _root_value(parsed: ParsedPath, roots: Roots) -> Any:
    if parsed.root == "$":
        return roots.document
    if parsed.root == "$$":
        if roots.context is _ABSENT:
            raise Unreplayable(f"{parsed.text}: no context object")
        return roots.context
    if parsed.root not in roots.variables:
        # https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
        raise StatesRuntime(f"The variable '{parsed.root}' is not defined")
    return roots.variables[parsed.root]


def _walk(value: Any, parsed: ParsedPath, segments: tuple[Segment, ...]) -> Any:
    for depth, segment in enumerate(segments):
        if isinstance(value, _Unknown):
            raise Unreplayable(f"{parsed.text} reads {value.name}, which the history does not hold")
        if not _has(value, segment):
            raise PathMissing(parsed, depth, isinstance(segment, int) and isinstance(value, list))
        value = value[segment]
    return value


def _merged(node: Any, parsed: ParsedPath) -> Any:
    """``['a','b']`` as the last step: an object of the members the node has, in the order
    named (Jayway's ``PropertyPathToken`` "multi property merge"; absent ones are left out)."""
    if isinstance(node, _Unknown):
        raise Unreplayable(f"{parsed.text} reads {node.name}, which the history does not hold")
    if not isinstance(node, dict):
        raise Unsupported(f"the path {parsed.text} on a value that is not an object")
    return {name: node[name] for name in parsed.merge or () if name in node}


def select(path: str | None, roots: Roots) -> Any:
    """``InputPath``/``OutputPath``/``ItemsPath``: ``null`` gives ``{}``, a missing node is
    ``States.Runtime`` "Invalid path ..." (docs/aws-reference.md section 3)."""
    if path is None:
        return {}
    try:
        return read(path, roots)
    except PathMissing as missing:
        raise missing.invalid_path() from None


def read_parameter(path: str, key: str, roots: Roots) -> Any:
    """A ``"key.$": "<path>"`` value: a missing node is ``States.Runtime``, never null."""
    try:
        return read(path, roots)
    except PathMissing:
        raise StatesRuntime(
            f"The JSONPath '{path}' specified for the field '{key}' could not be found "
            f"in the input '{compact(roots.document)}'"
        ) from None


def value_at(document: Any, location: Sequence[Segment], default: Any = None) -> Any:
    """The node at ``location`` (steps from the root), or ``default`` when there is none."""
    node = document
    for segment in location:
        if not _has(node, segment):
            return default
        node = node[segment]
    return node


def _has(node: Any, segment: Segment) -> bool:
    if isinstance(segment, int):
        return isinstance(node, list) and -len(node) <= segment < len(node)
    return isinstance(node, dict) and segment in node


# --- writing --------------------------------------------------------------------------------


def apply_result_path(path: str | None, raw_input: Any, result: Any) -> Any:
    """``ResultPath``: ``$`` replaces, ``null`` discards, ``$.a.b`` writes ``result`` into a
    copy of the *raw* input, creating missing objects on the way
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html)."""
    if path is None:
        return raw_input
    parsed = parse_path(path)
    if parsed.root != "$" or parsed.segments is None:
        raise StatesRuntime(f"Invalid ResultPath '{path}': it must be a reference path on '$'")
    if not parsed.segments:
        return result
    return _write(raw_input, parsed.segments, result, path)


def _write(node: Any, segments: tuple[Segment, ...], value: Any, path: str) -> Any:
    """A copy of ``node`` with ``value`` at ``segments``: each node on the way is copied
    (a missing or null member becomes ``{}``), the rest is shared. A loop down the path, not
    recursion: a ResultPath may be long."""
    copies: list[Any] = []
    for position, head in enumerate(segments):
        if isinstance(head, int):
            if not isinstance(node, list) or not -len(node) <= head < len(node):
                raise _unapplicable(path)
            copy: Any = list(node)
            child = copy[head]
        else:
            if not isinstance(node, dict):
                raise _unapplicable(path)
            copy = dict(node)
            child = copy.get(head)
            if child is None and position < len(segments) - 1:
                child = {}
        copies.append(copy)
        node = child
    # Fill each copy with the one below it, from the bottom up.
    below = value
    for head, copy in zip(reversed(segments), reversed(copies), strict=True):
        copy[head] = below
        below = copy
    return below


def _unapplicable(path: str) -> StatesRuntime:
    return StatesRuntime(f"Unable to apply ResultPath '{path}': the input is not an object there")


# --- formatting -----------------------------------------------------------------------------


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(segments: tuple[Segment, ...], root: str = "$") -> str:
    """``$.a.b``, ``$['a b']``, ``$.items[3]``: the spelling field.py uses for occurrences."""
    parts = [root]
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(segment):
            parts.append("." + segment)
        else:
            parts.append("['" + segment.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(parts)


def jayway_path(
    segments: Sequence[Segment], quotes: Sequence[str] = (), merge: Sequence[str] | None = None
) -> str:
    """``$['a']['b'][0]``: how AWS (Jayway) spells a path in its error messages.

    Without ``quotes``, as Jayway names the path it has evaluated so far ("Missing property in
    path"): each name as it is, in single quotes. With them (the quote each name was written
    with), as it prints a compiled path back ("No results for path",
    ``PropertyPathToken.getPathFragment``): in that quote, ``\\`` and ``'`` escaped, and
    ``merge`` as one last ``['a','b']`` step."""
    if not quotes:
        return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in segments)
    parts = ["$"]
    for segment, quote in zip(segments, quotes, strict=False):
        parts.append(f"[{segment}]" if isinstance(segment, int) else _fragment([segment], quote))
    if merge:
        quote = quotes[len(segments)] if len(quotes) > len(segments) else "'"
        parts.append(_fragment(merge, quote))
    return "".join(parts)


def _fragment(names: Sequence[str], quote: str) -> str:
    escaped = (name.replace("\\", "\\\\").replace("'", "\\'") for name in names)
    return "[" + ",".join(f"{quote}{name}{quote}" for name in escaped) + "]"


def parse_location(text: str) -> tuple[Segment, ...]:
    """The steps of a definite ``$``-rooted path such as an occurrence path from field.py."""
    parsed = parse_path(text)
    if parsed.segments is None or parsed.root != "$":
        raise ValueError(f"not a definite path on '$': {text}")
    return parsed.segments


def compact(value: Any) -> str:
    """JSON as AWS prints it in causes and payloads: no spaces, non-ASCII kept."""
    try:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, default=repr, allow_nan=False
        )
    except (ValueError, RecursionError):
        # A number JSON cannot spell as Python would (1e400 keeps its text), or nested
        # deeper than Python's encoder goes: the same text otherwise, written iteratively.
        return jsontext.dumps(
            _jsonable(value), separators=(",", ":"), ensure_ascii=False, strict=False
        )


def _jsonable(value: Any) -> Any:
    """``value`` with what is not JSON (an unknown placeholder) as its ``repr``, as
    ``json.dumps(default=repr)`` writes it; an explicit stack, whatever the depth."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        node, into, at = stack.pop()
        if isinstance(node, dict):
            copy: dict[Any, Any] = dict.fromkeys(node)
            into[at] = copy
            stack.extend((member, copy, key) for key, member in node.items())
        elif isinstance(node, (list, tuple)):
            items: list[Any] = [None] * len(node)
            into[at] = items
            stack.extend((item, items, index) for index, item in enumerate(node))
        elif node is None or isinstance(node, (str, int, float)):
            into[at] = node
        else:
            into[at] = repr(node)
    return root[0]
