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
- sfn-trace's bounds (:mod:`sfn_trace.asl.budgets`): each evaluation counts its steps, its
  depth and the items and characters it produces, and ``$pad``, ``$join``, ``$string``,
  ``$replace`` and ``$distinct`` check their sizes before they build anything; past a bound the
  evaluation stops with :class:`~sfn_trace.asl.budgets.OverBudget`. The JSONata expressions of
  one execution's replay share a budget of steps and seconds (:func:`execution_budget`).
- JSON null versus JSONata *undefined*: jsonata-python represents both as ``None`` unless told
  otherwise, and Step Functions fails a field that evaluates to undefined
  (``States.QueryEvaluationError ... returned nothing (undefined)``), so inputs carry an
  explicit null marker and results come back with :data:`UNDEFINED` for "nothing".
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import Any, Final

from sfn_trace.asl.budgets import (
    JSONATA_CHARACTERS,
    JSONATA_DEPTH,
    JSONATA_DISTINCT_ITEMS,
    JSONATA_EXECUTION_STEPS,
    JSONATA_ITEMS,
    JSONATA_SECONDS,
    JSONATA_STEPS,
    JSONATA_STRING,
    REGEX_SECONDS,
    OverBudget,
    at_least,
)
from sfn_trace.asl.jsonpath import (
    StatesError,
    Unreplayable,
    Unsupported,
    compact,
    first_unknown,
)

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
    if _HOOKS in expression:
        # A variable of that name would hide the meter's callbacks from the evaluation.
        raise Unsupported(f"a JSONata name that starts with {_HOOKS}")
    meter = _Meter(_EXECUTION.get())
    try:
        compiled = _compile(expression)
        bindings = {name: _to_jsonata(value) for name, value in variables.items()}
        bindings["states"] = _to_jsonata(dict(states))
        bindings[_HOOKS + "entry"] = meter.enter
        bindings[_HOOKS + "exit"] = meter.leave
        with meter.running():
            result = compiled.evaluate(None, bindings)
    except (Unreplayable, RecursionError):
        raise
    except Exception as exc:  # jsonata-python raises JException and plain Python errors
        if meter.stopped is not None:  # whatever jsonata-python made of it on the way
            raise OverBudget(meter.stopped) from None
        missing = first_unknown(_read_by(expression, states, variables))
        if missing is not None:
            # It may have failed on a value the history does not hold, not on the data.
            raise Unreplayable(f"the JSONata expression may read {missing}") from None
        raise JsonataError(_message(exc)) from None
    if meter.stopped is not None:  # stopped, and jsonata-python went on regardless
        raise OverBudget(meter.stopped)
    return _from_jsonata(result, top=True)


# --- bounds -----------------------------------------------------------------------------------

_HOOKS: Final = "__evaluate_"
"""jsonata-python calls the functions bound to ``__evaluate_entry`` and ``__evaluate_exit``
before and after each evaluation step (``Frame.set_evaluate_entry_callback``): the meter's."""

_CLOCK_EVERY: Final = 1024
"""Steps between two looks at the clock (the time bound is only a safety net)."""


class _Execution:
    """The steps and seconds the JSONata expressions of one execution's replay share."""

    __slots__ = ("seconds", "steps")

    def __init__(self) -> None:
        self.steps = JSONATA_EXECUTION_STEPS
        self.seconds = JSONATA_SECONDS


_EXECUTION: ContextVar[_Execution | None] = ContextVar("jsonata_execution", default=None)
_METER: ContextVar[_Meter | None] = ContextVar("jsonata_meter", default=None)


@contextlib.contextmanager
def execution_budget() -> Iterator[None]:
    """Within it, the JSONata expressions evaluated share one execution's budget
    (:data:`~sfn_trace.asl.budgets.JSONATA_EXECUTION_STEPS`,
    :data:`~sfn_trace.asl.budgets.JSONATA_SECONDS`); outside, each has its own."""
    token = _EXECUTION.set(_Execution())
    try:
        yield
    finally:
        _EXECUTION.reset(token)


