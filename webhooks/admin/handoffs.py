"""The handoff queue's pages (issue 11, "Human handoff"): the conversations waiting for staff
(viewer), one conversation with its messages both ways (viewer), and what an editor does to it:
take it over, reply, close it. Each action is a POST with the session's CSRF token (guard.py);
the policy and the audit are `bot/staff/handoff.py`'s.

A carried-out action redirects (POST-redirect-GET) with what happened as a code; a refused one
renders the conversation again with the reason: 409 when the handoff ended meanwhile, 422 for
an empty or too long reply or a platform that no longer lets anyone write.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.models import Platform
from bot.models.staff import Role, StaffSession
from bot.staff.handoff import MAX_REPLY_CHARS, Outcome, Result, Window, reply_window
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.admin.pages import CHANNELS, number
from webhooks.keys import ADMIN_CLOCK_KEY, HANDOFF_DESK_KEY, SETTINGS_KEY, STORE_KEY

QUEUE = "/admin/handoffs"
LAST_LINES = 3  # messages shown under each conversation of the queue
SHOWN_LINES = 100  # messages on a conversation's page

DONE = {
    "take": "Anh/chị đã nhận xử lý cuộc trò chuyện này.",
    "reply": "Đã đưa câu trả lời vào hàng đợi gửi tin; trạng thái gửi hiện bên dưới.",
    "human_agent": (
        "Đã đưa câu trả lời vào hàng đợi gửi tin. Người dân nhắn tin cuối cùng đã quá 24 giờ,"
        " nên tin được gửi kèm thẻ HUMAN_AGENT của Messenger (chỉ dành cho câu trả lời của cán"
        " bộ, trong vòng 7 ngày)."
    ),
    "close": "Đã đóng cuộc trò chuyện. Bot trả lời lại người dân từ tin nhắn sau.",
}
NOT_OPEN = (
    "Cuộc trò chuyện này đã được đóng (bởi cán bộ khác, người dân, hoặc vì hết thời gian chờ);"
    " không có gì được gửi. Bot đang trả lời người dân."
)
EMPTY = "Anh/chị vui lòng nhập nội dung trả lời."
TOO_LONG = f"Câu trả lời quá dài: tối đa {number(MAX_REPLY_CHARS)} ký tự."
WINDOW_CLOSED = {
    Platform.FACEBOOK: (
        "Không thể gửi: đã quá 7 ngày kể từ tin nhắn cuối của người dân, Messenger không cho"
        " phép Trang trả lời nữa. Anh/chị vui lòng liên hệ người dân qua kênh khác nếu có."
    ),
    Platform.ZALO: (
        "Không thể gửi: đã quá 7 ngày kể từ lần tương tác cuối của người dân, Zalo không cho"
        " phép gửi tin tư vấn nữa. Anh/chị vui lòng liên hệ người dân qua kênh khác nếu có."
    ),
}
WINDOW_CLOSED_OTHER = "Không thể gửi: phiên trò chuyện này đã kết thúc."
# What the reply form says of the platform's window before staff write.
WINDOW_NOTES = {
    Window.OPEN: "",
    Window.HUMAN_AGENT: (
        "Đã quá 24 giờ kể từ tin nhắn cuối của người dân: câu trả lời sẽ được gửi kèm thẻ"
        " HUMAN_AGENT của Messenger (được phép trong 7 ngày)."
    ),
    Window.CLOSED: "Nền tảng không còn cho phép gửi tin cho người dân này.",
}
SPEAKERS = {"citizen": "Người dân", "bot": "Bot", "staff": "Cán bộ"}
REASONS = {"asked": "người dân yêu cầu", "misses": "bot hai lần liên tiếp chưa trả lời được"}


def add_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """The queue's routes (registered and checked by webhooks/admin/__init__.py)."""
    one = QUEUE + r"/{id:\d{1,18}}"
    return [
        ("GET", QUEUE, queue),
        ("GET", one, conversation),
        ("POST", one + "/take", take),
        ("POST", one + "/reply", reply),
        ("POST", one + "/close", close),
    ]


