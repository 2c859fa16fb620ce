"""Figures in an answer text: amounts of money, durations, phone numbers.

A government bot that states a wrong fee or time limit does harm, so every figure a topic states
must have its source in the file (`sources.<facet>`) or a `verify` note on that facet saying what
is still unconfirmed (issue 10). The loader refuses a figure with neither; `bot kb check` counts
facets with a source and facets with a verify note.

Pure text functions: no I/O. The patterns were checked against the shipped knowledge base's 38
topics: every figure a reader would call a fee, a duration or a phone number is found, and no
date ("01/7/2025"), decree number ("123/2015/NĐ-CP"), procedure code ("1.001193") or age
("đủ 14 tuổi") is.
"""

from __future__ import annotations

import re

# "8.000 đồng", "50.000đ", "3.000.000 VNĐ", "VND 8,000", "1 triệu đồng".
_MONEY = re.compile(
    r"\d[\d.,]*\s*(?:triệu\s*|nghìn\s*|ngàn\s*|million\s*)?(?:đồng|đ\b|vnđ\b|vnd\b)"
    r"|\bvnd\s*\d[\d.,]*",
    re.IGNORECASE,
)
# "05 ngày làm việc", "trong 3 ngày", "15 giờ" (a cut-off hour is a time limit too), "30 days",
# "2 tháng"; written out up to ten too ("ba ngày", "five working days"), but not "one" ("một
# ngày tốt lành" is a wish).
_NUMBER_WORDS = (
    r"hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|mươi"
    r"|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty"
)
_UNITS = r"ngày|giờ|tháng|tuần|days?|hours?|months?|weeks?|working\s+days?|p\.m\.|a\.m\."
_DURATION = re.compile(
    rf"(?<![\d/.])\d+(?:[.,]\d+)?\s*(?:{_UNITS})\b|\b(?:{_NUMBER_WORDS})\s+(?:{_UNITS})\b",
    re.IGNORECASE,
)
# Vietnamese phone numbers: 0xx… or +84…, 9–11 digits with optional spaces/dots; and the
# short hotlines (1900 xxxx, 1800 xxxx).
_PHONE = re.compile(
    r"(?<![\d.])(?:\+84|0)\d{1,3}(?:[ .]?\d){6,9}(?![\d/])"
    r"|\(0\d{2,3}\)\s*\d(?:[ .]?\d){5,8}"  # "(0207) 3.822.831"
    r"|\b1[89]00[ .]?\d{3,4}(?:[ .]?\d{2,3})?\b"
)


def figures(text: str) -> list[str]:
    """The figures `text` states, as written, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern in (_MONEY, _DURATION, _PHONE):
        found.extend((m.start(), m.group(0).strip()) for m in pattern.finditer(text))
    return [f for _, f in sorted(found)]


_UNIT_CLASS = (
    ("đồng", "money"), ("vn", "money"), ("đ", "money"), ("triệu", "money"), ("million", "money"),
    ("ngày", "day"), ("day", "day"), ("giờ", "hour"), ("hour", "hour"), ("p.m", "hour"),
    ("a.m", "hour"), ("tháng", "month"), ("month", "month"), ("tuần", "week"), ("week", "week"),
)  # fmt: skip


def normalised(figure: str) -> str:
    """A figure compared across texts and languages: its number and the kind of its unit
    ("8.000 đồng" and "VND 8,000" -> "8000 money", "05 ngày" and "5 days" -> "5 day"; "15 giờ"
    and "15 ngày" differ). A number written in words compares as itself."""
    low = figure.lower()
    digits = re.sub(r"\D", "", low)
    digits = (digits.lstrip("0") or "0") if digits else low
    unit = next((kind for word, kind in _UNIT_CLASS if word in low), "phone")
    return f"{digits} {unit}"
