"""The incident report: Markdown to paste into a GitHub issue or a Jira ticket.

Sections: a title with the verdict; the execution's facts with a console link; the finding
(where the field went null, where the last copy went, a Mermaid flowchart of the visits
(:mod:`sfn_trace.report.trace.mermaid`), the blame chain when the definition was replayed, its
origin row saying what wrote the value); a compact timeline (a GitHub-flavoured table); the
culprit state's documents trimmed around the field; the relevant Lambda log lines; the
command that reproduces the trace; next steps. Payloads are never dumped whole: the field's
occurrences are shown with their parent objects, everything else is summarised with a note
of what was cut.

Every value that comes from the execution is neutral first (:mod:`sfn_trace.report.neutral`:
control and bidi characters as visible escapes, a newline as ``\\n``), then escaped (code spans
with a long enough fence, ``\\|`` for pipes inside table cells, backslash escapes in prose),
so a state name or a payload cannot break the tables or the layout.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import datetime

from tabulate import tabulate

from sfn_trace.model import jsontext
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.result import Finding, Hop, TraceResult, Verdict, VisitTrace
from sfn_trace.model.snapshot import Occurrence, Snapshot, Status
from sfn_trace.model.text import brief
from sfn_trace.report.common import CONFIRMATION_WORDS, aws_trail, iso, verdict_sentence
from sfn_trace.report.links import console_link
from sfn_trace.report.neutral import neutral, neutral_json
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.trace import collapse
from sfn_trace.report.trace import mdtext as md
from sfn_trace.report.trace.advice import next_steps
from sfn_trace.report.trace.mermaid import ITERATIONS_SHOWN, cut, flowchart
from sfn_trace.report.trace.shared import culprit, log_lines, status_words
from sfn_trace.report.trace.trim import locate, trim

TIMELINE_MAX_ROWS = 60
VALUE_WIDTH = 40
NAME_CELL = 80
"""A state name in a table cell is cut to AWS's own limit on state names, 80 characters
(https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html): a name
from a crafted file cannot widen every row of a table."""
OCCURRENCES_SHOWN = 8
LOG_LINE_WIDTH = 300


def render(result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """``options.target``/``options.definition``: the TARGET and ``--definition`` as the user
    typed them, for the "reproduce" command (default: the execution ARN)."""
    blocks: list[str] = [
        f"# {_title(result)}",
        _verdict_line(result),
        "## Execution",
        _facts(result),
        "## Finding",
        *_finding_blocks(result),
    ]
    blocks += _flowchart_blocks(result)
    chain = _chain_table(result)
    if chain:
        blocks += ["### Blame chain", chain]
    blocks += _confirmation_blocks(result)
    blocks += [f"## Timeline of {md.code(result.field)}", *_timeline(result, options)]
    blocks += _attempt_blocks(result)
    blocks += _map_run_blocks(result)
    blocks += _culprit_blocks(result)
    blocks += _log_blocks(result, options.log_lines)
    blocks += ["## Reproduce", md.fenced(_command(result, options), "sh")]
    blocks += ["## Next steps", md.bullets(next_steps(result, options.definition))]
    return "\n\n".join(blocks) + "\n"


def _command(result: TraceResult, options: RenderOptions) -> str:
    target = options.target or result.execution.arn or "HISTORY_FILE"
    words = ["sfn-trace", shlex.quote(target), "--field", shlex.quote(result.field)]
    if options.definition:
        words += ["--definition", shlex.quote(options.definition)]
    followed = sum(len(run.children) for run in result.map_runs if run.followed)
    if followed:
        # The same count follows the same children again (the first ones in start order).
        words += ["--follow-children", str(followed)]
    if result.confirmation is not None:
        words.append("--confirm")
    return " ".join(words)


# --- title and facts -------------------------------------------------------------------------


def _title(result: TraceResult) -> str:
    field = md.code(result.field)
    verdict = result.verdict
    first, lost = result.first_null, result.lost_at
    if verdict is Verdict.LOST and first is not None:
        text = f"LOST: {field} went {first.became} in {md.code(first.leaf.visit.state)}"
        if first.child is not None:
            text += f" (child {first.child.ref.number} of {md.code(first.child.ref.map_state)})"
    elif verdict is Verdict.LOST and lost is not None:
        text = f"LOST: {field} was lost after {md.code(lost.visit.state)}"
    else:
        text = {
            Verdict.LOST: f"LOST: {field} was lost",
            Verdict.INTACT: f"INTACT: {field} reached the end set",
            Verdict.NEVER_SET: f"NEVER SET: {field} is never set",
            Verdict.ABSENT: f"ABSENT: no document holds {field}",
            Verdict.UNKNOWN: f"UNKNOWN: the history cannot tell what happened to {field}",
        }[verdict]
    name = _execution_name(result)
    return f"{text} (execution {md.code(name)})" if name else text


def _execution_name(result: TraceResult) -> str | None:
    info = result.execution
    if info.name:
        return info.name
    if info.arn:
        return info.arn.rsplit(":", 1)[-1]
    return None


def _verdict_line(result: TraceResult) -> str:
    sentence = verdict_sentence(result, md.code(result.field), md.text(result.final_source))
    line = f"**Verdict: {result.verdict.value}**: {sentence}."
    if result.partial_verdict is not None:
        line += f" What could be seen says: **{result.partial_verdict.value}**."
    return line


def _facts(result: TraceResult) -> str:
    info = result.execution
    facts = [
        ("Execution", md.code(info.arn) if info.arn else "(from a history file, ARN unknown)"),
    ]
    link = console_link(info.arn)
    if link.url is not None:
        facts.append(("Console", f"[open in the Step Functions console]({link.url})"))
    elif link.why_not is not None:
        facts.append(("Console", f"no link: {md.text(link.why_not)}"))
    if info.state_machine_arn:
        facts.append(("State machine", md.code(info.state_machine_arn)))
    facts.append(("Status", md.text(info.status or "unknown")))
    facts.append(("Started", iso(info.start) or "unknown"))
    facts.append(("Stopped", iso(info.stop) or ("(running)" if info.status == "RUNNING" else "?")))
    if info.start and info.stop:
        facts.append(("Duration", _duration(info.start, info.stop)))
    facts.append(("Field", md.code(result.field)))
    facts.append(("Visits", str(len(result.visits))))
    facts.append(
        (
            "Definition",
            "available" if result.definition_available else "not available (steps not explained)",
        )
    )
    if result.logs_fetched:
        facts.append(("Lambda logs", "fetched"))
    return md.bullets(f"**{label}:** {value}" for label, value in facts)


def _duration(start: datetime, stop: datetime) -> str:
    ms = round((stop - start).total_seconds() * 1000)
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.3f} s"
    seconds, _ = divmod(ms, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {seconds} s"


# --- the finding -----------------------------------------------------------------------------


def _finding_blocks(result: TraceResult) -> list[str]:
    blocks: list[str] = []
    if result.first_null is not None:
        blocks += _finding("Went null", result.first_null, show_value=True)
    if result.lost_at is not None:
        blocks += _finding("Last copy", result.lost_at, show_value=False)
    consumer = result.consumer
    if (
        result.verdict is Verdict.LOST
        and consumer is not None
        and consumer.parameters is not None
        and not consumer.parameters.has_set
    ):
        function = consumer.invocation.function if consumer.invocation else None
        who = f"{md.code(consumer.visit.state)}" + (f" ({md.code(function)})" if function else "")
        blocks.append(
            f"**Symptom:** {who}, the last Lambda handed {md.code(result.field)}, received "
            f"{status_words(consumer.parameters)} in its parameters."
        )
    if not blocks:
        blocks.append(
            {
                Verdict.INTACT: f"Nothing was lost: {md.code(result.field)} stays set to the end.",
                Verdict.ABSENT: f"{md.code(result.field)} never occurs: check the field name.",
                Verdict.NEVER_SET: f"{md.code(result.field)} only ever occurs as null.",
            }.get(result.verdict, "No visit could be named.")
        )
    if result.unseen:
        blocks.append("Documents that could not be seen:")
        blocks.append(
            md.bullets(
                (f"#{u.seq} {md.code(u.state)} " if u.seq is not None and u.state else "")
                + f"{md.text(u.document)}: {md.text(u.reason)}"
                for u in result.unseen
            )
        )
    if result.warnings:
        blocks.append("Notes:")
        blocks.append(md.bullets(md.text(w) for w in result.warnings))
    return blocks


def _finding(label: str, finding: Finding, *, show_value: bool) -> list[str]:
    visit = finding.leaf.visit
    where = md.code(" > ".join(finding.scope))
    event = visit.exit_event_id or (visit.end or visit.entered).id
    of_child = " of the child" if finding.child is not None else ""
    head = f"**{label}:** {where} ({md.text(visit.type)}, event {event}{of_child})"
    if show_value and finding.last_value is not None:
        head += f": was {md.code(brief(finding.last_value, 80))}, became {finding.became}"
        if finding.path:
            head += f" at {md.code(finding.path)}"
    elif not show_value:
        head += ": no set copy remained after it"
    return [head, md.text(finding.explanation, line_start=True)]


def _chain_table(result: TraceResult) -> str | None:
    if not result.chain:
        return None
    rows = []
    for number, hop in enumerate(result.chain, start=1):
        rows.append(
            [
                str(number),
                md.code(hop.state, table=True),
                md.code(hop.read or "", table=True),
                md.code(brief(hop.value, VALUE_WIDTH), table=True),
                md.code(hop.expression or "", table=True),
                md.code(hop.written_by, table=True) if hop.written_by else _origin(result, hop),
            ]
        )
    return _table(rows, ["#", "state", "read", "value", "expression", "written by"])


def _confirmation_blocks(result: TraceResult) -> list[str]:
    """--confirm: AWS TestState's verdict on each culprit state ("confirmed by AWS TestState"
    only where it is)."""
    if result.confirmation is None:
        return []
    intro = (
        "The culprit states are sent to AWS's own evaluator (`states:TestState`) with the "
        "definition that ran and their recorded input, context and variables, every Task "
        "mocked with its recorded result (nothing is invoked); a state that cannot be sent "
        "faithfully is not, and says why."
    )
    if not result.confirmation:
        return ["### AWS TestState", intro, "No culprit state to confirm."]
    rows = [
        [
            md.code(item.state, table=True),
            str(item.seq),
            md.text(CONFIRMATION_WORDS[item.verdict.value], table=True),
            md.code(item.step, table=True) if item.step else "",
            md.code(item.path, table=True) if item.path else "",
            md.text(item.reason, table=True),
            md.code(aws_trail(item), table=True) if item.aws_steps else "",
        ]
        for item in result.confirmation
    ]
    table = _table(
        rows, ["state", "#", "verdict", "step", "path", "reason", "field in AWS's steps"]
    )
    return ["### AWS TestState", intro, table]


_ORIGINS = {
    "input": "the execution input",
    "iteration": "the output of a Map iteration",
    "branch": "the output of a Parallel branch",
    "literal": "a literal in the definition",
}
NOTE_WIDTH = 80


def _origin(result: TraceResult, hop: Hop) -> str:
    """What wrote the value at the chain's origin (its hop names no state): the task result,
    the execution input, a literal, the context object, a variable... (chain.OriginKind)."""
    source, note = hop.source, hop.note
    trace = next((t for t in result.visits if t.visit.seq == hop.seq), None)
    if source == "result":
        return _task_result(trace)
    if source == "error":
        error = trace.visit.error if trace is not None else None
        return "the error output of a caught failure" + (
            f" ({md.code(error, table=True)})" if error else ""
        )
    if source in _ORIGINS:
        return _ORIGINS[source]
    if source == "computed" and note in (None, "computed"):
        return "computed by this state (its steps were not replayed)"
    if note:
        return md.text(cut(str(note), NOTE_WIDTH), table=True)
    return "(origin)"


def _task_result(trace: VisitTrace | None) -> str:
    """``the Lambda result (function)``, ``the task result (dynamodb:getItem)``."""
    if trace is not None and trace.invocation is not None:
        return f"the Lambda result ({md.code(trace.invocation.function, table=True)})"
    service = _service(trace) if trace is not None else None
    if service is None:
        return "the task result"
    what = "the Lambda result" if service.startswith("lambda:") else "the task result"
    return f"{what} ({md.code(service, table=True)})"


def _service(trace: VisitTrace) -> str | None:
    """``dynamodb:getItem``: the recorded resource type and resource, else the definition's."""
    attempts = trace.visit.attempts
    if attempts and attempts[-1].resource_type and attempts[-1].resource:
        return f"{attempts[-1].resource_type}:{attempts[-1].resource}"
    resource = trace.replay.resource if trace.replay is not None else None
    if not resource:
        return None
    return resource.split(":::", 1)[1] if ":::" in resource else resource.split(":", 2)[-1]


