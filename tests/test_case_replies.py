"""What the citizen reads about a dossier (bot/cases/replies.py), in Vietnamese and English."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.bundle import Bundle
from bot.cases.replies import case_text
from bot.knowledge import BOT_TEXTS
from bot.models import CaseStatus
from tests.case_builders import (
    sample,
)


def test_every_status_has_its_words_in_both_languages(bundle: Bundle) -> None:
    for status in CaseStatus:
        assert f"case_status_{status.value}" in BOT_TEXTS
        assert bundle.kb.texts.get(f"case_status_{status.value}", "en")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"due": dt.date(2025, 7, 4)}, "Hôm nay là ngày hẹn trả kết quả."),
        ({"due": dt.date(2025, 7, 2)},
         "Hồ sơ đã quá hạn 2 ngày làm việc so với ngày hẹn trả 02/07/2025."),
        ({"status": CaseStatus.SUPPLEMENT, "note": "Bản sao CCCD."},
         "Cần bổ sung: Bản sao CCCD. Anh/chị vui lòng nộp bổ sung tại UBND xã Minh Xuân."),
        ({"status": CaseStatus.SUPPLEMENT, "unit": ""},
         "Anh/chị vui lòng liên hệ nơi đã nộp hồ sơ để biết giấy tờ cần bổ sung."),
        ({"status": CaseStatus.READY},
         "Mời Anh/chị nhận kết quả tại UBND xã Minh Xuân"),
        ({"status": CaseStatus.RETURNED, "returned": dt.date(2025, 7, 3)},
         "Hồ sơ đã được giải quyết đúng hạn (hẹn trả ngày 08/07/2025).\n\n"
         "Kết quả đã được trả ngày 03/07/2025."),
        ({"status": CaseStatus.RETURNED, "returned": dt.date(2025, 7, 10)},
         "trễ 2 ngày làm việc so với ngày hẹn trả 08/07/2025"),
        ({"status": CaseStatus.REJECTED, "note": "Không đủ điều kiện"},
         "Ghi chú: Không đủ điều kiện"),
        ({"topic": None, "procedure": "Cấp phép X", "received": None},
         "Thủ tục: Cấp phép X\nTình trạng: Đang được giải quyết\nNgày tiếp nhận: chưa có thông tin"),
    ],
)  # fmt: skip
def test_status_texts(bundle: Bundle, changes: dict[str, Any], expected: str) -> None:
    text = case_text(bundle.kb, sample(**changes), "vi", dt.date(2025, 7, 4))
    assert expected in text


def test_status_in_english(bundle: Bundle) -> None:
    text = case_text(bundle.kb, sample(status=CaseStatus.READY), "en", dt.date(2025, 7, 4))
    assert "Procedure: Birth registration" in text
    assert "Status: The result is ready for collection" in text
    assert "Due: 08/07/2025" in text and "completed on time" in text


# On time or late in working days: weekends and public holidays (Tết, Quốc khánh) skipped.
@pytest.mark.parametrize(
    ("changes", "today", "expected"),
    [
        # Friday before Tết Bính Ngọ (16-20/02/2026): due Tuesday after it, 2 working days left.
        ({"due": dt.date(2026, 2, 24)}, dt.date(2026, 2, 13),
         "Hồ sơ đang trong hạn giải quyết (hẹn trả ngày 24/02/2026, còn 2 ngày làm việc)."),
        # Friday, due Monday: the weekend does not count.
        ({"due": dt.date(2026, 12, 7)}, dt.date(2026, 12, 4),
         "Hồ sơ đang trong hạn giải quyết (hẹn trả ngày 07/12/2026, còn 1 ngày làm việc)."),
        # Due Friday 28/08/2026; 31/08-02/09 are days off (Quốc khánh): Thursday is 1 day late.
        ({"due": dt.date(2026, 8, 28)}, dt.date(2026, 9, 3),
         "Hồ sơ đã quá hạn 1 ngày làm việc so với ngày hẹn trả 28/08/2026."),
        # Due Friday, asked on Saturday: past the date, no working day late yet.
        ({"due": dt.date(2026, 12, 4)}, dt.date(2026, 12, 5),
         "Hồ sơ đã quá ngày hẹn trả 04/12/2026. Chúng tôi thành thật xin lỗi"),
        ({"due": dt.date(2026, 12, 4)}, dt.date(2026, 12, 7),
         "Hồ sơ đã quá hạn 1 ngày làm việc so với ngày hẹn trả 04/12/2026."),
        # Returned the Monday after Tết for a Friday-before-Tết due date: 1 working day late.
        ({"status": CaseStatus.RETURNED, "due": dt.date(2026, 2, 13),
          "returned": dt.date(2026, 2, 23)}, dt.date(2026, 3, 2),
         "Hồ sơ đã được giải quyết, trễ 1 ngày làm việc so với ngày hẹn trả 13/02/2026."),
        ({"status": CaseStatus.RETURNED, "due": dt.date(2026, 12, 4),
          "returned": dt.date(2026, 12, 5)}, dt.date(2026, 12, 7),
         "Hồ sơ đã được giải quyết sau ngày hẹn trả 04/12/2026."),
        ({"status": CaseStatus.RETURNED, "due": dt.date(2026, 2, 24),
          "returned": dt.date(2026, 2, 24)}, dt.date(2026, 3, 2),
         "Hồ sơ đã được giải quyết đúng hạn (hẹn trả ngày 24/02/2026)."),
    ],
)  # fmt: skip
def test_on_time_or_late_counts_working_days(
    bundle: Bundle, changes: dict[str, Any], today: dt.date, expected: str
) -> None:
    text = case_text(bundle.kb, sample(**changes), "vi", today)
    assert expected in text


def test_working_days_late_in_english(bundle: Bundle) -> None:
    text = case_text(bundle.kb, sample(due=dt.date(2026, 8, 28)), "en", dt.date(2026, 9, 3))
    assert "The file is 1 working day(s) past its due date (28/08/2026)." in text
