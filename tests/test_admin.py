"""The staff dashboard (/admin) through aiohttp's test client: login and its throttling,
session expiry on an injected clock, CSRF on every POST, cookie flags, every route refused
without a session or with too low a role, the overview's figures from a seeded store, the
audit page. No sleeps: the dashboard's clock is a `FakeClock`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from yarl import URL

from bot.bundle import Bundle
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply, State
from bot.models.handoffs import HandoffReason
from bot.models.review import Miss, MissKind
from bot.models.staff import Role
from bot.staff.accounts import add_account
from bot.staff.overview import build_overview, group_missed, window_start
from bot.staff.passwords import Passwords
from bot.store import Store
from tests.conftest import FakeClock, make_settings
from webhooks.admin import charts
from webhooks.admin.guard import GUARDED, PUBLIC, SESSION_COOKIE
from webhooks.admin.pages import WRONG, safe_next
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, STORE_KEY

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "mật khẩu đủ dài"
# 2026-12-07 10:00 in Việt Nam (UTC+7).
NOW = 1_796_612_400.0
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@dataclass
class Admin:
    client: Client
    clock: FakeClock
    store: Store
    passwords: Passwords

    async def add(self, name: str, role: Role) -> None:
        await add_account(
            self.store, self.passwords, name, role, PASSWORD, actor="test", now=self.clock()
        )


async def start(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, clock: FakeClock, **config: Any
) -> Admin:
    settings = make_settings(tmp_path, facebook=False, zalo=False, **config)
    app = create_app(settings, bundle)
    app[ADMIN_CLOCK_KEY] = clock
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    client = await aiohttp_client(app)
    return Admin(client, clock, app[STORE_KEY], app[PASSWORDS_KEY])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def admin(aiohttp_client: Any, tmp_path: Path, bundle: Bundle, clock: FakeClock) -> Admin:
    return await start(aiohttp_client, tmp_path, bundle, clock)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF field on the page"
    return html.unescape(match.group(1))


async def log_in(
    client: Client, name: str, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> Any:
    # The form without the headers: behind a trusted HTTPS proxy its cookie would be Secure,
    # and the test client's jar would not send it back over plain HTTP.
    form = await client.get("/admin/login")
    token = csrf_of(await form.text())
    return await client.post(
        "/admin/login",
        data={"name": name, "password": password, "csrf": token, "next": "/admin"},
        headers=headers,
        allow_redirects=False,
    )


def text_of(page: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# -- login, cookies, logout ---------------------------------------------------------------


async def test_login_sets_a_strict_http_only_cookie_and_opens_the_overview(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    response = await log_in(admin.client, "lan")
    assert response.status == 303 and response.headers["Location"] == "/admin"
    cookie = [c for c in response.headers.getall("Set-Cookie") if c.startswith(SESSION_COOKIE)]
    assert len(cookie) == 1
    flags = {part.strip().lower() for part in cookie[0].split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin"} <= flags
    assert "secure" not in flags  # plain HTTP, no trusted proxy
    page = await admin.client.get("/admin")
    assert page.status == 200
    body = await page.text()
    assert "Tổng quan 14 ngày gần nhất" in text_of(body) and "lan (xem)" in text_of(body)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script" not in body


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, clock: FakeClock
) -> None:
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusting = await start(aiohttp_client, tmp_path, bundle, clock, admin_trusted_proxy=True)
    await trusting.add("lan", Role.VIEWER)
    # The test client speaks plain HTTP and its cookie jar keeps Secure cookies from it out of
    # later requests, so only the header is checked here.
    response = await log_in(trusting.client, "lan", headers=proxied)
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith(SESSION_COOKIE))
    assert "secure" in cookie.lower()
    entries, _ = await trusting.store.audit_entries(0, 1)
    assert (entries[0].action, entries[0].address) == ("login", "203.0.113.9")


async def test_a_forwarded_proto_is_ignored_without_a_trusted_proxy(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = await log_in(admin.client, "lan", headers=proxied)
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith(SESSION_COOKIE))
    assert "secure" not in cookie.lower()
    entries, _ = await admin.store.audit_entries(0, 1)
    assert entries[0].address == "127.0.0.1"  # the peer, not what a header claims


async def test_a_wrong_name_or_password_gets_one_generic_message_and_is_audited(
    admin: Admin,
) -> None:
    await admin.add("lan", Role.VIEWER)
    wrong_password = await log_in(admin.client, "lan", "sai mật khẩu rồi")
    no_such_name = await log_in(admin.client, "khong-ai", PASSWORD)
    pages = [await wrong_password.text(), await no_such_name.text()]
    assert wrong_password.status == no_such_name.status == 401
    assert all(WRONG in text_of(p) for p in pages)
    assert SESSION_COOKIE not in admin.client.session.cookie_jar.filter_cookies(
        admin.client.make_url("/admin")
    )
    entries, _ = await admin.store.audit_entries(0, 10)
    assert [(e.action, e.actor) for e in entries[:2]] == [
        ("login.failed", "khong-ai"),
        ("login.failed", "lan"),
    ]


async def test_logins_are_throttled_after_five_failures_with_a_clear_message(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    await admin.add("lan", Role.VIEWER)
    for _ in range(5):
        assert (await log_in(admin.client, "lan", "sai mật khẩu rồi")).status == 401
        admin.clock.advance(MINUTE)
    caplog.set_level(logging.WARNING)
    refused = await log_in(admin.client, "lan")  # the right password, refused all the same
    assert refused.status == 429
    assert "thử lại sau 15 phút" in text_of(await refused.text())
    assert any("throttled" in r.getMessage() for r in caplog.records)
    # 15 minutes after the first failure it drops out of the window: one try is allowed.
    admin.clock.advance(11 * MINUTE)
    assert (await log_in(admin.client, "lan")).status == 303
    entries, _ = await admin.store.audit_entries(0, 3)
    assert [e.action for e in entries[:2]] == ["login", "login.throttled"]


async def test_logout_ends_the_session_and_is_audited(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    await log_in(admin.client, "lan")
    token = csrf_of(await (await admin.client.get("/admin")).text())
    out = await admin.client.post("/admin/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/admin/login?out=1"
    assert (await admin.client.get("/admin", allow_redirects=False)).status == 303
    entries, _ = await admin.store.audit_entries(0, 2)
    assert [(e.action, e.actor) for e in entries] == [("logout", "lan"), ("login", "lan")]


async def test_after_login_the_page_asked_for_is_shown(admin: Admin) -> None:
    await admin.add("lan", Role.ADMIN)
    first = await admin.client.get("/admin/audit?page=1", allow_redirects=False)
    location = URL(first.headers["Location"])
    assert location.path == "/admin/login" and location.query["next"] == "/admin/audit?page=1"
    form = await admin.client.get(first.headers["Location"])
    page = await form.text()
    assert 'name="next" value="/admin/audit?page=1"' in page
    response = await admin.client.post(
        "/admin/login",
        data={
            "name": "lan",
            "password": PASSWORD,
            "csrf": csrf_of(page),
            "next": "/admin/audit?page=1",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/admin/audit?page=1"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/audit?page=2", "/admin/audit?page=2"),
        ("/admin", "/admin"),
        ("//evil.example/admin", "/admin"),
        ("https://evil.example/admin", "/admin"),
        ("/adminx", "/admin"),
        ("/admin/login", "/admin"),
        ("/admin\\@evil", "/admin"),
        ("", "/admin"),
    ],
)
def test_login_only_goes_on_to_admin_pages(target: str, expected: str) -> None:
    assert safe_next(target) == expected


# -- sessions expire -----------------------------------------------------------------------


async def test_a_session_ends_after_30_idle_minutes(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    await log_in(admin.client, "lan")
    for _ in range(3):
        admin.clock.advance(29 * MINUTE)
        assert (await admin.client.get("/admin", allow_redirects=False)).status == 200
    admin.clock.advance(30 * MINUTE)
    expired = await admin.client.get("/admin", allow_redirects=False)
    assert expired.status == 303 and "expired=1" in expired.headers["Location"]
    login = await admin.client.get(expired.headers["Location"])
    assert "Phiên làm việc đã hết hạn" in text_of(await login.text())


async def test_a_session_ends_12_hours_after_login_however_active(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    await log_in(admin.client, "lan")
    for _ in range(35):  # every 20 minutes for 11 h 40 min
        admin.clock.advance(20 * MINUTE)
        assert (await admin.client.get("/admin", allow_redirects=False)).status == 200
    admin.clock.advance(20 * MINUTE)  # 12 h after login
    assert (await admin.client.get("/admin", allow_redirects=False)).status == 303


# -- every route is guarded ------------------------------------------------------------------

PUBLIC_ROUTES = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/admin.css")}
ROLES = [Role.VIEWER, Role.EDITOR, Role.ADMIN]


def admin_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every admin route; a path's `{id}` is handoff 1, which
    `open_handoff` opens; another variable part ("/admin/topics/{topic}") is given the value
    "x", which names nothing."""
    routes = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path == "/admin" or path.startswith("/admin/"):
            part = re.compile(r"\{[^}]+\}")
            concrete = part.sub(lambda m: "1" if m.group(0) == "{id}" else "x", path)
            routes.append((route.method, concrete, route.handler))
    return routes


