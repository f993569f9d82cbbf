"""What each tool does: one :mod:`sfn_trace.api` call, its report, the headline lines.

Each function here is synchronous (the server runs it on a worker thread), takes the
tool's arguments, and returns an :class:`Answer`: the structured content (cut to the
budget by :mod:`.budget`) and the text content. Failures are the library's own
:class:`~sfn_trace.api.SfnTraceError` (message and exit code), which the server turns into
a tool error. The report is the command line's JSON report, rendered by ``api.render``.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sfn_trace import api
from sfn_trace.mcp import budget as fitting
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.jsontext import loads

HEADLINE_CHARS = 400
"""The longest a headline line is (an explanation is cut there: the JSON holds all of it)."""

SAMPLES = 3
"""Execution ARNs shown per culprit state of a scan."""


@dataclass(frozen=True)
class Answer:
    content: dict[str, Any]
    """The structured content."""
    text: str
    """The text content: headline lines, then the JSON (the incident report: the Markdown)."""


class Progress(Protocol):
    """Where a tool reports what it has done so far (and learns that it was cancelled: each
    call raises when it was)."""

    def page(self, pages: int, events: int) -> None: ...

    def listed(self, executions: int) -> None: ...

    def scanned(self, done: int, total: int, row: object) -> None: ...


def _line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= HEADLINE_CHARS else flat[: HEADLINE_CHARS - 1] + "…"


def _report(result: Any) -> dict[str, Any]:
    """The JSON report of a result, as the command line writes it with ``--format json``."""
    report: dict[str, Any] = loads(api.render(result, "json"))
    return report


def _not_stdin(*names_and_values: tuple[str, str | None]) -> None:
    """A path of ``-`` reads stdin on the command line; here stdin is the protocol's."""
    for name, value in names_and_values:
        if value is not None and value.strip() == "-":
            raise api.UsageError(
                f"{name} '-' would read stdin, which carries the protocol here: give the "
                "path of a file, or an ARN"
            )


def _trace(
    target: str,
    field: str,
    definition: str | None,
    aws: api.AwsOptions,
    progress: Progress,
    *,
    logs: bool = True,
    redact: bool = False,
    confirm: bool = False,
) -> api.TraceRun:
    _not_stdin(("target", target), ("definition", definition))
    return api.trace(
        target,
        field,
        definition=definition or None,
        aws=aws,
        on_page=progress.page,
        logs=logs,
        redact=redact,
        confirm=confirm,
    )


# --- trace_field ---------------------------------------------------------------------------


def trace_field(
    target: str,
    field: str,
    *,
    definition: str | None,
    confirm: bool,
    redact: bool,
    budget: int,
    aws: api.AwsOptions,
    progress: Progress,
) -> Answer:
    if confirm:
        run = _trace(target, field, definition, aws, progress, redact=redact, confirm=True)
        report, exit_code = _report(run), int(run.result.exit_code)
    else:
        logs = looks_like_arn(target)
        report, exit_code = _traced(target, field, definition, aws, progress, logs, redact)
        report = dict(report)  # the kept one stays whole
    visits = report["visits"]
    pointed = {
        finding["seq"]
        for finding in (report["first_null"], report["lost_at"])
        if finding is not None and finding["child"] is None
    }
    report["visits"] = [visit for visit in visits if visit["seq"] in pointed]
    content = {
        "report": report,
        "visits_total": len(visits),
        "exit_code": exit_code,
    }
    fitted, text = fitting.fit(content, _trace_headline, budget, keep=("visits_total", "exit_code"))
    return Answer(fitted, text)


