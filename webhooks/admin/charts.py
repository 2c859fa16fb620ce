"""Small bar charts as inline SVG, computed here and drawn by templates/_chart.html.

Server-side, no script and no library: a chart is a list of rectangles and labels in a
viewBox, so it scales to a phone's width. Every chart's numbers are also printed in a table
next to it (the SVG is `aria-hidden`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# In viewBox units. The chart is as wide as its card (up to 36rem, admin.css), so 15 units of
# text read as about 10 px on a 375 px phone and 18 px on a desktop.
WIDTH = 480
FONT = 15
BAR = 16  # a horizontal bar's height
LINE = 18  # the label line above each horizontal bar
GAP = 10
VALUE = 60  # room right of the longest bar for its value
COLUMN_AREA = 150  # the height of the columns of a column chart
# One colour per channel (and per rating), then a default; readable on white, distinguishable
# in grey.
COLOURS = {
    "facebook": "#1f5fbf",
    "zalo": "#0a8f6a",
    "webchat": "#c46a00",
    "up": "#2e7d32",
    "down": "#b3261e",
    "clarified": "#c46a00",
    "handed_over": "#6b4fa0",
    "to_staff": "#5f6b7a",
}
DEFAULT_COLOUR = "#6b4fa0"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str  # a tooltip, for a mouse


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"  # start, middle or end


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    rects: tuple[Rect, ...]
    labels: tuple[Label, ...]


def colour(series: str) -> str:
    return COLOURS.get(series, DEFAULT_COLOUR)


def _short(text: str, limit: int = 52) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


Bar = tuple[str, float, str] | tuple[str, float, str, str]


def horizontal_bars(items: Sequence[Bar], fill: str = DEFAULT_COLOUR) -> Chart:
    """One bar per (label, value, value shown[, its own colour]), longest for the largest
    value; each label on its own line above its bar, so a long question keeps the whole width
    of a phone. A bar without a colour of its own is `fill`."""
    top = max((item[1] for item in items), default=0) or 1
    room = WIDTH - VALUE
    row = LINE + BAR + GAP
    rects: list[Rect] = []
    labels: list[Label] = []
    for n, item in enumerate(items):
        label, value, shown = item[:3]
        colour_of = item[3] if len(item) == 4 else fill
        y = n * row
        width = room * value / top
        labels.append(Label(0, y + LINE - 5, _short(label)))
        rects.append(Rect(0, y + LINE, width, BAR, colour_of, f"{label}: {shown}"))
        labels.append(Label(width + 6, y + LINE + BAR - 3, shown))
    return Chart(WIDTH, max(len(items) * row, 1), tuple(rects), tuple(labels))


def stacked_columns(columns: Sequence[tuple[str, dict[str, int]]], series: Sequence[str]) -> Chart:
    """One column per (label, value per series), its series stacked in `series` order, the
    total written above it; every other label under the axis when there are many."""
    top = max((sum(values.values()) for _, values in columns), default=0) or 1
    step = WIDTH / max(len(columns), 1)
    width = step * 0.7
    base = LINE + COLUMN_AREA  # room above for the totals
    rects: list[Rect] = []
    labels: list[Label] = []
    for n, (label, values) in enumerate(columns):
        x = n * step + (step - width) / 2
        y = float(base)
        for name in series:
            count = values.get(name, 0)
            if not count:
                continue
            height = COLUMN_AREA * count / top
            y -= height
            rects.append(Rect(x, y, width, height, colour(name), f"{label} {name}: {count}"))
        total = sum(values.values())
        middle = x + width / 2
        labels.append(Label(middle, y - 4, str(total), "middle"))
        if len(columns) <= 7 or n % 2 == (len(columns) - 1) % 2:
            labels.append(Label(middle, base + LINE, label, "middle"))
    return Chart(WIDTH, base + LINE + 6, tuple(rects), tuple(labels))
