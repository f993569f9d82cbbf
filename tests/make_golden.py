"""Regenerate the golden reports: ``make golden`` (``python -m tests.make_golden``).

One golden file per line-ingest fixture and output format, under ``tests/golden/``:
``<fixture>.<ext>`` rendered from ``fixtures/line_ingest/<fixture>.history.json`` with the
fixture definition, exactly as ``sfn-trace <history> --definition <definition> --field F
--format <format>`` prints it. ``tests/report/test_golden.py`` compares the renderers' output with
these files byte for byte; when a change of output is intended, run this and review the diff.

Paths are given relative to the repository root, so no golden file holds a machine's path;
the fixtures fix every timestamp, so the output is deterministic.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from sfn_trace import report
from sfn_trace.report import Command, RenderOptions, TraceFormat
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from tests.data import DEFINITION, GOLDEN, ROOT, SCENARIOS, fixture_history, fixture_names

SUFFIXES = {
    TraceFormat.TABLE: "txt",
    TraceFormat.JSON: "json",
    TraceFormat.CSV: "csv",
    TraceFormat.MARKDOWN: "md",
}
DEFAULT_FIELD = "poll_results_s3_key"


def golden_path(name: str, output_format: TraceFormat) -> Path:
    return GOLDEN / f"{name}.{SUFFIXES[output_format]}"


@functools.cache
def _fields() -> dict[str, str]:
    scenarios = json.loads(SCENARIOS.read_text(encoding="utf-8"))
    return {s["name"]: s.get("field", DEFAULT_FIELD) for s in scenarios}


def field_of(name: str) -> str:
    return _fields().get(name, DEFAULT_FIELD)


@functools.cache
def traced(name: str) -> TraceResult:
    return analyze(load_target_file(fixture_history(name), DEFINITION), field_of(name))


def _as_typed(path: Path) -> str:
    """``path`` as typed from the repository root (no machine's path in a golden file)."""
    return path.relative_to(ROOT).as_posix()


def render(name: str, output_format: TraceFormat) -> str:
    """The report as the CLI prints it for the fixture's history (paths as typed from ROOT)."""
    options = RenderOptions(
        target=_as_typed(fixture_history(name)), definition=_as_typed(DEFINITION)
    )
    return report.render(Command.TRACE, output_format, traced(name), options)


def expected_files() -> set[Path]:
    return {golden_path(n, f) for n in fixture_names() for f in TraceFormat}


def main(argv: list[str] | None = None) -> int:
    """``--only FORMAT`` (repeatable) rewrites only those formats' files."""
    args = sys.argv[1:] if argv is None else argv
    only = {TraceFormat(args[i + 1]) for i, a in enumerate(args) if a == "--only"}
    formats = [f for f in TraceFormat if not only or f in only]
    GOLDEN.mkdir(parents=True, exist_ok=True)
    changed = 0
    for name in fixture_names():
        for output_format in formats:
            path = golden_path(name, output_format)
            text = render(name, output_format).encode("utf-8")
            if not path.exists() or path.read_bytes() != text:
                path.write_bytes(text)
                changed += 1
                print(f"wrote {path.relative_to(ROOT)}")
    stale = sorted(set(GOLDEN.iterdir()) - expected_files())
    for path in stale:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    total = len(expected_files())
    print(f"{total} golden files, {changed} rewritten, {len(stale)} removed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