# --- the flowchart ---------------------------------------------------------------------------


def _flowchart_blocks(result: TraceResult) -> list[str]:
    chart = flowchart(result)
    if chart is None:
        return []
    field = md.code(result.field)
    notes = [
        f"One box per visit, numbered as in the timeline, coloured by the status of {field} in "
        "the visit's output (its second line says the same)."
    ]
    marked = {
        "a thick border marks where it went null": result.first_null,
        "a thick dashed border marks where its last set copy went": result.lost_at,
    }
    if any(finding is not None for finding in marked.values()):
        said = [text for text, finding in marked.items() if finding is not None]
        sentence = "; ".join(said)
        notes.append(f"{sentence[0].upper()}{sentence[1:]}.")
    if result.chain:
        notes.append(
            "Thick arrows follow the blame chain, labelled with the expression that read the value."
        )
    if chart.merged:
        notes.append(
            f"A Map with more than {ITERATIONS_SHOWN} iterations is drawn as one box per "
            "state, with counts."
        )
    if chart.hidden:
        notes.append(
            f'{chart.hidden:,} visits are grouped into "more visits" boxes; the CSV timeline '
            "(`--csv FILE`) has every visit."
        )
    return [f"### Flow of {field}", md.fenced(chart.text, "mermaid"), " ".join(notes)]


