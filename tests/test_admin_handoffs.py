"""The handoff queue end to end (issue 11): signed webhooks ask for staff, staff work the
conversation from /admin/handoffs, and what the fake platform servers receive: the Send API
with RESPONSE inside 24 hours and the HUMAN_AGENT tag after, Zalo CS messages, Messenger's
thread control. The dashboard runs on a settable clock started at real time (the store's)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.config import Settings
from bot.models.staff import Role
from bot.staff.accounts import add_account
from bot.staff.passwords import Passwords
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import (
    PSID,
    ZALO_USER_ID,
    encode,
    fb_batch,
    fb_pass_thread,
    fb_sign,
    fb_text,
    zalo_sign,
    zalo_text,
)
from tests.test_admin import CHEAP, HOUR, PASSWORD, csrf_of, log_in, text_of
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, STORE_KEY, TURNS_KEY

Client = TestClient[web.Request, web.Application]
DAY = 24 * HOUR
ANSWER = "Chào Anh/chị, tôi là cán bộ Sở Tư pháp. Anh/chị cần hỏi việc gì ạ?"
# Sessions that outlive the days the dashboard's clock jumps over.
LONG_SESSIONS = {"admin_session_hours": 1000, "admin_idle_minutes": 100_000}


async def start(
    aiohttp_client: AiohttpClient, settings: Settings, bundle: Bundle, role: Role = Role.EDITOR
) -> tuple[Client, FakeClock]:
    app = create_app(settings, bundle)
    clock = FakeClock(time.time())
    app[ADMIN_CLOCK_KEY] = clock
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    client = await aiohttp_client(app)
    await add_account(
        app[STORE_KEY], app[PASSWORDS_KEY], "lan", role, PASSWORD, actor="test", now=clock()
    )
    assert (await log_in(client, "lan")).status == 303
    return client, clock


async def facebook_says(client: Client, text: str, mid: str) -> None:
    await facebook_posts(client, fb_batch(fb_text(text, mid=mid)))


async def facebook_posts(client: Client, body: dict[str, Any]) -> None:
    """A signed webhook body, answered 200, and the turns it started run."""
    raw = encode(body)
    headers = {"Content-Type": "application/json", **fb_sign(raw)}
    assert (await client.post("/webhooks/facebook", data=raw, headers=headers)).status == 200
    await client.app[TURNS_KEY].drain()


async def act(client: Client, path: str, **form: str) -> Any:
    page = await (await client.get("/admin/handoffs/1")).text()
    return await client.post(path, data={"csrf": csrf_of(page), **form}, allow_redirects=False)


def messages(platforms: FakePlatforms) -> list[dict[str, Any]]:
    return [r.body for r in platforms.sent("/me/messages")]


async def test_messenger_handoff_staff_reply_inside_and_outside_24_hours(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(
        tmp_path, platforms.url, zalo=False, fb_thread_control=True, handoff_timeout_hours=500,
        **LONG_SESSIONS,
    )  # fmt: skip
    client, clock = await start(aiohttp_client, settings, bundle)
    await facebook_says(client, "cho tôi gặp cán bộ", "m-1")
    await platforms.wait_for(lambda: len(platforms.sent()) == 2)
    handoff_reply, passed = platforms.sent()[0], platforms.sent("/me/pass_thread_control")
    assert "trong giờ hành chính" in handoff_reply.text
    assert handoff_reply.body["messaging_type"] == "RESPONSE"
    assert [p.body["target_app_id"] for p in passed] == ["263902037430900"]
    assert passed[0].body["recipient"] == {"id": PSID}

    # Handed over: the next question is kept, not answered.
    await facebook_says(client, "lệ phí kết hôn bao nhiêu", "m-2")
    queue = text_of(await (await client.get("/admin/handoffs")).text())
    assert "Cuộc trò chuyện #1 · Messenger" in queue and "lệ phí kết hôn bao nhiêu" in queue
    assert len(messages(platforms)) == 1

    assert (await act(client, "/admin/handoffs/1/take")).status == 303
    done = await act(client, "/admin/handoffs/1/reply", text=ANSWER)
    assert done.status == 303 and done.headers["Location"] == "/admin/handoffs/1?done=reply"
    await platforms.wait_for(lambda: len(messages(platforms)) == 2)
    # The Page Inbox had the thread: taken back before the app writes (§2.8).
    paths = [r.path for r in platforms.sent()]
    assert paths[-2:] == ["/me/take_thread_control", "/me/messages"]
    assert messages(platforms)[-1] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": ANSWER},
    }

    clock.advance(25 * HOUR)  # outside the 24-hour window: a person may still answer, tagged
    page = text_of(await (await client.get("/admin/handoffs/1")).text())
    assert "HUMAN_AGENT" in page and "Cán bộ" in page and ANSWER in page
    done = await act(client, "/admin/handoffs/1/reply", text="Anh/chị còn cần hỗ trợ gì không?")
    assert done.headers["Location"] == "/admin/handoffs/1?done=human_agent"
    await platforms.wait_for(lambda: len(messages(platforms)) == 3)
    tagged = messages(platforms)[-1]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    clock.advance(7 * DAY)  # beyond the HUMAN_AGENT tag's 7 days: refused, and why
    refused = await act(client, "/admin/handoffs/1/reply", text="Xin chào")
    assert refused.status == 422
    assert "đã quá 7 ngày" in text_of(await refused.text())
    store = client.app[STORE_KEY]
    assert len([r for r in await store.outbox_rows() if r.source == "staff"]) == 2

    entries, _ = await store.audit_entries(0, 10)
    actions = [e.action for e in entries if e.action.startswith("handoff.")]
    assert actions == ["handoff.reply", "handoff.reply", "handoff.take"]


async def test_closing_gives_the_thread_back_and_the_bot_says_it_is_back(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, zalo=False, fb_thread_control=True)
    client, _ = await start(aiohttp_client, settings, bundle)
    await facebook_says(client, "cho tôi gặp cán bộ", "m-1")
    await platforms.wait_for(lambda: len(platforms.sent()) == 2)

    closed = await act(client, "/admin/handoffs/1/close")
    assert closed.status == 303 and closed.headers["Location"] == "/admin/handoffs?done=close"
    await platforms.wait_for(lambda: len(messages(platforms)) == 2)
    assert platforms.sent()[-2].path == "/me/take_thread_control"
    assert "Cán bộ đã kết thúc phần hỗ trợ trực tiếp" in platforms.sent()[-1].text
    queue = text_of(await (await client.get("/admin/handoffs")).text())
    assert "Không có người dân nào đang chờ cán bộ." in queue

    await facebook_says(client, "lệ phí đăng ký kết hôn", "m-2")  # the bot answers again
    await platforms.wait_for(lambda: len(messages(platforms)) == 3)
    assert "Kết hôn" in platforms.sent()[-1].text or "kết hôn" in platforms.sent()[-1].text


async def test_done_in_the_page_inbox_ends_the_handoff_and_the_bot_answers_again(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, zalo=False, fb_thread_control=True)
    client, _ = await start(aiohttp_client, settings, bundle)
    await facebook_says(client, "cho tôi gặp cán bộ", "m-1")
    await platforms.wait_for(lambda: len(platforms.sent("/me/pass_thread_control")) == 1)
    # The Page Inbox owns the thread: the citizen's message comes in standby, kept, unanswered.
    await facebook_posts(client, fb_batch(standby=[fb_text("tôi cần hỏi về kết hôn", mid="m-2")]))
    store = client.app[STORE_KEY]
    assert len(messages(platforms)) == 1
    assert "tôi cần hỏi về kết hôn" in text_of(await (await client.get("/admin/handoffs/1")).text())

    # Another app passing the thread on is not the Page Inbox giving it back: nothing changes.
    await facebook_posts(client, fb_batch(fb_pass_thread(previous_owner="1217981644879628")))
    still = await store.handoff(1)
    assert still is not None and still.is_open and still.thread_passed

    # Staff mark the conversation done in Meta's inbox: Meta passes the thread back (§2.8).
    await facebook_posts(client, fb_batch(fb_pass_thread()))
    handoff = await store.handoff(1)
    assert handoff is not None
    assert (handoff.status, handoff.closed_by, handoff.thread_passed) == (
        "closed",
        "page_inbox",
        False,
    )
    await platforms.wait_for(lambda: len(messages(platforms)) == 2)
    assert "Cán bộ đã kết thúc phần hỗ trợ trực tiếp" in platforms.sent()[-1].text
    # The thread is the bot's already: nothing to take back.
    assert platforms.sent("/me/take_thread_control") == []
    entries, _ = await store.audit_entries(0, 10)
    closes = [(e.actor, e.action, e.target) for e in entries if e.action == "handoff.close"]
    assert closes == [("page-inbox", "handoff.close", "handoff:1 (facebook)")]
    queue = text_of(await (await client.get("/admin/handoffs")).text())
    assert "Không có người dân nào đang chờ cán bộ." in queue

    await facebook_says(client, "lệ phí đăng ký kết hôn", "m-3")  # the bot answers again
    await platforms.wait_for(lambda: len(messages(platforms)) == 3)
    assert "kết hôn" in platforms.sent()[-1].text.lower()
    # The same event again (Meta retries) closes nothing twice.
    await facebook_posts(client, fb_batch(fb_pass_thread()))
    entries, _ = await store.audit_entries(0, 10)
    assert [e.action for e in entries].count("handoff.close") == 1


async def test_zalo_staff_reply_is_a_cs_message(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(
        tmp_path, platforms.url, facebook=False, handoff_timeout_hours=500, **LONG_SESSIONS
    )
    client, clock = await start(aiohttp_client, settings, bundle)
    payload = zalo_text("gặp cán bộ")
    raw = encode(payload)
    headers = {"Content-Type": "application/json", **zalo_sign(raw, timestamp=payload["timestamp"])}
    assert (await client.post("/webhooks/zalo", data=raw, headers=headers)).status == 200
    await client.app[TURNS_KEY].drain()
    await platforms.wait_for(lambda: len(platforms.sent("/v3.0/oa/message/cs")) == 1)

    clock.advance(6 * DAY)  # Zalo lets the OA write CS messages for 7 days (§3.5)
    assert (await act(client, "/admin/handoffs/1/reply", text=ANSWER)).status == 303
    await platforms.wait_for(lambda: len(platforms.sent("/v3.0/oa/message/cs")) == 2)
    sent = platforms.sent("/v3.0/oa/message/cs")[-1].body
    assert sent["recipient"] == {"user_id": ZALO_USER_ID}
    assert sent["message"]["text"] == ANSWER

    clock.advance(2 * DAY)  # past 7 days since the citizen wrote: no CS message any more
    refused = await act(client, "/admin/handoffs/1/reply", text="Xin chào")
    assert refused.status == 422 and "Zalo không cho phép" in text_of(await refused.text())


async def test_a_viewer_reads_the_queue_but_cannot_act(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url, zalo=False)
    client, _ = await start(aiohttp_client, settings, bundle, Role.VIEWER)
    await facebook_says(client, "cho tôi gặp cán bộ", "m-1")
    page = await (await client.get("/admin/handoffs/1")).text()
    assert "cho tôi gặp cán bộ" in text_of(page)
    assert "/admin/handoffs/1/reply" not in page  # no forms for a viewer
    refused = await client.post(
        "/admin/handoffs/1/take", data={"csrf": csrf_of(page)}, allow_redirects=False
    )
    assert refused.status == 403
