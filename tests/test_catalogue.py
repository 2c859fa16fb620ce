"""docs/catalogue.md stays consistent (issue 10).

The catalogue of justice-sector procedures is research that later topics are built from, so its
tables must parse: every row has its header's cells, a source, a topic id in the knowledge base's
style that is unique unless the row says it shares it, and a national code or the reason it has
none; every contract procedure topic appears; and the counts the page states are the counts of
its rows. The facts themselves (codes, levels) come from the sources the page names.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pytest

from bot.knowledge import CONTRACT_TOPICS
from tests.conftest import KNOWLEDGE, ROOT

DOC = ROOT / "docs" / "catalogue.md"
SOURCES = ROOT / "docs" / "catalogue-sources.md"
HEADER = ["#", "Procedure", "Code", "Level", "Filed by", "Online", "Source", "Topic", "Family", "P"]
UNVERIFIED = "chưa xác minh"
NOT_A_PROCEDURE = "không có (không phải TTHC)"
SHARED = "(dùng chung)"
TOPIC_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CODE = re.compile(r"\d\.\d{6}")
# A source is an address, a legal text or decision, or the project's research notes.
SOURCE = re.compile(r"https?://|Luật|Nghị định|NĐ |TT |QĐ |procedures-facts\.md")
PROVINCIAL = ("sở tư pháp", "ubnd tỉnh", "chủ tịch ubnd tỉnh", "cấp tỉnh", "trung tâm tgpl")


@dataclass(frozen=True, slots=True)
class Row:
    field: str
    line: int
    cells: list[str]

    def cell(self, name: str) -> str:
        return self.cells[HEADER.index(name)]

    @property
    def topic(self) -> str:
        match = re.fullmatch(r"`([^`]*)`( \(dùng chung\))?", self.cell("Topic"))
        assert match, f"line {self.line}: topic cell {self.cell('Topic')!r}"
        return match.group(1)

    @property
    def shared(self) -> bool:
        return self.cell("Topic").endswith(SHARED)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def section(text: str, number: int) -> tuple[int, str]:
    """The body of the `## <number>.` section and the line it starts on."""
    match = re.search(rf"^## {number}\. .*$", text, flags=re.MULTILINE)
    assert match, f"no section {number}"
    end = re.search(r"^## ", text[match.end() :], flags=re.MULTILINE)
    body = text[match.end() : match.end() + end.start()] if end else text[match.end() :]
    return text[: match.end()].count("\n") + 1, body


def parse(text: str) -> tuple[list[Row], list[tuple[int, list[str]]]]:
    """The catalogue's rows, and every table line of the catalogue whose cells do not fit."""
    start, body = section(text, 3)
    rows: list[Row] = []
    misfits: list[tuple[int, list[str]]] = []
    field = ""
    for offset, line in enumerate(body.splitlines()):
        number = start + offset
        heading = re.fullmatch(r"### 3\.\d+ (.+)", line.strip())
        if heading:
            field = heading.group(1)
            continue
        if not line.startswith("|"):
            continue
        row = cells(line)
        if row == HEADER or set("".join(row)) <= {"-"}:
            continue
        if len(row) != len(HEADER) or not field:
            misfits.append((number, row))
            continue
        rows.append(Row(field, number, row))
    return rows, misfits


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows(text: str) -> list[Row]:
    return parse(text)[0]


def test_every_row_has_the_cells_of_its_header(text: str) -> None:
    found, misfits = parse(text)
    assert len(found) > 100
    assert not misfits, misfits


def test_the_parser_sees_a_short_row() -> None:
    broken = "## 3. Catalogue\n\n### 3.1 Hộ tịch\n\n| " + " | ".join(HEADER) + " |\n| 1 | x | y |\n"
    assert parse(broken) == ([], [(6, ["1", "x", "y"])])


def test_every_row_names_its_source(rows: list[Row]) -> None:
    unsourced = [row.line for row in rows if not SOURCE.search(row.cell("Source"))]
    assert not unsourced, f"rows without a source: lines {unsourced}"


def test_no_cell_is_left_empty(rows: list[Row]) -> None:
    empty = [(row.line, HEADER[i]) for row in rows for i, cell in enumerate(row.cells) if not cell]
    assert not empty, f"an unknown fact says {UNVERIFIED!r}: {empty}"


def test_codes_are_national_codes_or_say_why_not(rows: list[Row]) -> None:
    codes = [row.cell("Code") for row in rows]
    odd = [c for c in codes if not CODE.fullmatch(c) and c != NOT_A_PROCEDURE]
    assert not odd, odd
    twice = [c for c, n in Counter(codes).items() if n > 1 and CODE.fullmatch(c)]
    assert not twice, f"a code listed twice: {twice}"