async def open_handoff(store: Store, user: str = "citizen-1") -> None:
    """A citizen on the web chat asked for staff: handoff 1 in a fresh store."""
    msg = Incoming(Platform.WEBCHAT, user, f"web-{user}", EventKind.TEXT, "gặp cán bộ")
    assert await store.complete_turn(msg, State(), [], handoff=True)


async def test_every_admin_route_refuses_without_a_session_or_with_too_low_a_role(
    admin: Admin,
) -> None:
    await open_handoff(admin.store)
    routes = admin_routes(admin.client.app)
    assert {(m, p) for m, p, _ in routes} >= PUBLIC_ROUTES | {("GET", "/admin")}
    guarded = [(m, p, GUARDED[h]) for m, p, h in routes if (m, p) not in PUBLIC_ROUTES]
    assert guarded, "no guarded route found"
    # Every route is declared; the public ones are exactly the login page and its style sheet.
    assert all(h in GUARDED or h in PUBLIC for _, _, h in routes)
    assert {(m, p) for m, p, h in routes if h in PUBLIC} == PUBLIC_ROUTES

    for method, path, _ in guarded:  # no session at all
        response = await admin.client.request(method, path, allow_redirects=False)
        if method == "GET":
            assert response.status == 303, path
            assert response.headers["Location"].startswith("/admin/login?next="), path
        else:
            assert response.status == 401, (method, path)

    for role in ROLES:
        await admin.add(role.value, role)
    for role in ROLES:
        admin.client.session.cookie_jar.clear()
        assert (await log_in(admin.client, role.value)).status == 303
        page = await (await admin.client.get("/admin")).text()
        token = csrf_of(page)
        for method, path, least in guarded:
            if path == "/admin/logout":
                continue  # would end the session the loop goes on with: tested above
            response = await admin.client.request(
                method, path, data={"csrf": token}, allow_redirects=False
            )
            if role.allows(least):
                # Let through: the page, or the action done (303) or refused by its own rule
                # (a handoff another role closed before: 409; an empty reply: 422).
                assert response.status in (200, 303, 409, 422), (role, method, path)
            else:
                assert response.status == 403, (role, method, path)
                assert "Không có quyền" in text_of(await response.text())


