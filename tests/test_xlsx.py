"""The standard-library XLSX reader (bot/cases/xlsx.py): the first worksheet's rows, value for
value what openpyxl's `iter_rows(values_only=True)` reads from the same file, and `XlsxError` for
anything that is not a readable workbook or that would not be read in bounded time and memory.

openpyxl writes text as inline strings; `to_shared_strings` rewrites its files the way Excel
writes them (text in xl/sharedStrings.xml). Workbooks openpyxl cannot write (no styles, cells
without references, escaped characters, ISO dates...) are written part by part (`workbook`);
damaged ones and zip bombs byte by byte (`raw_zip`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import resource
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from bot.cases import xlsx
from bot.cases.table import CasesFileError, read_table
from bot.cases.xlsx import (
    MAX_HELD_ELEMENTS,
    MAX_PARTS,
    RATIO_FLOOR,
    XlsxError,
    first_sheet_rows,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

# --- writing test workbooks ---------------------------------------------------------------------


def openpyxl_rows(path: Path) -> list[tuple[object, ...]]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def rewrite(path: Path, part: str, change: Callable[[str], str]) -> None:
    """Replace one part of the package (created when missing) by `change(its text)`."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[part] = change(parts.get(part, b"").decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def to_shared_strings(path: Path) -> None:
    """Move the inline strings of the first sheet into xl/sharedStrings.xml, as Excel stores
    text (rich-text runs kept); each distinct string once."""
    index: dict[str, int] = {}

    def share(match: re.Match[str]) -> str:
        attributes, item = match.group(1).replace(' t="inlineStr"', ""), match.group(2)
        return f'<c{attributes} t="s"><v>{index.setdefault(item, len(index))}</v></c>'

    rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r"<c([^>]*)><is>(.*?)</is></c>", share, xml),
    )
    items = "".join(f"<si>{item}</si>" for item in index)
    rewrite(
        path,
        "xl/sharedStrings.xml",
        lambda _: f'<sst xmlns="{MAIN}" uniqueCount="{len(index)}">{items}</sst>',
    )
    rewrite(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            "</Relationships>",
            f'<Relationship Id="rIdSST" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        ),
    )
    rewrite(
        path,
        "[Content_Types].xml",
        lambda xml: xml.replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
    )


