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
        return table(linted[0].findings, field) + _cut(linted[0].cut) + "\n"
    sections = []
    for each in linted:
        if each.error:
            body = neutral(f"unreadable: {each.error}")
        else:
            body = table(each.findings, field) + _cut(each.cut)
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


def _cut(cut: str | None) -> str:
    """The last paragraph when the lint stopped before it found everything."""
    return "" if cut is None else "\n\n" + neutral(f"The lint {cut}.")
