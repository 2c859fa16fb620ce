"""The topic pages (/admin/topics) and the audit page's revert through aiohttp's test client,
on a copy of the shipped knowledge base: each route refused without a session, without its
CSRF token, and (for saving) to a viewer; an editor's save written, reloaded, answered in the
web chat and audited; an invalid or stale save refused with nothing written; the preview; the
revert of a save and of a taught phrasing.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.bundle import Bundle
from bot.models.staff import Role
from tests.conftest import KNOWLEDGE, FakeClock
from tests.test_admin import NOW, Admin, csrf_of, log_in, start, text_of
from webhooks.keys import BUNDLE_KEY

TOPIC = "khai-sinh"
PAGE = f"/admin/topics/{TOPIC}"
NEW_FEE = "Khai sinh đúng hạn không mất lệ phí; quá hạn, Anh/chị vui lòng hỏi UBND xã."
FEE_QUESTION = "làm giấy khai sinh có mất tiền không"
ROUTES = [
    ("GET", "/admin/topics"),
    ("GET", PAGE),
    ("POST", PAGE),
    ("POST", PAGE + "/preview"),
    ("POST", "/admin/audit/1/revert"),
]


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "kb" / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    return root


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path, bundle: Bundle, knowledge: Path) -> Admin:
    # The shipped bundle serves first (the copy has the same content); only a save reloads.
    admin = await start(
        aiohttp_client, tmp_path, bundle, FakeClock(NOW), knowledge=str(knowledge), reload_seconds=0
    )
    for role in Role:
        await admin.add(role.value, role)
    return admin


class _Form(HTMLParser):
    """The fields of the first topic edit form of a page, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._inside = self._done = False
        self._area: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action", "").startswith("/admin/topics/") and not self._done:
            self._inside = True
        elif self._inside and tag == "input" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif self._inside and tag == "textarea":
            self._area = a["name"]
            self.fields[self._area] = ""

    def handle_data(self, data: str) -> None:
        if self._area is not None:
            self.fields[self._area] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._area is not None:
            # A browser drops the newline right after <textarea>.
            self.fields[self._area] = self.fields[self._area].removeprefix("\n")
            self._area = None
        elif tag == "form" and self._inside:
            self._inside, self._done = False, True


