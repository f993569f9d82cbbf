"""The table of ``sfn-trace lint``: one paragraph per finding (one section per definition
when there are several)."""

from __future__ import annotations

from collections.abc import Sequence

from sfn_trace.checks.lint import LintFinding, LintReport
from sfn_trace.report.neutral import neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions


def render(report: LintReport, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    linted, field = report.definitions, report.field
    if len(linted) == 1:
        return table(linted[0].findings, field) + "\n"
    sections = []
    for each in linted:
        body = neutral(f"unreadable: {each.error}") if each.error else table(each.findings, field)
        sections.append(f"== {neutral(str(each.source))}\n{body}")
    return "\n\n".join(sections) + "\n"


def table(findings: Sequence[LintFinding], field: str) -> str:
    """One line per sentence: names, paths and expressions in them are neutral."""
    if not findings:
        return neutral(f"No path lets a state drop {field} before a state that reads it.")
    lines = [f"{len(findings)} way(s) {field} can be dropped before it is read:"]
    for number, finding in enumerate(findings, start=1):
        lines += [
            "",
            f"{number}. {finding.reader} reads {finding.read}: {finding.expression}",
            f"   {finding.dropper} can drop it: {finding.reason}",
            f"   path: {' -> '.join(finding.path)}",
            f"   fix: {finding.hint}",
        ]
    return "\n".join(neutral(line) for line in lines)
