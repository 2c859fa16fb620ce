"""The admin pages: login and logout, the overview (viewer).

Every handler is declared `public` or `requires(role)` (webhooks/admin/guard.py). The pages are
Vietnamese, server-rendered, readable without JavaScript; figures the store cannot give are
shown as "chưa có dữ liệu".
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.models.staff import Role, StaffSession
from bot.staff.overview import build_overview
from bot.staff.sessions import LoginStatus, log_in, log_out
from webhooks.admin import charts
from webhooks.admin.guard import (
    COOKIE_PATH,
    CSRF_FIELD,
    HEADERS,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    login_token_matches,
    new_login_token,
    page,
    public,
    requires,
    set_cookie,
)
from webhooks.keys import ADMIN_CLOCK_KEY, BUNDLE_KEY, PASSWORDS_KEY, SETTINGS_KEY, STORE_KEY

STYLE = Path(__file__).resolve().parent / "static" / "admin.css"
CHANNELS = {"facebook": "Messenger", "zalo": "Zalo", "webchat": "Web chat"}

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
STALE_FORM = "Biểu mẫu đã hết hạn. Anh/chị vui lòng đăng nhập lại."


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **HEADERS})


def safe_next(target: str) -> str:
    """Where to go after login: an admin path of this site only (never `//host`), else the
    overview."""
    if (
        target.startswith(COOKIE_PATH)
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith("/admin/login")
        and target[len(COOKIE_PATH) : len(COOKIE_PATH) + 1] in ("", "/", "?")
    ):
        return target
    return COOKIE_PATH


def _login_page(
    request: web.Request, message: str = "", status: int = 200, name: str = "", target: str = ""
) -> web.Response:
    token = new_login_token()
    context = {"csrf": token, "message": message, "name": name, "next": safe_next(target)}
    response = page(request, "login.html", context, status)
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


@public
async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/login: the form (with its CSRF token, also set as a cookie)."""
    query = request.query
    message = ""
    if query.get("expired"):
        message = "Phiên làm việc đã hết hạn. Anh/chị vui lòng đăng nhập lại."
    elif query.get("out"):
        message = "Anh/chị đã đăng xuất."
    return _login_page(request, message, target=query.get("next", ""))


@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    """POST /admin/login: check the form token, then the name and password (throttled)."""
    form = await request.post()
    name = str(form.get("name", ""))[:64]
    target = str(form.get("next", ""))
    if not login_token_matches(request, str(form.get(CSRF_FIELD, ""))):
        return _login_page(request, STALE_FORM, 403, name, target)
    app = request.app
    settings = app[SETTINGS_KEY]
    login = await log_in(
        app[STORE_KEY],
        app[PASSWORDS_KEY],
        settings.staff,
        name,
        str(form.get("password", "")),
        client_address(request),
        app[ADMIN_CLOCK_KEY](),
    )
    if login.status is LoginStatus.THROTTLED:
        minutes = settings.admin_login_window_minutes
        message = (
            "Đã có quá nhiều lần đăng nhập sai. Vì an toàn, anh/chị vui lòng thử lại sau"
            f" {minutes} phút."
        )
        return _login_page(request, message, 429, name, target)
    if login.status is LoginStatus.FAILED or login.token is None:
        return _login_page(request, WRONG, 401, name, target)
    response = _see_other(safe_next(target))
    set_cookie(request, response, SESSION_COOKIE, login.token)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@requires(Role.VIEWER)
async def logout(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/logout: end the session (audited) and forget the cookie."""
    app = request.app
    token = request.cookies.get(SESSION_COOKIE, "")
    await log_out(app[STORE_KEY], token, staff, client_address(request), app[ADMIN_CLOCK_KEY]())
    response = _see_other("/admin/login?out=1")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@requires(Role.VIEWER)
async def overview(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin: the overview of the last 14 office days."""
    app = request.app
    topics = app[BUNDLE_KEY].current.kb.topics
    names = {topic_id: topic.name.get("vi") for topic_id, topic in topics.items()}
    figures = await build_overview(app[STORE_KEY], app[ADMIN_CLOCK_KEY](), names)
    columns = [(row.day[8:10] + "/" + row.day[5:7], dict(row.by_platform)) for row in figures.days]
    context: dict[str, Any] = {
        "staff": staff,
        "o": figures,
        "settings": app[SETTINGS_KEY],
        "channels": CHANNELS,
        "per_day": charts.stacked_columns(columns, figures.platforms),
        "topic_chart": charts.horizontal_bars(
            [(name, n, str(n)) for _, name, n in figures.topics], "#1f5fbf"
        ),
        "missed_chart": charts.horizontal_bars(
            [(m.text, m.count, str(m.count)) for m in figures.missed], "#b3261e"
        ),
        "rating_chart": charts.stacked_columns(
            [
                (r.day[8:10] + "/" + r.day[5:7], {"up": r.up, "down": r.down})
                for r in figures.ratings
            ],
            ("up", "down"),
        ),
        "rated_topic_chart": charts.horizontal_bars(
            [(name, down, f"{down} / {up + down}") for _, name, up, down in figures.rated_topics],
            charts.colour("down"),
        ),
    }
    if figures.outcomes is not None and figures.outcomes.handled:
        o = figures.outcomes
        shares = [
            ("Trả lời được", o.answered, "up"),
            ("Hỏi lại cho rõ", o.clarified, "clarified"),
            ("Không hiểu", o.missed, "down"),
            ("Chuyển cán bộ", o.handed_over, "handed_over"),
            ("Gửi cho cán bộ (bot không trả lời)", o.to_staff, "to_staff"),
        ]
        context["outcome_chart"] = charts.horizontal_bars(
            [(label, n, percent(n, o.handled), charts.colour(key)) for label, n, key in shares]
        )
    median, p95 = figures.reply.median, figures.reply.p95
    if median is not None and p95 is not None:
        context["reply_chart"] = charts.horizontal_bars(
            [("Trung vị", median, seconds(median)), ("95 % tin nhắn", p95, seconds(p95))],
            "#1f5fbf",
        )
    return page(request, "overview.html", context)


@public
async def style(request: web.Request) -> web.StreamResponse:
    """GET /admin/admin.css: the pages' one style sheet (public: the login page needs it)."""
    return web.FileResponse(STYLE, headers={"Cache-Control": "max-age=3600"})


# -- formatting, as template filters ------------------------------------------------------


def number(value: int | float) -> str:
    """12345 -> "12.345" (Vietnamese thousands separator)."""
    return f"{value:,.0f}".replace(",", ".")


def percent(part: int, whole: int) -> str:
    """(1, 8) -> "12,5 %"."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}".replace(".", ",") + " %"


def seconds(value: float) -> str:
    """0.84 -> "0,8 giây"; 75 -> "1 phút 15 giây"."""
    if value < 60:
        return f"{value:.1f}".replace(".", ",") + " giây"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} phút {rest} giây"


def pretty_json(text: str | None) -> str:
    """An audit line's before/after, indented and in readable Vietnamese; a knowledge
    change's whole file text (kept for reverting it) is left out: its diff is shown instead."""
    if not text:
        return ""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        value.pop("text", None)
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


def text_diff(before: str | None, after: str | None) -> str:
    """The unified diff of an audited knowledge change's file, "" when it kept no text."""
    texts = []
    for side in (before, after):
        try:
            value = json.loads(side or "null")
        except ValueError:
            return ""
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            return ""
        texts.append(value["text"])
    lines = difflib.unified_diff(
        texts[0].splitlines(keepends=True), texts[1].splitlines(keepends=True), "trước", "sau", n=1
    )
    return "".join(lines)
