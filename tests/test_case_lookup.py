"""Looking a dossier up (bot/cases/lookup.py, `bot.cases.actions.lookup`): codes and digits in
messages, the lock per sender, the slow-down per dossier against fresh senders, the owner's
exemption, the staff unlock, the audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bundle import Bundle
from bot.cases.actions import import_file, lookup, unlock
from bot.cases.lookup import Throttled, find_code, find_digits
from bot.models import LookupRequest, LookupResult, Platform
from bot.store import Store
from tests.case_builders import (
    CODE,
    csv_bytes,
    row,
    write,
)
from tests.conftest import FakeClock

FB, ZALO, WEB = Platform.FACEBOOK, Platform.ZALO, Platform.WEBCHAT
DAY = 24 * 3600

# --- lookup: codes, digits, locks, audit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H56-250701-0001", "H56-250701-0001"),
        ("mã hồ sơ của tôi là 000.00.20.H56-250701-0001 ạ", "000.00.20.H56-250701-0001"),
        ("kiểm tra giúp hồ sơ h56-250701-0001.", "H56-250701-0001"),
        ("123456-250701-0042", "123456-250701-0042"),
        ("hồ sơ nộp ngày 01-07-2025", None),  # a date
        ("sđt của tôi 0912-345-678", None),  # a phone number
        ("lệ phí khai sinh bao nhiêu", None),
        ("phí 8.000 đồng", None),
    ],
)
def test_find_code(text: str, code: str | None) -> None:
    assert find_code(text) == code


def test_find_code_relaxed_after_the_bot_asked() -> None:
    assert find_code("HS2025000123") is None
    assert find_code("HS2025000123", relaxed=True) == "HS2025000123"
    assert find_code("mã là hs2025000123 nhé", relaxed=True) == "HS2025000123"
    assert find_code("5678", relaxed=True) is None


@pytest.mark.parametrize(
    ("text", "digits"),
    [("5678", "5678"), ("5 6 7 8", "5678"), ("số cuối là 5678 ạ", "5678"),
     ("0912345678", "5678"), ("0912.345.678", "5678"), ("567", None), ("56789", None),
     ("không nhớ", None), ("1234 hay 5678", None)],
)  # fmt: skip
def test_find_digits(text: str, digits: str | None) -> None:
    assert find_digits(text) == digits


async def seeded(tmp_path: Path, store: Store, bundle: Bundle) -> None:
    rows = [row(), row(code="H56-250701-0002", phone="0987654321")]
    await import_file(store, write(tmp_path, csv_bytes(rows)), bundle.kb)


async def check(
    store: Store, code: str, digits: str, user: str = "u1", platform: Platform = FB
) -> LookupResult:
    return await lookup(store, platform, user, LookupRequest(code, digits))


async def attack(store: Store, clock: FakeClock, platform: Platform, until: float) -> int:
    """Wrong guesses at dossier CODE, each from a fresh sender of `platform` and each as soon as
    the dossier allows, until the clock would pass `until`; how many were checked."""
    guesses = 0
    for n in range(100_000):
        result = await check(store, CODE, f"{guesses:04d}", f"{platform}-fresh-{n}", platform)
        if isinstance(result, Throttled):
            assert result.outcome == "locked" and result.retry_at > clock.now
            if result.retry_at > until:
                return guesses
            clock.now = result.retry_at  # the earliest moment the next guess is checked
            continue
        assert result.outcome == "no_match", result
        guesses += 1
    raise AssertionError("the attack was never slowed down")


async def test_fresh_senders_get_at_most_the_stated_guesses_per_dossier(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    start = clock.now
    # The figures of README.md (Dossier status) and bot/cases/lookup.py: 5 at once, then waits
    # of 1 min doubling to 24 h, counted over 30 days.
    assert await attack(store, clock, WEB, start + DAY) == 15
    assert await attack(store, clock, WEB, start + 30 * DAY) == 44 - 15
    assert await attack(store, clock, WEB, start + 365 * DAY) == 379 - 44
    # Messenger and Zalo ids are real accounts: their own allowance, not a second one each.
    clock.now = start
    assert await attack(store, clock, FB, start + DAY) == 15
    assert await attack(store, clock, ZALO, start + DAY) == 0
    audit = await store.case_rows("case_lookups", limit=10_000)
    assert sum(a["outcome"] == "no_match" for a in audit) == 379 + 15
    assert {a["outcome"] for a in audit} == {"no_match", "locked"}  # refusals are audited


async def test_the_owner_verified_before_gets_the_dossier_during_an_attack(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    found = await check(store, CODE.lower(), "5678", user="owner")
    assert found.outcome == "found" and found.case is not None and found.case.code == CODE
    clock.advance(7 * DAY)
    until = clock.now + 3 * DAY
    for platform in (WEB, FB):  # fresh web chat sessions, and fresh Messenger accounts
        await attack(store, clock, platform, until)
    # A new owner who never verified waits, and is told until when; right digits or not.
    refused = await check(store, CODE, "5678", user="new-owner")
    assert isinstance(refused, Throttled) and refused.case is None
    assert clock.now < refused.retry_at <= clock.now + DAY
    # The owner's platform id verified this dossier before: exempt from its slow-down ...
    assert (await check(store, CODE, "5678", user="owner")).outcome == "found"
    # ... but only on that platform (the web chat session "owner" is someone else) ...
    assert isinstance(await check(store, CODE, "5678", user="owner", platform=WEB), Throttled)
    # ... and not from its own limit as a sender.
    outcomes = [(await check(store, CODE, "0000", user="owner")).outcome for _ in range(5)]
    assert outcomes == ["no_match"] * 4 + ["locked"]
    locked = await check(store, CODE, "5678", user="owner")
    assert locked.outcome == "locked" and not isinstance(locked, Throttled)
    # Other dossiers are not slowed down by the attack on this one.
    assert (await check(store, "H56-250701-0002", "4321", user="new-owner")).outcome == "found"


async def test_a_web_chat_attack_does_not_slow_messenger_or_zalo(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    await attack(store, clock, WEB, clock.now + DAY)
    assert isinstance(await check(store, CODE, "5678", user="new", platform=WEB), Throttled)
    for platform in (FB, ZALO):
        assert (await check(store, CODE, "5678", user="new", platform=platform)).outcome == "found"


async def test_staff_unlock_forgives_the_failed_checks_audited(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    await attack(store, clock, FB, clock.now + DAY)
    assert isinstance(await check(store, CODE, "5678", user="at-the-desk"), Throttled)
    assert await unlock(store, CODE.lower(), by="hoa", reason="came to the desk") == 15
    assert (await check(store, CODE, "5678", user="at-the-desk")).outcome == "found"
    assert await unlock(store, "H56-NOPE-0001", by="hoa") is None  # no such dossier
    (row_,) = await store.case_rows("case_unlocks")
    assert {k: row_[k] for k in ("code", "by", "reason", "forgiven")} == {
        "code": CODE, "by": "hoa", "reason": "came to the desk", "forgiven": 15,
    }  # fmt: skip
    assert row_["at"] == clock.now


async def test_five_failures_per_sender_lock_the_sender(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    # Unknown codes and wrong digits count alike (and answer alike).
    tries = [("NOPE-1", "1111"), ("NOPE-2", "1111"), (CODE, "0000"), ("H56-250701-0002", "0000")]
    assert [(await check(store, c, d)).outcome for c, d in tries] == ["no_match"] * 4
    assert (await check(store, "NOPE-3", "1111")).outcome == "locked"
    assert (await check(store, CODE, "5678")).outcome == "locked"  # right digits, still locked
    assert (await check(store, CODE, "5678", user="someone-else")).outcome == "found"
    audit = await store.case_rows("case_lookups")
    assert [a["outcome"] for a in audit] == ["no_match"] * 5 + ["locked", "found"]
    assert set(audit[0]) == {"id", "platform", "user_id", "code", "outcome", "at"}
    assert not {"5678", "0000"} & {str(v) for a in audit for v in a.values()}


async def test_a_senders_failures_older_than_a_day_do_not_count(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    for _ in range(4):
        assert (await check(store, CODE, "0000")).outcome == "no_match"
    clock.advance(24 * 3600 + 1)
    for _ in range(4):  # another dossier: the first one's failures count for 30 days
        assert (await check(store, "H56-250701-0002", "0000")).outcome == "no_match"
    assert (await check(store, CODE, "5678")).outcome == "found"