def workbook_parts(
    sheet_data: str,
    *,
    strings: list[str] | None = None,
    styles: str | None = None,
    workbook_pr: str = "",
    sheet_part: str = "xl/worksheets/sheet1.xml",
) -> dict[str, str]:
    """The parts of a workbook of one sheet of `sheet_data` (the <sheetData> content), shared
    strings (each <si> content) and styles when given."""
    rels = [f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="/{sheet_part}"/>']
    parts = {
        "_rels/.rels": f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{workbook_pr}'
        '<sheets><sheet name="Hồ sơ" sheetId="1" r:id="rId1"/></sheets></workbook>',
        sheet_part: f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>',
    }
    if strings is not None:
        items = "".join(f"<si>{s}</si>" for s in strings)
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{items}</sst>'
        rels.append(
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    if styles is not None:
        parts["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<Relationships xmlns="{PKG_REL}">{"".join(rels)}</Relationships>'
    )
    return parts


def workbook(
    path: Path,
    sheet_data: str,
    *,
    strings: list[str] | None = None,
    styles: str | None = None,
    workbook_pr: str = "",
    sheet_part: str = "xl/worksheets/sheet1.xml",
    extra: Mapping[str, str] | None = None,
) -> Path:
    """A workbook written part by part (see `workbook_parts`), with `extra` parts."""
    parts = workbook_parts(
        sheet_data, strings=strings, styles=styles, workbook_pr=workbook_pr, sheet_part=sheet_part
    )
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


class Part(NamedTuple):
    """A zip member as stored: its bytes (raw deflate for method 8), what it declares it
    unpacks to (size and CRC), its compression method and flags."""

    data: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflated(text: str | bytes) -> Part:
    data = text.encode() if isinstance(text, str) else text
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Part(packer.compress(data) + packer.flush(), len(data), zlib.crc32(data))


def raw_zip(
    path: Path, parts: Mapping[str, Part | str | bytes], *, count: int | None = None
) -> Path:
    """A zip written byte by byte, each member declaring what its `Part` says (text and bytes
    are deflated honestly); the end record declares `count` parts when told."""
    body, directory = bytearray(), bytearray()
    for name, part in parts.items():
        member = part if isinstance(part, Part) else deflated(part)
        encoded, offset = name.encode(), len(body)
        fields = (member.flags, member.method, 0, 0x21, member.crc, len(member.data), member.size)
        body += struct.pack("<I5H3I2H", 0x04034B50, 20, *fields, len(encoded), 0)
        body += encoded + member.data
        directory += struct.pack(
            "<I6H3I5H2I", 0x02014B50, 20, 20, *fields, len(encoded), 0, 0, 0, 0, 0, offset
        )
        directory += encoded
    entries = len(parts) if count is None else count
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(directory),
                      len(body), 0)  # fmt: skip
    path.write_bytes(bytes(body + directory + end))
    return path


def zip_bomb(gib: int = 2, *, declared: int | None = None) -> Part:
    """A sheet of `gib` GiB of spaces in about a MB per GiB: each MiB deflates alike after a
    full flush, so one is packed and repeated. It declares its true size unless told `declared`
    (its CRC, left 0, is checked by nothing that reads this far)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()
    tail = b"</sheetData></worksheet>"
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    mib = packer.compress(b" " * 2**20) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    size = len(head) + gib * 2**30 + len(tail)
    return Part(start + mib * gib * 1024 + end, size if declared is None else declared, 0)


def varied_book() -> Workbook:
    """Text, numbers, booleans, dates in several formats, empty cells, gaps in rows and
    columns, a formula: what a dossier export may hold."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Hồ sơ"
    sheet.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN – UBND TỈNH TUYÊN QUANG"])
    sheet.append([])
    sheet.append(["Mã hồ sơ", "Chủ hồ sơ", "Số điện thoại", "Ngày tiếp nhận", "Ngày hẹn trả",
                  "Giờ hẹn", "Đã trả", "Lệ phí", "Ghi chú"])  # fmt: skip
    sheet.append(["H56-250701-0001", "Nguyễn Thị Hoa", 912345678, dt.datetime(2025, 7, 1, 8, 30),
                  dt.date(2025, 7, 4), dt.time(14, 15), True, 50_000.5, "Cần bổ sung ảnh 4×6"])  # fmt: skip
    sheet.append(["H56-250701-0002", "Lò Thị Mai", "0987 654 321", 45840, 45843.75,
                  0.5, False, -12, None])  # fmt: skip
    sheet.append(["H56-250701-0003", " Đặng  Văn  Ước ", 1e20, None, dt.datetime(2025, 7, 9, 23, 59, 59, 999_000)])  # fmt: skip
    for row in (4, 5):
        sheet.cell(row, 4).number_format = "dd/mm/yyyy"  # custom
        sheet.cell(row, 5).number_format = "mm-dd-yy"  # built-in 14
        sheet.cell(row, 6).number_format = "h:mm"  # built-in 20
    sheet["H4"].number_format = '#,##0.00 "đồng/ngày"'  # letters in quotes: a number
    sheet["H5"].number_format = "[Red]0;[Blue]-0"  # letters in brackets: a number
    sheet["E6"].number_format = "[$-42A]dddd, dd mmmm yyyy hh:mm:ss"  # a locale, then a date
    sheet["C6"].number_format = "0.00E+00"
    sheet["A9"] = "xa"  # rows 7 and 8 missing
    sheet["C9"] = "cột C"  # B9 missing
    sheet["AB9"] = "cột AB"  # D9..AA9 missing
    sheet["A10"] = 2
    sheet["B10"] = 3
    sheet["C10"] = "=A10*B10"
    sheet["D10"] = dt.timedelta(hours=30, minutes=5)
    return book


# --- values as openpyxl reads them ----------------------------------------------------------------


@pytest.mark.parametrize("shared", [False, True], ids=["inline-strings", "shared-strings"])
def test_a_varied_sheet_reads_as_openpyxl_reads_it(tmp_path: Path, shared: bool) -> None:
    path = tmp_path / "ho-so.xlsx"
    varied_book().save(path)
    rewrite(  # a cached result, as Excel leaves one (openpyxl writes the formula alone)
        path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("</f><v />", "</f><v>6</v>")
    )
    if shared:
        to_shared_strings(path)
        with zipfile.ZipFile(path) as archive:
            assert 't="s"' in archive.read("xl/worksheets/sheet1.xml").decode()
    rows = list(first_sheet_rows(path))
    assert rows == openpyxl_rows(path)
    assert len(rows) == 10 and all(len(r) == 28 for r in rows)  # padded to A1:AB10
    assert rows[3][:9] == (
        "H56-250701-0001",
        "Nguyễn Thị Hoa",
        912345678,
        dt.datetime(2025, 7, 1, 8, 30),
        dt.datetime(2025, 7, 4),
        dt.time(14, 15),
        True,
        50_000.5,
        "Cần bổ sung ảnh 4×6",
    )
    assert rows[4][3:8] == (
        dt.datetime(2025, 7, 2),
        dt.datetime(2025, 7, 5, 18),
        dt.time(12),
        False,
        -12,
    )
    assert rows[5][1:5] == (
        " Đặng  Văn  Ước ",
        1e20,
        None,
        dt.datetime(2025, 7, 9, 23, 59, 59, 999_000),
    )
    assert rows[6] == rows[7] == (None,) * 28
    assert (rows[8][0], rows[8][1], rows[8][2], rows[8][27]) == ("xa", None, "cột C", "cột AB")
    assert rows[9][:4] == (2, 3, 6, dt.timedelta(days=1, hours=6, minutes=5))


def test_rich_text_runs_are_joined(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = CellRichText(
        "Đăng ký ", TextBlock(InlineFont(b=True), "khai sinh"), " (lưu động)"
    )
    sheet["B1"] = "trơn"
    path = tmp_path / "rich.xlsx"
    book.save(path)
    assert list(first_sheet_rows(path)) == openpyxl_rows(path)  # inline rich text
    to_shared_strings(path)
    assert list(first_sheet_rows(path)) == [("Đăng ký khai sinh (lưu động)", "trơn")]
    assert list(first_sheet_rows(path)) == openpyxl_rows(path)


def test_only_the_first_sheet_is_read_whatever_its_part_is_called(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["Một", 1])
    book.create_sheet("Hai").append(["Hai", 2])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert list(first_sheet_rows(path)) == [("Một", 1)]
    # The second sheet's part first in the workbook: the order of <sheets> decides.
    rewrite(
        path,
        "xl/workbook.xml",
        lambda xml: re.sub(r"(<sheet [^>]*/>)(<sheet [^>]*/>)", r"\2\1", xml),
    )
    assert list(first_sheet_rows(path)) == [("Hai", 2)] == openpyxl_rows(path)


def test_date1904_workbooks_count_from_1904(tmp_path: Path) -> None:
    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    assert sheet is not None
    sheet.append([dt.datetime(2025, 7, 1, 8, 30), dt.date(1904, 1, 2), 45000])
    sheet["C1"].number_format = "dd/mm/yyyy"
    path = tmp_path / "mac.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        assert 'date1904="1"' in archive.read("xl/workbook.xml").decode()
    rows = list(first_sheet_rows(path))
    assert rows == openpyxl_rows(path)
    assert rows == [
        (dt.datetime(2025, 7, 1, 8, 30), dt.datetime(1904, 1, 2), dt.datetime(2027, 3, 16))
    ]


def test_serials_before_march_1900_keep_excels_leap_year_bug(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([1, 59, 60, 61, 45839])
    for cell in sheet[1]:
        cell.number_format = "dd/mm/yyyy"
    path = tmp_path / "1900.xlsx"
    book.save(path)
    rows = list(first_sheet_rows(path))
    assert rows == openpyxl_rows(path)
    # Excel shows 1 as 01/01/1900, 60 as its 29/02/1900 (read as the 28th), 61 as 01/03/1900.
    assert rows == [tuple(dt.datetime(*d) for d in ((1900, 1, 1), (1900, 2, 28), (1900, 2, 28),
                                                     (1900, 3, 1), (2025, 7, 1)))]  # fmt: skip


def test_a_large_sheet_streams_in_flat_memory(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n % 3}</v></c><c r="B{n}"><v>{n}</v></c></row>'
        for n in range(1, 50_001)
    )
    path = workbook(tmp_path / "big.xlsx", rows, strings=["<t>a</t>", "<t>b</t>", "<t>c</t>"])
    tracemalloc.start()
    try:
        count = 0
        for row in first_sheet_rows(path):
            count += 1
            assert row[1] == count
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 2_000_000  # the rows already read are dropped, not kept as empty elements


# --- workbooks as other writers make them ---------------------------------------------------------


def test_a_workbook_as_other_writers_make_it(tmp_path: Path) -> None:
    strings = [
        "<t>Mã hồ sơ</t>",
        '<r><rPr><b/></rPr><t xml:space="preserve">Đang </t></r><r><t>xử lý</t></r>'
        "<rPh sb='0' eb='1'><t>ふりがな</t></rPh>",  # a phonetic run is not text
        "<t>dòng 1_x000D_\ndòng 2 _x005F_x0041_</t>",  # an escaped CR and an escaped "_"
        "<t/>",
    ]
    sheet = (
        # cells without a reference follow the previous one; rows without a number too
        '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c r="D1" t="s"><v>2</v></c>'
        '<c t="s"><v>3</v></c></row>'
        '<row><c t="str"><f>A1&amp;"!"</f><v>Mã hồ sơ!</v></c><c t="e"><v>#N/A</v></c>'
        '<c t="b"><v>0</v></c><c t="d"><v>2025-07-01T08:30:00</v></c><c t="d"><v>2025-07-04</v></c>'
        '<c t="inlineStr"><is><t>Lạng Sơn &amp; Tuyên Quang</t></is></c><c t="inlineStr"/>'
        '<c><v>1.5E3</v></c><c s="0"><v></v></c></row>'
        '<row r="4"><c r="B4" s="1"><v>45839.5</v></c><c r="C4" s="2"><v>45839.5</v></c></row>'
    )
    styles = (
        '<numFmts count="1"><numFmt numFmtId="200" formatCode="0.0_m;\\d"/></numFmts>'
        '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="22"/><xf numFmtId="200"/></cellXfs>'
    )
    path = workbook(
        tmp_path / "khac.xlsx",
        sheet,
        strings=strings,
        styles=styles,
        sheet_part="xl/worksheets/du-lieu.xml",
    )
    assert list(first_sheet_rows(path)) == [
        ("Mã hồ sơ", "Đang xử lý", None, "dòng 1\r\ndòng 2 _x0041_", ""),
        ("Mã hồ sơ!", "#N/A", False, dt.datetime(2025, 7, 1, 8, 30), dt.date(2025, 7, 4),
         "Lạng Sơn & Tuyên Quang", None, 1500.0, None),
        (),
        (None, dt.datetime(2025, 7, 1, 12), 45839.5),
    ]  # fmt: skip


def test_a_sheet_declared_narrower_than_its_cells_loses_nothing(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["a", "b", "c"])
    path = tmp_path / "narrow.xlsx"
    book.save(path)
    rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace('ref="A1:C1"', 'ref="A1"'))
    assert openpyxl_rows(path) == [("a",)]  # openpyxl believes the dimension
    assert list(first_sheet_rows(path)) == [("a", "b", "c")]


# --- what cannot be read --------------------------------------------------------------------------


def _good(tmp_path: Path) -> Path:
    return workbook(
        tmp_path / "good.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        strings=["<t>x</t>"],
    )


def _drop(part: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        with zipfile.ZipFile(path) as archive:
            parts = {n: archive.read(n) for n in archive.namelist() if n != part}
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)

    return change


def _replace(part: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda path: rewrite(path, part, lambda xml: xml.replace(old, new))


SHEET = "xl/worksheets/sheet1.xml"


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "not a zip"),
        (lambda p: p.write_bytes(b"Ma ho so;So dien thoai\n"), "not a zip"),
        (_drop("xl/workbook.xml"), "no part xl/workbook.xml"),
        (_drop(SHEET), "no part xl/worksheets/sheet1.xml"),
        (_drop("xl/sharedStrings.xml"), "no part xl/sharedStrings.xml"),
        (_replace("xl/workbook.xml", "</sheets>", "</sheet>"), "malformed XML in xl/workbook.xml"),
        (_replace("xl/workbook.xml", MAIN, "urn:not-excel"), "not a SpreadsheetML workbook"),
        (_replace("xl/workbook.xml", 'r:id="rId1"', 'r:id="rId9"'), "no worksheet"),
        (_replace("xl/_rels/workbook.xml.rels", "/worksheet", "/chartsheet"), "no worksheet"),
        (_replace("xl/sharedStrings.xml", "</si>", ""), "malformed XML in xl/sharedStrings.xml"),
        (_replace(SHEET, "</sheetData>", "<row>"), "malformed XML in xl/worksheets/sheet1.xml"),
        (_replace(SHEET, "<v>0</v>", "<v>7</v>"), "cell A1: no shared string 7"),
        (_replace(SHEET, "<v>0</v>", "<v>-1</v>"), "cell A1: no shared string -1"),
        (_replace(SHEET, 't="s"><v>0', "><v>zero"), "cell A1: could not convert"),
        (_replace(SHEET, 'r="A1"', 'r="1A"'), "not a cell reference"),
        (_replace(SHEET, '<row r="1">', '<row r="one">'), "invalid literal for int()"),
        (
            lambda p: workbook(p, "", styles='<cellXfs><xf numFmtId="x"/></cellXfs>'),
            "cannot be read",
        ),
        (
            _replace(SHEET, '<row r="1">', '<row r="2"><c/></row><row r="1">'),
            "row 1 comes after row 2",
        ),
    ],
)
def test_what_is_not_a_workbook_raises_xlsx_error(
    tmp_path: Path, spoil: Callable[[Path], None], message: str
) -> None:
    path = _good(tmp_path)
    assert list(first_sheet_rows(path)) == [("x",)]
    spoil(path)
    with pytest.raises(XlsxError, match=re.escape(message)):
        list(first_sheet_rows(path))


