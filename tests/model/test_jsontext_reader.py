"""jsontext.loads reads with msgspec where it can: it must give exactly what json.loads gives.

The fast reader is only an optimisation, so these tests compare it with the standard library
on generated documents and on the cases where the two libraries differ (msgspec refuses
them, and the exact reader takes over).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfn_trace.model import jsontext
from sfn_trace.model.jsontext import NonFinite, TooDeep


def _same(left: Any, right: Any) -> bool:
    """Equal with the same types everywhere (``1`` is not ``1.0``, ``True`` is not ``1``), the
    same member order, and floats equal to the bit (``-0.0`` is not ``0.0``)."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            stack.extend((a[k], b[k]) for k in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif isinstance(a, float):
            if a.hex() != b.hex() and not (math.isnan(a) and math.isnan(b)):
                return False
        elif a != b:
            return False
    return True


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_DOCUMENTS, st.booleans(), st.booleans())
def test_generated_documents_read_as_json_loads_reads_them(
    document: Any, ensure_ascii: bool, as_bytes: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ensure_ascii)
    given_text: str | bytes = text.encode() if as_bytes else text
    assert _same(jsontext.loads(given_text), json.loads(text))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["0", "-0", "1", "-1", ".", "5", "e", "E", "+", "-", "9"]),
        min_size=1,
        max_size=24,
    )
)
def test_number_spellings_read_as_json_loads_reads_them(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            jsontext.loads(text)
        return
    got = jsontext.loads(text)
    if isinstance(expected, float) and math.isinf(expected):
        assert isinstance(got, NonFinite) and got.text == text
    else:
        assert _same(got, expected)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": 2, "a": 3}',  # the last value, at the first key's place
        "-0",
        "-0.0",
        "123456789012345678901234567890",  # beyond 64 bits: still an int
        "-9223372036854775809",
        "18446744073709551616",
        "2.5e-400",  # underflows to 0.0
        "5e-324",
        "1.7976931348623157e308",
        '"\\u2028 \\u0000 \\ud83d\\ude00"',
        '"\\ud800"',  # a lone surrogate: msgspec refuses, json reads it
        '"\\udfff x"',
        "\ufeff[1]",  # a BOM in text: both refuse
        ' [1 , {"a" : null} ] ',
        "[" * 900 + "]" * 900,
        "[" * 1500 + "]" * 1500,  # deeper than either library recurses
    ],
)
def test_cases_where_the_libraries_differ_read_as_json_loads_reads_them(text: str) -> None:
    try:
        expected = json.loads(text)
    except RecursionError:
        assert _depth(jsontext.loads(text)) == text.count("[")
        return
    except ValueError:
        with pytest.raises(ValueError):
            jsontext.loads(text)
        return
    assert _same(jsontext.loads(text), expected)
    assert _same(jsontext.loads(text.encode("utf-8", "surrogatepass")), expected)


def _depth(document: Any) -> int:
    depth = 0
    while isinstance(document, list):
        depth += 1
        document = document[0] if document else None
    return depth


@pytest.mark.parametrize("text", ["1e400", "-1E+999", "NaN", "Infinity", "-Infinity", "1" * 5000])
def test_numbers_python_cannot_hold_keep_their_text(text: str) -> None:
    value = jsontext.loads(f"[{text}]")[0]
    assert isinstance(value, NonFinite)
    assert value.text == text


def test_beyond_the_limit_is_too_deep_whichever_reader_starts() -> None:
    text = "[" * (jsontext.MAX_DEPTH + 1) + "]" * (jsontext.MAX_DEPTH + 1)
    with pytest.raises(TooDeep):
        jsontext.loads(text)


def test_bytes_that_are_not_utf8_are_refused_as_before() -> None:
    with pytest.raises(UnicodeDecodeError):
        jsontext.loads(b'["\xff"]')
