"""The one place the command line writes: the report on stdout or in a file, the files
asked for beside it, the lines on stderr, and the exit.

Rules (docs/cli.md): stdout carries the report only; progress, warnings and errors go to
stderr, one line each, prefixed ``sfn-trace:``; every exit other than 0 and 1 ends with one
line that says why. Files are written only after everything was rendered (a failure leaves
no file), each atomically.

An output never hurts what it names. :func:`check_outputs` runs before anything is read: an
output that names an input or another output, a directory, a read-only file, a missing
folder, a kernel file, is refused (exit 2) and nothing is written. :func:`write_to` then
writes where a Unix tool would: ``-`` is stdout, ``/dev/stdout`` and ``/dev/fd/N`` are the
descriptor itself, a terminal, ``/dev/null`` or a FIFO is opened and written (no temporary
file, no rename), a symbolic link is written through (the link stays a link), and a regular
file is replaced atomically keeping its mode (a new one gets the umask's default).
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import typer

from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.model.secrets import scrub, scrub_values
from sfn_trace.report.neutral import neutral

Content = str | bytes
"""Text is written as UTF-8; bytes as they are (a gzip bundle)."""

Named = tuple[str, str | Path | None]
"""An option (``--output``, ``TARGET``) and the path it names (None: not given)."""

STDOUT = "-"
"""The path that means stdout (``-o -``) or, for TARGET, stdin."""

_ANSWERS = (ExitCode.INTACT, ExitCode.FINDING)
"""The exits that are the report's own answer: no line says why."""

_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")
_STANDARD = {"/dev/stdout": 1, "/dev/stderr": 2}
_KERNEL_FOLDERS = (Path("/proc"), Path("/sys"))
"""Files there are the kernel's, not files: a report is never written under them."""


def err(message: str) -> None:
    """One line on stderr: what the message quotes from the account (a state name, a cause, a
    file name) is neutral, a newline in it included (report/neutral.py), and no credential
    is in it (model/secrets.py)."""
    # A stderr that went away (closed, its reader gone) leaves nothing to say it on; the
    # command goes on and ends with its own exit code.
    with suppress(OSError, ValueError):
        sys.stderr.write(f"sfn-trace: {neutral(scrub(message))}\n")
        sys.stderr.flush()


def warn(warnings: Iterable[str], *, about: str = "") -> None:
    """``sfn-trace: warning: ...`` for each warning (``about``: e.g. ``"good run: "``)."""
    for warning in warnings:
        err(f"warning: {about}{warning}")


# --- before anything is read ----------------------------------------------------------------


def check_outputs(outputs: Sequence[Named], inputs: Sequence[Named] = ()) -> None:
    """Refuse, before anything is read, every output that would hurt: one that cannot be
    written (:func:`destination`), and one that names an input or another output (the same
    device and inode, or for a file not made yet the same resolved path). ``-`` as an input
    is stdin and never clashes; as an output it is stdout, which only one output may take
    (and which must not be an input either: ``sfn-trace h.json -f F >> h.json``)."""
    given = [(option, Path(path)) for option, path in outputs if path is not None]
    to_stdout = [option for option, path in given if str(path) == STDOUT]
    if len(to_stdout) > 1:
        raise UsageError(
            f"{to_stdout[0]} and {to_stdout[1]} both write to stdout (-): nothing was written"
        )
    seen = [
        (option, Path(path), _identity(Path(path)), False)
        for option, path in inputs
        if path is not None and str(path) != STDOUT
    ]
    for option, path in given:
        if str(path) != STDOUT:
            destination(path, option)
        mine = _identity(path)
        for other_option, other, theirs, written in seen:
            if mine is not None and theirs == mine:
                first, second = (other, path) if written else (path, other)
                names = (other_option, option) if written else (option, other_option)
                raise UsageError(
                    f"{names[0]} and {names[1]} name the same file ({_both(first, second)}): "
                    "nothing was written"
                )
        seen.append((option, path, mine, True))


def _both(one: Path, other: Path) -> str:
    """How the message shows two paths that name one file."""
    names = [("stdout" if str(p) == STDOUT else str(p)) for p in (one, other)]
    return names[0] if names[0] == names[1] else " is ".join(names)


def _identity(path: Path) -> tuple[object, ...] | None:
    """What makes two paths the same file: device and inode when it exists (symbolic links
    followed), else its resolved path; None for a terminal or ``/dev/null`` (a character
    device is written to, never replaced: two outputs may share one). ``-`` (stdout) is the
    file stdout was redirected to, if any."""
    try:
        status = os.fstat(sys.stdout.fileno()) if str(path) == STDOUT else os.stat(path)
    except (OSError, ValueError):  # io.UnsupportedOperation is both: no descriptor
        return None if str(path) == STDOUT else ("path", _resolved(path))
    if stat.S_ISCHR(status.st_mode):
        return None
    return ("inode", status.st_dev, status.st_ino)


def _resolved(path: Path) -> Path:
    try:
        return Path(os.path.abspath(path)).resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        return Path(os.path.abspath(path))