async def test_a_forged_or_stale_session_cookie_opens_nothing(admin: Admin) -> None:
    admin.client.session.cookie_jar.update_cookies({SESSION_COOKIE: "forged-token"})
    response = await admin.client.get("/admin", allow_redirects=False)
    assert response.status == 303


async def test_every_post_needs_its_csrf_token(admin: Admin) -> None:
    await admin.add("lan", Role.ADMIN)
    # The login form: its token must match its cookie.
    form = await admin.client.get("/admin/login")
    csrf_of(await form.text())
    for data in (
        {"name": "lan", "password": PASSWORD},
        {"name": "lan", "password": PASSWORD, "csrf": "x"},
    ):
        refused = await admin.client.post("/admin/login", data=data, allow_redirects=False)
        assert refused.status == 403
        assert "Biểu mẫu đã hết hạn" in text_of(await refused.text())
    assert (await log_in(admin.client, "lan")).status == 303

    await open_handoff(admin.store)
    posts = [p for m, p, h in admin_routes(admin.client.app) if m == "POST" and h in GUARDED]
    assert "/admin/logout" in posts
    assert {"/admin/handoffs/1/take", "/admin/handoffs/1/reply", "/admin/handoffs/1/close"} <= set(
        posts
    )
    page = await (await admin.client.get("/admin")).text()
    token = csrf_of(page)
    for path in posts:
        for data in ({}, {"csrf": ""}, {"csrf": token[:-2] + "xx"}):
            response = await admin.client.post(path, data=data, allow_redirects=False)
            assert response.status == 403, (path, data)
    # Still signed in: the refusals changed nothing.
    assert (await admin.client.get("/admin", allow_redirects=False)).status == 200
    assert all(csrf_of(page) == token for page in [await (await admin.client.get("/admin")).text()])


# -- the overview -----------------------------------------------------------------------------


