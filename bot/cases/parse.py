"""Validating a dossier export: the rows of a `Table` into `Case`s and `Rejected` rows.

Pure: `parse_table(table, topics)` finds the header row, then judges every row on its own; a bad
row is rejected with its line and the reason(s), and never stops the others. A repeated code is
rejected after its first line. Only what the bot needs is kept (see `Case`): the owner's name
masked, the last 4 digits of the phone number. Writing the result is `cases.import_parsed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.cases.fields import (
    FIELDS,
    HEADER_LABELS,
    cell_text,
    mask_name,
    parse_date,
    parse_status,
    phone_last4,
)
from bot.cases.table import Table, find_header
from bot.models import MAX_CODE_CHARS, Case, normalise_code


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row left out of the import: its line, its code as exported (maybe empty), and why."""

    line: int
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Parsed:
    cases: tuple[Case, ...]
    rejected: tuple[Rejected, ...]
    columns: Mapping[str, str]  # field -> the header it was read from
    header_line: int


def parse_table(
    table: Table,
    topics: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Parsed:
    """Validate every row of `table` on its own: good rows become `Case`s, the others are
    `Rejected` with their line and reason. Raises `CasesFileError` when no header row with the
    key columns (code, phone, status) is found. `progress(n)` is told of every n rows done."""
    header_at, columns = find_header(table)
    index = [columns.get(name, -1) for name in FIELDS]
    resolve = topics or (lambda cell: None)
    cases: list[Case] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    done = 0
    rows = table.rows
    for line, cells in rows[header_at + 1 :]:
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(1000)
        if _blank(cells):
            continue  # blank lines, Excel's trailing empty rows
        result = _parse_row(cells, index, resolve)
        if isinstance(result, str):
            i = columns["code"]
            code = cell_text(cells[i] if i < len(cells) else None)[:MAX_CODE_CHARS]
            rejected.append(Rejected(line, code, result))
            continue
        first = seen.get(result.code)
        if first is not None:
            rejected.append(Rejected(line, result.code, f"duplicate code, first on line {first}"))
            continue
        seen[result.code] = line
        cases.append(result)
    if progress is not None and done % 1000:
        progress(done % 1000)
    found = {name: cell_text(rows[header_at][1][i]) for name, i in columns.items()}
    return Parsed(tuple(cases), tuple(rejected), found, rows[header_at][0] if rows else 0)


def _blank(cells: Sequence[object]) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if type(cell) is not str or cell.strip():
            return False
    return True


def _parse_row(
    cells: Sequence[object], index: Sequence[int], topics: Callable[[str], str | None]
) -> Case | str:
    """A Case, or the reason(s) the row is rejected. `index` holds the column of each of
    FIELDS (-1 when the export has none): the hot loop of a 100,000-row import."""
    n = len(cells)
    (
        code_v,
        procedure_v,
        owner_v,
        phone_v,
        received_v,
        due_v,
        status_v,
        unit_v,
        returned_v,
        note_v,
    ) = (cells[i] if 0 <= i < n else None for i in index)
    problems: list[str] = []
    code = normalise_code(cell_text(code_v))
    if not code:
        problems.append("no dossier code")
    elif len(code) > MAX_CODE_CHARS:
        problems.append(f"dossier code longer than {MAX_CODE_CHARS} characters")
    status_text = cell_text(status_v)
    status = parse_status(status_text) if status_text else None
    if not status_text:
        problems.append("no status")
    elif status is None:
        problems.append(f"unknown status {status_text!r}")
    last4 = phone_last4(phone_v)
    if last4 is None:
        problems.append("no usable phone number (needs 8 to 15 digits, not masked)")
    dates: list[dt.date | None] = []
    for name, value in (("received", received_v), ("due", due_v), ("returned", returned_v)):
        try:
            dates.append(parse_date(value.strip() if type(value) is str else value))
        except ValueError:
            dates.append(None)
            label = HEADER_LABELS[name]
            problems.append(f"{label}: not a date {cell_text(value)!r} (DD/MM/YYYY or ISO)")
    received, due, returned = dates
    if received and due and due < received:
        problems.append("Ngày hẹn trả is before Ngày tiếp nhận")
    if problems or status is None or last4 is None:
        return "; ".join(problems)
    procedure = cell_text(procedure_v)
    return Case(
        code=code,
        status=status,
        phone_last4=last4,
        topic=topics(procedure) if procedure else None,
        procedure=procedure[:300],
        owner_masked=mask_name(cell_text(owner_v)),
        received=received,
        due=due,
        unit=cell_text(unit_v)[:200],
        returned=returned,
        note=cell_text(note_v)[:500],
    )