# --- timeline --------------------------------------------------------------------------------


def _timeline(result: TraceResult, options: RenderOptions) -> list[str]:
    """The table's rows (:mod:`sfn_trace.report.trace.collapse`: a run of visits that say the
    same is one row), at most :data:`TIMELINE_MAX_ROWS` (beyond, the rows that say something:
    the collapsed ones, the findings, where the field changed); when rows are collapsed,
    every visit in a collapsed ``<details>`` block."""
    marks = _marks(result)
    timeline = collapse.rows(result, every=options.all_visits)
    shown = timeline
    if len(shown) > TIMELINE_MAX_ROWS:
        shown = [
            row
            for row in shown
            if row.collapsed or row.trace.visit.seq in marks or row.trace.changed is not False
        ][:TIMELINE_MAX_ROWS]
    omitted = len(result.visits) - sum(len(row.traces) for row in shown)
    rows = [_timeline_row(row, marks) for row in shown]
    headers = ["#", "state", "type", "input", "output", "value in output", "changed", "note"]
    blocks = [_table(rows, headers)]
    if omitted:
        blocks.append(
            f"({omitted:,} visits where {md.code(result.field)} did not change are not shown; "
            "the CSV timeline (`--csv FILE`) has every visit.)"
        )
    collapsed = [row for row in timeline if row.collapsed]
    if collapsed:
        held = sum(len(row.traces) for row in collapsed)
        blocks.insert(
            0,
            f"{held:,} of the {len(result.visits):,} visits are collapsed into "
            f"{len(collapsed):,} row{'s' if len(collapsed) != 1 else ''}: the visits of one "
            "state, in a row, that say the same about the field (its status and where it "
            "is, the change the state made; the values may differ from item to item). The "
            "findings, the blame chain, each change of status and the first and last visits "
            "are never collapsed.",
        )
        blocks += _every_visit(result, marks)
    return blocks


