"""Payload templates: rendering a JSONPath ``Parameters``/``ResultSelector``/``ItemSelector``/
``Assign`` template (:func:`render_template`), where a rendered template holds computed values
(:func:`computed_locations`), and which template member wrote a location of the rendered
document (:func:`template_member`, :func:`describe_member`), read by the blame chain, the
explanations, the field steps and lint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.intrinsics import evaluate_intrinsic, is_intrinsic
from sfn_trace.asl.jsonpath import (
    Roots,
    Segment,
    StatesRuntime,
    compact,
    is_path,
    read_parameter,
)

__all__ = ["computed_locations", "describe_member", "render_template", "template_member"]


def render_template(template: Any, roots: Roots) -> Any:
    """A ``Parameters``/``ResultSelector``/``ItemSelector``/``Assign`` payload template: keys
    ending in ``.$`` take the value of their path or intrinsic, without the suffix
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html).

    Members are evaluated in the template's order, each object's and array's before the
    next member (the first failure is the one reported), by an explicit stack: the
    definition chooses how deep a template nests."""
    root: list[Any] = [None]
    # (template node, the container its rendering goes into, the key or index there)
    stack: list[tuple[Any, Any, Any]] = [(template, root, 0)]
    while stack:
        node, into, at = stack.pop()
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            into[at] = out
            pending = []
            for key, value in node.items():
                if key.endswith(".$") and isinstance(value, str):
                    pending.append((_Dollar(key, value), out, key[:-2]))
                else:
                    pending.append((value, out, key))
            stack.extend(reversed(pending))
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            into[at] = items
            stack.extend((item, items, index) for index, item in reversed(list(enumerate(node))))
        elif isinstance(node, _Dollar):
            into[at] = _dollar_value(node.key, node.expression, roots)
        else:
            into[at] = node
    return root[0]


class _Dollar:
    """A ``"key.$"`` member still to evaluate (:func:`render_template`)."""

    __slots__ = ("expression", "key")

    def __init__(self, key: str, expression: str) -> None:
        self.key = key
        self.expression = expression


def _dollar_value(key: str, expression: str, roots: Roots) -> Any:
    if is_path(expression):
        return read_parameter(expression, key, roots)
    if is_intrinsic(expression):
        return evaluate_intrinsic(expression, roots, key)
    raise StatesRuntime(
        f"The value for the field '{key}' must be a valid JSONPath or an intrinsic function call"
    )


def computed_locations(template: Any) -> Iterator[tuple[Segment, ...]]:
    """Where a rendered template holds values computed from data rather than literals, in
    the template's order (an explicit stack: the definition chooses the depth)."""
    stack: list[tuple[Any, tuple[Segment, ...], bool]] = [(template, (), False)]
    while stack:
        node, at, computed = stack.pop()
        if computed:
            yield at
        elif isinstance(node, Mapping):
            stack.extend(
                (value, (*at, key[:-2]), True)
                if key.endswith(".$") and isinstance(value, str)
                else (value, (*at, key), False)
                for key, value in reversed(list(node.items()))
            )
        elif isinstance(node, list):
            stack.extend(
                (value, (*at, index), False) for index, value in reversed(list(enumerate(node)))
            )
        elif jsonata_eval.is_expression(node):
            yield at


def describe_member(step: str, key: str, value: Any) -> str:
    """``Parameters "k.$": "$.x"``: a template member as the definition spells it."""
    if not key:
        return f"{step} {compact(value)}"
    return f"{step} {compact(key)}: {compact(value)}"


def template_member(
    template: Mapping[str, Any], location: Sequence[Segment]
) -> tuple[str, Any, int] | None:
    """The template member that produced ``location`` of the rendered document: its key (a
    ``"key.$"`` path or intrinsic, a JSONata ``{% %}`` string, or a literal), its value and
    how many steps of ``location`` it accounts for; None when the template does not write
    ``location``."""
    node: Any = template
    for depth, segment in enumerate(location):
        if isinstance(node, Mapping) and isinstance(segment, str):
            if segment + ".$" in node:
                return segment + ".$", node[segment + ".$"], depth + 1
            if segment not in node:
                return None
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return None
        if jsonata_eval.is_expression(node) or depth == len(location) - 1:
            return str(segment), node, depth + 1
    if jsonata_eval.is_expression(node):
        return "", node, len(location)
    return None
