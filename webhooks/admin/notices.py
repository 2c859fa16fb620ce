"""Notices to commune clerks from the dashboard: the form (editor), its mandatory preview, the
confirmation, and what was sent to whom (viewer).

The preview is `bot notify --dry-run`'s plan: each recipient, on which channel, and those that
cannot be sent to and why. The confirmation form carries the targets, the text and the plan's
seal (bot/staff/clerks.py); sending plans again and queues through `bot notify`'s code only
when the seal still matches. Otherwise the new plan is shown for another look (409) and
nothing is sent. The report is `bot report notifications`'s data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.clerks.alerts import parse_targets
from bot.clerks.communes import load_communes
from bot.clerks.desk import confirm, mask_id, preview, seal
from bot.clerks.notify import Plan, TargetError
from bot.models import Platform
from bot.models.clerks import NoticeRecord, Recipient
from bot.models.staff import Role, StaffSession
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.keys import ADMIN_CLOCK_KEY, SETTINGS_KEY, STORE_KEY

FORM = "/admin/notify"
REPORT = "/admin/notifications"
CHANNELS = {
    Platform.ZALO_GROUP: "Nhóm Zalo",
    Platform.ZALO: "Tin nhắn Zalo OA",
    Platform.FACEBOOK: "Messenger",
}
STATUSES = {"sent": "Đã gửi", "pending": "Đang chờ gửi", "failed": "Không gửi được"}
EVENTS = {
    "notify": "Thông báo của Sở",
    "knowledge": "Cập nhật thủ tục",
    "digest": "Nhắc hạn hồ sơ",
    "handoff": "Người dân chờ cán bộ",
}
REMINDER = "Nhắc lại: người dân chờ cán bộ lâu"
WINDOW_CLOSED = (
    "không gửi: cán bộ chưa nhắn cho Trang trong 24 giờ qua (Messenger chỉ cho Trang nhắn"
    " trong thời hạn đó)"
)
# Why a notice failed, said in Vietnamese above the platform's own words (shown as they came).
OUR_WINDOW = "outside Messenger's 24-hour window"  # bot/clerks/notify.py's reason
ZALO_REASONS = {
    -32: "Zalo tạm từ chối vì ứng dụng gửi quá nhiều yêu cầu trong một phút; sẽ gửi lại",
    -211: "gói dịch vụ của OA đã hết hạn mức gửi tin",
    -213: "cán bộ chưa quan tâm (theo dõi) OA",
    -216: "mã truy cập (access token) của OA không hợp lệ",
    -218: "cán bộ đã nhận đủ số tin cho phép",
    -220: "mã truy cập (access token) của OA đã hết hạn",
    -224: "gói dịch vụ của OA chưa có tính năng này (cần nâng gói)",
    -227: "tài khoản Zalo của cán bộ bị khoá hoặc không hoạt động 45 ngày",
    -230: "cán bộ chưa tương tác với OA trong 7 ngày qua (Zalo không cho OA nhắn)",
    -232: "cán bộ chưa tương tác với OA, hoặc lần tương tác đã hết hạn",
    -234: "Zalo không gửi tin loại này vào ban đêm (22:00–06:00); sẽ gửi lại buổi sáng",
    -237: "nhóm Zalo đã bị vô hiệu hoá (gói nhóm GMF hết hạn)",
    -403: "OA không ở trong nhóm: OA chỉ gửi được vào nhóm do OA tạo hoặc quản lý",
}
_ZALO_CODE = re.compile(r"\bzalo (-\d+)\b")
_GAVE_UP = re.compile(r"^gave up after (\d+) attempts: ")
FORM_ERROR = "Biểu mẫu thiếu thông tin. Anh/chị vui lòng nhập lại nơi nhận và nội dung."
CHANGED = (
    "Danh sách người nhận đã thay đổi kể từ lúc xem trước (cán bộ được thêm, xoá, hoặc hết"
    " thời hạn nhắn tin); chưa gửi gì. Anh/chị vui lòng xem lại danh sách dưới đây rồi xác nhận."
)
REPORT_DAYS = (1, 7, 30, 90)


def add_routes() -> list[tuple[str, str, Any]]:
    """The routes (registered by webhooks/admin/__init__.py, which checks each is guarded)."""
    return [
        ("GET", FORM, notify_form),
        ("POST", FORM + "/preview", notify_preview),
        ("POST", FORM + "/send", notify_send),
        ("GET", REPORT, notifications),
    ]


def who(key: str, label: str) -> str:
    """A recipient as staff read it: "Nhóm Zalo «tu-phap»", or the clerk and their commune."""
    if key.startswith("group:"):
        return f"Nhóm Zalo «{key.removeprefix('group:')}»"
    return label


def _row(r: Recipient) -> dict[str, str]:
    blocked = ""
    if r.blocked is not None:
        blocked = WINDOW_CLOSED if r.platform is Platform.FACEBOOK else f"không gửi: {r.blocked}"
    address = r.address if r.platform is Platform.ZALO_GROUP else mask_id(r.address)
    return {
        "who": who(r.key, r.label),
        "channel": CHANNELS.get(r.platform, r.platform.value),
        "address": address,
        "blocked": blocked,
    }


def reasons(error: str) -> tuple[str, str]:
    """A failure as staff read it: what it means in Vietnamese (may be ''), and the
    platform's own words ('' when the reason is the bot's, said in Vietnamese)."""
    if not error:
        return "", ""
    if error.startswith(OUR_WINDOW):
        return WINDOW_CLOSED.removeprefix("không gửi: "), ""
    meaning = []
    gave_up = _GAVE_UP.match(error)
    if gave_up:
        meaning.append(f"đã thử {gave_up.group(1)} lần không được nên dừng")
    code = _ZALO_CODE.search(error)
    if code is not None and int(code.group(1)) in ZALO_REASONS:
        meaning.append(ZALO_REASONS[int(code.group(1))])
    elif "transport: " in error:
        meaning.append("không kết nối được tới máy chủ của nền tảng")
    return "; ".join(meaning), error


def _see_other(location: str, query: Mapping[str, str]) -> web.Response:
    return web.Response(
        status=303, headers={"Location": f"{location}?{urlencode(query)}", **HEADERS}
    )


def _suggestions(request: web.Request) -> list[str]:
    groups = [f"group:{name}" for name, _ in request.app[SETTINGS_KEY].clerk_groups]
    return ["all", *groups]


def _render(
    request: web.Request,
    staff: StaffSession,
    targets: str = "",
    text: str = "",
    planned: Plan | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    context = {
        "staff": staff,
        "targets": targets,
        "text": text,
        "suggestions": _suggestions(request),
        "communes": [c.label for c in load_communes().items],
        "plan": None if planned is None else [_row(r) for r in planned.recipients],
        "sendable": 0 if planned is None else sum(not r.blocked for r in planned.recipients),
        "seal": "" if planned is None else seal(planned),
        "message": message,
    }
    return page(request, "notify.html", context, status)


async def _fields(request: web.Request) -> tuple[str, str] | None:
    form = await request.post()
    if "to" not in form and "text" not in form:
        return None
    # Browsers send a textarea's line breaks as CRLF, and a hidden field's value back as it
    # was parsed (LF): one form of line break, or the preview's seal could never match.
    text = str(form.get("text", "")).replace("\r\n", "\n").replace("\r", "\n")
    return str(form.get("to", "")).strip(), text.strip()


@requires(Role.EDITOR)
async def notify_form(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/notify: the form (targets and text)."""
    message = FORM_ERROR if request.query.get("error") == "form" else ""
    return _render(request, staff, message=message)