def _marks(result: TraceResult) -> dict[int, str]:
    marks: dict[int, str] = {}
    if result.first_null is not None:
        marks[result.first_null.visit.seq] = _mark(result.first_null, "← went null")
    if result.lost_at is not None:
        seq = result.lost_at.visit.seq
        text = _mark(result.lost_at, "last copy")
        marks[seq] = f"{marks[seq]}, {text}" if seq in marks else f"← {text}"
    return marks


def _timeline_row(row: collapse.Row, marks: dict[int, str]) -> list[str]:
    trace = row.trace
    visit = trace.visit
    note = marks.get(visit.seq, "")
    if visit.outcome.value != "succeeded":
        note = f"{note}; {visit.outcome.value}" if note else visit.outcome.value
    where = " > ".join(cut(part, NAME_CELL) for part in (*row.scope, visit.state))
    output = _cell(trace.output)
    number = str(visit.seq)
    if row.collapsed:
        low, high = row.seqs
        number = f"{low}…{high}"
        where_cell = f"{md.code(where, table=True)} ×{len(row.traces):,}"
        different = collapse.distinct(_cell(t.output) for t in row.traces)
        if different > 1:
            output += f" ({different:,} different in these visits)"
    else:
        where_cell = md.code(where, table=True)
    return [
        number,
        where_cell,
        md.text(visit.type, table=True),
        trace.input.status.value,
        trace.output.status.value if visit.exited else "-",
        output,
        {None: "?", True: "yes", False: ""}[trace.changed],
        md.text(note, table=True),
    ]