def test_a_binary_file_object_is_read_too(tmp_path: Path) -> None:
    data = _good(tmp_path).read_bytes()
    assert list(first_sheet_rows(io.BytesIO(data))) == [("x",)]
    truncated = io.BytesIO(data[: len(data) // 2])
    with pytest.raises(XlsxError, match="not a zip"):
        first_sheet_rows(truncated)  # raised on opening, before any row is asked for


def test_the_import_reports_an_unreadable_workbook_as_a_cases_file_error(tmp_path: Path) -> None:
    path = _good(tmp_path)
    _replace(SHEET, "</sheetData>", "<row>")(path)
    with pytest.raises(
        CasesFileError, match=r"good\.xlsx: not a readable XLSX workbook \(malformed XML"
    ):
        read_table(path)


# --- zip bombs and other packages beyond the limits ----------------------------------------------


@pytest.fixture
def capped_memory() -> Iterator[None]:
    """The process may take 2 GiB more address space than it has during the test: should a
    check let a bomb through, reading it fails at once (MemoryError) instead of swapping the
    machine."""
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + 2 * 2**30, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


ONE_CELL = '<row r="1"><c r="A1"><v>1</v></c></row>'


def _parts(sheet_data: str = ONE_CELL) -> dict[str, Part | str | bytes]:
    return dict(workbook_parts(sheet_data))


def _refused(path: Path, message: str) -> None:
    """`XlsxError` saying `message`, quickly, with memory to spare; on opening or reading."""
    start = time.perf_counter()
    with pytest.raises(XlsxError, match=re.escape(message)):
        for _ in first_sheet_rows(path):
            pass
    assert time.perf_counter() - start < 5  # well under a second on the 2-vCPU VM


@pytest.mark.parametrize(
    ("parts", "count", "message"),
    [
        pytest.param(
            {**_parts(), SHEET: zip_bomb(2)},
            None,
            f"{SHEET} would unpack to 1,010 times its size (2,147 MB): a zip bomb, not an export",
            id="a 2 MB sheet that unpacks to 2 GiB",
        ),
        pytest.param(
            {**_parts(), SHEET: zip_bomb(1, declared=100)},
            None,
            f"{SHEET} cannot be read: Bad CRC-32",  # zipfile stops at the 100 bytes declared
            id="a zip bomb that declares a small size",
        ),
        pytest.param(
            {**_parts(), **{f"xl/media/{n}.bin": Part(b"", 1_000_000, 0) for n in range(300)}},
            None,
            "the workbook would unpack to 300 MB, more than the 250 MB we read",
            id="many parts that declare a MB each",
        ),
        pytest.param(
            {**_parts(), **{f"xl/media/{n}.bin": b"" for n in range(MAX_PARTS)}},
            None,
            f"the archive has {len(_parts()) + MAX_PARTS:,} parts, more than the 1,000 we read",
            id="too many parts",
        ),
        pytest.param(
            {**_parts(), **{f"xl/media/{n}.bin": b"" for n in range(2 * MAX_PARTS)}},
            1,
            f"the archive has {len(_parts()) + 2 * MAX_PARTS:,} parts",
            id="more parts than the end record declares",
        ),
        pytest.param(
            {**_parts(), **{f"xl/media/{n:04}{'x' * 4000}": b"" for n in range(300)}},
            None,
            "the archive's directory takes 1,2",
            id="a directory of long names",
        ),
        pytest.param(
            {**_parts(), SHEET: Part(b"BZh9", 100, 0, method=zipfile.ZIP_BZIP2)},
            None,
            f"{SHEET} is packed with method 12, which Excel does not use",
            id="bzip2",
        ),
        pytest.param(
            {**_parts(), SHEET: deflated(workbook_parts(ONE_CELL)[SHEET])._replace(flags=1)},
            None,
            f"{SHEET} is encrypted",
            id="encrypted",
        ),
    ],
)
def test_a_package_beyond_the_limits_is_refused_before_it_is_unpacked(
    tmp_path: Path,
    capped_memory: None,
    parts: Mapping[str, Part | str | bytes],
    count: int | None,
    message: str,
) -> None:
    _refused(raw_zip(tmp_path / "bomb.xlsx", parts, count=count), message)


def test_the_limits_leave_a_real_export_alone(tmp_path: Path) -> None:
    """A sheet of a MB and more that packs well, a few parts, some stored: read."""
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}"><v>{n}</v></c></row>'
        for n in range(1, 30_001)
    )
    path = workbook(tmp_path / "real.xlsx", rows, strings=["<t>a</t>"])
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        assert info.file_size > RATIO_FLOOR and info.compress_type == zipfile.ZIP_STORED
    assert sum(1 for _ in first_sheet_rows(path)) == 30_000


