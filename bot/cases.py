"""Dossier status (issue 4): import the one-stop system's export, look a dossier up for its owner,
tell subscribers when its status changes.

Everything here is pure except the few `async` functions at the end, whose only I/O is the
`Store` they are given (the Store runs the SQL in one transaction per call). The pieces:

- reading: `read_table(path)` turns a CSV (UTF-8 with or without BOM, `,` `;` or tab) or XLSX
  export into numbered rows; `parse_table` finds the header row (names matched case- and
  diacritic-insensitively, with aliases), validates every row on its own and returns the good
  `Case`s and the `Rejected` rows with their line numbers and reasons. A file that cannot be read
  raises `CasesFileError` before anything is written.
- privacy: only what the bot needs is kept: the owner's name masked ("Nguyễn T. H."), the last 4
  digits of the phone number (never the number, never logged).
- lookup: `find_code` spots a dossier code in a message; `digits_match` compares the digits in
  constant time; `lookup` applies the lock policy (5 failed checks per sender and per dossier in
  24 hours) atomically in the Store; every attempt is audited (sender, code, outcome, time).
- replies: `case_replies` and `notice_replies` compose what the citizen reads from bot.yaml.
- notices: `window_open` says whether a platform still lets the bot write to a user.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.answers import HANDOFF, MENU, split_text
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.models import Incoming, Lang, Platform, QuickReply, Reply
from bot.text import fold, raw_tokens

if TYPE_CHECKING:  # runtime imports would be circular: store and dialog import this module
    from bot.dialog import Dialog, Turn
    from bot.store import ImportCounts, Store

CASE_TOPIC = "tra-cuu-ho-so"
SUBSCRIBE = "CASE_SUBSCRIBE"  # payload "CASE_SUBSCRIBE:<code>" of the "notify me" button
MAX_FAILURES = 5  # failed checks per sender and per dossier ...
LOCK_SECONDS = 24 * 3600  # ... within this window, then a lock for as long (issue 4)
MAX_CODE_CHARS = 64
VN_TZ = dt.timezone(dt.timedelta(hours=7))  # dates are Vietnamese office dates (UTC+7)
# How long after the user's last message a platform lets the bot write (platforms.md): Messenger
# 24 h (§2.5; later needs a Utility template, not built), Zalo CS messages 7 days (§3.5). The web
# chat has no window of its own: a session is treated as Messenger. The CLI cannot be reached.
WINDOWS: Mapping[Platform, float] = {
    Platform.FACEBOOK: 24 * 3600,
    Platform.ZALO: 7 * 24 * 3600,
    Platform.WEBCHAT: 24 * 3600,
}


class CaseStatus(StrEnum):
    RECEIVED = "received"  # Đã tiếp nhận
    PROCESSING = "processing"  # Đang xử lý
    SUPPLEMENT = "supplement"  # Chờ bổ sung: the clock waits for the citizen
    READY = "ready"  # Đã có kết quả, waiting to be collected
    RETURNED = "returned"  # Đã trả kết quả
    REJECTED = "rejected"  # Từ chối
    WITHDRAWN = "withdrawn"  # rút hồ sơ / dừng xử lý


# Resolved with a result: these make the on-time rate ("giải quyết trước và đúng hạn").
FINISHED = frozenset({CaseStatus.READY, CaseStatus.RETURNED})
# No deadline runs any more; a subscription ends once told about one of these.
CLOSED = FINISHED | {CaseStatus.REJECTED, CaseStatus.WITHDRAWN}
# Deadline running, on the office's side: the overdue and due-soon lists.
OPEN = frozenset({CaseStatus.RECEIVED, CaseStatus.PROCESSING})

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

# Header aliases, folded (see `_header_key`). The first column matching a field wins.
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
HEADER_SCAN_ROWS = 20  # exports often put a title and blank lines above the header row

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PARENS = re.compile(r"\(.*?\)|\[.*?\]")
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?"
_DMY = re.compile(rf"^(?:{_TIME}\s+)?(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})(?:[ t,]+{_TIME})?$")
_YMD = re.compile(
    rf"^(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:[ t]{_TIME}(?:z|[+-]\d{{2}}:?\d{{2}})?)?$"
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MASKED = re.compile(r"[*xX•]{2,}")
_PHONE_SPLIT = re.compile(r"[,;/|]|\s-\s")
_CODE_TOKEN = re.compile(r"(?<![\w.\-/])([A-Za-z0-9]+(?:[.\-/_][A-Za-z0-9]+){0,8})(?![\w\-])")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_DIGIT_RUN = re.compile(r"\d+")
_NOT_DIGIT = re.compile(r"\D+")
_NOTIFY_PHRASES = (
    "bao cho toi", "bao toi", "bao khi co ket qua", "thong bao cho toi", "nhan thong bao",
    "dang ky thong bao", "notify me", "let me know", "tell me when",
)  # fmt: skip

LookupOutcome = Literal["found", "no_match", "locked"]


class CasesFileError(Exception):
    """The export cannot be read at all (encoding, format, missing key columns): import nothing."""


@dataclass(frozen=True, slots=True)
class Case:
    """One dossier as the bot keeps it: no full name, no phone number (data minimisation)."""

    code: str
    status: CaseStatus
    phone_last4: str
    topic: str | None = None  # knowledge-base topic id, when the procedure was recognised
    procedure: str = ""  # the procedure as exported
    owner_masked: str = ""
    received: dt.date | None = None
    due: dt.date | None = None
    unit: str = ""
    returned: dt.date | None = None  # when the result was returned (or ready), if exported
    note: str = ""  # e.g. what must be supplemented


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Table:
    """The raw rows of an export, each with its line (CSV) or row (XLSX) number."""

    source: str
    rows: Sequence[tuple[int, Sequence[object]]]


@dataclass(frozen=True, slots=True)
class Parsed:
    cases: tuple[Case, ...]
    rejected: tuple[Rejected, ...]
    columns: Mapping[str, str]  # field -> the header it was read from
    header_line: int


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """The dialog asks its caller to check `digits` against dossier `code` (see `lookup`)."""

    code: str
    digits: str = field(repr=False)  # part of the phone number: kept out of logs and reprs


@dataclass(frozen=True, slots=True)
class LookupResult:
    outcome: LookupOutcome
    case: Case | None = None  # only when found


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active subscription as the import sees it, with the user's last inbound message."""

    platform: Platform
    user_id: str
    code: str
    lang: Lang
    last_inbound_at: float | None


