"""The dashboard's commune clerk pages: the registry (viewer reads, editor changes; communes
matched as the command line matches them; an upload's bad rows listed by line), a notice's
preview then confirmation reaching exactly the previewed recipients through a fake Zalo API, a
registry changed between the two caught, and the report of what was sent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bundle import Bundle
from bot.cases.table import CasesFileError, table_of
from bot.models import Platform
from bot.models.clerks import Clerk, Recipient
from bot.models.staff import Role
from bot.staff.passwords import Passwords
from bot.store import Store
from tests.conftest import FakeClock, FakePlatforms, Fault, make_settings
from tests.test_admin import CHEAP, NOW, Admin, Client, csrf_of, log_in, text_of
from webhooks.admin.notices import reasons
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, STORE_KEY, WORKER_KEY

GROUP_ID = "f414c8f76fa586fbdfb4"
GROUPS = {"tu-phap": GROUP_ID}
AN = Clerk("Nguyễn Văn An", "00715", Platform.ZALO, "4558424660619243532")  # Xã Lũng Cú
BINH = Clerk("Trần Thị Bình", "00715", Platform.ZALO, "3012345678901234567")  # Xã Lũng Cú
CUONG = Clerk("Lê Văn Cường", "00694", Platform.ZALO, "7300442764876318465")  # P. Hà Giang 1
TEXT = "Sở Tư pháp thông báo: lịch tập huấn hộ tịch ngày 15/12."
HEADER = "Họ và tên,Xã/phường,Nền tảng,ID người dùng,Số điện thoại"
SEAL = re.compile(r'name="seal" value="([0-9a-f]{64})"')


@pytest.fixture
async def admin(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> Admin:
    settings = make_settings(tmp_path, platforms.url, facebook=False, clerk_groups=GROUPS)
    app = create_app(settings, bundle)
    app[ADMIN_CLOCK_KEY] = clock = FakeClock(NOW)
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    client = await aiohttp_client(app)
    return Admin(client, clock, app[STORE_KEY], app[PASSWORDS_KEY])


async def signed_in(admin: Admin, role: Role) -> str:
    """Sign in as a new account of `role`; the session's CSRF token."""
    await admin.add(role.value, role)
    assert (await log_in(admin.client, role.value)).status == 303
    return csrf_of(await (await admin.client.get("/admin")).text())


async def audited(store: Store) -> list[str]:
    entries, _ = await store.audit_entries(0, 50)
    return [e.action for e in entries]


# -- the registry ------------------------------------------------------------------------


