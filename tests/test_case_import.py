"""Importing a dossier export (issue 4): reading CSV and XLSX files (bot/case_table.py), finding
the topics (bot/case_topics.py), validating rows (bot/case_parse.py), and the import in the store
(bot/cases.py): idempotent, one transaction, nothing written from an unreadable file.

The files are written here: CSV bytes, XLSX through openpyxl, damaged workbooks and zip bombs
with the builders of tests/test_xlsx.py.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.bundle import Bundle
from bot.cases.actions import import_file
from bot.cases.table import MAX_FILE_BYTES, CasesFileError
from bot.cases.topics import TopicResolver
from bot.models import Case, CaseStatus, Platform, Reply, Subscriber
from bot.store import Store
from tests.case_builders import (
    CODE,
    PHONE,
    ROW_CASE,
    csv_bytes,
    parse,
    row,
    write,
)
from tests.conftest import FakeClock
from tests.test_xlsx import raw_zip, workbook_parts, zip_bomb

FB = Platform.FACEBOOK

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


def test_rows_keep_only_what_the_bot_needs(tmp_path: Path, bundle: Bundle) -> None:
    (case,) = parse(write(tmp_path, csv_bytes([row()])), bundle).cases
    assert case == ROW_CASE


def test_topics_from_names_ids_and_codes(bundle: Bundle) -> None:
    resolve = TopicResolver(bundle.kb, bundle.matcher)
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


def test_xlsx_written_with_openpyxl(tmp_path: Path, bundle: Bundle) -> None:
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
    parsed = parse(path, bundle)
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


def test_read_table_keeps_line_numbers_of_quoted_newlines(tmp_path: Path) -> None:
    data = csv_bytes([row(note="dòng 1\ndòng 2"), row(code="H56-250701-0002", status="x")])
    parsed = parse(write(tmp_path, data))
    assert parsed.cases[0].note == "dòng 1\ndòng 2"
    assert [r.line for r in parsed.rejected] == [4]


# --- the import in the store -----------------------------------------------------------------------


async def test_reimport_is_idempotent_and_records_status_changes(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    rows = [row(), row(code="H56-250701-0002", status="Đã tiếp nhận")]
    first = await import_file(store, write(tmp_path, csv_bytes(rows)), bundle.kb)
    c = first.counts
    assert (c.added, c.updated, c.unchanged, c.rejected, c.status_changes) == (2, 0, 0, 0, 0)
    again = await import_file(store, write(tmp_path, csv_bytes(rows)), bundle.kb)
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 0, 2)

    clock.advance(3600)
    rows = [
        row(status="Đã có kết quả", note="Mời nhận kết quả"),
        row(code="H56-250701-0002", status="Đã tiếp nhận", unit="UBND xã Khác"),
        row(code="H56-3"),
    ]
    changed = await import_file(store, write(tmp_path, csv_bytes(rows)), bundle.kb)
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
    tmp_path: Path, store: Store, bundle: Bundle, name: str, data: bytes, message: str
) -> None:
    await import_file(store, write(tmp_path, csv_bytes([row()])), bundle.kb)
    before = (await store.all_cases(), await store.case_rows("case_imports"))
    with pytest.raises(CasesFileError, match=message.replace(".", r"\.")):
        await import_file(store, write(tmp_path, data, name), bundle.kb)
    assert (await store.all_cases(), await store.case_rows("case_imports")) == before


def _no_workbook_part(tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as archive:  # a zip, but of no workbook
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ho-so.csv", csv_bytes([row()]))
    return path


def _sparse(name: str, size: int) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        with path.open("wb") as f:
            f.truncate(size)  # a hole: no disk, no time
        return path

    return make


ONE_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>Mã hồ sơ</t></is></c></row>'
SHEET = "xl/worksheets/sheet1.xml"
NOT_A_ZIP = "export.xlsx: not a readable XLSX workbook (not an XLSX file (not a zip archive"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda tmp: write(tmp, csv_bytes([row()]), "export.xlsx"),
            NOT_A_ZIP,
            id="a CSV renamed .xlsx",
        ),
        pytest.param(
            lambda tmp: write(tmp, random.Random(4).randbytes(100_000), "export.xlsx"),
            NOT_A_ZIP,
            id="random bytes",
        ),
        pytest.param(
            _no_workbook_part,
            "export.xlsx: not a readable XLSX workbook (the workbook has no part xl/workbook.xml",
            id="a zip without the workbook parts",
        ),
        pytest.param(
            lambda tmp: raw_zip(
                tmp / "export.xlsx", {**workbook_parts(ONE_ROW), SHEET: zip_bomb(2)}
            ),
            f"export.xlsx: not a readable XLSX workbook ({SHEET} would unpack to 1,010 times its"
            " size (2,147 MB): a zip bomb, not an export)",
            id="a 2 MB zip whose sheet unpacks to 2 GiB",
        ),
        pytest.param(
            lambda tmp: raw_zip(
                tmp / "export.xlsx", workbook_parts(ONE_ROW + '<row r="99999999999"/>')
            ),
            "export.xlsx: not a readable XLSX workbook (row 99,999,999,999 is past Excel's last"
            " row, 1,048,576)",
            id="a 1 KB sheet down to row 10^11",
        ),
        pytest.param(
            _sparse("export.xlsx", 200_000_000),
            f"export.xlsx: the file is 200 MB, more than the {MAX_FILE_BYTES // 10**6} MB",
            id="a 200 MB workbook",
        ),
        pytest.param(
            _sparse("export.csv", 200_000_000),
            f"export.csv: the file is 200 MB, more than the {MAX_FILE_BYTES // 10**6} MB",
            id="a 200 MB CSV",
        ),
    ],
)
async def test_a_file_that_is_no_export_is_refused_and_changes_nothing(
    tmp_path: Path, store: Store, bundle: Bundle, make: Callable[[Path], Path], message: str
) -> None:
    await import_file(store, write(tmp_path, csv_bytes([row()])), bundle.kb)
    before = (await store.all_cases(), await store.case_rows("case_imports"))
    folder = tmp_path / "bad"
    folder.mkdir()
    bad = make(folder)
    start = time.perf_counter()
    with pytest.raises(CasesFileError) as refused:
        await import_file(store, bad, bundle.kb)
    assert message in str(refused.value)
    assert time.perf_counter() - start < 5  # refused from what the file declares, not unpacked
    assert (await store.all_cases(), await store.case_rows("case_imports")) == before


async def test_the_import_is_one_transaction(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    await import_file(store, write(tmp_path, csv_bytes([row()])), bundle.kb)
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
