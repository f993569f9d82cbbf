"""The Markdown report's flowchart (sfn_trace.report.trace.mermaid) and its blame chain's
origin row.

No Mermaid renderer runs here: every diagram is read by a small checker of the Mermaid subset
the report writes (every line one of: a node with a generated id and a double-quoted label, a
subgraph, ``end``, an edge between defined nodes, ``classDef``, ``class``), with labels that
hold no raw ``"`` and nothing Mermaid or Markdown could read as syntax. When ``node`` finds
the npm packages ``mermaid`` and ``jsdom`` (e.g. through ``NODE_PATH``), one more test parses
the diagrams with Mermaid's own parser, offline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from benchmarks.generate_history import Generated, generate
from sfn_trace.model.result import Hop
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.report.trace.mermaid import NAME_WIDTH, NODE_CAP, cut, escape, flowchart
from sfn_trace.sources.files import load_history_file
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from sfn_trace.trace.chain import OriginKind
from tests.data import DEFINITION, LINE_INGEST, fixture_names
from tests.history_builder import History
from tests.make_golden import field_of

FIELD = "poll_results_s3_key"
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")

# --- a checker of the Mermaid the report writes ----------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9]*"
_QUOTED = r'"([^"\n\r]*)"'
_NODE = re.compile(rf"^ *({_ID})\[{_QUOTED}\]$")
_SUBGRAPH = re.compile(rf"^ *subgraph ({_ID}) \[{_QUOTED}\]$")
_EDGE = re.compile(rf"^ *({_ID}) (-->|==>|-\.->)(?:\|{_QUOTED}\|)? ({_ID})$")
_STYLE = r"[a-z-]+:[#A-Za-z0-9 .]+"
_CLASSDEF = re.compile(rf"^ *classDef ([A-Za-z]+) ({_STYLE}(?:,{_STYLE})*)$")
_CLASS = re.compile(rf"^ *class ({_ID}(?:,{_ID})*) ([A-Za-z]+)$")
_ENTITY = re.compile(r"#(\d+|quot);")
_SYNTAX = set('"#;<>&`[]{}|%:\\~')
_ARROWS = {"-->": "normal", "==>": "thick", "-.->": "dotted"}


@dataclass
class Chart:
    labels: dict[str, str] = field(default_factory=dict)
    """Node id → its label as shown (entities decoded, ``<br/>`` as a newline)."""
    edges: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    """(from, to) → (``normal``/``thick``/``dotted``, the label as shown)."""
    subgraphs: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    classes: dict[str, set[str]] = field(default_factory=dict)
    """Node id → its classes."""

    def node(self, first_line: str) -> str:
        return next(i for i, label in self.labels.items() if label.split("\n")[0] == first_line)

    def visit_nodes(self) -> list[str]:
        return [i for i in self.labels if not i.startswith("k")]


def check_label(raw: str) -> str:
    """Asserts the label can only be read as text; returns it as Mermaid shows it. (A colon
    followed by a space is text: Mermaid's preprocessing reads ``style...:#...;``.)"""
    bare = _ENTITY.sub("", raw.replace("<br/>", "").replace(": ", " "))
    assert not _SYNTAX & set(bare), f"raw syntax in a label: {raw!r}"
    assert "$$" not in bare
    assert all(unicodedata.category(c)[0] not in "CZ" or c == " " for c in bare), raw
    for match in _ENTITY.finditer(raw):
        assert match[1] == "quot" or 0 < int(match[1]) < 0x110000
    text = raw.replace("<br/>", "\n").replace("#quot;", '"')
    return _ENTITY.sub(lambda m: chr(int(m[1])), text)


def parse_chart(text: str) -> Chart:
    """Reads a diagram; fails on any line outside the subset or any dangling reference."""
    lines = text.split("\n")
    assert lines[0] == "flowchart TD"
    chart, open_boxes, styles = Chart(), list[str](), set[str]()
    for line in lines[1:]:
        _read_line(line, chart, open_boxes, styles)
    assert not open_boxes, "a subgraph is not closed"
    for source, target in chart.edges:
        assert source in chart.labels and target in chart.labels, (source, target)
    for node, classes in chart.classes.items():
        assert node in chart.labels and classes <= styles, (node, classes)
    return chart


def _read_line(line: str, chart: Chart, open_boxes: list[str], styles: set[str]) -> None:
    if match := _NODE.match(line):
        assert match[1] not in chart.labels and match[1] not in chart.subgraphs, match[1]
        chart.labels[match[1]] = check_label(match[2])
        if open_boxes:
            chart.subgraphs[open_boxes[-1]][1].append(match[1])
    elif match := _SUBGRAPH.match(line):
        assert match[1] not in chart.labels and match[1] not in chart.subgraphs, match[1]
        chart.subgraphs[match[1]] = (check_label(match[2]), [])
        open_boxes.append(match[1])
    elif line.strip() == "end":
        assert open_boxes, "end without subgraph"
        open_boxes.pop()
    elif match := _EDGE.match(line):
        assert (match[1], match[4]) not in chart.edges, "an edge drawn twice"
        label = check_label(match[3]) if match[3] is not None else None
        chart.edges[(match[1], match[4])] = (_ARROWS[match[2]], label)
    elif match := _CLASSDEF.match(line):
        styles.add(match[1])
    elif match := _CLASS.match(line):
        for node in match[1].split(","):
            chart.classes.setdefault(node, set()).add(match[2])
    else:
        raise AssertionError(f"not a line of the diagram subset: {line!r}")


def mermaid_blocks(markdown: str) -> list[str]:
    """The contents of the report's ```mermaid fences, as a Markdown parser sees them."""
    fences = [t for t in _MD.parse(markdown) if t.type == "fence" and t.info == "mermaid"]
    return [t.content for t in fences]


def chart_of(markdown: str) -> Chart:
    blocks = mermaid_blocks(markdown)
    assert len(blocks) == 1
    return parse_chart(blocks[0].rstrip("\n"))


def test_the_checker_rejects_what_would_break_a_diagram() -> None:
    assert parse_chart('flowchart TD\n    v1["a"]\n    v1 --> v1').labels == {"v1": "a"}
    for broken in (
        'flowchart TD\n    v1["a"b"]',
        'flowchart TD\n    v1["a;b"]',
        'flowchart TD\n    v1["a"]\n    v1 --> v2',
        'flowchart TD\n    subgraph s1 ["x"]\n    v1["a"]',
        'flowchart TD\n    v1["a"]\n    click v1 "javascript:alert(1)"',
        'flowchart TD\n    v1["a\u202eb"]',
        'flowchart TD\n    v1["$$x$$"]',
    ):
        with pytest.raises(AssertionError):
            parse_chart(broken)


# --- the line-ingest reports -----------------------------------------------------------------


def _fixture(name: str = "flat_split_drops_key") -> TraceResult:
    return analyze(
        load_target_file(LINE_INGEST / f"{name}.history.json", DEFINITION), field_of(name)
    )


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_report_has_one_flowchart_with_a_node_per_visit(name: str) -> None:
    result = _fixture(name)
    chart = chart_of(render(Command.TRACE, TraceFormat.MARKDOWN, result))
    assert chart.visit_nodes() == [f"v{t.visit.seq}" for t in _drawing_order(result)]
    for trace in result.visits:
        node = f"v{trace.visit.seq}"
        status = trace.output.status.value
        assert chart.labels[node].split("\n")[:2] == [
            f"{trace.visit.seq}. {trace.visit.state}",
            f"output: {status}",
        ]
        assert f"is{status.capitalize()}" in chart.classes[node]
    legend = [chart.labels[i] for i in chart.labels if i.startswith("k")]
    assert len(chart.labels) <= NODE_CAP and set(legend) <= {
        "set",
        "null",
        "mixed",
        "missing",
        "unknown",
        "no output",
        "went null",
        "last copy",
    }


def _drawing_order(result: TraceResult) -> list[Any]:
    """Visits in the order the diagram declares them: a container, then its iterations."""
    order: list[Any] = []
    traces = {t.visit.seq: t for t in result.visits}

    def add(visit: Any) -> None:
        order.append(traces[visit.seq])
        for flow in visit.children:
            for inner in flow.visits:
                add(inner)

    nested = {v.seq for t in result.visits for f in t.visit.children for v in f.visits}
    for trace in result.visits:
        if trace.visit.seq not in nested:
            add(trace.visit)
    return order


def test_the_seed_flowchart_marks_the_culprits_and_labels_the_chain() -> None:
    text = render(Command.TRACE, TraceFormat.MARKDOWN, _fixture())
    chart = chart_of(text)
    assert chart.labels["v2"].split("\n")[2:] == ["went null"]
    assert chart.labels["v4"].split("\n")[2:] == ["last copy"]
    assert {"isMixed", "wentNull"} <= chart.classes["v2"]
    assert {"isNull", "lastCopy"} <= chart.classes["v4"]
    assert chart.edges[("v1", "v2")] == ("normal", None)
    assert chart.edges[("v2", "v3")] == ("thick", None)  # the value went through unchanged
    assert chart.edges[("v3", "v4")] == (
        "thick",
        "Parameters poll_results_s3_key.$ ← $.chunked_data.poll_results_s3_key",
    )
    assert chart.edges[("v4", "v5")] == (
        "thick",
        "Parameters poll_results_s3_key.$ ← $.poll_results_s3_key → …",
    )
    assert len(chart.edges) == 6
    headings = [
        t.content
        for i, t in enumerate(_MD.parse(text))
        if t.type == "inline" and _MD.parse(text)[i - 1].type == "heading_open"
    ]
    flow = headings.index("Flow of `poll_results_s3_key`")
    assert headings[flow - 1] == "Finding" and headings[flow + 1] == "Blame chain"


def test_map_iterations_are_subgraphs_entered_from_their_map() -> None:
    chart = chart_of(
        render(
            Command.TRACE, TraceFormat.MARKDOWN, _fixture("hierarchical_create_groups_drops_key")
        )
    )
    titles = sorted(title for title, _ in chart.subgraphs.values() if title.startswith("Merge"))
    assert titles == [f"MergeChunkGroups[{i}]" for i in range(3)]
    for node in ("v7", "v8", "v9"):
        assert chart.edges[("v6", node)][0] == "dotted"
        assert chart.labels[node].startswith(f"{node[1:]}. MergeGroup\n")
    assert chart.edges[("v6", "v10")][0] == "thick"


def test_an_intact_execution_has_no_marks() -> None:
    chart = chart_of(render(Command.TRACE, TraceFormat.MARKDOWN, _fixture("flat_intact")))
    assert all(c <= {"isSet", "isMissing"} for c in chart.classes.values())
    assert all(edge == ("normal", None) for edge in chart.edges.values())


# --- hostile names ---------------------------------------------------------------------------

HOSTILE = [
    'a"];click v1 "javascript:alert(1)"',
    "x --> y",
    "x --- y ==> z -.-> w",
    '%%{init: {"theme": "dark", "securityLevel": "loose"}}%%',
    "</script><script>alert(1)</script>",
    "tick ``` fence ````",
    "line\nbreak\r\nthere",
    "rtl \u202e evil \u2066 \u200f",
    "hash # semi ; pipe | amp & lt <",
    "brackets [ ] { } ( ) end",
    "end",
    "subgraph",
    "style:#f00;classDef x fill:#f00;",
    "$$x^2$$",
    "#quot; #35; ﬂ°quot¶ß",
    "tab\tand\x00nul\x1b[31m",
    "L" * 300,
]


def _pass_history(tmp_path: Path, names: list[str], drop: int) -> TraceResult:
    history = History()
    history.start({FIELD: "k"})
    document: dict[str, Any] = {FIELD: "k"}
    for index, name in enumerate(names):
        output = {FIELD: None} if index == drop else document
        history.pass_state(name, document, output)
        document = output
    history.succeed(document)
    return analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)


