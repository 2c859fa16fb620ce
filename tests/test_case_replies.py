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
def test_status_texts(bundle: Bundle, changes: dict[str, Any], expected: str) -> None:
    text = case_text(bundle.kb, sample(**changes), "vi", dt.date(2025, 7, 4))
    assert expected in text


def test_status_in_english(bundle: Bundle) -> None:
    text = case_text(bundle.kb, sample(status=CaseStatus.READY), "en", dt.date(2025, 7, 4))
    assert "Procedure: Birth registration" in text
    assert "Status: The result is ready for collection" in text
    assert "Due: 08/07/2025" in text and "completed on time" in text
