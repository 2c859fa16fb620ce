"""The audit page: what staff did, newest first, and "Hoàn tác" on each knowledge change: put
back the file it replaced (`bot/staff/topic_desk.py` checks, writes, reloads and audits it).
Admins read every line; editors, who make the knowledge changes, read those lines only (no
logins, accounts or addresses) and may revert them, as admins may. A revert carried out
redirects to the audit page with what happened; a refused one shows the page again with why:
409 when the file changed since that change, 422 when the knowledge base would not load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.models.staff import Role, StaffSession
from bot.staff.topic_desk import REVERTIBLE, Result, revertible
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.admin.topics import TOPIC_DESK_KEY
from webhooks.keys import ADMIN_CLOCK_KEY, STORE_KEY

AUDIT = "/admin/audit"
AUDIT_PAGE = 50
REVERTED = (
    "Đã hoàn tác thay đổi số {entry}. Dữ liệu đã được nạp lại: bot áp dụng ngay từ tin nhắn sau."
)
RELOAD_FAILED = (
    "Đã hoàn tác thay đổi số {entry} trong tệp, nhưng dữ liệu chưa nạp lại được (xem trang Dữ liệu"
    " hỏi đáp)."
)
GONE = "Không tìm thấy thay đổi dữ liệu này trong nhật ký, hoặc thay đổi không hoàn tác được."
CONFLICT = (
    "Không hoàn tác được: tệp đã được sửa sau thay đổi số {entry}; không có gì được ghi. Anh/chị"
    " có thể hoàn tác lần sửa mới hơn trước."
)
INVALID = "Không hoàn tác được: dữ liệu sau khi hoàn tác không hợp lệ; không có gì được ghi. Lý do:"


def add_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """The audit routes (registered by webhooks/admin/__init__.py, which checks each is
    guarded)."""
    return [("GET", AUDIT, audit), ("POST", AUDIT + "/{entry}/revert", revert)]


async def render_audit(
    request: web.Request,
    staff: StaffSession,
    status: int = 200,
    message: str = "",
    reasons: tuple[str, ...] = (),
    ok: bool = False,
) -> web.Response:
    try:
        number = max(1, int(request.query.get("page", "1")))
    except ValueError:
        number = 1
    everything = staff.role.allows(Role.ADMIN)
    entries, total = await request.app[STORE_KEY].audit_entries(
        (number - 1) * AUDIT_PAGE, AUDIT_PAGE, None if everything else REVERTIBLE
    )
    context = {
        "everything": everything,
        "staff": staff,
        "entries": entries,
        "total": total,
        "page": number,
        "pages": max(1, -(-total // AUDIT_PAGE)),
        "revertible": {e.id for e in entries if revertible(e)},
        "message": message,
        "reasons": reasons,
        "ok": ok,
    }
    return page(request, "audit.html", context, status)


@requires(Role.EDITOR)
async def audit(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/audit?page=N: the audit log, newest first, 50 lines a page (an editor's:
    the knowledge changes)."""
    message, ok = message_of(request.query)
    return await render_audit(request, staff, message=message, ok=ok)


def message_of(query: Mapping[str, str]) -> tuple[str, bool]:
    """The audit page's message after a revert (from its redirect's query), and whether it
    is good news."""
    entry = query.get("reverted", "")
    if entry.isdecimal():
        if query.get("reload") == "failed":
            return RELOAD_FAILED.format(entry=entry), False
        return REVERTED.format(entry=entry), True
    if query.get("error") == "gone":
        return GONE, False
    return "", False


@requires(Role.EDITOR)
async def revert(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/audit/{entry}/revert: undo that knowledge change."""
    raw = request.match_info["entry"]
    if not raw.isdecimal() or len(raw) > 18:
        return _see_other(f"{AUDIT}?{urlencode({'error': 'gone'})}")
    entry = int(raw)
    app = request.app
    saved = await app[TOPIC_DESK_KEY].revert(
        entry, staff.name, client_address(request), app[ADMIN_CLOCK_KEY]()
    )
    if saved.result is Result.DONE:
        query = {"reverted": str(entry)} | ({"reload": "failed"} if saved.reload_problems else {})
        return _see_other(f"{AUDIT}?{urlencode(query)}")
    if saved.result is Result.CONFLICT:
        return await render_audit(request, staff, 409, CONFLICT.format(entry=entry))
    if saved.result is Result.INVALID:
        reasons = tuple(f"{r.where}: {r.reason}" if r.where else r.reason for r in saved.refusals)
        return await render_audit(request, staff, 422, INVALID, reasons)
    return _see_other(f"{AUDIT}?{urlencode({'error': 'gone'})}")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **HEADERS})