DETAILS_BUDGET = 25_000
"""Characters of the every-visit list: GitHub takes at most 65,536 characters in an issue or
a comment ("Body is too long (maximum is 65536 characters)",
https://docs.github.com/rest/issues/comments#create-an-issue-comment), and the rest of a
report on a big execution takes up to about half of that."""


def _every_visit(result: TraceResult, marks: dict[int, str]) -> list[str]:
    """Every visit, one compact row each (no values), in a ``<details>`` block that GitHub
    and GitLab show closed; as many as :data:`DETAILS_BUDGET` allows, the rest told."""
    headers = ["#", "state", "type", "input", "output", "changed", "note"]
    rows: list[list[str]] = []
    for trace in result.visits:
        visit = trace.visit
        note = marks.get(visit.seq, "")
        if visit.outcome.value != "succeeded":
            note = f"{note}; {visit.outcome.value}" if note else visit.outcome.value
        rows.append(
            [
                str(visit.seq),
                md.code(" > ".join(cut(part, NAME_CELL) for part in visit.scope), table=True),
                md.text(visit.type, table=True),
                trace.input.status.value,
                trace.output.status.value if visit.exited else "-",
                {None: "?", True: "yes", False: ""}[trace.changed],
                md.text(note, table=True),
            ]
        )
    table = _table(rows, headers)
    # Every line of a table is as wide as the widest row: as many rows as the budget holds.
    width = len(table.split("\n", 1)[0]) + 1
    fits = max(DETAILS_BUDGET // width - 2, 1)
    if fits < len(rows):
        rows = rows[:fits]
        table = _table(rows, headers)
    counted = f"{len(rows):,} of {len(result.visits):,}" if fits < len(result.visits) else ""
    blocks = [
        f"<details>\n<summary>Every visit, one row each ({counted or f'{len(rows):,}'})</summary>",
        table,
    ]
    if len(rows) < len(result.visits):
        blocks.append(
            f"(The other {len(result.visits) - len(rows):,} visits would make the report too "
            "long to paste: the CSV timeline (`--csv FILE`) has every visit.)"
        )
    return [*blocks, "</details>"]


def _mark(finding: Finding, text: str) -> str:
    return f"{text} in child {finding.child.ref.number}" if finding.child else text


# --- redrive attempts and Distributed Map runs -------------------------------------------------


def _attempt_blocks(result: TraceResult) -> list[str]:
    if not result.attempts:
        return []
    rows = [
        [
            str(a.number),
            md.text(a.status, table=True),
            f"{a.first_event_id}–{a.last_event_id}",
            ", ".join(f"#{seq}" for seq in a.visits) or "none",
            md.code(", ".join(a.rerun), table=True) if a.rerun else "",
            md.code(a.error, table=True) if a.error else "",
        ]
        for a in result.attempts
    ]
    last = result.attempts[-1]
    return [
        "## Redrive attempts",
        f"The execution was redriven {len(result.attempts) - 1} time(s). The verdict is about "
        f"attempt {last.number} ({md.text(last.status)}); states that succeeded in earlier "
        "attempts were not rerun, and their outputs carried on into the later ones.",
        _table(rows, ["attempt", "status", "events", "visits", "reran", "error"]),
    ]


def _map_run_blocks(result: TraceResult) -> list[str]:
    if not result.map_runs:
        return []
    blocks = ["## Distributed Map runs"]
    for run in result.map_runs:
        counts = run.description.execution_counts if run.description else None
        line = f"{md.code(run.state)} (event {run.event_id}) started Map Run {md.code(run.arn)}: "
        line += md.text(run.status)
        if counts is not None:
            line += f", child executions {md.text(counts.summary())}"
        blocks.append(line + ".")
        if not run.followed:
            why = f" ({md.text(run.note)})" if run.note else ""
            blocks.append(f"Its child executions were not followed{why}. Follow them with:")
            blocks.append(md.fenced(run.follow_command, "sh"))
            continue
        rows = []
        for child in run.children:
            traced = child.result
            first = traced.first_null if traced else None
            rows.append(
                [
                    str(child.ref.number),
                    md.code(child.ref.name, table=True),
                    md.text(child.status or "?", table=True),
                    md.code(brief(child.ref.item_value, VALUE_WIDTH), table=True)
                    if child.ref.item
                    else "",
                    child.item.status.value,
                    traced.verdict.value
                    if traced
                    else md.text(f"not read: {child.error}", table=True),
                    md.code(" > ".join(first.scope), table=True) if first else "",
                ]
            )
        blocks.append(
            f"Followed {len(run.children)} of {run.listed} child executions, in start order:"
        )
        if rows:
            blocks.append(
                _table(rows, ["#", "child", "status", "item", "item field", "verdict", "went null"])
            )
    return blocks


def _cell(snapshot: Snapshot) -> str:
    if snapshot.status is Status.UNKNOWN:
        return md.text(f"({snapshot.reason})" if snapshot.reason else "?", table=True)
    shown = [_occurrence(o) for o in snapshot.occurrences[:3]]
    if len(snapshot.occurrences) > 3:
        shown.append(f"(+{len(snapshot.occurrences) - 3} more)")
    return "; ".join(shown)


def _occurrence(occurrence: Occurrence) -> str:
    return (
        f"{md.code(occurrence.path, table=True)} "
        f"{md.code(brief(occurrence.value, VALUE_WIDTH), table=True)}"
    )


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    table: str = tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)
    return table