async def test_a_viewer_reads_the_registry_but_cannot_change_it(admin: Admin) -> None:
    await admin.store.upsert_clerks([AN])
    # No session: a read goes to the login page, a change is refused.
    response = await admin.client.get("/admin/clerks", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/admin/login")
    refused = await admin.client.post("/admin/clerks/add", data={"name": "X"})
    assert refused.status == 401

    token = await signed_in(admin, Role.VIEWER)
    page = await (await admin.client.get("/admin/clerks")).text()
    text = text_of(page)
    assert "Nguyễn Văn An Xã Lũng Cú Zalo 4558…3532" in text
    assert AN.user_id not in page  # the id is shown in part only
    assert 'action="/admin/clerks/add"' not in page and 'action="/admin/clerks/remove"' not in page
    assert 'href="/admin/clerks"' in page and 'href="/admin/notify"' not in page  # the nav

    for path, data in (
        ("/admin/clerks/add", {"name": "Lê Văn D", "commune": "Mèo Vạc", "platform": "zalo"}),
        ("/admin/clerks/remove", {"id": "1"}),
        ("/admin/notify/preview", {"to": "all", "text": TEXT}),
        ("/admin/notify/send", {"to": "all", "text": TEXT, "seal": "0" * 64}),
    ):
        response = await admin.client.post(path, data={**data, "csrf": token})
        assert response.status == 403, path
        without = await admin.client.post(path, data=data)  # no CSRF token either
        assert without.status == 403, path
    assert [c.name for c in await admin.store.clerks()] == [AN.name]
    assert await admin.store.notices() == []


async def test_an_editor_adds_a_clerk_matched_like_the_command_line(admin: Admin) -> None:
    token = await signed_in(admin, Role.EDITOR)
    form = {"name": "Nguyễn Văn An", "platform": "zalo", "user_id": AN.user_id, "csrf": token}
    unknown = await admin.client.post("/admin/clerks/add", data={**form, "commune": "Lũng Củ Cú"})
    assert unknown.status == 422
    text = text_of(await unknown.text())
    assert "Chưa thêm được cán bộ: không có xã/phường «Lũng Củ Cú» trong danh sách" in text
    closest = re.search(r"gần nhất: ([^.]+)\.", text)
    assert closest and "Xã Lũng Cú" in closest.group(1).split(", ")
    assert 1 <= len(closest.group(1).split(", ")) <= 3
    assert 'value="Nguyễn Văn An"' in await unknown.text()  # the form as typed
    assert await admin.store.clerks() == []

    added = await admin.client.post(
        "/admin/clerks/add", data={**form, "commune": "lung cu"}, allow_redirects=False
    )
    assert added.status == 303 and added.headers["Location"] == "/admin/clerks?done=added"
    (clerk,) = await admin.store.clerks()
    assert (clerk.name, clerk.commune, clerk.user_id) == (AN.name, AN.commune, AN.user_id)
    page = text_of(await (await admin.client.get(added.headers["Location"])).text())
    assert "Đã thêm (hoặc cập nhật) cán bộ" in page and "Xã Lũng Cú" in page
    entries, _ = await admin.store.audit_entries(0, 1)
    assert (entries[0].action, entries[0].actor, entries[0].target) == (
        "clerks.add",
        "editor",
        AN.name,
    )
    assert AN.user_id not in str(entries[0].after)

    removed = await admin.client.post(
        "/admin/clerks/remove", data={"id": str(clerk.id), "csrf": token}, allow_redirects=False
    )
    assert removed.headers["Location"] == "/admin/clerks?done=removed"
    assert await admin.store.clerks() == []
    again = await admin.client.post(
        "/admin/clerks/remove", data={"id": str(clerk.id), "csrf": token}, allow_redirects=False
    )
    assert again.headers["Location"] == "/admin/clerks?error=gone"
    assert (await audited(admin.store))[:2] == ["clerks.remove", "clerks.add"]


async def test_an_upload_keeps_the_good_rows_and_lists_the_bad_by_line(admin: Admin) -> None:
    token = await signed_in(admin, Role.ADMIN)
    lines = [
        "Danh sách cán bộ tư pháp - hộ tịch",
        HEADER,
        f"Nguyễn Văn An,Xã Lũng Cú,zalo,{AN.user_id},0912 345 678",
        f"Lê Văn Cường,Xã Lũng Củ Cú,zalo,{CUONG.user_id},",
        f"Trần Thị Bình,lung cu,Zalo,{BINH.user_id},",
        "Phạm Thị Dung,Xã Đồng Văn,viber,123456789,",
    ]
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field(
        "file", "\n".join(lines).encode("utf-8"), filename="can-bo.csv", content_type="text/csv"
    )
    response = await admin.client.post("/admin/clerks/import", data=form)
    assert response.status == 200
    text = text_of(await response.text())
    assert "can-bo.csv: thêm 2, cập nhật 0, không đổi 0, bỏ qua 2 dòng." in text
    assert "Các dòng không nhập (2) Dòng Lý do 4 không có xã/phường «Xã Lũng Củ Cú»" in text
    assert "6 Nền tảng phải là zalo hoặc facebook, không phải «viber»" in text
    assert sorted(c.name for c in await admin.store.clerks()) == [AN.name, BINH.name]

    entries, _ = await admin.store.audit_entries(0, 1)
    assert entries[0].action == "clerks.import" and entries[0].target == "can-bo.csv"
    assert json.loads(str(entries[0].after)) == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    audit = text_of(await (await admin.client.get("/admin/audit")).text())
    assert "Nhập danh sách cán bộ xã" in audit  # the action's label

    unreadable = aiohttp.FormData()
    unreadable.add_field("csrf", token)
    unreadable.add_field("file", b"a;b\n1;2\n", filename="khac.csv", content_type="text/csv")
    refused = await admin.client.post("/admin/clerks/import", data=unreadable)
    assert refused.status == 422
    refusal = text_of(await refused.text())
    assert (
        "Không đọc được tệp; không có gì được nhập. Chi tiết: khac.csv: không tìm thấy dòng tiêu"
        " đề gồm các cột Họ và tên, Xã/phường, Nền tảng, ID người dùng, Số điện thoại; còn"
        " thiếu: Họ và tên, Xã/phường, Nền tảng, ID người dùng." in refusal
    )
    assert "no header row" not in refusal and "missing" not in refusal  # the CLI's English
    assert len(await admin.store.clerks()) == 2


# -- notices -----------------------------------------------------------------------------


async def preview(client: Client, token: str, to: str, text: str = TEXT) -> tuple[int, str]:
    response = await client.post(
        "/admin/notify/preview", data={"to": to, "text": text, "csrf": token}
    )
    return response.status, await response.text()


def seal_of(page: str) -> str:
    match = SEAL.search(page)
    assert match, "no confirmation form on the page"
    return match.group(1)


async def confirm(client: Client, token: str, to: str, seal: str, text: str = TEXT) -> Any:
    data = {"to": to, "text": text, "seal": seal, "csrf": token}
    return await client.post("/admin/notify/send", data=data, allow_redirects=False)


async def test_the_preview_lists_the_recipients_and_the_confirmation_sends_to_exactly_them(
    admin: Admin, platforms: FakePlatforms
) -> None:
    await admin.store.upsert_clerks([AN, BINH, CUONG])
    token = await signed_in(admin, Role.EDITOR)
    assert "Gửi thông báo cho cán bộ xã" in text_of(
        await (await admin.client.get("/admin/notify")).text()
    )
    status, page = await preview(admin.client, token, "commune:Lũng Cú, group:tu-phap")
    assert status == 200
    text = text_of(page)
    assert "Xem trước: 3 nơi nhận, 3 sẽ được gửi" in text
    assert "Nguyễn Văn An (Xã Lũng Cú) Tin nhắn Zalo OA 4558…3532" in text
    assert "Trần Thị Bình (Xã Lũng Cú) Tin nhắn Zalo OA 3012…4567" in text
    assert f"Nhóm Zalo «tu-phap» Nhóm Zalo {GROUP_ID}" in text
    assert CUONG.name not in text
    assert await admin.store.notices() == [] and platforms.sent() == []  # a preview sends nothing

    sent = await confirm(admin.client, token, "commune:Lũng Cú, group:tu-phap", seal_of(page))
    assert sent.status == 303
    assert sent.headers["Location"] == "/admin/notifications?queued=3&blocked=0&already=0"
    admin.client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: len(platforms.sent()) == 3)
    await admin.client.app[WORKER_KEY].settled()
    users = {r.body["recipient"].get("user_id") for r in platforms.sent("/v3.0/oa/message/cs")}
    assert users == {AN.user_id, BINH.user_id}
    (group,) = platforms.sent("/v3.0/oa/group/message")
    assert group.body == {"recipient": {"group_id": GROUP_ID}, "message": {"text": TEXT}}
    assert all(r.body["message"] == {"text": TEXT} for r in platforms.sent())
    assert (await audited(admin.store))[0] == "notify.send"

    report = text_of(await (await admin.client.get(sent.headers["Location"])).text())
    assert "Đã đưa thông báo vào hàng đợi gửi cho 3 nơi nhận" in report
    assert "Đã gửi: 3; Đang chờ gửi: 0; Không gửi được: 0" in report
    assert "Thông báo của Sở Nguyễn Văn An (Xã Lũng Cú) Tin nhắn Zalo OA Đã gửi" in report

    # The same notice confirmed again reaches no one twice.
    again = await confirm(admin.client, token, "commune:Lũng Cú, group:tu-phap", seal_of(page))
    assert again.headers["Location"] == "/admin/notifications?queued=0&blocked=0&already=3"


