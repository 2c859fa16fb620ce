"""Benchmark of the dossier import and lookup (issue 4); not part of the test suite.

Generates an export of N dossiers (100,000 by default) as CSV, or as XLSX with --xlsx (written
with openpyxl, which the `test` extra installs; read by bot/cases/xlsx.py), then times, on a fresh
database: reading and validating the file, the first import (all rows new), an unchanged
re-import, a re-import where 5% of the statuses changed (history rows), and lookups: the store's
audited, lock-checked lookup alone, and a whole lookup turn (dialog + store + reply composition).

    .venv/bin/python bench/cases_import.py            # 100,000 rows
    .venv/bin/python bench/cases_import.py --rows 20000 --xlsx
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bundle import Bundle  # noqa: E402
from bot.cases import actions, notices, parse  # noqa: E402
from bot.cases import topics as case_topics  # noqa: E402
from bot.cases.table import read_table  # noqa: E402
from bot.models import Case, CaseStatus, EventKind, Incoming, LookupRequest, Platform  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.turns.resolve import resolve_turn  # noqa: E402

HEADER = ["STT", "Mã hồ sơ", "Tên thủ tục", "Chủ hồ sơ", "Số điện thoại", "Ngày tiếp nhận",
          "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý", "Ngày trả kết quả", "Ghi chú"]  # fmt: skip
PROCEDURES = ["Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử", "1.004873",
              "Chứng thực bản sao từ bản chính", "Cấp bản sao trích lục hộ tịch",
              "Thủ tục khác của ngành"]  # fmt: skip
STATUSES = ["Đã tiếp nhận", "Đang xử lý", "Chờ bổ sung", "Đã có kết quả", "Đã trả kết quả",
            "Từ chối"]  # fmt: skip
UNITS = [f"UBND xã {n}" for n in range(1, 125)]
NAMES = ["Nguyễn Thị Hoa", "Trần Văn Nam", "Lê Minh Anh", "Phạm Quốc Bảo", "Hoàng Thu Trang"]


def rows(n: int, seed: int = 4) -> list[list[str]]:
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    out = []
    for i in range(n):
        received = start + dt.timedelta(days=rng.randrange(700))
        due = received + dt.timedelta(days=rng.choice((0, 3, 5, 10, 15)))
        status = rng.choice(STATUSES)
        returned = ""
        if status == "Đã trả kết quả":
            returned = (due + dt.timedelta(days=rng.choice((-2, -1, 0, 0, 0, 1, 3)))).strftime(
                "%d/%m/%Y"
            )
        out.append(
            [
                str(i + 1),
                f"000.00.{i % 97:02d}.H56-{received:%y%m%d}-{i:06d}",
                rng.choice(PROCEDURES),
                rng.choice(NAMES),
                f"09{rng.randrange(10**8):08d}",
                received.strftime("%d/%m/%Y"),
                due.isoformat(),
                status,
                rng.choice(UNITS),
                returned,
                "Bản sao CCCD" if status == "Chờ bổ sung" else "",
            ]
        )
    return out


def write_csv(path: Path, data: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(data)


def write_xlsx(path: Path, data: Sequence[Sequence[str]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for r in data:
        sheet.append(r)
    book.save(path)


def timed(label: str, fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    print(f"{label:<44} {seconds:8.2f} s")
    return seconds, result


async def atimed(label: str, coro: object) -> tuple[float, object]:
    t = time.perf_counter()
    result = await coro  # type: ignore[misc]
    seconds = time.perf_counter() - t
    print(f"{label:<44} {seconds:8.2f} s")
    return seconds, result


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p = statistics.quantiles(ms, n=100)
    return (
        f"mean {statistics.fmean(ms):.2f} ms, p50 {p[49]:.2f} ms,"
        f" p95 {p[94]:.2f} ms, max {ms[-1]:.2f} ms"
    )


async def main(n: int, xlsx: bool, lookups: int) -> None:
    bundle = Bundle.load(ROOT / "knowledge")
    data = rows(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / ("export.xlsx" if xlsx else "export.csv")
        (write_xlsx if xlsx else write_csv)(path, data)
        print(f"{n:,} rows, {path.suffix} file of {path.stat().st_size / 1e6:.1f} MB\n")
        store = await Store.open(folder / "bot.db")
        try:
            read_s, table = timed("read the file", lambda: read_table(path))
            resolver = case_topics.TopicResolver(bundle.kb, bundle.matcher)
            parse_s, parsed = timed(
                "validate rows (parse_table)",
                lambda: parse.parse_table(table, resolver),  # type: ignore[arg-type]
            )
            assert isinstance(parsed, parse.Parsed)
            import_s, summary = await atimed(
                "first import (one transaction)",
                actions.import_parsed(store, parsed, bundle.kb, path.name),
            )
            print(f"  -> {summary.counts}")  # type: ignore[attr-defined]
            print(
                f"{'TOTAL read + validate + first import':<44} {read_s + parse_s + import_s:8.2f} s"
            )
            await atimed(
                "re-import, nothing changed", actions.import_parsed(store, parsed, bundle.kb)
            )
            # 5% of the statuses change: history rows (and notices, none subscribed here).
            changed = tuple(
                Case(**{**_fields(c), "status": CaseStatus.RETURNED})
                if i % 20 == 0 and c.status is not CaseStatus.RETURNED
                else c
                for i, c in enumerate(parsed.cases)
            )
            _, summary = await atimed(
                "re-import, 5% statuses changed",
                store.import_cases(changed, notices.notifier(bundle.kb)),
            )
            print(f"  -> {summary}\n")

            picks = random.Random(7).sample(parsed.cases, min(lookups, len(parsed.cases)))
            samples = []
            for i, case in enumerate(picks):
                request = LookupRequest(case.code, case.phone_last4)
                t = time.perf_counter()
                result = await actions.lookup(store, Platform.FACEBOOK, f"u{i}", request)
                samples.append(time.perf_counter() - t)
                assert result.outcome == "found"
            print(f"store lookup ({len(picks)}x, audited): {percentiles(samples)}")

            samples = []
            for i, case in enumerate(picks):
                user = f"t{i}"
                msg = Incoming(Platform.FACEBOOK, user, f"m{i}", EventKind.TEXT, case.code)
                now_ms = int(time.time() * 1000)
                state = bundle.dialog.handle(None, msg, now_ms).state
                msg = Incoming(Platform.FACEBOOK, user, f"n{i}", EventKind.TEXT, case.phone_last4)
                t = time.perf_counter()
                turn = bundle.dialog.handle(state, msg, now_ms)
                turn = await resolve_turn(store, bundle.dialog, msg, turn, now_ms)
                samples.append(time.perf_counter() - t)
                assert turn.kind == "case", turn.kind
            print(f"lookup turn, dialog + store + reply:    {percentiles(samples)}")
        finally:
            await store.close()


def _fields(case: Case) -> dict[str, object]:
    return {name: getattr(case, name) for name in case.__dataclass_fields__}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xlsx", action="store_true", help="an XLSX export instead of CSV")
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.xlsx, args.lookups))