class _Meter:
    """One evaluation's steps, depth, and the items and characters it has produced.

    Past a bound it records why (:attr:`stopped`) and raises :class:`OverBudget`, and raises
    again at every later step: jsonata-python turns some errors into its own
    (``$eval``, ``and``/``or``), and :func:`evaluate` looks at :attr:`stopped` whatever
    reaches it."""

    __slots__ = (
        "characters",
        "deadline",
        "depth",
        "execution",
        "items",
        "limit",
        "started",
        "steps",
        "stopped",
    )

    def __init__(self, execution: _Execution | None) -> None:
        self.execution = execution
        self.steps = self.depth = self.items = self.characters = 0
        self.limit = JSONATA_STEPS if execution is None else min(JSONATA_STEPS, execution.steps)
        self.started = time.monotonic()
        seconds = JSONATA_SECONDS if execution is None else execution.seconds
        self.deadline = self.started + seconds
        self.stopped: str | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        token = _METER.set(self)
        try:
            if self.limit <= 0 or self.deadline <= self.started:
                self.stop("this execution's JSONata evaluations have used up their budget")
            yield
        finally:
            _METER.reset(token)
            if self.execution is not None:
                self.execution.steps -= self.steps
                self.execution.seconds -= time.monotonic() - self.started

    def stop(self, why: str) -> None:
        if self.stopped is None:
            self.stopped = f"{why} (sfn-trace's replay budget)"
        raise OverBudget(self.stopped)

    def enter(self, _expr: Any, _input: Any, _environment: Any) -> None:
        if self.stopped is not None:
            raise OverBudget(self.stopped)
        self.steps += 1
        self.depth += 1
        if self.steps > self.limit:
            if self.limit < JSONATA_STEPS:
                self.stop(
                    "JSONata evaluation stopped: this execution's JSONata evaluations took "
                    f"{JSONATA_EXECUTION_STEPS:,} steps together"
                )
            self.stop(f"JSONata evaluation stopped after {JSONATA_STEPS:,} steps")
        if self.depth > JSONATA_DEPTH:
            self.stop(f"JSONata evaluation stopped {JSONATA_DEPTH} levels deep")
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            self.stop(f"JSONata evaluation stopped after {JSONATA_SECONDS:g} s")

    def leave(self, _expr: Any, _input: Any, _environment: Any, result: Any) -> None:
        self.depth -= 1
        if isinstance(result, list):
            self.items += len(result)
            if self.items > JSONATA_ITEMS:
                self.stop(f"JSONata evaluation stopped after making {JSONATA_ITEMS:,} array items")
        elif isinstance(result, str):
            self.characters += len(result)
            if self.characters > JSONATA_CHARACTERS:
                self.stop(
                    f"JSONata evaluation stopped after making {JSONATA_CHARACTERS:,} characters"
                )


def _too_long(function: str, length: int) -> None:
    """Stop the evaluation under way if ``function`` would build a string past
    :data:`~sfn_trace.asl.budgets.JSONATA_STRING`."""
    meter = _METER.get()
    if length > JSONATA_STRING and meter is not None:
        meter.stop(
            f"JSONata ${function} would build a string of more than {JSONATA_STRING:,} characters"
        )


def _pad(string: Any, width: Any, char: Any) -> Any:
    with contextlib.suppress(TypeError, ValueError, OverflowError):
        _too_long("pad", abs(int(width)))
    return _native("pad")(string, width, char)


def _join(strings: Any, separator: Any) -> Any:
    if isinstance(strings, list):
        texts = [s for s in strings if isinstance(s, str)]
        gap = len(separator) if isinstance(separator, str) else 0
        _too_long("join", sum(map(len, texts)) + gap * max(len(strings) - 1, 0))
    return _native("join")(strings, separator)


def _string(value: Any, prettify: Any) -> Any:
    if not isinstance(value, str):
        _too_long("string", at_least(value, JSONATA_STRING, 2 if prettify else 0))
    return _native("string")(value, prettify)


def _replace(string: Any, pattern: Any, replacement: Any, limit: Any) -> Any:
    if isinstance(string, str) and isinstance(replacement, str):
        # Each match becomes the replacement, whose $n are at most the whole match.
        references = replacement.count("$")
        most = sys.maxsize if not isinstance(limit, int) or limit < 0 else limit
        if isinstance(pattern, str):
            matches = min(string.count(pattern), most) if pattern else 0
            grown = matches * (len(replacement) + references * len(pattern))
        else:
            grown = 0
            finder = getattr(pattern, "finditer", None)
            for count, match in enumerate(finder(string) if finder else ()):
                if count >= most or grown > JSONATA_STRING:
                    break
                grown += len(replacement) + references * len(match.group(0))
        _too_long("replace", len(string) + grown)
    return _native("replace")(string, pattern, replacement, limit)