def verdict_lines(report: dict[str, Any], exit_code: int) -> list[str]:
    """The verdict, where the field went null and by which expression, where the last
    copy went, and the culprit's log lines: what the model reads first."""
    execution = report["execution"]
    name = execution["name"] or execution["arn"] or "the execution"
    status = execution["status"] or "status unknown"
    lines = [f"{report['field']}: {report['verdict']} (exit {exit_code}) in {name} ({status})"]
    by_seq = {visit["seq"]: visit for visit in report.get("visits", ())}
    first_null, lost_at = report["first_null"], report["lost_at"]
    if first_null is not None:
        lines.append(
            _line(
                f"went null: {first_null['state']} ({first_null['type']}, visit "
                f"{first_null['seq']}): {first_null['explanation']}"
            )
        )
        expression = _expression(first_null, by_seq.get(first_null["seq"]), report["chain"])
        if expression:
            lines.append(_line(f"expression: {expression}"))
    if lost_at is not None:
        lines.append(
            _line(
                f"last copy: {lost_at['state']} ({lost_at['type']}, visit {lost_at['seq']}): "
                f"{lost_at['explanation']}"
            )
        )
    if report["verdict"] == "unknown" and report["unseen"]:
        unseen = report["unseen"][0]
        lines.append(
            _line(f"not seen: {unseen['document']} of {unseen['state']}: {unseen['reason']}")
        )
    for finding in (first_null, lost_at):
        visit = by_seq.get(finding["seq"]) if finding is not None else None
        log = _log_line(visit, report["field"]) if visit is not None else None
        if log is not None:
            lines.append(_line(f"log ({visit['state']}): {log}"))  # type: ignore[index]
    return lines


def _expression(
    finding: dict[str, Any], visit: dict[str, Any] | None, chain: list[dict[str, Any]]
) -> str | None:
    step = visit.get("field_step") if visit is not None else None
    if isinstance(step, dict) and step.get("expression"):
        return f"{step['step']} {step['expression']}"
    for hop in reversed(chain):  # the origin comes last
        if hop["state"] == finding["state"] and hop.get("expression"):
            return str(hop["expression"])
    return None


def _log_line(visit: dict[str, Any], field: str) -> str | None:
    """The culprit's log line that names the field, else its first one."""
    lambda_ = visit.get("lambda")
    lines = lambda_.get("log_lines") if isinstance(lambda_, dict) else None
    if not lines:
        return None
    texts = [
        line if isinstance(line, str) else fitting.text_of([], {"line": line}) for line in lines
    ]
    return next((text for text in texts if field in text), texts[0])


def _cut_note(content: dict[str, Any]) -> list[str]:
    cuts = content.get("truncated") or []
    if not cuts:
        return []
    return [f"cut to fit the budget: {len(cuts)} cut(s), each listed in truncated"]


def _trace_headline(content: dict[str, Any]) -> list[str]:
    return verdict_lines(content["report"], content["exit_code"]) + _cut_note(content)


# --- trace_visits --------------------------------------------------------------------------


def trace_visits(
    target: str,
    field: str,
    *,
    definition: str | None,
    state: str | None,
    cursor: str | None,
    redact: bool,
    budget: int,
    aws: api.AwsOptions,
    progress: Progress,
) -> Answer:
    start = _visit_cursor(cursor)
    report, exit_code = _traced(target, field, definition, aws, progress, False, redact)
    visits = report["visits"]
    matching = [v for v in visits if v["state"] == state] if state else visits
    if state and not matching:
        names = sorted({v["state"] for v in visits})
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise api.UsageError(f"no visit of a state named {state!r}; the states visited: {shown}")
    rest = [v for v in matching if v["seq"] >= start]

    def cursor_of(taken: int) -> str | None:
        return str(rest[taken]["seq"]) if taken < len(rest) else None

    content = {
        "execution": report["execution"],
        "field": report["field"],
        "verdict": report["verdict"],
        "visits_total": len(visits),
        "visits_matching": len(matching),
        "exit_code": exit_code,
    }

    def headline(page: dict[str, Any]) -> list[str]:
        shown = page["visits"]
        which = f" of state {state}" if state else ""
        span = (
            f"visits {shown[0]['seq']}-{shown[-1]['seq']}: {len(shown)} of the "
            f"{page['visits_matching']} visits{which} ({page['visits_total']} in all)"
            if shown
            else f"no visit{which} from {start} on ({page['visits_total']} in all)"
        )
        more = (
            f"next page: cursor {page['next_cursor']!r}"
            if page["next_cursor"] is not None
            else "last page"
        )
        return [
            f"{page['field']}: {page['verdict']} (exit {page['exit_code']})",
            span,
            more,
            *_cut_note(page),
        ]

    fitted, text, _ = fitting.page(content, "visits", rest, headline, budget, cursor_of)
    return Answer(_ordered(fitted, ("execution", "field", "verdict", "visits")), text)


