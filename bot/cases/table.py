"""Reading a dossier export: a CSV or XLSX file into numbered rows, and finding its header row.

`read_table(path)` takes what the one-stop systems and Excel write: CSV as UTF-8 (with or
without a BOM) or Excel's UTF-16 "Unicode Text", separated by `,` `;` or tab (sniffed, or
Excel's "sep=" line), or the first sheet of an XLSX workbook (read by bot/cases/xlsx.py). Each row
keeps its line (CSV) or row (XLSX) number for the rejection report. `find_header` finds the
header row among the first rows. A file that cannot be read, or is larger than MAX_FILE_BYTES,
raises `CasesFileError` before anything is written; this is the only module of the import that
touches the file system.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.cases import xlsx
from bot.cases.fields import HEADER_LABELS, REQUIRED, cell_text, match_headers

HEADER_SCAN_ROWS = 20  # exports often put a title and blank lines above the header row
# The largest export read, CSV or XLSX: the whole file is read into memory. 100,000 dossiers are
# 15 MB as CSV and 7 MB as XLSX (bench/xlsx_read.py); an XLSX file also has to unpack within
# bot/cases/xlsx.py's limits.
MAX_FILE_BYTES = 50_000_000


class CasesFileError(Exception):
    """The export cannot be read at all (encoding, format, missing key columns): import nothing.
    The message is English, for the command line; `vi` says the same in Vietnamese for the
    staff dashboard."""

    def __init__(self, message: str, vi: str) -> None:
        super().__init__(message)
        self.vi = vi


@dataclass(frozen=True, slots=True)
class Table:
    """The raw rows of an export, each with its line (CSV) or row (XLSX) number."""

    source: str
    rows: Sequence[tuple[int, Sequence[object]]]


def read_table(path: Path | str) -> Table:
    """The rows of a CSV or XLSX export. Raises `CasesFileError` when it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size <= MAX_FILE_BYTES:
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)  # a pipe, or a file still growing
            size = len(data)
    except OSError as exc:
        raise CasesFileError(
            f"cannot read {path}: {exc.strerror or exc}", f"không mở được tệp {path.name}"
        ) from exc
    if size > MAX_FILE_BYTES:
        raise CasesFileError(
            f"{path.name}: the file is {size / 1e6:,.0f} MB, more than the"
            f" {MAX_FILE_BYTES / 1e6:,.0f} MB an export may be",
            f"{path.name}: tệp nặng {size / 1e6:,.0f} MB, quá giới hạn"
            f" {MAX_FILE_BYTES / 1e6:,.0f} MB",
        )
    return table_of(path.name, data)


def table_of(name: str, data: bytes) -> Table:
    """The rows of a file's content (`name` gives its type by its suffix, and the reports
    their source): as `read_table`, for a file uploaded to the dashboard."""
    suffix = Path(name).suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(name, data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or suffix == ".xls":
        raise CasesFileError(
            f"{name}: old Excel (.xls) files are not supported; save it as .xlsx or CSV UTF-8",
            f"{name}: tệp Excel đời cũ (.xls) không đọc được; Anh/chị vui lòng lưu lại dưới"
            " dạng .xlsx hoặc CSV UTF-8",
        )
    return _read_csv(name, data)


def _read_csv(name: str, data: bytes) -> Table:
    # Excel's "Unicode Text" is UTF-16 with a BOM (tab-separated); utf-8-sig strips the BOM
    # Excel's "CSV UTF-8" writes, if there is one.
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CasesFileError(
            f"{name}: not UTF-8 text (byte {exc.start}); export the file as CSV UTF-8 or XLSX",
            f"{name}: tệp không phải văn bản UTF-8; Anh/chị vui lòng xuất lại dưới dạng"
            " CSV UTF-8 hoặc XLSX",
        ) from exc
    lines = text.splitlines(keepends=True)
    first = 0
    delimiter: str | None = None
    if lines and lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5:
        delimiter, first = lines[0].strip()[4], 1  # Excel's "sep=;" hint line
    body = "".join(lines[first:])
    if delimiter is None:
        delimiter = _sniff_delimiter(lines[first : first + HEADER_SCAN_ROWS])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    rows: list[tuple[int, Sequence[object]]] = []
    start = first + 1
    try:
        for row in reader:
            rows.append((start, row))
            start = first + reader.line_num + 1
    except csv.Error as exc:
        line = first + reader.line_num
        raise CasesFileError(
            f"{name}: line {line}: {exc}",
            f"{name}: dòng {line} sai định dạng CSV (ví dụ dấu ngoặc kép không đóng)",
        ) from exc
    return Table(name, rows)


def _sniff_delimiter(lines: Sequence[str]) -> str:
    """`,` `;` or tab: the one that splits some line into the most known headers; failing that,
    the most frequent outside quotes (a note full of commas must not fool it)."""
    best, best_headers, best_count = ",", 0, 0
    for candidate in (",", ";", "\t"):
        for line in lines:
            cells = next(csv.reader([line], delimiter=candidate), [])
            headers = len(match_headers(cells))
            count = re.sub(r'"[^"]*"', "", line).count(candidate)
            if (headers, count) > (best_headers, best_count):
                best, best_headers, best_count = candidate, headers, count
    return best


def _read_xlsx(name: str, data: bytes) -> Table:
    try:
        rows: list[tuple[int, Sequence[object]]] = list(
            enumerate(xlsx.first_sheet_rows(io.BytesIO(data)), 1)
        )
    except xlsx.XlsxError as exc:
        raise CasesFileError(
            f"{name}: not a readable XLSX workbook ({exc})",
            f"{name}: không đọc được tệp XLSX (tệp hỏng hoặc không phải bảng tính Excel)",
        ) from exc
    return Table(name, rows)


def find_header(table: Table) -> tuple[int, dict[str, int]]:
    """The index of the header row among the first rows and its columns (field -> index);
    `CasesFileError` when no row has the key columns."""
    best: dict[str, int] = {}
    for i, (_, cells) in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        columns = match_headers(cells)
        if all(name in columns for name in REQUIRED):
            return i, columns
        if len(columns) > len(best):
            best = columns
    if not table.rows or not any(any(cell_text(c) for c in row) for _, row in table.rows):
        raise CasesFileError(f"{table.source}: the file is empty", f"{table.source}: tệp trống")
    missing = ", ".join(HEADER_LABELS[name] for name in REQUIRED if name not in best)
    raise CasesFileError(
        f"{table.source}: no header row with the key columns; missing: {missing}"
        " (headers are matched without case or accents: 'Mã hồ sơ' = 'MA HO SO')",
        f"{table.source}: không tìm thấy dòng tiêu đề có đủ các cột bắt buộc; còn thiếu:"
        f" {missing} (tiêu đề không phân biệt hoa thường, có dấu hay không dấu)",
    )