def test_topic_and_family_ids_are_lowercase_ascii_with_hyphens(rows: list[Row]) -> None:
    bad = [row.topic for row in rows if not TOPIC_ID.fullmatch(row.topic)]
    bad += [f for row in rows if not TOPIC_ID.fullmatch(f := row.cell("Family").strip("`"))]
    assert not bad, bad


def test_a_topic_repeats_only_where_the_rows_say_they_share_it(rows: list[Row]) -> None:
    count = Counter(row.topic for row in rows)
    unmarked = [(row.line, row.topic) for row in rows if count[row.topic] > 1 and not row.shared]
    assert not unmarked, f"repeated without {SHARED!r}: {unmarked}"
    alone = [(row.line, row.topic) for row in rows if row.shared and count[row.topic] == 1]
    assert not alone, f"marked {SHARED!r} but used once: {alone}"


def test_every_contract_procedure_topic_is_catalogued(rows: list[Row]) -> None:
    procedures = {p.stem for p in (KNOWLEDGE / "procedures").glob("*.yaml")} & set(CONTRACT_TOPICS)
    assert len(procedures) >= 25
    missing = procedures - {row.topic for row in rows}
    assert not missing, sorted(missing)


def test_the_stated_total_is_the_number_of_rows(text: str, rows: list[Row]) -> None:
    match = re.search(r"\*\*Total: (\d+) procedures\*\* \((\d+) published procedures", text)
    assert match, "the page states its total"
    assert int(match.group(1)) == len(rows)
    coded = sum(1 for row in rows if CODE.fullmatch(row.cell("Code")))
    assert int(match.group(2)) == coded


def level_bucket(level: str) -> str:
    low = level.lower()
    if low.startswith(UNVERIFIED):
        return "unverified"
    provincial, commune = any(k in low for k in PROVINCIAL), "cấp xã" in low
    if provincial and commune:
        return "both"
    return "province" if provincial else "commune" if commune else "other"


def fully_sourced(row: Row) -> bool:
    cells = (row.cell("Code"), row.cell("Level"), row.cell("Online"))
    return CODE.fullmatch(cells[0]) is not None and not any(UNVERIFIED in c for c in cells)


def test_the_counts_per_field_are_the_rows_of_each_table(text: str, rows: list[Row]) -> None:
    _, counts = section(text, 2)
    table = [
        cells(line)
        for line in counts.split("| field | rows |", 1)[1].splitlines()[2:]
        if line.startswith("|")
    ]
    stated = {r[0]: [int(n) for n in r[1:]] for r in table}
    actual: dict[str, list[int]] = {}
    for field in dict.fromkeys(row.field for row in rows):
        mine = [row for row in rows if row.field == field]
        buckets = Counter(level_bucket(row.cell("Level")) for row in mine)
        order = ("province", "commune", "both", "other", "unverified")
        actual[field] = [len(mine), *(buckets[b] for b in order), sum(map(fully_sourced, mine))]
    assert stated == actual


def test_the_stated_fully_sourced_figure_holds(text: str, rows: list[Row]) -> None:
    match = re.search(r"\*\*Fully sourced rows: (\d+) of (\d+)\*\*", text)
    assert match
    assert (int(match.group(1)), int(match.group(2))) == (sum(map(fully_sourced, rows)), len(rows))


def test_the_sources_page_exists_and_is_linked(text: str) -> None:
    assert "(catalogue-sources.md)" in text
    assert "suzynotsusie/data-pipeline" in SOURCES.read_text(encoding="utf-8")


def _families(rows: list[Row]) -> dict[str, set[str]]:
    families: dict[str, set[str]] = {}
    for row in rows:
        families.setdefault(row.cell("Family").strip("`"), set()).add(row.topic)
    return families


def test_every_catalogued_procedure_has_its_topic(rows: list[Row]) -> None:
    ids = {p.stem for p in KNOWLEDGE.glob("*/*.yaml")}
    missing = sorted({row.topic for row in rows} - ids)
    assert not missing, f"catalogue rows without a topic file: {missing}"


def test_every_family_of_two_or_more_topics_has_its_card_with_those_members(
    rows: list[Row],
) -> None:
    import yaml

    for family, topics in _families(rows).items():
        path = KNOWLEDGE / "families" / f"{family}.yaml"
        if len(topics) < 2:
            assert not path.exists(), f"{family} has one topic: no menu to offer"
            continue
        members = yaml.safe_load(path.read_text(encoding="utf-8"))["members"]
        assert set(members) == topics, family


def test_the_readme_states_the_coverage(rows: list[Row]) -> None:
    ids = {p.stem for p in KNOWLEDGE.glob("*/*.yaml")}
    covered = sum(row.topic in ids for row in rows)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{covered} of the {len(rows)} procedures" in readme
