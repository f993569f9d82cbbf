"""What the sub-commands share: their line in the main form's help.

``sfn-trace --help`` shows the main form's help (any first word that is not a sub-command is
a TARGET), so a sub-command would be invisible there. Each sub-command module adds one line
to the main command's epilog when it is imported, without touching the main form's module:
lines accumulate under one ``Sub-commands:`` heading whatever the import order.
"""

from __future__ import annotations

# The main form must be registered before a sub-command can add its line to that help.
from sfn_trace.cli import trace as _main_form  # noqa: F401
from sfn_trace.cli.app import app

_HEADING = "Sub-commands:"


def mention_in_main_help(usage: str, purpose: str, *, main: str = "trace") -> None:
    """Add ``usage  purpose`` under the main command's ``Sub-commands:`` epilog heading."""
    line = f"  {usage:<46} {purpose}"
    for info in app.registered_commands:
        if info.name != main:
            continue
        epilog = info.epilog or ""
        if _HEADING in epilog:
            info.epilog = f"{epilog}\n{line}"  # the heading's paragraph is the last one
        else:
            block = f"\b\n{_HEADING}\n{line}"  # \b: click keeps the lines as written
            info.epilog = f"{epilog}\n\n{block}" if epilog else block
        return