def duration(seconds: float) -> str:
    """How long, as staff say it: "5 phút", "3 giờ 5 phút", "2 ngày 3 giờ"."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {minutes} phút"
    return f"{minutes} phút"


@requires(Role.VIEWER)
async def queue(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/handoffs: open conversations, the longest waiting first."""
    app = request.app
    now = app[ADMIN_CLOCK_KEY]()
    timeout = app[SETTINGS_KEY].handoff_timeout_hours * 3600
    waiting = await app[STORE_KEY].handoff_queue(now - timeout, LAST_LINES)
    context = {
        "staff": staff,
        "waiting": waiting,
        "now": now,
        "channels": CHANNELS,
        "reasons": REASONS,
        "timeout_hours": app[SETTINGS_KEY].handoff_timeout_hours,
        "message": DONE["close"] if request.query.get("done") == "close" else "",
    }
    return page(request, "handoffs.html", context)


async def _render(
    request: web.Request,
    staff: StaffSession,
    status: int = 200,
    message: str = "",
    ok: bool = False,
) -> web.Response:
    app = request.app
    handoff = await app[STORE_KEY].handoff(int(request.match_info["id"]))
    if handoff is None:
        raise web.HTTPNotFound(text="Không có cuộc trò chuyện này.", headers=HEADERS)
    now = app[ADMIN_CLOCK_KEY]()
    lines, last = await app[STORE_KEY].conversation(handoff.platform, handoff.user_id, SHOWN_LINES)
    timeout = app[SETTINGS_KEY].handoff_timeout_hours * 3600
    window = reply_window(handoff.platform, last, now)
    context = {
        "staff": staff,
        "h": handoff,
        "lines": lines,
        "now": now,
        "active": handoff.active(now, timeout),
        "expires_at": handoff.expires_at(timeout),
        "can_act": staff.role.allows(Role.EDITOR),
        "window": window.value,
        "window_note": WINDOW_NOTES[window],
        "channels": CHANNELS,
        "reasons": REASONS,
        "max_chars": MAX_REPLY_CHARS,
        "message": message,
        "ok": ok,
    }
    return page(request, "handoff.html", context, status)


@requires(Role.VIEWER)
async def conversation(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/handoffs/{id}: the conversation, with the reply form for editors."""
    done = DONE.get(request.query.get("done", ""), "")
    return await _render(request, staff, message=done, ok=bool(done))


async def _act(request: web.Request, staff: StaffSession, action: str) -> web.StreamResponse:
    app = request.app
    handoff_id = int(request.match_info["id"])
    desk, now, address = app[HANDOFF_DESK_KEY], app[ADMIN_CLOCK_KEY](), client_address(request)
    if action == "take":
        outcome = await desk.take(handoff_id, staff.name, address, now)
    elif action == "close":
        outcome = await desk.close(handoff_id, staff.name, address, now)
    else:
        form = await request.post()
        outcome = await desk.reply(handoff_id, staff.name, str(form.get("text", "")), address, now)
    if outcome.result is Result.DONE:
        if action == "close":
            return _see_other(QUEUE + "?done=close")
        code = "human_agent" if outcome.window is Window.HUMAN_AGENT else action
        return _see_other(f"{QUEUE}/{handoff_id}?done={code}")
    if outcome.result is Result.WINDOW_CLOSED:
        handoff = await app[STORE_KEY].handoff(handoff_id)
        platform = handoff.platform if handoff is not None else None
        text = WINDOW_CLOSED.get(platform, WINDOW_CLOSED_OTHER) if platform else WINDOW_CLOSED_OTHER
        return await _render(request, staff, 422, text)
    return await _render(request, staff, *_refusal(outcome))


def _refusal(outcome: Outcome) -> tuple[int, str]:
    if outcome.result is Result.EMPTY:
        return 422, EMPTY
    if outcome.result is Result.TOO_LONG:
        return 422, TOO_LONG
    return 409, NOT_OPEN


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **HEADERS})


@requires(Role.EDITOR)
async def take(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/handoffs/{id}/take: "Nhận xử lý", the handoff is assigned to me."""
    return await _act(request, staff, "take")


@requires(Role.EDITOR)
async def reply(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/handoffs/{id}/reply: send `text` to the citizen through the outbox."""
    return await _act(request, staff, "reply")


@requires(Role.EDITOR)
async def close(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/handoffs/{id}/close: "Đóng", the bot answers again and says so."""
    return await _act(request, staff, "close")
