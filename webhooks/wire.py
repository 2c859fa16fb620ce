"""What Messenger's, Zalo's and the web chat's wire formats share: reading a JSON body safely,
checking its shape, integers and timestamps SQLite can store, reading headers, cutting text to
a platform's message limit, and sending a reply's parts in order. All pure but `send_parts`,
which only sequences the caller's own I/O."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.models import SendResult
from bot.rate_limit import RateLimit
from webhooks.errors import PayloadError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQLite's INTEGER: beyond, sqlite3 raises
_INT_CHARS = len(str(INT64_MIN))  # 20: a longer JSON integer cannot fit INTEGER
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: "²".isdigit() holds and int("²") raises
# What SQLite cannot keep as text, found by trying (tests/test_wire.py): a lone surrogate, which
# UTF-8 cannot encode (every write holding one raises UnicodeEncodeError), and NUL, which is
# stored but cuts the text short for every SQL text function and the sqlite3 shell. In strict
# UTF-8 JSON text both can only come from a \u escape (a raw control character is invalid
# JSON): \u0000, or a surrogate escape that is not half of a pair (Meta escapes every emoji as
# a pair, §1.3). Bodies without one, nearly all, are not walked. Measured (shared 2-core VM) on
# a 1,000-message Messenger batch with emoji, 220 kB: json.loads 4-8 ms; body_object 12 ms, or
# 28 ms when one lone surrogate makes it walk every string; one message: 19 µs either way.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_HIGH, _LOW = r"\\u[dD][89abAB][0-9a-fA-F]{2}", r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
# Each branch starts with the literal "\u", which re finds fast; the pairing is checked after.
# A low half is paired only with a high escape not preceded by a backslash (else "\\ud83d" is
# a literal backslash and text); when unsure, the body is walked: a wasted walk costs time only.
_UNSTORABLE_ESCAPE = re.compile(rf"\\u0000|{_HIGH}(?!{_LOW})|{_LOW}(?<!(?<!\\){_HIGH}{_LOW})")
REPLACEMENT = "\ufffd"


def body_object(raw: bytes) -> dict[str, Any]:
    """A request body decoded as a JSON object, else PayloadError (the caller answers 400).

    The one reader of every inbound body (Messenger, Zalo, the web chat), safe on hostile bytes:
    the body must be UTF-8 (RFC 8259 §8.1; a declared charset is ignored); nesting too deep for
    the parser is PayloadError, not a RecursionError; an integer too long for SQLite's INTEGER
    is read as a float (so no id or timestamp accepts it, and Python's integer-string limit is
    never reached); and in every string, keys included, a lone surrogate or a NUL becomes
    U+FFFD, so whatever a message carries can be stored and cannot fail a shared commit.
    """
    body = _loads(raw)
    if not isinstance(body, dict):
        raise PayloadError("body is not a JSON object")
    return body


def answer_object(data: bytes) -> dict[str, Any]:
    """A Send API answer as a JSON object, or {} when it is not one (a proxy's HTML 502 page)."""
    try:
        parsed = _loads(data)
    except PayloadError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _loads(raw: bytes) -> Any:
    try:
        # Not json.loads(bytes): it also takes UTF-16/32 and decodes with "surrogatepass".
        text = raw.decode("utf-8")
        value = json.loads(text, parse_int=_json_int)
    except RecursionError:
        raise PayloadError("body is not JSON: nested too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise PayloadError(f"body is not JSON: {exc}") from None
    return _storable(value) if _UNSTORABLE_ESCAPE.search(text) else value


def _json_int(literal: str) -> int | float:
    # The length is checked before int() runs: a 5,000-digit number would cost quadratic work,
    # then exceed Python's integer-string limit (ValueError).
    return int(literal) if len(literal) <= _INT_CHARS else float(literal)


def _storable(value: Any) -> Any:
    """`value` with every string made storable, in place. Iterative: json.loads nests up to the
    interpreter's recursion limit, which a recursive walk would then exceed."""
    if isinstance(value, str):
        return _clean(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(map(_UNSTORABLE.search, node)):
                items = [(_clean(key), item) for key, item in node.items()]
                node.clear()
                node.update(items)
            pairs: Any = node.items()
        elif isinstance(node, list):
            pairs = enumerate(node)
        else:
            continue
        for key, item in list(pairs):
            if isinstance(item, str) and _UNSTORABLE.search(item):
                node[key] = _clean(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
    return value


def _clean(text: str) -> str:
    return _UNSTORABLE.sub(REPLACEMENT, text)


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else PayloadError naming `where`."""
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is missing or not an object")
    return value


def integer(value: Any) -> int | None:
    """A JSON integer (never a bool) that SQLite's INTEGER can hold, or None."""
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
        return value
    return None


def natural(value: Any) -> int | None:
    """A non-negative JSON integer, or a string of ASCII digits (Zalo sends numbers as strings),
    that SQLite's INTEGER can hold; else None."""
    if isinstance(value, str):
        value = int(value) if _DIGITS.fullmatch(value) else None
    number = integer(value)
    return number if number is not None and number >= 0 else None


def timestamp_ms(value: Any) -> int:
    """Milliseconds since the epoch (`natural`), or 0 when absent or odd: timestamps are
    informative only, an odd one never costs the message."""
    return natural(value) or 0


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on a plain dict (aiohttp's headers already are)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def split(text: str, limit: int) -> list[str]:
    """NFC text cut into parts of at most `limit` characters, at a newline or else a space in
    the second half of the window, else mid-word. The core already splits at sentence and
    list boundaries (bot.answers.split_text); this is the platforms' last line of defence."""
    rest = unicodedata.normalize("NFC", text).strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit + 1)
        if cut < 0:
            cut = rest.rfind(" ", limit // 2, limit + 1)
        if cut < 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts


async def send_parts(
    bodies: Sequence[dict[str, Any]],
    post: Callable[[dict[str, Any]], Awaitable[SendResult]],
    limit: RateLimit | None = None,
) -> SendResult:
    """Post a reply's parts in order, stopping at the first failure, which names its part: the
    outbox retries the whole reply, so the citizen may see the earlier parts twice, never out of
    order. Each part is one API call and waits its turn under the platform's `limit`."""
    if not bodies:
        return SendResult(ok=False, error="empty reply: nothing to send")
    for n, body in enumerate(bodies, start=1):
        if limit is not None:
            await limit.wait()
        result = await post(body)
        if not result.ok:
            if len(bodies) > 1:
                result = replace(result, error=f"{result.error} (part {n}/{len(bodies)})")
            return result
    return SendResult(ok=True)
