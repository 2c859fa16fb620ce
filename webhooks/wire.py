"""What Messenger's and Zalo's wire formats share: checking the shape of a decoded JSON body,
reading headers, and cutting text to a platform's message limit. Pure functions."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from webhooks.errors import PayloadError


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else PayloadError naming `where`."""
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is missing or not an object")
    return value


def integer(value: Any) -> int | None:
    """A JSON integer (never a bool), or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