def _shown(name: str) -> str:
    """A name as a label shows it: controls as ``\\uXXXX``/``\\n`` text, cut in the middle."""
    out = []
    for char in cut(name, NAME_WIDTH):
        category = unicodedata.category(char)
        if char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif category == "Zs":
            out.append(" ")
        elif category[0] in "CZ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_state_name_stays_inside_its_label(tmp_path: Path, name: str) -> None:
    result = _pass_history(tmp_path, ["Load", name, "After"], drop=1)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    blocks = mermaid_blocks(text)
    assert len(blocks) == 1, "the fence was closed early or another one opened"
    chart = parse_chart(blocks[0].rstrip("\n"))
    assert chart.visit_nodes() == ["v1", "v2", "v3"]
    assert chart.labels["v2"].split("\n") == [
        f"2. {_shown(name)}",
        "output: null",
        "went null",
        "last copy",
    ]
    assert set(chart.edges) == {("v1", "v2"), ("v2", "v3")}
    assert len(chart.labels["v2"].split("\n")[0]) <= NAME_WIDTH + 3


def test_hostile_expressions_stay_inside_the_edge_labels() -> None:
    result = _fixture()
    evil = 'Parameters "k.$": "$.a"]-->|x| v1\nclick v1 "javascript:alert(1)"; %%{init}%% ```'
    chain = tuple(dataclasses.replace(hop, expression=evil) for hop in result.chain)
    chart = chart_of(
        render(Command.TRACE, TraceFormat.MARKDOWN, dataclasses.replace(result, chain=chain))
    )
    kind, label = chart.edges[("v3", "v4")]
    assert kind == "thick" and label is not None
    assert label == "Parameters k.$ ← $.a]-->|x| v1 click v1 javascript:alert(1); %%{init}%% ```"
    assert len(chart.edges) == 6


