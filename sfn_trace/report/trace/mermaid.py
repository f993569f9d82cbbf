"""The Markdown report's picture: a Mermaid flowchart of the visits the field passed through.

One node per visit of the timeline, in execution order, linked visit to visit along each
document flow (the execution's, a Map iteration's, a Parallel branch's); iterations and
branches are drawn in subgraphs, entered from their Map or Parallel by a dotted arrow. Each
node says the field's status in the visit's OUTPUT, in its label and in its colour
(``classDef``); where the field went null and where its last set copy went have a thick
border and say so. The blame chain's arrows are thick, the one into each reading state
labelled with the expression that moved the value.

Scale: a Map with more than :data:`ITERATIONS_SHOWN` iterations has them merged, one node
per inner state with counts by status (the iteration that went null named in the label);
the diagram holds at most :data:`NODE_CAP` nodes: beyond, containers are merged, then
collapsed into their own node, then runs of top-level visits become "N more visits" nodes.

Escaping: every name and expression comes from the AWS account. Node ids are generated
(``v1``, ``v2``, subgraphs ``s1``...), every label is a double-quoted string in which every
ASCII character other than letters, digits, space and ``_-.,/()'+=?!@*^`` is written as a
Mermaid entity (``#quot;``, ``#35;``...), ``$$`` (KaTeX) is broken, and control, format
(bidi) and separator characters are shown as ``\\uXXXX`` text; no backtick, so the text
cannot close the surrounding Markdown fence.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import pairwise

from sfn_trace.model.result import Finding, Hop, TraceResult, VisitTrace
from sfn_trace.model.text import ELLIPSIS
from sfn_trace.model.visits import FlowKind, Visit

NODE_CAP = 60
"""Nodes in the diagram, the legend's included."""
LEGEND_NODES = 8
VISIT_NODES = NODE_CAP - LEGEND_NODES
ITERATIONS_SHOWN = 3
"""A Map with more iterations has them merged, one node per inner state."""
NAME_WIDTH = 40
EDGE_WIDTH = 80

# --- escaping --------------------------------------------------------------------------------

_SAFE = frozenset(string.ascii_letters + string.digits + " _-.,/()'+=?!@*^")
_SHOWN = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ENTITY_MARKERS = frozenset("\ufb02\u00b6")
"""Mermaid stores entities as ``ﬂ°°35¶ß`` while it renders: never let a name forge one."""


def escape(text: str) -> str:
    """``text`` as the inside of a double-quoted Mermaid label: nothing in it is syntax."""
    out: list[str] = []
    for position, char in enumerate(text):
        if char == "$":
            out.append("#36;" if text[position + 1 : position + 2] == "$" else "$")
        else:
            out.append(_escape_char(char))
    return "".join(out)


def _escape_char(char: str) -> str:
    if char in _SAFE:
        return char
    if char == '"':
        return "#quot;"
    if (char.isascii() and char.isprintable()) or char in _ENTITY_MARKERS:
        return f"#{ord(char)};"
    category = unicodedata.category(char)
    if category == "Zs":
        return " "
    if category[0] in "LMNPS":
        return char
    shown = _SHOWN.get(char) or f"\\u{ord(char):04x}"
    return shown.replace("\\", "#92;")


