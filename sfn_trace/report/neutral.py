"""Neutral text: what the account wrote, made safe to show in a terminal, Markdown or CSV.

State names, error causes, payload values and Lambda log lines are written by other people
and programs. Shown raw, an ESC starts a terminal escape sequence (colours, cursor moves,
window titles, OSC 8 links), a CR or a newline forges lines, a bidi control reorders what the
reader sees (Trojan Source, CVE-2021-42574), and a cell that begins with ``=`` runs as a
formula when a CSV is opened in a spreadsheet.

:func:`neutral` is the one function every human format (the table, the Markdown report, the
CSV, the stderr lines) passes such text through. It replaces each character of :data:`UNSAFE`
by a visible escape, as Python's ``repr`` spells it:

- ``\\n``, ``\\r``, ``\\t`` for newline, carriage return and tab;
- ``\\xNN`` for the other C0 controls (U+0000–U+001F), DEL (U+007F) and the C1 controls
  (U+0080–U+009F): ESC is ``\\x1b``;
- ``\\uNNNN`` for the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
  U+2066–U+2069), the line and paragraph separators (U+2028, U+2029) and lone surrogates
  (U+D800–U+DFFF, which a payload's ``\\ud800`` escape can hold).

Everything else, backslashes included, is left as it is: text without these characters
comes out unchanged, so ordinary names and values look as they always did.

:func:`neutral_json` does the same inside JSON text with JSON's own ``\\u00NN`` escapes, so
that a document shown in a report is still the same JSON. :func:`spreadsheet_safe` adds the
OWASP CSV-injection defence for a CSV cell. JSON outputs never pass through here: their
escaping is exact and already safe (C0 controls are always escaped; the rest is data).
"""

from __future__ import annotations

import re
from typing import Final

UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""The characters no human format shows raw."""

UNSAFE_BUT_NEWLINE: Final = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
"""The same, but for the newline: what a rendered report must not hold."""

_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def neutral(text: str) -> str:
    """``text`` with every :data:`UNSAFE` character shown as an escape: one line, inert."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(_escape, text)


def neutral_lines(text: str) -> str:
    """:func:`neutral` for text whose newlines are its own (a rendered report): every other
    unsafe character is escaped, the newlines stay."""
    if UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return UNSAFE_BUT_NEWLINE.sub(_escape, text)


def neutral_json(text: str) -> str:
    """JSON text (one or many lines) with the unsafe characters inside its strings written as
    JSON escapes (``\\u202e``): the same document, safe to show. Newlines between tokens stay."""
    if UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return UNSAFE_BUT_NEWLINE.sub(_json_escape, text)


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula.

    OWASP's CSV-injection guidance: a cell that begins with ``=``, ``+``, ``-``, ``@``, tab or
    CR gets a leading ``'``, which spreadsheets take as "text" and do not show. A plain
    number (``-5``, ``-0.25``, ``+1e3``) is left as it is: it is not a formula and stays a
    number.
    """
    if cell.startswith(_FORMULA_START) and _PLAIN_NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


def csv_cell(text: str, *, kind: str = "text") -> str:
    """A CSV cell from the account: neutral, then :func:`spreadsheet_safe`.

    ``kind`` says what the cell holds: ``"text"`` (one line: a newline is shown as ``\\n``),
    ``"lines"`` (lines of the renderer's own, each neutral) or ``"json"`` (JSON text, made
    neutral with JSON escapes so that it still parses to the same value).
    """
    if kind == "json":
        return spreadsheet_safe(neutral_json(text))
    if kind == "lines":
        return spreadsheet_safe(neutral_lines(text))
    return spreadsheet_safe(neutral(text))
