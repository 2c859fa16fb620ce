"""`bot review` (issue 11): the review inbox's groups as the dashboard shows them, filtered,
limited or as JSON, and the dashboard's decisions from the command line, audited the same way.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from bot.cli import cli
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply, State
from bot.models.review import Miss, MissKind
from bot.models.staff import AuditEntry
from bot.staff.review import inbox
from bot.store import Store
from bot.text import tokens
from tests.conftest import KNOWLEDGE

MISSED = "bé nhà em chưa có giấy tờ gì"  # not understood by the shipped knowledge base
ASKED_BACK = "liên thông"
RATED = "lệ phí đăng ký kết hôn"


def miss(kind: MissKind, text: str, guess: str | None = None) -> Miss:
    return Miss(kind, " ".join(tokens(text)), guess, ((guess, 0.5),) if guess else ())


async def seed(db: Path) -> None:
    """Three groups: a fallback asked 3 times (2 wordings), an ask-back twice, a 👎 once."""
    store = await Store.open(db)
    try:
        kept = [
            (Platform.ZALO, MISSED, miss(MissKind.FALLBACK, MISSED)),
            (Platform.FACEBOOK, "Bé nhà em chưa có giấy tờ gì!", miss(MissKind.FALLBACK, MISSED)),
            (Platform.WEBCHAT, MISSED, miss(MissKind.FALLBACK, MISSED)),
            (
                Platform.WEBCHAT,
                ASKED_BACK,
                miss(MissKind.CLARIFY, ASKED_BACK, "lien-thong-khai-tu"),
            ),
            (Platform.ZALO, ASKED_BACK, miss(MissKind.CLARIFY, ASKED_BACK, "lien-thong-khai-tu")),
            (
                Platform.FACEBOOK,
                "",
                Miss(MissKind.RATED_DOWN, " ".join(tokens(RATED)), "ket-hon", text=RATED),
            ),
        ]
        for n, (platform, text, kept_miss) in enumerate(kept):
            msg = Incoming(platform, f"u{n}", f"m{n}", EventKind.TEXT, text)
            out = [Outgoing(platform, msg.user_id, Reply("Dạ"))]
            assert await store.complete_turn(msg, State(), out, miss=kept_miss)
    finally:
        await store.close()


async def read(db: Path) -> tuple[Any, list[AuditEntry]]:
    store = await Store.open(db)
    try:
        return await inbox(store), (await store.audit_entries(0, 50))[0]
    finally:
        await store.close()


def runner(tmp_path: Path) -> CliRunner:
    knowledge = tmp_path / "knowledge"
    if not knowledge.exists():
        shutil.copytree(KNOWLEDGE, knowledge)
    return CliRunner(env={"BOT_DB": str(tmp_path / "bot.db"), "BOT_KNOWLEDGE": str(knowledge)})


def test_bot_review_prints_the_groups_most_frequent_first(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path / "bot.db"))
    result = runner(tmp_path).invoke(cli, ["review"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("3 groups from 6 open questions, most frequent first")
    first, second, third = (out.index(f"#{n}  ") for n in (1, 2, 3))
    assert first < second < third
    assert f"#1  3 × «{MISSED}»" in out
    assert "kinds: fallback 3; channels:" in out and "also: «Bé nhà em chưa có giấy tờ gì!»" in out
    assert "guess: (none)" in out
    assert f"#2  2 × «{ASKED_BACK}»" in out
    assert "guess: lien-thong-khai-tu (weighed: lien-thong-khai-tu)" in out
    assert f"#3  1 × «{RATED}»" in out and "kinds: rated_down 1" in out
    assert "guess: ket-hon" in out and "key: le phi dang ky ket hon" in out


def test_bot_review_filters_limits_and_speaks_json(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path / "bot.db"))
    run = runner(tmp_path)
    only = run.invoke(cli, ["review", "--kind", "rated_down"])
    assert only.exit_code == 0, only.output
    assert "#3  1 × «" in only.output and "#1" not in only.output  # the inbox's own number
    limited = run.invoke(cli, ["review", "--limit", "1"]).output
    assert "#1  " in limited and "#2  " not in limited
    lines = run.invoke(cli, ["review", "--json"]).output.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["group"], r["count"], r["guess"]) for r in rows] == [
        (1, 3, None),
        (2, 2, "lien-thong-khai-tu"),
        (3, 1, "ket-hon"),
    ]
    assert rows[0]["kinds"] == {"fallback": 3}
    assert rows[0]["channels"] == {"zalo": 1, "facebook": 1, "webchat": 1}
    assert rows[0]["examples"] == [MISSED, "Bé nhà em chưa có giấy tờ gì!"]
    assert rows[2]["key"] == "le phi dang ky ket hon" and rows[2]["last_seen"].endswith("+07:00")
    assert run.invoke(cli, ["review", "--kind", "handoff"]).output == "No handoff groups.\n"
    assert run.invoke(cli, ["review", "--kind", "oops"]).exit_code == 2


def test_bot_review_on_an_empty_inbox(tmp_path: Path) -> None:
    result = runner(tmp_path).invoke(cli, ["review"])
    assert result.exit_code == 0 and result.output == "No open questions to review.\n"


def test_bot_review_teach_adds_the_phrasing_reloads_and_is_audited(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path / "bot.db"))
    run = runner(tmp_path)
    result = run.invoke(cli, ["review", "teach", "1", "khai-sinh", "--as", "lan"])
    assert result.exit_code == 0, result.output
    assert f"Added «{MISSED}» (3 questions) as a phrasing of khai-sinh." in result.output
    assert "The bot now answers it as khai-sinh" in result.output
    topic = yaml.safe_load((tmp_path / "knowledge/procedures/khai-sinh.yaml").read_text("utf-8"))
    assert MISSED in topic["match"]["phrasings"]
    asked = run.invoke(cli, ["ask", "--json", MISSED])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["topic"] == "khai-sinh"

    snapshot, audit = asyncio.run(read(tmp_path / "bot.db"))
    assert [g.example for g in snapshot.groups] == [ASKED_BACK, RATED]
    (entry,) = audit
    assert (entry.actor, entry.action, entry.target, entry.address) == (
        "lan",
        "review.teach",
        MISSED,
        "cli",
    )
    assert json.loads(entry.after or "{}")["topic"] == "khai-sinh"


def test_bot_review_dismiss_by_key_and_out_of_scope_by_number(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path / "bot.db"))
    run = runner(tmp_path)
    dismissed = run.invoke(cli, ["review", "dismiss", "le phi dang ky ket hon"])
    assert dismissed.exit_code == 0, dismissed.output
    assert dismissed.output == f"Dismissed «{RATED}» (1 question).\n"
    scoped = run.invoke(cli, ["review", "out-of-scope", "2"])
    assert scoped.exit_code == 0, scoped.output
    assert f"Added «{ASKED_BACK}» (2 questions) as a phrasing of ngoai-pham-vi." in scoped.output
    snapshot, audit = asyncio.run(read(tmp_path / "bot.db"))
    assert [g.example for g in snapshot.groups] == [MISSED]
    assert [(e.actor, e.action) for e in audit] == [
        (f"cli:{getpass.getuser()}", "review.out_of_scope"),
        (f"cli:{getpass.getuser()}", "review.dismiss"),
    ]


def test_bot_review_refuses_an_unknown_group_or_topic_and_changes_nothing(
    tmp_path: Path,
) -> None:
    asyncio.run(seed(tmp_path / "bot.db"))
    run = runner(tmp_path)
    before = (tmp_path / "knowledge/procedures/khai-sinh.yaml").read_bytes()
    nowhere = run.invoke(cli, ["review", "dismiss", "9"])
    assert nowhere.exit_code == 1 and "no group '9' in the review inbox" in nowhere.output
    unknown = run.invoke(cli, ["review", "teach", "1", "so-do"])
    assert unknown.exit_code == 1 and "unknown topic 'so-do'; nothing was changed" in unknown.output
    snapshot, audit = asyncio.run(read(tmp_path / "bot.db"))
    assert len(snapshot.groups) == 3 and audit == []
    assert (tmp_path / "knowledge/procedures/khai-sinh.yaml").read_bytes() == before