def stored(text: str) -> Part:
    """A part stored as is: packed 1 to 1, so no ratio gives it away."""
    data = text.encode()
    return Part(data, len(data), zlib.crc32(data), method=zipfile.ZIP_STORED)


TOO_MANY = MAX_HELD_ELEMENTS + 1
HELD = f"more than the {MAX_HELD_ELEMENTS:,} XML elements at once we read"


def _sheet(inside: str, *, before: str = "", after: str = "") -> Part:
    return stored(
        f'<worksheet xmlns="{MAIN}">{before}<sheetData>{inside}</sheetData>{after}</worksheet>'
    )


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        pytest.param(
            _parts('<row r="1"><c r="A1"><v>1</v></c></row><row r="99999999999"/>'),
            "row 99,999,999,999 is past Excel's last row, 1,048,576",
            id="a 1 KB sheet down to row 10^11",
        ),
        pytest.param(
            _parts(
                "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(1, 2001))
            ),
            "the sheet has more than the 20,000,000 cells we read",
            id="a cell at XFD in each row",
        ),
        pytest.param(
            {
                **_parts(),
                SHEET: _sheet("<row/>" * 20_000, before='<dimension ref="A1:AMJ20000"/>'),
            },
            "the sheet has more than the 20,000,000 cells we read",
            id="empty rows padded to a declared width of 1,024",
        ),
        pytest.param(
            {**_parts(), SHEET: _sheet('<row r="1">' + "<c/>" * TOO_MANY + "</row>")},
            f"{SHEET} has {HELD}",
            id="a row of too many cells",
        ),
        pytest.param(
            {**_parts(), SHEET: _sheet(ONE_CELL, before="<x><y>" + "<z/>" * TOO_MANY + "</y></x>")},
            f"{SHEET} has {HELD}",
            id="too many elements before the rows",
        ),
        pytest.param(
            {**_parts(), SHEET: _sheet(ONE_CELL, after="<x><y>" + "<z/>" * TOO_MANY + "</y></x>")},
            f"{SHEET} has {HELD}",
            id="too many elements after the rows",
        ),
        pytest.param(
            {
                **_parts(),
                "xl/workbook.xml": stored(
                    f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{"<x/>" * TOO_MANY}<sheets>'
                    '<sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>'
                ),
            },
            f"xl/workbook.xml has {HELD}",
            id="a workbook part of too many elements",
        ),
        pytest.param(
            {
                **workbook_parts(ONE_CELL, strings=["<t>x</t>"]),
                "xl/sharedStrings.xml": stored(
                    f'<sst xmlns="{MAIN}"><si>{"<r><t>a</t></r>" * (TOO_MANY // 2)}</si></sst>'
                ),
            },
            f"xl/sharedStrings.xml has {HELD}",
            id="a shared string of too many runs",
        ),
        pytest.param(
            {
                **workbook_parts(ONE_CELL, styles=""),
                "xl/styles.xml": stored(
                    f'<styleSheet xmlns="{MAIN}"><cellXfs>{"<xf/>" * TOO_MANY}</cellXfs></styleSheet>'
                ),
            },
            f"xl/styles.xml has more than {MAX_HELD_ELEMENTS:,} cell styles",
            id="too many cell styles",
        ),
    ],
)
def test_a_sheet_that_would_take_too_much_memory_is_refused_as_it_is_read(
    tmp_path: Path, capped_memory: None, parts: Mapping[str, Part | str | bytes], message: str
) -> None:
    _refused(raw_zip(tmp_path / "bomb.xlsx", parts), message)


