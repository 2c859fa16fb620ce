"""The edge's one JSON reader: hostile bodies become PayloadError (a 400), never a 500, and
every string it hands on can be stored by SQLite; timestamps and integers fit SQLite's INTEGER."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any

import pytest

from webhooks.errors import PayloadError
from webhooks.wire import answer_object, body_object, integer, timestamp_ms

NESTED_LISTS = b"[" * 10_000 + b"]" * 10_000
NESTED_OBJECTS = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
HUGE_INT = b"9" * 5000


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(NESTED_LISTS, id="10000-nested-lists"),
        pytest.param(b'{"x":' + NESTED_LISTS + b"}", id="nested-inside-an-object"),
        pytest.param(NESTED_OBJECTS, id="10000-nested-objects"),
        pytest.param(b'{"x":"\xff"}', id="invalid-utf-8"),
        pytest.param(b'{"x":"\xc3"}', id="truncated-utf-8"),
        pytest.param(b'{"x":"\xed\xb3\xbf"}', id="utf-8-encoded-surrogate"),
        pytest.param('{"x":"y"}'.encode("utf-16"), id="utf-16"),
        pytest.param(b"[1]", id="a-list"),
        pytest.param(b'"x"', id="a-string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"", id="empty"),
    ],
)
def test_body_object_refuses_with_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        body_object(raw)


def test_body_object_takes_what_real_bodies_nest() -> None:
    deep = b'{"a":' * 40 + b"1" + b"}" * 40  # a Messenger template echo nests 7 deep
    assert body_object(deep)["a"]["a"]["a"] is not None


def test_huge_numbers_are_read_without_failing_the_body() -> None:
    body = body_object(b'{"n":' + HUGE_INT + b',"m":1e999999,"k":-' + HUGE_INT + b',"ok":7}')
    assert body["ok"] == 7
    # Too long for any id or timestamp: a float, which no integer field accepts.
    assert [integer(body[key]) for key in ("n", "m", "k")] == [None, None, None]


# What SQLite can and cannot take, found by trying (Python 3.11, SQLite 3.40): a lone surrogate
# cannot be encoded to UTF-8 at all (UnicodeEncodeError); NUL is stored but every SQL text
# function (length, LIKE, the sqlite3 shell staff read with) stops at it; an int outside the
# signed 64 bits raises OverflowError. Every other code point is stored and read back as is.
UNSTORABLE = [
    pytest.param('"x\\udcff"', "x\ufffd", id="lone-low-surrogate"),
    pytest.param('"\\ud800x"', "\ufffdx", id="lone-high-surrogate"),
    pytest.param('"\\udcff\\ud800"', "\ufffd\ufffd", id="reversed-pair"),
    pytest.param('"a\\u0000b"', "a\ufffdb", id="nul"),
    pytest.param('"\\ud83d\\ude00 ok"', "😀 ok", id="a-real-pair-is-kept"),
    # A literal backslash, "ud83d", then a lone low surrogate: not a pair.
    pytest.param('"\\\\ud83d\\ude00"', "\\ud83d\ufffd", id="escaped-backslash-then-low"),
    pytest.param('"Kết hôn\\n\\t\\u0007"', "Kết hôn\n\t\u0007", id="other-controls-kept"),
]


@pytest.mark.parametrize(("literal", "expected"), UNSTORABLE)
def test_strings_come_out_storable(literal: str, expected: str) -> None:
    raw = ('{"k":' + literal + ',"l":[' + literal + "]," + literal + ":1}").encode()
    body = body_object(raw)
    assert body["k"] == expected
    assert body["l"] == [expected]
    assert body[expected] == 1  # keys too
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE TABLE t (x TEXT NOT NULL)")
        db.execute("INSERT INTO t VALUES (?)", [body["k"]])
        assert db.execute("SELECT x, length(x) FROM t").fetchone() == (expected, len(expected))


def test_a_deep_body_with_an_unstorable_string_is_walked_without_recursion() -> None:
    raw = b'{"a":' * 500 + b'"\\udcff"' + b"}" * 500
    node = body_object(raw)
    for _ in range(500):
        node = node["a"]
    assert node == "\ufffd"


def test_answer_object_never_raises() -> None:
    assert answer_object(NESTED_LISTS) == {}
    assert answer_object(b'{"error":' + HUGE_INT + b"}") == {"error": float("inf")}
    assert answer_object(b'{"error":-216}') == {"error": -216}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-216, -216),
        (0, 0),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        (2**63, None),
        (-(2**63) - 1, None),
        (True, None),
        (1.0, None),
        ("1", None),
        (None, None),
    ],
)
def test_integer_fits_sqlite(value: Any, expected: int | None) -> None:
    assert integer(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1_475_942_721_741, 1_475_942_721_741, id="int"),
        pytest.param("1751272409784", 1_751_272_409_784, id="string"),
        pytest.param("²", 0, id="superscript-two"),
        pytest.param("١٢٣", 0, id="arabic-indic-digits"),
        pytest.param("9" * 5000, 0, id="5000-digit-string"),
        pytest.param(2**63, 0, id="int-2^63"),
        pytest.param(str(2**63), 0, id="string-2^63"),
        pytest.param(2**63 - 1, 2**63 - 1, id="int64-max"),
        pytest.param(-1, 0, id="negative"),
        pytest.param("-1", 0, id="negative-string"),
        pytest.param(" 12", 0, id="space"),
        pytest.param("12\n", 0, id="newline"),
        pytest.param(True, 0, id="bool"),
        pytest.param(1.5e12, 0, id="float"),
        pytest.param(None, 0, id="absent"),
    ],
)
def test_timestamp_ms_is_zero_unless_storable(value: Any, expected: int) -> None:
    assert timestamp_ms(value) == expected


def test_the_fixtures_here_are_what_they_claim() -> None:
    with pytest.raises(RecursionError):
        json.loads(NESTED_LISTS)
    with pytest.raises(ValueError, match="integer string conversion"):
        json.loads(HUGE_INT)