# -- reading the export ---------------------------------------------------------------------


def read_table(path: Path | str) -> Table:
    """The rows of a CSV or XLSX export. Raises `CasesFileError` when it cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CasesFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if data[:4] == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or path.suffix.lower() == ".xls":
        raise CasesFileError(
            f"{path.name}: old Excel (.xls) files are not supported; save it as .xlsx or CSV UTF-8"
        )
    return _read_csv(path.name, data)


def _read_csv(name: str, data: bytes) -> Table:
    # Excel's "Unicode Text" is UTF-16 with a BOM (tab-separated); utf-8-sig strips the BOM
    # Excel's "CSV UTF-8" writes, if there is one.
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CasesFileError(
            f"{name}: not UTF-8 text (byte {exc.start}); export the file as CSV UTF-8 or XLSX"
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
        raise CasesFileError(f"{name}: line {first + reader.line_num}: {exc}") from exc
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


def _read_xlsx(path: Path, data: bytes) -> Table:
    from openpyxl import load_workbook  # imported here: only XLSX imports pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CasesFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    try:
        if not book.worksheets:
            raise CasesFileError(f"{path.name}: the workbook has no sheet")
        sheet = book.worksheets[0]
        rows: list[tuple[int, Sequence[object]]] = [
            (n, row) for n, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
        ]
    finally:
        book.close()
    return Table(path.name, rows)


# -- parsing rows ---------------------------------------------------------------------------


def _header_key(header: object) -> str:
    text = _cell_text(header)
    return " ".join(_NOT_WORD.split(fold(_PARENS.sub(" ", text)))).strip()


def match_headers(headers: Sequence[object]) -> dict[str, int]:
    """field -> column index, for the headers that are understood."""
    columns: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = _HEADER_INDEX.get(_header_key(header))
        if name is not None and name not in columns:
            columns[name] = i
    return columns


def _cell_text(value: object) -> str:
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
    key = " ".join(_NOT_WORD.split(fold(_PARENS.sub(" ", text)))).strip()
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
    text = _cell_text(value)
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


def normalise_code(text: str) -> str:
    """Codes compare without spaces and case: " h56-250701-0001 " is "H56-250701-0001"."""
    return "".join(text.split()).upper()


class TopicResolver:
    """Maps the export's "Thủ tục" cell (a topic id, a procedure name or a procedure code such
    as "1.001193.H36") to a knowledge-base topic id; with a matcher, names that are only close
    are matched too. Each distinct cell is resolved once. `matcher` may be a function that builds
    one: it is called only if some cell needs it (building an index takes a while)."""

    def __init__(
        self, kb: KnowledgeBase | None, matcher: Matcher | Callable[[], Matcher] | None = None
    ) -> None:
        self._matcher = matcher
        self.kb = kb
        self._index: dict[str, str] = {}
        self._cache: dict[str, str | None] = {}
        for topic in kb.topics.values() if kb else ():
            if topic.kind not in ("procedure", "referral"):
                continue
            keys = [topic.id, topic.id.replace("-", " "), topic.name.vi, topic.name.en]
            if topic.code:
                keys.append(topic.code)
            for key in keys:
                self._index.setdefault(self._key(key), topic.id)

    @staticmethod
    def _key(text: str) -> str:
        key = " ".join(_NOT_WORD.split(fold(text))).strip()
        for prefix in ("thu tuc ", "tthc "):
            key = key.removeprefix(prefix)
        return key

    def __call__(self, cell: str) -> str | None:
        if cell in self._cache:
            return self._cache[cell]
        found = self._resolve(cell)
        self._cache[cell] = found
        return found

    def _resolve(self, cell: str) -> str | None:
        if not cell.strip():
            return None
        code = re.match(r"^\s*(\d\.\d{6})", cell)  # "1.001193.H36", "1.000894.01"
        if code and self._key(code.group(1)) in self._index:
            return self._index[self._key(code.group(1))]
        key = self._key(cell)
        if key in self._index:
            return self._index[key]
        if self._matcher is not None and self.kb is not None:
            if not isinstance(self._matcher, Matcher):
                self._matcher = self._matcher()
            match = self._matcher.match(cell)
            topic = self.kb.topics.get(match.topic or "")
            if match.decision == "accept" and topic and topic.kind in ("procedure", "referral"):
                return topic.id
        return None


def parse_table(
    table: Table,
    topics: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Parsed:
    """Validate every row of `table` on its own: good rows become `Case`s, the others are
    `Rejected` with their line and reason. Raises `CasesFileError` when no header row with the
    key columns (code, phone, status) is found. `progress(n)` is told of every n rows done."""
    header_at, columns = find_header(table)
    index = [columns.get(name, -1) for name in FIELDS]
    resolve = topics or (lambda cell: None)
    cases: list[Case] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    done = 0
    rows = table.rows
    for line, cells in rows[header_at + 1 :]:
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(1000)
        if _blank(cells):
            continue  # blank lines, Excel's trailing empty rows
        result = _parse_row(cells, index, resolve)
        if isinstance(result, str):
            i = columns["code"]
            code = _cell_text(cells[i] if i < len(cells) else None)[:MAX_CODE_CHARS]
            rejected.append(Rejected(line, code, result))
            continue
        first = seen.get(result.code)
        if first is not None:
            rejected.append(Rejected(line, result.code, f"duplicate code, first on line {first}"))
            continue
        seen[result.code] = line
        cases.append(result)
    if progress is not None and done % 1000:
        progress(done % 1000)
    found = {name: _cell_text(rows[header_at][1][i]) for name, i in columns.items()}
    return Parsed(tuple(cases), tuple(rejected), found, rows[header_at][0] if rows else 0)


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
    if not table.rows or not any(any(_cell_text(c) for c in row) for _, row in table.rows):
        raise CasesFileError(f"{table.source}: the file is empty")
    missing = ", ".join(HEADER_LABELS[name] for name in REQUIRED if name not in best)
    raise CasesFileError(
        f"{table.source}: no header row with the key columns; missing: {missing}"
        " (headers are matched without case or accents: 'Mã hồ sơ' = 'MA HO SO')"
    )


def _blank(cells: Sequence[object]) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if type(cell) is not str or cell.strip():
            return False
    return True


def _parse_row(
    cells: Sequence[object], index: Sequence[int], topics: Callable[[str], str | None]
) -> Case | str:
    """A Case, or the reason(s) the row is rejected. `index` holds the column of each of
    FIELDS (-1 when the export has none): the hot loop of a 100,000-row import."""
    n = len(cells)
    (
        code_v,
        procedure_v,
        owner_v,
        phone_v,
        received_v,
        due_v,
        status_v,
        unit_v,
        returned_v,
        note_v,
    ) = (cells[i] if 0 <= i < n else None for i in index)
    problems: list[str] = []
    code = normalise_code(_cell_text(code_v))
    if not code:
        problems.append("no dossier code")
    elif len(code) > MAX_CODE_CHARS:
        problems.append(f"dossier code longer than {MAX_CODE_CHARS} characters")
    status_text = _cell_text(status_v)
    status = parse_status(status_text) if status_text else None
    if not status_text:
        problems.append("no status")
    elif status is None:
        problems.append(f"unknown status {status_text!r}")
    last4 = phone_last4(phone_v)
    if last4 is None:
        problems.append("no usable phone number (needs 8 to 15 digits, not masked)")
    dates: list[dt.date | None] = []
    for name, value in (("received", received_v), ("due", due_v), ("returned", returned_v)):
        try:
            dates.append(parse_date(value.strip() if type(value) is str else value))
        except ValueError:
            dates.append(None)
            label = HEADER_LABELS[name]
            problems.append(f"{label}: not a date {_cell_text(value)!r} (DD/MM/YYYY or ISO)")
    received, due, returned = dates
    if received and due and due < received:
        problems.append("Ngày hẹn trả is before Ngày tiếp nhận")
    if problems or status is None or last4 is None:
        return "; ".join(problems)
    procedure = _cell_text(procedure_v)
    return Case(
        code=code,
        status=status,
        phone_last4=last4,
        topic=topics(procedure) if procedure else None,
        procedure=procedure[:300],
        owner_masked=mask_name(_cell_text(owner_v)),
        received=received,
        due=due,
        unit=_cell_text(unit_v)[:200],
        returned=returned,
        note=_cell_text(note_v)[:500],
    )


# -- finding a code in a message --------------------------------------------------------------


def _looks_like_phone_or_date(token: str) -> bool:
    if _DATE_LIKE.match(token):
        return True
    digits = "".join(ch for ch in token if ch.isdigit())
    only_digits = all(ch.isdigit() or ch in ".-/ " for ch in token)
    return only_digits and 9 <= len(digits) <= 12 and digits.startswith(("0", "84"))


def find_code(text: str, relaxed: bool = False) -> str | None:
    """A dossier code in `text`, normalised, or None.

    Codes are not validated strictly (procedures-facts §11: the provincial format is unknown;
    iGate-style "000.00.20.H56-250701-0001"). A token counts when it has a dash, at least 4
    digits and 6 to 64 characters, and is not a date or a phone number. `relaxed` (the bot has
    just asked for a code) also takes a dashless token of 6 or more characters with at least 3
    digits, in a short message.
    """
    short = len(raw_tokens(text)) <= 10
    for m in _CODE_TOKEN.finditer(text):
        token = m.group(1)
        digits = sum(ch.isdigit() for ch in token)
        if not 4 <= len(token) <= MAX_CODE_CHARS or _looks_like_phone_or_date(token):
            continue
        if "-" in token and digits >= 4 and len(token) >= 6:
            return normalise_code(token)
        if relaxed and short and digits >= 3 and len(token) >= 6:
            return normalise_code(token)
    return None


def find_digits(text: str) -> str | None:
    """The 4 digits a citizen sent ("5678", "5 6 7 8", "số cuối là 5678"), or the last 4 of a
    whole phone number; None when the message holds no such thing."""
    runs = _DIGIT_RUN.findall(text)
    if not runs:
        return None
    joined = "".join(runs)
    only_digits = all(ch.isdigit() or ch in " .-" for ch in text.strip())
    if only_digits and (len(joined) == 4 or 9 <= len(joined) <= 12):
        return joined[-4:]
    fours = [r for r in runs if len(r) == 4]
    return fours[0] if len(fours) == 1 and len(runs) == 1 else None


def wants_notice(text: str) -> bool:
    """ "Báo cho tôi khi có kết quả", "notify me"."""
    key = " ".join(raw_tokens(text))
    return any(phrase in key for phrase in _NOTIFY_PHRASES)


def digits_match(case: Case | None, digits: str) -> bool:
    """Whether `digits` are the last 4 of the dossier's phone; constant time when it exists."""
    if case is None or len(digits) != 4:
        return False
    return hmac.compare_digest(case.phone_last4.encode(), digits.encode())