# --- the culprit's documents -----------------------------------------------------------------


def _culprit_blocks(result: TraceResult) -> list[str]:
    finding = culprit(result)
    if finding is None:
        return []
    trace, field = finding.trace, result.field
    visit = trace.visit
    blocks = [f"## The culprit: {md.code(visit.state)}"]
    outer = result.first_null or result.lost_at
    scope = outer.scope if outer is not None else visit.scope
    if scope[:-1]:
        blocks.append(f"Inside {md.code(' > '.join(scope[:-1]))}.")
    documents: list[tuple[str, Payload | None]] = [
        (f"Input (event {visit.entered.id})", visit.input)
    ]
    if trace.parameters is not None and trace.parameters.occurrences:
        documents.append(("Effective parameters (sent to the task)", visit.parameters))
    if trace.result is not None and trace.result.status is not Status.MISSING:
        documents.append(("Task result (raw, before ResultSelector)", visit.result))
    if visit.exited:
        documents.append((f"Output (event {visit.exit_event_id})", visit.output))
    for title, payload in documents:
        blocks.append(f"### {title}")
        blocks += _document(payload, field)
    return blocks


def _document(payload: Payload | None, field: str) -> list[str]:
    if payload is None:
        return ["(not recorded in the history)"]
    if payload.truncated:
        return ["(truncated in the history: not shown)"]
    document = payload.value
    if document is NOT_JSON:
        return [f"({payload.unreadable}: {len(payload.text):,} characters, not shown)"]
    paths = list(locate(document, field))
    shown = paths[:OCCURRENCES_SHOWN]
    blocks = []
    if not paths:
        blocks.append(f"{md.code(field)} does not occur in this document; its top level:")
    view, trimmed = trim(document, shown)
    shown_json = neutral_json(jsontext.dumps(view, indent=2, ensure_ascii=False))
    blocks.append(md.fenced(shown_json, "json"))
    notes = []
    if len(paths) > len(shown):
        notes.append(f"{len(paths) - len(shown):,} more occurrences not shown")
    if trimmed:
        whole = f"the whole document is {len(payload.text):,} characters"
        notes.append(f"trimmed around {md.code(field)}: {whole}")
    if notes:
        blocks.append(f"({'; '.join(notes)}.)")
    return blocks


# --- logs ------------------------------------------------------------------------------------


def _log_blocks(result: TraceResult, shown_lines: int) -> list[str]:
    relevant: list[VisitTrace] = []
    for finding in (result.first_null, result.lost_at):
        if finding is not None:
            relevant.append(finding.trace)
    if result.consumer is not None:
        relevant.append(result.consumer)
    blocks: list[str] = []
    seen: set[int] = set()
    for trace in relevant:
        if trace.visit.seq in seen:
            continue
        seen.add(trace.visit.seq)
        lines = log_lines(trace)
        if not lines:
            continue
        invocation = trace.invocation
        head = f"### {md.code(trace.visit.state)}"
        if invocation is not None:
            head += f" ({md.code(invocation.function)}"
            head += f", request {md.code(invocation.request_id)})" if invocation.request_id else ")"
        shown = [
            neutral(line)
            if len(line) <= LOG_LINE_WIDTH
            else neutral(line[: LOG_LINE_WIDTH - 1]) + "…"
            for line in lines[:shown_lines]
        ]
        blocks += [head, md.fenced("\n".join(shown), "text")]
        if len(lines) > shown_lines:
            blocks.append(f"(… {len(lines) - shown_lines:,} more lines)")
    return ["## Lambda log lines", *blocks] if blocks else []
