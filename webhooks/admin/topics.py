"""The topic pages: the list of topics (viewer), a topic's edit form (viewer reads, editor
edits), its preview and its save (editor), each POST with the session's CSRF token.

The form carries the version of the file it was filled from; a save of an older version is
refused with 409 (someone else changed it), an invalid one with 422 and the reasons on their
fields, and nothing is written either way. A save that was carried out redirects back to the
form (POST-redirect-GET). "Xem trước" renders the reply as the citizen will read it, with the
real composer on the edited knowledge base, without saving. The policy is
`bot/staff/topic_desk.py`'s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.answers import Composer
from bot.cases.dates import VN_TZ
from bot.knowledge import LANGS
from bot.lint import stray_phrasings
from bot.model_cache import model_cache
from bot.models import FACETS, Lang, Reply
from bot.models.staff import Role, StaffSession
from bot.staff.knowledge import topic_statuses
from bot.staff.topic_desk import Result, Saved, TopicDesk
from bot.staff.topic_edit import EditRefused, Refusal, check_edit, read_topic
from bot.staff.topic_form import FormError, TopicForm, form_of, parse_form
from bot.staff.topic_yaml import EditError, read_form
from bot.text import fold
from webhooks.admin.guard import HEADERS, client_address, page, requires
from webhooks.admin.knowledge import KINDS
from webhooks.admin.review import REVIEW_DESK_KEY
from webhooks.keys import ADMIN_CLOCK_KEY, BUNDLE_KEY, RELOADER_KEY, SETTINGS_KEY, STORE_KEY

LIST = "/admin/topics"
TOPIC_DESK_KEY = web.AppKey("topic_desk", TopicDesk)

SAVED = "Đã lưu. Dữ liệu đã được nạp lại: bot trả lời theo nội dung mới từ tin nhắn sau."
RELOAD_FAILED = (
    "Đã lưu tệp, nhưng dữ liệu chưa nạp lại được (xem trang Dữ liệu hỏi đáp); bot vẫn trả lời"
    " theo dữ liệu cũ cho đến khi lỗi được sửa."
)
UNCHANGED = "Không có thay đổi nào để lưu."
INVALID = (
    "Chưa lưu: nội dung chưa hợp lệ, tệp không thay đổi. Anh/chị vui lòng sửa các ô được đánh dấu."
)
STALE_PREVIEW = (
    "Lưu ý: chủ đề đã được người khác sửa sau khi anh/chị mở trang; nếu lưu bây giờ sẽ bị từ"
    " chối. Anh/chị vui lòng tải lại trang."
)


def add_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """The topic routes (registered by webhooks/admin/__init__.py, which checks each is
    guarded); the desk is made at start-up, once the store is open."""
    app.on_startup.append(_desk)
    return [
        ("GET", LIST, topics),
        ("GET", LIST + "/{topic}", topic),
        ("POST", LIST + "/{topic}", save),
        ("POST", LIST + "/{topic}/preview", preview),
    ]


async def _desk(app: web.Application) -> None:
    settings = app[SETTINGS_KEY]
    lint = partial(stray_phrasings, settings=settings.matcher, models=model_cache(settings))
    root, store, reload = settings.knowledge_path(), app[STORE_KEY], app[RELOADER_KEY].reload_now
    # Saves, reverts and the review inbox's teaching write the same files: one at a time.
    app[TOPIC_DESK_KEY] = TopicDesk(root, store, reload, lint, app[REVIEW_DESK_KEY].lock)


def _url(topic_id: str, **query: str) -> str:
    return f"{LIST}/{quote(topic_id, safe='')}" + (f"?{urlencode(query)}" if query else "")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **HEADERS})


@requires(Role.VIEWER)
async def topics(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/topics?q=TEXT: every topic, by name; the text filters id and names."""
    kb = request.app[BUNDLE_KEY].current.kb
    today = dt.datetime.fromtimestamp(request.app[ADMIN_CLOCK_KEY](), VN_TZ).date()
    query = request.query.get("q", "").strip()[:200]
    wanted = fold(" ".join(query.split()))
    rows = []
    for status in topic_statuses(kb, today):
        names = kb.topics[status.id].name
        if wanted in fold(f"{status.id} {names.vi} {names.en}"):
            rows.append(status)
    rows.sort(key=lambda r: fold(r.name))
    missing = request.query.get("missing", "")
    context = {
        "staff": staff,
        "rows": rows,
        "total": len(kb.topics),
        "q": query,
        "kinds": KINDS,
        "missing": missing[:200],
    }
    return page(request, "topics.html", context)


def _labels(request: web.Request) -> dict[str, str]:
    labels = request.app[BUNDLE_KEY].current.kb.texts.facet_labels
    return {facet: labels[facet].vi if facet in labels else facet for facet in FACETS}


