"""Notices to commune clerks: targets, channels, the Messenger window, once per event and
recipient (also across restarts), the outbox outcome on each notice, end to end through the
server to a fake Zalo API (the GMF group endpoint) and Graph; and the daily deadline digest."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest
import yaml
from click.testing import CliRunner
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.cases.dates import VN_TZ
from bot.clerks.communes import load_communes
from bot.clerks.digest import Digester, DigestRun, digest_text, digests
from bot.clerks.notify import TargetError, default_event, plan, send
from bot.cli import cli
from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.models import Case, CaseStatus, Incoming, Platform
from bot.models.clerks import Clerk
from bot.rate_limit import RateLimit
from bot.store import Store
from tests.conftest import FakeClock, FakePlatforms, Fault, make_settings
from webhooks.app import ZaloSender, create_app
from webhooks.keys import STORE_KEY, WORKER_KEY

COMMUNES = load_communes()
GROUP_ID = "f414c8f76fa586fbdfb4"
GROUPS = {"tu-phap": GROUP_ID}
AN = Clerk("Nguyễn Văn An", "00715", Platform.ZALO, "4558424660619243532")  # Xã Lũng Cú
BINH = Clerk("Trần Thị Bình", "00715", Platform.FACEBOOK, "1256217357730577")
CUONG = Clerk("Lê Văn Cường", "00694", Platform.ZALO, "7300442764876318465")  # P. Hà Giang 1
TEXT = "Sở Tư pháp thông báo: lịch tập huấn hộ tịch ngày 15/12."


async def registry(store: Store) -> None:
    await store.upsert_clerks([AN, BINH, CUONG])


async def wrote_to_page(store: Store, clerk: Clerk) -> None:
    """The clerk wrote to the Page just now: Messenger's 24-hour window is open."""
    await store.record_inbound(Incoming(clerk.platform, clerk.user_id, f"m-{clerk.user_id}"))


# -- who receives it, on which channel ---------------------------------------------------


async def test_targets_name_groups_communes_clerks_and_everyone(store: Store) -> None:
    await registry(store)
    group = await plan(store, ["group:tu-phap"], TEXT, COMMUNES, GROUPS)
    assert [(r.label, r.channel, r.address) for r in group.recipients] == [
        ("Zalo group tu-phap", "Zalo group", GROUP_ID)
    ]
    commune = await plan(store, ["commune:lung cu"], TEXT, COMMUNES, GROUPS)
    assert [(r.label, r.channel) for r in commune.recipients] == [
        ("Nguyễn Văn An (Xã Lũng Cú)", "Zalo OA message"),
        ("Trần Thị Bình (Xã Lũng Cú)", "Messenger"),
    ]
    one = await plan(store, [f"clerk:{CUONG.user_id}"], TEXT, COMMUNES, GROUPS)
    assert [r.label for r in one.recipients] == ["Lê Văn Cường (Phường Hà Giang 1)"]
    everyone = await plan(
        store, ["all", "commune:Lũng Cú", "group:tu-phap"], TEXT, COMMUNES, GROUPS
    )
    assert len(everyone.recipients) == 4  # each recipient once
    assert everyone.event == default_event(TEXT) == default_event(f"  {TEXT}\n")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("group:khac", "no Zalo group named 'khac'; known: tu-phap"),
        ("commune:Atlantis", "unknown commune or ward 'Atlantis'"),
        ("commune:Đồng Văn", "no clerk of Xã Đồng Văn in the registry"),
        ("clerk:999", "no clerk '999' in the registry"),
        ("everyone", "unknown target 'everyone'"),
    ],
)
async def test_a_target_that_names_nothing_is_refused(
    store: Store, target: str, message: str
) -> None:
    await registry(store)
    with pytest.raises(TargetError, match=message):
        await plan(store, [target], TEXT, COMMUNES, GROUPS)