def test_escape() -> None:
    assert escape('a"b') == "a#quot;b"
    assert escape("#;") == "#35;#59;"
    assert escape("<br/>") == "#60;br/#62;"
    assert escape("`") == "#96;"
    assert escape("$.a $$x") == "$.a #36;$x"
    assert escape("\u202e\n") == "#92;u202e#92;n"
    assert escape("Zürich 東京 →") == "Zürich 東京 →"
    assert escape("ﬂ°¶") == "#64258;°#182;"
    assert cut("a" * 50, 10) == "aaaaa…aaaa"


# --- scale -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Generated, TraceResult]:
    """A 2,000-iteration Map (8,003 visits): one iteration's Lambda returns the field null."""
    generated = generate(16 + 2_000 * 15, seed=3, payload_bytes=64, retry_rate=0.0)
    folder = tmp_path_factory.mktemp("big")
    history = generated.write(folder / "h.json")
    definition = generated.write_definition(folder / "d.json")
    return generated, analyze(load_history_file(history, definition), generated.field)


def test_a_2000_iteration_map_is_drawn_one_node_per_inner_state(
    big_map: tuple[Generated, TraceResult],
) -> None:
    generated, result = big_map
    assert generated.items == 2_000 and len(result.visits) == 8_003
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    chart = chart_of(text)
    assert len(chart.labels) <= NODE_CAP
    assert len(chart.visit_nodes()) == 7
    where = f"FanOut[{generated.expected.first_null_iteration}]"
    process = chart.node("ProcessChunk ×2,000")
    assert chart.labels[process].split("\n")[1:] == [
        "set: 1,999, mixed: 1",
        f"went null in {where}",
    ]
    assert "wentNull" in chart.classes[process]
    assert f"last copy in FanOut[{generated.expected.lost_at_iteration}]" in "".join(
        chart.labels.values()
    )
    assert ("FanOut: 2,000 iterations", ["m1", "m2", "m3", "m4"]) in chart.subgraphs.values()
    assert chart.edges[(chart.node("2. FanOut"), process)][0] == "dotted"
    assert "A Map with more than 3 iterations is drawn as one box per state" in text


