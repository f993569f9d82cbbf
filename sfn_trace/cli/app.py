"""The command line: the typer app, the options every command shares, and the error guard.

The ``cli`` package is the only place that prints to the terminal or exits; each command
parses its options, makes one :mod:`sfn_trace.api` call and hands the result to
:mod:`.output`. ``sfn-trace TARGET
--field F`` is the main form (:mod:`.trace`); sub-commands sit beside it (one module each), and
any first word that is not a sub-command is taken as a TARGET of the main form. Every command
runs inside :func:`guarded`, which maps each expected failure to one line and its exit code.
"""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from sfn_trace import __version__
from sfn_trace.cli.options import flag_naming
from sfn_trace.cli.output import err
from sfn_trace.cli.values import install
from sfn_trace.errors import ExitCode, SfnTraceError, Stopped, options_named
from sfn_trace.model.secrets import scrub

SUBCOMMANDS_HELP = """\b
Sub-commands:
  sfn-trace compare GOOD BAD --field NAME        where a bad run parts from a good one
  sfn-trace lint DEFINITION... --field NAME      paths where the field can be dropped before use
  sfn-trace scan STATE_MACHINE_ARN --field NAME  how many executions lost it, and where
  sfn-trace mcp                                  serve these to AI assistants (MCP, stdio)
"""
"""The main form's epilog: ``sfn-trace --help`` shows the main form's help (any first word
that is not a sub-command is a TARGET), so the sub-commands are listed there."""

EXIT_CODES_HELP = """\b
Exit codes:
  0  the field is intact
  1  a finding: the field was lost, never set, or never present
  2  bad usage or unreadable input
  3  an AWS error (not found, access denied, throttled past retries, unreachable)
  4  the answer is incomplete (truncated payloads, data not included, history cut)
  70 an internal error (a bug in sfn-trace: please report it)
  129/130/143 stopped by SIGHUP / Ctrl-C / SIGTERM (temporary files removed)
"""


class _PlainHelp:
    """The ``--help`` flag answered without typer's value conversion.

    typer converts every parameter's value through a pydantic adapter, and importing pydantic
    for that is most of what ``sfn-trace --help`` would cost (0.14 s instead of 0.07 s). The
    help flag's value is already a bool: its callback (print the help, exit) gets it as is."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.process_value = types.MethodType(_flag_value, option)
        return option


class _PlainValues:
    """Option values converted without pydantic where they are plain (:mod:`.values`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        install(self.get_params(ctx))  # type: ignore[attr-defined]
        parsed: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
        return parsed


def _flag_value(option: Any, ctx: Any, value: Any) -> Any:
    """What a flag's value becomes: its callback's answer, or the value itself."""
    if option.callback is not None:
        value = option.callback(ctx, option, value)
    return value


class SubCommand(_PlainValues, _PlainHelp, TyperCommand):
    """``compare``, ``lint``, ``scan``."""


class _MainFormGroup(_PlainHelp, TyperGroup):
    """A group whose default command is ``trace``: ``sfn-trace TARGET ...`` works as is."""

    default_command = "trace"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if (not args or args[0] not in self.commands) and not _asks_version(args):
            args = [self.default_command, *args]
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage("sfn-trace", "TARGET --field NAME [OPTIONS]")

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Like click's standalone mode, but a usage error is one line on stderr (exit 2),
        not a usage block: every exit other than 0 and 1 says why in one line."""
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except Exception as error:
            if not _is_click_error(error):
                raise
            clicked: Any = error
            err(f"error: {_one_line(clicked.format_message())} ({_help_hint(clicked)})")
            sys.exit(clicked.exit_code)
        sys.exit(code or 0)


def _is_click_error(error: Exception) -> bool:
    """A click usage or parameter error (typer may bundle its own copy of click, so the
    class is recognised by name rather than imported)."""
    return any(cls.__name__ == "ClickException" for cls in type(error).__mro__)


def _help_hint(error: Any) -> str:
    ctx = getattr(error, "ctx", None)
    command = getattr(getattr(ctx, "command", None), "name", None)
    if command is None or command == _MainFormGroup.default_command:
        return "sfn-trace --help shows the options"
    return f"sfn-trace {command} --help shows the options"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class MainFormCommand(_PlainValues, _PlainHelp, TyperCommand):
    """The ``trace`` command, whose usage line reads as the main form."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage("sfn-trace", "TARGET --field NAME [OPTIONS]")


def _asks_version(args: list[str]) -> bool:
    return args == ["--version"]


app = typer.Typer(
    cls=_MainFormGroup,
    add_completion=False,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sfn-trace {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Forensic diagnosis of AWS Step Functions executions."""


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """Run a command body: expected failures become one stderr line and their exit code,
    Ctrl-C exits 130, and a bug is one line too (its traceback only with ``--debug``).
    Within it, every message the library words names options as their flags."""
    _tolerate_lone_surrogates()
    try:
        with options_named(flag_naming):
            yield
    except typer.Exit:
        raise
    except KeyboardInterrupt as stop:
        raise typer.Exit(stopped(stop)) from None
    except SfnTraceError as error:
        if debug:
            _print_traceback()
        err(f"error: {error.worded(flag_naming)}")
        raise typer.Exit(error.exit_code) from None
    except MemoryError:
        err(
            "error: out of memory: the input needs more memory than this machine gives "
            "(--max-input-size bounds what is read)"
        )
        raise typer.Exit(ExitCode.USAGE) from None
    except Exception as error:
        if debug:
            _print_traceback()
        err(
            f"internal error: {type(error).__name__}: {error} "
            "(please report it; --debug shows the traceback)"
        )
        raise typer.Exit(ExitCode.INTERNAL) from None


def stopped(stop: KeyboardInterrupt) -> ExitCode:
    """The line and the exit code of Ctrl-C (130), SIGTERM (143) or SIGHUP (129)."""
    if isinstance(stop, Stopped):
        err(f"stopped by {stop.signal_name}")
        return stop.exit_code
    err("interrupted")
    return ExitCode.INTERRUPTED


def _print_traceback() -> None:
    """``--debug``: the traceback, with request signatures and credentials scrubbed.

    botocore errors such as InvalidSignatureException echo the canonical request, which
    holds the session token; the traceback must never carry it, nor any credential the
    session resolved (model/secrets.py), to a terminal or a log.
    """
    sys.stderr.write(scrub(traceback.format_exc()))


def _tolerate_lone_surrogates() -> None:
    """Payloads may hold lone surrogates (valid JSON escapes); print them as escapes rather
    than fail on encoding."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")