async def test_messenger_clerks_are_written_to_only_within_24_hours(
    store: Store, clock: FakeClock
) -> None:
    await registry(store)
    closed = await plan(store, [f"clerk:{BINH.user_id}"], TEXT, COMMUNES, GROUPS)
    assert "24-hour window" in str(closed.recipients[0].blocked)
    await wrote_to_page(store, BINH)
    clock.advance(23 * 3600)
    still = await plan(store, [f"clerk:{BINH.user_id}"], TEXT, COMMUNES, GROUPS, now=clock())
    assert still.recipients[0].blocked is None
    clock.advance(2 * 3600)
    late = await plan(store, [f"clerk:{BINH.user_id}"], TEXT, COMMUNES, GROUPS, now=clock())
    assert "in the last 24 hours" in str(late.recipients[0].blocked)


# -- once per event and recipient --------------------------------------------------------


async def test_a_notice_is_queued_once_per_recipient_also_after_a_restart(
    db_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(db_path, clock=clock)
    await registry(store)
    planned = await plan(store, ["all", "group:tu-phap"], TEXT, COMMUNES, GROUPS, now=clock())
    first = await send(store, planned)
    assert (first.queued, first.blocked, first.already) == (3, 1, 0)  # Bình: Messenger window
    await store.close()

    store = await Store.open(db_path, clock=clock)  # a restart, then the same notice again
    again = await send(store, planned)
    assert (again.queued, again.blocked, again.already) == (0, 0, 4)
    rows = await store.outbox_rows()
    assert sorted((r.outgoing.platform, r.outgoing.user_id) for r in rows) == [
        (Platform.ZALO, AN.user_id),
        (Platform.ZALO, CUONG.user_id),
        (Platform.ZALO_GROUP, GROUP_ID),
    ]
    assert {r.outgoing.reply.text for r in rows} == {TEXT}
    notices = {n.recipient: n for n in await store.notices()}
    assert notices[f"clerk:facebook:{BINH.user_id}"].status == "failed"
    assert "24-hour window" in str(notices[f"clerk:facebook:{BINH.user_id}"].error)
    await store.close()


async def test_a_clerk_blocked_by_the_window_gets_the_notice_once_it_opens(
    store: Store, clock: FakeClock
) -> None:
    await registry(store)
    target = [f"clerk:{BINH.user_id}"]
    blocked = await send(store, await plan(store, target, TEXT, COMMUNES, GROUPS, now=clock()))
    assert (blocked.queued, blocked.blocked) == (0, 1)
    still = await send(store, await plan(store, target, TEXT, COMMUNES, GROUPS, now=clock()))
    assert (still.queued, still.already) == (0, 1)  # recorded once, not twice
    await wrote_to_page(store, BINH)  # the clerk writes to the Page: the window opens
    opened = await send(store, await plan(store, target, TEXT, COMMUNES, GROUPS, now=clock()))
    assert opened.queued == 1
    (notice,) = await store.notices()
    assert (notice.status, notice.error) == ("pending", None)
    again = await send(store, await plan(store, target, TEXT, COMMUNES, GROUPS, now=clock()))
    assert (again.queued, again.already) == (0, 1)
    assert len(await store.outbox_rows()) == 1


async def test_each_outbox_outcome_is_copied_onto_its_notice(
    store: Store, clock: FakeClock
) -> None:
    await registry(store)
    planned = await plan(store, [f"clerk:{AN.user_id}", "group:tu-phap"], TEXT, COMMUNES, GROUPS)
    await send(store, planned)
    rows = await store.claim_due(clock(), 10, 60)
    by_platform = {r.outgoing.platform: r.id for r in rows}
    await store.mark_retry(by_platform[Platform.ZALO_GROUP], clock() + 5, "HTTP 500")
    await store.mark_failed(by_platform[Platform.ZALO], "-230 user has not interacted in 7 days")
    notices = {n.platform: n for n in await store.notices()}
    group, clerk = notices[Platform.ZALO_GROUP], notices[Platform.ZALO]
    assert (group.status, group.error, group.attempts) == ("pending", "HTTP 500", 1)
    assert (clerk.status, clerk.error) == ("failed", "-230 user has not interacted in 7 days")
    clock.advance(10)
    (retry,) = await store.claim_due(clock(), 10, 60)
    await store.mark_sent(retry.id)
    group = {n.platform: n for n in await store.notices()}[Platform.ZALO_GROUP]
    assert (group.status, group.attempts, group.finished_at) == ("sent", 2, clock())


# -- end to end: the server, the outbox, a fake Zalo API ---------------------------------


async def test_group_and_clerk_messages_reach_the_zalo_api_with_a_retry(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, clerk_groups=GROUPS)
    client = await aiohttp_client(create_app(settings, bundle))
    store: Store = client.app[STORE_KEY]
    await registry(store)
    await wrote_to_page(store, BINH)
    platforms.fail("/v3.0/oa/group/message", Fault(status=500))  # the group send fails first
    planned = await plan(
        store, ["group:tu-phap", "commune:Lũng Cú"], TEXT, COMMUNES, dict(settings.clerk_groups)
    )
    counts = await send(store, planned)
    assert counts.queued == 3
    client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: any(r.status == 500 for r in platforms.received))
    platforms.heal()
    await platforms.wait_for(lambda: len(platforms.sent()) == 3)

    (group,) = platforms.sent("/v3.0/oa/group/message")
    assert group.body == {"recipient": {"group_id": GROUP_ID}, "message": {"text": TEXT}}
    assert group.headers["access_token"] == "zalo-access"
    assert group.headers["Content-Type"].startswith("application/json")
    (cs,) = platforms.sent("/v3.0/oa/message/cs")
    assert cs.body == {"recipient": {"user_id": AN.user_id}, "message": {"text": TEXT}}
    (fb,) = platforms.sent("/me/messages")
    assert fb.body["recipient"] == {"id": BINH.user_id} and fb.text == TEXT

    await client.app[WORKER_KEY].settled()
    notices = {n.platform: n for n in await store.notices()}
    assert {n.status for n in notices.values()} == {"sent"}
    assert notices[Platform.ZALO_GROUP].attempts == 2
    again = await send(store, planned)  # the same event: no one gets it twice
    assert (again.queued, again.already) == (0, 3)
    await client.close()