def window_open(platform: Platform, last_inbound_at: float | None, now: float) -> bool:
    """Whether the platform still lets the bot write to a user who last wrote at
    `last_inbound_at` (platforms.md §2.5 Messenger 24 h, §3.5 Zalo 7 days)."""
    window = WINDOWS.get(platform)
    if window is None or last_inbound_at is None:
        return False
    return now - last_inbound_at <= window


# -- what the citizen reads --------------------------------------------------------------------


def today_of(now_ms: int | float, ms: bool = True) -> dt.date:
    """The office date (UTC+7) at a timestamp (milliseconds, or seconds with ms=False)."""
    seconds = now_ms / 1000 if ms else now_ms
    return dt.datetime.fromtimestamp(seconds, VN_TZ).date()


def format_date(day: dt.date | None) -> str | None:
    return None if day is None else day.strftime("%d/%m/%Y")


def procedure_name(kb: KnowledgeBase, case: Case, lang: Lang) -> str:
    topic = kb.topics.get(case.topic or "")
    return topic.name.get(lang) if topic else case.procedure


def days_late(case: Case, today: dt.date) -> int | None:
    """How many days after its due date a finished dossier was resolved (0: on time), or None
    when that cannot be told. A dossier ready today with no date exported was ready by today,
    so it is on time if today is not past the due date."""
    if case.status not in FINISHED or case.due is None:
        return None
    if case.returned is not None:
        return max(0, (case.returned - case.due).days)
    if case.status is CaseStatus.READY and today <= case.due:
        return 0
    return None