_RECENT: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], int]] = OrderedDict()
_RECENT_LOCK = threading.Lock()
KEPT_TRACES = 2
"""The trace reports kept in memory, so that paging through a history (trace_visits after
trace_field) traces it once."""
SETTLED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def _traced(
    target: str,
    field: str,
    definition: str | None,
    aws: api.AwsOptions,
    progress: Progress,
    logs: bool,
    redact: bool,
) -> tuple[dict[str, Any], int]:
    """The trace report of ``target`` and its exit code: kept from an earlier call when the
    files are unchanged, or the execution had ended; else traced (and kept)."""
    key = (target, field, definition, logs, redact, aws, _identity(target), _identity(definition))
    with _RECENT_LOCK:
        kept = _RECENT.get(key)
        if kept is not None:
            _RECENT.move_to_end(key)
            return kept
    run = _trace(target, field, definition, aws, progress, logs=logs, redact=redact)
    traced = (_report(run), int(run.result.exit_code))
    if not looks_like_arn(target) or traced[0]["execution"]["status"] in SETTLED:
        with _RECENT_LOCK:
            _RECENT[key] = traced
            while len(_RECENT) > KEPT_TRACES:
                _RECENT.popitem(last=False)
    return traced


def _identity(path: str | None) -> tuple[int, int, int] | None:
    """What tells a file changed (None: an ARN, no path, or not a regular file: a pipe
    is read again)."""
    if not path or looks_like_arn(path):
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _visit_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 1
    text = cursor.strip()
    if not text.isdigit() or int(text) < 1:
        raise api.UsageError(
            f"cursor {cursor!r} is not one trace_visits gave: pass the next_cursor of the "
            "page before, or no cursor for the first page"
        )
    return int(text)


def _ordered(content: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: content[k] for k in first}, **content}


# --- scan_field_loss -----------------------------------------------------------------------


def scan_field_loss(
    state_machine_arn: str,
    field: str,
    *,
    status: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    cursor: str | None,
    budget: int,
    aws: api.AwsOptions,
    progress: Progress,
) -> Answer:
    result = api.scan(
        state_machine_arn,
        field,
        status=status,
        since=since or None,
        until=cursor or until or None,
        limit=limit,
        aws=aws,
        on_listed=progress.listed,
        on_progress=progress.scanned,
    )
    report = _report(result)
    rows = report["executions"]
    samples = []
    for culprit in report["summary"]["culprits"]:
        arns = [
            row["arn"]
            for row in rows
            if row["first_null"] is not None and row["first_null"]["state"] == culprit["state"]
        ]
        samples.append(
            {"state": culprit["state"], "executions": culprit["executions"], "arns": arns[:SAMPLES]}
        )
    starts = [row["start"] for row in rows if row["start"]]
    next_cursor = _before(min(starts)) if report["truncated"] and starts else None
    content = {
        "report": report,
        "samples": samples,
        "next_cursor": next_cursor,
        "exit_code": int(result.exit_code),
    }

    def headline(fitted: dict[str, Any]) -> list[str]:
        summary = fitted["report"]["summary"]
        lines = [
            f"{fitted['report']['field']}: {summary['lost_the_field']} of "
            f"{summary['executions']} executions lost it (exit {fitted['exit_code']}); "
            f"{summary['unreadable']} could not be read"
        ]
        lines += [
            _line(f"went null at {each['state']}: {each['executions']} ({', '.join(each['arns'])})")
            for each in samples
        ]
        if fitted["next_cursor"] is not None:
            lines.append(f"more matched: cursor {fitted['next_cursor']!r} scans older ones")
        return lines + _cut_note(fitted)

    fitted, text = fitting.fit(
        content, headline, budget, keep=("samples", "next_cursor", "exit_code")
    )
    return Answer(fitted, text)


def _before(start: str) -> str:
    """The moment 1 ms before ``start`` (ISO 8601 with a Z), the next scan's ``until``."""
    moment = datetime.fromisoformat(start.replace("Z", "+00:00")) - timedelta(milliseconds=1)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- compare_executions, lint_definition ---------------------------------------------------


