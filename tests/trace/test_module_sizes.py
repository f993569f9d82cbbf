"""The trace package stays readable file by file: no module over about 800 lines (the live
unfolding left trace/visits.py for trace/unfolding.py; docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.data import ROOT

LIMIT = 800

MODULES = sorted((ROOT / "sfn_trace" / "trace").glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_no_trace_module_is_longer_than_800_lines(module: Path) -> None:
    lines = module.read_text(encoding="utf-8").count("\n")
    assert lines <= LIMIT, f"{module} has {lines} lines"


def test_the_live_unfolding_uses_only_the_builder_s_public_surface() -> None:
    """trace/unfolding.py names nothing private of trace/visits.py."""
    tree = ast.parse((ROOT / "sfn_trace" / "trace" / "unfolding.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "sfn_trace.trace.visits"
        for alias in node.names
    }
    assert imported and not any(name.startswith("_") for name in imported)
    builder_members = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute | ast.Name)
        and (getattr(node.value, "attr", None) or getattr(node.value, "id", None))
        in ("_builder", "builder")
    }
    assert builder_members and not any(name.startswith("_") for name in builder_members)
