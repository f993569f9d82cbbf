"""typer's private modules, used by sfn_trace/cli/values.py (option values converted without
pydantic), are what that module was written against: the installed typer lies in the range
pyproject.toml pins, and every private name values.py and app.py reach has the shape they
rely on. When typer changes them this fails, before a user meets a converted value that
typer would have refused (or the other way round): then widen the pin only after
tests/cli/test_values.py passes against the new typer.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import tomllib
import typer
from typer import _coercion, _param_types
from typer.core import TyperArgument, TyperOption

from tests.data import ROOT


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_the_installed_typer_is_in_the_pinned_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    (spec,) = [d for d in project["project"]["dependencies"] if d.startswith("typer")]
    low, high = re.fullmatch(r"typer>=([\d.]+),<([\d.]+)", spec).groups()  # type: ignore[union-attr]
    assert _version(low) <= _version(typer.__version__) < _version(high), (
        f"typer {typer.__version__} is outside the pinned {spec}"
    )


def test_the_private_functions_take_what_values_py_passes() -> None:
    build = inspect.signature(_coercion.build_runtime_param)
    assert list(build.parameters) == ["descriptor"]
    choice = inspect.signature(_param_types.coerce_cli_choice)
    assert list(choice.parameters) == ["value", "choices", "case_sensitive", "ctx"]
    assert all(
        choice.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        for name in ("choices", "case_sensitive", "ctx")
    )
    path = inspect.signature(_param_types.coerce_cli_path)
    assert list(path.parameters) == ["value", "parameter_info", "path_type", "param", "ctx"]
    assert all(
        path.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        for name in ("path_type", "param", "ctx")
    )


def test_the_private_classes_have_the_fields_values_py_reads() -> None:
    runtime = _coercion.RuntimeParam
    assert dataclasses.is_dataclass(runtime)
    assert [f.name for f in dataclasses.fields(runtime)] == ["parameter_info", "annotation"]
    assert "_coerce_value" in getattr(runtime, "__abstractmethods__", ())
    coerce = inspect.signature(runtime._coerce_value)
    assert list(coerce.parameters) == ["self", "value", "param", "ctx"]
    descriptor = _coercion.TypeDescriptor
    assert [f.name for f in dataclasses.fields(descriptor)] == [
        "annotation",
        "parameter_info",
        "file_annotation",
    ]
    assert isinstance(inspect.getattr_static(descriptor, "is_file"), property)


def test_typer_parameters_carry_the_descriptor_and_the_lazy_runtime_param() -> None:
    """values.install hands each parameter a PlainValue where typer has not built its own
    conversion yet (``_runtime_param`` None) from its ``type_descriptor``."""

    def probe(name: str = typer.Option("x"), count: int = typer.Argument(1)) -> None:
        pass

    command = typer.main.get_command_from_info(
        typer.models.CommandInfo(callback=probe),
        pretty_exceptions_short=True,
        rich_markup_mode=None,
    )
    params = {type(p) for p in command.params}
    assert params == {TyperOption, TyperArgument}
    for param in command.params:
        assert isinstance(param.type_descriptor, _coercion.TypeDescriptor)  # type: ignore[attr-defined]
        assert param._runtime_param is None  # type: ignore[attr-defined]