async def test_a_group_the_oa_does_not_own_is_a_recorded_failure(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, clerk_groups=GROUPS)
    client = await aiohttp_client(create_app(settings, bundle))
    store: Store = client.app[STORE_KEY]
    refused = {"error": -403, "message": "OA is not in group"}
    platforms.fail("/v3.0/oa/group/message", Fault(status=200, body=refused))
    await send(store, await plan(store, ["group:tu-phap"], TEXT, COMMUNES, GROUPS))
    client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: len(platforms.received) == 1)
    await client.app[WORKER_KEY].settled()
    (notice,) = await store.notices()
    assert notice.status == "failed" and "OA is not in the group" in str(notice.error)
    assert notice.attempts == 1  # permanent: not retried
    await client.close()


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"clerk_groups": GROUPS}), encoding="utf-8")
    return str(path)


def test_bot_notify_dry_run_lists_recipients_and_sends_nothing(
    runner: CliRunner, config: str, tmp_path: Path
) -> None:
    add = ["clerks", "add", "--name", AN.name, "--commune", "Lũng Cú", "--platform", "zalo"]
    assert runner.invoke(cli, [*add, "--user-id", AN.user_id]).exit_code == 0
    fb = ["clerks", "add", "--name", BINH.name, "--commune", "Lũng Cú", "--platform", "facebook"]
    assert runner.invoke(cli, [*fb, "--user-id", BINH.user_id]).exit_code == 0
    args = ["--config", config, "notify", "--to", "group:tu-phap", "--to", "commune:lung cu"]

    dry = runner.invoke(cli, [*args, "--dry-run", TEXT])
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert lines[0] == f"Zalo group tu-phap\tZalo group\t{GROUP_ID}"
    assert lines[1] == f"Nguyễn Văn An (Xã Lũng Cú)\tZalo OA message\t{AN.user_id}"
    assert lines[2].startswith(f"Trần Thị Bình (Xã Lũng Cú)\tMessenger\t{BINH.user_id}")
    assert "not sent: outside Messenger's 24-hour window" in lines[2]
    assert lines[-1] == "Dry run: 3 recipients; nothing was sent."
    # No platform secrets in this environment: said, as the messages would wait in the outbox.
    assert "Warning: not configured here: Messenger, Zalo OA message, Zalo group" in dry.output
    empty = runner.invoke(cli, ["--config", config, "report", "notifications"])
    assert "No notices" in empty.output

    sent = runner.invoke(cli, [*args, TEXT])
    assert sent.exit_code == 0, sent.output
    assert "2 queued, 1 not sendable (recorded), 0 already had it" in sent.output
    twice = runner.invoke(cli, [*args, TEXT])
    assert "0 queued, 0 not sendable (recorded), 3 already had it" in twice.output
    on_purpose = runner.invoke(cli, [*args, "--event", "tap-huan-2", TEXT])
    assert "2 queued" in on_purpose.output

    report = runner.invoke(cli, ["--config", config, "report", "notifications"])
    assert report.exit_code == 0, report.output
    assert "0 sent, 4 pending, 2 failed" in report.output
    assert "Trần Thị Bình (Xã Lũng Cú)\tfacebook\tfailed: outside Messenger" in report.output

    unknown = runner.invoke(cli, ["--config", config, "notify", "--to", "group:x", TEXT])
    assert unknown.exit_code == 1 and "nothing was sent" in unknown.output


