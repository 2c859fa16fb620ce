"""Vietnamese working days: Monday to Friday, except the public holidays (Tết included).

The holidays come from the maintained `holidays` library (its Vietnam calendar: Tết Nguyên đán,
Giỗ Tổ Hùng Vương, 30/4, 1/5, Quốc khánh, their observed and substituted days), never a hand
list: the Government sets some days off each year, so keep the library current. Pure; shared by
the clerks' deadline digest (bot/clerks/digest.py), the dossier report (bot/cases/report.py)
and the citizen's "on time / late" answer (bot/cases/replies.py).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays


@cache
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def holiday_name(day: dt.date) -> str | None:
    """The public holiday on `day`, or None."""
    name = _calendar(day.year).get(day)
    return None if name is None else str(name)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (`day` itself when count is 0)."""
    while count > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """The working days after `start` up to and including `end` (0 when `end` <= `start`):
    from today to the due date, the working days left; from the due date to today, the
    working days late."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
