"""Golden reports: every format of every line-ingest fixture, compared byte for byte.

A mismatch prints a unified diff. When the change is intended (a renderer changed what it
prints), regenerate with ``make golden`` and review the golden files' diff like code.
"""

from __future__ import annotations

import difflib

import pytest

from sfn_trace.report import TraceFormat
from tests.data import GOLDEN, ROOT, fixture_names
from tests.make_golden import SUFFIXES, expected_files, golden_path, render

CASES = [(name, fmt) for name in fixture_names() for fmt in TraceFormat]


def test_there_are_fixtures() -> None:
    assert len(fixture_names()) >= 7


@pytest.mark.parametrize(("name", "output_format"), CASES, ids=[f"{n}-{f.value}" for n, f in CASES])
def test_report_matches_golden(name: str, output_format: TraceFormat) -> None:
    path = golden_path(name, output_format)
    relative = path.relative_to(ROOT).as_posix()
    if not path.exists():
        pytest.fail(f"{relative} is missing: run make golden", pytrace=False)
    expected = path.read_bytes().decode("utf-8")
    actual = render(name, output_format)
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{relative} (golden)",
                tofile=f"{relative} (rendered now)",
            )
        )
        pytest.fail(
            f"{relative} differs from what the renderer prints now. If the change is "
            f"intended, run make golden (python -m tests.make_golden) and review the diff.\n"
            f"{diff}",
            pytrace=False,
        )


def test_no_stale_golden_files() -> None:
    stale = sorted(p.name for p in GOLDEN.iterdir() if p not in expected_files())
    assert not stale, f"golden files with no fixture: {stale}; run make golden"


def test_goldens_hold_no_absolute_paths() -> None:
    for path in sorted(GOLDEN.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text, f"{path.name} holds an absolute path"


def test_every_trace_format_has_a_golden_suffix() -> None:
    assert set(SUFFIXES) == set(TraceFormat), "give every format a golden file suffix"
