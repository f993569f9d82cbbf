"""The package stays readable file by file: no module of sfn_trace/ over about 800 lines
(the replay, the visit builder, confirm and the Markdown report were split along their
seams to get there; docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data import ROOT

LIMIT = 800

MODULES = sorted((ROOT / "sfn_trace").rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=[str(m.relative_to(ROOT)) for m in MODULES])
def test_no_module_is_longer_than_800_lines(module: Path) -> None:
    lines = module.read_text(encoding="utf-8").count("\n")
    assert lines <= LIMIT, f"{module} has {lines} lines"
