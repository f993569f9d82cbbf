"""The terminal view of ``sfn-trace compare``: both runs, the divergence with the two runs'
documents side by side around the field, the states only one run visited, the timeline."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from sfn_trace.checks.compare import Comparison, Pair, Placed, Run
from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.model.text import brief
from sfn_trace.report.common import iso
from sfn_trace.report.neutral import neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

VALUE_WIDTH = 32
MAX_OCCURRENCES = 6
MAX_LISTED = 12


def render(comparison: Comparison, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    # Each line is one line: names, causes and values in it are neutral (report/neutral.py),
    # as is each cell of the two tables (their own line breaks aside).
    lines = [f"Field      {comparison.field}"]
    lines += _run("Good", comparison.good, comparison.sources[0])
    lines += _run("Bad", comparison.bad, comparison.sources[1])
    lines.append("")
    lines.append(_divergence(comparison))
    lines = [neutral(line) for line in lines]
    if comparison.divergence is not None:
        lines += ["", _side_by_side(comparison.divergence.pair)]
    lines.append("")
    counts = (
        f"{len(comparison.shared)} in both, {len(comparison.only_in(Run.GOOD))} only in "
        f"good, {len(comparison.only_in(Run.BAD))} only in bad"
    )
    tail = [*_only_in(comparison), *_notes(comparison), ""]
    tail.append(f"Timeline of {comparison.field} ({counts})")
    lines += [neutral(line) for line in tail]
    lines.append(_timeline(comparison))
    return "\n".join(lines) + "\n"


def _run(label: str, result: TraceResult, source: str) -> list[str]:
    info = result.execution
    verdict = result.verdict.value.upper().replace("_", " ")
    where = []
    if result.first_null is not None:
        where.append(f"went null in {' > '.join(result.first_null.visit.scope)}")
    if result.lost_at is not None and result.verdict is not Verdict.INTACT:
        where.append(f"last copy in {' > '.join(result.lost_at.visit.scope)}")
    detail = f" ({'; '.join(where)})" if where else ""
    dates = f"   {iso(info.start)}" if info.start else ""
    return [
        f"{label:<10} {source or info.arn or '(from file)'}",
        f"{'':<10} {info.status or '?'}{dates}   verdict {verdict}{detail}",
    ]


def _divergence(comparison: Comparison) -> str:
    divergence = comparison.divergence
    if divergence is None:
        shared = len(comparison.shared)
        text = (
            f"No divergence: {comparison.field} has the same status in the input and output "
            f"of all {shared} visits both runs made"
        )
        if comparison.undetermined:
            text += f" that could be seen ({len(comparison.undetermined)} could not)"
        return text
    return f"Diverges   {divergence.explanation}"


def _side_by_side(pair: Pair) -> str:
    assert pair.good is not None and pair.bad is not None
    good, bad = pair.good.trace, pair.bad.trace
    rows: list[list[str]] = []
    documents: list[tuple[str, Snapshot | None, Snapshot | None]] = [
        ("input", good.input, bad.input),
        ("parameters", good.parameters, bad.parameters),
        ("task result", good.result, bad.result),
        ("output", good.output, bad.output),
    ]
    for name, left, right in documents:
        if left is None and right is None:
            continue
        marker = " <-" if name in pair.differs else ""
        rows.append([name + marker, _cell(left), _cell(right)])
    table: str = tabulate(
        rows,
        headers=["", f"good (event {_events(pair.good)})", f"bad (event {_events(pair.bad)})"],
        tablefmt="simple",
        disable_numparse=True,
    )
    return table


def _events(placed: Placed) -> str:
    visit = placed.visit
    return f"{visit.entered.id}-{visit.exit_event_id}" if visit.exited else str(visit.entered.id)


def _cell(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "-"
    if snapshot.status is Status.UNKNOWN:
        return neutral(f"unknown ({snapshot.reason})") if snapshot.reason else "unknown"
    lines = [snapshot.status.value]
    for occurrence in snapshot.occurrences[:MAX_OCCURRENCES]:
        lines.append(neutral(f"{occurrence.path} = {brief(occurrence.value, VALUE_WIDTH)}"))
    if len(snapshot.occurrences) > MAX_OCCURRENCES:
        lines.append(f"(+{len(snapshot.occurrences) - MAX_OCCURRENCES} more)")
    return "\n".join(lines)


def _only_in(comparison: Comparison) -> list[str]:
    """The visits only one run made, outermost only; those that make up a whole extra Map
    iteration are summed up on the ``Map sizes`` line instead."""
    extra = {(e.map_key, e.index, e.only_in) for e in comparison.extra_iterations}
    lines = []
    for run in Run:
        top = [p for p in comparison.top_only_in(run) if not _in_extra(p, run, extra)]
        named = [_visit_name(p, comparison, run) for p in top[:MAX_LISTED]]
        if len(top) > MAX_LISTED:
            named.append(f"(+{len(top) - MAX_LISTED} more)")
        lines.append(f"Only in {run.value:<5}  {', '.join(named) if named else '(none)'}")
    by_map: dict[tuple[str, Run], list[str]] = {}
    for iteration in comparison.extra_iterations:
        scope = " > ".join(iteration.map_scope)
        by_map.setdefault((scope, iteration.only_in), []).append(str(iteration.index))
    for (scope, run), indexes in by_map.items():
        lines.append(
            f"Map sizes  {scope}: iteration{'s' if len(indexes) > 1 else ''} "
            f"{', '.join(indexes)} only in {run.value}"
        )
    return lines


def _in_extra(pair: Pair, run: Run, extra: set[tuple[Any, int, Run]]) -> bool:
    """Whether ``pair`` is a first-level visit of an iteration only ``run`` made."""
    if len(pair.key) < 3 or pair.key[-2][0] != "iteration":
        return False
    return (pair.key[:-2], int(pair.key[-2][1]), run) in extra


def _visit_name(pair: Pair, comparison: Comparison, run: Run) -> str:
    depth = len(pair.key)
    nested = sum(
        1
        for p in comparison.timeline
        if p.only_in is run and len(p.key) > depth and p.key[:depth] == pair.key
    )
    return pair.label + (f" (+{nested} nested visits)" if nested else "")


def _notes(comparison: Comparison) -> list[str]:
    lines = []
    for pair in comparison.timeline:
        if pair.outcomes_differ:
            assert pair.good is not None and pair.bad is not None
            lines.append(
                f"Outcome    {pair.label}: {pair.good.visit.outcome.value} in good, "
                f"{pair.bad.visit.outcome.value} in bad"
            )
    for pair in comparison.undetermined:
        lines.append(
            f"Unseen     {pair.label}: {', '.join(pair.undetermined)} not comparable "
            "(one run's document could not be seen)"
        )
    lines.extend(f"Warning    {warning}" for warning in comparison.warnings)
    return lines


def _timeline(comparison: Comparison) -> str:
    divergence = comparison.divergence
    rows: list[list[Any]] = []
    for pair in comparison.timeline:
        if divergence is not None and pair.key == divergence.pair.key:
            mark = f"<- diverges ({', '.join(pair.differs)})"
        elif pair.only_in is not None:
            mark = f"only in {pair.only_in.value}"
        elif pair.differs:
            mark = f"differs ({', '.join(pair.differs)})"
        elif pair.undetermined:
            mark = "not comparable"
        else:
            mark = ""
        scope = " > ".join(pair.scope[:-1]) or "-"
        state = pair.state if pair.occurrence == 1 else f"{pair.state} (pass {pair.occurrence})"
        rows.append(
            [
                neutral(scope),
                neutral(state),
                neutral(pair.type),
                *_statuses(pair.good),
                *_statuses(pair.bad),
                mark,
            ]
        )
    table: str = tabulate(
        rows,
        headers=["scope", "state", "type", "good in", "good out", "bad in", "bad out", ""],
        tablefmt="simple",
        disable_numparse=True,
    )
    return table


def _statuses(placed: Placed | None) -> tuple[str, str]:
    if placed is None:
        return "", ""
    trace = placed.trace
    output = trace.output.status.value if placed.visit.exited else "-"
    return trace.input.status.value, output
