"""JSONata as Step Functions runs it, on top of jsonata-python.

https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html

jsonata-python (https://github.com/rayokota/jsonata-python, a port of the reference
jsonata-js) evaluates the expressions. This module adds what Step Functions puts around them:

- ``{% ... %}`` templates: a string that is entirely ``{% expr %}`` is an expression, any
  other string is a literal; objects and arrays are templates member by member.
- The reserved ``$states`` variable and the workflow variables, bound by name.
- The functions Step Functions adds: ``$partition``, ``$range``, ``$hash``, ``$parse``,
  ``$random`` and ``$uuid``
  (https://docs.aws.amazon.com/step-functions/latest/dg/jsonata-functions.html is the list).
  ``$random``, ``$uuid``, ``$now`` and ``$millis`` cannot be replayed: an expression that
  calls them raises :class:`~sfn_trace.asl.jsonpath.Unreplayable`.
- JSON null versus JSONata *undefined*: jsonata-python represents both as ``None`` unless told
  otherwise, and Step Functions fails a field that evaluates to undefined
  (``States.QueryEvaluationError ... returned nothing (undefined)``), so inputs carry an
  explicit null marker and results come back with :data:`UNDEFINED` for "nothing".
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any, Final

from sfn_trace.asl.jsonpath import StatesError, Unreplayable, compact, first_unknown

QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"


class _Undefined:
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()
"""What an expression that selects nothing evaluates to (JSONata's *undefined*)."""


@cache
def _jsonata() -> Any:
    """jsonata-python, imported on first use. Importing it raises the interpreter's recursion
    limit to 10000 for the whole process, which lets ``json.loads`` and every recursive
    function elsewhere go deep enough to overflow the C stack on hostile input: the limit
    is put back at once."""
    limit = sys.getrecursionlimit()
    try:
        import jsonata  # type: ignore[import-untyped]
    finally:
        sys.setrecursionlimit(limit)
    return jsonata


def _null() -> Any:
    """jsonata-python's JSON null (its ``None`` is JSONata's *undefined*)."""
    return _jsonata().utils.Utils.NULL_VALUE


_RANDOM = re.compile(r"\$(now|millis|random|uuid)\s*\(")
_TEMPLATE = re.compile(r"^\{%(.*)%\}$", re.DOTALL)


def is_expression(value: Any) -> bool:
    """Whether a string is a ``{% ... %}`` JSONata expression."""
    return isinstance(value, str) and _TEMPLATE.match(value) is not None


def expression_text(value: str) -> str:
    """The expression inside ``{% ... %}``, as AWS quotes it in error causes."""
    match = _TEMPLATE.match(value)
    return match.group(1).strip() if match else value


def evaluate(expression: str, states: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
    """Evaluate one JSONata expression (without the ``{% %}``); :data:`UNDEFINED` for nothing.

    Raises :class:`JsonataError` when the expression fails, :class:`Unreplayable` when it
    calls a function whose result cannot be known afterwards.
    """
    called = _RANDOM.search(expression)
    if called is not None:
        raise Unreplayable(f"the JSONata expression calls ${called.group(1)}()")
    try:
        compiled = _compile(expression)
        bindings = {name: _to_jsonata(value) for name, value in variables.items()}
        bindings["states"] = _to_jsonata(dict(states))
        result = compiled.evaluate(None, bindings)
    except (Unreplayable, RecursionError):
        raise
    except Exception as exc:  # jsonata-python raises JException and plain Python errors
        missing = first_unknown(_read_by(expression, states, variables))
        if missing is not None:
            # It may have failed on a value the history does not hold, not on the data.
            raise Unreplayable(f"the JSONata expression may read {missing}") from None
        raise JsonataError(str(exc)) from None
    return _from_jsonata(result, top=True)


def _read_by(expression: str, states: Mapping[str, Any], variables: Mapping[str, Any]) -> list[Any]:
    """The context and the variables an expression names."""
    read = [v for n, v in variables.items() if re.search(rf"\${re.escape(n)}\b", expression)]
    if re.search(r"\$states\b(?!\.(?:input|result|errorOutput)\b)", expression):
        read.append(states.get("context"))
    return read


class JsonataError(Exception):
    """The expression threw while evaluating (bad syntax, wrong types)."""


@lru_cache(maxsize=2048)
def _compile(expression: str) -> Any:
    compiled = _jsonata().Jsonata(expression)
    compiled.set_output_convert_nulls(False)
    for name, implementation in _FUNCTIONS.items():
        compiled.register_lambda(name, implementation)
    return compiled


def _put(into: Any, key: Any, value: Any) -> None:
    """Add a converted member to its container: appended to a list, set in a dict."""
    if isinstance(into, list):
        into.append(value)
    else:
        into[key] = value


def _to_jsonata(value: Any) -> Any:
    # Recursive, as jsonata-python is: a document too deep for either raises RecursionError,
    # which the replay reports as "a document is nested too deeply to replay".
    if value is None:
        return _null()
    if isinstance(value, dict):
        return {k: _to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_jsonata(v) for v in value]
    return value


def _from_jsonata(value: Any, top: bool = False) -> Any:
    if value is None:
        return UNDEFINED if top else None
    if value is _null():
        return None
    if isinstance(value, dict):
        return {k: _from_jsonata(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_from_jsonata(v) for v in value if v is not None]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    missing = first_unknown(value)
    if missing is not None:
        raise Unreplayable(f"the JSONata expression reads {missing}")
    if callable(value) or not isinstance(value, (str, int, float, bool)):
        raise JsonataError("unsupported result type")
    return value


# The functions Step Functions adds to JSONata.


def _partition(array: Any, size: Any) -> Any:
    items = array if isinstance(array, list) else [array]
    return [items[i : i + int(size)] for i in range(0, len(items), int(size))]


def _range(start: Any, end: Any, step: Any) -> Any:
    values = list(range(int(start), int(end) + (1 if step > 0 else -1), int(step)))
    # A JSONata sequence of one item is that item: AWS's $range(1, 9, 9) is 1.
    return values[0] if len(values) == 1 else values


def _hash(value: Any, algorithm: Any = "SHA-256") -> str:
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
    names["SHA-512"] = "sha512"
    text = value if isinstance(value, str) else compact(_from_jsonata(value))
    return hashlib.new(names[str(algorithm)], text.encode("utf-8")).hexdigest()


def _parse(text: Any) -> Any:
    return _to_jsonata(json.loads(str(text)))


def _random(*_args: Any) -> Any:
    raise Unreplayable("the JSONata expression calls $random()")


def _uuid(*_args: Any) -> Any:
    raise Unreplayable("the JSONata expression calls $uuid()")


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "parse": _parse,
    "random": _random,
    "uuid": _uuid,
}


# --- templates ------------------------------------------------------------------------------


def render(
    template: Any,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    location: str,
    prefix: str = "",
) -> Any:
    """Evaluate a JSONata field (``Output``, ``Arguments``, ``Assign``...) member by member.

    ``location`` is AWS's name for the field in error causes (``Output/result``); ``prefix``
    is the cause's "An error occurred while executing the state ..." sentence.

    Members are evaluated in the template's order (the first that fails is the one
    reported), by an explicit stack: the definition chooses how deep a template nests.
    """
    root: list[Any] = []
    stack: list[tuple[Any, str, Any, Any]] = [(template, location, root, None)]
    while stack:
        node, where, into, key = stack.pop()
        if isinstance(node, dict):
            members: dict[Any, Any] = {}
            _put(into, key, members)
            stack.extend(
                (value, f"{where}/{name}", members, name)
                for name, value in reversed(list(node.items()))
            )
        elif isinstance(node, list):
            items: list[Any] = []
            _put(into, key, items)
            stack.extend((value, where, items, None) for value in reversed(node))
        else:
            _put(into, key, _render_member(node, states, variables, where, prefix))
    return root[0]


def _render_member(
    template: Any,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    location: str,
    prefix: str,
) -> Any:
    """One member of a JSONata template: an expression's value, or the literal."""
    if not is_expression(template):
        return template
    text = expression_text(template)
    try:
        value = evaluate(text, states, variables)
    except JsonataError as error:
        detail = str(error)
        if detail == "unsupported result type":
            raise _failure(prefix, text, location, "returned an unsupported result type.") from None
        raise _failure(
            prefix, text, location, f"threw an error during evaluation. {detail}"
        ) from None
    if value is UNDEFINED:
        raise _failure(prefix, text, location, "returned nothing (undefined).")
    return value


def _failure(prefix: str, text: str, location: str, what: str) -> StatesError:
    return StatesError(
        QUERY_EVALUATION_ERROR,
        f"{prefix}The JSONata expression '{text}' specified for the field '{location}' {what}",
    )


def type_name(value: Any) -> str:
    """JSON type names as AWS's causes spell them (``Expected 'array', but was 'number'``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
