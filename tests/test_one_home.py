"""Each rule has one home (docs/architecture.md, "One home per rule"): a second copy of a rule
is found here by what its code does, not by its name, and fails the test.

Each rule is a predicate over the syntax tree of a module (docstrings and comments are not
code, so a module may still *speak* of a rule it does not implement)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

import pytest

from tests.data import ROOT

PACKAGE = ROOT / "sfn_trace"


def _strings_built(tree: ast.AST) -> Iterator[str]:
    """The constant parts of every string the code builds: f-strings and ``+`` of strings."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield value.value
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    yield side.value


def _strings(tree: ast.AST) -> Iterator[str]:
    """Every string constant of the code, docstrings (a string statement) left out."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def _builds(fragment: str) -> Callable[[ast.AST], bool]:
    return lambda tree: any(fragment in text for text in _strings_built(tree))


def _says(fragment: str) -> Callable[[ast.AST], bool]:
    return lambda tree: any(fragment in text for text in _strings(tree))


def _splits(separator: str) -> Callable[[ast.AST], bool]:
    """Code that calls ``.split(separator, ...)`` or ``.rsplit(separator, ...)``."""

    def does(tree: ast.AST) -> bool:
        return any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("split", "rsplit", "partition", "rpartition")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == separator
            for node in ast.walk(tree)
        )

    return does


def _follows_a_visit() -> Callable[[ast.AST], bool]:
    """Code that takes the visit after one in its flow: ``visits[i + 1]`` or ``visits[1:]``."""

    def following(node: ast.Subscript) -> bool:
        value, index = node.value, node.slice
        named = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", None)
        if named != "visits":
            return False
        if isinstance(index, ast.Slice):
            return isinstance(index.lower, ast.Constant) and index.lower.value == 1
        return (
            isinstance(index, ast.BinOp)
            and isinstance(index.op, ast.Add)
            and isinstance(index.right, ast.Constant)
            and index.right.value == 1
        )

    return lambda tree: any(
        isinstance(node, ast.Subscript) and following(node) for node in ast.walk(tree)
    )


_ASSIGNED = ("variables", "assigned_variables")


def _mentions(node: ast.AST, attributes: tuple[str, ...], names: tuple[str, ...] = ()) -> bool:
    return any(
        (isinstance(inner, ast.Attribute) and inner.attr in attributes)
        or (isinstance(inner, ast.Name) and inner.id in names)
        for inner in ast.walk(node)
    )


def _scopes_variables(tree: ast.AST) -> bool:
    """Code that folds visits' assignments into the variables in scope (``{**before,
    **what_it_assigned}``) or walks back through earlier visits for the one that assigned a
    variable (a loop over a visit's assigned variables inside a ``while``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(
            key is None and _mentions(value, _ASSIGNED, ("decode_variables",))
            for key, value in zip(node.keys, node.values, strict=True)
        ):
            return True
        if isinstance(node, ast.While) and any(
            isinstance(inner, ast.comprehension) and _mentions(inner.iter, _ASSIGNED)
            for inner in ast.walk(node)
        ):
            return True
    return False


def _loops_over(node: ast.AST, attribute: str) -> Iterator[ast.For]:
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.For)
            and isinstance(inner.iter, ast.Attribute)
            and inner.iter.attr == attribute
        ):
            yield inner


def _reads_inner_errors(tree: ast.AST) -> bool:
    """Code that reads the error of the visits inside a visit's branches or iterations
    (``for flow in visit.children: for inner in flow.visits: ... .error``)."""
    return any(
        _mentions(inner, ("error",))
        for outer in _loops_over(tree, "children")
        for inner in _loops_over(outer, "visits")
    )


RULES: dict[str, tuple[Callable[[ast.AST], bool], str]] = {
    "the name of an event's *EventDetails member": (
        _builds("EventDetails"),
        "model/events.py",
    ),
    "a URL written into a report": (_builds("https://"), "report/links.py"),
    "the verdict's sentence": (_says("is never set in any document"), "report/common.py"),
    "the kind of a Map": (_says("DISTRIBUTED"), "asl/maps.py"),
    "the context object": (_says("RedriveCount"), "asl/context.py"),
    "the context object's timestamps": (_says("%Y-%m-%dT%H:%M:%S."), "asl/context.py"),
    "the execution ARN split into its names": (_splits(":execution:"), "asl/context.py"),
    "the next state": (_follows_a_visit(), "asl/next_state.py"),
    "the variables in scope at a visit": (_scopes_variables, "asl/variables.py"),
    "the error a failed Map or Parallel carries": (_reads_inner_errors, "asl/failures.py"),
    "a JSONata path's steps (.a[0])": (_says(r"\[(\d+)\]"), "asl/walkback.py"),
    "a JSONata read of $states.input (reads the field, walks back)": (
        lambda tree: _says(r"\$states\.input")(tree) or _says(r"\$states\.(input")(tree),
        "asl/walkback.py",
    ),
}
"""rule -> (what a copy of it does, its one home)."""

NOT_YET_REMOVED: dict[str, tuple[str, ...]] = {}
"""rule -> the copies that remain for now. Each is named, so a new copy still fails, and one
that goes away fails too until it is struck from here."""


def _modules() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_has_one_home(rule: str) -> None:
    does, home = RULES[rule]
    homes = [name for name, tree in _modules() if does(tree)]
    assert homes == sorted([home, *NOT_YET_REMOVED.get(rule, ())]), f"{rule}: {homes}"