def _timing(t: Callable[[str], str], case: Case, today: dt.date) -> str | None:
    if case.due is None or case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        return None
    if case.status in FINISHED:
        late = days_late(case, today)
        if late is None:
            return None
        return t("case_done_late").format(days=late) if late else t("case_done_on_time")
    if case.status is CaseStatus.SUPPLEMENT:
        return None  # the time limit waits for the papers
    if today < case.due:
        return t("case_in_time").format(days=(case.due - today).days)
    if today == case.due:
        return t("case_due_today")
    return t("case_late").format(days=(today - case.due).days)


def _next_step(t: Callable[[str], str], case: Case) -> str | None:
    unit = case.unit or t("case_where_filed")
    if case.status is CaseStatus.SUPPLEMENT:
        if case.note:
            return t("case_next_supplement").format(note=case.note.rstrip(". "), unit=unit)
        return t("case_next_supplement_ask").format(unit=unit)
    if case.status is CaseStatus.READY:
        return t("case_next_ready").format(unit=unit)
    if case.status is CaseStatus.RETURNED:
        returned = format_date(case.returned)
        return t("case_next_returned").format(date=returned) if returned else None
    if case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        return t("case_next_rejected").format(unit=unit)
    return t("case_next_wait")


def case_text(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> str:
    """The dossier's status in plain words. The phone number never appears; the name masked."""

    def t(key: str) -> str:
        return kb.texts.get(key, lang)

    unknown = t("case_unknown")
    details = t("case_details").format(
        code=case.code,
        owner=case.owner_masked or unknown,
        procedure=procedure_name(kb, case, lang) or unknown,
        status=t(f"case_status_{case.status.value}"),
        received=format_date(case.received) or unknown,
        due=format_date(case.due) or unknown,
    )
    blocks = [details]
    timing = _timing(t, case, today)
    if timing:
        blocks.append(timing)
    step = _next_step(t, case)
    if step:
        blocks.append(step)
    if case.note and case.status is not CaseStatus.SUPPLEMENT:
        blocks.append(t("case_note").format(note=case.note))
    return "\n\n".join(blocks)


def _common(kb: KnowledgeBase, lang: Lang) -> list[QuickReply]:
    return [
        QuickReply(kb.texts.get("menu_button", lang), MENU),
        QuickReply(kb.texts.get("staff_button", lang), HANDOFF),
    ]


def replies(
    kb: KnowledgeBase, text: str, lang: Lang, quick: Sequence[QuickReply] = ()
) -> list[Reply]:
    """`text` split to the platforms' limit, the quick replies (then menu, staff) on the last."""
    parts = split_text(text)
    out = [Reply(p) for p in parts[:-1]]
    out.append(Reply(parts[-1], (*quick, *_common(kb, lang))))
    return out


def case_replies(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> list[Reply]:
    """The answer to a verified lookup, offering "notify me" while the dossier is open."""
    text = case_text(kb, case, lang, today)
    quick: list[QuickReply] = []
    if case.status not in CLOSED:
        text = f"{text}\n\n{kb.texts.get('case_subscribe_offer', lang)}"
        button = kb.texts.get("case_subscribe_button", lang)
        quick.append(QuickReply(button, f"{SUBSCRIBE}:{case.code}"))
    return replies(kb, text, lang, quick)


def notice_replies(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> list[Reply]:
    """The update sent to a subscriber when a re-import changed the dossier's status."""
    header = kb.texts.get("case_notice", lang).format(code=case.code)
    return replies(kb, f"{header}\n\n{case_text(kb, case, lang, today)}", lang)


# -- I/O through the Store ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportSummary:
    source: str
    counts: ImportCounts
    rejected: tuple[Rejected, ...]


def notifier(
    kb: KnowledgeBase,
) -> Callable[[Subscriber, Case, float], list[Reply] | str]:
    """What the import does for each subscriber of a changed dossier: the replies to queue, or
    the reason it cannot be delivered (the platform's messaging window is closed)."""

    def notify(sub: Subscriber, case: Case, now: float) -> list[Reply] | str:
        if not window_open(sub.platform, sub.last_inbound_at, now):
            return f"{sub.platform.value} messaging window closed"
        return notice_replies(kb, case, sub.lang, today_of(now, ms=False))

    return notify


async def import_parsed(
    store: Store, parsed: Parsed, kb: KnowledgeBase, source: str = ""
) -> ImportSummary:
    """Upsert the parsed dossiers in ONE transaction, record status changes and notify."""
    counts = await store.import_cases(
        parsed.cases, notifier(kb), source=source, rejected=len(parsed.rejected)
    )
    return ImportSummary(source, counts, parsed.rejected)


async def import_file(
    store: Store,
    path: Path | str,
    kb: KnowledgeBase,
    matcher: Matcher | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, validate and import an export. `CasesFileError` (nothing written) if unreadable."""
    table = read_table(path)
    parsed = parse_table(table, TopicResolver(kb, matcher), progress)
    return await import_parsed(store, parsed, kb, table.source)


async def lookup(
    store: Store, platform: Platform, user_id: str, request: LookupRequest
) -> LookupResult:
    """Check the digits against the dossier, under the lock policy, audited (see Store)."""
    outcome, case = await store.lookup_case(
        platform,
        user_id,
        normalise_code(request.code),
        request.digits,
        max_failures=MAX_FAILURES,
        window_seconds=LOCK_SECONDS,
    )
    return LookupResult(outcome, case)


async def resolve_turn(
    store: Store, dialog: Dialog, msg: Incoming, turn: Turn, now_ms: int
) -> Turn:
    """Carry out what a turn asked of the store (a lookup, a subscription) and return the turn
    the citizen gets. The dialog stays pure; this is the one place its requests meet I/O."""
    if turn.lookup is not None:
        result = await lookup(store, msg.platform, msg.user_id, turn.lookup)
        turn = dialog.resolve_lookup(turn, result, now_ms)
    if turn.subscribe is not None:
        await store.subscribe(msg.platform, msg.user_id, turn.subscribe, turn.state.lang)
    return turn
