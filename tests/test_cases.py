"""Dossier status (issue 4): the export's import, the owner-only lookup, notices, the report.

Import and report tests run on files written here (CSV bytes, XLSX through openpyxl); the
lookup runs end to end through the Messenger webhook and the web chat, with the fake Graph
server of conftest receiving the replies and the status-change notice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from pytest_aiohttp import AiohttpClient

from bot import cases
from bot.case_report import add_working_days, build_report, report_html, report_text
from bot.cases import (
    Case,
    CasesFileError,
    CaseStatus,
    LookupRequest,
    LookupResult,
    Subscriber,
    TopicResolver,
    find_code,
    find_digits,
    import_file,
    mask_name,
    parse_date,
    parse_status,
    parse_table,
    phone_last4,
    read_table,
)
from bot.cli import cli
from bot.dialog import State
from bot.engine import Engine
from bot.knowledge import BOT_TEXTS
from bot.models import EventKind, Incoming, Platform, Reply
from bot.store import Store
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import PSID, fb_batch, fb_quick_reply, fb_text
from tests.test_app import Client, post_facebook, settle, start, store_of
from webhooks.app import WORKER_KEY

FB, ZALO, WEB = Platform.FACEBOOK, Platform.ZALO, Platform.WEBCHAT
HEADER = (
    "Mã hồ sơ",
    "Thủ tục",
    "Chủ hồ sơ",
    "Số điện thoại",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Trạng thái",
    "Đơn vị",
    "Ngày trả kết quả",
    "Ghi chú",
)
CODE = "H56-250701-0001"
PHONE = "0912 345 678"


def row(
    code: str = CODE,
    procedure: str = "Đăng ký khai sinh",
    owner: str = "Nguyễn Thị Hoa",
    phone: str = PHONE,
    received: str = "01/07/2025",
    due: str = "04/07/2025",
    status: str = "Đang xử lý",
    unit: str = "UBND xã Minh Xuân",
    returned: str = "",
    note: str = "",
) -> list[str]:
    return [code, procedure, owner, phone, received, due, status, unit, returned, note]


def csv_bytes(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = HEADER,
    sep: str = ",",
    bom: bool = False,
    title: str | None = None,
) -> bytes:
    def line(cells: Sequence[str]) -> str:
        return sep.join(f'"{c}"' if sep in c or "\n" in c else c for c in cells)

    lines = ([title, ""] if title else []) + [line(header)] + [line(r) for r in rows]
    data = ("\n".join(lines) + "\n").encode()
    return b"\xef\xbb\xbf" + data if bom else data


def write(tmp_path: Path, data: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def parse(path: Path, engine: Engine | None = None) -> cases.Parsed:
    resolver = TopicResolver(engine.kb, engine.matcher) if engine else None
    return parse_table(read_table(path), resolver)


def vn_today() -> dt.date:
    return cases.today_of(time.time(), ms=False)


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# --- reading the export --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ("Mã hồ sơ", "Số điện thoại", "Trạng thái", "Ngày hẹn trả"),
        ("MÃ HỒ SƠ", "SỐ ĐIỆN THOẠI", "TRẠNG THÁI", "NGÀY HẸN TRẢ"),
        ("ma ho so", "so dien thoai", "trang thai", "ngay hen tra"),
        (" Mã HS ", "SĐT", "Tình trạng", "Ngày hẹn trả (dd/mm/yyyy)"),
        ("Số hồ sơ", "Điện thoại liên hệ", "Trạng thái hồ sơ", "Hạn xử lý"),
        ("Dossier code", "Phone", "Status", "Due date"),
    ],
)
def test_headers_in_several_spellings(tmp_path: Path, header: tuple[str, ...]) -> None:
    data = csv_bytes([[CODE, PHONE, "Đang xử lý", "04/07/2025"]], header=header)
    parsed = parse(write(tmp_path, data))
    assert parsed.rejected == ()
    (case,) = parsed.cases
    assert (case.code, case.phone_last4, case.status) == (CODE, "5678", CaseStatus.PROCESSING)
    assert case.due == dt.date(2025, 7, 4)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_with_or_without_bom_and_any_separator(tmp_path: Path, sep: str, bom: bool) -> None:
    rows = [
        row(),
        row(
            code="H56-250701-0002",
            note="Cần: bản sao CCCD, sổ hộ khẩu, giấy chứng sinh, tờ khai, ảnh, phí, a, b, c, d, e, f",
        ),
    ]
    data = csv_bytes(rows, sep=sep, bom=bom, title="DANH SÁCH HỒ SƠ TIẾP NHẬN")
    parsed = parse(write(tmp_path, data))
    assert [c.code for c in parsed.cases] == [CODE, "H56-250701-0002"]
    assert (
        parsed.cases[1].note
        == "Cần: bản sao CCCD, sổ hộ khẩu, giấy chứng sinh, tờ khai, ảnh, phí, a, b, c, d, e, f"
    )
    assert parsed.header_line == 3  # under the title and a blank line
    assert parsed.columns["code"] == "Mã hồ sơ"  # the BOM is not part of the first header


def test_rows_keep_only_what_the_bot_needs(tmp_path: Path, engine: Engine) -> None:
    (case,) = parse(write(tmp_path, csv_bytes([row()])), engine).cases
    assert case == Case(
        code=CODE,
        status=CaseStatus.PROCESSING,
        phone_last4="5678",
        topic="khai-sinh",
        procedure="Đăng ký khai sinh",
        owner_masked="Nguyễn T. H.",
        received=dt.date(2025, 7, 1),
        due=dt.date(2025, 7, 4),
        unit="UBND xã Minh Xuân",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("04/07/2025", dt.date(2025, 7, 4)),
        ("4/7/2025", dt.date(2025, 7, 4)),
        ("04-07-2025", dt.date(2025, 7, 4)),
        ("04.07.2025", dt.date(2025, 7, 4)),
        ("04/07/2025 14:30", dt.date(2025, 7, 4)),
        ("14:30:00 04/07/2025", dt.date(2025, 7, 4)),
        ("2025-07-04", dt.date(2025, 7, 4)),
        ("2025-07-04T08:00:00+07:00", dt.date(2025, 7, 4)),
        ("2025-07-04 08:00:00", dt.date(2025, 7, 4)),
        (dt.datetime(2025, 7, 4, 9, 15), dt.date(2025, 7, 4)),
        (45842, dt.date(2025, 7, 4)),  # an Excel serial day left in the General format
        ("", None),
        (None, None),
    ],
)
def test_dates(value: object, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["31/02/2025", "2025-13-01", "04/07/25", "hôm qua", "07/2025", 12, "4 tháng 7"]
)
def test_bad_dates(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Đã tiếp nhận", CaseStatus.RECEIVED),
        ("Da tiep nhan", CaseStatus.RECEIVED),
        ("Mới tiếp nhận", CaseStatus.RECEIVED),
        ("Đang xử lý", CaseStatus.PROCESSING),
        ("DANG XU LY", CaseStatus.PROCESSING),
        ("Đang giải quyết", CaseStatus.PROCESSING),
        ("Đang xử lý - trễ hạn", CaseStatus.PROCESSING),
        ("Chờ bổ sung", CaseStatus.SUPPLEMENT),
        ("cho bo sung", CaseStatus.SUPPLEMENT),
        ("Yêu cầu bổ sung hồ sơ", CaseStatus.SUPPLEMENT),
        ("Đã có kết quả", CaseStatus.READY),
        ("Chờ trả kết quả", CaseStatus.READY),
        ("Đã trả kết quả", CaseStatus.RETURNED),
        ("da tra ket qua (qua han)", CaseStatus.RETURNED),
        ("Từ chối", CaseStatus.REJECTED),
        ("Tu choi giai quyet", CaseStatus.REJECTED),
        ("Rút hồ sơ", CaseStatus.WITHDRAWN),
        ("Processing", CaseStatus.PROCESSING),
        ("abc", None),
        ("Không xử lý được", None),
        ("", None),
    ],
)
def test_status_mapping(text: str, status: CaseStatus | None) -> None:
    assert parse_status(text) == status


def test_every_status_has_its_words_in_both_languages(engine: Engine) -> None:
    for status in CaseStatus:
        assert f"case_status_{status.value}" in BOT_TEXTS
        assert engine.kb.texts.get(f"case_status_{status.value}", "en")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Thị Hoa", "Nguyễn T. H."),
        ("  Trần   văn  Nam ", "Trần V. N."),
        ("Lê Bình", "Lê B."),
        ("Hoa", "H."),
        ("", ""),
    ],
)
def test_owner_name_is_masked(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("cell", "last4"),
    [
        ("0912 345 678", "5678"),
        ("+84 912.345.678", "5678"),
        (912345678, "5678"),  # an XLSX number cell: the leading 0 is gone
        (912345678.0, "5678"),
        ("0912345678 / 0987654321", "5678"),
        ("091****678", None),
        ("0912xxx678", None),
        ("12345", None),
        ("", None),
    ],
)
def test_phone_keeps_the_last_4_digits(cell: object, last4: str | None) -> None:
    assert phone_last4(cell) == last4


def test_topics_from_names_ids_and_codes(engine: Engine) -> None:
    resolve = TopicResolver(engine.kb, engine.matcher)
    assert resolve("Đăng ký khai sinh") == "khai-sinh"
    assert resolve("DANG KY KHAI SINH") == "khai-sinh"
    assert resolve("khai-tu") == "khai-tu"
    assert resolve("1.000894.H36") == "ket-hon"
    assert resolve("Thủ tục đăng ký kết hôn") == "ket-hon"
    assert resolve("Cấp giấy phép xây dựng nhà ở riêng lẻ") is None
    assert TopicResolver(None)("Đăng ký khai sinh") is None


def test_bad_rows_are_rejected_alone_with_line_and_reason(tmp_path: Path) -> None:
    rows = [
        row(),
        row(code="", status="Đang xử lý"),
        row(code="H56-250701-0002", received="32/07/2025"),
        row(code="H56-3", status="Đang ngủ"),
        row(code="H56-4", phone="091****678"),
        row(code="H56-5", received="05/07/2025", due="01/07/2025"),
        ["", "", "", "", "", "", "", "", "", ""],  # a blank line is skipped, not rejected
        row(code=CODE.lower()),  # the same code, in another case
        row(code="H56-6", status="Đã trả kết quả", returned="05/07/2025"),
    ]
    parsed = parse(write(tmp_path, csv_bytes(rows)))
    assert [c.code for c in parsed.cases] == [CODE, "H56-6"]
    reasons = {(r.line, r.code): r.reason for r in parsed.rejected}
    assert list(reasons) == [
        (3, ""),
        (4, "H56-250701-0002"),
        (5, "H56-3"),
        (6, "H56-4"),
        (7, "H56-5"),
        (9, CODE),
    ]
    assert reasons[(3, "")] == "no dossier code"
    assert "Ngày tiếp nhận: not a date '32/07/2025'" in reasons[(4, "H56-250701-0002")]
    assert reasons[(5, "H56-3")] == "unknown status 'Đang ngủ'"
    assert "phone" in reasons[(6, "H56-4")]
    assert "before" in reasons[(7, "H56-5")]
    assert reasons[(9, CODE)] == "duplicate code, first on line 2"


def test_xlsx_written_with_openpyxl(tmp_path: Path, engine: Engine) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["BÁO CÁO HỒ SƠ MỘT CỬA"])
    sheet.append([])
    sheet.append(["STT", "MÃ HỒ SƠ", "Tên thủ tục", "Họ và tên", "Điện thoại", "Ngày tiếp nhận",
                  "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý", "Ngày trả kết quả"])  # fmt: skip
    sheet.append([1, CODE, "Đăng ký kết hôn", "Phạm Văn An", 912345678,
                  dt.datetime(2025, 7, 1, 8, 30), dt.date(2025, 7, 4), "Đã trả kết quả",
                  "UBND phường Minh Xuân", 45842])  # fmt: skip
    sheet.append([2, "H56-250701-0002", "khai-tu", "Lò Thị Mai", "0987 654 321",
                  "02/07/2025", "2025-07-05", "Chờ bổ sung", "UBND xã Tân Trào", None])  # fmt: skip
    sheet.append([3, "H56-250701-0003", "", "", "0987 654 321", "hôm qua", None, "Đang xử lý"])
    path = tmp_path / "ho-so.xlsx"
    book.save(path)
    parsed = parse(path, engine)
    first, second = parsed.cases
    assert first.topic == "ket-hon" and first.owner_masked == "Phạm V. A."
    assert (first.received, first.due, first.returned) == (
        dt.date(2025, 7, 1),
        dt.date(2025, 7, 4),
        dt.date(2025, 7, 4),
    )
    assert first.phone_last4 == "5678" and first.status is CaseStatus.RETURNED
    assert (second.topic, second.status, second.returned) == (
        "khai-tu",
        CaseStatus.SUPPLEMENT,
        None,
    )
    (bad,) = parsed.rejected
    assert bad.line == 6 and "not a date 'hôm qua'" in bad.reason


# --- the import in the store -----------------------------------------------------------------------


async def test_reimport_is_idempotent_and_records_status_changes(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    rows = [row(), row(code="H56-250701-0002", status="Đã tiếp nhận")]
    first = await import_file(store, write(tmp_path, csv_bytes(rows)), engine.kb)
    c = first.counts
    assert (c.added, c.updated, c.unchanged, c.rejected, c.status_changes) == (2, 0, 0, 0, 0)
    again = await import_file(store, write(tmp_path, csv_bytes(rows)), engine.kb)
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 0, 2)

    clock.advance(3600)
    rows = [
        row(status="Đã có kết quả", note="Mời nhận kết quả"),
        row(code="H56-250701-0002", status="Đã tiếp nhận", unit="UBND xã Khác"),
        row(code="H56-3"),
    ]
    changed = await import_file(store, write(tmp_path, csv_bytes(rows)), engine.kb)
    c = changed.counts
    assert (c.added, c.updated, c.unchanged, c.status_changes) == (1, 2, 0, 1)
    history = await store.case_history(CODE)
    assert [(h["old_status"], h["new_status"], h["changed_at"]) for h in history] == [
        ("processing", "ready", clock.now)
    ]
    assert await store.case_history("H56-250701-0002") == []  # a change, but not of the status
    by_code = {c.code: c for c in await store.all_cases()}
    assert by_code[CODE].status is CaseStatus.READY
    assert by_code["H56-250701-0002"].unit == "UBND xã Khác"
    imports = await store.case_rows("case_imports")
    assert [(i["added"], i["updated"], i["unchanged"]) for i in imports] == [
        (2, 0, 0),
        (0, 0, 2),
        (1, 2, 0),
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "latin1.csv",
            b"M\xe3 h\xf4 s\xf4,S\xf4 \xf0i\xean tho\xe0i,Tr\xe0ng th\xe1i\n",
            "not UTF-8",
        ),
        ("cols.csv", "Mã hồ sơ,Họ tên,Trạng thái\nH56-1,A,Đang xử lý\n".encode(), "Số điện thoại"),
        ("empty.csv", b"", "empty"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "XLSX"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", ".xls"),
    ],
)
async def test_an_unreadable_file_changes_nothing(
    tmp_path: Path, store: Store, engine: Engine, name: str, data: bytes, message: str
) -> None:
    await import_file(store, write(tmp_path, csv_bytes([row()])), engine.kb)
    before = (await store.all_cases(), await store.case_rows("case_imports"))
    with pytest.raises(CasesFileError, match=message.replace(".", r"\.")):
        await import_file(store, write(tmp_path, data, name), engine.kb)
    assert (await store.all_cases(), await store.case_rows("case_imports")) == before


async def test_the_import_is_one_transaction(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    await import_file(store, write(tmp_path, csv_bytes([row()])), engine.kb)
    await store.subscribe(FB, "u1", CODE, "vi")
    before = await store.all_cases()
    parsed = parse(write(tmp_path, csv_bytes([row(code="H56-NEW"), row(status="Đã có kết quả")])))

    def crash(sub: Subscriber, case: Case, now: float) -> list[Reply] | str:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        await store.import_cases(parsed.cases, crash)
    assert await store.all_cases() == before
    assert await store.case_history(CODE) == []
    assert await store.outbox_rows() == []


async def test_notices_respect_each_platforms_messaging_window(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    codes = ["H56-FB-NEW", "H56-FB-OLD", "H56-ZALO", "H56-ZALO-OLD"]
    await import_file(store, write(tmp_path, csv_bytes([row(code=c) for c in codes])), engine.kb)
    users = {"H56-FB-NEW": (FB, "fb-new"), "H56-FB-OLD": (FB, "fb-old"),
             "H56-ZALO": (ZALO, "zalo-3d"), "H56-ZALO-OLD": (ZALO, "zalo-8d")}  # fmt: skip
    last_message = {"fb-new": 0, "fb-old": 25, "zalo-3d": 72, "zalo-8d": 8 * 24}  # hours ago
    start = clock.now
    for user, hours in sorted(last_message.items(), key=lambda kv: -kv[1]):
        clock.now = start - hours * 3600
        platform = ZALO if user.startswith("zalo") else FB
        await store.record_inbound(Incoming(platform, user, f"m-{user}", EventKind.TEXT, "hi"))
    clock.now = start
    for code, (platform, user) in users.items():
        await store.subscribe(platform, user, code, "en" if user == "fb-new" else "vi")
    ready = [row(code=c, status="Đã có kết quả", unit="UBND xã Tân Trào") for c in codes]
    summary = await import_file(store, write(tmp_path, csv_bytes(ready)), engine.kb)
    assert (summary.counts.notices_queued, summary.counts.notices_undeliverable) == (2, 2)
    sent = {r.outgoing.user_id: r.outgoing.reply.text for r in await store.outbox_rows()}
    assert set(sent) == {"fb-new", "zalo-3d"}
    assert sent["fb-new"].startswith("An update on your file H56-FB-NEW")
    assert "Please collect the result at UBND xã Tân Trào" in sent["fb-new"]
    assert "Mời Anh/chị nhận kết quả tại UBND xã Tân Trào" in sent["zalo-3d"]
    notices = {(n["user_id"], n["outcome"]) for n in await store.case_rows("case_notices")}
    assert notices == {("fb-new", "queued"), ("fb-old", "undeliverable"),
                       ("zalo-3d", "queued"), ("zalo-8d", "undeliverable")}  # fmt: skip
    # "Khi có kết quả": told once the result is there, the subscription ends.
    subs = await store.case_rows("case_subscriptions")
    assert {s["active"] for s in subs} == {0}


# --- lookup: codes, digits, locks, audit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H56-250701-0001", "H56-250701-0001"),
        ("mã hồ sơ của tôi là 000.00.20.H56-250701-0001 ạ", "000.00.20.H56-250701-0001"),
        ("kiểm tra giúp hồ sơ h56-250701-0001.", "H56-250701-0001"),
        ("123456-250701-0042", "123456-250701-0042"),
        ("hồ sơ nộp ngày 01-07-2025", None),  # a date
        ("sđt của tôi 0912-345-678", None),  # a phone number
        ("lệ phí khai sinh bao nhiêu", None),
        ("phí 8.000 đồng", None),
    ],
)
def test_find_code(text: str, code: str | None) -> None:
    assert find_code(text) == code


def test_find_code_relaxed_after_the_bot_asked() -> None:
    assert find_code("HS2025000123") is None
    assert find_code("HS2025000123", relaxed=True) == "HS2025000123"
    assert find_code("mã là hs2025000123 nhé", relaxed=True) == "HS2025000123"
    assert find_code("5678", relaxed=True) is None


@pytest.mark.parametrize(
    ("text", "digits"),
    [("5678", "5678"), ("5 6 7 8", "5678"), ("số cuối là 5678 ạ", "5678"),
     ("0912345678", "5678"), ("0912.345.678", "5678"), ("567", None), ("56789", None),
     ("không nhớ", None), ("1234 hay 5678", None)],
)  # fmt: skip
def test_find_digits(text: str, digits: str | None) -> None:
    assert find_digits(text) == digits


async def seeded(tmp_path: Path, store: Store, engine: Engine) -> None:
    rows = [row(), row(code="H56-250701-0002", phone="0987654321")]
    await import_file(store, write(tmp_path, csv_bytes(rows)), engine.kb)


async def check(store: Store, code: str, digits: str, user: str = "u1") -> LookupResult:
    return await cases.lookup(store, FB, user, LookupRequest(code, digits))


async def test_five_failures_per_dossier_lock_it_for_everyone(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    await seeded(tmp_path, store, engine)
    found = await check(store, CODE.lower(), "5678")
    assert found.outcome == "found" and found.case is not None and found.case.code == CODE
    outcomes = [(await check(store, CODE, "0000", user=f"guess-{n}")).outcome for n in range(5)]
    assert outcomes == ["no_match"] * 4 + ["locked"]
    # The dossier is locked, even for its owner with the right digits, elsewhere too ...
    assert (await check(store, CODE, "5678", user="owner")).outcome == "locked"
    assert (await check(store, "H56-250701-0002", "4321", user="owner")).outcome == "found"
    # ... for 24 hours.
    clock.advance(24 * 3600 + 1)
    assert (await check(store, CODE, "5678", user="owner")).outcome == "found"


async def test_five_failures_per_sender_lock_the_sender(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    await seeded(tmp_path, store, engine)
    # Unknown codes and wrong digits count alike (and answer alike).
    tries = [("NOPE-1", "1111"), ("NOPE-2", "1111"), (CODE, "0000"), ("H56-250701-0002", "0000")]
    assert [(await check(store, c, d)).outcome for c, d in tries] == ["no_match"] * 4
    assert (await check(store, "NOPE-3", "1111")).outcome == "locked"
    assert (await check(store, CODE, "5678")).outcome == "locked"  # right digits, still locked
    assert (await check(store, CODE, "5678", user="someone-else")).outcome == "found"
    audit = await store.case_rows("case_lookups")
    assert [a["outcome"] for a in audit] == ["no_match"] * 5 + ["locked", "found"]
    assert set(audit[0]) == {"id", "platform", "user_id", "code", "outcome", "at"}
    assert not {"5678", "0000"} & {str(v) for a in audit for v in a.values()}


async def test_failures_older_than_a_day_do_not_count(
    tmp_path: Path, store: Store, clock: FakeClock, engine: Engine
) -> None:
    await seeded(tmp_path, store, engine)
    for _ in range(4):
        assert (await check(store, CODE, "0000")).outcome == "no_match"
    clock.advance(24 * 3600 + 1)
    for _ in range(4):
        assert (await check(store, CODE, "0000")).outcome == "no_match"
    assert (await check(store, CODE, "5678")).outcome == "found"


# --- the dialog, pure ----------------------------------------------------------------------------


T0 = 1_751_600_000_000  # 04/07/2025 10:33 in Viet Nam


def say(
    engine: Engine, state: State | None, text: str = "", payload: str | None = None, at: int = T0
):  # type: ignore[no-untyped-def]
    kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
    return engine.dialog.handle(state, Incoming(WEB, "u1", f"m{at}", kind, text, payload), at)


def sample(**changes: Any) -> Case:
    base = Case(
        code=CODE,
        status=CaseStatus.PROCESSING,
        phone_last4="5678",
        topic="khai-sinh",
        procedure="Đăng ký khai sinh",
        owner_masked="Nguyễn T. H.",
        received=dt.date(2025, 7, 1),
        due=dt.date(2025, 7, 8),
        unit="UBND xã Minh Xuân",
    )
    return dataclasses.replace(base, **changes)


def test_lookup_dialog_from_the_topic_to_the_status(engine: Engine) -> None:
    topic = say(engine, None, "tra cứu hồ sơ")
    assert topic.topic == "tra-cuu-ho-so" and topic.state.case_step == "code"
    asked = say(engine, topic.state, "HS2025000123", at=T0 + 1)  # shorter codes once asked
    assert asked.state.case_code == "HS2025000123" and asked.state.case_step == "digits"
    assert "4 số cuối" in asked.replies[0].text
    invalid = say(engine, asked.state, "567", at=T0 + 2)
    assert invalid.lookup is None and "đúng 4 chữ số" in invalid.replies[0].text
    turn = say(engine, invalid.state, "5678", at=T0 + 3)
    assert turn.lookup == LookupRequest("HS2025000123", "5678") and turn.replies == ()
    assert "5678" not in repr(turn.lookup)  # the digits stay out of logs
    done = engine.dialog.resolve_lookup(turn, LookupResult("found", sample()), T0 + 3)
    text = done.replies[0].text
    for part in ("Hồ sơ H56-250701-0001", "Người nộp: Nguyễn T. H.", "Thủ tục: Đăng ký khai sinh",
                 "Tình trạng: Đang được giải quyết", "Ngày tiếp nhận: 01/07/2025",
                 "Ngày hẹn trả kết quả: 08/07/2025", "trong thời hạn giải quyết (còn 4 ngày",
                 "Anh/chị chưa cần làm gì thêm"):  # fmt: skip
        assert part in text
    assert "5678" not in text
    assert done.state.case_verified == CODE and done.state.case_step is None
    assert done.replies[-1].quick_replies[0].payload == f"CASE_SUBSCRIBE:{CODE}"


def test_a_message_with_a_code_starts_the_lookup(engine: Engine) -> None:
    turn = say(engine, None, "hồ sơ H56-250701-0001 của tôi đến đâu rồi")
    assert turn.state.case_code == CODE and turn.state.case_step == "digits"
    english = say(engine, State(lang="en"), CODE)
    assert "last 4 digits" in english.replies[0].text
    away = say(engine, turn.state, "cho hỏi lệ phí khai sinh", at=T0 + 1)
    assert away.topic == "khai-sinh" and away.state.case_step is None


def test_not_found_and_locked_answers(engine: Engine) -> None:
    turn = say(engine, say(engine, None, CODE).state, "1111", at=T0 + 1)
    wrong = engine.dialog.resolve_lookup(turn, LookupResult("no_match"), T0 + 1)
    assert wrong.state.case_step == "digits"  # try the digits again, or another code
    assert "chưa tìm thấy hồ sơ" in wrong.replies[0].text and CODE not in wrong.replies[0].text
    locked = engine.dialog.resolve_lookup(turn, LookupResult("locked"), T0 + 1)
    assert "tạm khóa trong 24 giờ" in locked.replies[0].text
    assert locked.state.case_step is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"due": dt.date(2025, 7, 4)}, "Hôm nay là ngày hẹn trả kết quả."),
        ({"due": dt.date(2025, 7, 2)}, "đã quá ngày hẹn trả 2 ngày"),
        ({"status": CaseStatus.SUPPLEMENT, "note": "Bản sao CCCD."},
         "Cần bổ sung: Bản sao CCCD. Anh/chị vui lòng nộp bổ sung tại UBND xã Minh Xuân."),
        ({"status": CaseStatus.SUPPLEMENT, "unit": ""},
         "Anh/chị vui lòng liên hệ nơi đã nộp hồ sơ để biết giấy tờ cần bổ sung."),
        ({"status": CaseStatus.READY},
         "Mời Anh/chị nhận kết quả tại UBND xã Minh Xuân"),
        ({"status": CaseStatus.RETURNED, "returned": dt.date(2025, 7, 3)},
         "Hồ sơ đã được giải quyết đúng hạn.\n\nKết quả đã được trả ngày 03/07/2025."),
        ({"status": CaseStatus.RETURNED, "returned": dt.date(2025, 7, 10)},
         "trễ 2 ngày so với ngày hẹn"),
        ({"status": CaseStatus.REJECTED, "note": "Không đủ điều kiện"},
         "Ghi chú: Không đủ điều kiện"),
        ({"topic": None, "procedure": "Cấp phép X", "received": None},
         "Thủ tục: Cấp phép X\nTình trạng: Đang được giải quyết\nNgày tiếp nhận: chưa có thông tin"),
    ],
)  # fmt: skip
def test_status_texts(engine: Engine, changes: dict[str, Any], expected: str) -> None:
    text = cases.case_text(engine.kb, sample(**changes), "vi", dt.date(2025, 7, 4))
    assert expected in text


def test_status_in_english(engine: Engine) -> None:
    text = cases.case_text(engine.kb, sample(status=CaseStatus.READY), "en", dt.date(2025, 7, 4))
    assert "Procedure: Birth registration" in text
    assert "Status: The result is ready for collection" in text
    assert "Due: 08/07/2025" in text and "completed on time" in text


def test_only_the_verified_owner_may_subscribe(engine: Engine) -> None:
    refused = say(engine, None, payload=f"CASE_SUBSCRIBE:{CODE}")
    assert refused.subscribe is None and "tra cứu hồ sơ trước" in refused.replies[0].text
    verified = State(case_verified=CODE, updated_ms=T0)
    assert say(engine, verified, payload=f"CASE_SUBSCRIBE:{CODE}").subscribe == CODE
    assert say(engine, verified, payload="CASE_SUBSCRIBE:H56-OTHER").subscribe is None
    assert say(engine, verified, "Báo cho tôi khi có kết quả").subscribe == CODE


# --- end to end: Messenger and the web chat, with the fake Graph server -------------------------


async def fb_say(
    client: Client, platforms: FakePlatforms, text: str, sender: str = PSID, payload: str = ""
) -> str:
    """Send one message as `sender`; the replies Graph received for it, joined."""
    before = len(platforms.sent())
    mid = f"m-{uuid.uuid4().hex}"
    event = (
        fb_quick_reply(payload, title=text, mid=mid, sender=sender)
        if payload
        else fb_text(text, mid=mid, sender=sender)
    )
    assert (await post_facebook(client, fb_batch(event))).status == 200
    await settle(client)
    queued = len(await store_of(client).outbox_rows(limit=100_000))
    await platforms.wait_for(lambda: len(platforms.sent()) == queued)
    sent = platforms.sent()[before:]
    assert {r.body["recipient"]["id"] for r in sent} == {sender}
    return "\n\n".join(r.text for r in sent)


def export(tmp_path: Path, status: str = "Đang xử lý", name: str = "export.csv") -> Path:
    today = vn_today()
    received, due = today - dt.timedelta(days=2), today + dt.timedelta(days=5)
    rows = [
        row(received=ddmmyyyy(received), due=ddmmyyyy(due), status=status),
        row(
            code="H56-250701-0002",
            phone="0987654321",
            received=ddmmyyyy(received),
            due=ddmmyyyy(due),
        ),
    ]
    return write(tmp_path, csv_bytes(rows), name)


async def test_messenger_lookup_right_wrong_unknown_and_lock(
    aiohttp_client: AiohttpClient, tmp_path: Path, engine: Engine, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), engine)
    await import_file(store_of(client), export(tmp_path), engine.kb, engine.matcher)

    asked = await fb_say(client, platforms, "tra cứu hồ sơ")
    assert "mã hồ sơ" in asked
    assert "4 số cuối" in await fb_say(client, platforms, CODE)
    status = await fb_say(client, platforms, "5678")
    assert "Người nộp: Nguyễn T. H." in status and "Tình trạng: Đang được giải quyết" in status
    assert "Thủ tục: Đăng ký khai sinh" in status and "còn 5 ngày" in status
    assert "0912" not in status and "5678" not in status

    # Wrong digits and an unknown code: the very same answer.
    await fb_say(client, platforms, CODE, sender="stranger")
    wrong = await fb_say(client, platforms, "1111", sender="stranger")
    await fb_say(client, platforms, "H56-999999-9999", sender="stranger")
    unknown = await fb_say(client, platforms, "5678", sender="stranger")
    assert wrong == unknown and "chưa tìm thấy hồ sơ" in wrong

    # Three more failures make five for this sender: locked, right digits or not.
    for digits in ("2222", "3333"):
        assert await fb_say(client, platforms, digits, sender="stranger") == wrong
    assert "tạm khóa trong 24 giờ" in await fb_say(client, platforms, "4444", sender="stranger")
    await fb_say(client, platforms, "H56-250701-0002", sender="stranger")
    assert "tạm khóa" in await fb_say(client, platforms, "4321", sender="stranger")
    audit = await store_of(client).case_rows("case_lookups")
    assert [a["outcome"] for a in audit] == ["found"] + ["no_match"] * 5 + ["locked"]


async def test_messenger_subscription_then_status_change_then_notice(
    aiohttp_client: AiohttpClient, tmp_path: Path, engine: Engine, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), engine)
    store = store_of(client)
    await import_file(store, export(tmp_path), engine.kb, engine.matcher)
    await fb_say(client, platforms, f"hồ sơ {CODE} đến đâu rồi")
    await fb_say(client, platforms, "5678")
    subscribed = await fb_say(
        client, platforms, "Báo khi có kết quả", payload=f"CASE_SUBSCRIBE:{CODE}"
    )
    assert f"khi hồ sơ {CODE} thay đổi tình trạng" in subscribed

    before = len(platforms.sent())
    summary = await import_file(store, export(tmp_path, "Đã có kết quả"), engine.kb)
    assert (summary.counts.status_changes, summary.counts.notices_queued) == (1, 1)
    client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: len(platforms.sent()) > before)
    (notice,) = platforms.sent()[before:]
    assert notice.body["recipient"]["id"] == PSID
    assert notice.text.startswith(f"Hồ sơ {CODE} của Anh/chị vừa được cập nhật:")
    assert "Mời Anh/chị nhận kết quả tại UBND xã Minh Xuân" in notice.text


async def test_web_chat_lookup(
    aiohttp_client: AiohttpClient, tmp_path: Path, engine: Engine
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, facebook=False), engine)
    await import_file(store_of(client), export(tmp_path), engine.kb, engine.matcher)

    async def chat(session: str, text: str) -> str:
        answer = await client.post("/api/chat", json={"session": session, "text": text})
        assert answer.status == 200
        return "\n\n".join(r["text"] for r in (await answer.json())["replies"])

    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert "4 số cuối" in await chat(owner, f"mã hồ sơ {CODE}")
    status = await chat(owner, "5678")
    assert "Nguyễn T. H." in status and "Ngày hẹn trả kết quả" in status
    await chat(other, CODE)
    wrong = await chat(other, "0000")
    await chat(other, "H56-000000-0000")
    assert await chat(other, "5678") == wrong


# --- the report ----------------------------------------------------------------------------------


def test_working_days_skip_weekends() -> None:
    friday = dt.date(2025, 7, 4)
    assert add_working_days(friday, 2) == dt.date(2025, 7, 8)
    assert add_working_days(dt.date(2025, 7, 1), 2) == dt.date(2025, 7, 3)


def report_cases() -> list[Case]:
    def case(
        code: str, status: CaseStatus, due: dt.date | None, unit: str = "Xã A", **kw: Any
    ) -> Case:
        return Case(code, status, "0000", due=due, unit=unit, **kw)

    d = dt.date
    return [
        case("R1", CaseStatus.RETURNED, d(2025, 7, 3), returned=d(2025, 7, 2)),  # early
        case("R2", CaseStatus.RETURNED, d(2025, 7, 3), returned=d(2025, 7, 3)),  # on the day
        case("R3", CaseStatus.RETURNED, d(2025, 7, 1), unit="Xã B", returned=d(2025, 7, 2)),
        case("R4", CaseStatus.READY, d(2025, 7, 10)),  # ready before its due date: on time
        case("R5", CaseStatus.READY, d(2025, 7, 1)),  # ready, but when? not judged
        case("P1", CaseStatus.PROCESSING, d(2025, 7, 2), topic="khai-sinh"),  # overdue
        case("P2", CaseStatus.RECEIVED, d(2025, 7, 8), unit=""),  # due within 2 working days
        case("P3", CaseStatus.PROCESSING, d(2025, 7, 9)),  # later
        case("S1", CaseStatus.SUPPLEMENT, d(2025, 7, 1)),  # clock stopped: not overdue
        case("X1", CaseStatus.REJECTED, d(2025, 7, 1)),
    ]


def test_report_figures(engine: Engine) -> None:
    report = build_report(report_cases(), dt.date(2025, 7, 4))
    assert report.total == 10
    assert dict(report.by_status) == {
        CaseStatus.RETURNED: 3,
        CaseStatus.READY: 2,
        CaseStatus.PROCESSING: 2,
        CaseStatus.RECEIVED: 1,
        CaseStatus.SUPPLEMENT: 1,
        CaseStatus.REJECTED: 1,
    }
    assert (report.finished, report.judged, report.on_time) == (5, 4, 3)
    assert report.rate == 0.75
    assert [c.code for c in report.overdue] == ["P1"]
    assert [c.code for c in report.due_soon] == ["P2"]
    units = {u.unit: (u.total, u.finished, u.on_time, u.judged, u.overdue) for u in report.by_unit}
    assert units == {
        "Xã A": (8, 4, 3, 3, 1),
        "Xã B": (1, 1, 0, 1, 0),
        "(không rõ đơn vị)": (1, 0, 0, 0, 0),
    }

    text = report_text(report, engine.kb)
    assert "Tỷ lệ giải quyết trước và đúng hạn: 75,0% (3/4 hồ sơ đã giải quyết)" in text
    assert "1 hồ sơ đã giải quyết không đủ ngày để đánh giá" in text
    assert "P1  Đăng ký khai sinh  Xã A  hẹn 02/07/2025, quá 2 ngày" in text
    assert "Đến hạn trong 2 ngày làm việc, tới 08/07/2025 (1):" in text

    page = report_html(report, engine.kb)
    assert page.startswith("<!doctype html>") and "75,0%" in page
    assert 'style="width:75.0%"' in page  # the on-time bar
    assert "src=" not in page and "href=" not in page and "<script" not in page


def test_empty_report() -> None:
    report = build_report([], dt.date(2025, 7, 4))
    assert report.rate is None
    assert "Tỷ lệ giải quyết trước và đúng hạn: — (0/0" in report_text(report)
    assert "<!doctype html>" in report_html(report)


# --- the commands -----------------------------------------------------------------------------


def test_cli_import_and_report(tmp_path: Path) -> None:
    runner = CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})
    done = [
        row(code=f"H56-250630-{n:05d}", status="Đã trả kết quả", returned="03/07/2025")
        for n in range(2500)  # enough rows for the progress bar
    ]
    rows = [row(), row(code="H56-250701-0002", status="Đang ngủ"), *done]
    good = write(tmp_path, csv_bytes(rows, sep=";"))
    result = runner.invoke(cli, ["cases", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "Reading rows" in result.output  # the progress bar (on stderr, mixed in here)
    summary = "export.csv: 2501 added, 0 updated, 0 unchanged, 1 rejected; 0 status changes"
    assert summary in result.output
    assert "\n  line 3: H56-250701-0002: unknown status 'Đang ngủ'\n" in result.output

    bad = write(tmp_path, "Mã hồ sơ;Trạng thái\nX-1;Mới\n".encode(), "bad.csv")
    failed = runner.invoke(cli, ["cases", "import", str(bad)])
    assert failed.exit_code == 1
    assert "missing: Số điện thoại" in failed.output and "Nothing was imported" in failed.output
    missing = runner.invoke(cli, ["cases", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "cannot read" in missing.output

    page = tmp_path / "report.html"
    report = runner.invoke(cli, ["report", "cases", "--today", "2025-07-07", "--html", str(page)])
    assert report.exit_code == 0, report.output
    assert "Tổng số hồ sơ: 2.501" in report.output
    assert "Tỷ lệ giải quyết trước và đúng hạn: 100,0% (2.500/2.500" in report.output
    overdue = f"{CODE}  Đăng ký khai sinh  UBND xã Minh Xuân  hẹn 04/07/2025, quá 3 ngày"
    assert overdue in report.output
    assert "Báo cáo hồ sơ ngày 07/07/2025" in page.read_text(encoding="utf-8")


def test_read_table_keeps_line_numbers_of_quoted_newlines(tmp_path: Path) -> None:
    data = csv_bytes([row(note="dòng 1\ndòng 2"), row(code="H56-250701-0002", status="x")])
    parsed = parse(write(tmp_path, data))
    assert parsed.cases[0].note == "dòng 1\ndòng 2"
    assert [r.line for r in parsed.rejected] == [4]
