"""Notices the bot sends by itself: one announcement per knowledge version that changed
procedures, one alert per handoff opened; both once per event and recipient, and off without
targets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.clerks.alerts import MASK, Alerts, handoff_text, parse_targets
from bot.clerks.communes import load_communes
from bot.config import ConfigError, Settings
from bot.model_cache import ModelCache
from bot.models import Incoming, Platform, State
from bot.models.clerks import Clerk, NoticeRecord
from bot.reload import Reloader
from bot.store import Store
from tests.conftest import KNOWLEDGE, ROOT, make_settings
from webhooks.app import create_app
from webhooks.keys import RELOADER_KEY, STORE_KEY

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
    aiohttp_client: AiohttpClient, tmp_path: Path
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

    # The same version again (a staff edit's reload, a restart) announces nothing again.
    await reloader.reload_now()
    assert len(await store.notices()) == 2


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
