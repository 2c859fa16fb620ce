"""The clerk registry file: rows of a CSV or XLSX file into clerks, and rejected rows with why.

The header row is `Họ và tên, Xã/phường, Nền tảng, ID người dùng, Số điện thoại`, matched as the
dossier import matches its headers (bot/cases/fields.py: case, accents, punctuation and "(...)"
ignored; it may sit below a title). The file is read by bot/cases/table.py, so CSV UTF-8 (with
or without BOM, `,` `;` or tab) and XLSX work as for dossiers. A bad row is reported by its
line with the reason(s) and the good rows are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.cases.fields import cell_text, fold_key
from bot.cases.table import HEADER_SCAN_ROWS, CasesFileError, Table
from bot.clerks.communes import Communes, UnknownCommuneError
from bot.models import Platform
from bot.models.clerks import Clerk

MAX_NAME_CHARS = 100
FIELDS = ("name", "commune", "platform", "user_id", "phone")
REQUIRED = ("name", "commune", "platform", "user_id")
HEADER_LABELS: Mapping[str, str] = {
    "name": "Họ và tên",
    "commune": "Xã/phường",
    "platform": "Nền tảng",
    "user_id": "ID người dùng",
    "phone": "Số điện thoại",
}
_HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "name": ("ho va ten", "ho ten", "ten", "ten can bo", "can bo", "name", "full name"),
    "commune": (
        "xa phuong", "xa", "phuong", "xa phuong thi tran", "don vi", "ten xa phuong",
        "commune", "ward", "commune ward",
    ),
    "platform": ("nen tang", "kenh", "kenh lien lac", "ung dung", "platform", "channel"),
    "user_id": (
        "id nguoi dung", "id", "ma nguoi dung", "user id", "id zalo", "zalo id", "psid",
        "id tai khoan", "user",
    ),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "phone", "phone number", "mobile"),
}  # fmt: skip
_HEADER_INDEX = {alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}
_PLATFORMS: Mapping[str, Platform] = {
    "zalo": Platform.ZALO,
    "zalo oa": Platform.ZALO,
    "facebook": Platform.FACEBOOK,
    "messenger": Platform.FACEBOOK,
    "fb": Platform.FACEBOOK,
    "facebook messenger": Platform.FACEBOOK,
}
_USER_ID = re.compile(r"\d{5,40}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_PHONE = re.compile(r"\+?\d{8,15}")
# An id typed into Excel as a number keeps only 15 significant digits: Zalo ids have 18-19.
_FLOAT_DIGITS = 1e15


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a row or a form is refused: in English for the command line, in Vietnamese for
    the dashboard. `str()` is the English."""

    en: str
    vi: str

    def __str__(self) -> str:
        return self.en


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row left out, with its line (CSV) or row (XLSX) number and the reason(s)."""

    line: int
    refusal: Refusal

    @property
    def reason(self) -> str:
        return self.refusal.en

    @property
    def reason_vi(self) -> str:
        return self.refusal.vi


@dataclass(frozen=True, slots=True)
class ParsedClerks:
    source: str
    clerks: tuple[Clerk, ...]
    rejected: tuple[BadRow, ...]


def match_headers(cells: Sequence[object]) -> dict[str, int]:
    """field -> column index, for the headers that are understood."""
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = _HEADER_INDEX.get(fold_key(cell_text(cell)))
        if name is not None and name not in columns:
            columns[name] = i
    return columns


def find_header(table: Table) -> tuple[int, dict[str, int]]:
    """The header row's index among the first rows and its columns; `CasesFileError` if none
    has the key columns."""
    best: dict[str, int] = {}
    for i, (_, cells) in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        columns = match_headers(cells)
        if all(name in columns for name in REQUIRED):
            return i, columns
        if len(columns) > len(best):
            best = columns
    missing = ", ".join(HEADER_LABELS[n] for n in REQUIRED if n not in best)
    headers = ", ".join(HEADER_LABELS.values())
    raise CasesFileError(
        f"{table.source}: no header row with the columns {headers}; missing: {missing}",
        f"{table.source}: không tìm thấy dòng tiêu đề gồm các cột {headers}; còn thiếu: {missing}",
    )


def parse_platform(text: str) -> Platform | None:
    return _PLATFORMS.get(fold_key(text))


def parse_clerks(table: Table, communes: Communes) -> ParsedClerks:
    """The clerks of a registry file and its rejected rows. A clerk (platform and user id)
    listed twice is kept at its first line."""
    header_at, columns = find_header(table)
    clerks: list[Clerk] = []
    rejected: list[BadRow] = []
    seen: dict[tuple[Platform, str], int] = {}
    for line, cells in table.rows[header_at + 1 :]:
        values = {
            name: cells[i] if i < len(cells) else None
            for name, i in columns.items()
            if name in FIELDS
        }
        if not any(cell_text(v) for v in values.values()):
            continue  # blank lines, Excel's trailing rows
        result = parse_row(values, communes)
        if isinstance(result, Refusal):
            rejected.append(BadRow(line, result))
            continue
        key = (result.platform, result.user_id)
        if key in seen:
            first = seen[key]
            same = Refusal(f"the same clerk as line {first}", f"trùng cán bộ ở dòng {first}")
            rejected.append(BadRow(line, same))
            continue
        seen[key] = line
        clerks.append(result)
    return ParsedClerks(table.source, tuple(clerks), tuple(rejected))


def unknown_commune(exc: UnknownCommuneError) -> Refusal:
    """An unknown commune, with the closest names (as the command line says it)."""
    closest = ", ".join(exc.closest)
    hint = f"; gần nhất: {closest}" if closest else ""
    return Refusal(str(exc), f"không có xã/phường «{exc.name}» trong danh sách{hint}")


def parse_row(values: Mapping[str, object], communes: Communes) -> Clerk | Refusal:
    """A clerk from one row's cells (by field), or the reason(s) it is refused."""
    problems: list[Refusal] = []
    name = " ".join(cell_text(values.get("name")).split())
    if not name:
        problems.append(Refusal("no name (Họ và tên)", "thiếu Họ và tên"))
    elif len(name) > MAX_NAME_CHARS:
        problems.append(
            Refusal(
                f"name longer than {MAX_NAME_CHARS} characters",
                f"Họ và tên dài quá {MAX_NAME_CHARS} ký tự",
            )
        )
    commune_text = cell_text(values.get("commune"))
    commune = ""
    if not commune_text:
        problems.append(Refusal("no commune (Xã/phường)", "thiếu Xã/phường"))
    else:
        try:
            commune = communes.find(commune_text).code
        except UnknownCommuneError as exc:
            problems.append(unknown_commune(exc))
    platform_text = cell_text(values.get("platform"))
    platform = parse_platform(platform_text)
    if platform is None:
        problems.append(
            Refusal(
                f"platform (Nền tảng) must be zalo or facebook, not {platform_text!r}",
                f"Nền tảng phải là zalo hoặc facebook, không phải «{platform_text}»",
            )
        )
    user_id, problem = check_user_id(values.get("user_id"))
    if problem:
        problems.append(problem)
    phone, problem = check_phone(values.get("phone"))
    if problem:
        problems.append(problem)
    if problems or platform is None:
        return Refusal("; ".join(p.en for p in problems), "; ".join(p.vi for p in problems))
    return Clerk(name=name, commune=commune, platform=platform, user_id=user_id, phone=phone)


def check_user_id(value: object) -> tuple[str, Refusal | None]:
    """The platform user id, or why it is refused."""
    if isinstance(value, float) and abs(value) >= _FLOAT_DIGITS:
        return "", Refusal(
            "ID người dùng was typed as a number and lost digits: format it as Text",
            "ID người dùng bị Excel lưu dạng số và mất chữ số: định dạng cột là Văn bản (Text)",
        )
    text = cell_text(value)
    if not text:
        return "", Refusal("no user id (ID người dùng)", "thiếu ID người dùng")
    if not _USER_ID.fullmatch(text):
        return "", Refusal(
            f"user id (ID người dùng) must be the platform's digits, not {text!r}",
            f"ID người dùng phải là dãy số của nền tảng, không phải «{text}»",
        )
    return text, None


def check_phone(value: object) -> tuple[str, Refusal | None]:
    """The phone number (optional) without separators, or why it is refused."""
    text = cell_text(value)
    if not text:
        return "", None
    digits = _PHONE_SEPARATORS.sub("", text)
    if not _PHONE.fullmatch(digits):
        return "", Refusal(
            f"phone (Số điện thoại) is not a phone number: {text!r}",
            f"Số điện thoại không hợp lệ: «{text}»",
        )
    return digits, None
