"""The repository stands alone: a clone of it, and nothing beside it, runs the whole suite.

No file of the repository may point outside it: not a path that climbs out of its root, not a
folder of the machine it was written on, not the folder shared by the sessions that built it.
Documents cite the repository's own documents (``docs/``) and the test data lives in
``tests/data`` (every path to it named in ``tests/data/__init__.py``).

The files checked are the ones git knows (tracked, plus new files not ignored, so a file is
caught before it is committed); where git is missing or the root is not a git checkout (an
exported copy), every file under the root is checked but virtualenvs, caches and build output.

The patterns are assembled from pieces so that this file, which is checked like any other,
does not find itself.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

import tests.data
from tests.data import (
    CORPUS,
    CORPUS_LICENSE,
    CORPUS_NOTICE,
    DEFINITION_SUFFIX,
    HISTORY_SUFFIX,
    ROOT,
)

UP = "." * 2 + "/"
"""One step up: the parent folder."""
SHARED = "shared" + "/"
"""The folder the sessions that built the repository shared, beside it."""

MACHINE_FOLDERS = ("work", "home", "root", "Users", "tmp")
"""Top folders of a machine's file system: a path under one exists on one machine only."""

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        "htmlcov",
        "build",
        "dist",
        "node_modules",
    }
)
"""Not part of the repository when there is no git to ask: environments, caches, builds."""

_URL = re.compile(r"\b(?!file:)[A-Za-z][A-Za-z0-9+.-]*://[^\s<>()\[\]\"'`]*")
_PATH_TOKEN = re.compile(r"[\w.~@+/-]+")
_MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:" + "|".join(MACHINE_FOLDERS) + r")/")
_WRITTEN_TO = re.compile(r"(?:^|\s)(?:--output|-o|--csv|--report|--save-bundle)[ =]$|>\s*$")
"""A scratch folder is fine where a command writes its output, never as data to read."""
_WINDOWS_PATH = re.compile(r"(?<![\w\\])[A-Z]:\\{1,2}(?=[\w.$])")
_SHARED = re.compile(r"(?<![\w-])" + SHARED)
# Markdown link targets: [text](target), ![alt](target), [label]: target, href/src="target".
_MD_LINKS = (
    re.compile(r"\]\(\s*<?([^)\s>]+)"),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)"),
    re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']"""),
)


# --- which files ------------------------------------------------------------------------------