async def test_a_registry_changed_after_the_preview_is_caught_and_nothing_sent(
    admin: Admin, platforms: FakePlatforms
) -> None:
    await admin.store.upsert_clerks([AN])
    token = await signed_in(admin, Role.EDITOR)
    _, page = await preview(admin.client, token, "commune:Lũng Cú")
    previewed = seal_of(page)
    assert "Xem trước: 1 nơi nhận" in text_of(page)
    await admin.store.upsert_clerks([BINH])  # someone adds a clerk meanwhile

    changed = await confirm(admin.client, token, "commune:Lũng Cú", previewed)
    assert changed.status == 409
    text = text_of(await changed.text())
    assert "Danh sách người nhận đã thay đổi kể từ lúc xem trước" in text
    assert "Xem trước: 2 nơi nhận" in text and BINH.name in text
    assert await admin.store.notices() == []

    # Another text under the old seal is refused the same way.
    tampered = await confirm(admin.client, token, "commune:Lũng Cú", previewed, TEXT + " Sửa.")
    assert tampered.status == 409 and await admin.store.notices() == []

    # Line breaks as a browser sends a textarea's (CRLF) and then a hidden field's (LF).
    lines = "Sở Tư pháp thông báo:\r\nlịch tập huấn ngày 15/12."
    _, page = await preview(admin.client, token, "commune:Lũng Cú", lines)
    multi = await confirm(
        admin.client, token, "commune:Lũng Cú", seal_of(page), lines.replace("\r", "")
    )
    assert multi.headers["Location"] == "/admin/notifications?queued=2&blocked=0&already=0"
    assert {n.text for n in await admin.store.notices()} == {lines.replace("\r", "")}

    resealed = seal_of(await changed.text())
    sent = await confirm(admin.client, token, "commune:Lũng Cú", resealed)
    assert sent.headers["Location"] == "/admin/notifications?queued=2&blocked=0&already=0"
    assert sorted(n.address for n in await admin.store.notices() if n.text == TEXT) == sorted(
        [AN.user_id, BINH.user_id]
    )


