"""The shape of the package, enforced: the pipeline's stages import only earlier stages, no
module imports itself back through others, third-party libraries stay in their stage, and the
tests mirror the packages (docs/architecture.md).

Every import counts: at the top of a module, inside a function, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data import ROOT

PACKAGE = ROOT / "sfn_trace"

STAGES = {
    "errors": 0,
    "model": 1,
    "asl": 2,
    "sources": 3,
    "trace": 4,
    "checks": 5,
    "report": 6,
    "api": 7,
    "mcp": 8,
    "cli": 8,
    "__main__": 9,
}
"""The pipeline in order: a module may import its own stage and earlier ones, never a later
one. ``sfn_trace/__init__.py`` (the version) counts as stage 0. The two front ends, the
command line and the MCP server, share the last stage."""

CLI_MAY_IMPORT = {"api", "cli", "errors", "mcp", "model", "report"}
"""The command line parses options, calls :mod:`sfn_trace.api` and writes what
:mod:`sfn_trace.report` rendered; it does not reach into the pipeline itself. It starts the
MCP server (``sfn-trace mcp``)."""

MCP_MAY_IMPORT = {"api", "errors", "mcp", "model"}
"""The MCP server calls :mod:`sfn_trace.api` (whose ``render`` gives it the reports); from
:mod:`sfn_trace.model` it takes the credential scrubbing and the exact JSON text. It never
imports the command line."""

THIRD_PARTY_HOMES = {
    "boto3": ("sources/aws/",),
    "botocore": ("sources/aws/",),
    "typer": ("cli/",),
    "rich": ("cli/",),
    "pandas": ("report/",),
    "tabulate": ("report/",),
    "mcp": ("mcp/",),
    "mcp_types": ("mcp/",),
    "pydantic": ("mcp/",),
    "anyio": ("mcp/",),
    "starlette": (),
}
"""Where each heavy or interface library may be imported (relative to ``sfn_trace/``)."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, wherever it stands."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from sfn_trace import api` imports the module api; `from x import name`, x.
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _internal(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` is (or holds ``name``), if any."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "errors"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in _imports(path):
            target = _internal(name, modules)
            if target is None or target == module or target == "sfn_trace":
                continue
            if module.startswith(target + "."):
                continue  # a module of a package needs its package: Python's own order
            graph[module].add(target)
    return graph


def test_every_package_is_a_known_stage() -> None:
    stages = {_stage(m) for m in _modules() if m != "sfn_trace"}
    assert stages <= set(STAGES), f"a package without a stage: {stages - set(STAGES)}"


def test_stages_import_only_earlier_stages() -> None:
    modules = _modules()
    wrong = []
    for module, path in modules.items():
        for name, line in _imports(path):
            target = _internal(name, modules)
            if target is None or target == "sfn_trace":
                continue
            if STAGES[_stage(target)] > STAGES[_stage(module)]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    assert not wrong, "a stage imports a later stage:\n" + "\n".join(sorted(set(wrong)))


def test_the_cli_only_parses_calls_the_api_and_writes() -> None:
    modules = _modules()
    wrong = []
    for module, path in modules.items():
        if _stage(module) != "cli":
            continue
        for name, line in _imports(path):
            target = _internal(name, modules)
            if (
                target is not None
                and target != "sfn_trace"
                and _stage(target) not in CLI_MAY_IMPORT
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    assert not wrong, "the CLI reaches past the api:\n" + "\n".join(sorted(set(wrong)))


def test_the_mcp_server_only_calls_the_api() -> None:
    modules = _modules()
    wrong = []
    for module, path in modules.items():
        if _stage(module) != "mcp":
            continue
        for name, line in _imports(path):
            target = _internal(name, modules)
            if (
                target is not None
                and target != "sfn_trace"
                and _stage(target) not in MCP_MAY_IMPORT
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    assert not wrong, "the MCP server reaches past the api:\n" + "\n".join(sorted(set(wrong)))


def test_the_mcp_sdk_is_imported_by_the_mcp_command_alone() -> None:
    """cli/mcp.py imports the server inside the command, never at the top of the module:
    every other command (and --help) runs without the SDK, pydantic and starlette."""
    source = PACKAGE / "cli" / "mcp.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    top = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(n.startswith("sfn_trace.mcp") for n, _ in _imports_of(node))
    ]
    assert not top, f"{source}: the server is imported at the top"


def _imports_of(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, int]]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, node.lineno
    elif node.module:
        for alias in node.names:
            yield f"{node.module}.{alias.name}", node.lineno


def test_no_import_cycles() -> None:
    """No module reaches itself through its imports (Tarjan's strongly connected components,
    iteratively)."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("library", sorted(THIRD_PARTY_HOMES))
def test_libraries_stay_in_their_stage(library: str) -> None:
    homes = THIRD_PARTY_HOMES[library]
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for name, line in _imports(path):
            if name.split(".")[0] == library and not relative.startswith(homes):
                outside.append(f"sfn_trace/{relative}:{line}")
    assert not outside, f"{library} imported outside {homes}: {outside}"


def test_model_imports_nothing_of_ours_but_errors() -> None:
    modules = _modules()
    wrong = [
        f"{module} imports {target}"
        for module, path in modules.items()
        if _stage(module) == "model"
        for name, _ in _imports(path)
        if (target := _internal(name, modules)) is not None
        and _stage(target) not in ("model", "errors")
        and target != "sfn_trace"
    ]
    assert not wrong, wrong


def test_each_package_states_its_import_rule() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "Import rule" in docstring, init


def test_the_tests_mirror_the_packages() -> None:
    packages = sorted(
        p.parent.relative_to(PACKAGE) for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE
    )
    missing = [
        str(package)
        for package in packages
        if not list((ROOT / "tests" / package).glob("test_*.py"))
        and package.parts[0] != "report"  # report/<command>/ renderers: tests/report/
    ]
    assert not missing, f"packages without tests/<package>/test_*.py: {missing}"
