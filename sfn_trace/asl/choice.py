"""Choice rules: the first rule of a Choice state that matches its input
(https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html), JSONPath comparisons
and JSONata ``Condition``s, ``And``/``Or``/``Not`` nested to any depth; a comparison this
replay does not evaluate is decided by where the execution went.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from sfn_trace.asl import jsonata_eval, walkback
from sfn_trace.asl.aws_checks import is_number
from sfn_trace.asl.jsonpath import (
    PathMissing,
    Roots,
    StatesError,
    StatesRuntime,
    Unsupported,
    read,
)

__all__ = ["ChoiceReplay", "branch_presence", "matched_rule"]


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


# --- what taking a branch says about a location (lint's path conditions) ----------------------

_ORDERING = re.compile(r"^(.+?)\s*(<=|>=|<|>)\s*(.+)$")
_EQUALITY = re.compile(r"^(.+?)\s*(!=|=)\s*(.+)$")
_EXISTS = re.compile(r"^\$exists\(\s*(.+?)\s*\)$")
_NOT_EXISTS = re.compile(r"^\$not\(\s*\$exists\(\s*(.+?)\s*\)\s*\)$")
_COUNT_POSITIVE = re.compile(r"^\$count\(\s*(.+)\s*\)\s*(?:>\s*0|>=\s*1|!=\s*0)$")
"""``$count(P) > 0`` (``>= 1``, ``!= 0``): true only when ``P`` is a non-empty sequence."""
_MAX_RULE_DEPTH = 100
"""Deeper ``And``/``Or``/``Not`` nests settle nothing (the answer is then "unknown")."""


def branch_presence(
    body: Mapping[str, Any], rule: int | None, location: tuple[Any, ...]
) -> bool | None:
    """Whether a Choice state going to the rule numbered ``rule`` (None: its ``Default``)
    settles that ``location`` of its effective input (JSONata: its input) is present (True)
    or absent (False); None when it does not.

    Going to rule ``i`` means rules ``0..i-1`` were false and rule ``i`` true; ``Default``
    means every rule was false. A rule settles presence by ``IsPresent``, by a comparison of
    the location (or a path below it): a comparison of a path missing from the input fails
    the execution with ``States.Runtime`` (:func:`_compare`), so a branch taken after one
    was evaluated had the path; and, in JSONata, by ``$exists(...)``, an equality that only
    holds for a value, or an ordering or bare path that is an error when it is undefined.
    ``And``/``Or`` stop at the first sub-rule that decides (:func:`_evaluate_rule`), so only
    the first sub-rule of a rule that did not decide that way counts as evaluated."""
    rules = body.get("Choices")
    if not isinstance(rules, list):
        return None
    taken = len(rules) if rule is None else rule
    for number, each in enumerate(rules[: taken + 1]):
        if not isinstance(each, Mapping):
            continue
        found = _implies(each, location, number == rule, 0)
        if found is not None:
            return found
    return None


def _implies(node: Any, location: tuple[Any, ...], outcome: bool, depth: int) -> bool | None:
    """What a (sub-)rule that evaluated to ``outcome`` says about ``location``."""
    if not isinstance(node, Mapping) or depth > _MAX_RULE_DEPTH:
        return None
    if "Condition" in node:
        return _condition_implies(node["Condition"], location, outcome)
    members = node.get("And", node.get("Or"))
    if isinstance(members, list) and members:
        all_of = "And" in node
        if outcome is all_of:  # a true And, a false Or: every sub-rule had this outcome
            for member in members:
                found = _implies(member, location, outcome, depth + 1)
                if found is not None:
                    return found
            return None
        return _evaluated(members[0], location, depth + 1)
    if "Not" in node:
        return _implies(node["Not"], location, not outcome, depth + 1)
    return _comparison_implies(node, location, outcome)


def _evaluated(node: Any, location: tuple[Any, ...], depth: int) -> bool | None:
    """What a (sub-)rule says about ``location`` merely by being evaluated, whatever its
    outcome: a comparison (not ``IsPresent``) of a missing path is an error."""
    if not isinstance(node, Mapping) or depth > _MAX_RULE_DEPTH:
        return None
    if "Condition" in node:
        return _condition_implies(node["Condition"], location, None)
    members = node.get("And", node.get("Or"))
    if isinstance(members, list) and members:
        return _evaluated(members[0], location, depth + 1)
    if "Not" in node:
        return _evaluated(node["Not"], location, depth + 1)
    if "IsPresent" in node:
        return None
    return True if _compared(node, location) else None


def _compared(node: Mapping[str, Any], location: tuple[Any, ...]) -> bool:
    """Whether a comparison reads ``location`` or a path below it (its ``Variable``, or the
    path operand of a ``...Path`` operator)."""
    paths = [node.get("Variable")]
    paths += [value for key, value in node.items() if key.endswith("Path")]
    return any(_covers(_jsonpath(path), location) for path in paths)


def _comparison_implies(
    node: Mapping[str, Any], location: tuple[Any, ...], outcome: bool
) -> bool | None:
    if "IsPresent" in node:
        variable = _jsonpath(node.get("Variable"))
        if variable is None or not _covers(variable, location):
            return None
        says_present = bool(node["IsPresent"]) is outcome
        if tuple(variable) == location:
            return says_present
        return True if says_present else None  # a path below it present: so is it
    return True if _compared(node, location) else None


def _condition_implies(
    condition: Any, location: tuple[Any, ...], outcome: bool | None
) -> bool | None:
    """A JSONata ``Condition`` that evaluated to ``outcome`` (None: either): a top-level
    ``and`` (true) or ``or`` (false) of ``$exists(P)``, ``$not($exists(P))``, ``P = x``,
    ``P != x`` (false when ``P`` is undefined), ``$count(P) > 0`` (0 when ``P`` is
    undefined), ``P < x`` and the other orderings and a bare ``P`` (an error when ``P`` is
    undefined); ``P`` a ``$states.input`` path (for ``=``, ``!=`` and ``$count``, one that
    may go on below it: ``$states.input.messages[-1].content[name = "x"]``)."""
    if not jsonata_eval.is_expression(condition):
        return None
    text = jsonata_eval.expression_text(condition).strip()
    if outcome is None:
        return True if _errors_when_undefined(text, location) else None
    for part in _split_top(text, "and" if outcome else "or"):
        found = _term_implies(part.strip(), location, outcome)
        if found is not None:
            return found
    return None


def _term_implies(term: str, location: tuple[Any, ...], outcome: bool) -> bool | None:
    for pattern, present_when_true in ((_NOT_EXISTS, False), (_EXISTS, True)):
        match = pattern.match(term)
        if match is not None:
            path = _input_path(match.group(1))
            if path is None or not _covers(path, location):
                return None
            says_present = present_when_true is outcome
            if path == location:
                return says_present
            return True if says_present else None
    if _errors_when_undefined(term, location):
        return True
    equality = _EQUALITY.match(term)
    if outcome and equality is not None:
        sides = (equality.group(1), equality.group(3))
        if any(_covers(_input_prefix(side), location) for side in sides):
            return True
    count = _COUNT_POSITIVE.match(term)
    if outcome and count is not None and _covers(_input_prefix(count.group(1)), location):
        return True
    return None


def _errors_when_undefined(term: str, location: tuple[Any, ...]) -> bool:
    """A bare path, or an ordering with a path, is an error when the path is undefined."""
    if _covers(_input_path(term), location):
        return True
    ordering = _ORDERING.match(term)
    if ordering is None:
        return False
    return any(
        _covers(_input_path(side), location) for side in (ordering.group(1), ordering.group(3))
    )


def _split_top(text: str, word: str) -> list[str]:
    """``text`` split at ``word`` (``and``/``or``) outside brackets and strings."""
    parts: list[str] = []
    depth, start, quote_char, at = 0, 0, "", 0
    while at < len(text):
        char = text[at]
        if quote_char:
            if char == "\\":
                at += 1
            elif char == quote_char:
                quote_char = ""
        elif char in "\"'":
            quote_char = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif (
            depth == 0
            and text.startswith(word, at)
            and (at == 0 or text[at - 1].isspace())
            and text[at + len(word) : at + len(word) + 1].isspace()
        ):
            parts.append(text[start:at])
            start = at + len(word)
            at = start
            continue
        at += 1
    parts.append(text[start:])
    return parts


def _input_path(text: str) -> tuple[Any, ...] | None:
    """The location a plain ``$states.input`` path reads (:func:`walkback.jsonata_path`)."""
    plain = walkback.jsonata_path(text.strip())
    if plain is None or plain.variable or plain.root != "input":
        return None
    return plain.segments


def _input_prefix(text: str) -> tuple[Any, ...] | None:
    """The plain ``$states.input`` path a JSONata path is or starts with, when the rest only
    goes further down (:func:`walkback.jsonata_input_prefix`): a path of an undefined value
    is undefined, so a value there means the prefix is present. None for anything else."""
    plain = _input_path(text)
    return plain if plain is not None else walkback.jsonata_input_prefix(text.strip())


def _jsonpath(expression: Any) -> tuple[Any, ...] | None:
    """The location a definite path rooted at ``$`` selects, else None."""
    return walkback.path_location(expression)


def _covers(path: tuple[Any, ...] | None, location: tuple[Any, ...]) -> bool:
    """Whether ``path`` is ``location`` or below it (its presence implies the location's)."""
    return path is not None and tuple(path[: len(location)]) == tuple(location)
