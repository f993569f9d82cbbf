"""A payload cut down around the tracked field, for the incident report: the field's
occurrences whole (or their first members), their parent objects, and notes of what was cut
("(12 more members)", "… (4,210 more characters)"). Built with explicit stacks: an
occurrence may sit as deep as a payload can nest."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sfn_trace.model import jsontext

STRING_WIDTH = 80
"""Strings longer than this are cut in the trimmed documents (the field's own: 4x)."""
MEMBERS_SHOWN = 20
"""The members shown of an object around an occurrence."""

_Key = str | int


def locate(document: Any, field: str) -> Iterator[tuple[_Key, ...]]:
    """Key paths of the members named ``field``, in the order find_occurrences gives them."""
    stack: list[tuple[Iterator[tuple[_Key, Any]], tuple[_Key, ...]]] = []
    if isinstance(document, (dict, list)):
        stack.append((_items(document), ()))
    while stack:
        children, path = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        key, value = child
        here = (*path, key)
        if isinstance(key, str) and key == field:
            yield here
        if isinstance(value, (dict, list)):
            stack.append((_items(value), here))


def _items(node: dict[str, Any] | list[Any]) -> Iterator[tuple[_Key, Any]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


_LEAF: Any = object()
"""Marks an occurrence in the tree of wanted paths."""


def trim(document: Any, paths: Sequence[tuple[_Key, ...]]) -> tuple[Any, bool]:
    """``document`` cut down to the paths, their parent objects, and notes of what was cut;
    and whether anything was cut."""
    wanted: dict[_Key, Any] = {}
    for path in paths:
        node = wanted
        for key in path[:-1]:
            child = node.get(key)
            if child is _LEAF:
                break  # inside an occurrence shown whole (paths come outermost first)
            if child is None:
                child = node[key] = {}
            node = child
        else:
            node.setdefault(path[-1], _LEAF)
    return _view(document, wanted)


def _view(document: Any, wanted: dict[_Key, Any]) -> tuple[Any, bool]:
    """The view of ``document`` along the ``wanted`` paths, built with an explicit stack (an
    occurrence may be nested as deep as a payload can be): each container of the view is made
    empty where it belongs, then filled when its turn comes."""
    if not isinstance(document, (dict, list)):
        return _summary(document)
    root: Any = {} if isinstance(document, dict) else []
    work: list[tuple[Any, dict[_Key, Any], Any]] = [(document, wanted, root)]
    trimmed = False

    def place(member: Any, child: Any) -> Any:
        """The view of a member: a container to fill later, or its summary now."""
        nonlocal trimmed
        if child is _LEAF:
            shown, cut = _summary(member, own=True)
            if shown is _WHOLE:  # the field's own object, too big: its first members
                shown = {}
                work.append((member, {}, shown))
        elif child is not None and isinstance(member, (dict, list)):
            shown, cut = ({} if isinstance(member, dict) else []), False
            work.append((member, child, shown))
        else:
            shown, cut = _summary(member)
        trimmed = trimmed or cut
        return shown

    while work:
        value, wants, view = work.pop()
        if isinstance(value, dict):
            parent = any(child is _LEAF for child in wants.values()) or not wants
            hidden = 0
            for key, member in value.items():
                child = wants.get(key)
                if child is not None or (parent and len(view) < MEMBERS_SHOWN):
                    view[key] = place(member, child)
                else:
                    hidden += 1
            if hidden:
                view["…"] = f"({hidden:,} more member{'s' if hidden != 1 else ''})"
                trimmed = True
        else:
            skipped = 0
            for index, item in enumerate(value):
                child = wants.get(index)
                if child is None or child is _LEAF:
                    skipped += 1
                    trimmed = True
                    continue
                if skipped:
                    view.append(f"(… {skipped:,} item{'s' if skipped != 1 else ''})")
                    skipped = 0
                view.append(place(item, child))
            if skipped:
                view.append(f"(… {skipped:,} item{'s' if skipped != 1 else ''})")
    return root, trimmed


_WHOLE: Any = object()
"""Said by :func:`_summary` for the field's own object when it is too big to show whole."""


def _summary(value: Any, own: bool = False) -> tuple[Any, bool]:
    """A sibling's value (or, ``own``, the field's) small enough to show, and whether it was
    cut. The field's own object when too big: :data:`_WHOLE` (its first members are shown)."""
    width = STRING_WIDTH * (4 if own else 1)
    if isinstance(value, str):
        if len(value) <= width:
            return value, False
        cut = width - 20
        return value[:cut] + f"… ({len(value) - cut:,} more characters)", True
    if isinstance(value, (dict, list)):
        if not value:
            return value, False
        if own and _fits(value, width):
            return value, False
        if own and isinstance(value, dict):
            return _WHOLE, False
        if isinstance(value, dict):
            return {"…": f"({len(value):,} member{'s' if len(value) != 1 else ''})"}, True
        return [f"(… {len(value):,} item{'s' if len(value) != 1 else ''})"], True
    return value, False


def _fits(value: dict[str, Any] | list[Any], width: int) -> bool:
    """Whether ``value`` written as JSON takes at most ``width`` characters."""
    return len(jsontext.dumps(value, ensure_ascii=False)) <= width