async def seed(db_path: Path) -> None:
    """Messages over three office days on three channels, their outcomes and reply times."""
    clock = FakeClock(NOW - 20 * DAY)
    store = await Store.open(db_path, clock=clock)
    try:
        n = 0

        async def message(
            platform: Platform,
            user: str,
            text: str,
            *,
            topic: str | None = None,
            missed: bool = False,
            handoff: bool = False,
            clarified: bool = False,
            reply_after: float | None = None,
            reason: HandoffReason = HandoffReason.ASKED,
            to_staff: bool = False,
        ) -> None:
            nonlocal n
            n += 1
            msg = Incoming(platform, user, f"m{n}", EventKind.TEXT, text)
            await store.record_inbound(msg)
            if to_staff:  # staff have the conversation: kept, unanswered
                await store.complete_turn(msg, State(), [], to_staff=True)
                return
            out = [Outgoing(platform, user, Reply("Dạ"))]
            miss = Miss(MissKind.CLARIFY, text) if clarified else None
            await store.complete_turn(
                msg, State(topic=topic), out, missed, handoff, miss, handoff_reason=reason
            )
            (row,) = await store.claim_due(clock(), 1, 30)
            if reply_after is None:
                await store.mark_failed(row.id, "window closed")
            else:
                clock.advance(reply_after)
                await store.mark_sent(row.id)

        # Out of the 14 days: counted nowhere (ids grow with time, so it comes first).
        await message(Platform.FACEBOOK, "old", "câu hỏi cũ", missed=True, reply_after=100)
        clock.now = NOW - 2 * DAY
        # 2026-12-05 (10:00 UTC+7): 2 Messenger, 1 Zalo.
        await message(Platform.FACEBOOK, "f1", "khai sinh", topic="khai-sinh", reply_after=1)
        await message(Platform.FACEBOOK, "f2", "Xin cấp sổ đỏ", missed=True, reply_after=2)
        await message(Platform.ZALO, "z1", "kết hôn", topic="ket-hon", reply_after=3)
        clock.advance(DAY)  # 2026-12-06: 1 Zalo, 2 web chat
        await message(Platform.ZALO, "z2", "xin cap so do", missed=True, reply_after=4)
        await message(Platform.WEBCHAT, "w1", "gặp cán bộ", handoff=True, reply_after=5)
        await message(Platform.WEBCHAT, "w2", "<script>alert(1)</script>", missed=True)
        await message(Platform.WEBCHAT, "w3", "liên thông", clarified=True, reply_after=6)
        # A second miss in a row hands over: counted once, as handed over; then the citizen
        # writes to staff, and the bot keeps quiet.
        await message(
            Platform.WEBCHAT,
            "w4",
            "abc xyz",
            missed=True,
            handoff=True,
            reason=HandoffReason.MISSES,
        )
        await message(Platform.WEBCHAT, "w4", "tôi chờ cán bộ", to_staff=True)
        clock.advance(DAY)  # 2026-12-07: 1 Messenger
        await message(
            Platform.FACEBOOK, "f3", "khai sinh cho con", topic="khai-sinh", reply_after=60
        )
    finally:
        await store.close()


