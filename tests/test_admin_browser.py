"""The staff dashboard in a real browser: sign in, read the overview on a phone-sized screen,
sign out. Headless Chromium over the DevTools Protocol, with the web chat test's launcher
(tests/test_webchat_browser.py); skipped without Debian's chromium, as that one is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.models import Platform
from bot.models.clerks import Clerk
from bot.models.staff import Role
from bot.staff.accounts import add_account
from bot.staff.passwords import Passwords
from tests.conftest import FakeClock, make_settings
from tests.test_admin import CHEAP, NOW, PASSWORD, seed
from tests.test_webchat_browser import Page, chromium, pytestmark  # noqa: F401 (the skip)
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, STORE_KEY

PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}


class Tab(Page):
    """A page that keeps the events it is sent (the web chat's `Page` drops them), so that a
    navigation's load can be awaited without polling or racing."""

    def __init__(self, page: Page) -> None:
        super().__init__(page.ws)
        self._ids = page._ids
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        async with asyncio.timeout(15):
            while True:
                message = await self.ws.receive_json()
                if message.get("id") == call_id:
                    if "error" in message:
                        raise AssertionError(f"{method}: {message['error']}")
                    result: dict[str, Any] = message["result"]
                    return result
                if "method" in message:
                    self.events.append(message)

    async def loaded(self) -> None:
        """Wait for the next page's load event (events kept since `self.events` was cleared)."""
        async with asyncio.timeout(15):
            while True:
                for n, event in enumerate(self.events):
                    if event["method"] == "Page.loadEventFired":
                        del self.events[: n + 1]
                        return
                message = await self.ws.receive_json()
                if "method" in message:
                    self.events.append(message)

    async def type_into(self, selector: str, text: str) -> None:
        await self.evaluate(f"document.querySelector({selector!r}).focus()")
        await self.call("Input.insertText", text=text)


async def test_staff_sign_in_read_the_overview_on_a_phone_and_sign_out(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    await seed(tmp_path / "bot.db")
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    app = create_app(settings, bundle)
    app[ADMIN_CLOCK_KEY] = FakeClock(NOW)
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    server = await aiohttp_server(app)
    await add_account(
        app[STORE_KEY], app[PASSWORDS_KEY], "lan", Role.VIEWER, PASSWORD, actor="test", now=NOW
    )
    async with chromium(tmp_path / "profile") as page:
        tab = Tab(page)
        await tab.call("Page.enable")
        await tab.call("Emulation.setDeviceMetricsOverride", **PHONE)
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin")))
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/login"  # no session yet
        assert await tab.evaluate("document.documentElement.lang") == "vi"

        await tab.type_into("#name", "lan")
        await tab.type_into("#password", PASSWORD)
        tab.events.clear()
        await tab.click("form button[type=submit]")
        await tab.loaded()
        shown = await tab.evaluate(
            """({
                path: location.pathname,
                title: document.querySelector('h1').textContent,
                charts: document.querySelectorAll('svg.chart').length,
                cookie: document.cookie,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                background: getComputedStyle(document.body).backgroundColor,
                missed: [...document.querySelectorAll('#chua-hieu td:first-child')]
                    .map((td) => td.textContent),
            })"""
        )
        assert shown["path"] == "/admin"
        assert shown["title"] == "Tổng quan 14 ngày gần nhất"
        assert shown["charts"] == 5  # per day, outcomes, reply times, topics, missed
        assert shown["cookie"] == ""  # the session cookie is HttpOnly: no script reads it
        assert shown["overflow"] <= 0  # nothing wider than a phone's screen
        assert shown["background"] == "rgb(243, 244, 246)"  # the local style sheet applied
        assert "<script>alert(1)</script>" in shown["missed"]  # shown as text, not run

        tab.events.clear()
        await tab.click(".who button[type=submit]")
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/login"
        assert "Anh/chị đã đăng xuất." in await tab.evaluate("document.body.textContent")


async def test_an_editor_previews_a_notice_then_sends_it(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    # Zalo not configured here: the notice waits in the outbox, which is all this test needs.
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    app = create_app(settings, bundle)
    app[ADMIN_CLOCK_KEY] = FakeClock(NOW)
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    server = await aiohttp_server(app)
    store = app[STORE_KEY]
    await add_account(store, app[PASSWORDS_KEY], "mai", Role.EDITOR, PASSWORD, actor="t", now=NOW)
    clerk = Clerk("Nguyễn Văn An", "00715", Platform.ZALO, "4558424660619243532")
    await store.upsert_clerks([clerk])
    async with chromium(tmp_path / "profile") as page:
        tab = Tab(page)
        await tab.call("Page.enable")
        await tab.call("Emulation.setDeviceMetricsOverride", **PHONE)
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/notify")))
        await tab.loaded()
        await tab.type_into("#name", "mai")
        await tab.type_into("#password", PASSWORD)
        tab.events.clear()
        await tab.click("form button[type=submit]")
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/notify"

        await tab.type_into("#to", "commune:lung cu")
        await tab.type_into("#text", "Lịch tập huấn ngày 15/12.")
        tab.events.clear()
        await tab.click("form[action='/admin/notify/preview'] button[type=submit]")
        await tab.loaded()
        shown = await tab.evaluate(
            """({
                rows: [...document.querySelectorAll('table.recipients tbody tr')]
                    .map((tr) => [...tr.cells].map((td) => td.textContent).join(' | ')),
                overflow: document.documentElement.scrollWidth - window.innerWidth,
            })"""
        )
        assert shown["rows"] == ["Nguyễn Văn An (Xã Lũng Cú) | Tin nhắn Zalo OA | 4558…3532 | "]
        assert shown["overflow"] <= 0
        assert await store.notices() == []

        tab.events.clear()
        await tab.click("form[action='/admin/notify/send'] button[type=submit]")
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/notifications"
        body = await tab.evaluate("document.body.textContent")
        assert "Đã đưa thông báo vào hàng đợi gửi cho 1 nơi nhận" in body
    (notice,) = await store.notices()
    assert (notice.address, notice.text) == (clerk.user_id, "Lịch tập huấn ngày 15/12.")