# --- where a report goes --------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where the bytes of one output go, once every check passed."""

    kind: Literal["stdout", "descriptor", "stream", "file"]
    """``stdout``; an open ``descriptor`` (``/dev/fd/N``); a ``stream`` opened and written
    (a terminal, ``/dev/null``, a FIFO); a regular ``file`` replaced atomically."""
    path: Path
    """The path to open (stream) or to replace (file: symbolic links resolved)."""
    descriptor: int = -1
    mode: int | None = None
    """A file's mode bits to keep (None: a new file, which gets the umask's default)."""


def destination(path: str | Path, option: str | None = None) -> Destination:
    """Where writing ``path`` goes, or a :class:`UsageError` that says why it cannot be
    written (``option`` names the option in the message): a directory, a read-only file, a
    file the user cannot write, a missing or unwritable folder, a file under /proc or /sys,
    a block device or a socket, a descriptor that is not open."""
    path = Path(path)
    text = str(path)

    def refuse(why: str) -> NoReturn:
        named = f" ({option})" if option else ""
        raise UsageError(f"cannot write {text}{named}: {why}")

    if text == STDOUT:
        return Destination("stdout", path)
    descriptor = _descriptor_of(text)
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError:
            refuse(f"descriptor {descriptor} is not open")
        if descriptor == 1:
            return Destination("stdout", path)
        return Destination("descriptor", path, descriptor=descriptor)
    try:
        real = Path(os.path.abspath(path)).resolve()
    except (OSError, RuntimeError):
        refuse("a loop of symbolic links")
    except ValueError:
        refuse("not a valid path")
    try:
        status: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        status = None
    except NotADirectoryError:
        refuse(f"{_shown_folder(path, real)} is not a folder")
    except OSError as exc:
        refuse(exc.strerror or str(exc))
    if status is not None:
        if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
            return Destination("stream", path)
        if stat.S_ISDIR(status.st_mode):
            refuse("it is a directory")
        if not stat.S_ISREG(status.st_mode):
            kind = "a block device" if stat.S_ISBLK(status.st_mode) else "a socket"
            refuse(f"it is {kind}, not a file")
    if any(real == folder or folder in real.parents for folder in _KERNEL_FOLDERS):
        refuse("it is a kernel file under /proc or /sys, not a file for a report")
    folder = real.parent
    if not folder.is_dir():
        refuse(f"the folder {_shown_folder(path, real)} does not exist")
    if status is not None:
        if not status.st_mode & 0o222:
            refuse("the file is read-only: it was not replaced")
        if not os.access(real, os.W_OK):
            refuse("permission denied: it was not replaced")
    if not os.access(folder, os.W_OK | os.X_OK):
        refuse(f"the folder {_shown_folder(path, real)} is not writable")
    mode = None if status is None else stat.S_IMODE(status.st_mode) & 0o777
    return Destination("file", real, mode=mode)


def _descriptor_of(text: str) -> int | None:
    """The descriptor ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` or
    ``/proc/self/fd/N`` names: written as a shell's ``>&N`` would (no truncation, no
    rename), so ``-o /dev/stdout >> log`` appends as ``>> log`` does."""
    normal = os.path.normpath(text)
    if normal in _STANDARD:
        return _STANDARD[normal]
    match = _DESCRIPTOR.fullmatch(normal)
    return int(match.group(1)) if match else None


def _shown_folder(path: Path, real: Path) -> str:
    """The folder as the user named it (the link's target's folder for a symbolic link)."""
    folder = real.parent if path.is_symlink() else path.parent
    return str(folder) if str(folder) else "."


# --- writing --------------------------------------------------------------------------------


def deliver(
    report: Content, output: Path | None, files: Sequence[tuple[Path, Content]] = ()
) -> None:
    """Write the extra ``files``, then the report to ``output`` (a path, ``-``) or stdout.
    Text holds no credential this process resolved (model/secrets.py)."""
    for path, content in files:
        write_to(path, _without_secrets(content))
    report = _without_secrets(report)
    if output is not None:
        write_to(output, report)
    else:
        _to_stdout(report)


