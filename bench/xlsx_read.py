"""Benchmark of reading a 100,000-row XLSX export: our standard-library reader, and
python-calamine for the record when it is installed; not part of the test suite.

Builds the export with bench/cases_import.py's builder (openpyxl, inline strings, every cell
text) and an Excel-like copy of it (shared strings, numbers and date cells, as Excel saves a
workbook), then reads each file with each reader, every read in a fresh subprocess, for a few
rounds taken in turn so that a change of load on the machine hits every reader alike:

- `ours`: bot/cases/table.py's `read_table`, end to end (the size cap, the zip's checks, the
  reader bot/cases/xlsx.py, every row numbered in a list): what the import does;
- `calamine`: python-calamine alone, the first sheet as Python lists (`to_python`), without
  the adapter or the checks it would need (see bot/cases/xlsx.py). It is no dependency of the
  project: `.venv/bin/pip install python-calamine` to compare; without it, it is skipped.

Peak memory is the child process's peak resident set (VmHWM in /proc/self/status, Linux), taken
after the read; its resident set before the read (interpreter and imports) is shown apart.
tracemalloc would not do: it sees Python's allocations, not calamine's (Rust's) own.

    .venv/bin/python bench/xlsx_read.py                 # 100,000 rows, 3 rounds
    .venv/bin/python bench/xlsx_read.py --rows 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --- the files ------------------------------------------------------------------------------------


def build(folder: Path, n: int) -> dict[str, Path]:
    """The export as bench/cases_import.py writes it, and an Excel-like copy."""
    from bench.cases_import import rows, write_xlsx

    data = rows(n)
    inline = folder / "export-inline.xlsx"
    write_xlsx(inline, data)
    excel = folder / "export-excel.xlsx"
    write_excel_like(excel, data)
    return {"inline": inline, "excel": excel}


def write_excel_like(path: Path, data: Sequence[Sequence[str]]) -> None:
    """The same rows as Excel saves them: STT a number, the dates date cells, the phone numbers
    text, all text in xl/sharedStrings.xml (each distinct string once)."""
    from openpyxl import Workbook

    from bench.cases_import import HEADER

    def day(text: str) -> dt.date | str:
        if not text:
            return ""
        if "/" in text:
            d, m, y = text.split("/")
            return dt.date(int(y), int(m), int(d))
        return dt.date.fromisoformat(text)

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for r in data:
        sheet.append([int(r[0]), *r[1:5], day(r[5]), day(r[6]), r[7], r[8], day(r[9]), r[10]])
    buffer = io.BytesIO()
    book.save(buffer)
    to_shared_strings(buffer, path)


def to_shared_strings(source: io.BytesIO, path: Path) -> None:
    """Move openpyxl's inline strings into xl/sharedStrings.xml, as Excel stores text."""
    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_part = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    index: dict[str, int] = {}

    def share(match: re.Match[str]) -> str:
        attributes = match.group(1).replace(' t="inlineStr"', "")
        return f'<c{attributes} t="s"><v>{index.setdefault(match.group(2), len(index))}</v></c>'

    xml = parts[sheet_part].decode()
    parts[sheet_part] = re.sub(r"<c([^>]*)><is>(.*?)</is></c>", share, xml).encode()
    items = "".join(f"<si>{item}</si>" for item in index)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{MAIN}" count="{len(index)}" uniqueCount="{len(index)}">{items}</sst>'
    ).encode()
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdSST" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>".encode(),
    )
    types = "[Content_Types].xml"
    parts[types] = parts[types].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in parts.items():
            archive.writestr(name, blob)


def describe(path: Path) -> str:
    """Size, parts, unpacked size, the parts' ratios and the shared strings: the figures the
    limits of bot/cases/xlsx.py are set from."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        strings = 0
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = archive.read("xl/sharedStrings.xml").count(b"<si>")
    unpacked = sum(i.file_size for i in infos)
    ratios = [i.file_size / i.compress_size for i in infos if i.file_size > 100_000]
    ratio = "-".join(f"{r:.0f}" for r in (min(ratios), max(ratios))) if ratios else "-"
    return (
        f"{path.stat().st_size / 1e6:.1f} MB, {len(infos)} parts, {unpacked / 1e6:.1f} MB"
        f" unpacked (large parts packed {ratio}:1), {strings:,} shared strings"
    )


# --- one read, in a child process -----------------------------------------------------------------


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def child(reader: str, path: Path) -> None:
    """Read `path` with `reader`; print the time, the row and cell counts and the resident sets
    as JSON."""
    if reader == "calamine":
        import python_calamine

        def read() -> Sequence[Sequence[object]]:
            with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
                rows: Sequence[Sequence[object]] = book.get_sheet_by_index(0).to_python(
                    skip_empty_area=False
                )
                return rows

    else:
        from bot.cases.table import read_table

        def read() -> Sequence[Sequence[object]]:
            return [cells for _, cells in read_table(path).rows]

    before = _rss_kib("VmRSS")
    start = time.perf_counter()
    rows = read()
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": len(rows),
                "cells": sum(len(r) for r in rows),
                "rss_before_kib": before,
                "peak_kib": _rss_kib("VmHWM"),
            }
        )
    )


def run_child(reader: str, path: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", reader, str(path)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


# --- the parent -----------------------------------------------------------------------------------


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "?",
            )
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} vCPU ({model}), {memory:.0f} GiB, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()}"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main(n: int, rounds: int) -> None:
    from importlib.metadata import version

    print(f"machine: {machine()}")
    readers = ["ours"]
    if importlib.util.find_spec("python_calamine") is not None:
        readers.append("calamine")
        print(f"python-calamine {version('python-calamine')}, for the record")
    else:
        print("python-calamine is not installed: calamine skipped (pip install python-calamine)")
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files = build(Path(tmp), n)
        print(f"built the files ({n:,} rows + header) in {time.perf_counter() - t:.1f} s:")
        for layout, path in files.items():
            print(f"  {layout:<7} {describe(path)}")
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for r in range(rounds):
            for layout, path in files.items():
                for reader in readers:
                    results.setdefault((layout, reader), []).append(run_child(reader, path))
            print(f"round {r + 1}/{rounds} done, {load()}")
    print()
    print(f"{'file':<8}{'reader':<10}{'rows':>8}{'cells':>11}  {'time s (each round)':<22}"
          f"{'median':>7}  {'peak RSS MiB':>12}  {'before read':>11}")  # fmt: skip
    for (layout, reader), runs in results.items():
        times = [run["seconds"] for run in runs]
        peak = max(run["peak_kib"] for run in runs) / 1024
        before = statistics.median(run["rss_before_kib"] for run in runs) / 1024
        each = " ".join(f"{s:.2f}" for s in times)
        print(
            f"{layout:<8}{reader:<10}{int(runs[0]['rows']):>8}{int(runs[0]['cells']):>11,}"
            f"  {each:<22}{statistics.median(times):>7.2f}  {peak:>12.0f}  {before:>11.0f}"
        )
    print(f"\nafter: {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
    else:
        main(args.rows, args.rounds)
