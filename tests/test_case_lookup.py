"""Looking a dossier up (bot/cases/lookup.py, `bot.cases.actions.lookup`): codes and digits in messages, the
lock policy per dossier and per sender, the audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bundle import Bundle
from bot.cases.actions import import_file, lookup
from bot.cases.lookup import find_code, find_digits
from bot.models import LookupRequest, LookupResult, Platform
from bot.store import Store
from tests.case_builders import (
    CODE,
    csv_bytes,
    row,
    write,
)
from tests.conftest import FakeClock

FB = Platform.FACEBOOK

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


async def check(store: Store, code: str, digits: str, user: str = "u1") -> LookupResult:
    return await lookup(store, FB, user, LookupRequest(code, digits))


async def test_five_failures_per_dossier_lock_it_for_everyone(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    found = await check(store, CODE.lower(), "5678")
    assert found.outcome == "found" and found.case is not None and found.case.code == CODE
    outcomes = [(await check(store, CODE, "0000", user=f"guess-{n}")).outcome for n in range(5)]
    assert outcomes == ["no_match"] * 4 + ["locked"]
    # The dossier is locked, even for its owner with the right digits, elsewhere too ...
    assert (await check(store, CODE, "5678", user="owner")).outcome == "locked"
    assert (await check(store, "H56-250701-0002", "4321", user="owner")).outcome == "found"
    # ... for 24 hours.
    clock.advance(24 * 3600 + 1)
    assert (await check(store, CODE, "5678", user="owner")).outcome == "found"


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


async def test_failures_older_than_a_day_do_not_count(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await seeded(tmp_path, store, bundle)
    for _ in range(4):
        assert (await check(store, CODE, "0000")).outcome == "no_match"
    clock.advance(24 * 3600 + 1)
    for _ in range(4):
        assert (await check(store, CODE, "0000")).outcome == "no_match"
    assert (await check(store, CODE, "5678")).outcome == "found"