def _flat(tmp_path: Path, count: int, drop: int) -> TraceResult:
    return _pass_history(tmp_path, [f"Step{i}" for i in range(count)], drop)


def test_a_long_execution_keeps_the_findings_and_counts_the_rest(tmp_path: Path) -> None:
    result = _flat(tmp_path, 400, drop=200)
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    chart = chart_of(text)
    assert len(chart.labels) <= NODE_CAP
    drawn = [n for n in chart.visit_nodes() if n.startswith("v")]
    assert {"v1", "v201", "v400"} <= set(drawn)
    assert chart.labels["v201"].split("\n")[2:] == ["went null", "last copy"]
    more = [n for n in chart.visit_nodes() if n.startswith("g")]
    hidden = sum(int(chart.labels[n].split(" ")[0].replace(",", "")) for n in more)
    assert more and hidden + len(drawn) == 400
    assert all(chart.classes[n] == {"more"} for n in more)
    assert f"{hidden:,} visits are grouped into" in text


def test_many_parallel_branches_stay_under_the_cap(tmp_path: Path) -> None:
    history = History()
    document = {FIELD: "k"}
    history.start(document)
    history.add("ParallelStateEntered", name="Fan", input=document)
    started = history.add("ParallelStateStarted")
    last = started
    for branch in range(100):
        history.add("PassStateEntered", previous=started, name=f"B{branch}", input=document)
        output = {FIELD: None} if branch == 42 else document
        last = history.add("PassStateExited", name=f"B{branch}", output=output)
    history.add("ParallelStateSucceeded", previous=last)
    outputs = [{FIELD: None} if b == 42 else document for b in range(100)]
    history.add("ParallelStateExited", name="Fan", output=outputs)
    history.pass_state("After", outputs, outputs)
    history.succeed(outputs)
    result = analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)
    assert len(result.visits) == 102
    chart = chart_of(render(Command.TRACE, TraceFormat.MARKDOWN, result))
    assert len(chart.labels) <= NODE_CAP
    fan = chart.node("1. Fan")
    assert "went null in Fan.Branches[42] > B42" in chart.labels[fan].split("\n")
    assert "+ 100 visits inside" in chart.labels[fan].split("\n")
    assert chart.edges[(fan, chart.node("102. After"))] == ("normal", None)


