"""Builders for the dossier tests: export rows and files, cases, dialog turns; each with
defaults and keyword overrides (style.md §13), so a test names only what it is about."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.bundle import Bundle
from bot.cases.dates import today_of
from bot.cases.parse import Parsed, parse_table
from bot.cases.table import read_table
from bot.cases.topics import TopicResolver
from bot.dialog import Turn
from bot.models import Case, CaseStatus, EventKind, Incoming, Platform, State

WEB = Platform.WEBCHAT

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


# The Case `row()` becomes: only what the bot needs, the name masked, the phone's last 4 digits.
ROW_CASE = Case(
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


def parse(path: Path, bundle: Bundle | None = None) -> Parsed:
    resolver = TopicResolver(bundle.kb, bundle.matcher) if bundle else None
    return parse_table(read_table(path), resolver)


def vn_today() -> dt.date:
    return today_of(time.time(), ms=False)


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


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


T0 = 1_751_600_000_000  # 04/07/2025 10:33 in Viet Nam


def say(
    bundle: Bundle, state: State | None, text: str = "", payload: str | None = None, at: int = T0
) -> Turn:
    """The turn the dialog gives one web chat message (a button press with `payload`)."""
    kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
    return bundle.dialog.handle(state, Incoming(WEB, "u1", f"m{at}", kind, text, payload), at)


def sample(**changes: Any) -> Case:
    """A dossier as the lookup finds it: `ROW_CASE`, due on 08/07/2025, with `changes`."""
    return dataclasses.replace(ROW_CASE, **{"due": dt.date(2025, 7, 8), **changes})
