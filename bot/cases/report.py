"""`bot report cases`: the dossier figures staff publish, as plain text or one HTML page.

Pure: (dossiers, today) -> `CaseReport` -> text or HTML. The on-time rate is the Department's
published figure, "tỷ lệ giải quyết trước và đúng hạn": among the dossiers resolved with a result
(Đã có kết quả, Đã trả kết quả), the share resolved on or before the due date. A resolved dossier
whose dates cannot tell is left out of the rate and counted apart, never guessed.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot import workdays
from bot.cases.dates import days_late, format_date
from bot.knowledge import KnowledgeBase
from bot.models import FINISHED, OPEN, Case, CaseStatus

DUE_SOON_WORKING_DAYS = 2
NO_UNIT = "(không rõ đơn vị)"
# The export's own words, for staff.
STATUS_LABELS: Mapping[CaseStatus, str] = {
    CaseStatus.RECEIVED: "Đã tiếp nhận",
    CaseStatus.PROCESSING: "Đang xử lý",
    CaseStatus.SUPPLEMENT: "Chờ bổ sung",
    CaseStatus.READY: "Đã có kết quả",
    CaseStatus.RETURNED: "Đã trả kết quả",
    CaseStatus.REJECTED: "Từ chối",
    CaseStatus.WITHDRAWN: "Rút hồ sơ / dừng xử lý",
}


def add_working_days(day: dt.date, n: int) -> dt.date:
    """`n` working days after `day`: weekends and Vietnam's public holidays, Tết included,
    skipped (bot/workdays.py, the rule the clerks' deadline digest uses too)."""
    return workdays.add_working_days(day, n)


@dataclass(frozen=True, slots=True)
class UnitFigures:
    unit: str
    total: int
    finished: int
    judged: int  # finished with dates that tell on time or late
    on_time: int
    overdue: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None


@dataclass(frozen=True, slots=True)
class CaseReport:
    today: dt.date
    due_soon_until: dt.date
    total: int
    by_status: tuple[tuple[CaseStatus, int], ...]
    by_unit: tuple[UnitFigures, ...]
    finished: int
    judged: int
    on_time: int
    overdue: tuple[Case, ...]  # open, past the due date, oldest due first
    due_soon: tuple[Case, ...]  # open, due between today and `due_soon_until`
    last_import: dt.datetime | None = None

    @property
    def rate(self) -> float | None:
        """The on-time rate in [0, 1], None when no resolved dossier can be judged."""
        return self.on_time / self.judged if self.judged else None


def build_report(
    cases: Iterable[Case], today: dt.date, last_import: dt.datetime | None = None
) -> CaseReport:
    """The figures of `cases` as of `today`. Waiting for papers (Chờ bổ sung) stops the clock,
    so such dossiers are in neither the overdue nor the due-soon list."""
    until = add_working_days(today, DUE_SOON_WORKING_DAYS)
    statuses: Counter[CaseStatus] = Counter()
    units: dict[str, list[int]] = {}
    overdue: list[Case] = []
    due_soon: list[Case] = []
    total = finished = judged = on_time = 0
    for case in cases:
        total += 1
        statuses[case.status] += 1
        row = units.setdefault(case.unit or NO_UNIT, [0, 0, 0, 0, 0])
        row[0] += 1
        if case.status in FINISHED:
            finished += 1
            row[1] += 1
            late = days_late(case, today)
            if late is not None:
                judged += 1
                row[2] += 1
                if late == 0:
                    on_time += 1
                    row[3] += 1
        elif case.status in OPEN and case.due is not None:
            if case.due < today:
                overdue.append(case)
                row[4] += 1
            elif case.due <= until:
                due_soon.append(case)
    by_unit = sorted(
        (UnitFigures(unit, *figures) for unit, figures in units.items()),
        key=lambda u: (-u.total, u.unit),
    )
    return CaseReport(
        today=today,
        due_soon_until=until,
        total=total,
        by_status=tuple((s, statuses[s]) for s in CaseStatus if statuses[s]),
        by_unit=tuple(by_unit),
        finished=finished,
        judged=judged,
        on_time=on_time,
        overdue=tuple(sorted(overdue, key=lambda c: (c.due or today, c.code))),
        due_soon=tuple(sorted(due_soon, key=lambda c: (c.due or today, c.code))),
        last_import=last_import,
    )


def number(n: int) -> str:
    """1234567 -> "1.234.567" (Vietnamese digit grouping)."""
    return f"{n:,}".replace(",", ".")


def percent(rate: float | None) -> str:
    """0.9523 -> "95,2%" (Vietnamese decimal comma); "—" when there is nothing to divide."""
    return "—" if rate is None else f"{rate * 100:.1f}".replace(".", ",") + "%"


def _procedure(kb: KnowledgeBase | None, case: Case) -> str:
    topic = kb.topics.get(case.topic or "") if kb else None
    return topic.name.vi if topic else case.procedure or "—"


def _case_line(kb: KnowledgeBase | None, case: Case, today: dt.date) -> list[str]:
    due = case.due or today
    when = f"hẹn {format_date(due)}"
    if due < today:
        late = workdays.working_days_between(due, today)
        when += f", quá {late} ngày làm việc" if late else ", quá hạn"
    return [case.code, _procedure(kb, case), case.unit or NO_UNIT, when]


def _rate_line(report: CaseReport) -> str:
    line = (
        f"Tỷ lệ giải quyết trước và đúng hạn: {percent(report.rate)}"
        f" ({number(report.on_time)}/{number(report.judged)} hồ sơ đã giải quyết)"
    )
    unknown = report.finished - report.judged
    if unknown:
        line += f"; {number(unknown)} hồ sơ đã giải quyết không đủ ngày để đánh giá, không tính"
    return line


def _table(
    rows: Sequence[Sequence[str]], right: Collection[int] = (), indent: str = "  "
) -> list[str]:
    """Aligned columns; those in `right` (figures) aligned right."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent
        + "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def report_text(report: CaseReport, kb: KnowledgeBase | None = None) -> str:
    """The report as plain text (Vietnamese), lists in full."""
    head = f"BÁO CÁO HỒ SƠ ngày {format_date(report.today)}"
    lines = [head, f"Tổng số hồ sơ: {number(report.total)}"]
    if report.last_import is not None:
        lines.append(f"Dữ liệu nhập lần cuối: {report.last_import:%d/%m/%Y %H:%M}")
    lines += ["", _rate_line(report), "", "Theo trạng thái:"]
    lines += _table([[STATUS_LABELS[s], number(n)] for s, n in report.by_status], right={1})
    lines += ["", "Theo đơn vị:"]
    header = ["Đơn vị", "Tổng", "Đã giải quyết", "Đúng hạn", "Quá hạn"]
    rows = [
        [u.unit, number(u.total), number(u.finished), percent(u.rate), number(u.overdue)]
        for u in report.by_unit
    ]
    lines += _table([header, *rows], right={1, 2, 3, 4})
    lines += ["", f"Quá hạn ({number(len(report.overdue))}):"]
    lines += _table([_case_line(kb, c, report.today) for c in report.overdue]) or ["  (không có)"]
    soon = format_date(report.due_soon_until)
    lines += [
        "",
        f"Đến hạn trong {DUE_SOON_WORKING_DAYS} ngày làm việc, tới {soon}"
        f" ({number(len(report.due_soon))}):",
    ]
    lines += _table([_case_line(kb, c, report.today) for c in report.due_soon]) or ["  (không có)"]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1d2733}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.rate{font-size:2.4rem;font-weight:700;color:#0b6b3a}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;text-align:left;
border-bottom:1px solid #dde3ea;vertical-align:middle}th{background:#f2f5f8}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{background:#e8edf2;height:1rem;min-width:12rem;border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%;background:#2f6db5}
.bar.ok span{background:#1e8f55}.late td{color:#a3271f}
""".strip()


def _bar(share: float, css: str = "") -> str:
    width = max(0.0, min(100.0, share * 100))
    return f'<div class="bar {css}"><span style="width:{width:.1f}%"></span></div>'


def report_html(report: CaseReport, kb: KnowledgeBase | None = None) -> str:
    """One self-contained page: inline CSS bar charts, no script, nothing loaded from elsewhere."""
    e = html.escape
    top = max((n for _, n in report.by_status), default=0) or 1
    status_rows = "".join(
        f"<tr><td>{e(STATUS_LABELS[s])}</td><td class=n>{number(n)}</td><td>{_bar(n / top)}</td>"
        "</tr>"
        for s, n in report.by_status
    )
    unit_rows = "".join(
        f"<tr><td>{e(u.unit)}</td><td class=n>{number(u.total)}</td>"
        f"<td class=n>{number(u.finished)}</td><td class=n>{percent(u.rate)}</td>"
        f"<td>{_bar(u.rate or 0.0, 'ok')}</td><td class=n>{number(u.overdue)}</td></tr>"
        for u in report.by_unit
    )

    def cases_table(items: Sequence[Case], css: str) -> str:
        if not items:
            return "<p>(không có)</p>"
        rows = "".join(
            f"<tr class={css}>" + "".join(f"<td>{e(cell)}</td>" for cell in line) + "</tr>"
            for line in (_case_line(kb, c, report.today) for c in items)
        )
        head = "<tr><th>Mã hồ sơ</th><th>Thủ tục</th><th>Đơn vị</th><th>Hạn</th></tr>"
        return f"<table>{head}{rows}</table>"

    imported = (
        f"<p>Dữ liệu nhập lần cuối: {report.last_import:%d/%m/%Y %H:%M}</p>"
        if report.last_import
        else ""
    )
    soon = format_date(report.due_soon_until)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Báo cáo hồ sơ {format_date(report.today)}</title><style>{_CSS}</style></head><body>
<h1>Báo cáo hồ sơ ngày {format_date(report.today)}</h1>
<p>Tổng số hồ sơ: <b>{number(report.total)}</b></p>{imported}
<h2>Tỷ lệ giải quyết trước và đúng hạn</h2>
<p class="rate">{percent(report.rate)}</p>{_bar(report.rate or 0.0, "ok")}
<p>{e(_rate_line(report))}</p>
<h2>Theo trạng thái</h2>
<table><tr><th>Trạng thái</th><th>Số hồ sơ</th><th></th></tr>{status_rows}</table>
<h2>Theo đơn vị</h2>
<table><tr><th>Đơn vị</th><th>Tổng</th><th>Đã giải quyết</th><th>Đúng hạn</th><th></th>
<th>Quá hạn</th></tr>{unit_rows}</table>
<h2>Quá hạn ({number(len(report.overdue))})</h2>
{cases_table(report.overdue, "late")}
<h2>Đến hạn trong {DUE_SOON_WORKING_DAYS} ngày làm việc, tới {soon}
({number(len(report.due_soon))})</h2>
{cases_table(report.due_soon, "soon")}
</body></html>
"""