async def test_a_bad_target_is_explained_in_vietnamese(admin: Admin) -> None:
    token = await signed_in(admin, Role.EDITOR)
    status, page = await preview(admin.client, token, "commune:Lũng Củ Cú")
    assert status == 422
    assert "Chưa xem trước được: không có xã/phường «Lũng Củ Cú» trong danh sách" in text_of(page)
    status, page = await preview(admin.client, token, "all")
    assert status == 422 and "danh sách cán bộ đang trống" in text_of(page)
    assert 'name="seal"' not in page  # nothing to confirm


async def test_the_report_shows_a_failure_and_why(admin: Admin, platforms: FakePlatforms) -> None:
    token = await signed_in(admin, Role.EDITOR)
    refused = {"error": -403, "message": "OA is not in group"}
    platforms.fail("/v3.0/oa/group/message", Fault(status=200, body=refused))
    _, page = await preview(admin.client, token, "group:tu-phap")
    assert (await confirm(admin.client, token, "group:tu-phap", seal_of(page))).status == 303
    admin.client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: len(platforms.received) == 1)
    await admin.client.app[WORKER_KEY].settled()
    report = text_of(await (await admin.client.get("/admin/notifications?days=30")).text())
    assert "30 ngày qua" in report and "Không gửi được: 1" in report
    assert (
        "Nhóm Zalo «tu-phap» Nhóm Zalo Không gửi được Lý do: OA không ở trong nhóm: OA chỉ gửi"
        " được vào nhóm do OA tạo hoặc quản lý Lý do (từ nền tảng): zalo -403 OA is not in the"
        " group: OA is not in group" in report
    )


def test_a_failure_is_explained_in_vietnamese_above_the_platforms_words() -> None:
    window = "outside Messenger's 24-hour window: the clerk has not written to the Page"
    assert reasons(window) == (
        "cán bộ chưa nhắn cho Trang trong 24 giờ qua (Messenger chỉ cho Trang nhắn trong thời"
        " hạn đó)",
        "",
    )
    gave_up = "gave up after 8 attempts: transport: ServerTimeoutError"
    assert reasons(gave_up) == (
        "đã thử 8 lần không được nên dừng; không kết nối được tới máy chủ của nền tảng",
        gave_up,
    )
    closed = "zalo -230 window closed: no interaction in the past 7 days: User has not ..."
    assert reasons(closed)[0].startswith("cán bộ chưa tương tác với OA trong 7 ngày qua")
    assert reasons("http 418 zalo None: teapot") == ("", "http 418 zalo None: teapot")
    assert reasons("") == ("", "")


@pytest.mark.parametrize(
    ("name", "data", "vi"),
    [
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.xls: tệp Excel đời cũ (.xls)"),
        ("a.csv", b"\xc4\x90\xff\xfe\xfa", "a.csv: tệp không phải văn bản UTF-8"),
        ("a.xlsx", b"PK\x03\x04broken", "a.xlsx: không đọc được tệp XLSX"),
    ],
)
def test_a_file_that_cannot_be_read_is_explained_in_vietnamese(
    name: str, data: bytes, vi: str
) -> None:
    with pytest.raises(CasesFileError) as caught:
        table_of(name, data)
    assert caught.value.vi.startswith(vi)
    assert str(caught.value).startswith(name) and "tệp" not in str(caught.value)  # CLI: English


async def test_the_report_tells_an_alert_from_its_reminder(admin: Admin) -> None:
    await signed_in(admin, Role.VIEWER)
    group = Recipient("group:tu-phap", "Zalo group tu-phap", Platform.ZALO_GROUP, GROUP_ID)
    await admin.store.queue_notice("handoff:7", "Trợ lý Tư pháp: một người dân…", [group])
    await admin.store.queue_notice("handoff:7:reminder", "Trợ lý Tư pháp nhắc lại…", [group])
    report = text_of(await (await admin.client.get("/admin/notifications")).text())
    assert "Nhắc lại: người dân chờ cán bộ lâu Nhóm Zalo «tu-phap»" in report
    assert "Người dân chờ cán bộ Nhóm Zalo «tu-phap»" in report