def _distinct(array: Any) -> Any:
    meter = _METER.get()
    if isinstance(array, list) and len(array) > JSONATA_DISTINCT_ITEMS and meter is not None:
        meter.stop(f"JSONata $distinct of more than {JSONATA_DISTINCT_ITEMS:,} items")
    return _native("distinct")(array)


_GUARDED: dict[str, Callable[..., Any]] = {
    "pad": _pad,
    "join": _join,
    "string": _string,
    "replace": _replace,
    "distinct": _distinct,
}


def _native(name: str) -> Any:
    """jsonata-python's own implementation of the built-in ``$name``."""
    return _jsonata().Jsonata.static_frame.lookup(name).method


@cache
def _guarded_functions() -> dict[str, Any]:
    """The built-ins of :data:`_GUARDED`, each jsonata-python's own (its signature, so its
    arguments are checked and taken from the context as before) calling the guard first."""
    functions = {}
    for name, guard in _GUARDED.items():
        function = copy.copy(_jsonata().Jsonata.static_frame.lookup(name))
        function.method = guard
        functions[name] = function
    return functions


def _read_by(expression: str, states: Mapping[str, Any], variables: Mapping[str, Any]) -> list[Any]:
    """The context and the variables an expression names."""
    read = [v for n, v in variables.items() if re.search(rf"\${re.escape(n)}\b", expression)]
    if re.search(r"\$states\b(?!\.(?:input|result|errorOutput)\b)", expression):
        read.append(states.get("context"))
    return read


class JsonataError(Exception):
    """The expression threw while evaluating (bad syntax, wrong types)."""


_ERROR_CODE = re.compile(r"[A-Z][0-9]{4}")
"""A JSONata error code: ``T1006``, ``S0203``, ``D3001`` (https://docs.jsonata.org/errors)."""


def _message(exc: Exception) -> str:
    """An evaluation error as AWS words it in a cause: the JSONata error code, then the
    message (``T1006: Attempted to invoke a non-function``, recorded on AWS by LocalStack's
    test_math_operations_jsonata.snapshot.json, test_math_random_seeded). jsonata-python keeps
    the code apart from the message, on ``JException.error``."""
    text = str(exc)
    code = getattr(exc, "error", None)
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code) and not text.startswith(code):
        return f"{code}: {text}"
    return text


class _TimedPattern:
    """A JSONata regular expression compiled by the ``regex`` module, each use bounded by
    :data:`~sfn_trace.asl.budgets.REGEX_SECONDS` (jsonata-python's pluggable regex engine:
    ``search``, ``finditer``, ``sub`` and ``split``)."""

    __slots__ = ("_pattern",)

    def __init__(self, pattern: Any) -> None:
        self._pattern = pattern

    def _timed(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = getattr(self._pattern, method)(*args, timeout=REGEX_SECONDS, **kwargs)
            return list(result) if method == "finditer" else result
        except TimeoutError:
            reason = f"a regular expression ran for more than {REGEX_SECONDS:g} s"
            meter = _METER.get()
            if meter is not None:
                meter.stop(reason)
            raise OverBudget(f"{reason} (sfn-trace's replay budget)") from None

    def search(self, string: str) -> Any:
        return self._timed("search", string)

    def finditer(self, string: str) -> Any:
        return iter(self._timed("finditer", string))

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        result: str = self._timed("sub", repl, string, count=count)
        return result

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        result: list[str] = self._timed("split", string, maxsplit=maxsplit)
        return result


def _bounded_regex(pattern: str, flags: Any) -> _TimedPattern:
    """jsonata-python's regex engine, with ``regex`` in place of ``re`` (same syntax, same
    flags) so that each use can be stopped."""
    import regex

    native = (regex.IGNORECASE if flags.case_insensitive else 0) | (
        regex.MULTILINE if flags.multiline else 0
    )
    return _TimedPattern(regex.compile(pattern, native))


@lru_cache(maxsize=2048)
def _compile(expression: str) -> Any:
    compiled = _jsonata().Jsonata(expression, _bounded_regex)
    compiled.set_output_convert_nulls(False)
    for name, implementation in _FUNCTIONS.items():
        compiled.register_lambda(name, implementation)
    for name, function in _guarded_functions().items():
        compiled.register_function(name, function)
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