def cut(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (names differ at both ends)."""
    if len(text) <= width:
        return text
    keep = max(width - len(ELLIPSIS), 2)
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]


def _label(text: str, width: int = NAME_WIDTH) -> str:
    return escape(cut(text, width))


def short_expression(expression: str) -> str:
    """``Parameters "k.$": "$.a.k"`` → ``Parameters k.$ ← $.a.k``, cut in the middle: the
    first of the carrying steps (the one that read the value), ``→ …`` for the others."""
    first, *others = expression.split(" → ")
    text = _unquote(first.replace('": "', " ← ").replace('": ', " ← "))
    text = cut(" ".join(text.split()), EDGE_WIDTH)
    return f"{text} → {ELLIPSIS}" if others else text


def _unquote(text: str) -> str:
    """Drops the quotes of JSON strings (not the escaped quotes inside them)."""
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char != '"':
            out.append(char)
    return "".join(out)


# --- statuses and classes --------------------------------------------------------------------

_NO_OUTPUT = "none"
_STATUS_ORDER = ("set", "null", "mixed", "missing", "unknown", _NO_OUTPUT)
_STATUS_CLASS = {
    "set": "isSet",
    "null": "isNull",
    "mixed": "isMixed",
    "missing": "isMissing",
    "unknown": "isUnknown",
    _NO_OUTPUT: "noOutput",
}
WENT_NULL, LAST_COPY, MORE = "wentNull", "lastCopy", "more"
# Light fills with dark text: readable on the light and the dark themes alike.
CLASS_STYLES = {
    "isSet": "fill:#b9e4c4,stroke:#1e6b3a,color:#0f2a18",
    "isNull": "fill:#f6b8b2,stroke:#a1261b,color:#3b0d08",
    "isMixed": "fill:#fcd68f,stroke:#a15c07,color:#3b2503",
    "isMissing": "fill:#e3e3e3,stroke:#666666,color:#1f1f1f,stroke-dasharray:4 3",
    "isUnknown": "fill:#cbd8f3,stroke:#3b5b9a,color:#14213d,stroke-dasharray:2 2",
    "noOutput": "fill:#ffffff,stroke:#666666,color:#1f1f1f,stroke-dasharray:2 2",
    WENT_NULL: "stroke:#7a0010,stroke-width:5px",
    LAST_COPY: "stroke:#4b1d80,stroke-width:5px,stroke-dasharray:9 4",
    MORE: "fill:#f2f2f2,stroke:#8a8a8a,color:#1f1f1f,stroke-dasharray:3 3",
}
_LEGEND = {
    "isSet": "set",
    "isNull": "null",
    "isMixed": "mixed",
    "isMissing": "missing",
    "isUnknown": "unknown",
    "noOutput": "no output",
    WENT_NULL: "went null",
    LAST_COPY: "last copy",
}


def _status(trace: VisitTrace) -> str:
    return trace.output.status.value if trace.visit.exited else _NO_OUTPUT


def _status_words(status: str, trace: VisitTrace) -> str:
    if status != _NO_OUTPUT:
        return status
    return f"none ({trace.visit.outcome.value})"


def _overall(statuses: Iterable[str]) -> str:
    """One class for several visits: mixed when null and set copies both occur."""
    found = set(statuses)
    if len(found) == 1:
        return found.pop()
    nulls, sets = found & {"null", "mixed"}, found & {"set", "mixed"}
    if nulls and sets:
        return "mixed"
    return next(s for s in _STATUS_ORDER if s in found)


def _counts(statuses: Sequence[str]) -> str:
    counted = Counter(statuses)
    return ", ".join(
        f"{'no output' if s == _NO_OUTPUT else s}: {counted[s]:,}"
        for s in _STATUS_ORDER
        if counted[s]
    )


# --- the diagram's parts ---------------------------------------------------------------------


class Level(IntEnum):
    """How much of a visit's iterations or branches a diagram shows."""

    COLLAPSED = 0
    """The visit's own node only."""
    MERGED = 1
    """One node per inner state."""
    EXPANDED = 2
    """Each iteration or branch in its own subgraph (big Maps merged)."""


@dataclass
class _Node:
    id: str
    lines: list[str]
    """Label lines, escaped."""
    classes: list[str]


@dataclass
class _Box:
    id: str
    title: str
    """Escaped."""
    items: list[_Node | _Box] = field(default_factory=list)


@dataclass
class _Edge:
    arrow: str
    label: str | None = None


@dataclass(frozen=True)
class Chart:
    """A flowchart's Mermaid text (without the fence) and what it left out."""

    text: str
    nodes: int
    """Nodes drawn, the legend's included."""
    merged: bool
    """Some iterations or branches are merged into one node per state."""
    hidden: int
    """Visits drawn only as part of a "more visits" node."""


def _inner(visit: Visit) -> list[Visit]:
    """The visits nested in ``visit`` (at any depth), in entry order."""
    return sorted(visit.walk()[1:], key=lambda v: v.seq)


def _many(visit: Visit) -> bool:
    iterations = [f for f in visit.children if f.kind is FlowKind.ITERATION]
    return len(iterations) > ITERATIONS_SHOWN


def size(visit: Visit, level: Level) -> int:
    """Nodes drawn for a top-level visit at ``level``."""
    if not visit.children or level is Level.COLLAPSED:
        return 1
    if level is Level.MERGED:
        return 1 + len({v.state for v in visit.walk()[1:]})
    total = 0
    stack = [visit]  # nested visits expanded in turn, without recursion: nesting is the input's
    while stack:
        node = stack.pop()
        if not node.children:
            total += 1
        elif _many(node):
            total += 1 + len({v.state for v in node.walk()[1:]})
        else:
            total += 1
            stack.extend(v for f in node.children for v in f.visits)
    return total


# --- choosing what to draw -------------------------------------------------------------------


def top_visits(result: TraceResult) -> list[Visit]:
    """The visits of the execution's own flow, in order."""
    nested = {v.seq for t in result.visits for f in t.visit.children for v in f.visits}
    return [t.visit for t in result.visits if t.visit.seq not in nested]


def plan(units: Sequence[Visit], important: Sequence[set[int]]) -> list[Level | None]:
    """A level per top-level visit (None: drawn inside a "more visits" node) so that the
    diagram holds at most :data:`VISIT_NODES` visit nodes. ``important``: sets of visits
    (nested ones included) that matter, the most important first: the findings', the blame
    chain's, those where the field changed."""
    levels = [Level.EXPANDED] * len(units)
    sizes = [size(u, Level.EXPANDED) for u in units]
    total = sum(sizes)
    containers = [i for i, unit in enumerate(units) if unit.children]
    for index in sorted(containers, key=lambda i: -sizes[i]):
        if total <= VISIT_NODES:
            break
        merged = size(units[index], Level.MERGED)
        levels[index], total, sizes[index] = Level.MERGED, total - sizes[index] + merged, merged
    if total > VISIT_NODES:
        return _elide(units, levels, _order(units, important))
    drawn: list[Level | None] = [*levels]
    return drawn


def _order(units: Sequence[Visit], important: Sequence[set[int]]) -> list[int]:
    """The top-level visits, those that matter first; the first and the last visits come
    after the ``important[0]`` and ``important[1]`` ones, before the rest."""
    ends = {units[0].seq, units[-1].seq}
    groups = [*important[:2], ends, *important[2:]]

    def rank(index: int) -> tuple[int, int]:
        seqs = {v.seq for v in units[index].walk()}
        return next((n for n, group in enumerate(groups) if seqs & group), len(groups)), index

    return sorted(range(len(units)), key=rank)


def _elide(
    units: Sequence[Visit], levels: Sequence[Level], order: Sequence[int]
) -> list[Level | None]:
    kept: list[Level | None] = [None] * len(units)
    used = 1  # the "more visits" node holding every visit not kept
    for index in order:
        if used >= VISIT_NODES:
            break
        left = index > 0 and kept[index - 1] is None
        right = index < len(units) - 1 and kept[index + 1] is None
        gaps = int(left) + int(right) - 1
        for level in (levels[index], Level.COLLAPSED):
            cost = size(units[index], level) + gaps
            if used + cost <= VISIT_NODES:
                kept[index], used = level, used + cost
                break
    return kept


# --- building --------------------------------------------------------------------------------


class _Builder:
    def __init__(self, result: TraceResult) -> None:
        self.traces = {t.visit.seq: t for t in result.visits}
        self.marks = _marks(result)
        self.node_of: dict[int, str] = {}
        self.nodes: list[_Node] = []
        self.items: list[_Node | _Box] = []
        self.edges: dict[tuple[str, str], _Edge] = {}
        self.flows: list[list[int]] = []
        self.position: dict[int, tuple[int, int]] = {}
        self.boxes = 0
        self.merged = False
        self.hidden = 0

    # nodes

    def _node(self, name: str, lines: list[str], classes: list[str], seqs: Iterable[int]) -> _Node:
        """``name``: the node id (``v7`` for visit 7; ``m``, ``g`` and a number for a merged
        node and a "more visits" node)."""
        node = _Node(name, lines, classes)
        self.nodes.append(node)
        for seq in seqs:
            self.node_of[seq] = node.id
        return node

    def _box(self, title: str) -> _Box:
        self.boxes += 1
        return _Box(f"s{self.boxes}", title)

    def add_units(self, units: Sequence[Visit], levels: Sequence[Level | None]) -> None:
        hidden: list[Visit] = []
        for unit, level in zip(units, levels, strict=True):
            if level is None:
                hidden.append(unit)
                continue
            self._more(hidden)
            hidden = []
            self._unit(unit, level, self.items)
        self._more(hidden)

    def _more(self, units: Sequence[Visit]) -> None:
        if not units:
            return
        visits = sorted((v for u in units for v in u.walk()), key=lambda v: v.seq)
        self.hidden += len(visits)
        statuses = [_status(self.traces[v.seq]) for v in visits]
        lines = [f"{len(visits):,} more visit{'s' if len(visits) != 1 else ''}", _counts(statuses)]
        name = f"g{sum(1 for n in self.nodes if n.id[0] == 'g') + 1}"
        self.items.append(self._node(name, lines, [MORE], (v.seq for v in visits)))

    def _unit(self, visit: Visit, level: Level, into: list[_Node | _Box]) -> None:
        collapsed = level is Level.COLLAPSED and bool(visit.children)
        into.append(self._visit_node(visit, collapsed))
        if not visit.children or level is Level.COLLAPSED:
            return
        if level is Level.MERGED or _many(visit):
            into.append(self._merged(visit))
            return
        for flow in visit.children:
            box = self._box(_label(flow.label))
            for inner in flow.visits:
                self._unit(inner, Level.EXPANDED, box.items)
            into.append(box)

    def _visit_node(self, visit: Visit, collapsed: bool) -> _Node:
        trace = self.traces[visit.seq]
        status = _status(trace)
        lines = [
            f"{visit.seq}. {_label(visit.state)}",
            f"output: {_status_words(status, trace)}",
        ]
        classes = [_STATUS_CLASS[status]]
        self._mark(visit, None, lines, classes)
        seqs = [visit.seq]
        if collapsed:
            inner = _inner(visit)
            seqs += [v.seq for v in inner]
            lines.append(f"+ {len(inner):,} visits inside")
            for other in inner:
                self._mark(other, visit, lines, classes)
        return self._node(f"v{visit.seq}", lines, classes, seqs)

    def _merged(self, container: Visit) -> _Box:
        self.merged = True
        flows = container.children
        what = "iterations" if container.type == "Map" else "branches"
        box = self._box(f"{_label(container.state)}: {len(flows):,} {what}")
        groups: dict[str, list[Visit]] = {}
        for visit in _inner(container):
            groups.setdefault(visit.state, []).append(visit)
        for state, visits in groups.items():
            statuses = [_status(self.traces[v.seq]) for v in visits]
            lines = [f"{_label(state)} ×{len(visits):,}", _counts(statuses)]
            classes = [_STATUS_CLASS[_overall(statuses)]]
            for visit in visits:
                self._mark(visit, container, lines, classes, named=False)
            name = f"m{sum(1 for n in self.nodes if n.id[0] == 'm') + 1}"
            box.items.append(self._node(name, lines, classes, (v.seq for v in visits)))
        return box

    def _mark(
        self,
        visit: Visit,
        container: Visit | None,
        lines: list[str],
        classes: list[str],
        named: bool = True,
    ) -> None:
        """The findings of ``visit`` on its node; drawn in ``container``'s node (or a merged
        node of ``container``), where in it (``named``: with the visit's state name)."""
        for css, text in self.marks.get(visit.seq, ()):
            if container is not None:
                scope = visit.scope[len(container.scope) - 1 : None if named else -1]
                text += f" in {_label(' > '.join(scope))}"
            lines.append(text)
            if css not in classes:
                classes.append(css)

    # edges

    def add_edges(self, units: Sequence[Visit]) -> None:
        self._flow([u.seq for u in units])
        for unit in units:
            for visit in unit.walk():
                for flow in visit.children:
                    seqs = [v.seq for v in flow.visits]
                    if seqs:
                        self._link(visit.seq, seqs[0], "-.->")
                    self._flow(seqs)

    def _flow(self, seqs: list[int]) -> None:
        number = len(self.flows)
        self.flows.append(seqs)
        for index, seq in enumerate(seqs):
            self.position[seq] = (number, index)
        for before, after in pairwise(seqs):
            self._link(before, after, "-->")

    def _link(self, before: int, after: int, arrow: str) -> _Edge | None:
        source, target = self.node_of.get(before), self.node_of.get(after)
        if source is None or target is None or source == target:
            return None
        return self.edges.setdefault((source, target), _Edge(arrow))

    def add_chain(self, chain: Iterable[Hop]) -> None:
        """Thick arrows from each hop's writer to it; the last one labelled."""
        for hop in chain:
            reader, writer = hop.seq, hop.written_by_seq
            if reader not in self.position or writer is None or writer not in self.position:
                continue
            last = None
            for before, after in self._path(writer, reader):
                edge = self._link(before, after, "==>")
                if edge is not None:
                    edge.arrow, last = "==>", edge
            if last is not None and last.label is None and hop.expression:
                last.label = escape(short_expression(hop.expression))

    def _path(self, writer: int, reader: int) -> list[tuple[int, int]]:
        """The visits the value went through: along a flow, or straight across flows."""
        (w_flow, w_index), (r_flow, r_index) = self.position[writer], self.position[reader]
        if w_flow != r_flow or w_index >= r_index:
            return [(writer, reader)]
        seqs = self.flows[r_flow][w_index : r_index + 1]
        return list(pairwise(seqs))


def _marks(result: TraceResult) -> dict[int, list[tuple[str, str]]]:
    marks: dict[int, list[tuple[str, str]]] = {}
    findings: tuple[tuple[Finding | None, str, str], ...] = (
        (result.first_null, WENT_NULL, "went null"),
        (result.lost_at, LAST_COPY, "last copy"),
    )
    for finding, css, text in findings:
        if finding is not None:
            child = f" (child {finding.child.ref.number})" if finding.child else ""
            marks.setdefault(finding.visit.seq, []).append((css, text + child))
    return marks


# --- the text --------------------------------------------------------------------------------


def flowchart(result: TraceResult) -> Chart | None:
    """The diagram of ``result``'s visits; None when it has none."""
    units = top_visits(result)
    if not units:
        return None
    builder = _Builder(result)
    builder.add_units(units, plan(units, _important(result)))
    builder.add_edges(units)
    builder.add_chain(result.chain)
    lines = ["flowchart TD", *_items(builder.items, 1)]
    for (source, target), edge in builder.edges.items():
        label = f'|"{edge.label}"|' if edge.label else ""
        lines.append(f"    {source} {edge.arrow}{label} {target}")
    used = _used_classes(builder.nodes)
    legend = [c for c in _LEGEND if c in used]
    lines += _legend(legend)
    lines += _class_lines(builder.nodes, legend, used)
    nodes = len(builder.nodes) + len(legend)
    return Chart("\n".join(lines), nodes, builder.merged, builder.hidden)


def _important(result: TraceResult) -> list[set[int]]:
    findings = {f.visit.seq for f in (result.first_null, result.lost_at) if f is not None}
    chain: set[int | None] = {hop.seq for hop in result.chain}
    chain |= {hop.written_by_seq for hop in result.chain}
    changed = {t.visit.seq for t in result.visits if t.changed is not False}
    return [findings, {s for s in chain if isinstance(s, int)}, changed]


def _items(items: Sequence[_Node | _Box], depth: int) -> list[str]:
    pad = "    " * depth
    lines: list[str] = []
    for item in items:
        if isinstance(item, _Node):
            lines.append(f'{pad}{item.id}["{"<br/>".join(item.lines)}"]')
        else:
            lines.append(f'{pad}subgraph {item.id} ["{item.title}"]')
            lines += _items(item.items, depth + 1)
            lines.append(f"{pad}end")
    return lines


def _used_classes(nodes: Sequence[_Node]) -> list[str]:
    used = {css for node in nodes for css in node.classes}
    return [css for css in CLASS_STYLES if css in used]


def _legend(classes: Sequence[str]) -> list[str]:
    lines = ['    subgraph legend ["Legend: the field in each visit\'s output"]']
    lines += [f'        k{n}["{_LEGEND[css]}"]' for n, css in enumerate(classes, start=1)]
    return [*lines, "    end"]


def _class_lines(nodes: Sequence[_Node], legend: Sequence[str], used: Sequence[str]) -> list[str]:
    lines = [f"    classDef {css} {CLASS_STYLES[css]}" for css in used]
    for css in used:
        ids = [node.id for node in nodes if css in node.classes]
        ids += [f"k{n}" for n, key in enumerate(legend, start=1) if key == css]
        lines.append(f"    class {','.join(ids)} {css}")
    return lines
