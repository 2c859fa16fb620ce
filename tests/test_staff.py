"""Staff accounts (issue 11): the store's rows, the password policy and hashing, sessions'
expiry and the login throttling as the core applies them, and `bot staff add|list|remove|passwd`.

argon2 runs with cheap parameters here (`CHEAP`) except where the shipped ones are checked.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

import bot.cli
from bot.cli import cli
from bot.models.staff import Role, StaffNameTakenError, StaffPolicy
from bot.staff.accounts import AccountError, add_account, change_password, remove_account
from bot.staff.passwords import PasswordPolicyError, Passwords, check_password
from bot.staff.sessions import (
    LoginStatus,
    SessionStatus,
    check_session,
    csrf_matches,
    log_in,
    log_out,
    token_hash,
)
from bot.store import Store
from tests.conftest import FakeClock

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "mật khẩu đủ dài"
POLICY = StaffPolicy(
    idle_seconds=1800, absolute_seconds=12 * 3600, max_failures=5, window_seconds=900
)


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(CHEAP)


# -- passwords ---------------------------------------------------------------------------


def test_the_shipped_hasher_is_argon2id_and_verifies_only_the_password() -> None:
    passwords = Passwords()
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD)  # no account: never a match
    assert not passwords.verify("not a hash", PASSWORD)
    assert not passwords.needs_rehash(stored)


def test_a_hash_made_with_other_parameters_needs_a_rehash(passwords: Passwords) -> None:
    old = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)).hash(PASSWORD)
    assert passwords.needs_rehash(old) and passwords.verify(old, PASSWORD)
    assert not passwords.needs_rehash(passwords.hash(PASSWORD))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("ngắn", "at least 10"),
        ("123456789", "at least 10"),
        (" " * 12, "only spaces"),
        ("x" * 1025, "at most"),
    ],
)
def test_the_password_policy_says_why(password: str, reason: str) -> None:
    with pytest.raises(PasswordPolicyError, match=reason):
        check_password(password)
    check_password("1234567890")  # ten characters are enough


# -- the store and the accounts ------------------------------------------------------------


async def test_accounts_are_added_listed_changed_and_removed_with_an_audit(
    store: Store, passwords: Passwords
) -> None:
    user = await add_account(store, passwords, " Lan ", Role.ADMIN, PASSWORD, actor="cli:t", now=10)
    assert (user.name, user.role, user.created_at, user.disabled) == ("lan", Role.ADMIN, 10, False)
    assert passwords.verify(user.password_hash, PASSWORD)
    await add_account(store, passwords, "tuan", Role.VIEWER, PASSWORD, actor="cli:t", now=11)
    assert [u.name for u in await store.staff_users()] == ["lan", "tuan"]

    with pytest.raises(AccountError, match="exists already"):
        await add_account(store, passwords, "LAN", Role.VIEWER, PASSWORD, actor="cli:t", now=12)
    with pytest.raises(StaffNameTakenError):
        await store.add_staff("lan", Role.VIEWER, "h", 12)
    with pytest.raises(AccountError, match="invalid name"):
        await add_account(store, passwords, "Lan Anh", Role.VIEWER, PASSWORD, actor="t", now=12)
    with pytest.raises(AccountError, match="at least 10"):
        await add_account(store, passwords, "hoa", Role.VIEWER, "short", actor="t", now=12)

    await change_password(store, passwords, "tuan", "một mật khẩu mới", actor="cli:t", now=13)
    tuan = await store.staff_user("tuan")
    assert tuan is not None and passwords.verify(tuan.password_hash, "một mật khẩu mới")
    with pytest.raises(AccountError, match="no account"):
        await change_password(store, passwords, "ai", PASSWORD, actor="cli:t", now=13)

    removed = await remove_account(store, "TUAN", actor="cli:t", now=14)
    assert removed.name == "tuan" and await store.staff_user("tuan") is None
    with pytest.raises(AccountError, match="no account"):
        await remove_account(store, "tuan", actor="cli:t", now=15)

    entries, total = await store.audit_entries(0, 10)
    assert total == 4
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("cli:t", "staff.remove", "tuan"),
        ("cli:t", "staff.passwd", "tuan"),
        ("cli:t", "staff.add", "tuan"),
        ("cli:t", "staff.add", "lan"),
    ]
    assert json.loads(entries[0].before or "") == {"name": "tuan", "role": "viewer"}
    assert json.loads(entries[3].after or "") == {"name": "lan", "role": "admin"}
    assert all("argon2" not in (e.before or "") + (e.after or "") for e in entries)


async def test_sessions_expire_when_idle_and_at_their_absolute_end(
    store: Store, passwords: Passwords
) -> None:
    await add_account(store, passwords, "lan", Role.EDITOR, PASSWORD, actor="t", now=0)
    login = await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.0.0.1", 1000)
    assert login.status is LoginStatus.OK and login.token and login.session
    assert login.session.role is Role.EDITOR and login.session.expires_at == 1000 + 12 * 3600
    # The store keeps the token's hash only.
    assert await store.staff_session(login.token) is None
    assert await store.staff_session(token_hash(login.token)) is not None

    # Active every 29 minutes: alive until the absolute end, 12 hours after login.
    now = 1000.0
    while now + 1740 < 1000 + 12 * 3600:
        now += 1740
        assert (await check_session(store, POLICY, login.token, now)).status is SessionStatus.OK
    ended = await check_session(store, POLICY, login.token, 1000 + 12 * 3600)
    assert ended.status is SessionStatus.EXPIRED
    assert (await check_session(store, POLICY, login.token, now)).status is SessionStatus.NONE

    idle = await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.0.0.1", 5000)
    assert idle.token
    assert (await check_session(store, POLICY, idle.token, 5000 + 1799)).status is SessionStatus.OK
    late = await check_session(store, POLICY, idle.token, 5000 + 1799 + 1800)
    assert late.status is SessionStatus.EXPIRED
    assert (await check_session(store, POLICY, None, 5000)).status is SessionStatus.NONE


async def test_a_new_password_or_removal_ends_the_accounts_sessions(
    store: Store, passwords: Passwords
) -> None:
    await add_account(store, passwords, "lan", Role.ADMIN, PASSWORD, actor="t", now=0)
    first = await log_in(store, passwords, POLICY, "lan", PASSWORD, "a", 1)
    assert first.token
    await change_password(store, passwords, "lan", "mật khẩu thứ hai", actor="t", now=2)
    assert (await check_session(store, POLICY, first.token, 3)).status is SessionStatus.NONE
    second = await log_in(store, passwords, POLICY, "lan", "mật khẩu thứ hai", "a", 4)
    assert second.token
    await remove_account(store, "lan", actor="t", now=5)
    assert (await check_session(store, POLICY, second.token, 6)).status is SessionStatus.NONE


async def test_login_is_throttled_per_name_and_per_address_then_allowed_again(
    store: Store, passwords: Passwords
) -> None:
    await add_account(store, passwords, "lan", Role.VIEWER, PASSWORD, actor="t", now=0)
    for n in range(5):
        wrong = await log_in(
            store, passwords, POLICY, "lan", "sai mật khẩu", f"10.0.0.{n}", 100 + n
        )
        assert wrong.status is LoginStatus.FAILED
    # Five failures for the name: even the right password from a fresh address is refused.
    refused = await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.9.9.9", 200)
    assert refused.status is LoginStatus.THROTTLED and refused.token is None
    # Refusals do not extend the window: 15 minutes after the first failure, one slot frees.
    assert (
        await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.9.9.9", 100 + 900)
    ).status is LoginStatus.OK

    # Per address: five wrong names from one address lock that address for any name.
    for n in range(5):
        await log_in(store, passwords, POLICY, f"ai{n}", "sai mật khẩu", "10.6.6.6", 2000 + n)
    blocked = await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.6.6.6", 2010)
    assert blocked.status is LoginStatus.THROTTLED
    other = await log_in(store, passwords, POLICY, "lan", PASSWORD, "10.7.7.7", 2010)
    assert other.status is LoginStatus.OK

    entries, _ = await store.audit_entries(0, 100)
    actions = [e.action for e in reversed(entries)]
    assert actions.count("login.failed") == 10 and actions.count("login.throttled") == 2
    assert actions.count("login") == 2
    assert {e.address for e in entries if e.action == "login.throttled"} == {"10.9.9.9", "10.6.6.6"}


async def test_a_wrong_name_and_a_wrong_password_fail_alike(
    store: Store, passwords: Passwords
) -> None:
    await add_account(store, passwords, "lan", Role.VIEWER, PASSWORD, actor="t", now=0)
    no_one = await log_in(store, passwords, POLICY, "khong-co", PASSWORD, "a", 1)
    wrong = await log_in(store, passwords, POLICY, "lan", "sai mật khẩu", "b", 1)
    assert no_one == wrong == type(wrong)(LoginStatus.FAILED)


async def test_a_disabled_account_cannot_sign_in_nor_keep_its_session(
    store: Store, passwords: Passwords, db_path: Path
) -> None:
    await add_account(store, passwords, "lan", Role.ADMIN, PASSWORD, actor="t", now=0)
    login = await log_in(store, passwords, POLICY, "lan", PASSWORD, "a", 1)
    await store._run(lambda db: db.execute("UPDATE staff_users SET disabled = 1"))
    assert (await check_session(store, POLICY, login.token, 2)).status is SessionStatus.NONE
    assert (
        await log_in(store, passwords, POLICY, "lan", PASSWORD, "a", 3)
    ).status is LoginStatus.FAILED


async def test_login_rehashes_a_hash_made_with_old_parameters(
    store: Store, passwords: Passwords
) -> None:
    old = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    await add_account(store, old, "lan", Role.VIEWER, PASSWORD, actor="t", now=0)
    before = await store.staff_user("lan")
    assert before is not None and passwords.needs_rehash(before.password_hash)
    login = await log_in(store, passwords, POLICY, "lan", PASSWORD, "a", 1)
    assert login.status is LoginStatus.OK
    after = await store.staff_user("lan")
    assert after is not None and after.password_hash != before.password_hash
    assert not passwords.needs_rehash(after.password_hash)
    assert passwords.verify(after.password_hash, PASSWORD)
    # The rehash keeps the session just opened.
    assert (await check_session(store, POLICY, login.token, 2)).status is SessionStatus.OK


async def test_logout_ends_the_session_and_is_audited(store: Store, passwords: Passwords) -> None:
    await add_account(store, passwords, "lan", Role.VIEWER, PASSWORD, actor="t", now=0)
    login = await log_in(store, passwords, POLICY, "lan", PASSWORD, "a", 1)
    assert login.token and login.session
    assert csrf_matches(login.session, login.session.csrf_secret)
    assert not csrf_matches(login.session, login.session.csrf_secret[:-1] + "x")
    assert not csrf_matches(login.session, "")
    await log_out(store, login.token, login.session, "a", 2)
    assert (await check_session(store, POLICY, login.token, 3)).status is SessionStatus.NONE
    entries, _ = await store.audit_entries(0, 1)
    assert (entries[0].action, entries[0].actor, entries[0].address) == ("logout", "lan", "a")


async def test_a_burst_of_parallel_guesses_stays_within_the_limit(
    store: Store, passwords: Passwords
) -> None:
    await add_account(store, passwords, "lan", Role.VIEWER, PASSWORD, actor="t", now=0)
    guesses = [
        log_in(store, passwords, POLICY, "lan", f"đoán lần thứ {n}", f"10.0.0.{n}", 100)
        for n in range(12)
    ]
    outcomes = [login.status for login in await asyncio.gather(*guesses)]
    assert outcomes.count(LoginStatus.FAILED) == 5
    assert outcomes.count(LoginStatus.THROTTLED) == 7


async def test_old_login_attempts_are_dropped(store: Store) -> None:
    assert (await store.claim_login_attempt("lan", "1.2.3.4", -1, 5, 0))[0] is not None
    await store.claim_login_attempt("lan", "1.2.3.4", 25 * 3600 - 900, 5, 25 * 3600)
    count = await store._run(
        lambda db: db.execute("SELECT count(*) FROM staff_login_attempts").fetchone()[0]
    )
    assert count == 1


async def test_the_audit_log_pages_newest_first(store: Store) -> None:
    for n in range(25):
        await store.record_audit("lan", "x", f"t{n}", float(n))
    page, total = await store.audit_entries(10, 10)
    assert total == 25 and [e.target for e in page] == [f"t{n}" for n in range(14, 4, -1)]


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setattr(bot.cli, "_passwords", lambda: Passwords(CHEAP))
    yield CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def test_bot_staff_add_reads_the_password_from_stdin_and_stores_only_a_hash(
    runner: CliRunner, tmp_path: Path
) -> None:
    one = runner.invoke(cli, ["staff", "add", "lan", "--role", "admin"], input=PASSWORD + "\n")
    assert one.exit_code == 0, one.output
    assert "Added lan (admin)" in one.output
    two = runner.invoke(
        cli, ["staff", "add", "Tuan", "--role", "viewer"], input=f"{PASSWORD}\r\n{PASSWORD}\r\n"
    )
    assert two.exit_code == 0, two.output
    stored = rows(
        tmp_path / "bot.db", "SELECT name, role, password_hash FROM staff_users ORDER BY name"
    )
    assert [(n, r) for n, r, _ in stored] == [("lan", "admin"), ("tuan", "viewer")]
    assert all(str(h).startswith("$argon2id$") and PASSWORD not in str(h) for _, _, h in stored)
    assert Passwords(CHEAP).verify(str(stored[1][2]), PASSWORD)

    listed = runner.invoke(cli, ["staff", "list"])
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.output.splitlines()] == [
        ["lan", "admin"],
        ["tuan", "viewer"],
    ]
    audit = rows(tmp_path / "bot.db", "SELECT actor, action, target FROM staff_audit ORDER BY id")
    assert [a[1:] for a in audit] == [("staff.add", "lan"), ("staff.add", "tuan")]
    assert all(str(a[0]).startswith("cli") for a in audit)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "lan", "--role", "admin"], "ngắn\n", "at least 10 characters"),
        (["add", "lan", "--role", "admin"], f"{PASSWORD}\n{PASSWORD}x\n", "differ"),
        (["add", "lan", "--role", "admin"], "", "one line, or the same line twice"),
        (["add", "lan", "--role", "admin"], "a\nb\nc\n", "one line, or the same line twice"),
        (["add", "Lan Anh", "--role", "admin"], f"{PASSWORD}\n", "invalid name"),
        (["add", "lan", "--role", "chief"], f"{PASSWORD}\n", "Invalid value for '--role'"),
        (["remove", "ai"], "", "no account named 'ai'"),
        (["passwd", "ai"], f"{PASSWORD}\n", "no account named 'ai'"),
    ],
)
def test_bot_staff_refuses_clearly_and_changes_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(cli, ["staff", *args], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    if (tmp_path / "bot.db").exists():
        assert rows(tmp_path / "bot.db", "SELECT count(*) FROM staff_users") == [(0,)]


def test_bot_staff_add_refuses_a_taken_name(runner: CliRunner) -> None:
    assert (
        runner.invoke(cli, ["staff", "add", "lan", "--role", "admin"], input=PASSWORD).exit_code
        == 0
    )
    again = runner.invoke(cli, ["staff", "add", "LAN", "--role", "viewer"], input=PASSWORD)
    assert again.exit_code == 1 and "exists already" in again.output


def test_bot_staff_prompts_twice_hidden_on_a_terminal(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.cli, "_stdin_is_terminal", lambda: True)
    ok = runner.invoke(
        cli, ["staff", "add", "lan", "--role", "editor"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert ok.exit_code == 0, ok.output
    assert "Password: \nPassword (again): \n" in ok.output  # prompted twice, nothing echoed
    assert PASSWORD not in ok.output
    bad = runner.invoke(cli, ["staff", "passwd", "lan"], input=f"{PASSWORD}\nkhác hẳn rồi nhé\n")
    assert bad.exit_code == 1 and "differ" in bad.output


def test_bot_staff_passwd_and_remove(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    runner.invoke(cli, ["staff", "add", "lan", "--role", "admin"], input=PASSWORD)
    (old,) = rows(db, "SELECT password_hash FROM staff_users")
    changed = runner.invoke(cli, ["staff", "passwd", "lan"], input="mật khẩu mới toanh\n")
    assert changed.exit_code == 0 and "sessions are ended" in changed.output
    (new,) = rows(db, "SELECT password_hash FROM staff_users")
    assert new != old and Passwords(CHEAP).verify(str(new[0]), "mật khẩu mới toanh")
    removed = runner.invoke(cli, ["staff", "remove", "lan"])
    assert removed.exit_code == 0 and "Removed lan (admin)" in removed.output
    assert rows(db, "SELECT count(*) FROM staff_users") == [(0,)]
    empty = runner.invoke(cli, ["staff", "list"])
    assert "No staff accounts yet" in empty.output


def test_store_keeps_staff_tables_in_one_migration(tmp_path: Path, clock: FakeClock) -> None:
    async def names() -> list[str]:
        store = await Store.open(tmp_path / "x.db", clock=clock)
        try:
            return await store._run(
                lambda db: [
                    r[0]
                    for r in db.execute(
                        "SELECT name FROM sqlite_master WHERE name LIKE 'staff_%' AND type = 'table' ORDER BY name"
                    )
                ]
            )
        finally:
            await store.close()

    assert asyncio.run(names()) == [
        "staff_audit",
        "staff_login_attempts",
        "staff_sessions",
        "staff_users",
    ]
