"""The communes as data, the clerk registry file, and `bot clerks import|add|list|remove`."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from click.testing import CliRunner

from bot.cases.table import CasesFileError, Table, read_table
from bot.clerks.communes import UnknownCommuneError, commune_key, load_communes
from bot.clerks.registry import parse_clerks, parse_row
from bot.cli import cli
from bot.config import Settings
from bot.models import Platform
from bot.models.clerks import Clerk, Recipient
from bot.store import Store

if TYPE_CHECKING:
    from tests.conftest import FakeClock

COMMUNES = load_communes()
HEADER = "Họ và tên,Xã/phường,Nền tảng,ID người dùng,Số điện thoại"
ZALO_ID = "4558424660619243532"
RETENTION = Settings().retention


# -- the communes ------------------------------------------------------------------------


def test_the_province_has_124_communes_and_wards_with_their_source() -> None:
    kinds = [c.kind for c in COMMUNES.items]
    assert len(COMMUNES.items) == 124
    assert (kinds.count("xã"), kinds.count("phường")) == (117, 7)
    assert "1684/NQ-UBTVQH15" in COMMUNES.source
    assert len({c.code for c in COMMUNES.items}) == 124
    assert len({commune_key(c.name) for c in COMMUNES.items}) == 124


@pytest.mark.parametrize(
    "typed",
    ["Xã Lũng Cú", "lung cu", "LŨNG CÚ", "xa Lung Cu", "  Xã   lũng  cú ", "X. Lũng Cú", "00715"],
)
def test_a_name_matches_without_case_accents_or_prefix(typed: str) -> None:
    assert COMMUNES.find(typed).label == "Xã Lũng Cú"


def test_wards_match_with_their_number() -> None:
    assert COMMUNES.find("phường hà giang 1").code == "00694"
    assert COMMUNES.find("Ha Giang 2").code == "00691"
    assert COMMUNES.find("P. Minh Xuân").label == "Phường Minh Xuân"


def test_an_unknown_commune_is_refused_with_the_closest_names() -> None:
    with pytest.raises(UnknownCommuneError) as caught:
        COMMUNES.find("Lũng Củ Cú")
    assert "Xã Lũng Cú" in caught.value.closest
    with pytest.raises(UnknownCommuneError) as typo:
        COMMUNES.find("Xã Mèo Vạt")
    assert typo.value.closest[0] == "Xã Mèo Vạc"
    with pytest.raises(UnknownCommuneError):
        COMMUNES.find("Hà Nội")  # never guessed: a near name is a suggestion, not a match


# -- the registry file -------------------------------------------------------------------


def table(*lines: str) -> Table:
    return Table("clerks.csv", [(n, line.split(",")) for n, line in enumerate(lines, 1)])


def test_good_rows_are_kept_and_bad_rows_reported_by_line_with_the_reason() -> None:
    parsed = parse_clerks(
        table(
            "Danh sách cán bộ tư pháp - hộ tịch",
            HEADER,
            f"Nguyễn Văn An,Xã Lũng Cú,zalo,{ZALO_ID},0912 345 678",
            "Trần Thị Bình,phuong ha giang 1,Facebook,1256217357730577,",
            f"Lê Văn Cường,Xã Lũng Củ Cú,zalo,{ZALO_ID}1,",
            "Phạm Thị Dung,Xã Đồng Văn,viber,123456789,",
            "Hoàng Văn Em,Xã Đồng Văn,zalo,abc,",
            ",,,,",
            f"Vũ Thị Gấm,Xã Mèo Vạc,zalo,{ZALO_ID},",
            "Đỗ Văn Hải,Xã Mèo Vạc,zalo,987654321,12ab",
            ",Xã Mèo Vạc,zalo,987654322,",
        ),
        COMMUNES,
    )
    assert [(c.name, c.commune, c.platform, c.user_id, c.phone) for c in parsed.clerks] == [
        ("Nguyễn Văn An", "00715", Platform.ZALO, ZALO_ID, "0912345678"),
        ("Trần Thị Bình", "00694", Platform.FACEBOOK, "1256217357730577", ""),
    ]
    reasons = {row.line: row.reason for row in parsed.rejected}
    assert set(reasons) == {5, 6, 7, 9, 10, 11}
    assert "unknown commune" in reasons[5] and "Xã Lũng Cú" in reasons[5]
    assert "zalo or facebook" in reasons[6]
    assert "user id" in reasons[7]
    assert reasons[9] == "the same clerk as line 3"
    assert "phone" in reasons[10]
    assert "no name" in reasons[11]


def test_a_file_without_the_key_columns_is_refused_whole() -> None:
    with pytest.raises(CasesFileError, match=r"missing: .*ID người dùng"):
        parse_clerks(table("Họ và tên,Xã/phường,Nền tảng", "An,Lũng Cú,zalo"), COMMUNES)


def test_headers_match_as_the_dossier_import_matches_them(tmp_path: Path) -> None:
    path = tmp_path / "can-bo.csv"
    text = "HO VA TEN;XA / PHUONG;nen tang (zalo|facebook);ID NGUOI DUNG;SDT\n"
    path.write_text("\ufeff" + text + f"An;Lung Cu;ZALO;{ZALO_ID};\n", encoding="utf-8")
    parsed = parse_clerks(read_table(path), COMMUNES)
    assert [c.user_id for c in parsed.clerks] == [ZALO_ID] and not parsed.rejected


def test_an_xlsx_registry_and_an_id_excel_turned_into_a_number(tmp_path: Path) -> None:
    path = tmp_path / "can-bo.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(["Nguyễn Văn An", "Lũng Cú", "zalo", ZALO_ID, "0912345678"])
    sheet.append(["Trần Thị Bình", "Đồng Văn", "zalo", float(ZALO_ID), None])  # lost digits
    sheet.append(["Lê Văn Cường", "Mèo Vạc", "facebook", 1256217357730, None])  # short: exact
    book.save(path)
    parsed = parse_clerks(read_table(path), COMMUNES)
    assert [(c.name, c.user_id) for c in parsed.clerks] == [
        ("Nguyễn Văn An", ZALO_ID),
        ("Lê Văn Cường", "1256217357730"),
    ]
    assert [r.line for r in parsed.rejected] == [3]
    assert "format it as Text" in parsed.rejected[0].reason


def test_one_row_as_bot_clerks_add_checks_it() -> None:
    row = {"name": "An", "commune": "lung cu", "platform": "zalo", "user_id": ZALO_ID}
    assert parse_row(row, COMMUNES) == Clerk("An", "00715", Platform.ZALO, ZALO_ID)
    assert "unknown commune" in str(parse_row({**row, "commune": "Atlantis"}, COMMUNES))


# -- the store ---------------------------------------------------------------------------


async def test_importing_again_updates_by_platform_and_user_id(store: Store) -> None:
    an = Clerk("An", "00715", Platform.ZALO, ZALO_ID)
    first = await store.upsert_clerks([an, Clerk("Bình", "00694", Platform.FACEBOOK, "12345")])
    again = await store.upsert_clerks([an, Clerk("Bình", "00691", Platform.FACEBOOK, "12345")])
    assert (first.added, again.unchanged, again.updated) == (2, 1, 1)
    clerks = await store.clerks()
    assert [(c.name, c.commune) for c in clerks] == [("Bình", "00691"), ("An", "00715")]
    assert [c.name for c in await store.clerks("00715")] == ["An"]
    found = await store.clerk(ZALO_ID)
    assert found is not None and found.name == "An"
    assert await store.clerk(str(found.id)) == found
    assert await store.remove_clerk(found.id) == 0
    assert await store.clerk(ZALO_ID) is None
    assert await store.remove_clerk(found.id) == -1


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})


def test_bot_clerks_import_add_list_remove(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "can-bo.csv"
    lines = [HEADER, f"Nguyễn Văn An,Lũng Cú,zalo,{ZALO_ID},", "Trần Bình,Atlantis,zalo,55555,"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["clerks", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "line 3: unknown commune or ward 'Atlantis'" in result.output

    added = runner.invoke(
        cli,
        ["clerks", "add", "--name", "Trần Bình", "--commune", "xã đồng văn", "--platform",
         "facebook", "--user-id", "1256217357730577", "--phone", "0912.345.678"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Added Trần Bình, Xã Đồng Văn, facebook 1256217357730577." in added.output
    bad = runner.invoke(
        cli,
        ["clerks", "add", "--name", "X", "--commune", "Mèo Vạt", "--platform", "zalo",
         "--user-id", "123456"],
    )  # fmt: skip
    assert bad.exit_code == 1 and "closest: Xã Mèo Vạc" in bad.output

    listed = runner.invoke(cli, ["clerks", "list"])
    assert listed.exit_code == 0
    assert "Nguyễn Văn An\tXã Lũng Cú\tzalo\t" + ZALO_ID in listed.output
    assert "Trần Bình\tXã Đồng Văn\tfacebook\t1256217357730577\t0912345678" in listed.output
    one = runner.invoke(cli, ["clerks", "list", "--commune", "dong van"])
    assert "Trần Bình" in one.output and "Nguyễn Văn An" not in one.output

    removed = runner.invoke(cli, ["clerks", "remove", ZALO_ID])
    assert removed.exit_code == 0 and "Removed Nguyễn Văn An" in removed.output
    with closing(sqlite3.connect(tmp_path / "bot.db")) as conn:
        assert conn.execute("SELECT name FROM clerks").fetchall() == [("Trần Bình",)]
    assert runner.invoke(cli, ["clerks", "remove", ZALO_ID]).exit_code == 1


def test_an_unreadable_registry_file_imports_nothing(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(cli, ["clerks", "import", str(path)])
    assert result.exit_code == 1 and "Nothing was imported" in result.output


# -- personal data -----------------------------------------------------------------------


async def test_forgetting_a_clerk_and_purging_old_notices(store: Store, clock: FakeClock) -> None:
    await store.upsert_clerks([Clerk("An", "00715", Platform.ZALO, ZALO_ID)])
    group = Recipient("group:g", "Zalo group g", Platform.ZALO_GROUP, "g1")
    clerk = Recipient(f"clerk:zalo:{ZALO_ID}", "An", Platform.ZALO, ZALO_ID)
    await store.queue_notice("e1", "một", [group, clerk])
    await store.queue_notice("e2", "hai", [group, clerk])
    for _ in range(2):  # one message per user at a time
        for row in await store.claim_due(clock(), 10, 60):
            await store.mark_sent(row.id)
    forgotten = await store.forget_user(Platform.ZALO, ZALO_ID)
    assert (forgotten.rows["clerks"], forgotten.rows["clerk_notices"]) == (1, 2)
    assert await store.clerks() == []
    assert [n.recipient for n in await store.notices()] == ["group:g", "group:g"]

    await store.queue_notice("e3", "ba", [group])  # pending: never purged
    clock.advance(RETENTION.audit + 1)
    report = await store.purge_expired(RETENTION)
    assert report.rows["clerk_notices"] == 2
    assert [n.event for n in await store.notices()] == ["e3"]
