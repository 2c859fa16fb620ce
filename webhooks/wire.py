"""What Messenger's and Zalo's wire formats share: checking the shape of a decoded JSON body,
integers and timestamps SQLite can store, reading headers, cutting text to a platform's message
limit, and sending a reply's parts in order. All pure but `send_parts`, which only sequences the
caller's own I/O."""

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
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: "²".isdigit() holds and int("²") raises


def body_object(raw: bytes) -> dict[str, Any]:
    """A webhook body decoded as a JSON object, else PayloadError (the caller answers 400)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PayloadError("body is not a JSON object")
    return body


def answer_object(data: bytes) -> dict[str, Any]:
    """A Send API answer as a JSON object, or {} when it is not one (a proxy's HTML 502 page)."""
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


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
