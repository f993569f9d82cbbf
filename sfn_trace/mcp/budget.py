"""Fitting an answer into its budget: a few headline lines, then the JSON, at most N characters.

An assistant reads what a tool returns into its context, so every answer is bounded (20,000
characters by default; each tool takes ``budget``). The text content is the headline lines
then the structured content's JSON, and it is what is counted; the structured content is
the same JSON. To fit, in this order:

1. payload values (the report members that hold any JSON: ``value``, ``last_value``,
   ``item``) whose JSON text is long are replaced by ``{"truncated": true, "json_chars": N,
   "preview": "..."}``, and long strings end with ``… [truncated: N chars]``, with three
   tighter limits in turn;
2. then the longest list is halved (keeping its first items), again and again.

Every cut is listed in ``truncated`` (a JSON Pointer, what was cut, how much), so nothing is
silently missing. Lists of visits are not cut but paged (:func:`page`): as many whole
visits as fit, and a cursor for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sfn_trace.model.jsontext import NonFinite, dumps, loads
from sfn_trace.model.secrets import scrub_values

DEFAULT_BUDGET = 20_000
"""Characters per answer unless a tool is given ``budget``."""
MIN_BUDGET = 4_000
MAX_BUDGET = 2_000_000

VALUE_KEYS = frozenset({"value", "last_value", "item"})
"""The report members that hold any JSON (docs/schema/*.schema.json gives them no type):
only there may a value be replaced by a marker object (tests/mcp/test_budget.py checks the
schemas agree)."""

LEVELS = ((2_000, 4_000), (400, 2_000), (80, 1_000), (40, 200))
"""(a value's JSON text, a string): the longest each may be, tried in turn."""

PREVIEW = 120
"""Characters of a cut value's JSON text kept in its marker."""

Headline = Callable[[dict[str, Any]], list[str]]
"""The lines read first, from the content as it will be sent."""


def text_of(headline: Sequence[str], content: dict[str, Any]) -> str:
    """The text content: the headline lines, a blank line, the JSON."""
    return "\n".join(headline) + "\n\n" + _json(content)


def _json(value: Any) -> str:
    return dumps(value, ensure_ascii=False)


def _pointer(parent: str, key: str | int) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _cut(
    value: Any, pointer: str, key: str | None, limits: tuple[int, int], cuts: list[dict[str, Any]]
) -> Any:
    """``value`` with what is over ``limits`` cut, each cut appended to ``cuts``."""
    value_limit, text_limit = limits
    if isinstance(value, NonFinite):
        # A number JSON cannot carry as a number (1e400): its text, in a marker.
        cuts.append({"path": pointer, "cut": "value", "chars": len(value.text)})
        return {"truncated": True, "json_chars": len(value.text), "preview": value.text}
    if key in VALUE_KEYS and isinstance(value, (str, list, dict)):
        text = _json(value)
        if len(text) > value_limit:
            cuts.append({"path": pointer, "cut": "value", "chars": len(text)})
            return {"truncated": True, "json_chars": len(text), "preview": text[:PREVIEW]}
    if isinstance(value, str):
        if len(value) > text_limit:
            cuts.append({"path": pointer, "cut": "text", "chars": len(value)})
            return f"{value[:text_limit]}… [truncated: {len(value)} chars]"
        return value
    if isinstance(value, dict):
        return {k: _cut(v, _pointer(pointer, k), k, limits, cuts) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v, _pointer(pointer, i), None, limits, cuts) for i, v in enumerate(value)]
    return value


def _lists(value: Any, pointer: str, found: list[tuple[int, str, list[Any]]]) -> None:
    """Every list of more than one item under ``value``: (its JSON length, pointer, list)."""
    if isinstance(value, dict):
        if value.get("truncated") is True and "json_chars" in value:
            return  # a marker
        for k, v in value.items():
            _lists(v, _pointer(pointer, k), found)
    elif isinstance(value, list):
        if len(value) > 1:
            found.append((len(_json(value)), pointer, value))
        for i, v in enumerate(value):
            _lists(v, _pointer(pointer, i), found)


def fit(
    content: dict[str, Any], headline: Headline, budget: int, *, keep: Sequence[str] = ()
) -> tuple[dict[str, Any], str]:
    """``content`` cut to fit ``budget`` (its ``truncated`` lists the cuts), and its text.
    ``keep``: top-level members never cut (the cursor, the counts)."""
    fitted, text = _finish(content, [], headline)
    if len(text) <= budget:
        return fitted, text
    for limits in LEVELS:
        cuts: list[dict[str, Any]] = []
        fitted = {
            k: v if k in keep else _cut(v, _pointer("", k), k, limits, cuts)
            for k, v in content.items()
        }
        fitted, text = _finish(fitted, cuts, headline)
        if len(text) <= budget:
            return fitted, text
    halved: dict[str, dict[str, Any]] = {}
    while len(text) > budget:
        found: list[tuple[int, str, list[Any]]] = []
        for k, v in fitted.items():
            if k not in keep and k != "truncated":
                _lists(v, _pointer("", k), found)
        if not found:
            break
        _, pointer, longest = max(found, key=lambda each: each[0])
        record = halved.setdefault(
            pointer, {"path": pointer, "cut": "items", "total": len(longest)}
        )
        del longest[max(1, len(longest) // 2) :]
        record["kept"] = len(longest)
        # Cuts inside the items dropped are gone with them.
        cuts = [
            c
            for c in fitted["truncated"]
            if c["cut"] != "items" and not _dropped(c["path"], halved)
        ]
        cuts += [r for r in halved.values() if not _dropped(r["path"], halved)]
        fitted, text = _finish(fitted, cuts, headline)
    return fitted, text


def _dropped(path: str, halved: dict[str, dict[str, Any]]) -> bool:
    """Whether ``path`` lies in an item a halving removed."""
    for pointer, record in halved.items():
        if path.startswith(pointer + "/"):
            index = path[len(pointer) + 1 :].split("/", 1)[0]
            if index.isdigit() and int(index) >= record["kept"]:
                return True
    return False


def page(
    content: dict[str, Any],
    key: str,
    items: Sequence[dict[str, Any]],
    headline: Headline,
    budget: int,
    cursor_of: Callable[[int], str | None],
) -> tuple[dict[str, Any], str, int]:
    """``content`` with as many of ``items`` under ``key`` as fit ``budget`` (at least one,
    cut as :func:`fit` cuts when it alone is over), its text, and how many were taken;
    ``content["next_cursor"]`` is ``cursor_of(taken)``."""
    limits = LEVELS[0]
    taken: list[tuple[Any, list[dict[str, Any]]]] = []
    empty = {**content, key: [], "next_cursor": cursor_of(0), "truncated": []}
    used = len(text_of(headline(empty), empty)) + 200  # the cursor, the headline's counts
    for index, item in enumerate(items):
        cuts: list[dict[str, Any]] = []
        cut = _cut(item, _pointer(_pointer("", key), index), None, limits, cuts)
        cost = len(_json(cut)) + 2 + sum(len(_json(c)) + 2 for c in cuts)
        if taken and used + cost > budget:
            break
        taken.append((cut, cuts))
        used += cost
    while True:
        chosen = {
            **content,
            key: [cut for cut, _ in taken],
            "next_cursor": cursor_of(len(taken)),
        }
        fitted, text = _finish(chosen, [c for _, cuts in taken for c in cuts], headline)
        if len(text) <= budget or len(taken) <= 1:
            break
        taken.pop()
    if len(text) > budget:  # one item alone is over: cut deeper
        first = {**content, key: list(items[:1]), "next_cursor": cursor_of(1)}
        fitted, text = fit(first, headline, budget, keep=("next_cursor",))
    return fitted, text, len(taken)


def _finish(
    content: dict[str, Any], cuts: list[dict[str, Any]], headline: Headline
) -> tuple[dict[str, Any], str]:
    fitted = {**content, "truncated": cuts}
    return fitted, text_of(headline(fitted), fitted)


def scrubbed(content: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    """``content`` and ``text`` without any credential value sfn-trace resolved (the same
    scrubbing the command line gives every report)."""
    body = _json(content)
    clean = scrub_values(body)
    if clean != body:
        content = loads(clean)
    return content, scrub_values(text)