@requires(Role.EDITOR)
async def notify_preview(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/notify/preview: who would receive it, on which channel; nothing is sent."""
    fields = await _fields(request)
    if fields is None:
        return _see_other(FORM, {"error": "form"})
    targets, text = fields
    app = request.app
    try:
        planned = await preview(
            app[STORE_KEY],
            parse_targets(targets),
            text,
            load_communes(),
            dict(app[SETTINGS_KEY].clerk_groups),
        )
    except TargetError as exc:
        return _render(
            request, staff, targets, text, message=f"Chưa xem trước được: {exc.vi}.", status=422
        )
    return _render(request, staff, targets, text, planned)


@requires(Role.EDITOR)
async def notify_send(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/notify/send: queue the previewed notice if its recipients are unchanged."""
    fields = await _fields(request)
    if fields is None:
        return _see_other(FORM, {"error": "form"})
    targets, text = fields
    sealed = str((await request.post()).get("seal", ""))
    app = request.app
    try:
        done = await confirm(
            app[STORE_KEY],
            parse_targets(targets),
            text,
            sealed,
            load_communes(),
            dict(app[SETTINGS_KEY].clerk_groups),
            staff.name,
            client_address(request),
            app[ADMIN_CLOCK_KEY](),
        )
    except TargetError as exc:
        message = f"Chưa gửi được: {exc.vi}. {CHANGED}"
        return _render(request, staff, targets, text, message=message, status=409)
    if done.counts is None:
        return _render(request, staff, targets, text, done.planned, CHANGED, 409)
    c = done.counts
    query = {"queued": str(c.queued), "blocked": str(c.blocked), "already": str(c.already)}
    return _see_other(REPORT, query)


def _sent_message(query: Mapping[str, str]) -> str:
    try:
        queued, blocked, already = (int(query[k]) for k in ("queued", "blocked", "already"))
    except (KeyError, ValueError):
        return ""
    return (
        f"Đã đưa thông báo vào hàng đợi gửi cho {queued} nơi nhận; {blocked} nơi nhận không gửi"
        f" được (đã ghi lý do); {already} nơi nhận đã nhận thông báo này trước đó nên không gửi"
        " lại."
    )


def _report_row(n: NoticeRecord) -> dict[str, Any]:
    reason, platform_reason = reasons(n.error or "")
    kind = EVENTS.get(n.event.partition(":")[0], n.event)
    if n.event.startswith("handoff:") and n.event.endswith(":reminder"):
        kind = REMINDER
    return {
        "at": n.created_at,
        "kind": kind,
        "who": who(n.recipient, n.label),
        "channel": CHANNELS.get(n.platform, n.platform.value),
        "status": n.status,
        "status_label": STATUSES.get(n.status, n.status),
        "attempts": n.attempts,
        "reason": reason,
        "platform_reason": platform_reason,
        "text": n.text,
        "finished_at": n.finished_at,
    }


@requires(Role.VIEWER)
async def notifications(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/notifications?days=N: what was sent to whom, delivered or failed and why."""
    try:
        days = int(request.query.get("days", "7"))
    except ValueError:
        days = 7
    days = min(max(days, 1), 366)
    since = request.app[ADMIN_CLOCK_KEY]() - days * 86400
    rows = await request.app[STORE_KEY].notices(since)
    counts = {s: sum(n.status == s for n in rows) for s in STATUSES}
    context = {
        "staff": staff,
        "days": days,
        "choices": REPORT_DAYS,
        "rows": [_report_row(n) for n in rows],
        "counts": [(STATUSES[s], counts[s]) for s in STATUSES],
        "message": _sent_message(request.query),
    }
    return page(request, "notifications.html", context)
