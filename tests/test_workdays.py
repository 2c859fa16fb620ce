"""Vietnamese working days: weekends and public holidays (Tết included) are skipped."""

from __future__ import annotations

import datetime as dt

from bot.workdays import add_working_days, holiday_name, is_working_day, working_days_between


def test_weekends_and_tet_are_not_working_days() -> None:
    assert is_working_day(dt.date(2026, 12, 7))  # a Monday
    assert not is_working_day(dt.date(2026, 12, 5))  # Saturday
    assert not is_working_day(dt.date(2026, 12, 6))  # Sunday
    tet = dt.date(2026, 2, 17)  # Mùng 1 Tết Bính Ngọ, a Tuesday
    assert tet.weekday() == 1 and not is_working_day(tet)
    assert "Lunar New Year" in str(holiday_name(tet))
    assert not is_working_day(dt.date(2026, 9, 2))  # Quốc khánh


def test_a_holiday_is_skipped_in_the_working_day_count() -> None:
    assert add_working_days(dt.date(2026, 12, 4), 2) == dt.date(2026, 12, 8)  # Fri -> Tue
    assert add_working_days(dt.date(2026, 4, 29), 1) == dt.date(2026, 5, 4)  # 30/4, 1/5, weekend
    # Friday 13 Feb 2026: Tết runs Mon 16 - Fri 20 Feb, so two working days on is 24 Feb.
    assert add_working_days(dt.date(2026, 2, 13), 2) == dt.date(2026, 2, 24)
    assert add_working_days(dt.date(2026, 12, 7), 0) == dt.date(2026, 12, 7)


def test_working_days_between_skip_weekends_tet_and_national_day() -> None:
    assert working_days_between(dt.date(2026, 12, 4), dt.date(2026, 12, 7)) == 1  # Fri -> Mon
    assert working_days_between(dt.date(2026, 12, 4), dt.date(2026, 12, 6)) == 0  # weekend
    assert working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 24)) == 2  # over Tết
    assert working_days_between(dt.date(2026, 8, 28), dt.date(2026, 9, 3)) == 1  # over 2/9
    assert working_days_between(dt.date(2026, 12, 7), dt.date(2026, 12, 7)) == 0
    assert working_days_between(dt.date(2026, 12, 8), dt.date(2026, 12, 7)) == 0