async def test_the_overview_counts_what_the_store_recorded(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, clock: FakeClock
) -> None:
    await seed(tmp_path / "bot.db")
    store = await Store.open(tmp_path / "bot.db", clock=clock)
    try:
        names = {"khai-sinh": "Đăng ký khai sinh", "ket-hon": "Đăng ký kết hôn"}
        o = await build_overview(store, NOW, names)
    finally:
        await store.close()
    assert o.since == window_start(NOW) == NOW - 10 * HOUR - 13 * DAY  # 2026-11-24 00:00 +07
    assert [d.day for d in o.days][-3:] == ["2026-12-05", "2026-12-06", "2026-12-07"]
    assert len(o.days) == 14 and all(d.total == 0 for d in o.days[:-3])
    assert o.platforms == ("facebook", "webchat", "zalo")
    assert [dict(d.by_platform) for d in o.days[-3:]] == [
        {"facebook": 2, "webchat": 0, "zalo": 1},
        {"facebook": 0, "webchat": 5, "zalo": 1},
        {"facebook": 1, "webchat": 0, "zalo": 0},
    ]
    # The old message is stored, so outcomes count from the window's start, not from it.
    assert o.outcomes_since == o.since
    assert o.outcomes is not None
    assert (o.outcomes.handled, o.outcomes.missed, o.outcomes.handed_over) == (10, 3, 2)
    assert (o.outcomes.clarified, o.outcomes.to_staff, o.outcomes.answered) == (1, 1, 3)
    assert o.topics == (("khai-sinh", "Đăng ký khai sinh", 2), ("ket-hon", "Đăng ký kết hôn", 1))
    # "Xin cấp sổ đỏ" and "xin cap so do" are one question once normalised.
    assert [(m.text, m.count) for m in o.missed] == [
        ("Xin cấp sổ đỏ", 2) if o.missed[0].text == "Xin cấp sổ đỏ" else ("xin cap so do", 2),
        ("abc xyz", 1),  # then by their normalised text
        ("<script>alert(1)</script>", 1),
    ]
    # Reply times of the 7 answered messages: 1, 2, 3, 4, 5, 6, 60 s (nearest rank).
    assert (o.reply.count, o.reply.median, o.reply.p95) == (7, 4.0, 60.0)

    admin = await start(aiohttp_client, tmp_path, bundle, clock)
    await admin.add("lan", Role.VIEWER)
    await log_in(admin.client, "lan")
    page = await (await admin.client.get("/admin")).text()
    text = text_of(page)
    assert "05/12 2 0 1 3" in text and "06/12 0 5 1 6" in text and "07/12 1 0 0 1" in text
    assert "Tin nhắn đã xử lý 10 100 %" in text
    assert "Không hiểu 3 30,0 %" in text and "Chuyển cán bộ 2 20,0 %" in text
    assert "Trả lời được 3 30,0 %" in text and "Hỏi lại cho rõ 1 10,0 %" in text
    assert "Gửi cho cán bộ (bot không trả lời) 1 10,0 %" in text
    assert "Mức độ hài lòng chưa có dữ liệu" in text
    assert "Trung vị 4,0 giây" in text and "1 phút 0 giây" in text
    assert "Đăng ký khai sinh 2" in text
    assert "<script>alert(1)</script>" not in page  # autoescaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Per day, outcomes (all five), reply times, topics, missed.
    assert page.count("<svg") == 5
    outcome_chart = page[page.index('id="ket-qua"') : page.index('id="hai-long"')]
    for label in ("Trả lời được", "Hỏi lại cho rõ", "Không hiểu", "Chuyển cán bộ"):
        assert f"<title>{label}: " in outcome_chart, label
    reply_chart = page[page.index('id="thoi-gian"') : page.index('id="chu-de"')]
    assert "<title>Trung vị: 4,0 giây</title>" in reply_chart
    assert "<title>95 % tin nhắn: 1 phút 0 giây</title>" in reply_chart


async def test_an_empty_store_says_there_is_no_data_yet(admin: Admin) -> None:
    await admin.add("lan", Role.VIEWER)
    await log_in(admin.client, "lan")
    text = text_of(await (await admin.client.get("/admin")).text())
    assert text.count("Chưa có dữ liệu.") == 6  # satisfaction too


def test_missed_questions_group_by_their_normalised_text() -> None:
    grouped = group_missed([("Cấp sổ đỏ", 2), ("cap so do", 3), ("CAPP SO DO", 1), ("khác", 1)])
    assert [(m.text, m.count) for m in grouped] == [("cap so do", 6), ("khác", 1)]


def test_bar_charts_scale_to_the_largest_value() -> None:
    chart = charts.horizontal_bars([("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0")])
    widths = [r.width for r in chart.rects]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert chart.width == charts.WIDTH
    columns = charts.stacked_columns(
        [("01/12", {"zalo": 1, "facebook": 3}), ("02/12", {"zalo": 2, "facebook": 0})],
        ["facebook", "zalo"],
    )
    heights = [r.height for r in columns.rects]
    assert heights == [charts.COLUMN_AREA * 3 / 4, charts.COLUMN_AREA / 4, charts.COLUMN_AREA / 2]
    assert [t.text for t in columns.labels if t.y < charts.LINE + charts.COLUMN_AREA] == ["4", "2"]


# -- the audit page -----------------------------------------------------------------------------


async def test_the_audit_page_is_for_admins_newest_first_and_paginated(admin: Admin) -> None:
    await admin.add("lan", Role.ADMIN)
    for n in range(60):
        await admin.store.record_audit(
            "tuan", "staff.add", f"nguoi-{n:02}", NOW - 1000 + n, after='{"role": "viewer"}'
        )
    await log_in(admin.client, "lan")
    first = text_of(await (await admin.client.get("/admin/audit")).text())
    # 62 lines: the account added, the 60 above, the login; newest first.
    assert "62 mục" in first and "Trang 1/2" in first
    assert first.index("Đăng nhập") < first.index("nguoi-59") < first.index("nguoi-58")
    assert "Thêm tài khoản" in first and '"role": "viewer"' in first
    second = text_of(await (await admin.client.get("/admin/audit?page=2")).text())
    assert "Trang 2/2" in second and "nguoi-00" in second and "nguoi-59" not in second
    assert "nguoi-10" in second and "nguoi-11" not in second  # 50 a page
    odd = await admin.client.get("/admin/audit?page=abc")
    assert odd.status == 200 and "Trang 1/2" in text_of(await odd.text())
