"""Learning from a miss in a real browser (issue 11's test list): a citizen asks the web chat
something it does not understand; an editor signs in, opens the review inbox, adds the question
as a phrasing of the right topic; the citizen asks again and gets that topic's answer. Headless
Chromium over the DevTools Protocol, with the admin browser test's `Tab`; skipped without
Debian's chromium, as that one is.
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from tests.test_admin import PASSWORD
from tests.test_admin_browser import PHONE, Tab, admin_server
from tests.test_review import MISSED, TAUGHT_TOPIC
from tests.test_webchat_browser import BOT_TEXTS, IDLE, chromium, pytestmark  # noqa: F401
from webhooks.keys import BUNDLE_KEY


async def ask_in_the_chat(tab: Tab, text: str) -> list[str]:
    """Type `text` in the open web chat; the bot messages it got in reply."""
    before = await tab.wait_until(IDLE, BOT_TEXTS)
    await tab.evaluate("document.getElementById('cau-hoi').focus()")
    await tab.call("Input.insertText", text=text)
    await tab.press_enter()
    shown: list[str] = await tab.wait_until(
        f"{IDLE} && document.querySelectorAll('.msg.bot').length > {len(before)}", BOT_TEXTS
    )
    return shown[len(before) :]


async def test_an_editor_teaches_a_missed_question_and_the_web_chat_answers_it(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    app, server = await admin_server(aiohttp_server, tmp_path, bundle, own_knowledge=True)
    fallback = [r.text for r in bundle.dialog.composer.fallback("vi")]
    async with chromium(tmp_path / "profile") as page:
        tab = Tab(page)
        await tab.call("Page.enable")
        await tab.call("Emulation.setDeviceMetricsOverride", **PHONE)
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/chat")))
        await tab.loaded()
        await tab.wait_until(f"{IDLE} && document.querySelectorAll('.msg.bot').length > 0", "1")
        assert await ask_in_the_chat(tab, MISSED) == fallback  # not understood: kept for staff

        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/review")))
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/login"
        await tab.type_into("#name", "hoa")
        await tab.type_into("#password", PASSWORD)
        tab.events.clear()
        await tab.click("form button[type=submit]")
        await tab.loaded()
        inbox = await tab.evaluate(
            """({
                path: location.pathname,
                groups: [...document.querySelectorAll('section.card h2')]
                    .map((h) => h.textContent.trim()),
                overflow: document.documentElement.scrollWidth - window.innerWidth,
            })"""
        )
        assert inbox["path"] == "/admin/review"
        assert any(MISSED in title for title in inbox["groups"]), inbox["groups"]
        assert inbox["overflow"] <= 0

        # Choose the topic as staff would (whatever the bot guessed), then "Thêm câu mẫu".
        form = "form[action='/admin/review/teach']"
        await tab.evaluate(
            f'document.querySelector("{form} select").value = {json.dumps(TAUGHT_TOPIC)}'
        )
        tab.events.clear()
        await tab.click(f"{form} button[type=submit]")
        await tab.loaded()  # the classifier is retrained before the page comes back
        body = await tab.evaluate("document.body.textContent")
        assert "Đã thêm câu hỏi làm câu mẫu của chủ đề" in body
        assert "Chưa có câu hỏi nào cần xem" in body

        expected = app[BUNDLE_KEY].current.ask(MISSED)
        assert expected.topic == TAUGHT_TOPIC
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/chat")))
        await tab.loaded()
        await tab.wait_until(f"{IDLE} && document.querySelectorAll('.msg.bot').length > 0", "1")
        answer = await ask_in_the_chat(tab, MISSED)
        assert answer == [r.text for r in expected.replies]
        name = app[BUNDLE_KEY].current.kb.topics[TAUGHT_TOPIC].name.get("vi")
        assert name in answer[0]
