"""Markdown text: what the incident report writes that came from someone else, escaped so
that it reads as written (text, code spans, fenced blocks) and makes no link, list, heading
or table cell of its own."""

from __future__ import annotations

import re
from typing import Any

from sfn_trace.report.neutral import neutral

# Always special inline; "_" only at a word's edge (intraword "_" is never emphasis in
# CommonMark, and paths like $.poll_results_s3_key stay readable); "&" only as an entity.
_SPECIAL = re.compile(r"[\\`*\[\]<|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=[A-Za-z#])")
_LINE_START = re.compile(r"^(\s*)(\d*)([-+=>#.)])")
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(?::(?=//)|@(?=[A-Za-z0-9]))|(?<=\bwww)\.", re.IGNORECASE)
"""The punctuation that makes text a link on GitHub: ``scheme://``, ``www.``, ``a@b``."""


def text(text: str, *, table: bool = False, line_start: bool = False) -> str:
    """Plain text, neutral (a newline shows as ``\\n``), then escaped so that no character is
    read as Markdown (pipes included)."""
    escaped = _SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(neutral(str(text)).split()))
    # GFM makes links of bare URLs, www. names and e-mail addresses (its autolink
    # extension): a backslash before their punctuation keeps them text.
    escaped = _AUTOLINK.sub(lambda m: "\\" + m.group(0), escaped)
    if line_start:
        # A list marker, heading, quote or "1." at the start of a line: escape its punctuation.
        escaped = _LINE_START.sub(lambda m: f"{m[1]}{m[2]}\\{m[3]}", escaped, count=1)
    return escaped


def code(text: str | None, *, table: bool = False) -> str:
    """A code span that holds ``text`` verbatim, whatever backticks it contains.

    In a table cell pipes are escaped as ``\\|``: GFM splits cells before reading code spans
    and drops the backslash of ``\\|`` inside them (https://github.github.com/gfm/#tables-extension-).
    """
    body = neutral(str(text)) if text is not None else ""
    if table:
        body = body.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    if (
        body.startswith("`")
        or body.endswith("`")
        or (body[:1] == body[-1:] == " " and body.strip())
    ):
        # CommonMark strips one space from each end of a code span when both have one.
        body = f" {body} "
    return f"{fence}{body or ' '}{fence}"


def fenced(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def bullets(items: Any) -> str:
    return "\n".join(f"- {item}" for item in items)
