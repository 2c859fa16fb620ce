"""What one cell of a dossier export means (bot/cases/fields.py): dates, statuses, owner names,
phone numbers, in the spellings the exports and their clerks use."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.cases.fields import mask_name, parse_date, parse_status, phone_last4
from bot.models import CaseStatus


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
