"""``sfn-trace scan --checkpoint FILE``: the executions judged so far, so a scan resumes.

The file is a journal of JSON lines: a header (which scan it belongs to, and the time window
that scan resolved), then one record per judged execution, appended as each is judged.
Each record is one ``write`` of one whole line to a file opened for appending, so it is
atomic for the process: killed at any moment (Ctrl-C, a crash, ``kill -9``), the file holds
whole records and at most a cut last line, which the next run drops (that execution is
fetched again). The header is written atomically (a temporary file renamed) before any
record. The kernel has each record once it is written; a power cut can still lose the last
ones (they are fetched again), never corrupt the earlier ones.

The same command with the same file resumes: the header must match the command (state
machine, field, statuses, ``--since``/``--until`` as typed, ``--limit``), else the file is
refused (exit 2) rather than mixed with another scan's rows. The credentials the accounts
are read with (``--profile``, ``--account-profile``) are not part of it: they say how to
reach the accounts, not which scan it is, so a scan stopped under one profile resumes under
another. A relative window (``--since 24h``) and an open end (no ``--until``) are resolved
once, by the first run, and kept in the header, so every run of that scan lists the same
executions, and the final tally and lines are those of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sfn_trace.checks.rows import ScanRow, culprit_document, culprit_from_document
from sfn_trace.errors import ExitCode, Option, UsageError
from sfn_trace.model.execution import ExecutionInfo
from sfn_trace.model.result import Verdict

SCHEMA = "sfn-trace-scan-checkpoint/1"

CHECKPOINT = Option("checkpoint")
"""The option a checkpoint's messages name (``checkpoint=``; the CLI's ``--checkpoint``)."""


class Checkpoint:
    """An open checkpoint: the rows earlier runs judged (:attr:`done`), and :meth:`record`
    for each row this run judges."""

    def __init__(self, path: Path, header: dict[str, Any], done: dict[str, ScanRow]) -> None:
        self.path = path
        self.header = header
        self.done = done
        """Rows already judged when the file was opened, by execution ARN. A row recorded
        since is in the file only, not kept here: the listing has gone past it, and a scan's
        memory must not grow with the executions it judges."""
        self._fd: int | None = None

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """The (since, until) the first run resolved."""
        window = self.header["window"]
        return _moment(window.get("since")), _moment(window.get("until"))

    @classmethod
    def open(
        cls,
        path: str | Path,
        scan: Mapping[str, Any],
        window: tuple[datetime | None, datetime | None],
    ) -> Checkpoint:
        """The checkpoint of ``scan`` (the command's identity: plain JSON values) at
        ``path``: read and checked when it exists, else made with ``window`` (the resolved
        since/until) in its header."""
        path = Path(path)
        header = {
            "schema": SCHEMA,
            "scan": dict(scan),
            "window": {"since": _text(window[0]), "until": _text(window[1])},
        }
        if not path.exists():
            _write_header(path, header)
            return cls(path, header, {})._opened()
        if path.is_dir():
            raise UsageError(CHECKPOINT, f" {path} is a directory")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(
                "cannot read ", CHECKPOINT, f" {path}: {exc.strerror or exc}"
            ) from None
        lines = data.split(b"\n")
        # The text after the last newline is a record cut by a kill (or nothing): dropped.
        whole, cut = lines[:-1], lines[-1]
        try:
            found = json.loads(whole[0]) if whole else None
        except ValueError:
            found = None
        if not isinstance(found, dict) or found.get("schema") != SCHEMA:
            raise UsageError(CHECKPOINT, f" {path} is not an sfn-trace scan checkpoint")
        if found.get("scan") != header["scan"]:
            raise UsageError(
                CHECKPOINT,
                f" {path} belongs to another scan ({_differences(found, header)}): "
                "give another file, or delete this one to start over",
            )
        done: dict[str, ScanRow] = {}
        for number, line in enumerate(whole[1:], start=2):
            try:
                row = row_from(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise UsageError(
                    CHECKPOINT,
                    f" {path}: line {number} is not a record ({exc}); "
                    "delete the file to start over",
                ) from None
            if row.execution.arn:
                done[row.execution.arn] = row
        checkpoint = cls(path, found, done)
        if cut:
            checkpoint._drop_cut(len(data) - len(cut))
        return checkpoint._opened()

    def _opened(self) -> Checkpoint:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise _unwritable(self.path, exc) from None
        return self

    def _drop_cut(self, size: int) -> None:
        try:
            os.truncate(self.path, size)
        except OSError as exc:
            raise _unwritable(self.path, exc) from None

    def record(self, row: ScanRow) -> None:
        """Append ``row``: one write of one whole line (the file keeps it, not :attr:`done`)."""
        if self._fd is None:
            raise ValueError("the checkpoint is closed")
        data = (json.dumps(record_of(row), ensure_ascii=False) + "\n").encode(
            "utf-8", "backslashreplace"
        )
        view = memoryview(data)
        try:
            while view:  # a regular file takes it in one write; the loop is for the rest
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise _unwritable(self.path, exc) from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unwritable(path: Path, exc: OSError) -> UsageError:
    return UsageError("cannot write ", CHECKPOINT, f" {path}: {exc.strerror or exc}")


def _write_header(path: Path, header: dict[str, Any]) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError("cannot write ", CHECKPOINT, f" {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write((json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError("cannot write ", CHECKPOINT, f" {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _differences(found: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    old, new = found.get("scan") or {}, header["scan"]
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "; ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys)


def record_of(row: ScanRow) -> dict[str, Any]:
    """A row as a checkpoint record: every member, times to the microsecond."""
    info = row.execution
    return {
        "arn": info.arn,
        "name": info.name,
        "status": info.status,
        "state_machine_arn": info.state_machine_arn,
        "start": _text(info.start),
        "stop": _text(info.stop),
        "verdict": row.verdict.value if row.verdict else None,
        "first_null": culprit_document(row.first_null),
        "lost_at": culprit_document(row.lost_at),
        "error": row.error,
        "error_exit_code": int(row.error_exit_code) if row.error_exit_code is not None else None,
        "warnings": list(row.warnings),
    }


def row_from(record: Mapping[str, Any]) -> ScanRow:
    """The row :func:`record_of` wrote."""
    code = record["error_exit_code"]
    verdict = record["verdict"]
    return ScanRow(
        execution=ExecutionInfo(
            arn=record["arn"],
            name=record["name"],
            status=record["status"],
            state_machine_arn=record["state_machine_arn"],
            start=_moment(record["start"]),
            stop=_moment(record["stop"]),
        ),
        verdict=Verdict(verdict) if verdict is not None else None,
        first_null=culprit_from_document(record["first_null"]),
        lost_at=culprit_from_document(record["lost_at"]),
        error=record["error"],
        error_exit_code=ExitCode(code) if code is not None else None,
        warnings=tuple(record["warnings"]),
    )


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None
