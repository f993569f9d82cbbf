"""The credentials this process resolved, and scrubbing them from what it prints.

One home for "what must never be printed": whoever resolves a credential registers its
values with :func:`remember` (``sources/aws/client.py``: the access key id, secret key and
session token of every session it makes, from whatever source botocore resolved them:
environment, shared credentials or config file, a ``credential_process``, SSO,
assume-role, and again when they are refreshed; and the static keys of the profile chain an
assume-role starts from); whoever prints applies :func:`scrub` (``cli/output.py``: every
stderr line; ``cli/app.py``: ``--debug``'s traceback; ``sources/aws/client.py``: every
service or library message it words, which is how warnings reach JSON reports) or, for a
report, :func:`scrub_values`. The environment's ``AWS_*`` credential variables are always
scrubbed, registered or not.

What :func:`scrub` removes:

- every registered value, anywhere in the text (inside other text too), as it is and
  percent-encoded (as a query string carries it);
- a partial echo: any run of :data:`PIECE` characters of a value of that length or more (a
  message that quotes a token cut short, or split at a ``%2F``), the whole run of base64
  characters around it replaced;
- signed-request material whatever its credentials: ``X-Amz-Security-Token``,
  ``X-Amz-Credential``, ``X-Amz-Signature`` (header or query parameter) and the
  ``Credential=``/``Signature=`` parts of an ``Authorization`` header, with their values.

Values shorter than :data:`MIN_LENGTH` are never registered: scrubbing ``"test"`` from every
line would wreck innocent text, and real credentials are far longer (an access key id has 20
characters, a secret key 40, a session token hundreds).
"""

from __future__ import annotations

import os
import re
import threading
from urllib.parse import quote

MARK = "<redacted>"
"""What a credential's value becomes."""
SIGNED_MARK = "<signed-request material redacted>"
"""What a signed-request header or parameter, with its value, becomes."""
MIN_LENGTH = 8
"""Shorter values are not scrubbed."""
PIECE = 16
"""A run of this many characters of a credential is scrubbed wherever it appears."""
_MIN_DISTINCT = 6
"""A piece with fewer distinct characters (``"aaaaaaaaaaaaaaaa"``) says nothing about the
credential it comes from, and could be innocent text: it is not looked for."""

ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)
"""The environment variables whose values are scrubbed whether or not a session used them."""

# Header or query parameter of a signed request, and its value (botocore errors such as
# InvalidSignatureException echo the canonical request; a presigned URL carries them all).
_SIGNED = re.compile(
    r"(?:x-amz-security-token|x-amz-credential|x-amz-signature|x-amz-sso[_-]bearer[_-]token"
    r"|credential|signature)\s*[:=]\s*[^\s,&]+",
    re.IGNORECASE,
)
# The canonical request also lists the signed header names (host;x-amz-security-token).
_TOKEN_HEADER = re.compile(r"x-amz-security-token", re.IGNORECASE)
# Runs of the characters credentials are made of (base64, with its padding at the end).
_RUN = re.compile(rf"[A-Za-z0-9+/]{{{PIECE},}}=*")


class _Registry:
    """The registered values, and what scrubbing needs made from them (rebuilt on change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._built: tuple[frozenset[str], tuple[str, ...], frozenset[str]] | None = None

    def add(self, values: tuple[str | None, ...]) -> None:
        fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH}
        if fresh - self._values:
            with self._lock:  # a new set: readers copy the one they found, unchanged
                self._values = self._values | fresh

    def clear(self) -> None:
        with self._lock:
            self._values = set()
            self._built = None

    def current(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """(every form of every value, longest first; the pieces to look for)."""
        values = set(self._values)  # the set is replaced, never changed
        for name in ENVIRONMENT:
            value = os.environ.get(name)
            if value and len(value) >= MIN_LENGTH:
                values.add(value)
        key = frozenset(values)
        built = self._built
        if built is None or built[0] != key:
            forms = {form for value in values for form in (value, quote(value, safe=""))}
            pieces = frozenset(
                piece
                for value in values
                for start in range(len(value) - PIECE + 1)
                if len(set(piece := value[start : start + PIECE])) >= _MIN_DISTINCT
            )
            built = (key, tuple(sorted(forms, key=len, reverse=True)), pieces)
            self._built = built
        return built[1], built[2]


_REGISTRY = _Registry()


def remember(*values: str | None) -> None:
    """Register credential values (None and short values are ignored). Thread-safe."""
    _REGISTRY.add(values)


def forget_all() -> None:
    """Drop every registered value (tests; the environment's are still scrubbed)."""
    _REGISTRY.clear()


def scrub_values(text: str) -> str:
    """``text`` without any registered value (exact forms only: cheap on a whole report)."""
    forms, _ = _REGISTRY.current()
    for form in forms:
        if form in text:
            text = text.replace(form, MARK)
    return text


def scrub(text: str) -> str:
    """``text`` without any credential or signed-request material (see the module
    docstring): for every line printed and for ``--debug``'s traceback."""
    forms, pieces = _REGISTRY.current()
    text = _SIGNED.sub(SIGNED_MARK, text)
    text = _TOKEN_HEADER.sub("<token header>", text)
    for form in forms:
        if form in text:
            text = text.replace(form, MARK)
    if pieces:
        text = _RUN.sub(lambda run: _piece_of(run.group(0), pieces), text)
    return text


def _piece_of(run: str, pieces: frozenset[str]) -> str:
    """``run`` itself, or :data:`MARK` when any :data:`PIECE` characters of it are a
    credential's."""
    for start in range(len(run) - PIECE + 1):
        if run[start : start + PIECE] in pieces:
            return MARK
    return run


__all__ = ["MARK", "MIN_LENGTH", "PIECE", "forget_all", "remember", "scrub", "scrub_values"]
