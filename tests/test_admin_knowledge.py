"""The knowledge page (/admin/knowledge): who may read it, the figures of a small knowledge
base in tmp_path (version, verify notes, a past review date on an injected clock, the order
staff check topics in), a failed reload's errors, the meaning lints computed once per version
in a thread (awaited, never slept on), and autoescaping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.bundle import Bundle
from bot.knowledge import KnowledgeError, load
from bot.lint import LintCache, LintKind, kind_of, lint
from bot.models.staff import Role
from bot.staff.knowledge import topic_statuses
from tests.conftest import FakeClock
from tests.test_admin import Admin, log_in, start, text_of
from tests.test_docs import full_topic, write_kb
from webhooks.admin.knowledge import LINTS_KEY
from webhooks.keys import BUNDLE_KEY, RELOADER_KEY

# 2026-12-06 18:00 UTC: already 2026-12-07 01:00 in Việt Nam.
NOW = dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.UTC).timestamp()
PAGE = "/admin/knowledge"
STRAY = "khai tử"  # beta's name, written as a phrasing of alpha: the bot answers beta


def topic(tid: str, keyword: str, phrasings: list[str], **fields: Any) -> dict[str, Any]:
    data = full_topic(tid, "procedure")
    data["match"] = {"keywords": {keyword: 5}, "phrasings": phrasings}
    data.update(fields)
    return data


def small_kb(root: Path) -> Path:
    """alpha: two verify notes (one with markup); beta: past its review date in Việt Nam
    only (UTC is still the 6th); gamma: one verify note, reviewed today at the latest."""
    alpha = topic(
        "alpha",
        "khai sinh",
        ["làm giấy khai sinh", "khai sinh cho con", STRAY],
        verify=[
            {"facet": "fee", "note": "Lệ phí <script>alert(1)</script> chưa rõ"},
            {"note": "Đối chiếu Nghị định mới"},
        ],
        updated="2026-03-01",
    )
    beta = topic("beta", "khai tử", ["thủ tục khai tử", "làm giấy khai tử"], review_by="2026-12-06")
    gamma = topic(
        "gamma",
        "kết hôn",
        ["đăng ký kết hôn", "thủ tục kết hôn"],
        verify=[{"facet": "time", "note": "Thời hạn giải quyết"}],
        review_by="2026-12-07",
    )
    return write_kb(root / "knowledge", [alpha, beta, gamma])


def load_small(root: Path) -> Bundle:
    return Bundle.build(load(root, required=())[0])


@pytest.fixture
async def kb_admin(aiohttp_client: Any, tmp_path: Path) -> Admin:
    root = small_kb(tmp_path)
    clock = FakeClock(NOW)
    admin = await start(
        aiohttp_client, tmp_path, load_small(root), clock, knowledge=str(root), reload_seconds=0
    )
    reloader = admin.client.app[RELOADER_KEY]
    reloader.load = load_small  # the small knowledge base lacks the contract topics
    reloader.clock = clock
    await admin.add("xem", Role.VIEWER)
    assert (await log_in(admin.client, "xem")).status == 303
    return admin


async def read(admin: Admin) -> tuple[str, str]:
    response = await admin.client.get(PAGE)
    assert response.status == 200
    body = await response.text()
    return body, text_of(body)


async def lints_ready(admin: Admin) -> None:
    app = admin.client.app
    await app[LINTS_KEY].wait(app[BUNDLE_KEY].current.kb)


def test_topics_past_review_in_vietnam_first_then_most_verify_notes(tmp_path: Path) -> None:
    kb = load(small_kb(tmp_path), required=())[0]
    today = dt.datetime.fromtimestamp(NOW, dt.timezone(dt.timedelta(hours=7))).date()
    rows = topic_statuses(kb, today)
    assert [r.id for r in rows] == ["beta", "alpha", "gamma"]
    assert [r.past_review for r in rows] == [True, False, False]  # gamma: due today, not past
    assert [len(r.verify) for r in rows] == [0, 2, 1]
    assert rows[1].verify[0].facet == "fee"
    assert rows[1].updated == dt.date(2026, 3, 1)
    assert rows[1].file.endswith("procedures/alpha.yaml")
    # the day before in Việt Nam, beta is not late yet: the order is then by verify notes
    rows = topic_statuses(kb, dt.date(2026, 12, 6))
    assert [r.id for r in rows] == ["alpha", "gamma", "beta"]
    assert not any(r.past_review for r in rows)


async def test_the_page_needs_a_session_and_is_for_viewers(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    root = small_kb(tmp_path)
    admin = await start(aiohttp_client, tmp_path, load_small(root), FakeClock(NOW))
    response = await admin.client.get(PAGE, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/admin/login?next=")
    await admin.add("xem", Role.VIEWER)
    assert (await log_in(admin.client, "xem")).status == 303
    overview = await (await admin.client.get("/admin")).text()
    assert f'href="{PAGE}"' in overview  # linked from the overview's navigation
    await lints_ready(admin)
    assert (await admin.client.get(PAGE)).status == 200


async def test_the_page_shows_the_version_and_each_topics_state(kb_admin: Admin) -> None:
    body, text = await read(kb_admin)
    kb = kb_admin.client.app[BUNDLE_KEY].current.kb
    assert f"Phiên bản {kb.version}" in text
    assert "Lần nạp gần nhất không có lỗi." in text
    assert "Hôm nay 07/12/2026: 1 chủ đề đã quá hạn rà soát, 3 ghi chú cần xác minh." in text
    # beta first (past review), then alpha (two notes), then gamma (one)
    assert body.index('id="topic-beta"') < body.index('id="topic-alpha"')
    assert body.index('id="topic-alpha"') < body.index('id="topic-gamma"')
    beta = text_of(body[body.index('id="topic-beta"') : body.index('id="topic-alpha"')])
    assert "06/12/2026 quá hạn" in beta
    alpha = text_of(body[body.index('id="topic-alpha"') : body.index('id="topic-gamma"')])
    assert "alpha · knowledge/procedures/alpha.yaml" in alpha
    assert "thủ tục" in alpha
    assert "fee (vi): Lệ phí <script>alert(1)</script> chưa rõ" in alpha
    assert "Đối chiếu Nghị định mới" in alpha
    assert "01/03/2026" in alpha  # updated
    assert "quá hạn" not in alpha


async def test_markup_in_the_knowledge_base_is_escaped(kb_admin: Admin) -> None:
    body, _ = await read(kb_admin)
    assert "<script>" not in body
    assert "Lệ phí &lt;script&gt;alert(1)&lt;/script&gt; chưa rõ" in body


async def test_the_lints_are_computed_once_per_version_in_a_thread(kb_admin: Admin) -> None:
    _, text = await read(kb_admin)
    assert "Đang kiểm tra…" in text
    app = kb_admin.client.app
    cache = app[LINTS_KEY]
    kb = app[BUNDLE_KEY].current.kb
    problems = await cache.wait(kb)
    assert problems == lint(kb)
    _, text = await read(kb_admin)
    assert "Đang kiểm tra…" not in text
    assert f"{len(problems)} vấn đề" in text
    assert "Câu mẫu được trả lời thành chủ đề khác (1)" in text
    assert f"procedures/alpha.yaml:{_line(kb.root, 'alpha', STRAY)}" in text
    assert f"alpha: {STRAY!r} is answered as beta" in text
    assert cache.problems(kb) is problems  # cached: not computed again


def _line(root: str, tid: str, phrasing: str) -> int:
    lines = (Path(root) / "procedures" / f"{tid}.yaml").read_text("utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.strip() == f"- {phrasing}")


async def test_lint_cache_computes_each_version_once() -> None:
    calls: list[str] = []
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def compute(kb: Any) -> list[Any]:
        calls.append(kb.version)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return []

    class Kb:
        def __init__(self, version: str) -> None:
            self.version = version

    cache = LintCache(compute)
    one, two = Kb("v1"), Kb("v2")
    assert cache.problems(one) is None  # type: ignore[arg-type]
    assert cache.problems(one) is None  # type: ignore[arg-type]
    release.set()
    assert await cache.wait(one) == []  # type: ignore[arg-type]
    assert cache.problems(one) == []  # type: ignore[arg-type]
    assert await cache.wait(two) == []  # type: ignore[arg-type]
    assert calls == ["v1", "v2"]


async def test_a_failed_reload_shows_its_errors_and_the_version_still_serving(
    kb_admin: Admin,
) -> None:
    app = kb_admin.client.app
    reloader = app[RELOADER_KEY]
    version = app[BUNDLE_KEY].current.kb.version
    path = Path(reloader.root) / "procedures" / "gamma.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["kind"] = "<b>thủ tục</b>"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    kb_admin.clock.advance(600)
    with pytest.raises(KnowledgeError):
        await reloader.reload_now()
    body, text = await read(kb_admin)
    assert f"Phiên bản {version}" in text  # the last good one keeps serving
    assert "Lần nạp lại lúc 07/12/2026 01:10 không thành công" in text
    assert "procedures/gamma.yaml" in text and "kind:" in text
    assert "&lt;b&gt;thủ tục&lt;/b&gt;" in body and "<b>thủ tục</b>" not in body
    # a good reload clears the errors and shows the new load time
    data["kind"] = "procedure"
    data["review_by"] = "2099-01-01"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    kb_admin.clock.advance(60)
    await reloader.reload_now()
    _, text = await read(kb_admin)
    assert "Lần nạp gần nhất không có lỗi." in text
    assert "Nạp lúc 07/12/2026 01:11" in text
    assert app[BUNDLE_KEY].current.kb.version != version


def test_each_lint_has_its_kind(tmp_path: Path) -> None:
    kb = load(small_kb(tmp_path), required=())[0]
    assert [kind_of(p) for p in lint(kb)] == [LintKind.ANSWERED_ELSEWHERE]
