"""The clerk registry page (viewer reads; editor and admin change it): the list, one clerk
added or removed, a CSV or XLSX file imported. The checks are the command line's
(bot/staff/clerks.py over bot/clerks/registry.py): an unknown commune is refused with the
closest names, a file's bad rows are listed by line and its good rows kept. Every change is
audited.

A change that was carried out redirects back to the list (POST-redirect-GET) with a code in
the query; a refused one renders the list again with the reason (422) and the form as typed;
an import renders its report (200: the good rows were kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.cases.table import CasesFileError
from bot.clerks.communes import load_communes
from bot.clerks.desk import Imported, add_clerk, import_clerks, mask_id, remove_clerk
from bot.clerks.registry import HEADER_LABELS, Refusal
from bot.models.staff import Role, StaffSession
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.keys import ADMIN_CLOCK_KEY, STORE_KEY

PAGE = "/admin/clerks"
PLATFORMS = {"zalo": "Zalo", "facebook": "Messenger"}
FIELDS = ("name", "commune", "platform", "user_id", "phone")
DONE = {
    "added": "Đã thêm (hoặc cập nhật) cán bộ vào danh sách.",
    "removed": "Đã xoá cán bộ khỏi danh sách, cùng lịch sử thông báo đã gửi cho cán bộ đó.",
}
FORM_ERROR = "Biểu mẫu thiếu thông tin. Anh/chị vui lòng nhập lại."
NOT_FOUND = "Cán bộ này không còn trong danh sách (có thể đã được xoá); không có gì thay đổi."
NO_FILE = "Anh/chị vui lòng chọn tệp danh sách (CSV UTF-8 hoặc XLSX)."


def add_routes() -> list[tuple[str, str, Any]]:
    """The page's routes (registered by webhooks/admin/__init__.py, which checks each is
    guarded)."""
    return [
        ("GET", PAGE, clerks),
        ("POST", PAGE + "/add", add),
        ("POST", PAGE + "/remove", remove),
        ("POST", PAGE + "/import", upload),
    ]


def _see_other(query: Mapping[str, str]) -> web.Response:
    return web.Response(status=303, headers={"Location": f"{PAGE}?{urlencode(query)}", **HEADERS})


async def _render(
    request: web.Request,
    staff: StaffSession,
    status: int = 200,
    message: str = "",
    ok: bool = False,
    form: Mapping[str, str] | None = None,
    imported: Imported | None = None,
) -> web.Response:
    communes = load_communes()
    rows = [
        {
            "id": c.id,
            "name": c.name,
            "commune": getattr(communes.by_code(c.commune), "label", c.commune),
            "platform": PLATFORMS.get(c.platform.value, c.platform.value),
            "user_id": mask_id(c.user_id),
            "phone": c.phone,
        }
        for c in await request.app[STORE_KEY].clerks()
    ]
    context = {
        "staff": staff,
        "rows": rows,
        "communes": [c.label for c in communes.items],
        "source": communes.source,
        "headers": list(HEADER_LABELS.values()),
        "platforms": PLATFORMS,
        "message": message,
        "ok": ok,
        "form": {name: "" for name in FIELDS} | dict(form or {}),
        "imported": imported,
        "can_edit": staff.role.allows(Role.EDITOR),
    }
    return page(request, "clerks.html", context, status)


@requires(Role.VIEWER)
async def clerks(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/clerks: the registry, by commune then name."""
    query = request.query
    done = DONE.get(query.get("done", ""))
    if done is not None:
        return await _render(request, staff, message=done, ok=True)
    message = {"form": FORM_ERROR, "gone": NOT_FOUND}.get(query.get("error", ""), "")
    return await _render(request, staff, message=message)


@requires(Role.EDITOR)
async def add(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/clerks/add: one clerk, checked as `bot clerks add` checks it."""
    form = await request.post()
    fields = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if not any(fields.values()):
        return _see_other({"error": "form"})
    app = request.app
    result = await add_clerk(
        app[STORE_KEY],
        load_communes(),
        fields,
        staff.name,
        client_address(request),
        app[ADMIN_CLOCK_KEY](),
    )
    if isinstance(result, Refusal):
        message = f"Chưa thêm được cán bộ: {result.vi}."
        return await _render(request, staff, 422, message, form=fields)
    return _see_other({"done": "added"})


@requires(Role.EDITOR)
async def remove(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/clerks/remove: one clerk by registry number."""
    form = await request.post()
    try:
        clerk_id = int(str(form.get("id", "")))
    except ValueError:
        return _see_other({"error": "form"})
    app = request.app
    removed = await remove_clerk(
        app[STORE_KEY], clerk_id, staff.name, client_address(request), app[ADMIN_CLOCK_KEY]()
    )
    return _see_other({"done": "removed"} if removed is not None else {"error": "gone"})


@requires(Role.EDITOR)
async def upload(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/clerks/import: a CSV or XLSX registry file, as `bot clerks import`."""
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField) or not field.filename:
        return _see_other({"error": "form"})
    data = field.file.read()
    if not data:
        return await _render(request, staff, 422, NO_FILE)
    app = request.app
    try:
        imported = await import_clerks(
            app[STORE_KEY],
            load_communes(),
            field.filename,
            data,
            staff.name,
            client_address(request),
            app[ADMIN_CLOCK_KEY](),
        )
    except CasesFileError as exc:
        message = f"Không đọc được tệp; không có gì được nhập. Chi tiết: {exc.vi}."
        return await _render(request, staff, 422, message)
    c = imported.counts
    message = (
        f"{imported.source}: thêm {c.added}, cập nhật {c.updated}, không đổi {c.unchanged},"
        f" bỏ qua {len(imported.rejected)} dòng."
    )
    return await _render(request, staff, 200, message, ok=True, imported=imported)
