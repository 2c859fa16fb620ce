"""The dossier report (bot/cases/report.py) and the `bot cases import` / `bot report cases`
commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.bundle import Bundle
from bot.cases.report import add_working_days, build_report, report_html, report_text
from bot.cli import cli
from bot.models import Case, CaseStatus
from tests.case_builders import (
    CODE,
    csv_bytes,
    row,
    write,
)

# --- the report ----------------------------------------------------------------------------------


def test_working_days_skip_weekends() -> None:
    friday = dt.date(2025, 7, 4)
    assert add_working_days(friday, 2) == dt.date(2025, 7, 8)
    assert add_working_days(dt.date(2025, 7, 1), 2) == dt.date(2025, 7, 3)


def report_cases() -> list[Case]:
    def case(
        code: str, status: CaseStatus, due: dt.date | None, unit: str = "Xã A", **kw: Any
    ) -> Case:
        return Case(code, status, "0000", due=due, unit=unit, **kw)

    d = dt.date
    return [
        case("R1", CaseStatus.RETURNED, d(2025, 7, 3), returned=d(2025, 7, 2)),  # early
        case("R2", CaseStatus.RETURNED, d(2025, 7, 3), returned=d(2025, 7, 3)),  # on the day
        case("R3", CaseStatus.RETURNED, d(2025, 7, 1), unit="Xã B", returned=d(2025, 7, 2)),
        case("R4", CaseStatus.READY, d(2025, 7, 10)),  # ready before its due date: on time
        case("R5", CaseStatus.READY, d(2025, 7, 1)),  # ready, but when? not judged
        case("P1", CaseStatus.PROCESSING, d(2025, 7, 2), topic="khai-sinh"),  # overdue
        case("P2", CaseStatus.RECEIVED, d(2025, 7, 8), unit=""),  # due within 2 working days
        case("P3", CaseStatus.PROCESSING, d(2025, 7, 9)),  # later
        case("S1", CaseStatus.SUPPLEMENT, d(2025, 7, 1)),  # clock stopped: not overdue
        case("X1", CaseStatus.REJECTED, d(2025, 7, 1)),
    ]


def test_report_figures(bundle: Bundle) -> None:
    report = build_report(report_cases(), dt.date(2025, 7, 4))
    assert report.total == 10
    assert dict(report.by_status) == {
        CaseStatus.RETURNED: 3,
        CaseStatus.READY: 2,
        CaseStatus.PROCESSING: 2,
        CaseStatus.RECEIVED: 1,
        CaseStatus.SUPPLEMENT: 1,
        CaseStatus.REJECTED: 1,
    }
    assert (report.finished, report.judged, report.on_time) == (5, 4, 3)
    assert report.rate == 0.75
    assert [c.code for c in report.overdue] == ["P1"]
    assert [c.code for c in report.due_soon] == ["P2"]
    units = {u.unit: (u.total, u.finished, u.on_time, u.judged, u.overdue) for u in report.by_unit}
    assert units == {
        "Xã A": (8, 4, 3, 3, 1),
        "Xã B": (1, 1, 0, 1, 0),
        "(không rõ đơn vị)": (1, 0, 0, 0, 0),
    }

    text = report_text(report, bundle.kb)
    assert "Tỷ lệ giải quyết trước và đúng hạn: 75,0% (3/4 hồ sơ đã giải quyết)" in text
    assert "1 hồ sơ đã giải quyết không đủ ngày để đánh giá" in text
    assert "P1  Đăng ký khai sinh  Xã A  hẹn 02/07/2025, quá 2 ngày làm việc" in text
    assert "Đến hạn trong 2 ngày làm việc, tới 08/07/2025 (1):" in text

    page = report_html(report, bundle.kb)
    assert page.startswith("<!doctype html>") and "75,0%" in page
    assert 'style="width:75.0%"' in page  # the on-time bar
    assert "src=" not in page and "href=" not in page and "<script" not in page


def test_empty_report() -> None:
    report = build_report([], dt.date(2025, 7, 4))
    assert report.rate is None
    assert "Tỷ lệ giải quyết trước và đúng hạn: — (0/0" in report_text(report)
    assert "<!doctype html>" in report_html(report)


# --- the commands -----------------------------------------------------------------------------


def test_cli_import_and_report(tmp_path: Path) -> None:
    runner = CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})
    done = [
        row(code=f"H56-250630-{n:05d}", status="Đã trả kết quả", returned="03/07/2025")
        for n in range(2500)  # enough rows for the progress bar
    ]
    rows = [row(), row(code="H56-250701-0002", status="Đang ngủ"), *done]
    good = write(tmp_path, csv_bytes(rows, sep=";"))
    result = runner.invoke(cli, ["cases", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "Reading rows" in result.output  # the progress bar (on stderr, mixed in here)
    summary = "export.csv: 2501 added, 0 updated, 0 unchanged, 1 rejected; 0 status changes"
    assert summary in result.output
    assert "\n  line 3: H56-250701-0002: unknown status 'Đang ngủ'\n" in result.output

    bad = write(tmp_path, "Mã hồ sơ;Trạng thái\nX-1;Mới\n".encode(), "bad.csv")
    failed = runner.invoke(cli, ["cases", "import", str(bad)])
    assert failed.exit_code == 1
    assert "missing: Số điện thoại" in failed.output and "Nothing was imported" in failed.output
    missing = runner.invoke(cli, ["cases", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "cannot read" in missing.output

    page = tmp_path / "report.html"
    report = runner.invoke(cli, ["report", "cases", "--today", "2025-07-07", "--html", str(page)])
    assert report.exit_code == 0, report.output
    assert "Tổng số hồ sơ: 2.501" in report.output
    assert "Tỷ lệ giải quyết trước và đúng hạn: 100,0% (2.500/2.500" in report.output
    overdue = f"{CODE}  Đăng ký khai sinh  UBND xã Minh Xuân  hẹn 04/07/2025, quá 1 ngày làm việc"
    assert overdue in report.output
    assert "Báo cáo hồ sơ ngày 07/07/2025" in page.read_text(encoding="utf-8")


def test_working_days_skip_tet() -> None:
    # The report's "due within 2 working days" uses the holiday calendar (bot/workdays.py).
    assert add_working_days(dt.date(2026, 2, 13), 2) == dt.date(2026, 2, 24)