# -- the daily deadline digest -----------------------------------------------------------


def vn_time(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime.combine(day, dt.time(hour, minute), VN_TZ).timestamp()


MONDAY = dt.date(2026, 12, 7)
DOSSIERS = [
    Case("H56-OVERDUE", CaseStatus.PROCESSING, "5678", procedure="Đăng ký khai sinh",
         owner_masked="N*** V** A", due=dt.date(2026, 12, 3), unit="UBND xã Lũng Cú"),
    Case("H56-TOMORROW", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 8), unit="Lũng Cú"),
    Case("H56-WEDNESDAY", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 9), unit="Lũng Cú"),
    Case("H56-THURSDAY", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 10), unit="Lũng Cú"),
    Case("H56-READY", CaseStatus.READY, "5678", due=dt.date(2026, 12, 1), unit="Lũng Cú"),
    Case("H56-NOWHERE", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 1), unit="Sở Tư pháp"),
    Case("H56-HAGIANG", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 1), unit="P. Hà Giang 1"),
    Case("H56-DONGVAN", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 12, 31), unit="Đồng Văn"),
]  # fmt: skip


def test_the_digest_lists_overdue_and_due_within_two_working_days_per_commune() -> None:
    found = {d.commune.label: d for d in digests(DOSSIERS, COMMUNES, MONDAY, 2)}
    assert set(found) == {"Xã Lũng Cú", "Phường Hà Giang 1"}  # Đồng Văn: nothing to say
    lung_cu = found["Xã Lũng Cú"]
    assert [c.code for c in lung_cu.overdue] == ["H56-OVERDUE"]
    assert [c.code for c in lung_cu.due_soon] == ["H56-TOMORROW", "H56-WEDNESDAY"]
    text = digest_text(lung_cu, MONDAY, 2)
    assert text.startswith("Sở Tư pháp nhắc hạn giải quyết hồ sơ của Xã Lũng Cú (ngày 07/12/2026)")
    assert "Quá hạn (1 hồ sơ):\n• H56-OVERDUE – Đăng ký khai sinh, hẹn trả 03/12/2026" in text
    assert "Đến hạn trong 2 ngày làm việc tới (2 hồ sơ):" in text
    assert "N*** V** A" not in text and "H56-THURSDAY" not in text
    # Friday: the weekend is skipped, so Tuesday is the second working day.
    friday = {d.commune.code: d for d in digests(DOSSIERS, COMMUNES, dt.date(2026, 12, 4), 2)}
    assert "H56-TOMORROW" in [c.code for c in friday["00715"].due_soon]


