"""What one cell of a dossier export means: the column headers, statuses, dates, phone numbers
and names, as the one-stop systems and the people who fill them in spell them.

Pure functions of a cell's value (str, number, date or None, as CSV or bot/cases/xlsx.py give them).
Words are compared folded (case, diacritics and punctuation ignored, "(...)" dropped), so
"Mã hồ sơ", "MA HO SO" and " Mã HS " all name the code column. A value that is not understood
gives None, or ValueError for dates, and the caller rejects the row with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from bot.models import CaseStatus
from bot.text import fold

_STATUS_ALIASES: Mapping[CaseStatus, tuple[str, ...]] = {
    CaseStatus.RECEIVED: (
        "da tiep nhan", "tiep nhan", "moi tiep nhan", "cho tiep nhan", "da nhan ho so",
        "moi", "received", "new", "submitted",
    ),
    CaseStatus.PROCESSING: (
        "dang xu ly", "dang giai quyet", "dang thu ly", "dang tham dinh", "cho phe duyet",
        "cho ky", "cho ky duyet", "xu ly", "dang xu ly ho so", "processing", "in progress",
        "in process", "under review",
    ),
    CaseStatus.SUPPLEMENT: (
        "cho bo sung", "yeu cau bo sung", "bo sung ho so", "can bo sung", "cho bo sung ho so",
        "da yeu cau bo sung", "bo sung", "supplement", "pending supplement",
        "more documents needed", "awaiting documents",
    ),
    CaseStatus.READY: (
        "da co ket qua", "co ket qua", "cho tra ket qua", "da giai quyet", "hoan thanh",
        "da hoan thanh", "da xu ly xong", "ready", "result ready", "completed", "done",
    ),
    CaseStatus.RETURNED: (
        "da tra ket qua", "tra ket qua", "da tra", "da nhan ket qua", "ket thuc",
        "returned", "delivered", "collected", "closed",
    ),
    CaseStatus.REJECTED: (
        "tu choi", "da tu choi", "tu choi giai quyet", "khong giai quyet", "tra lai ho so",
        "khong du dieu kien", "rejected", "refused", "denied",
    ),
    CaseStatus.WITHDRAWN: (
        "rut ho so", "da rut", "da rut ho so", "cong dan rut ho so", "huy", "da huy",
        "huy ho so", "dung xu ly", "withdrawn", "cancelled", "canceled",
    ),
}  # fmt: skip
_STATUS_EXACT = {alias: status for status, aliases in _STATUS_ALIASES.items() for alias in aliases}
_STATUS_LONGEST = sorted(_STATUS_EXACT, key=len, reverse=True)

# Header aliases, folded (see `fold_key`). The first column matching a field wins.
FIELDS = (
    "code", "procedure", "owner", "phone", "received", "due", "status", "unit", "returned", "note",
)  # fmt: skip
REQUIRED = ("code", "phone", "status")
_HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "code": (
        "ma ho so", "so ho so", "ma hs", "so hs", "ma ho so dien tu", "ma bien nhan",
        "so bien nhan", "ma", "code", "dossier code", "file code", "case code", "case id",
    ),
    "procedure": (
        "thu tuc", "ten thu tuc", "thu tuc hanh chinh", "ten thu tuc hanh chinh", "tthc",
        "ten tthc", "ma thu tuc", "procedure", "procedure name", "topic",
    ),
    "owner": (
        "chu ho so", "nguoi nop", "ten nguoi nop", "nguoi nop ho so", "ho ten", "ho va ten",
        "ten chu ho so", "cong dan", "owner", "applicant", "name", "full name",
    ),
    "phone": (
        "so dien thoai", "dien thoai", "sdt", "so dt", "dt", "so di dong", "dien thoai lien he",
        "so dien thoai lien he", "phone", "phone number", "mobile", "telephone",
    ),
    "received": (
        "ngay tiep nhan", "ngay nhan", "ngay nop", "ngay nhan ho so", "ngay nop ho so",
        "thoi gian tiep nhan", "received", "date received", "received date", "received on",
    ),
    "due": (
        "ngay hen tra", "ngay hen", "hen tra", "ngay hen tra ket qua", "han xu ly",
        "han giai quyet", "han tra ket qua", "due", "due date", "deadline",
    ),
    "status": (
        "trang thai", "tinh trang", "trang thai ho so", "tinh trang ho so", "trang thai xu ly",
        "status",
    ),
    "unit": (
        "don vi", "don vi xu ly", "don vi giai quyet", "co quan", "co quan giai quyet",
        "noi tiep nhan", "noi giai quyet", "xa phuong", "unit", "office", "commune",
    ),
    "returned": (
        "ngay tra ket qua", "ngay tra", "ngay tra kq", "ngay co ket qua", "ngay hoan thanh",
        "ngay ket thuc", "thoi gian tra ket qua", "returned", "date returned", "completed on",
    ),
    "note": (
        "ghi chu", "noi dung bo sung", "yeu cau bo sung", "ly do", "note", "notes", "remarks",
    ),
}  # fmt: skip
_HEADER_INDEX = {alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}
HEADER_LABELS: Mapping[str, str] = {
    "code": "Mã hồ sơ",
    "procedure": "Thủ tục",
    "owner": "Chủ hồ sơ",
    "phone": "Số điện thoại",
    "received": "Ngày tiếp nhận",
    "due": "Ngày hẹn trả",
    "status": "Trạng thái",
    "unit": "Đơn vị",
    "returned": "Ngày trả kết quả",
    "note": "Ghi chú",
}

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PARENS = re.compile(r"\(.*?\)|\[.*?\]")
# A header or a status is a few words. _PARENS rescans to the end of the line from every
# unclosed bracket: a 40,000-character cell of "(" took 20 s per distinct value, 1 ms at 200.
KEY_CHARS = 200
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?"
_DMY = re.compile(rf"^(?:{_TIME}\s+)?(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})(?:[ t,]+{_TIME})?$")
_YMD = re.compile(
    rf"^(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:[ t]{_TIME}(?:z|[+-]\d{{2}}:?\d{{2}})?)?$"
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MASKED = re.compile(r"[*xX•]{2,}")
_PHONE_SPLIT = re.compile(r"[,;/|]|\s-\s")
_NOT_DIGIT = re.compile(r"\D+")


def words_key(text: str) -> str:
    """The folded words of `text`: "Đăng ký (bản sao)" -> "dang ky ban sao"."""
    return " ".join(_NOT_WORD.split(fold(text))).strip()


def fold_key(text: str) -> str:
    """The folded words outside brackets: "Ngày hẹn trả (dd/mm/yyyy)" -> "ngay hen tra".
    Only the first KEY_CHARS characters are read."""
    return words_key(_PARENS.sub(" ", text[:KEY_CHARS]))


def match_headers(headers: Sequence[object]) -> dict[str, int]:
    """field -> column index, for the headers that are understood."""
    columns: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = _HEADER_INDEX.get(fold_key(cell_text(header)))
        if name is not None and name not in columns:
            columns[name] = i
    return columns


def cell_text(value: object) -> str:
    """A cell as stripped text ("" when empty); whole floats and datetimes as they read."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or code cell typed as a number: 912345678.0
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


@lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> dt.date | None:
    """DD/MM/YYYY (also with - or ., and with a time) or ISO YYYY-MM-DD; ValueError if bad."""
    folded = text.strip().lower()
    m = _DMY.match(folded)
    if m:
        day, month, year = (int(g) for g in m.groups())
        return dt.date(year, month, day)
    m = _YMD.match(folded)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return dt.date(year, month, day)
    raise ValueError(text)


def parse_date(value: object) -> dt.date | None:
    """A date from a cell: None when empty; raises ValueError when it is not a date.

    Excel cells come as `datetime` (a date-formatted cell) or as a serial day number (a cell
    left in the General format); text as DD/MM/YYYY or YYYY-MM-DD, a time of day ignored.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # 1954..2119 as Excel serial days
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(str(value))
    return _parse_date_text(str(value))


@lru_cache(maxsize=1024)
def parse_status(text: str) -> CaseStatus | None:
    """The state of a status text ("Đang xử lý", "dang xu ly", "Đã trả kết quả (quá hạn)",
    "Đang xử lý - trễ hạn"): an alias, or an alias followed by more words."""
    key = fold_key(text)
    if not key:
        return None
    exact = _STATUS_EXACT.get(key)
    if exact is not None:
        return exact
    for alias in _STATUS_LONGEST:  # longest first: "da tra ket qua" before "da tra"
        if key.startswith(f"{alias} "):
            return _STATUS_EXACT[alias]
    return None


def phone_last4(value: object) -> str | None:
    """The last 4 digits of the (first) phone number in a cell, None if there is none.

    A number already masked in the export ("091****678") cannot verify anyone: None.
    """
    text = cell_text(value)
    if _MASKED.search(text):
        return None
    first = _PHONE_SPLIT.split(text, maxsplit=1)[0]
    digits = _NOT_DIGIT.sub("", first)
    return digits[-4:] if 8 <= len(digits) <= 15 else None


def mask_name(name: str) -> str:
    """ "Nguyễn Thị Hoa" -> "Nguyễn T. H.": the family name, then initials."""
    words = name.split()
    if not words:
        return ""
    initials = [f"{w[0].upper()}." for w in words[1:]]
    if not initials:
        return f"{words[0][0].upper()}."
    return " ".join([words[0], *initials])
