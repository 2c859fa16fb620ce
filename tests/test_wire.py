"""Integers and timestamps from a platform's JSON: only what SQLite's INTEGER can store."""

from __future__ import annotations

from typing import Any

import pytest

from webhooks.wire import integer, timestamp_ms


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