async def digest_store(db_path: Path, clock: FakeClock) -> Store:
    store = await Store.open(db_path, clock=clock)
    await store.import_cases(DOSSIERS, lambda *_: "no subscribers")
    await store.upsert_clerks([AN, BINH, CUONG])
    return store


async def test_the_digest_goes_at_its_time_once_also_after_a_restart(
    db_path: Path, clock: FakeClock
) -> None:
    clock.now = vn_time(MONDAY, 7, 29)
    store = await digest_store(db_path, clock)
    digester = Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock)
    assert (await digester.run_once()).day is None  # not time yet
    clock.now = vn_time(MONDAY, 7, 31)
    first = await digester.run_once()
    # Lũng Cú: An (Zalo) queued, Bình (Messenger, window closed) recorded; Hà Giang 1: Cường.
    assert (first.day, first.queued, first.blocked) == (MONDAY, 2, 1)
    assert (await digester.run_once()).day is None  # done for today in this process
    await store.close()

    store = await Store.open(db_path, clock=clock)  # a restart the same morning
    clock.advance(600)
    again = await Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock).run_once()
    assert (again.day, again.queued, again.already) == (MONDAY, 0, 3)
    rows = await store.outbox_rows()
    assert sorted(r.outgoing.user_id for r in rows) == sorted([AN.user_id, CUONG.user_id])
    assert {n.event for n in await store.notices()} == {
        "digest:2026-12-07:00715",
        "digest:2026-12-07:00694",
    }
    await store.close()


async def test_missed_digests_are_caught_up_once_not_twice(db_path: Path, clock: FakeClock) -> None:
    # Down from Friday evening to Tuesday 10:00: Monday's and Tuesday's 07:30 were missed.
    clock.now = vn_time(dt.date(2026, 12, 8), 10, 0)
    store = await digest_store(db_path, clock)
    done = await Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock).run_once()
    assert done.day == dt.date(2026, 12, 8) and done.queued == 2
    again = await Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock).run_once()
    assert again.queued == 0
    events = {n.event.rsplit(":", 1)[0] for n in await store.notices()}
    assert events == {"digest:2026-12-08"}  # one catch-up, for today only
    await store.close()


async def test_no_digest_on_a_weekend_or_a_holiday(db_path: Path, clock: FakeClock) -> None:
    store = await digest_store(db_path, clock)
    for day in (dt.date(2026, 12, 6), dt.date(2026, 2, 17), dt.date(2026, 9, 2)):
        clock.now = vn_time(day, 9, 0)
        run = await Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock).run_once()
        assert run.day is None
    assert await store.notices() == []
    await store.close()


async def test_the_server_loop_waits_after_start_up_then_looks_every_poll(
    db_path: Path, clock: FakeClock
) -> None:
    clock.now = vn_time(MONDAY, 8, 0)
    store = await digest_store(db_path, clock)
    waits: list[float] = []
    woken: list[bool] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise asyncio.CancelledError

    digester = Digester(
        store,
        COMMUNES,
        dt.time(7, 30),
        2,
        clock=clock,
        sleep=sleep,
        first_delay=30,
        poll_seconds=60,
    )
    with pytest.raises(asyncio.CancelledError):
        await digester.run(lambda: woken.append(True))
    assert waits == [30, 60, 60] and woken == [True]  # the worker is woken once, for the digest
    assert len(await store.outbox_rows()) == 2
    await store.close()


