"""Log lines that request data can neither forge nor flood (webhooks/logs.py)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from webhooks.logs import MAX_FIELD_CHARS, MAX_LINE_CHARS, clip, escape, log_handler

LINE_START = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("a\tb", "a\\tb"),
        ("nul\x00 esc\x1b[31m del\x7f", "nul\\x00 esc\\x1b[31m del\\x7f"),
        ("nel\x85 csi\x9b", "nel\\x85 csi\\x9b"),  # C1 controls
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("bidi\u202etxt.exe", "bidi\\u202etxt.exe"),
        ("Sở Tư pháp: khai sinh", "Sở Tư pháp: khai sinh"),  # text is left alone
        ("a literal \\n stays", "a literal \\n stays"),
    ],
)
def test_escape(text: str, logged: str) -> None:
    assert escape(text) == logged


def test_clip_leaves_text_within_the_limit_alone() -> None:
    assert clip("x" * 100, 100) == "x" * 100


@pytest.mark.parametrize("size", [101, 1000, 10**6])
def test_clip_keeps_both_ends_and_says_how_much_it_cut(size: int) -> None:
    text = "<" + "x" * (size - 2) + ">"
    clipped = clip(text, 100)
    head, cut, tail = re.fullmatch(r"(<x*)…\[(\d+) chars cut\]…(x*>)", clipped).groups()  # type: ignore[union-attr]
    assert len(clipped) <= 100
    assert len(head) + int(cut) + len(tail) == size


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go only through the handler `bot serve` installs."""
    stream = io.StringIO()
    logger = logging.getLogger("test.logs")
    handler = log_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_record_is_one_line_whatever_its_arguments(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    forged = "m1\n2026-01-01 00:00:00,000 INFO bot.turns.queue: forged"
    logger.info("webchat message %s: %r, %d message(s) in %.1f s", forged, forged, 3, 1.25)
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(
        "webchat message m1\\n2026-01-01 00:00:00,000 INFO bot.turns.queue: forged: "
        "'m1\\n2026-01-01 00:00:00,000 INFO bot.turns.queue: forged', 3 message(s) in 1.2 s"
    )


def test_each_argument_is_bounded(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    error = "Graph said: " + "é" * 50_000
    logger.warning("facebook %s: given up: %s", {"id": "m" * 5000}, error)
    (line,) = stream.getvalue().splitlines()
    assert len(line) < 200 + 2 * MAX_FIELD_CHARS
    assert "Graph said: é" in line and "chars cut]" in line


def test_a_traceback_stays_on_the_line_and_bounded(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    try:
        raise ValueError("bad\n2026-01-01 00:00:00,000 INFO forged " + "x" * 100_000)
    except ValueError:
        logger.exception("turn %s: handling failed", "m1")
    (line,) = stream.getvalue().splitlines()
    assert len(line) <= MAX_LINE_CHARS
    assert "turn m1: handling failed\\nTraceback (most recent call last):" in line
    assert line.endswith("x" * 100)


def test_the_record_other_handlers_see_is_untouched(
    logged: tuple[logging.Logger, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    logger, stream = logged
    logger.propagate = True
    with caplog.at_level(logging.INFO, logger="test.logs"):
        logger.info("path %s", "/a\nb")
    assert caplog.records[0].getMessage() == "path /a\nb"
    assert stream.getvalue().endswith("path /a\\nb\n")
