"""Choice rules: the first rule of a Choice state that matches its input
(https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html), JSONPath comparisons
and JSONata ``Condition``s, ``And``/``Or``/``Not`` nested to any depth; a comparison this
replay does not evaluate is decided by where the execution went.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.aws_checks import is_number
from sfn_trace.asl.jsonpath import (
    PathMissing,
    Roots,
    StatesError,
    StatesRuntime,
    Unsupported,
    read,
)

__all__ = ["ChoiceReplay", "matched_rule"]


class ChoiceReplay(Protocol):
    """What a Choice rule reads of the visit being replayed."""

    @property
    def body(self) -> Mapping[str, Any]: ...
    @property
    def input(self) -> Any: ...
    @property
    def context(self) -> Mapping[str, Any]: ...
    @property
    def variables(self) -> Mapping[str, Any]: ...
    @property
    def next_state(self) -> str | None:
        """The state the visit went to next, as the history recorded it."""

    def roots(self, document: Any, context: Any = None) -> Roots: ...


def matched_rule(run: ChoiceReplay, document: Any) -> Mapping[str, Any] | None:
    """The first Choice Rule that matches, or None when the state goes to its ``Default``; no
    match and no ``Default`` is ``States.NoChoiceMatched``
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html)."""
    for rule in run.body.get("Choices") or ():
        if isinstance(rule, Mapping) and _rule_matches(run, rule, document):
            return rule
    if "Default" not in run.body:
        raise StatesError("States.NoChoiceMatched", "")
    return None


def _rule_matches(run: ChoiceReplay, rule: Mapping[str, Any], document: Any) -> bool:
    try:
        return _evaluate_rule(run, rule, document)
    except Unsupported:
        # A comparison this replay does not evaluate: go by where the execution went.
        return rule.get("Next") == run.next_state


_NO_RULE: Any = object()


def _evaluate_rule(run: ChoiceReplay, rule: Mapping[str, Any], document: Any) -> bool:
    """A Choice rule: ``And`` and ``Or`` stop at the first sub-rule that decides, as
    ``all``/``any`` do. An explicit stack of the open ``And``/``Or``/``Not`` rules, not
    recursion: the definition chooses how deep rules nest."""
    open_rules: list[tuple[str, Iterator[Any]]] = []
    node: Any = rule
    while True:
        result: bool | None = None
        if "Condition" in node:
            states = {"input": run.input, "context": run.context}
            result = jsonata_eval.render(node["Condition"], states, run.variables, "Condition")
            result = result is True
        elif "And" in node:
            open_rules.append(("And", iter(node["And"])))
        elif "Or" in node:
            open_rules.append(("Or", iter(node["Or"])))
        elif "Not" in node:
            open_rules.append(("Not", iter((node["Not"],))))
        else:
            result = _comparison(run, node, document)
        # Hand the result to the open rules until one needs its next sub-rule.
        while open_rules:
            kind, rest = open_rules[-1]
            if result is not None and (kind == "Not" or result is (kind == "Or")):
                open_rules.pop()  # decided: a Not's only sub-rule, a false And, a true Or
                result = not result if kind == "Not" else result
                continue
            following = next(rest, _NO_RULE)
            if following is _NO_RULE:
                open_rules.pop()  # every sub-rule agreed: all true (And), all false (Or)
                result = kind == "And"
                continue
            node = following
            break
        else:
            return bool(result)


def _comparison(run: ChoiceReplay, rule: Mapping[str, Any], document: Any) -> bool:
    """A rule that compares its ``Variable`` (not ``And``, ``Or``, ``Not``, ``Condition``)."""
    roots = run.roots(document)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise Unsupported("a Choice rule without Variable")
    try:
        value, present = read(variable, roots), True
    except PathMissing:
        value, present = None, False
    operators = [k for k in rule if k not in ("Variable", "Next", "Assign", "Comment")]
    if len(operators) != 1:
        raise Unsupported("a Choice rule without exactly one comparison")
    operator, operand = operators[0], rule[operators[0]]
    if operator.endswith("Path"):
        operator, operand = operator[: -len("Path")], read(str(operand), roots)
    return _compare(operator, value, operand, present)


def _compare(operator: str, value: Any, operand: Any, present: bool) -> bool:
    if operator == "IsPresent":
        return present is bool(operand)
    if not present:
        raise StatesRuntime("Invalid path: the Choice rule's Variable is not in the input")
    kinds = {
        "IsNull": value is None,
        "IsNumeric": is_number(value),
        "IsString": isinstance(value, str),
        "IsBoolean": isinstance(value, bool),
    }
    if operator in kinds:
        return kinds[operator] is bool(operand)
    if operator == "BooleanEquals":
        return isinstance(value, bool) and value == operand
    if operator == "StringMatches":
        return isinstance(value, str) and _wildcard(str(operand)).fullmatch(value) is not None
    for prefix, accepts in (("String", _is_string), ("Numeric", is_number)):
        if operator.startswith(prefix):
            if not (accepts(value) and accepts(operand)):
                return False
            return _relate(operator[len(prefix) :], value, operand)
    raise Unsupported(f"the Choice operator {operator}")


def _relate(relation: str, left: Any, right: Any) -> bool:
    relations = {
        "Equals": lambda: left == right,
        "LessThan": lambda: left < right,
        "GreaterThan": lambda: left > right,
        "LessThanEquals": lambda: left <= right,
        "GreaterThanEquals": lambda: left >= right,
    }
    if relation not in relations:
        raise Unsupported(f"the Choice comparison {relation}")
    return bool(relations[relation]())


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``StringMatches``: ``*`` is any text, ``\\*`` a literal star."""
    parts = re.split(r"(?<!\\)\*", pattern)
    return re.compile(".*".join(re.escape(p.replace("\\*", "*")) for p in parts), re.DOTALL)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)