def test_bot_report_digest_shows_each_communes_digest_without_sending(
    runner: CliRunner, tmp_path: Path
) -> None:
    async def prepare() -> None:
        store = await Store.open(tmp_path / "bot.db")
        await store.import_cases(DOSSIERS, lambda *_: "no subscribers")
        await store.upsert_clerks([AN])
        await store.close()

    asyncio.run(prepare())
    result = runner.invoke(cli, ["report", "digest", "--today", "2026-12-07"])
    assert result.exit_code == 0, result.output
    assert "== Phường Hà Giang 1: 0 clerks (not sent)" in result.output
    assert "== Xã Lũng Cú: 1 clerks\nSở Tư pháp nhắc hạn" in result.output
    assert "1 dossiers overdue or due soon name no commune in Đơn vị: Sở Tư pháp" in result.output
    sunday = runner.invoke(cli, ["report", "digest", "--today", "2026-12-06"])
    assert "2026-12-06 is not a working day: no digest is sent." in sunday.output
    with closing(sqlite3.connect(tmp_path / "bot.db")) as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


# -- the platforms' limits: paced, and a refusal for too many calls waits, never dropped ---


class CountingLimit(RateLimit):
    def __init__(self) -> None:
        super().__init__(3600, 60.0)
        self.waits = 0

    async def wait(self) -> None:
        self.waits += 1
        await super().wait()


async def test_a_rate_limited_zalo_notice_waits_for_the_next_minute_and_is_sent(
    tmp_path: Path, db_path: Path, clock: FakeClock, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, clerk_groups=GROUPS)
    store = await Store.open(db_path, clock=clock)
    await store.upsert_clerks([AN])
    targets = ["group:tu-phap", f"clerk:{AN.user_id}"]
    await send(store, await plan(store, targets, TEXT, COMMUNES, GROUPS, now=clock()))
    limited = {"error": -32, "message": "Your application reached limit call api"}
    platforms.fail("/v3.0/oa/group/message", Fault(status=200, body=limited))
    platforms.fail("/v3.0/oa/message/cs", Fault(status=429))
    async with aiohttp.ClientSession() as session:
        sender = ZaloSender(store, session, settings, clock)
        limit = sender._limit = CountingLimit()  # one per app: Zalo's quota is the app's (§3.7)
        senders = {Platform.ZALO: sender, Platform.ZALO_GROUP: sender.group}
        worker = DeliveryWorker(store, senders, retry_base_seconds=1.0, clock=clock)
        assert await worker.run_once() == 2
        assert limit.waits == 2  # the group message and the CS message both paced by it

        notices = {n.platform: n for n in await store.notices()}
        group, clerk = notices[Platform.ZALO_GROUP], notices[Platform.ZALO]
        assert group.status == "pending" and "zalo -32 rate limit" in str(group.error)
        assert clerk.status == "pending" and "http 429" in str(clerk.error)
        due = {r.outgoing.platform: r.next_attempt_at for r in await store.outbox_rows()}
        assert due == {Platform.ZALO_GROUP: clock() + 60, Platform.ZALO: clock() + 1}

        platforms.heal()
        clock.advance(59)
        assert await worker.run_once() == 1  # the CS message; the group waits for the minute
        clock.advance(1)
        assert await worker.run_once() == 1
    # Zalo answers -32 with HTTP 200: the group saw the same body twice, refused then taken.
    refused, posted = platforms.sent("/v3.0/oa/group/message")
    assert refused.body == posted.body
    assert posted.body == {"recipient": {"group_id": GROUP_ID}, "message": {"text": TEXT}}
    assert len(platforms.sent("/v3.0/oa/message/cs")) == 1
    notices = {n.platform: n for n in await store.notices()}
    assert [(n.status, n.attempts) for n in notices.values()] == [("sent", 2), ("sent", 2)]
    await store.close()


# -- the digest through a fake Zalo API: once, caught up once, working days ----------------


async def digest_to_zalo(
    db_path: Path, clock: FakeClock, settings: Settings, platforms: FakePlatforms
) -> DigestRun:
    """One start of the server's digest: a look at the clock, then the outbox delivered to
    the fake Zalo API (the store opened and closed again, as across a restart)."""
    store = await Store.open(db_path, clock=clock)
    try:
        run = await Digester(store, COMMUNES, dt.time(7, 30), 2, clock=clock).run_once()
        async with aiohttp.ClientSession() as session:
            sender = ZaloSender(store, session, settings, clock)
            senders = {Platform.ZALO: sender, Platform.ZALO_GROUP: sender.group}
            while await DeliveryWorker(store, senders, clock=clock).run_once():
                pass
        return run
    finally:
        await store.close()


