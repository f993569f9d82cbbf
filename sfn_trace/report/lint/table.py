"""The table of ``sfn-trace lint``: one paragraph per cause, the state and step that can drop
the field, with every reader it affects (one section per definition when there are
several); suppressed causes last, one line each. No line is printed twice: a cause's lines
name its dropper and step, a reader's line its path from the dropper."""

from __future__ import annotations

from collections.abc import Sequence

from sfn_trace.checks.lint import LintReport
from sfn_trace.checks.lint_causes import LintCause, severity_counts
from sfn_trace.report.neutral import neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions


def render(report: LintReport, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    linted, field = report.definitions, report.field
    if len(linted) == 1:
        return table(linted[0].causes, field) + _cut(linted[0].cut) + "\n"
    sections = []
    for each in linted:
        if each.error:
            body = neutral(f"unreadable: {each.error}")
        else:
            body = table(each.causes, field) + _cut(each.cut)
        sections.append(f"== {neutral(str(each.source))}\n{body}")
    return "\n\n".join(sections) + "\n"


def table(causes: Sequence[LintCause], field: str) -> str:
    """One line per sentence: names, paths and expressions in them are neutral."""
    shown = [cause for cause in causes if cause.suppressed is None]
    hidden = [cause for cause in causes if cause.suppressed is not None]
    lines: list[str] = []
    if not shown:
        lines.append(f"No path lets a state drop {field} before a state that reads it.")
    else:
        tally = ", ".join(f"{n} {s}(s)" for s, n in severity_counts(shown).items() if n)
        lines.append(f"{len(shown)} state step(s) can drop {field} before it is read ({tally}):")
    for number, cause in enumerate(shown, start=1):
        lines += ["", f"{number}. {cause.severity}: {cause.dropper} {cause.step} ({cause.kind})"]
        lines += [f"   {cause.dropper} can drop it: {reason}" for reason in cause.reasons]
        lines += [f"   fix: {hint}" for hint in cause.hints]
        lines.append(f"   {len(cause.readers)} reader(s):")
        for reader in cause.readers:
            at = reader.path.index(cause.dropper) if cause.dropper in reader.path else 0
            after = reader.path[at:]
            lines.append(
                f"   - {reader.reader} reads {reader.read}: {reader.expression}; "
                f"{reader.paths} path(s), e.g. {' -> '.join(after)}"
            )
    if hidden:
        lines += ["", f"Suppressed, not counted toward the exit code ({len(hidden)}):"]
        for cause in hidden:
            why = cause.suppressed.justification if cause.suppressed else ""
            lines.append(f"- {cause.dropper} {cause.step} ({cause.kind}): {why}")
    return "\n".join(neutral(line) for line in lines)


def _cut(cut: str | None) -> str:
    """The last paragraph when the lint stopped before it found everything."""
    return "" if cut is None else "\n\n" + neutral(f"The lint {cut}.")
