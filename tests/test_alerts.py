"""Notices the bot sends by itself: one announcement per knowledge version that changed
procedures, one alert per handoff opened; both once per event and recipient, and off without
targets."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.clerks.alerts import (
    MASK,
    Alerts,
    format_wait,
    handoff_text,
    parse_targets,
    reminder_text,
)
from bot.clerks.communes import load_communes
from bot.config import ConfigError, Settings
from bot.model_cache import ModelCache
from bot.models import Incoming, Outgoing, Platform, Reply, State
from bot.models.clerks import Clerk, NoticeRecord
from bot.reload import Reloader
from bot.store import Store
from tests.conftest import KNOWLEDGE, ROOT, FakeClock, FakePlatforms, make_settings
from tests.test_notify import vn_time
from webhooks.app import create_app
from webhooks.keys import RELOADER_KEY, STORE_KEY, WORKER_KEY

COMMUNES = load_communes()
GROUP_ID = "f414c8f76fa586fbdfb4"
GROUPS = {"tu-phap": GROUP_ID}
AN = Clerk("Nguyễn Văn An", "00715", Platform.ZALO, "4558424660619243532")  # Xã Lũng Cú
CITIZEN = "6024530934307431"
PHONE = "0912 345 678"


def touch(path: Path) -> None:
    stat = path.stat()  # some filesystems keep one-second mtimes: move visibly forward
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


# -- pure ----------------------------------------------------------------------------------


def test_targets_are_separated_by_commas_and_empty_is_off() -> None:
    assert parse_targets("") == ()
    assert parse_targets(" group:tu-phap , commune:Lũng Cú,") == (
        "group:tu-phap",
        "commune:Lũng Cú",
    )


def test_settings_refuse_a_target_of_no_known_kind() -> None:
    with pytest.raises(ConfigError, match="handoff_alert_to"):
        Settings(handoff_alert_to="tu-phap").check()
    with pytest.raises(ConfigError, match="public_base_url"):
        Settings(public_base_url="trợ-lý.vn").check()
    Settings(announce_to="all, group:tu-phap", handoff_alert_to="commune:Lũng Cú").check()


def test_the_handoff_alert_has_question_channel_link_and_no_phone() -> None:
    text = handoff_text(f"Tôi cần gặp cán bộ, gọi {PHONE} hoặc +84912345678 giúp", Platform.ZALO)
    assert "Kênh: Zalo" in text and "trên trang quản trị" in text
    assert "0912" not in text and "84912345678" not in text and text.count(MASK) == 2
    assert "Tôi cần gặp cán bộ" in text
    linked = handoff_text("phí 100.000 đồng năm 2026", Platform.FACEBOOK, "https://tp.example/")
    assert "tại https://tp.example/admin/handoffs." in linked and "Kênh: Messenger" in linked
    assert "100.000 đồng năm 2026" in linked  # short numbers stay
    assert "không kèm câu hỏi" in handoff_text("", Platform.WEBCHAT)


# -- handoffs ------------------------------------------------------------------------------


async def open_handoff(store: Store, message_id: str, text: str) -> Incoming:
    msg = Incoming(Platform.FACEBOOK, CITIZEN, message_id, text=text)
    assert await store.complete_turn(msg, State(), [], handoff=True)
    return msg


async def test_one_alert_per_handoff_and_recipient(store: Store) -> None:
    await store.upsert_clerks([AN])
    alerts = Alerts(
        store, COMMUNES, GROUPS, handoff_alert_to=("group:tu-phap", "clerk:" + AN.user_id)
    )
    msg = await open_handoff(store, "m1", f"cho tôi gặp cán bộ, số tôi {PHONE}")
    first = await alerts.handoff_opened(msg)
    assert first.queued == 2
    # Asking again while the handoff is open, or a second call, sends nothing more.
    again = await open_handoff(store, "m2", "gặp cán bộ đi")
    assert (await alerts.handoff_opened(again)).already == 2
    notices = await store.notices()
    assert len(notices) == 2 and len({n.event for n in notices}) == 1
    assert {n.address for n in notices} == {GROUP_ID, AN.user_id}
    for n in notices:
        assert n.event.startswith("handoff:") and "Kênh: Messenger" in n.text
        assert CITIZEN not in n.text and "0912" not in n.text


async def test_no_targets_no_alert(store: Store) -> None:
    msg = await open_handoff(store, "m1", "gặp cán bộ")
    assert (await Alerts(store, COMMUNES, GROUPS).handoff_opened(msg)).queued == 0
    assert await store.notices() == []


async def test_a_citizen_asking_for_staff_alerts_the_group_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(
        tmp_path,
        zalo=False,
        handoff_alert_to="group:tu-phap",
        clerk_groups=GROUPS,
        public_base_url="https://tro-ly.example",
        reload_seconds=0,
    )
    client = await aiohttp_client(create_app(settings, bundle))
    for text in ("tôi muốn gặp cán bộ", "cho tôi gặp cán bộ"):
        response = await client.post("/api/chat", json={"session": "alert-session-1", "text": text})
        assert response.status == 200
    notices = await client.app[STORE_KEY].notices()
    assert [(n.platform, n.address) for n in notices] == [(Platform.ZALO_GROUP, GROUP_ID)]
    assert "Kênh: khung chat trên trang web" in notices[0].text
    assert "https://tro-ly.example/admin/handoffs" in notices[0].text
    assert "alert-session-1" not in notices[0].text


# -- knowledge changes ---------------------------------------------------------------------


async def test_a_knowledge_edit_announces_once_per_recipient(
    aiohttp_client: AiohttpClient, tmp_path: Path, platforms: FakePlatforms
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(
        tmp_path,
        platforms.url,
        facebook=False,
        knowledge=str(knowledge),
        reload_seconds=0,
        announce_to="group:tu-phap, all",
        clerk_groups=GROUPS,
    )
    app = create_app(settings)
    client = await aiohttp_client(app)
    store: Store = app[STORE_KEY]
    await store.upsert_clerks([AN])
    reloader: Reloader = app[RELOADER_KEY]

    # A new phrasing is no news: reloaded, nothing announced.
    path = knowledge / "procedures" / "khai-tu.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\n# a comment changes the version only\n", encoding="utf-8")
    touch(path)
    assert await reloader.check() is True
    assert await store.notices() == []

    edited = original.replace("updated: 2026-11-26", "updated: 2027-01-01", 1).replace(
        "Đăng ký khai tử đúng hạn", "Đăng ký khai tử đúng thời hạn", 1
    )
    assert edited.count("2027-01-01") == 1 and "đúng thời hạn" in edited
    path.write_text(edited, encoding="utf-8")
    touch(path)
    assert await reloader.check() is True
    version = (await (await client.get("/healthz")).json())["knowledge_version"]
    notices = await store.notices()
    assert sorted(n.address for n in notices) == sorted([GROUP_ID, AN.user_id])
    assert {n.event for n in notices} == {f"knowledge:{version}"}
    assert "Đăng ký khai tử: thay đổi lệ phí (áp dụng từ ngày 01/01/2027)" in notices[0].text
    # Delivered through the Zalo API: one group message, one OA message to the clerk.
    await platforms.wait_for(lambda: len(platforms.sent()) == 2)
    (group,) = platforms.sent("/v3.0/oa/group/message")
    (clerk,) = platforms.sent("/v3.0/oa/message/cs")
    assert group.body["recipient"] == {"group_id": GROUP_ID} and group.text == notices[0].text
    assert clerk.body["recipient"] == {"user_id": AN.user_id} and clerk.text == notices[0].text

    # The same version again (a staff edit's reload, a restart) announces nothing again.
    await reloader.reload_now()
    await app[WORKER_KEY].settled()
    assert len(await store.notices()) == 2
    assert [r.status for r in await store.outbox_rows()] == ["sent", "sent"]  # nothing more
    assert len(platforms.sent()) == 2


async def test_an_edit_made_while_the_server_was_down_is_announced_once_at_start(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(
        tmp_path,
        zalo=False,
        facebook=False,
        knowledge=str(knowledge),
        reload_seconds=0,
        announce_to="group:tu-phap, all",
        clerk_groups=GROUPS,
    )

    async def start(served: Bundle) -> tuple[Any, list[NoticeRecord]]:
        client = await aiohttp_client(create_app(settings, served))
        notices = await client.app[STORE_KEY].notices()
        return client, notices

    # A fresh install: the version is recorded as the baseline, nothing is announced.
    first, notices = await start(bundle)
    assert notices == []
    await first.app[STORE_KEY].upsert_clerks([AN])
    await first.close()

    # Stopped; a fee edited in the YAML; started again: one announcement, to each target.
    path = knowledge / "procedures" / "khai-tu.yaml"
    original = path.read_text(encoding="utf-8")
    edited = original.replace("Đăng ký khai tử đúng hạn", "Đăng ký khai tử đúng thời hạn", 1)
    assert edited != original
    path.write_text(edited, encoding="utf-8")
    changed = Bundle.load(knowledge, models=ModelCache(ROOT / Settings().cache))
    assert changed.kb.version != bundle.kb.version
    second, notices = await start(changed)
    assert sorted(n.address for n in notices) == sorted([GROUP_ID, AN.user_id])
    assert {n.event for n in notices} == {f"knowledge:{changed.kb.version}"}
    assert "Đăng ký khai tử: thay đổi lệ phí" in notices[0].text
    await second.close()

    # Restarted once more with the same files: nothing is announced again.
    third, notices = await start(changed)
    assert len(notices) == 2
    await third.close()


# -- citizens still waiting: one reminder --------------------------------------------------


def test_the_reminder_says_how_long_and_since_when() -> None:
    assert [format_wait(s) for s in (59, 45 * 60, 3600, 3900, 86400, 90000 + 59)] == [
        "0 phút",
        "45 phút",
        "1 giờ",
        "1 giờ 5 phút",
        "1 ngày",
        "1 ngày 1 giờ",
    ]
    opened = vn_time(dt.date(2026, 12, 7), 9, 15)
    text = reminder_text(f"gọi cho tôi {PHONE}", Platform.ZALO, opened, opened + 47 * 60 + 30)
    assert text.startswith(
        "Trợ lý Tư pháp nhắc lại: một người dân đã chờ cán bộ hỗ trợ 47 phút"
        " (từ 09:15 ngày 07/12/2026) mà chưa có cán bộ nào nhận.\nKênh: Zalo\n"
    )
    assert f"Câu hỏi: “gọi cho tôi {MASK}”" in text and "trên trang quản trị" in text


def reminding(store: Store, clock: FakeClock, **options: Any) -> Alerts:
    settings: dict[str, Any] = {
        "handoff_alert_to": ("group:tu-phap",),
        "remind_after": 30 * 60,
        "handoff_timeout": 72 * 3600,
        "clock": clock,
    }
    return Alerts(store, COMMUNES, GROUPS, **(settings | options))


async def test_a_citizen_still_waiting_is_reminded_once_also_after_a_restart(
    db_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(db_path, clock=clock)
    await open_handoff(store, "m1", f"Tôi cần hỏi về khai tử, số tôi {PHONE}")
    opened = clock()
    clock.advance(10)
    await open_handoff(store, "m2", "alo")  # written while waiting: not the question
    alerts = reminding(store, clock)
    clock.advance(29 * 60)
    assert (await alerts.remind_waiting()).queued == 0  # not yet
    clock.advance(2 * 60)
    first = await alerts.remind_waiting()
    assert (first.queued, first.already) == (1, 0)
    (notice,) = await store.notices()
    assert (notice.event, notice.address) == ("handoff:1:reminder", GROUP_ID)
    assert "đã chờ cán bộ hỗ trợ 31 phút" in notice.text
    assert "Câu hỏi: “Tôi cần hỏi về khai tử, số tôi [số đã ẩn]”" in notice.text
    assert CITIZEN not in notice.text and "0912" not in notice.text
    assert opened < notice.created_at
    clock.advance(3600)
    assert (await alerts.remind_waiting()).queued == 0  # once per handoff
    await store.close()

    store = await Store.open(db_path, clock=clock)  # a restart: nothing again
    assert (await reminding(store, clock).remind_waiting()).queued == 0
    assert len(await store.notices()) == 1 and len(await store.outbox_rows()) == 1
    await store.close()


async def test_no_reminder_once_staff_took_over_or_answered_or_when_off(
    store: Store, clock: FakeClock
) -> None:
    await open_handoff(store, "m1", "gặp cán bộ")
    other = Incoming(Platform.ZALO, "7300442764876318465", "z1", text="gặp cán bộ")
    assert await store.complete_turn(other, State(), [], handoff=True)
    taken, answered = await store.open_handoffs()
    assert await store.take_handoff(taken["id"], "chi.lan", clock())
    reply = Outgoing(Platform.ZALO, other.user_id, Reply("Chào anh", by_staff=True))
    assert await store.queue_staff_reply(answered["id"], "chi.lan", [reply], clock())
    clock.advance(3600)
    assert (await reminding(store, clock).remind_waiting()).queued == 0
    clock.advance(-3600)
    await store.close_handoff(answered["id"], "chi.lan", clock())

    third = Incoming(Platform.WEBCHAT, "session-3", "w1", text="cho gặp cán bộ")
    assert await store.complete_turn(third, State(), [], handoff=True)
    clock.advance(3600)
    assert (await reminding(store, clock, remind_after=0).remind_waiting()).queued == 0
    assert (await reminding(store, clock, handoff_alert_to=()).remind_waiting()).queued == 0
    clock.advance(72 * 3600)  # past the handoff's time: the bot answers again, no reminder
    assert (await reminding(store, clock).remind_waiting()).queued == 0
    assert await store.notices() == []


async def test_the_server_reminds_through_the_zalo_group(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    # A citizen asked for staff 40 minutes ago on the web chat; nobody took it over.
    opened = time.time() - 40 * 60 - 5
    store = await Store.open(tmp_path / "bot.db", clock=lambda: opened)
    msg = Incoming(Platform.WEBCHAT, "web-session-7", "w1", text="Cho tôi gặp cán bộ hộ tịch")
    assert await store.complete_turn(msg, State(), [], handoff=True)
    await store.close()

    settings = make_settings(
        tmp_path,
        platforms.url,
        facebook=False,
        handoff_alert_to="group:tu-phap",
        clerk_groups=GROUPS,
        public_base_url="https://tro-ly.example",
        reload_seconds=0,
        digest_time="",
    )
    client = await aiohttp_client(create_app(settings, bundle))
    await platforms.wait_for(lambda: len(platforms.sent("/v3.0/oa/group/message")) == 1)
    (group,) = platforms.sent("/v3.0/oa/group/message")
    assert group.body["recipient"] == {"group_id": GROUP_ID}
    assert group.headers["access_token"] == "zalo-access"
    assert group.text.startswith(
        "Trợ lý Tư pháp nhắc lại: một người dân đã chờ cán bộ hỗ trợ 40 phút"
    )
    assert "Câu hỏi: “Cho tôi gặp cán bộ hộ tịch”" in group.text
    assert "https://tro-ly.example/admin/handoffs" in group.text
    assert "web-session-7" not in group.text
    await client.app[WORKER_KEY].settled()
    (notice,) = await client.app[STORE_KEY].notices()
    assert (notice.event, notice.status) == ("handoff:1:reminder", "sent")
    await client.close()
