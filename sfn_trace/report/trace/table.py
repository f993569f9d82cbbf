"""The terminal view: a headline, then the field's timeline, one row per visit that says
something new and one per run of visits that repeat it (:mod:`sfn_trace.report.trace.collapse`;
``RenderOptions.all_visits``: one row per visit), then the children followed and the Lambda
logs of the visits that explain the finding (``RenderOptions.all_logs``: of every visit)."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from tabulate import tabulate

from sfn_trace.model.result import Finding, LambdaCall, TraceResult, VisitTrace
from sfn_trace.model.snapshot import Occurrence, Snapshot, Status
from sfn_trace.model.text import ELLIPSIS, brief
from sfn_trace.report.common import CONFIRMATION_WORDS, aws_trail, iso, verdict_sentence
from sfn_trace.report.neutral import neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.trace.collapse import Row, distinct, rows
from sfn_trace.report.trace.mermaid import cut
from sfn_trace.sources.lambda_logs import readable

VALUE_WIDTH = 32
NAME_CELL = 80
"""A state name in a timeline cell is cut to AWS's own limit on state names, 80 characters
(https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html): a name
from a crafted file cannot widen every row of the table."""
PATH_WIDTH = 48
"""An occurrence's path longer than this loses the middle of its parent's path, never its
last segment (the field's own name)."""
WRAP = 100


def render(result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    # Each headline, section title and log entry is one line: a newline or a control in a
    # state name, a cause or a log line is shown as an escape (report/neutral.py), as it is
    # in each cell of the tables.
    lines = [*map(neutral, _facts(result)), "", *map(neutral, _headline(result, options)), ""]
    timeline = rows(result, every=options.all_visits)
    lines.append(neutral(f"Timeline of {result.field} ({_counted(result, timeline)})"))
    lines.append(_timeline(result, timeline))
    lines.extend(_children_section(result))
    lines.extend(map(neutral, _logs_section(result, options)))
    return "\n".join(lines) + "\n"


def _facts(result: TraceResult) -> list[str]:
    info = result.execution
    status = info.status or "?"
    if info.start:
        stop = iso(info.stop) if info.stop else "(running)" if info.status == "RUNNING" else "?"
        status += f"   {iso(info.start)} -> {stop}"
    return [
        f"Execution  {info.arn or '(from file)'}",
        f"Status     {status}",
        f"Field      {result.field}",
    ]


def _headline(result: TraceResult, options: RenderOptions) -> list[str]:
    label = result.verdict.value.upper().replace("_", " ")
    text = verdict_sentence(result, result.field, result.final_source)
    lines = [f"Verdict    {label}: {text}"]
    if result.partial_verdict is not None:
        lines.append(f"           what could be seen says: {result.partial_verdict.value}")
    for unseen in result.unseen:
        where = (
            f"#{unseen.seq} {unseen.state} {unseen.document}"
            if unseen.seq is not None
            else unseen.document
        )
        lines.append(f"{'Unseen':<10} {where}: {unseen.reason}")
    if result.first_null is not None:
        lines.extend(_finding("Went null", result.first_null, show_value=True))
    if result.lost_at is not None:
        lines.extend(_finding("Last copy", result.lost_at, show_value=False))
    lines.extend(_chain(result))
    lines.extend(_confirmation(result))
    lines.extend(_drift(result))
    lines.extend(_attempts(result))
    lines.extend(_map_runs(result))
    shown: set[int] = set()
    for label, trace, own_lines in (
        ("Logs", result.first_null.trace if result.first_null else None, False),
        ("Consumer", result.consumer, True),
    ):
        if trace is None or trace.visit.seq in shown or trace.last_call is None:
            continue
        shown.add(trace.visit.seq)
        lines.extend(_headline_logs(label, trace, result.field, options, own_lines))
    for warning in result.warnings:
        lines.append(f"Note       {warning}")
    return lines


def _finding(label: str, finding: Finding, *, show_value: bool) -> list[str]:
    visit = finding.leaf.visit
    where = " > ".join(finding.scope)
    event = f"event {visit.exit_event_id}" + (" of the child" if finding.child else "")
    head = f"{label:<10} {where} ({visit.type}, {event})"
    if show_value and finding.last_value is not None:
        head += f": was {brief(finding.last_value, 60)}, became {finding.became}"
    elif not show_value:
        head += ": no set copy remained after it"
    body = _wrap(finding.explanation)
    return [head, *(f"{'':<10} {line}" for line in body)]


def _wrap(text: str) -> list[str]:
    """Neutral first (a newline in a name is shown, not wrapped away), then wrapped; names such
    as embedding-split-into-chunks-lambda-dev must not break at their hyphens."""
    return textwrap.wrap(neutral(text), width=WRAP, break_long_words=False, break_on_hyphens=False)


def _confirmation(result: TraceResult) -> list[str]:
    """--confirm: AWS TestState's verdict, one entry per culprit state."""
    if result.confirmation is None:
        return []
    if not result.confirmation:
        return ["TestState  no culprit state to confirm"]
    lines = []
    for number, item in enumerate(result.confirmation):
        text = f"{item.state} (#{item.seq}): {CONFIRMATION_WORDS[item.verdict.value]}"
        if item.verdict.value == "disagrees" and item.step:
            text += f" at {item.step}" + (f" {item.path}" if item.path else "")
        text += f": {item.reason}"
        if item.aws_steps:
            text += f". AWS: {aws_trail(item)}"
        body = _wrap(text)
        lines.append(f"{'TestState' if number == 0 else '':<10} {body[0]}")
        lines.extend(f"{'':<13}{line}" for line in body[1:])
    return lines


def _drift(result: TraceResult) -> list[str]:
    """--expect-definition: which states differ between what ran and the file."""
    drift = result.drift
    if drift is None:
        return []
    if drift.identical:
        return ["Definition the one that ran is the expected one (--expect-definition)"]
    lines = [f"Definition {len(drift.states)} state(s) differ from --expect-definition:"]
    for state in drift.states:
        keys = f" ({', '.join(state.keys)})" if state.keys else ""
        lines.append(f"{'':<11}{state.state}: {state.change.value}{keys}")
    if drift.machine_keys:
        lines.append(f"{'':<11}top-level keys differ: {', '.join(drift.machine_keys)}")
    return lines


def _chain(result: TraceResult) -> list[str]:
    """The blame chain, from the last reader back to where the value came from."""
    lines = []
    for number, hop in enumerate(result.chain):
        label = "Chain" if number == 0 else ""
        where = " > ".join(hop.scope)
        read = f" read {hop.read} = {brief(hop.value, 40)}" if hop.read else ""
        origin = f", written by {hop.written_by}" if hop.written_by else " (origin)"
        text = f"{where}{read}{origin}: {hop.expression or ''}".rstrip(": ")
        if hop.note:
            text += f"; {hop.note}"
        body = _wrap(text)
        arrow = "<-" if number else "  "
        lines.append(f"{label:<8}{arrow} {body[0]}")
        lines.extend(f"{'':<11}{line}" for line in body[1:])
    return lines


def _headline_logs(
    label: str, trace: VisitTrace, field: str, options: RenderOptions, handler_only: bool
) -> list[str]:
    """A visit's own log lines in the headline; for the consumer, its handler's lines only
    (what it did with what it was given, e.g. "No poll results to mark as complete")."""
    call = trace.last_call
    if call is None or call.logs is None:
        return []
    selected = [
        line for line in call.logs.lines if not (handler_only and _is_platform(line.message))
    ][: options.log_lines]
    head = f"{label + ':':<10} {trace.visit.state} ({call.invocation.function})"
    return [head, *(f"{'':<10} {_log_line(line.message, field)}" for line in selected)]


def _logs_section(result: TraceResult, options: RenderOptions) -> list[str]:
    """The Lambda lines of the visits that explain the finding (where the field went null,
    where its last copy went, the blame chain, the consumer), in visit order, under a heading
    naming the visit; then how many other invocations have lines (``all_logs``: every
    visit's, as before)."""
    if not result.logs_fetched:
        return []
    out = [
        "",
        f"Lambda logs (up to {options.log_lines} lines per invocation; all in --format json)",
    ]
    explaining = None if options.all_logs else _explaining(result)
    others = 0
    for trace in result.visits:
        if explaining is not None and trace.visit.seq not in explaining:
            others += sum(1 for call in trace.calls if call.logs is not None and call.logs.lines)
            continue
        for call in trace.calls:
            out += _invocation_logs(trace, call, result.field, options)
    if others:
        out.append(
            f"({others:,} other invocation{'s have' if others != 1 else ' has'} log lines: "
            "--all-logs shows them, --format json holds them all)"
        )
    return out


def _explaining(result: TraceResult) -> set[int]:
    """The visits whose logs the table shows by default."""
    seqs = {f.visit.seq for f in (result.first_null, result.lost_at) if f is not None}
    seqs |= {hop.seq for hop in result.chain}
    seqs |= {hop.written_by_seq for hop in result.chain if hop.written_by_seq is not None}
    if result.consumer is not None:
        seqs.add(result.consumer.visit.seq)
    return seqs


def _invocation_logs(
    trace: VisitTrace, call: LambdaCall, field: str, options: RenderOptions
) -> list[str]:
    invocation = call.invocation
    where = " > ".join(trace.visit.scope)
    attempt = f", attempt {invocation.attempt}" if len(trace.calls) > 1 else ""
    logs = call.logs
    rid = invocation.request_id or (logs.request_id if logs else None)
    how = f" (matched by {logs.matched_by.replace('_', ' ')})" if logs else ""
    out = [f"#{trace.visit.seq} {where}{attempt}: {invocation.function}  request {rid or '?'}{how}"]
    if logs is None or not logs.lines:
        out.append(f"    (no lines found in {call.log_group or 'its log group'})")
        return out
    for line in logs.lines[: options.log_lines]:
        out.append(f"    {_log_line(line.message, field)}")
    hidden = len(logs.lines) - options.log_lines
    if hidden > 0:
        out.append(f"    (+{hidden} more lines)")
    return out


def _is_platform(message: str) -> bool:
    return readable(message).startswith(("START", "END", "REPORT", "INIT_START"))


def _log_line(message: str, field: str) -> str:
    """One log line on one line; a ``*`` marks lines that mention the tracked field."""
    text = readable(message).replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    if len(text) > 160:
        text = text[:159] + "…"
    return ("* " if field in message else "  ") + text


def _attempts(result: TraceResult) -> list[str]:
    """One line per redrive attempt; the verdict is about the last one."""
    lines = []
    for attempt in result.attempts:
        label = "Attempts" if attempt.number == 1 else ""
        visits = _seqs(attempt.visits)
        text = (
            f"#{attempt.number} {attempt.status:<9} events {attempt.first_event_id}-"
            f"{attempt.last_event_id}, visits {visits}"
        )
        if attempt.rerun:
            text += f", reran {', '.join(attempt.rerun)}"
        if attempt.error:
            text += f": {attempt.error}"
        if attempt is result.attempts[-1]:
            text += "  <- the verdict is about this attempt"
        lines.append(f"{label:<10} {text}")
    return lines


def _seqs(seqs: tuple[int, ...]) -> str:
    if not seqs:
        return "none"
    if list(seqs) == list(range(seqs[0], seqs[-1] + 1)):
        return f"#{seqs[0]}" if len(seqs) == 1 else f"#{seqs[0]}-#{seqs[-1]}"
    return ", ".join(f"#{seq}" for seq in seqs)


def _map_runs(result: TraceResult) -> list[str]:
    """One line per Distributed Map run: where, how it ended, its counts, what was followed."""
    lines = []
    for run in result.map_runs:
        described = run.description
        counts = described.execution_counts if described else None
        text = f"{run.state} (event {run.event_id}): {run.status}"
        if counts is not None:
            text += f", child executions {counts.summary()}"
        if run.followed:
            text += f"; followed {len(run.children)} of {run.listed}"
        else:
            text += "; children not followed"
        lines.append(f"{'Map Run':<10} {text}")
        lines.append(f"{'':<10} {run.arn}")
    return lines


def _children_section(result: TraceResult) -> list[str]:
    """Per followed Map Run, one row per child: its item and what its own trace found."""
    out: list[str] = []
    for run in result.map_runs:
        if not run.children:
            continue
        rows = []
        for child in run.children:
            traced = child.result
            first = traced.first_null if traced else None
            lost = traced.lost_at if traced else None
            cells = [
                child.ref.name,
                child.status or "?",
                brief(child.ref.item_value, VALUE_WIDTH) if child.ref.item else "",
                child.item.status.value,
                traced.verdict.value if traced else f"(not read: {child.error})",
                " > ".join(first.scope) if first else "",
                " > ".join(lost.scope) if lost else "",
            ]
            rows.append([child.ref.number, *map(neutral, cells)])
        shown = f"{len(run.children)} of {run.listed}" if run.listed else str(len(run.children))
        out += ["", neutral(f"Children of {run.state} ({shown} followed, in start order)")]
        out.append(
            tabulate(
                rows,
                headers=[
                    "#",
                    "child",
                    "status",
                    "item",
                    "item field",
                    "verdict",
                    "went null",
                    "last copy",
                ],
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    return out


def _mark(finding: Finding, text: str) -> str:
    return f"{text} in child {finding.child.ref.number}" if finding.child else text


def _counted(result: TraceResult, timeline: list[Row]) -> str:
    """``3655 visits``; with collapsed rows, how many visits they hold and how to see each."""
    text = f"{len(result.visits)} visits"
    collapsed = [row for row in timeline if row.collapsed]
    if not collapsed:
        return text
    held = sum(len(row.traces) for row in collapsed)
    return (
        f"{text}, {held:,} of them collapsed into {len(collapsed):,} "
        f"row{'s' if len(collapsed) != 1 else ''} of visits that say the same; --all-visits "
        "shows each"
    )


def _timeline(result: TraceResult, timeline: list[Row]) -> str:
    marks: dict[int, str] = {}
    if result.first_null is not None:
        marks[result.first_null.visit.seq] = _mark(result.first_null, "<- went null")
    if result.lost_at is not None:
        seq = result.lost_at.visit.seq
        text = _mark(result.lost_at, "last copy")
        marks[seq] = (marks[seq] + ", " + text) if seq in marks else "<- " + text
    redriven = bool(result.attempts)
    attempt_of = {seq: a.number for a in result.attempts for seq in a.visits}
    table_rows: list[list[Any]] = []
    for row in timeline:
        trace = row.trace
        visit = trace.visit
        low, high = row.seqs
        state = neutral(cut(visit.state, NAME_CELL))
        table_rows.append(
            ([attempt_of.get(visit.seq, "")] if redriven else [])
            + [
                f"{low}…{high}" if row.collapsed else visit.seq,
                neutral(" > ".join(cut(part, NAME_CELL) for part in row.scope) or "-"),
                f"{state} ×{len(row.traces):,}" if row.collapsed else state,
                neutral(visit.type)
                + ("" if visit.outcome.value == "succeeded" else f" ({visit.outcome.value})"),
                trace.input.status.value,
                _cells(row, "input"),
                _status(trace),
                _cells(row, "output"),
                _changed(trace),
                marks.get(visit.seq, ""),
            ]
        )
    table: str = tabulate(
        table_rows,
        headers=(["try"] if redriven else [])
        + [
            "#",
            "scope",
            "state",
            "type",
            "input",
            "value in input",
            "output",
            "value in output",
            "changed",
            "finding",
        ],
        tablefmt="simple",
        disable_numparse=True,
    )
    return table


def _cells(row: Row, document: str) -> str:
    """The first visit's cell; for a collapsed row whose visits hold other values (each Map
    item its own), how many different cells its visits have."""
    cells = [_cell(getattr(trace, document)) for trace in row.traces]
    different = distinct(cells) if row.collapsed else 1
    if different == 1:
        return cells[0]
    return f"{cells[0]}\n({different:,} different in these visits)".lstrip("\n")


def _status(trace: VisitTrace) -> str:
    if not trace.visit.exited:
        return "-"
    return trace.output.status.value


def _changed(trace: VisitTrace) -> str:
    """``yes``, with the replayed step that did it when the definition says (``Parameters``)."""
    changed = trace.changed
    if changed is None:
        return "?"
    if not changed:
        return ""
    return f"yes ({trace.field_step.step.name})" if trace.field_step else "yes"


def _cell(snapshot: Snapshot) -> str:
    """One line per occurrence (each neutral: the cell's newlines are its own)."""
    if snapshot.status is Status.UNKNOWN:
        return neutral(f"({snapshot.reason})") if snapshot.reason else "?"
    if not snapshot.occurrences:
        return ""
    return "\n".join(neutral(_occurrence(o)) for o in snapshot.occurrences[:4]) + (
        f"\n(+{len(snapshot.occurrences) - 4} more)" if len(snapshot.occurrences) > 4 else ""
    )


def _occurrence(occurrence: Occurrence) -> str:
    """``$.poll_results_data.poll_results_s3_key: "poll_r…json"``: the member's own path (as
    the Markdown report and the CSV spell it), then its value."""
    return f"{short_path(occurrence.path)}: {brief(occurrence.value, VALUE_WIDTH)}"


# A path as ``format_path`` spells it: ``$``, then ``.name``, ``[3]`` or ``['any key']``.
_SEGMENT = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\]", re.DOTALL)


def short_path(path: str, width: int = PATH_WIDTH) -> str:
    """``path`` on one line, at most ``width`` characters unless its last segment alone is
    longer: the middle of the parent's path goes (``$.a.b…y.poll_results_s3_key``), never the
    last segment, so the field's name is always read whole."""
    path = neutral(path)
    if len(path) <= width:
        return path
    parent, last = _split_last(path)
    if not last:  # not spelled by format_path: cut the middle, as values are
        keep = max(width - len(ELLIPSIS), 2)
        head = (keep + 1) // 2
        return path[:head] + ELLIPSIS + path[len(path) - (keep - head) :]
    room = width - len(last) - len(ELLIPSIS)
    if room < 2:
        return (parent if len(parent) <= 1 else parent[:1] + ELLIPSIS) + last
    head = (room + 1) // 2
    return parent[:head] + ELLIPSIS + parent[len(parent) - (room - head) :] + last


def _split_last(path: str) -> tuple[str, str]:
    """``(parent path, last segment)``; the last segment is empty when ``path`` is not
    spelled as :func:`sfn_trace.trace.field.format_path` spells paths."""
    if not path.startswith("$"):
        return path, ""
    position = start = 1
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None:
            return path, ""
        start, position = match.start(), match.end()
    return path[:start], path[start:]