def digests_received(platforms: FakePlatforms) -> list[tuple[str, str]]:
    return [(r.body["recipient"]["user_id"], r.text) for r in platforms.sent("/message/cs")]


async def test_a_digest_reaches_zalo_once_also_after_a_restart(
    tmp_path: Path, db_path: Path, clock: FakeClock, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, facebook=False)
    await (await digest_store(db_path, clock)).close()
    clock.now = vn_time(MONDAY, 7, 31)
    assert (await digest_to_zalo(db_path, clock, settings, platforms)).queued == 2
    received = digests_received(platforms)
    assert sorted(user for user, _ in received) == sorted([AN.user_id, CUONG.user_id])
    lung_cu = dict(received)[AN.user_id]
    assert lung_cu.startswith("Sở Tư pháp nhắc hạn giải quyết hồ sơ của Xã Lũng Cú (ngày 07/12")
    assert "• H56-OVERDUE – Đăng ký khai sinh, hẹn trả 03/12/2026" in lung_cu

    clock.advance(600)  # restarted the same morning
    again = await digest_to_zalo(db_path, clock, settings, platforms)
    assert (again.day, again.queued, again.already) == (MONDAY, 0, 3)
    assert digests_received(platforms) == received


async def test_missed_digests_reach_zalo_once_for_today(
    tmp_path: Path, db_path: Path, clock: FakeClock, platforms: FakePlatforms
) -> None:
    # Down from Friday evening to Tuesday 10:00: Monday's and Tuesday's 07:30 were missed.
    settings = make_settings(tmp_path, platforms.url, facebook=False)
    await (await digest_store(db_path, clock)).close()
    clock.now = vn_time(dt.date(2026, 12, 8), 10, 0)
    await digest_to_zalo(db_path, clock, settings, platforms)
    clock.advance(60)
    await digest_to_zalo(db_path, clock, settings, platforms)  # and a restart after it
    received = digests_received(platforms)
    assert len(received) == 2 and {user for user, _ in received} == {AN.user_id, CUONG.user_id}
    assert all("(ngày 08/12/2026)" in text for _, text in received)


async def test_the_digest_skips_holidays_when_counting_working_days(
    tmp_path: Path, db_path: Path, clock: FakeClock, platforms: FakePlatforms
) -> None:
    # Wednesday 29/04/2026: 30/4 and 1/5 are holidays, then a weekend; the next two working
    # days are Monday 4/5 and Tuesday 5/5.
    settings = make_settings(tmp_path, platforms.url, facebook=False)
    store = await Store.open(db_path, clock=clock)
    dossiers = [
        Case(f"H56-{day:02d}05", CaseStatus.RECEIVED, "5678", due=dt.date(2026, 5, day),
             unit="Lũng Cú")
        for day in (4, 5, 6)
    ]  # fmt: skip
    await store.import_cases(dossiers, lambda *_: "no subscribers")
    await store.upsert_clerks([AN])
    await store.close()
    clock.now = vn_time(dt.date(2026, 4, 30), 9, 0)  # a holiday: no digest
    assert (await digest_to_zalo(db_path, clock, settings, platforms)).day is None
    clock.now = vn_time(dt.date(2026, 4, 29), 9, 0)
    assert (await digest_to_zalo(db_path, clock, settings, platforms)).queued == 1
    ((user, text),) = digests_received(platforms)
    assert user == AN.user_id
    assert "Đến hạn trong 2 ngày làm việc tới (2 hồ sơ):" in text
    assert "• H56-0405, hẹn trả 04/05/2026\n• H56-0505, hẹn trả 05/05/2026" in text
    assert "H56-0605" not in text
