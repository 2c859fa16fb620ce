import asyncio
import getpass
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cases.actions import lookup
from bot.cases.lookup import Throttled
from bot.cli import cli
from bot.models import LookupRequest, LookupResult, Platform
from bot.store import Store
from tests.case_builders import CODE, csv_bytes, row, write
from tests.conftest import KNOWLEDGE, ROOT


def test_ask_json_contract() -> None:
    result = CliRunner().invoke(cli, ["ask", "--json", "phí chứng thực chữ ký", "thời tiết"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["topic"] for r in rows] == ["chung-thuc-chu-ky", None]
    assert set(rows[0]) == {"question", "topic", "kind", "score", "reply"}
    assert rows[0]["kind"] == "procedure" and "10.000" in rows[0]["reply"]
    assert rows[1]["kind"] == "unknown"


def test_ask_reads_stdin_lines() -> None:
    result = CliRunner().invoke(cli, ["ask", "--json"], input="khai sinh\n\nkhai tử\n")
    topics = [json.loads(line)["topic"] for line in result.output.splitlines()]
    assert topics == ["khai-sinh", "khai-tu"]


def test_kb_check_passes_on_shipped_knowledge() -> None:
    result = CliRunner().invoke(cli, ["kb", "check", str(KNOWLEDGE)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].startswith("ok: ")


def test_kb_check_names_file_and_line_of_a_broken_edit(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(KNOWLEDGE, tmp_path / "kb")
    path = tmp_path / "kb" / "procedures" / "khai-tu.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "name: [broken"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(cli, ["kb", "check", str(tmp_path / "kb")])
    assert result.exit_code == 1
    assert "procedures/khai-tu.yaml:" in result.output and "YAML syntax" in result.output


def test_eval_reports_and_applies_thresholds(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    rows = [
        {"q": "phi trich luc", "expect": ["trich-luc-ho-tich"], "style": "x", "must": ["8000"]},
        {"q": "thời tiết mai", "expect": [], "style": "y"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    ok = CliRunner().invoke(cli, ["eval", str(data)])
    assert ok.exit_code == 0, ok.output
    assert "in-scope topic accuracy:   1/1" in ok.output
    strict = CliRunner().invoke(cli, ["eval", str(data), "--knowledge", str(ROOT / "knowledge")])
    assert strict.exit_code == 0
    data.write_text('{"q": "khai sinh", "expect": ["khai-tu"], "style": "x"}', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["eval", str(data)])
    assert bad.exit_code == 1 and "in-scope accuracy 0.000 < 0.97" in bad.output


def test_ask_explain_shows_what_decided() -> None:
    result = CliRunner().invoke(cli, ["ask", "--explain", "kết hôn với người nước ngoài"])
    assert result.exit_code == 0
    assert "request: the whole message" in result.output
    assert "tokens: ket hon voi nguoi nuoc ngoai" in result.output
    assert "  ket-hon-nuoc-ngoai: " in result.output
    assert "learned: ket-hon-nuoc-ngoai +" in result.output
    assert "scores: ket-hon-nuoc-ngoai " in result.output
    assert "band: accept at 4 with 1 over the next topic" in result.output
    assert "decision: accept ket-hon-nuoc-ngoai" in result.output
    assert "asks about: nothing in particular" in result.output


def test_ask_explain_shows_the_aspects_asked_in_order() -> None:
    result = CliRunner().invoke(cli, ["ask", "--explain", "khai tử mất bao lâu, có tốn tiền không"])
    assert result.exit_code == 0
    assert "asks about: time, fee" in result.output


def test_ask_explain_shows_the_request_apart_from_the_story() -> None:
    story = "Tôi đã ly hôn năm 2020. Nay tôi muốn đăng ký kết hôn với người khác thì cần gì?"
    result = CliRunner().invoke(cli, ["ask", "--explain", story])
    assert result.exit_code == 0
    assert "request: 'Nay tôi muốn đăng ký kết hôn với người khác thì cần gì?'" in result.output
    assert "story: 'Tôi đã ly hôn năm 2020.'" in result.output
    assert "decision: accept ket-hon " in result.output


def test_cases_unlock_reopens_a_slowed_down_dossier_and_is_recorded(tmp_path: Path) -> None:
    runner = CliRunner(env={"BOT_DB": str(tmp_path / "bot.db")})
    export = write(tmp_path, csv_bytes([row()]))
    assert runner.invoke(cli, ["cases", "import", str(export)]).exit_code == 0

    async def lookups(digits: list[str]) -> list[LookupResult]:
        store = await Store.open(tmp_path / "bot.db")
        try:  # fresh web chat sessions, one guess each
            return [
                await lookup(store, Platform.WEBCHAT, str(n), LookupRequest(CODE, d))
                for n, d in enumerate(digits)
            ]
        finally:
            await store.close()

    *guesses, owner = asyncio.run(lookups(["0000"] * 5 + ["5678"]))
    assert [g.outcome for g in guesses] == ["no_match"] * 5 and isinstance(owner, Throttled)
    result = runner.invoke(cli, ["cases", "unlock", CODE.lower(), "--reason", "đến một cửa"])
    assert result.exit_code == 0, result.output
    assert f"{CODE}: 5 failed checks forgiven" in result.output
    assert [r.outcome for r in asyncio.run(lookups(["5678"]))] == ["found"]
    unknown = runner.invoke(cli, ["cases", "unlock", "H56-NOPE-0001"])
    assert unknown.exit_code == 1 and "no dossier H56-NOPE-0001" in unknown.output

    async def unlocks() -> list[dict[str, Any]]:
        store = await Store.open(tmp_path / "bot.db")
        try:
            return await store.case_rows("case_unlocks")
        finally:
            await store.close()

    (recorded,) = asyncio.run(unlocks())
    assert (recorded["code"], recorded["reason"], recorded["forgiven"]) == (CODE, "đến một cửa", 5)
    assert recorded["by"] == getpass.getuser()
