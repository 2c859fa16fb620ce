"""The review inbox's pages (editor): the groups of missed questions, and the three decisions
on a group (teach, out of scope, dismiss), each a POST with the session's CSRF token.

A decision that was carried out redirects back to the inbox (POST-redirect-GET) with what
happened in the query as codes and topic ids only; a refused one renders the inbox again with
the reasons: 409 when another member of staff decided first, 422 when the knowledge base
refused the edit. The policy is `bot/staff/review.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.models.staff import Role, StaffSession
from bot.staff.review import (
    OUT_OF_SCOPE_TOPIC,
    Action,
    Decision,
    Outcome,
    Result,
    ReviewDesk,
    inbox,
)
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.admin.pages import CHANNELS
from webhooks.keys import ADMIN_CLOCK_KEY, BUNDLE_KEY, RELOADER_KEY, SETTINGS_KEY, STORE_KEY

SHOWN = 100  # groups on the page, the most frequent
INBOX = "/admin/review"

REVIEW_DESK_KEY = web.AppKey("review_desk", ReviewDesk)

KINDS = {
    "fallback": "không hiểu",
    "clarify": "hỏi lại",
    "handoff": "gặp cán bộ",
    "rated_down": "👎 chưa hữu ích",
}
DONE = {
    Action.TEACH: "Đã thêm câu hỏi làm câu mẫu của chủ đề «{topic}».",
    Action.OUT_OF_SCOPE: "Đã thêm câu hỏi vào nhóm ngoài phạm vi.",
    Action.DISMISS: "Đã bỏ qua nhóm câu hỏi.",
}
FORM_ERROR = "Biểu mẫu thiếu thông tin. Anh/chị vui lòng chọn lại nhóm câu hỏi."
STALE = (
    "Nhóm câu hỏi này vừa được cán bộ khác xử lý hoặc đã thay đổi; không có gì được ghi."
    " Danh sách dưới đây đã được cập nhật."
)
NO_TOPIC = "Anh/chị vui lòng chọn một chủ đề trong danh sách."
INVALID = "Không thể thêm câu mẫu; dữ liệu không thay đổi. Lý do:"
RELOADED = " Dữ liệu đã được nạp lại: bot áp dụng ngay từ tin nhắn sau."
RELOAD_FAILED = (
    " Tuy nhiên dữ liệu chưa nạp lại được (xem knowledge_errors ở /healthz); bot vẫn trả lời"
    " theo dữ liệu cũ cho đến khi tệp được sửa."
)


def add_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """The inbox's routes (registered by webhooks/admin/__init__.py, which checks each is
    guarded); the desk is made at start-up, once the store is open."""
    app.on_startup.append(_desk)
    return [
        ("GET", INBOX, review),
        ("POST", INBOX + "/teach", teach),
        ("POST", INBOX + "/out-of-scope", out_of_scope),
        ("POST", INBOX + "/dismiss", dismiss),
    ]


async def _desk(app: web.Application) -> None:
    slot = app[BUNDLE_KEY]
    app[REVIEW_DESK_KEY] = ReviewDesk(
        app[STORE_KEY],
        app[SETTINGS_KEY].knowledge_path(),
        app[RELOADER_KEY].reload_now,
        lambda: list(slot.current.kb.topics),
    )


def _topics(request: web.Request) -> list[tuple[str, str]]:
    """(id, Vietnamese name) of the topics staff may teach, by name."""
    topics = request.app[BUNDLE_KEY].current.kb.topics
    named = [(tid, t.name.get("vi")) for tid, t in topics.items() if tid != OUT_OF_SCOPE_TOPIC]
    return sorted(named, key=lambda item: item[1].lower())


async def _render(
    request: web.Request,
    staff: StaffSession,
    status: int = 200,
    message: str = "",
    reasons: tuple[str, ...] = (),
    ok: bool = False,
) -> web.Response:
    snapshot = await inbox(request.app[STORE_KEY])
    topics = _topics(request)
    context = {
        "staff": staff,
        "inbox": snapshot,
        "groups": snapshot.groups[:SHOWN],
        "topics": topics,
        "names": dict(topics) | {OUT_OF_SCOPE_TOPIC: "Ngoài phạm vi"},
        "channels": CHANNELS,
        "message": message,
        "reasons": reasons,
        "ok": ok,
        "settings": request.app[SETTINGS_KEY],
    }
    return page(request, "review.html", context, status)


@requires(Role.EDITOR)
async def review(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/review: the groups of missed questions, most frequent first."""
    query = request.query
    message, ok = "", False
    names = dict(_topics(request))
    try:
        action = Action(query.get("done", ""))
    except ValueError:
        action = None
    if action is not None:
        topic = names.get(query.get("topic", ""), "")
        message, ok = DONE[action].format(topic=topic), True
        answered = query.get("answered")
        if answered is not None:
            message += RELOADED
        if action is Action.TEACH and answered is not None and answered != query.get("topic"):
            shown = names.get(answered) or ("ngoài phạm vi" if answered else "chưa hiểu")
            message += (
                f" Lưu ý: với dữ liệu mới, bot vẫn hiểu câu này là «{shown}»; anh/chị có thể"
                " cần thêm câu mẫu hoặc từ khoá cho chủ đề."
            )
        if query.get("reload") == "failed":
            message += RELOAD_FAILED
    elif query.get("error") == "form":
        message = FORM_ERROR
    return await _render(request, staff, message=message, ok=ok)


async def _decide(request: web.Request, staff: StaffSession, action: Action) -> web.StreamResponse:
    form = await request.post()
    decision = _decision(form, action)
    if decision is None:
        return _see_other(INBOX + "?" + urlencode({"error": "form"}))
    app = request.app
    outcome = await app[REVIEW_DESK_KEY].decide(
        decision, staff.name, client_address(request), app[ADMIN_CLOCK_KEY]()
    )
    if outcome.result is Result.DONE:
        return _see_other(INBOX + "?" + urlencode(_done_query(action, outcome)))
    if outcome.result is Result.STALE:
        return await _render(request, staff, 409, STALE)
    if outcome.result is Result.NO_TOPIC:
        return await _render(request, staff, 422, NO_TOPIC)
    return await _render(request, staff, 422, INVALID, outcome.reasons)


def _decision(form: Mapping[str, Any], action: Action) -> Decision | None:
    key = str(form.get("key", "")).strip()
    try:
        upto, count = int(str(form.get("upto", ""))), int(str(form.get("count", "")))
    except ValueError:
        return None
    if not key or upto <= 0 or count <= 0:
        return None
    return Decision(key, upto, count, action, str(form.get("topic", "")).strip())


def _done_query(action: Action, outcome: Outcome) -> dict[str, str]:
    query = {"done": action.value}
    if outcome.topic is not None:
        query["topic"] = outcome.topic
    if outcome.version is not None:  # reloaded: say how the bot now reads the example
        query["answered"] = outcome.answered_as or ""
    elif outcome.reasons:  # written, but the reload failed: the previous bundle still answers
        query["reload"] = "failed"
    return query


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **HEADERS})


@requires(Role.EDITOR)
async def teach(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/review/teach: add the group's example as a phrasing of `topic`."""
    return await _decide(request, staff, Action.TEACH)


@requires(Role.EDITOR)
async def out_of_scope(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/review/out-of-scope: add it as a phrasing of `ngoai-pham-vi`."""
    return await _decide(request, staff, Action.OUT_OF_SCOPE)


@requires(Role.EDITOR)
async def dismiss(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/review/dismiss: hide the group."""
    return await _decide(request, staff, Action.DISMISS)