def compare_executions(
    good: str,
    bad: str,
    field: str,
    *,
    definition: str | None,
    budget: int,
    aws: api.AwsOptions,
    progress: Progress,
) -> Answer:
    _not_stdin(("good", good), ("bad", bad), ("definition", definition))
    comparison = api.compare(good, bad, field, definition=definition or None, aws=aws)
    report = _report(comparison)
    content = {"report": report, "exit_code": int(comparison.exit_code)}

    def headline(fitted: dict[str, Any]) -> list[str]:
        divergence = report["divergence"]
        if divergence is None:
            first = f"{field}: no divergence (exit {fitted['exit_code']})"
        else:
            first = _line(
                f"{field}: the runs part at {_describe(divergence)} (exit {fitted['exit_code']})"
            )
        return [first, *_cut_note(fitted)]

    fitted, text = fitting.fit(content, headline, budget, keep=("exit_code",))
    return Answer(fitted, text)


def _describe(divergence: Any) -> str:
    if isinstance(divergence, dict):
        parts = [
            f"{k} {v}" for k, v in divergence.items() if isinstance(v, (str, int)) and k != "path"
        ]
        return ", ".join(parts[:4])
    return str(divergence)


def lint_definition(
    definition: str, field: str, *, budget: int, aws: api.AwsOptions, progress: Progress
) -> Answer:
    """The lint of one definition: a file, or a state machine ARN (read from AWS)."""
    _not_stdin(("definition", definition))
    given = definition.strip() if looks_like_arn(definition.strip()) else definition
    lint = api.lint([given], field, aws=aws)
    checked = lint.definitions[0]
    if checked.error is not None:
        failure = api.AwsError if checked.error_code == api.ExitCode.AWS else api.UsageError
        raise failure(checked.error)
    report = _report(lint)
    rule_ids = [cause["rule"] for cause in report["findings"]]
    content = {"report": report, "rule_ids": rule_ids, "exit_code": int(lint.exit_code)}

    def headline(fitted: dict[str, Any]) -> list[str]:
        causes = report["findings"]
        first = (
            f"{field}: {len(causes)} state step(s) can drop it in {given} "
            f"(exit {fitted['exit_code']})"
        )
        rules = [
            _line(
                f"{cause['rule']}: {cause['dropper']} ({cause['step']}) can drop it before "
                f"{', '.join(r['reader'] for r in cause['readers'])}: "
                f"{'; '.join(cause['reasons'])}"
            )
            for cause in causes[:5]
        ]
        return [first, *rules, *_cut_note(fitted)]

    fitted, text = fitting.fit(content, headline, budget, keep=("rule_ids", "exit_code"))
    return Answer(fitted, text)


# --- incident_report -----------------------------------------------------------------------


def incident_report(
    target: str,
    field: str,
    *,
    definition: str | None,
    confirm: bool,
    redact: bool,
    budget: int,
    aws: api.AwsOptions,
    progress: Progress,
) -> Answer:
    run = _trace(target, field, definition, aws, progress, redact=redact, confirm=confirm)
    report = _report(run)
    options = api.RenderOptions(target=target, definition=definition or None)
    markdown = api.render(run, "markdown", options)
    exit_code = int(run.result.exit_code)
    headline = verdict_lines(report, exit_code)
    content: dict[str, Any] = {
        "execution": report["execution"],
        "field": report["field"],
        "verdict": report["verdict"],
        "markdown": markdown,
        "exit_code": exit_code,
        "truncated": [],
    }
    # The text is the headline and the Markdown as it is, to paste; the budget bounds both
    # it and the structured content (the Markdown escaped as a JSON string).
    room = budget - len(fitting.text_of(headline, {**content, "markdown": ""})) - 200
    longest = _escaped_room(markdown, max(0, room))
    if len(markdown) > longest:
        content["truncated"] = [{"path": "/markdown", "cut": "text", "chars": len(markdown)}]
        content["markdown"] = f"{markdown[:longest]}… [truncated: {len(markdown)} chars]"
        headline = [*headline, *_cut_note(content)]
    return Answer(content, "\n".join(headline) + "\n\n" + content["markdown"])


def _escaped_room(markdown: str, room: int) -> int:
    """How many characters of ``markdown`` fit in ``room`` once escaped as a JSON string."""
    low, high = 0, len(markdown)
    while low < high:
        middle = (low + high + 1) // 2
        if len(fitting.text_of([], {"": markdown[:middle]})) - 10 <= room:
            low = middle
        else:
            high = middle - 1
    return low


TOOLS: dict[str, Callable[..., Answer]] = {
    "trace_field": trace_field,
    "trace_visits": trace_visits,
    "scan_field_loss": scan_field_loss,
    "compare_executions": compare_executions,
    "lint_definition": lint_definition,
    "incident_report": incident_report,
}