# --- the blame chain's origin row ------------------------------------------------------------


def _origin_cell(result: TraceResult, hop: Hop) -> str:
    text = render(Command.TRACE, TraceFormat.MARKDOWN, dataclasses.replace(result, chain=(hop,)))
    tokens = _MD.parse(text)
    start = next(
        i
        for i, t in enumerate(tokens)
        if t.type == "inline" and t.content == "Blame chain" and tokens[i - 1].tag == "h3"
    )
    cells = [
        "".join(c.content for c in tokens[i + 1].children or [])
        for i in range(start, len(tokens))
        if tokens[i].type == "td_open"
    ]
    return cells[5]


def _hop(source: OriginKind, seq: int, note: str | None = None) -> Hop:
    return Hop("S", seq, ("S",), "$.x", source.value, None, "ResultPath $.x", None, None, note)


def _with_visit(result: TraceResult, seq: int, **changes: Any) -> TraceResult:
    """``result`` with visit ``seq`` changed (its calls dropped: not a Lambda)."""
    traces = []
    for trace in result.visits:
        if trace.visit.seq == seq:
            trace = dataclasses.replace(
                trace, calls=(), visit=dataclasses.replace(trace.visit, **changes)
            )
        traces.append(trace)
    return dataclasses.replace(result, visits=tuple(traces))


def _dynamodb(result: TraceResult) -> TraceResult:
    split = result.visits[1].visit
    attempt = dataclasses.replace(split.attempts[-1], resource="getItem", resource_type="dynamodb")
    return _with_visit(result, 2, attempts=(attempt,))


ORIGINS: list[tuple[OriginKind, str | None, Any, str]] = [
    (OriginKind.RESULT, None, None, "the Lambda result (embedding-split-into-chunks-lambda-dev)"),
    (OriginKind.RESULT, None, _dynamodb, "the task result (dynamodb:getItem)"),
    (OriginKind.INPUT, "the value comes from the execution input", None, "the execution input"),
    (OriginKind.ITERATION, None, None, "the output of a Map iteration"),
    (OriginKind.BRANCH, None, None, "the output of a Parallel branch"),
    (
        OriginKind.ERROR,
        "the error output of a caught failure",
        lambda r: _with_visit(r, 2, error="States.TaskFailed"),
        "the error output of a caught failure (States.TaskFailed)",
    ),
    (OriginKind.LITERAL, "a literal in the definition", None, "a literal in the definition"),
    (
        OriginKind.CONTEXT,
        "the context object ($$.Execution.Input.n)",
        None,
        "the context object ($$.Execution.Input.n)",
    ),
    (
        OriginKind.VARIABLE,
        "the variable $v, assigned by A | B",
        None,
        "the variable $v, assigned by A | B",
    ),
    (
        OriginKind.COMPUTED,
        "computed by States.ArrayGetItem($.arr, 0)",
        None,
        "computed by States.ArrayGetItem($.arr, 0)",
    ),
    (OriginKind.COMPUTED, "computed", None, "computed by this state (its steps were not replayed)"),
]


