"""Log lines that request data can neither forge nor flood (issue "hostile input", item 5).

Paths, headers, message ids and platform error texts reach the log as arguments of ordinary
log calls, in webhooks/ and in bot/ alike, and aiohttp quotes the bytes of a malformed request
in the traceback it logs. Rather than guard each call, `log_handler` installs one formatter
(serve.py's logging set-up) that makes every record one bounded line:

- each argument of a record is escaped and cut to MAX_FIELD_CHARS;
- the whole line, traceback included, is escaped (a newline becomes the two characters `\\n`)
  and cut to MAX_LINE_CHARS, keeping its start (time, logger, message) and its end (the
  exception);
- aiohttp's error for a request it could not parse (HttpProcessingError) is logged without its
  traceback, which shows only aiohttp's parser and is the bulk of such a record.

Backslashes are left as they are: a request can write a literal `\\n`, which reads like an
escaped newline but cannot start a line.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import TextIO

from aiohttp.http import HttpProcessingError

# One value taken from a request: a path is rarely longer; a message id or a platform's error
# text always fits.
MAX_FIELD_CHARS = 200
# One record, traceback included. A traceback of our own code fits; journald splits lines
# longer than its LineMax (48 KiB by default) into several entries, which would undo the
# one-record-one-line rule.
MAX_LINE_CHARS = 8192

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 controls (newlines, carriage returns, tabs, escape sequences, NEL), DEL, the Unicode
# line and paragraph separators, and the bidirectional overrides that reorder what a terminal
# shows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every control character and line separator written as an escape."""
    return _UNSAFE.sub(_escape_one, text)


def clip(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its start and end around a marker
    saying how many characters were cut, at most `limit` characters in all (for any limit
    longer than that marker)."""
    if len(text) <= limit:
        return text
    longest = len(f"…[{len(text)} chars cut]…")  # fewer than len(text) are ever cut
    keep = max(limit - longest, 0)
    marker = f"…[{len(text) - keep} chars cut]…"
    head = (keep + 1) // 2
    return text[:head] + marker + text[len(text) - (keep - head) :]


def field(value: object) -> str:
    """One value from a request, safe for a log line: escaped and cut to MAX_FIELD_CHARS."""
    return clip(escape(str(value)), MAX_FIELD_CHARS)


class _Field:
    """An argument of a log call that formats as `%s` and `%r` do, escaped and bounded."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return field(self.value)

    def __repr__(self) -> str:
        return clip(escape(repr(self.value)), MAX_FIELD_CHARS)


def _guard(value: object) -> object:
    # Numbers stay numbers so that %d and %.1f keep working; they carry no text.
    return value if isinstance(value, int | float) else _Field(value)


class SafeFormatter(logging.Formatter):
    """Formats a record as one escaped line of at most MAX_LINE_CHARS characters. The record
    itself is left untouched for the other handlers (pytest's among them)."""

    def format(self, record: logging.LogRecord) -> str:
        record = copy.copy(record)
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: _guard(value) for key, value in args.items()}
        elif args:
            record.args = tuple(_guard(value) for value in args)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            # A request aiohttp could not parse is the client's doing; the error's text says
            # what was wrong and the traceback only where in aiohttp's parser.
            record.msg, record.args = "%s: %s", (record.getMessage(), _Field(error))
            record.exc_info, record.exc_text = None, None
        return clip(escape(super().format(record)), MAX_LINE_CHARS)


def log_handler(stream: TextIO) -> logging.Handler:
    """A handler writing safe lines (SafeFormatter, FORMAT) to `stream`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(FORMAT))
    return handler