def test_a_shared_strings_table_is_read_up_to_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_SHARED_STRINGS", 100)
    path = workbook(tmp_path / "a.xlsx", ONE_CELL, strings=[f"<t>{n}</t>" for n in range(100)])
    assert list(first_sheet_rows(path)) == [(1,)]
    path = workbook(tmp_path / "b.xlsx", ONE_CELL, strings=[f"<t>{n}</t>" for n in range(101)])
    _refused(path, "xl/sharedStrings.xml has more than the 100 strings we read")


def test_what_is_held_at_once_stays_small_whatever_the_sheet_around_the_rows(
    tmp_path: Path,
) -> None:
    """What a sheet may hold by the hundred thousand outside its rows (hyperlinks, merged
    cells), bloated styles (Excel allows 64,000), a row at Excel's last: read, each element
    dropped once read (or the count of elements held would pass MAX_HELD_ELEMENTS)."""
    links = "".join(f'<hyperlink ref="A{n}" r:id="rId{n}"/>' for n in range(1, TOO_MANY + 1))
    sheet = stored(
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><cols>{"<col/>" * 16_384}</cols>'
        f'<sheetData>{ONE_CELL}<row r="1048576"><c r="B1048576"><v>2</v></c></row></sheetData>'
        f"<hyperlinks>{links}</hyperlinks></worksheet>"
    )
    fonts = "<font><b/><sz val='11'/><color theme='1'/><name val='Arial'/></font>" * (
        TOO_MANY // 5 + 1
    )
    xfs = '<xf numFmtId="0"><alignment wrapText="1"/></xf>' * 63_999 + '<xf numFmtId="14"/>'
    styles = stored(
        f'<styleSheet xmlns="{MAIN}"><fonts>{fonts}</fonts><cellXfs>{xfs}</cellXfs></styleSheet>'
    )
    parts = {**workbook_parts(ONE_CELL, styles=""), SHEET: sheet, "xl/styles.xml": styles}
    rows = list(first_sheet_rows(raw_zip(tmp_path / "big.xlsx", parts)))
    assert len(rows) == 1_048_576
    assert rows[0] == (1,) and rows[1] == () and rows[-1] == (None, 2)