def _walked(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(
            f for f in folders if f not in SKIPPED_FOLDERS and not f.endswith(".egg-info")
        )
        found.extend(Path(folder) / name for name in sorted(files))
    return found


def _git_files(root: Path) -> list[Path] | None:
    """The files git lists under ``root``; None when git is missing or ``root`` is not the
    top of a git checkout (a copy inside another checkout would list that one's files)."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = sorted({n for n in listed.stdout.decode("utf-8").split("\0") if n})
    return [root / n for n in names if (root / n).is_file()]  # not a tracked file deleted now


def repository_files(root: Path = ROOT) -> list[Path]:
    files = _git_files(root)
    return _walked(root) if files is None else files


def _text(path: Path) -> str | None:
    """The file's text; None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- what points outside ----------------------------------------------------------------------


def _leaves(start: PurePosixPath, target: str) -> bool:
    """Whether ``target``, read from ``start`` (a folder relative to the root), leaves it."""
    parts: list[str] = list(start.parts)
    for part in target.split("/"):
        if part == "..":
            if not parts:
                return True
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return False


def _blank(line: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        line = line[:start] + " " * (end - start) + line[end:]
    return line


def outside_mentions(relative: PurePosixPath, text: str) -> Iterator[tuple[int, str, str]]:
    """``(line number, what, excerpt)`` for each line of ``text`` that mentions a path outside
    the repository; ``relative`` is the file's path from the root.

    A Markdown link is read from the folder of its file, as a Markdown viewer follows it; any
    other path is read from the root, where the commands run and the documents are read from.
    """
    markdown = relative.suffix.lower() in (".md", ".markdown")
    for number, raw in enumerate(text.splitlines(), 1):
        whats = dict.fromkeys(_line_mentions(relative, markdown, raw))
        if whats:
            yield number, ", ".join(whats), raw.strip()


def _line_mentions(relative: PurePosixPath, markdown: bool, raw: str) -> Iterator[str]:
    line = _blank(raw, [m.span() for m in _URL.finditer(raw)])  # a URL is no file path
    links: list[tuple[int, int]] = []
    for pattern in _MD_LINKS if markdown else ():
        for match in pattern.finditer(line):
            links.append(match.span(1))
            target = re.split(r"[#?]", match.group(1), maxsplit=1)[0]
            start = PurePosixPath() if target.startswith("/") else relative.parent
            if target and _leaves(start, target):
                yield "a link out of the repository"
    prose = _blank(line, links)
    for match in _PATH_TOKEN.finditer(prose):
        token = match.group(0)
        if UP in token and not token.startswith("/") and _leaves(PurePosixPath(), token):
            yield "a path above the repository root"
    for match in _MACHINE_PATH.finditer(prose):
        written = match.group(0)[1:-1] == "tmp" and _WRITTEN_TO.search(prose[: match.start()])
        if not written:
            yield "a folder of one machine"
    if _WINDOWS_PATH.search(prose):
        yield "a folder of one machine"
    if _SHARED.search(prose):
        yield "the sessions' shared folder"


DATA_MODULE = Path(inspect.getfile(tests.data)).resolve()
"""``tests/data/__init__.py``, the one place that locates the data."""


def _format(path: Path, number: int, what: str, excerpt: str) -> str:
    short = excerpt if len(excerpt) <= 160 else excerpt[:157] + "..."
    return f"{path.relative_to(ROOT).as_posix()}:{number}: {what}: {short}"


# --- the tests --------------------------------------------------------------------------------


def test_the_file_list_is_the_repository() -> None:
    files = repository_files()
    assert ROOT / "pyproject.toml" in files and DATA_MODULE in files
    assert not [f for f in files if f.relative_to(ROOT).parts[0] in (".git", ".venv")]
    # Without git, the walk finds the same files but the ignored ones.
    walked = {f.relative_to(ROOT) for f in _walked(ROOT)}
    assert {f.relative_to(ROOT) for f in files} <= walked


def test_no_file_points_outside_the_repository() -> None:
    found: list[str] = []
    checked = 0
    for path in repository_files():
        text = _text(path)
        if text is None:
            continue
        checked += 1
        relative = PurePosixPath(path.relative_to(ROOT).as_posix())
        found += [_format(path, *mention) for mention in outside_mentions(relative, text)]
    assert checked > 100
    assert not found, (
        f"{len(found)} mention(s) of a path outside the repository; cite a file of the "
        "repository instead (docs/, tests/data/) or a public URL:\n" + "\n".join(found)
    )


SAMPLES_OUTSIDE = [
    ("src/a.py", f"see {UP}{SHARED}DESIGN.md section 2"),
    ("src/a.py", f"recorded in {UP}corpus"),
    ("README.md", f"[design]({UP}{SHARED}DESIGN.md)"),
    ("docs/x.md", f"[up]({UP}{UP}elsewhere.md)"),
    ("docs/x.md", f"[ref]: {UP}{UP}elsewhere.md"),
    ("docs/x.md", f'<a href="{UP}{UP}x.md">x</a>'),
    ("src/a.py", "the seed (``/" + "work/notes/000_x.txt``)"),
    ("src/a.py", "python at /" + "tmp/venv/bin/python"),
    ("src/a.py", '"/' + 'home/me/data.json"'),
    ("src/a.py", "/" + "Users/me/x"),
    ("src/a.py", "/" + "root/x"),
    ("src/a.py", "C:" + "\\" + "data"),
    ("src/a.py", f"the corpus in {SHARED}corpus"),
]
SAMPLES_INSIDE = [
    ("docs/x.md", f"[readme]({UP}README.md) and [cli](cli.md#exit-codes)"),
    ("docs/deep/x.md", f"[design]({UP}design.md)"),
    ("README.md", "[json](docs/json-output.md) and [aws](https://docs.aws.amazon.com/a/../b)"),
    ("src/a.py", f"docs/{UP}README.md"),
    ("src/a.py", "see docs/aws-reference.md section 2 and tests/data/aws-recorded"),
    ("src/a.py", '"Bucket": "chromadb-dev-' + 'shared-buckets-1"'),
    ("src/a.py", "the stub's .../x ... and a range 1..2/3"),
    ("README.md", "sfn-trace ARN --field f --save-bundle /" + "tmp/incident.json.gz"),
    ("src/a.py", "a key ending in :\\d+ and C:3"),
]


@pytest.mark.parametrize(("name", "line"), SAMPLES_OUTSIDE)
def test_the_check_finds_a_path_outside(name: str, line: str) -> None:
    found = list(outside_mentions(PurePosixPath(name), f"first line\n{line}\n"))
    assert [number for number, *_ in found] == [2]


@pytest.mark.parametrize(("name", "line"), SAMPLES_INSIDE)
def test_the_check_lets_paths_inside_pass(name: str, line: str) -> None:
    assert list(outside_mentions(PurePosixPath(name), line)) == []


def test_only_tests_data_names_data_paths() -> None:
    """Tests import every data path from ``tests.data``: none locates a folder from its own
    file (the pieces keep this file from finding itself)."""
    own_location = re.compile(r"\b" + "__file" + r"__\b|\bparents\[")
    found = [
        _format(path, number, "computes a path from its own file", line.strip())
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path != DATA_MODULE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own_location.search(line)
    ]
    assert not found, "import the path from tests.data instead:\n" + "\n".join(found)


def test_every_data_path_is_inside_the_repository() -> None:
    named = {k: v for k, v in vars(tests.data).items() if isinstance(v, Path)}
    assert {"ROOT", "CORPUS", "LINE_INGEST", "DEFINITION", "GOLDEN"} <= set(named)
    for name, path in named.items():
        assert path.exists(), f"tests.data.{name} does not exist: {path}"
        assert path.resolve().is_relative_to(ROOT), f"tests.data.{name} is outside: {path}"


# --- the corpus carries its license -----------------------------------------------------------


def test_the_corpus_travels_with_its_license_and_notice() -> None:
    """Every recorded history is third-party data (Apache-2.0): wherever a file of it goes,
    its LICENSE and NOTICE go too, and the NOTICE covers every kind of file in the folder."""
    license_text = CORPUS_LICENSE.read_text(encoding="utf-8")
    notice = CORPUS_NOTICE.read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert "Apache License" in notice and CORPUS_LICENSE.name in notice
    documents = {CORPUS_LICENSE, CORPUS_NOTICE, CORPUS / "README.md"}

    files = [f for f in repository_files() if f.is_relative_to(CORPUS)]
    data = [f for f in files if f not in documents]
    assert len(data) >= 329, "the recorded corpus is incomplete"
    assert documents <= set(files), "the corpus' LICENSE, NOTICE and README must be in git"
    others = [
        f.relative_to(CORPUS).as_posix()
        for f in data
        if f.parent != CORPUS or not f.name.endswith((HISTORY_SUFFIX, DEFINITION_SUFFIX))
    ]
    assert not others, f"files the NOTICE does not cover: {others}"
    for suffix in (HISTORY_SUFFIX, DEFINITION_SUFFIX):
        assert f"*{suffix}" in notice, f"the NOTICE does not name the *{suffix} files"