async def _render(
    request: web.Request,
    staff: StaffSession,
    topic_id: str,
    values: Mapping[str, str],
    version: str,
    status: int = 200,
    message: str = "",
    ok: bool = False,
    refusals: tuple[Refusal, ...] = (),
    replies: list[Reply] | None = None,
    shown: tuple[str, str] = ("", "vi"),
) -> web.Response:
    root = request.app[SETTINGS_KEY].knowledge_path()
    current = request.app[BUNDLE_KEY].current.kb.topics.get(topic_id)
    errors: dict[str, list[str]] = {}
    general: list[Refusal] = []
    for refusal in refusals:
        if refusal.field is not None and refusal.field in values:
            errors.setdefault(refusal.field, []).append(refusal.reason)
        else:
            general.append(refusal)
    context = {
        "staff": staff,
        "id": topic_id,
        "topic": current,
        "file": (await asyncio.to_thread(read_topic, root, topic_id)).name,
        "kinds": KINDS,
        "v": values,
        "version": version,
        "facets": FACETS,
        "labels": _labels(request),
        "langs": LANGS,
        "editable": staff.role.allows(Role.EDITOR),
        "message": message,
        "ok": ok,
        "errors": errors,
        "general": general,
        "replies": replies,
        "shown": shown,
    }
    return page(request, "topic.html", context, status)


@requires(Role.VIEWER)
async def topic(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/topics/{topic}: the form, filled from the file as it is now."""
    topic_id = request.match_info["topic"]
    root = request.app[SETTINGS_KEY].knowledge_path()
    try:
        found = await asyncio.to_thread(read_topic, root, topic_id)
        form = read_form(found.text)
    except EditRefused:
        return _see_other(f"{LIST}?{urlencode({'missing': topic_id})}")
    except EditError as exc:  # the file is not a YAML mapping: the form is empty
        empty = form_of({}).values()
        return await _render(request, staff, topic_id, empty, found.version, 200, exc.reason)
    query = request.query
    message, ok = "", False
    if query.get("saved"):
        message, ok = (RELOAD_FAILED, False) if query.get("reload") == "failed" else (SAVED, True)
    elif query.get("unchanged"):
        message, ok = UNCHANGED, True
    return await _render(request, staff, topic_id, form.values(), found.version, 200, message, ok)


@dataclass(frozen=True, slots=True)
class _Posted:
    """A posted topic form: the topic, the fields as posted, their version and the form."""

    topic_id: str
    fields: dict[str, str]
    version: str
    form: TopicForm


async def _posted(request: web.Request, staff: StaffSession) -> _Posted | web.Response:
    """The posted form; or a response when the topic has no file (back to the list) or the
    form cannot be read (422 with the reasons on their fields)."""
    topic_id = request.match_info["topic"]
    fields = {k: str(v) for k, v in (await request.post()).items()}
    version = fields.get("version", "")
    root = request.app[SETTINGS_KEY].knowledge_path()
    try:
        found = await asyncio.to_thread(read_topic, root, topic_id)
    except EditRefused:
        return _see_other(f"{LIST}?{urlencode({'missing': topic_id})}")
    try:
        base = read_form(found.text)
    except EditError:
        base = None
    try:
        return _Posted(topic_id, fields, version, parse_form(fields, base))
    except FormError as exc:
        refusals = tuple(Refusal(f, found.name, r) for f, r in exc.problems)
        values = (base or form_of({})).values() | fields
        return await _render(
            request, staff, topic_id, values, version, 422, INVALID, refusals=refusals
        )


@requires(Role.EDITOR)
async def save(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/topics/{topic}: check, write, reload and audit the edit."""
    posted = await _posted(request, staff)
    if isinstance(posted, web.Response):
        return posted
    topic_id, form, version = posted.topic_id, posted.form, posted.version
    app = request.app
    saved: Saved = await app[TOPIC_DESK_KEY].save(
        topic_id, form, version, staff.name, client_address(request), app[ADMIN_CLOCK_KEY]()
    )
    if saved.result is Result.DONE:
        query = {"saved": "1"} | ({"reload": "failed"} if saved.reload_problems else {})
        return _see_other(_url(topic_id, **query))
    if saved.result is Result.UNCHANGED:
        return _see_other(_url(topic_id, unchanged="1"))
    if saved.result is Result.CONFLICT:
        context = {"staff": staff, "id": topic_id, "url": _url(topic_id)}
        return page(request, "conflict.html", context, 409)
    return await _render(
        request, staff, topic_id, form.values(), version, 422, INVALID, refusals=saved.refusals
    )


@requires(Role.EDITOR)
async def preview(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """POST /admin/topics/{topic}/preview: the reply to a question on the chosen facet (or
    the topic as a whole), composed from the edited topic; nothing is saved."""
    posted = await _posted(request, staff)
    if isinstance(posted, web.Response):
        return posted
    topic_id, form, version = posted.topic_id, posted.form, posted.version
    facet = posted.fields.get("preview_facet", "")
    facet = facet if facet in FACETS else ""
    lang: Lang = "en" if posted.fields.get("preview_lang") == "en" else "vi"
    root = request.app[SETTINGS_KEY].knowledge_path()
    try:
        checked = await asyncio.to_thread(check_edit, root, topic_id, form, None)
    except EditRefused as exc:
        return await _render(
            request, staff, topic_id, form.values(), version, 422, INVALID,
            refusals=tuple(exc.refusals), shown=(facet, lang),
        )  # fmt: skip
    composer = Composer(checked.kb)
    replies = composer.answer(checked.kb.topics[topic_id], [facet] if facet else [], lang)
    message = STALE_PREVIEW if checked.before.version != version else ""
    return await _render(
        request, staff, topic_id, form.values(), version, 200, message,
        replies=replies, shown=(facet, lang),
    )  # fmt: skip