def form_fields(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    assert parser.fields, "no topic form on the page"
    return parser.fields


async def open_form(admin: Admin) -> dict[str, str]:
    response = await admin.client.get(PAGE)
    assert response.status == 200
    return form_fields(await response.text())


async def ask(admin: Admin, text: str) -> list[str]:
    answer = await admin.client.post("/api/chat", json={"session": str(uuid.uuid4()), "text": text})
    assert answer.status == 200
    return [r["text"] for r in (await answer.json())["replies"]]


def the_file(knowledge: Path) -> Path:
    return knowledge / "procedures" / f"{TOPIC}.yaml"


# -- who may do what ---------------------------------------------------------------------------


async def test_each_topic_route_refuses_without_a_session(desk: Admin, knowledge: Path) -> None:
    before = the_file(knowledge).read_bytes()
    for method, path in ROUTES:
        response = await desk.client.request(method, path, allow_redirects=False)
        if method == "GET":
            assert response.status == 303, path
            assert response.headers["Location"].startswith("/admin/login?next="), path
        else:
            assert response.status == 401, path
    assert the_file(knowledge).read_bytes() == before


async def test_each_topic_form_refuses_without_its_csrf_token(desk: Admin, knowledge: Path) -> None:
    before = the_file(knowledge).read_bytes()
    assert (await log_in(desk.client, "admin")).status == 303
    fields = await open_form(desk)
    token = fields.pop("csrf")
    fields["facets.fee.vi"] = NEW_FEE
    for _, path in [r for r in ROUTES if r[0] == "POST"]:
        for data in (fields, fields | {"csrf": ""}, fields | {"csrf": token[:-2] + "xx"}):
            response = await desk.client.post(path, data=data, allow_redirects=False)
            assert response.status == 403, (path, data.get("csrf"))
    assert the_file(knowledge).read_bytes() == before


async def test_a_viewer_reads_the_form_but_cannot_save_or_preview(
    desk: Admin, knowledge: Path
) -> None:
    before = the_file(knowledge).read_bytes()
    assert (await log_in(desk.client, "viewer")).status == 303
    listing = text_of(await (await desk.client.get("/admin/topics?q=khai sinh")).text())
    assert "Đăng ký khai sinh" in listing and "Đăng ký kết hôn" not in listing
    page = await (await desk.client.get(PAGE)).text()
    assert "readonly" in page and 'id="luu-nut"' not in page
    fields = form_fields(page)
    assert fields["facets.fee.vi"].startswith("Đăng ký khai sinh đúng hạn")
    fields["facets.fee.vi"] = NEW_FEE
    for path in (PAGE, PAGE + "/preview"):
        response = await desk.client.post(path, data=fields, allow_redirects=False)
        assert response.status == 403, path
        assert "Không có quyền" in text_of(await response.text())
    assert the_file(knowledge).read_bytes() == before


# -- saving ------------------------------------------------------------------------------------


async def test_an_editor_saves_a_fee_and_the_next_message_answers_with_it(
    desk: Admin, knowledge: Path
) -> None:
    assert NEW_FEE not in " ".join(await ask(desk, FEE_QUESTION))
    assert (await log_in(desk.client, "editor")).status == 303
    fields = await open_form(desk)
    fields["facets.fee.vi"] = NEW_FEE
    response = await desk.client.post(PAGE, data=fields, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == PAGE + "?saved=1"
    assert f"      {NEW_FEE}\n" in the_file(knowledge).read_text(encoding="utf-8")
    assert NEW_FEE in desk.client.app[BUNDLE_KEY].current.kb.topics[TOPIC].facets["fee"].vi
    assert any(NEW_FEE in reply for reply in await ask(desk, FEE_QUESTION))
    shown = await (await desk.client.get(response.headers["Location"])).text()
    assert "Đã lưu. Dữ liệu đã được nạp lại" in text_of(shown)
    assert form_fields(shown)["facets.fee.vi"] == NEW_FEE
    entries, _ = await desk.store.audit_entries(0, 5)
    assert (entries[0].actor, entries[0].action, entries[0].target) == (
        "editor",
        "topic.edit",
        TOPIC,
    )
    assert json.loads(entries[0].after)["fields"] == {"facets.fee.vi": NEW_FEE}


async def test_an_invalid_save_shows_the_field_and_reason_and_writes_nothing(
    desk: Admin, knowledge: Path
) -> None:
    before = the_file(knowledge).read_bytes()
    await log_in(desk.client, "editor")
    fields = await open_form(desk)
    fields["facets.time.en"] = ""
    fields["facets.fee.vi"] = "Lệ phí 8.000 đồng."
    fields["verify.fee"] = ""
    fields["review_by"] = "mai"
    refused = await desk.client.post(PAGE, data=fields, allow_redirects=False)
    assert refused.status == 422
    page = await refused.text()
    assert 'id="loi-review_by"' in page and "không phải một ngày" in text_of(page)
    fields["review_by"] = "2027-03-01"
    refused = await desk.client.post(PAGE, data=fields, allow_redirects=False)
    assert refused.status == 422
    page = await refused.text()
    assert 'id="loi-facets-time-en">không được để trống.' in page
    assert 'id="loi-facets-fee-vi">nêu con số «8.000 đồng» mà chưa có nguồn' in page
    assert form_fields(page)["facets.fee.vi"] == "Lệ phí 8.000 đồng."  # what was typed stays
    assert the_file(knowledge).read_bytes() == before
    entries, _ = await desk.store.audit_entries(0, 5)
    assert entries[0].action == "login"  # nothing audited


async def test_a_save_from_a_stale_form_is_refused_with_a_link_to_reload(
    desk: Admin, knowledge: Path
) -> None:
    await log_in(desk.client, "editor")
    mine, theirs = await open_form(desk), await open_form(desk)
    theirs["facets.fee.vi"] = NEW_FEE
    assert (await desk.client.post(PAGE, data=theirs, allow_redirects=False)).status == 303
    saved = the_file(knowledge).read_bytes()
    mine["facets.who.vi"] = "Cha hoặc mẹ."
    refused = await desk.client.post(PAGE, data=mine, allow_redirects=False)
    assert refused.status == 409
    page = await refused.text()
    assert "đã được một cán bộ khác" in text_of(page) and f'href="{PAGE}"' in page
    assert the_file(knowledge).read_bytes() == saved


async def test_the_preview_shows_the_citizens_reply_without_saving(
    desk: Admin, knowledge: Path
) -> None:
    before = the_file(knowledge).read_bytes()
    await log_in(desk.client, "editor")
    fields = await open_form(desk)
    fields |= {"facets.fee.vi": NEW_FEE, "preview_facet": "fee", "preview_lang": "vi"}
    response = await desk.client.post(PAGE + "/preview", data=fields, allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    bubbles = [html.unescape(b) for b in re.findall(r'<div class="bubble">(.*?)</div>', page, re.S)]
    assert bubbles and bubbles[0].startswith(f"Đăng ký khai sinh – Lệ phí:\n{NEW_FEE}")
    assert form_fields(page)["facets.fee.vi"] == NEW_FEE  # still to be saved from here
    assert the_file(knowledge).read_bytes() == before


# -- reverting from the audit page -------------------------------------------------------------


async def test_an_admin_reverts_a_save_and_a_changed_file_refuses_the_revert(
    desk: Admin, knowledge: Path
) -> None:
    original = the_file(knowledge).read_bytes()
    await log_in(desk.client, "admin")
    fields = await open_form(desk)
    fields["facets.fee.vi"] = NEW_FEE
    assert (await desk.client.post(PAGE, data=fields, allow_redirects=False)).status == 303
    audit = await (await desk.client.get("/admin/audit")).text()
    [entry] = re.findall(r'action="/admin/audit/(\d+)/revert"', audit)
    assert "Thay đổi trong tệp" in audit and "Sửa chủ đề" in audit
    token = csrf_of(audit)

    done = await desk.client.post(
        f"/admin/audit/{entry}/revert", data={"csrf": token}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == f"/admin/audit?reverted={entry}"
    assert the_file(knowledge).read_bytes() == original
    assert not any(NEW_FEE in reply for reply in await ask(desk, FEE_QUESTION))
    shown = text_of(await (await desk.client.get(done.headers["Location"])).text())
    assert f"Đã hoàn tác thay đổi số {entry}" in shown and "Hoàn tác thay đổi dữ liệu" in shown

    again = await desk.client.post(
        f"/admin/audit/{entry}/revert", data={"csrf": token}, allow_redirects=False
    )
    assert again.status == 409 and "tệp đã được sửa sau" in text_of(await again.text())
    assert the_file(knowledge).read_bytes() == original


async def test_an_editor_reads_the_knowledge_changes_and_reverts_one(
    desk: Admin, knowledge: Path
) -> None:
    original = the_file(knowledge).read_bytes()
    await log_in(desk.client, "admin")  # an admin edits (editors may undo one another's work)
    fields = await open_form(desk)
    fields["facets.fee.vi"] = NEW_FEE
    assert (await desk.client.post(PAGE, data=fields, allow_redirects=False)).status == 303
    desk.client.session.cookie_jar.clear()
    await log_in(desk.client, "editor")

    page = await (await desk.client.get("/admin/audit")).text()
    shown = text_of(page)
    # The knowledge changes only: no logins, accounts or addresses.
    assert "Nhật ký thay đổi dữ liệu hỏi đáp" in shown and "1 mục" in shown
    assert "Sửa chủ đề" in shown and "Đăng nhập" not in shown and "Thêm tài khoản" not in shown
    assert "127.0.0.1" not in shown and "Địa chỉ" not in shown
    [entry] = re.findall(r'action="/admin/audit/(\d+)/revert"', page)
    done = await desk.client.post(
        f"/admin/audit/{entry}/revert", data={"csrf": csrf_of(page)}, allow_redirects=False
    )
    assert done.status == 303 and the_file(knowledge).read_bytes() == original
    assert not any(NEW_FEE in reply for reply in await ask(desk, FEE_QUESTION))
    entries, _ = await desk.store.audit_entries(0, 5)
    assert (entries[0].actor, entries[0].action) == ("editor", "topic.revert")

    # An admin still reads everything; a viewer reads none of it.
    desk.client.session.cookie_jar.clear()
    await log_in(desk.client, "admin")
    full = text_of(await (await desk.client.get("/admin/audit")).text())
    assert "Nhật ký thao tác" in full and "Đăng nhập" in full and "Địa chỉ" in full
    desk.client.session.cookie_jar.clear()
    await log_in(desk.client, "viewer")
    assert (await desk.client.get("/admin/audit")).status == 403


async def test_a_phrasing_taught_from_the_inbox_can_be_reverted(
    desk: Admin, knowledge: Path
) -> None:
    missed = "bé nhà em chưa có giấy tờ gì"
    original = the_file(knowledge).read_bytes()
    await ask(desk, missed)
    await log_in(desk.client, "admin")
    inbox = await (await desk.client.get("/admin/review")).text()
    form = re.search(r'<form method="post" action="/admin/review/teach">(.*?)</form>', inbox, re.S)
    assert form is not None
    data = dict(re.findall(r'<input type="hidden" name="([a-z]+)" value="([^"]*)">', form[1]))
    data = {k: html.unescape(v) for k, v in data.items()} | {"topic": TOPIC}
    taught = await desk.client.post("/admin/review/teach", data=data, allow_redirects=False)
    assert taught.status == 303 and missed in the_file(knowledge).read_text(encoding="utf-8")
    audit = await (await desk.client.get("/admin/audit")).text()
    [entry] = re.findall(r'action="/admin/audit/(\d+)/revert"', audit)
    done = await desk.client.post(
        f"/admin/audit/{entry}/revert", data={"csrf": csrf_of(audit)}, allow_redirects=False
    )
    assert done.status == 303 and the_file(knowledge).read_bytes() == original
    assert missed not in desk.client.app[BUNDLE_KEY].current.kb.topics[TOPIC].phrasings


async def test_a_missing_topic_or_a_broken_file_is_said_plainly(
    desk: Admin, knowledge: Path
) -> None:
    await log_in(desk.client, "editor")
    gone = await desk.client.get("/admin/topics/khong-co", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/admin/topics?missing=khong-co"
    shown = text_of(await (await desk.client.get(gone.headers["Location"])).text())
    assert "Không tìm thấy chủ đề «khong-co»." in shown

    the_file(knowledge).write_text("- not a topic\n", encoding="utf-8")
    page = await (await desk.client.get(PAGE)).text()
    assert "Tệp chủ đề không phải là một bảng khoá–giá trị." in text_of(page)
    fields = form_fields(page)
    fields["facets.fee.vi"] = NEW_FEE
    refused = await desk.client.post(PAGE, data=fields, allow_redirects=False)
    assert refused.status == 422
    assert "Tệp chủ đề không phải là một bảng khoá–giá trị." in text_of(await refused.text())
    assert the_file(knowledge).read_text(encoding="utf-8") == "- not a topic\n"
