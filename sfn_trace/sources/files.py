"""Reading an execution from a saved file instead of AWS.

Accepted shapes: what ``aws stepfunctions get-execution-history --output json`` prints
(``{"events": [...]}``, ISO 8601 or epoch timestamps), a JSON list of boto3-style events, a
bundle saved by ``--save-bundle`` (:mod:`sfn_trace.sources.bundle`), and any of them
gzip-compressed. Anything else is one clear line and exit 2.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from sfn_trace.errors import InputError, Option
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api, timestamp_warning
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.model.options import MAX_INPUT, format_size

_GZIP_MAGIC = b"\x1f\x8b"

STDIN = "-"
"""The TARGET that reads stdin (``aws stepfunctions get-execution-history ... | sfn-trace -``)."""
STDIN_NAME = "stdin"
"""How stdin is named in messages."""
_CHUNK = 1 << 20


class _Readable(Protocol):
    """A binary stream: a file, a pipe, stdin's buffer, a :class:`gzip.GzipFile`."""

    def read(self, size: int = -1, /) -> bytes: ...


def read_json(path: str | Path, what: str = "file", max_input: int = MAX_INPUT) -> Any:
    """Parse a JSON (optionally gzip) file, turning every failure into an InputError.

    ``"-"`` reads stdin (bytes: gzip is accepted there too). A file is read once, in one
    go, so a pipe or a FIFO (``sfn-trace <(aws stepfunctions get-execution-history ...)``)
    works as a file does. At most ``max_input`` bytes of JSON are read, after inflation
    (:data:`MAX_INPUT`)."""
    raw = read_input(path, what, max_input)
    if raw.startswith(_GZIP_MAGIC):
        raw = _inflate(raw, STDIN_NAME if str(path) == STDIN else path, max_input)
    return _parse(raw, STDIN_NAME if str(path) == STDIN else path)


def read_definition(path: str | Path, max_input: int = MAX_INPUT) -> Definition:
    """A definition file (``--definition``, ``--expect-definition``, ``lint``), read as at
    most ``max_input`` bytes of UTF-8 text (a byte-order mark is skipped: editors on
    Windows save JSON with one)."""
    raw = read_input(path, "definition", max_input)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: the definition is not UTF-8 text") from None
    return Definition.from_text(text, origin=str(path))


def read_input(path: str | Path, what: str, max_input: int = MAX_INPUT) -> bytes | bytearray:
    """The bytes of a file, a pipe or stdin (``-``), at most ``max_input`` of them: a file
    that holds more is refused before it is read, a stream as soon as it has sent more."""
    if str(path) == STDIN:
        return _read_stdin(what, max_input)
    try:
        with open(path, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):  # a pipe, a FIFO, a device
                return _read_bounded(stream, path, what, max_input)
            if status.st_size > max_input:
                raise _too_big(path, what, max_input, status.st_size)
            data = stream.read(status.st_size)  # one allocation of the size it has
            grown = _read_bounded(stream, path, what, max_input - len(data))  # since stat
            return data + grown if grown else data
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, not a file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _read_stdin(what: str, max_input: int) -> bytes | bytearray:
    """All of stdin, as bytes (a text stream put in its place is read as UTF-8)."""
    if sys.stdin is None:
        raise InputError(f"cannot read {what} from stdin: there is no stdin")
    try:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            data = sys.stdin.read(max_input + 1).encode("utf-8", "surrogateescape")
            if len(data) > max_input:
                raise _too_big(STDIN_NAME, what, max_input)
            return data
        return _read_bounded(stream, STDIN_NAME, what, max_input)
    except OSError as exc:
        raise InputError(f"cannot read {what} from stdin: {exc.strerror or exc}") from None


def _read_bounded(
    stream: _Readable, path: str | Path, what: str, max_input: int, *, inflated: bool = False
) -> bytearray:
    """Read ``stream`` to its end in chunks, refusing it once it has given more than
    ``max_input`` bytes (a pipe's size is not known in advance, nor what gzip data inflates
    to: ``inflated`` says so in the refusal)."""
    data = bytearray()
    while chunk := stream.read(_CHUNK):
        data += chunk
        if len(data) > max_input:
            raise _too_big(path, what, max_input, inflated=inflated)
    return data  # bytes-like: read as it is, not copied


def _inflate(raw: bytes | bytearray, path: str | Path, max_input: int) -> bytearray:
    """Gzip data inflated as a stream (every member, CRC checked), refused as soon as it
    inflates to more than ``max_input`` bytes: a few megabytes can inflate to gigabytes."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            return _read_bounded(stream, path, "gzip data", max_input, inflated=True)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path}: corrupt or truncated gzip data ({exc})") from None


def _too_big(
    path: str | Path, what: str, max_input: int, size: int | None = None, *, inflated: bool = False
) -> InputError:
    """``size``: the file's size when it is known before reading, else None (a stream, or
    gzip data, stopped as soon as it went past the limit)."""
    if size is not None:
        holds = f"holds {size:,} bytes, more than"
    else:
        holds = "inflates to more than" if inflated else "holds more than"
    return InputError(
        f"{path}: the {what} {holds} {format_size(max_input)}, the most sfn-trace reads (",
        Option("max_input"),
        " raises it)",
    )


def _parse(raw: bytes | bytearray, path: str | Path) -> Any:
    """The JSON document in ``raw``; ``path`` names it in errors."""
    if not raw or raw.isspace():
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


def load_history_file(
    path: str | Path, definition_path: str | Path | None = None, max_input: int = MAX_INPUT
) -> ExecutionData:
    """An :class:`ExecutionData` from a saved history (and, optionally, its definition)."""
    return history_data(
        read_json(path, "history file", max_input), path, definition_path, max_input
    )


def history_data(
    document: Any,
    path: str | Path,
    definition_path: str | Path | None,
    max_input: int = MAX_INPUT,
) -> ExecutionData:
    raw_events = _events_of(document, path)
    try:
        events = events_from_api(raw_events)
    except InputError as error:
        raise error.around(f"{path}: ") from None
    if not events:
        raise InputError(f"{path}: the history holds no events")
    definition = read_definition(definition_path, max_input) if definition_path else None
    arn = None
    if isinstance(document, Mapping) and isinstance(document.get("executionArn"), str):
        arn = document["executionArn"]
    unread = timestamp_warning(raw_events, events)
    return ExecutionData(
        info=infer_info(events, arn=arn),
        events=events,
        definition=definition,
        source=str(path),
        warnings=(unread,) if unread else (),
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
