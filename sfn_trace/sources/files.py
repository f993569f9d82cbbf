"""Reading an execution from a saved file instead of AWS.

Accepted shapes: what ``aws stepfunctions get-execution-history --output json`` prints
(``{"events": [...]}``, ISO 8601 or epoch timestamps), a JSON list of boto3-style events, a
bundle saved by ``--save-bundle`` (:mod:`sfn_trace.sources.bundle`), and any of them
gzip-compressed. Anything else is one clear line and exit 2.
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfn_trace.errors import InputError
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info

_GZIP_MAGIC = b"\x1f\x8b"

STDIN = "-"
"""The TARGET that reads stdin (``aws stepfunctions get-execution-history ... | sfn-trace -``)."""


def read_json(path: str | Path, what: str = "file") -> Any:
    """Parse a JSON (optionally gzip) file, turning every failure into an InputError.

    ``"-"`` reads stdin (bytes: gzip is accepted there too). A file is read once, in one
    go, so a pipe or a FIFO (``sfn-trace <(aws stepfunctions get-execution-history ...)``)
    works as a file does."""
    if str(path) == STDIN:
        return _parse(_read_stdin(what), "stdin")
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, not a file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return _parse(raw, path)


def _read_stdin(what: str) -> bytes:
    """All of stdin, as bytes (a text stream put in its place is read as UTF-8)."""
    if sys.stdin is None:
        raise InputError(f"cannot read {what} from stdin: there is no stdin")
    try:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            return sys.stdin.read().encode("utf-8", "surrogateescape")
        data: bytes = stream.read()
    except OSError as exc:
        raise InputError(f"cannot read {what} from stdin: {exc.strerror or exc}") from None
    return data


def _parse(raw: bytes, path: str | Path) -> Any:
    """The JSON document in ``raw`` (gzip-compressed or not); ``path`` names it in errors."""
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    try:
        # As Payload.value reads a payload (payloads some tools decode into objects keep
        # their numbers' text), as deep as a payload may be inside a history file.
        from sfn_trace.model import jsontext

        try:
            return jsontext.loads(raw, max_depth=jsontext.FILE_DEPTH)
        except jsontext.TooDeep as too_deep:
            raise InputError(f"{path}: JSON nested too deeply to read ({too_deep})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply to read") from None
    except MemoryError:
        raise InputError(
            f"{path}: out of memory reading {len(raw) / 1e6:.0f} MB of JSON "
            "(a Step Functions history holds at most 25,000 events)"
        ) from None


def load_history_file(path: str | Path, definition_path: str | Path | None = None) -> ExecutionData:
    """An :class:`ExecutionData` from a saved history (and, optionally, its definition)."""
    return history_data(read_json(path, "history file"), path, definition_path)


def history_data(
    document: Any, path: str | Path, definition_path: str | Path | None
) -> ExecutionData:
    raw_events = _events_of(document, path)
    try:
        events = events_from_api(raw_events)
    except InputError as error:
        raise InputError(f"{path}: {error.message}") from None
    if not events:
        raise InputError(f"{path}: the history holds no events")
    definition = Definition.from_file(definition_path) if definition_path else None
    arn = None
    if isinstance(document, Mapping) and isinstance(document.get("executionArn"), str):
        arn = document["executionArn"]
    return ExecutionData(
        info=infer_info(events, arn=arn),
        events=events,
        definition=definition,
        source=str(path),
    )


def _events_of(document: Any, path: str | Path) -> list[Mapping[str, Any]]:
    if isinstance(document, Mapping):
        events = document.get("events")
        if events is None:
            raise InputError(
                f'{path}: not a Step Functions history: expected an object with "events" '
                "(aws stepfunctions get-execution-history --output json) or a list of events"
            )
    else:
        events = document
    if not isinstance(events, list):
        raise InputError(f'{path}: "events" must be a list of history events')
    for position, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise InputError(f"{path}: event #{position + 1} is not an object")
    return events