class Lines:
    """A report written a line at a time, as each line is ready (``scan --format jsonl``).

    On stdout (or a descriptor, a terminal, a FIFO) each line goes at once. A regular file
    gets the lines in a temporary file beside it, renamed over it by :meth:`finish` (as every
    report file here: a scan that fails or is stopped leaves no half file; its checkpoint
    keeps what was judged). Every line is scrubbed of credentials.
    """

    def __init__(self, output: Path | None) -> None:
        self._descriptor: int | None = None
        self._temporary: Path | None = None
        self._where = destination(output, "--output") if output is not None else None
        where = self._where
        if where is None or where.kind == "stdout":
            return
        if where.kind == "descriptor":
            self._descriptor = os.dup(where.descriptor)
            return
        if where.kind == "stream":
            path = where.path
            flags = os.O_WRONLY | os.O_NOCTTY
        else:
            directory = where.path.parent if str(where.path.parent) else Path(".")
            try:
                handle, name = tempfile.mkstemp(
                    dir=directory, prefix=f".{where.path.name}.", suffix=".tmp"
                )
            except OSError as exc:
                raise UsageError(f"cannot write {where.path}: {exc.strerror or exc}") from None
            os.close(handle)
            self._temporary = path = Path(name)
            flags = os.O_WRONLY | os.O_APPEND
        try:
            self._descriptor = os.open(path, flags)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

    def write(self, line: str) -> None:
        text = scrub_values(line)
        if self._descriptor is None:
            _to_stdout(text)
        else:
            _write_all(self._descriptor, _bytes(text), self._where.path if self._where else "-")

    def finish(self) -> None:
        """Every line is written: a file takes its place now."""
        where, temporary = self._where, self._temporary
        self._close()
        if where is not None and temporary is not None:
            mode = where.mode if where.mode is not None else _new_file_mode()
            try:
                os.chmod(temporary, mode)
                os.replace(temporary, where.path)
            except OSError as exc:
                temporary.unlink(missing_ok=True)
                raise UsageError(f"cannot write {where.path}: {exc.strerror or exc}") from None
            self._temporary = None

    def _close(self) -> None:
        if self._descriptor is not None:
            if self._temporary is not None:
                with suppress(OSError):
                    os.fsync(self._descriptor)
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()
        if self._temporary is not None:  # not finished: no half file
            self._temporary.unlink(missing_ok=True)


def _without_secrets(content: Content) -> Content:
    return scrub_values(content) if isinstance(content, str) else content


def write_to(path: str | Path, content: Content, option: str | None = None) -> None:
    """Write ``content`` to ``path`` as :func:`destination` says: stdout, a descriptor, a
    stream (a terminal, ``/dev/null``, a FIFO: opened and written), or a regular file
    replaced atomically (symbolic links written through, the mode kept)."""
    where = destination(path, option)
    if where.kind == "stdout":
        _to_stdout(content)
    elif where.kind == "descriptor":
        if where.descriptor == 2:
            sys.stderr.flush()
        _write_all(where.descriptor, _bytes(content), path)
    elif where.kind == "stream":
        _to_stream(where.path, _bytes(content))
    else:
        write_atomically(where.path, content, mode=where.mode)


def write_atomically(path: str | Path, content: Content, *, mode: int | None = None) -> None:
    """Replace a regular file via a temporary file in the same directory (written, flushed,
    fsynced, renamed), so a failure never leaves a half-written file (text as UTF-8).

    A symbolic link is written through (its target is replaced; the link stays). The file
    keeps its mode bits (``mode`` when given); a new file gets the umask's default."""
    path = Path(path)
    if path.is_symlink():
        path = _resolved(path)
    data = _bytes(content)
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode) & 0o777
        except OSError:
            mode = _new_file_mode()
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_file_mode() -> int:
    """The mode every tool gives a new file: 0o666 without the umask's bits (the umask is
    read by setting it, and put back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _to_stdout(content: Content) -> None:
    """The report on stdout. A reader that went away (``| head``, even before the first
    byte) is not an error: the rest is dropped and the exit code stays the report's. A
    full disk or any other failure is one line (exit 2)."""
    try:
        if isinstance(content, str):
            sys.stdout.write(content)
        else:
            sys.stdout.flush()
            binary = getattr(sys.stdout, "buffer", None)
            if binary is None:
                sys.stdout.write(content.decode("utf-8", "backslashreplace"))
            else:
                binary.write(content)
                binary.flush()
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
    except OSError as exc:
        raise UsageError(f"cannot write the report to stdout: {exc.strerror or exc}") from None


def _reader_gone() -> None:
    """Stdout's reader went away: what is still buffered is sent to /dev/null instead, so
    that no later flush fails again."""
    with suppress(OSError, ValueError):  # ValueError, io.UnsupportedOperation: no descriptor
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _to_stream(path: Path, data: bytes) -> None:
    """Open a terminal, ``/dev/null`` or a FIFO and write (a FIFO waits for its reader);
    never created, truncated or renamed."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):  # replaced since it was checked
            raise UsageError(f"cannot write {path}: it became a regular file while writing")
        _write_all(descriptor, data, path)
    finally:
        os.close(descriptor)


def _write_all(descriptor: int, data: bytes, path: str | Path) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(descriptor, view) :]
    except BrokenPipeError:
        pass  # the reader went away (`-o fifo`, `-o /dev/stdout | head`): not an error
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _bytes(content: Content) -> bytes:
    # backslashreplace turns a lone surrogate (valid in JSON text) into its JSON escape.
    return content.encode("utf-8", "backslashreplace") if isinstance(content, str) else content


def exit_with(code: ExitCode, reason: str | None) -> NoReturn:
    """End a command once its report is out. Exits 0 and 1 are the report's answer; any
    other exit says why in one line, the last one on stderr, whatever ``--format`` and
    whether or not ``-o`` took the report (``reason`` None: it was said already, as the
    errors of ``lint`` are)."""
    if code not in _ANSWERS and reason is not None:
        err(reason)
    raise typer.Exit(code)
