"""The live unfolding (trace/unfolding.py) reads the visit builder (trace/visits.py) only
through its public surface (docs/architecture.md)."""

from __future__ import annotations

import ast

from tests.data import ROOT


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
