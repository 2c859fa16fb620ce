"""The staff dashboard in a real browser: sign in, read the overview on a phone-sized screen,
sign out; every admin route refused without a session and every form without its CSRF token. Headless Chromium over the DevTools Protocol, with the web chat test's launcher
(tests/test_webchat_browser.py); skipped without Debian's chromium, as that one is.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.models import Platform
from bot.models.clerks import Clerk
from bot.models.staff import Role
from bot.staff.accounts import add_account
from bot.staff.passwords import Passwords
from tests.conftest import KNOWLEDGE, FakeClock, make_settings
from tests.test_admin import CHEAP, NOW, PASSWORD, admin_routes, open_handoff, seed
from tests.test_webchat_browser import Page, chromium, pytestmark  # noqa: F401 (the skip)
from webhooks.admin.guard import GUARDED
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, STORE_KEY

PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}


async def admin_server(
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
    bundle: Bundle,
    name: str = "hoa",
    role: Role = Role.EDITOR,
    own_knowledge: bool = False,
) -> tuple[web.Application, TestServer]:
    """A server with the account `name` (PASSWORD, `role`) and the admin clock at NOW; with
    `own_knowledge`, over a copy of the shipped knowledge base that an edit reloads at once."""
    extra: dict[str, str | int] = {}
    if own_knowledge:
        knowledge = tmp_path / "kb" / "knowledge"
        shutil.copytree(KNOWLEDGE, knowledge)
        extra = {"knowledge": str(knowledge), "reload_seconds": 0}
    settings = make_settings(tmp_path, facebook=False, zalo=False, **extra)
    app = create_app(settings, bundle)
    app[ADMIN_CLOCK_KEY] = FakeClock(NOW)
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    server = await aiohttp_server(app)
    await add_account(
        app[STORE_KEY], app[PASSWORDS_KEY], name, role, PASSWORD, actor="test", now=NOW
    )
    return app, server


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
    _, server = await admin_server(aiohttp_server, tmp_path, bundle, "lan", Role.VIEWER)
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
    app, server = await admin_server(aiohttp_server, tmp_path, bundle, "mai")
    store = app[STORE_KEY]
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


async def test_in_the_browser_no_admin_route_opens_without_a_session_nor_a_form_without_its_token(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    app, server = await admin_server(aiohttp_server, tmp_path, bundle, "lan", Role.ADMIN)
    store = app[STORE_KEY]
    await open_handoff(store)
    routes = [(m, p) for m, p, h in admin_routes(app) if h in GUARDED]
    gets = [p for m, p in routes if m == "GET"]
    posts = [p for m, p in routes if m == "POST"]
    assert "/admin" in gets and "/admin/audit" in gets and "/admin/handoffs/1/reply" in posts
    # fetch() as the page's own script would; the admin pages' CSP forbids any script at all.
    fetch_all = """(async (gets, posts, token) => {
        const out = {};
        for (const path of gets) {
            const r = await fetch(path);
            out['GET ' + path] = new URL(r.url).pathname + ' ' + r.status;
        }
        for (const path of posts) {
            const body = new URLSearchParams(token === null ? {} : {csrf: token});
            const r = await fetch(path, {method: 'POST', body, redirect: 'manual'});
            out['POST ' + path] = String(r.status);
        }
        return out;
    })"""
    async with chromium(tmp_path / "profile") as page:
        tab = Tab(page)
        await tab.call("Page.enable")
        await tab.call("Page.setBypassCSP", enabled=True)
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/login")))
        await tab.loaded()
        refused = await tab.evaluate(f"{fetch_all}({json.dumps(gets)}, {json.dumps(posts)}, null)")
        # No session: every page is the login page, every action is refused.
        assert {k: v for k, v in refused.items() if k.startswith("GET ")} == {
            f"GET {p}": "/admin/login 200" for p in gets
        }
        assert {k: v for k, v in refused.items() if k.startswith("POST ")} == {
            f"POST {p}": "401" for p in posts
        }

        # Those visits to the login page renewed its form's token: sign in from a fresh one.
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/login")))
        await tab.loaded()
        await tab.type_into("#name", "lan")
        await tab.type_into("#password", PASSWORD)
        tab.events.clear()
        await tab.click("form button[type=submit]")
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin"
        token = await tab.evaluate("document.querySelector('input[name=csrf]').value")
        for sent in (None, "", token[:-2] + "xx"):  # no token, an empty one, a wrong one
            statuses = await tab.evaluate(
                f"{fetch_all}([], {json.dumps(posts)}, {json.dumps(sent)})"
            )
            assert statuses == {f"POST {p}": "403" for p in posts}, sent

        # A real form posted by a click, its token taken out: refused, nothing done.
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/handoffs/1")))
        await tab.loaded()
        await tab.evaluate("document.querySelector('#nhan-xu-ly').form.csrf.remove()")
        tab.events.clear()
        await tab.click("#nhan-xu-ly")
        await tab.loaded()
        assert "Biểu mẫu không hợp lệ." in await tab.evaluate("document.body.textContent")
        handoff = await store.handoff(1)
        assert handoff is not None and handoff.assignee is None
        # Still signed in: the refusals ended nothing.
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin")))
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin"
