"""Looking a dossier up for its owner: spotting a code, the phone digits or a "notify me" in a
message, and the policy that keeps strangers out.

Pure. The owner proves ownership with the last 4 digits of the phone number on the dossier;
`bot.models.digits_match` compares them in constant time. The lock policy (`MAX_FAILURES`
failed checks per sender and per dossier within `LOCK_SECONDS`, then a lock for as long) is
applied, atomically and audited, by the Store; `bot.cases.actions.lookup` is the I/O call. A
wrong digit and an unknown code answer alike, so the bot never tells which codes exist.
"""

from __future__ import annotations

import re

from bot.models import MAX_CODE_CHARS, normalise_code
from bot.text import raw_tokens

MAX_FAILURES = 5  # failed checks per sender and per dossier ...
LOCK_SECONDS = 24 * 3600  # ... within this window, then a lock for as long (issue 4)
_CODE_TOKEN = re.compile(r"(?<![\w.\-/])([A-Za-z0-9]+(?:[.\-/_][A-Za-z0-9]+){0,8})(?![\w\-])")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_DIGIT_RUN = re.compile(r"\d+")
_NOTIFY_PHRASES = (
    "bao cho toi", "bao toi", "bao khi co ket qua", "thong bao cho toi", "nhan thong bao",
    "dang ky thong bao", "notify me", "let me know", "tell me when",
)  # fmt: skip


def _looks_like_phone_or_date(token: str) -> bool:
    if _DATE_LIKE.match(token):
        return True
    digits = "".join(ch for ch in token if ch.isdigit())
    only_digits = all(ch.isdigit() or ch in ".-/ " for ch in token)
    return only_digits and 9 <= len(digits) <= 12 and digits.startswith(("0", "84"))


def find_code(text: str, relaxed: bool = False) -> str | None:
    """A dossier code in `text`, normalised, or None.

    Codes are not validated strictly (procedures-facts §11: the provincial format is unknown;
    iGate-style "000.00.20.H56-250701-0001"). A token counts when it has a dash, at least 4
    digits and 6 to 64 characters, and is not a date or a phone number. `relaxed` (the bot has
    just asked for a code) also takes a dashless token of 6 or more characters with at least 3
    digits, in a short message.
    """
    short = len(raw_tokens(text)) <= 10
    for m in _CODE_TOKEN.finditer(text):
        token = m.group(1)
        digits = sum(ch.isdigit() for ch in token)
        if not 4 <= len(token) <= MAX_CODE_CHARS or _looks_like_phone_or_date(token):
            continue
        if "-" in token and digits >= 4 and len(token) >= 6:
            return normalise_code(token)
        if relaxed and short and digits >= 3 and len(token) >= 6:
            return normalise_code(token)
    return None


def find_digits(text: str) -> str | None:
    """The 4 digits a citizen sent ("5678", "5 6 7 8", "số cuối là 5678"), or the last 4 of a
    whole phone number; None when the message holds no such thing."""
    runs = _DIGIT_RUN.findall(text)
    if not runs:
        return None
    joined = "".join(runs)
    only_digits = all(ch.isdigit() or ch in " .-" for ch in text.strip())
    if only_digits and (len(joined) == 4 or 9 <= len(joined) <= 12):
        return joined[-4:]
    fours = [r for r in runs if len(r) == 4]
    return fours[0] if len(fours) == 1 and len(runs) == 1 else None


def wants_notice(text: str) -> bool:
    """ "Báo cho tôi khi có kết quả", "notify me"."""
    key = " ".join(raw_tokens(text))
    return any(phrase in key for phrase in _NOTIFY_PHRASES)
