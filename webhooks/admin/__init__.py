"""The staff dashboard at /admin (issue 11): login, the overview, the review inbox, the
knowledge page, the topic edit form, the handoff queue, the audit log (with its reverts); the
commune clerks' registry, notices to them and what became of the notices (issue 12).

`add_routes(app)` registers the pages and their Jinja2 environment (autoescaped). Each handler
must be declared `public` or `requires(role)` (guard.py), or start-up fails: no admin page or
action can be left reachable without a session by mistake.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.cases.dates import VN_TZ
from webhooks.admin import audit, clerks, handoffs, knowledge, notices, pages, review, topics
from webhooks.admin.guard import CSRF_FIELD, GUARDED, PUBLIC, Handler

TEMPLATES = Path(__file__).resolve().parent / "templates"

ACTIONS = {
    "login": "Đăng nhập",
    "login.failed": "Đăng nhập sai",
    "login.throttled": "Tạm chặn đăng nhập",
    "logout": "Đăng xuất",
    "staff.add": "Thêm tài khoản",
    "staff.remove": "Xoá tài khoản",
    "staff.passwd": "Đổi mật khẩu",
    "review.teach": "Thêm câu mẫu",
    "review.out_of_scope": "Đánh dấu ngoài phạm vi",
    "review.dismiss": "Bỏ qua câu hỏi",
    "clerks.add": "Thêm cán bộ xã",
    "clerks.remove": "Xoá cán bộ xã",
    "clerks.import": "Nhập danh sách cán bộ xã",
    "notify.send": "Gửi thông báo cho cán bộ xã",
    "handoff.take": "Nhận xử lý cuộc trò chuyện",
    "handoff.reply": "Trả lời người dân",
    "handoff.close": "Đóng cuộc trò chuyện",
    "topic.edit": "Sửa chủ đề",
    "topic.revert": "Hoàn tác thay đổi dữ liệu",
}
ROLES = {"viewer": "xem", "editor": "biên tập", "admin": "quản trị"}

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/admin/login", pages.login_form),
    ("POST", "/admin/login", pages.login_submit),
    ("POST", "/admin/logout", pages.logout),
    ("GET", "/admin", pages.overview),
    ("GET", "/admin/admin.css", pages.style),
]


def when(at: float) -> str:
    """A store timestamp as office time (UTC+7): "07/12/2026 09:05"."""
    return dt.datetime.fromtimestamp(at, VN_TZ).strftime("%d/%m/%Y %H:%M")


def day(value: dt.date | None) -> str:
    """A date as staff write it: "07/12/2026"; "—" for none."""
    return "—" if value is None else value.strftime("%d/%m/%Y")


def add_routes(app: web.Application) -> None:
    """The admin routes and their templates. Every handler must be declared (guard.py)."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.filters.update(
        number=pages.number,
        seconds=pages.seconds,
        when=when,
        day=day,
        pretty_json=pages.pretty_json,
        text_diff=pages.text_diff,
        action=lambda a: ACTIONS.get(a, a),
        role=lambda r: ROLES.get(str(r), str(r)),
    )
    env.globals.update(percent=pages.percent, csrf_field=CSRF_FIELD, speakers=handoffs.SPEAKERS)
    env.filters.update(kind=lambda k: review.KINDS.get(str(k), str(k)))
    env.filters.update(duration=handoffs.duration)
    modules = (review, knowledge, topics, audit, handoffs)
    routes = ROUTES + [r for m in modules for r in m.add_routes(app)]
    for method, path, handler in routes + clerks.add_routes() + notices.add_routes():
        if handler not in GUARDED and handler not in PUBLIC:
            raise RuntimeError(f"{method} {path}: declare it public or requires(role)")
        app.router.add_route(method, path, handler)