@pytest.mark.parametrize(("kind", "note", "change", "expected"), ORIGINS)
def test_the_origin_row_says_what_wrote_the_value(
    kind: OriginKind, note: str | None, change: Any, expected: str
) -> None:
    result = _fixture()
    if change is not None:
        result = change(result)
    assert _origin_cell(result, _hop(kind, 2, note)) == expected


def test_every_origin_kind_is_worded() -> None:
    assert {kind for kind, *_ in ORIGINS} == set(OriginKind)


def test_an_origin_of_no_known_kind_is_still_named() -> None:
    hop = Hop("S", 999, (), "$.x", "something new", None, "e", None)
    result = dataclasses.replace(_fixture(), chain=(hop,))
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert "| ` `" not in text and "(origin)" in text


def _run(tmp_path: Path, states: dict[str, Any], outputs: list[Any], start: Any) -> TraceResult:
    """A chain of Pass states (their exits may assign variables: ``"Assign"``) as run."""
    names = list(states)
    definition = {
        "StartAt": names[0],
        "States": {
            name: {**state, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
            for i, (name, state) in enumerate(states.items())
        },
    }
    (tmp_path / "d.json").write_text(json.dumps(definition), encoding="utf-8")
    history = History()
    history.start(start)
    document = start
    for name, output in zip(names, outputs, strict=True):
        history.add("PassStateEntered", name=name, input=document)
        assign = states[name].get("Assign")
        extra: dict[str, Any] = (
            {"assignedVariables": {k: json.dumps(v) for k, v in assign.items()}} if assign else {}
        )
        history.add("PassStateExited", name=name, output=output, **extra)
        document = output
    history.succeed(document)
    return analyze(
        load_history_file(history.write(tmp_path / "h.json"), tmp_path / "d.json"), FIELD
    )


_READ = {"Type": "Pass", "Parameters": {f"{FIELD}.$": f"$.{FIELD}"}}
_NULL = {FIELD: None}
RUNS: dict[str, tuple[dict[str, Any], list[Any], Any, str, str]] = {
    "literal": (
        {"A": {"Type": "Pass", "Parameters": {FIELD: None}}, "B": _READ},
        [_NULL, _NULL],
        {FIELD: "k"},
        "literal",
        "a literal in the definition",
    ),
    "context": (
        {"A": {"Type": "Pass", "Parameters": {f"{FIELD}.$": "$$.Execution.Input.n"}}, "B": _READ},
        [_NULL, _NULL],
        {FIELD: "k", "n": None},
        "context",
        "the context object ($$.Execution.Input.n)",
    ),
    "input": ({"A": _READ}, [_NULL], _NULL, "input", "the execution input"),
    "computed": (
        {
            "A": {"Type": "Pass", "Parameters": {f"{FIELD}.$": "States.ArrayGetItem($.a, 0)"}},
            "B": _READ,
        },
        [_NULL, _NULL],
        {FIELD: "k", "a": [None]},
        "computed",
        "computed by States.ArrayGetItem($.a, 0)",
    ),
    "variable": (
        {
            "A": {"Type": "Pass", "Assign": {"v": {FIELD: None}}},
            "B": {"Type": "Pass", "Parameters": {f"{FIELD}.$": f"$v.{FIELD}"}},
        },
        [{FIELD: "k"}, _NULL],
        {FIELD: "k"},
        "variable",
        "the variable $v, assigned by A",
    ),
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_traced_origins_are_worded(tmp_path: Path, case: str) -> None:
    states, outputs, start, source, expected = RUNS[case]
    result = _run(tmp_path, states, outputs, start)
    assert result.chain and result.chain[-1].source == source
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    assert _origin_cell(result, result.chain[-1]) == expected
    chart_of(text)


def test_a_service_task_result_is_the_origin(tmp_path: Path) -> None:
    definition: dict[str, Any] = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "t", "Key": {"id": {"S": "1"}}},
                "ResultSelector": {f"{FIELD}.$": f"$.Item.{FIELD}"},
                "Next": "Use",
            },
            "Use": {**_READ, "End": True},
        },
    }
    (tmp_path / "d.json").write_text(json.dumps(definition), encoding="utf-8")
    history = History()
    start = {FIELD: "k"}
    history.start(start)
    history.add("TaskStateEntered", name="Get", input=start)
    service: dict[str, Any] = {"resource": "getItem", "resourceType": "dynamodb"}
    history.add("TaskScheduled", parameters=definition["States"]["Get"]["Parameters"], **service)
    history.add("TaskStarted", **service)
    history.add("TaskSucceeded", output={"Item": {FIELD: None}}, **service)
    history.add("TaskStateExited", name="Get", output=_NULL)
    history.pass_state("Use", _NULL, _NULL)
    history.succeed(_NULL)
    path = history.write(tmp_path / "h.json")
    result = analyze(load_history_file(path, tmp_path / "d.json"), FIELD)
    assert [hop.source for hop in result.chain] == ["input", "result"]
    assert _origin_cell(result, result.chain[-1]) == "the task result (dynamodb:getItem)"


