"""Looking a dossier up for its owner: spotting a code, the phone digits or a "notify me" in a
message, and the policy that keeps strangers out without locking owners out.

Pure. The owner proves ownership with the last 4 digits of the phone number on the dossier;
`bot.models.digits_match` compares them in constant time. A wrong digit and an unknown code
answer alike, so the bot never tells which codes exist. The Store applies the policy below,
atomically and audited; `bot.cases.actions.lookup` is the I/O call.

The policy ("Proof under hostile input and faults", 7). 4 digits are 10,000 possibilities, and
a web chat session id costs nothing, so a limit per sender alone does not stop anyone guessing;
issue 4's lock of a dossier after 5 failures did, but let anyone lock any dossier for 24 h.
Now:

- Per sender: `MAX_FAILURES` failed checks within `LOCK_SECONDS` lock that sender for as long
  (unchanged; it costs a Messenger or Zalo prankster an account per 5 guesses a day).
- Per dossier, slowed, never locked: `DOSSIER_FREE` failed checks are checked at once; after
  the n-th failed check within `DOSSIER_WINDOW` the dossier waits `dossier_wait(n)` (1 min
  after the 5th, doubling, at most `DOSSIER_MAX_WAIT`) before checking another. A refused
  check compares nothing and is answered with the time to retry (`Throttled`). Against the
  most patient attacker with endless fresh senders, that is at most 15 guesses in the first
  day, 44 in 30 days and 379 in a year: a 3.8 % chance to find the digits in a year of trying.
- Two allowances per dossier, by what an id costs (`allowance`): web chat sessions (and the
  terminal) share one, Messenger and Zalo accounts the other. Free ids can starve only the web
  chat; the bound for an attacker who also spends Messenger and Zalo accounts is 2 x 379 = 758
  guesses a year, a 7.6 % chance (0.9 % over a dossier's first 30 days).
- The owner is exempt: a (platform, user id) that found this dossier before is not slowed
  down (its own sender limit still applies). A new owner during an attack is told when to
  retry and whom to ask; staff can forgive a dossier's failed checks (`bot cases unlock`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.models import MAX_CODE_CHARS, LookupResult, Platform, normalise_code
from bot.text import raw_tokens

MAX_FAILURES = 5  # failed checks per sender ...
LOCK_SECONDS = 24 * 3600  # ... within this window, then a lock of the sender for as long
DOSSIER_FREE = 5  # failed checks on a dossier (per allowance) checked at once; then waits of
DOSSIER_FIRST_WAIT = 60  # ... 1 min after the 5th, doubling with each failed check ...
DOSSIER_MAX_WAIT = 24 * 3600  # ... up to one check a day, ...
DOSSIER_WINDOW = 30 * 24 * 3600  # ... counting the failed checks of the last 30 days
# Ids anyone can mint by the thousand (a web chat session is a string the browser picks).
_FREE_IDS = frozenset({Platform.WEBCHAT, Platform.CLI})
_CODE_TOKEN = re.compile(r"(?<![\w.\-/])([A-Za-z0-9]+(?:[.\-/_][A-Za-z0-9]+){0,8})(?![\w\-])")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_DIGIT_RUN = re.compile(r"\d+")
_NOTIFY_PHRASES = (
    "bao cho toi", "bao toi", "bao khi co ket qua", "thong bao cho toi", "nhan thong bao",
    "dang ky thong bao", "notify me", "let me know", "tell me when",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Throttled(LookupResult):
    """A check the dossier refused, digits unseen, because of recent failed checks on it:
    `retry_at` (seconds since the epoch) is when it checks again. The outcome is LOCKED, as
    the audit records it; a plain LOCKED result is the sender's own lock."""

    retry_at: float = field(kw_only=True)


def dossier_wait(failures: int) -> float:
    """Seconds a dossier waits after its last failed check, with `failures` of them (of one
    allowance) within `DOSSIER_WINDOW`, before it checks another."""
    if failures < DOSSIER_FREE:
        return 0.0
    doublings = min(failures - DOSSIER_FREE, 32)  # 2**32 minutes is far past the cap
    return float(min(DOSSIER_FIRST_WAIT * 2**doublings, DOSSIER_MAX_WAIT))


def allowance(platform: Platform) -> frozenset[Platform]:
    """The platforms whose failed checks on a dossier count together with `platform`'s: free
    ids (web chat, terminal) apart from real accounts (Messenger, Zalo), so that sessions
    minted by the thousand cannot slow the dossier down for its owner on Messenger or Zalo."""
    if platform in _FREE_IDS:
        return _FREE_IDS
    return frozenset(Platform) - _FREE_IDS


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
