"""Option values converted without pydantic, as typer would convert them.

typer converts every parameter's value through a pydantic adapter; importing pydantic for
that is a third of a small trace's time (0.05 s of 0.16 s for the seed incident). The
values sfn-trace's options take are plain: a string stays a string, a path becomes a
``Path`` checked by typer's own ``coerce_cli_path``, a format is matched by typer's own
``coerce_cli_choice``, a count or a number of seconds is digits. :class:`PlainValue`
converts exactly those, the way typer's adapter does (tests/cli/test_values.py compares
the two on every parameter of every command, for valid and invalid values and defaults),
and hands anything else (an empty path, a negative or malformed number, a format that is
not one) to typer's own adapter, so that its answer and its error message stay typer's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, get_args, get_origin

from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path

_UNDECIDED: Final = object()
_INTEGER = re.compile(r"(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
_PATH_FLAGS = ("exists", "resolve_path", "allow_dash", "path_type", "writable", "executable")


@dataclass(frozen=True)
class PlainValue(RuntimeParam):
    """A parameter's conversion: plain values here, the rest by typer's adapter."""

    descriptor: TypeDescriptor = field(compare=False, kw_only=True)

    @classmethod
    def of(cls, descriptor: TypeDescriptor) -> PlainValue:
        return cls(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        plain = self._plain(value, param, ctx)
        if plain is not _UNDECIDED:
            return plain
        return self._adapter._coerce_value(value, param=param, ctx=ctx)

    @functools.cached_property
    def _adapter(self) -> RuntimeParam:
        """typer's own conversion, built (and pydantic imported) only when needed."""
        return build_runtime_param(self.descriptor)

    def _plain(self, value: Any, param: Any, ctx: Any) -> Any:
        annotation, info = self.annotation, self.parameter_info
        if info.parser is not None or self.descriptor.is_file:
            return _UNDECIDED
        if get_origin(annotation) is list:  # type: ignore[comparison-overlap]
            (item_type,) = get_args(annotation)
            if not isinstance(value, (list, tuple)):
                return _UNDECIDED
            items = [_leaf(item_type, info, item, param, ctx) for item in value]
            return _UNDECIDED if _UNDECIDED in items else items
        return _leaf(annotation, info, value, param, ctx)


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    if annotation is str:
        return value if type(value) is str else _UNDECIDED
    if annotation is Path:
        return _path(info, value, param, ctx)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if type(value) is not str and not isinstance(value, annotation):
            return _UNDECIDED
        try:
            return coerce_cli_choice(
                value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:  # not one of the choices: typer's adapter words the error
            return _UNDECIDED
    if annotation is int:
        number = _number(value, int, _INTEGER)
    elif annotation is float:
        number = _number(value, float, _DECIMAL)
    else:
        return _UNDECIDED
    if number is _UNDECIDED or getattr(info, "clamp", None):
        return _UNDECIDED
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _UNDECIDED
    return number


def _number(value: Any, kind: type[Any], digits: re.Pattern[str]) -> Any:
    if type(value) is kind:
        return value
    if kind is float and type(value) is int and abs(value) < 2**53:
        return float(value)  # a default written as an int (pydantic: float(value), exact)
    if type(value) is str and digits.fullmatch(value):
        return kind(value)
    return _UNDECIDED


def _path(info: Any, value: Any, param: Any, ctx: Any) -> Any:
    """A ``Path`` as typer's path adapter makes it (pydantic turns a non-empty string into
    ``Path(value)``), then typer's own checks (exists, readable...)."""
    if any(getattr(info, flag, None) for flag in _PATH_FLAGS):
        return _UNDECIDED
    if isinstance(value, Path):
        path = value
    elif type(value) is str and value and "\0" not in value:
        path = Path(value)
    else:
        return _UNDECIDED
    return coerce_cli_path(path, info, path_type=Path, param=param, ctx=ctx)


def install(params: Any) -> None:
    """Give each typer parameter not converted yet a :class:`PlainValue` (typer builds its
    adapter lazily, when the first value comes: the adapter is built only if needed)."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = PlainValue.of(descriptor)