# --- Mermaid's own parser, when node has it --------------------------------------------------

_PARSER = r"""
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
const require = createRequire(process.cwd() + '/');
let JSDOM, entry;
try {
  ({ JSDOM } = require('jsdom'));
  entry = require.resolve('mermaid');
} catch (error) {
  process.stdout.write('MISSING');
  process.exit(3);
}
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(pathToFileURL(entry).href)).default;
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
const out = [];
for (const text of JSON.parse(readFileSync(0, 'utf8'))) {
  try {
    await mermaid.parse(text);
    const db = (await mermaid.mermaidAPI.getDiagramFromText(text)).db;
    const vertices = [...db.getVertices().values()];
    out.push({
      vertices: vertices.map((v) => [v.id, v.text]),
      edges: db.getEdges().map((e) => [e.start, e.end, e.text]),
      links: vertices.filter((v) => v.link || v.haveCallback).length + db.tooltips.size,
    });
  } catch (error) {
    out.push({ error: String(error.message || error) });
  }
}
process.stdout.write(JSON.stringify(out));
"""


def _mermaid_text(text: str) -> str:
    """Mermaid's stored label (entities as ``ﬂ°°35¶ß``, ``<br>``) as shown."""
    return re.sub(
        r"\ufb02\u00b0(?:\u00b0(\d+)|quot)\u00b6\u00df",
        lambda m: chr(int(m[1])) if m[1] else '"',
        text.replace("<br>", "\n"),
    )


def _unavailable(why: str) -> None:
    """Skip where Mermaid's parser is not installed; CI installs it (``.ci/mermaid``) and
    sets ``SFN_TRACE_REQUIRE_MERMAID=1``, so there a missing parser fails instead."""
    if os.environ.get("SFN_TRACE_REQUIRE_MERMAID") == "1":
        pytest.fail(f"{why}: CI requires Mermaid's parser (npm ci --prefix .ci/mermaid)")
    pytest.skip(why)


def test_mermaid_itself_parses_the_diagrams(
    tmp_path: Path, big_map: tuple[Generated, TraceResult]
) -> None:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    results = [_fixture(n) for n in fixture_names()] + [big_map[1], _flat(tmp_path, 400, 200)]
    for number, name in enumerate(HOSTILE):
        folder = tmp_path / f"h{number}"
        folder.mkdir()
        results.append(_pass_history(folder, ["Load", name, "After"], drop=1))
    charts = [chart.text for chart in map(flowchart, results) if chart is not None]
    script = tmp_path / "parse.mjs"
    script.write_text(_PARSER, encoding="utf-8")
    done = subprocess.run(
        [node, str(script)],
        input=json.dumps(charts),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    if done.returncode == 3 and done.stdout == "MISSING":
        _unavailable("the npm packages mermaid and jsdom are not found (set NODE_PATH)")
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    for text, found in zip(charts, parsed, strict=True):
        assert "error" not in found, (found, text)
        ours = parse_chart(text)
        assert {i: _mermaid_text(t) for i, t in found["vertices"]} == ours.labels
        edges = {(s, e): _mermaid_text(t) or None for s, e, t in found["edges"]}
        assert edges == {key: label for key, (_, label) in ours.edges.items()}
        assert found["links"] == 0
