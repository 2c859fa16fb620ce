"""Editing a topic from the dashboard's form, below the web layer (issue 11): the form read
from and written into a topic's YAML (comments, order and untouched bytes kept), the checks of
the loader refusing an invalid edit with the field and the reason and writing nothing, the
version check refusing a stale form, and the desk's save and revert, audited, on a copy of the
shipped knowledge base.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.bundle import Bundle
from bot.config import Settings
from bot.knowledge import load
from bot.lint import stray_phrasings
from bot.model_cache import ModelCache
from bot.staff.topic_desk import Result, TopicDesk, revertible
from bot.staff.topic_edit import (
    EditRefused,
    check_edit,
    read_topic,
    stray_refusals,
    version_of,
    write,
)
from bot.staff.topic_form import FormError, TopicForm, field_of, parse_form
from bot.staff.topic_yaml import EditError, apply_form, read_form
from bot.store import Store
from tests.conftest import KNOWLEDGE, ROOT
from tests.test_admin_knowledge import STRAY, small_kb

FEE = "Đăng ký khai sinh đúng hạn được miễn lệ phí; quá hạn thì hỏi UBND xã."


def with_facet(form: TopicForm, facet: str, lang: str, text: str) -> TopicForm:
    facets = {f: dict(v) for f, v in form.facets.items()}
    facets[facet][lang] = text
    return dataclasses.replace(form, facets=facets)


def changed_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "kb" / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    return root


# -- the form and the YAML ---------------------------------------------------------------------


def test_a_facet_edit_rewrites_only_its_lines_and_keeps_comments_and_order() -> None:
    source = (KNOWLEDGE / "procedures" / "khai-sinh.yaml").read_text(encoding="utf-8")
    form = read_form(source)
    assert apply_form(source, form) == (source, ())  # nothing changed: not a byte
    text, changed = apply_form(source, with_facet(form, "fee", "vi", FEE))
    assert changed == ("facets.fee.vi",)
    removed = [line for line in changed_lines(source, text) if line.startswith("-")]
    assert len(removed) == 4 and changed_lines(source, text) == [*removed, f"+      {FEE}"]
    assert all("lệ phí" in line or "HĐND" in line or "công chức" in line for line in removed)
    assert "# Quick-reply title (Messenger allows 20 characters).\n" in text
    assert "  # Weighted concept terms (written naturally" in text
    assert read_form(text) == with_facet(form, "fee", "vi", FEE)


def test_lists_are_edited_item_by_item_keeping_the_comments_between_them() -> None:
    source = (
        "id: x\n"
        "summary:\n  vi: Tóm tắt\n  en: Summary\n"
        "verify:\n  - facet: fee\n    note: Lệ phí cũ\n"
        "match:\n"
        "  phrasings:\n"
        "    - một\n"
        "    - hai\n"
        "    # about three\n"
        "    - ba  # three's own note\n"
        "\n"
        "  # the key terms\n"
        "  keywords:\n    một: 5\n"
    )
    form = read_form(source)
    assert form.phrasings == ("một", "hai", "ba") and form.verify["fee"] == ("Lệ phí cũ",)
    edited = dataclasses.replace(
        form,
        phrasings=("một", "ba", "bốn"),
        verify={**form.verify, "fee": (), "time": ("Thời hạn mới",)},
        sources={**form.sources, "time": ("Luật Hộ tịch, Điều 16",)},
    )
    text, changed = apply_form(source, edited)
    assert set(changed) == {"phrasings", "verify.fee", "verify.time", "sources.time"}
    assert text == (
        "id: x\n"
        "summary:\n  vi: Tóm tắt\n  en: Summary\n"
        "sources:\n  time:\n    - Luật Hộ tịch, Điều 16\n"
        "verify:\n  - facet: time\n    note: Thời hạn mới\n"
        "match:\n"
        "  phrasings:\n"
        "    - một\n"
        "    # about three\n"
        "    - ba  # three's own note\n"
        "    - bốn\n"
        "\n"
        "  # the key terms\n"
        "  keywords:\n    một: 5\n"
    )
    assert read_form(text) == edited


def test_a_long_new_text_is_folded_and_lines_become_a_literal_block() -> None:
    source = "id: x\nsummary:\n  vi: Ngắn\n  en: Short\n"
    long = " ".join(["Một câu khá dài về thủ tục hành chính"] * 6)
    form = read_form(source)
    summary = {"vi": long, "en": "First line\nSecond line"}
    text, _ = apply_form(source, dataclasses.replace(form, summary=summary))
    assert "  vi: >-\n" in text and "  en: |-\n    First line\n    Second line\n" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    assert read_form(text).summary == summary


def test_the_posted_form_is_read_field_by_field() -> None:
    posted = {"phrasings": " một \r\n\r\n hai  ba \r\n", "updated": "2026-12-07"}
    form = parse_form(posted)
    assert form.phrasings == ("một", "hai ba") and form.updated == "2026-12-07"
    assert form.summary == {"vi": "", "en": ""}  # not posted, no base: empty
    # With the file's form as the base, only what was posted changes.
    base = read_form((KNOWLEDGE / "procedures" / "khai-sinh.yaml").read_text(encoding="utf-8"))
    partial = parse_form({"facets.fee.vi": FEE, "verify.fee": ""}, base)
    assert partial == dataclasses.replace(
        with_facet(base, "fee", "vi", FEE), verify={**base.verify, "fee": ()}
    )
    with pytest.raises(FormError) as refused:
        parse_form({"review_by": "01/03/2027"})
    assert refused.value.problems == [
        ("review_by", "không phải một ngày (năm-tháng-ngày, ví dụ 2027-03-01)")
    ]
    assert field_of("facets.fee.vi") == "facets.fee.vi"
    assert field_of("facets.fee") == "facets.fee.vi"
    assert field_of("match.phrasings.3") == "phrasings"
    assert field_of("sources.time") == "sources.time"
    assert field_of("match.keywords.x") is None and field_of("verify.0") is None


def test_a_file_the_round_trip_would_change_is_not_edited() -> None:
    source = "id: x\nsummary: {vi: a,   en: b}\n"  # ruamel would respace the flow mapping
    with pytest.raises(EditError):
        apply_form(source, read_form(source))


# -- the checks and the version ----------------------------------------------------------------


def test_an_invalid_edit_names_the_field_and_the_reason_and_writes_nothing(
    knowledge: Path,
) -> None:
    path = knowledge / "procedures" / "khai-sinh.yaml"
    before = path.read_bytes()
    found = read_topic(knowledge, "khai-sinh")
    form = read_form(found.text)
    # A figure on the documents facet, which has no source: the loader's figure rule.
    stated = with_facet(form, "documents", "vi", "Nộp lệ phí 50.000 đồng.")
    no_source = dataclasses.replace(stated, verify={**form.verify, "documents": ()})
    with pytest.raises(EditRefused) as refused:
        check_edit(knowledge, "khai-sinh", no_source, found.version)
    [refusal] = refused.value.refusals
    assert refusal.field == "facets.documents.vi" and not refused.value.conflict
    assert "50.000" in refusal.reason and "ô «Nguồn»" in refusal.reason
    assert refusal.where.startswith("knowledge/procedures/khai-sinh.yaml:")
    # The same figure with a source is accepted.
    sourced = dataclasses.replace(
        no_source, sources={**form.sources, "documents": ("Nghị quyết HĐND tỉnh",)}
    )
    assert check_edit(knowledge, "khai-sinh", sourced, found.version).changed
    # A procedure's facet emptied, and a phrasing of another topic.
    emptied = with_facet(form, "time", "en", "")
    other = read_form((knowledge / "procedures" / "ket-hon.yaml").read_text(encoding="utf-8"))
    asked = other.phrasings[0].upper() + " ?"  # the same once normalised
    taken = dataclasses.replace(form, phrasings=(*form.phrasings, asked))
    reasons = {}
    for name, bad in (("emptied", emptied), ("taken", taken)):
        with pytest.raises(EditRefused) as refused:
            check_edit(knowledge, "khai-sinh", bad, found.version)
        reasons[name] = [(r.field, r.reason) for r in refused.value.refusals]
    assert reasons["emptied"] == [("facets.time.en", "không được để trống.")]
    [(field, reason)] = reasons["taken"]
    assert field == "phrasings" and "đã là câu mẫu của chủ đề" in reason and "ket-hon" in reason
    assert path.read_bytes() == before


def test_a_stale_version_is_a_conflict_and_nothing_is_written(knowledge: Path) -> None:
    path = knowledge / "procedures" / "khai-sinh.yaml"
    found = read_topic(knowledge, "khai-sinh")
    edited = with_facet(read_form(found.text), "fee", "vi", FEE)
    checked = check_edit(knowledge, "khai-sinh", edited, found.version)
    # Someone else saves first: the form's version is stale, the planned write refused.
    path.write_text(found.text.replace("Khai sinh\n", "Khai sinh con\n", 1), encoding="utf-8")
    other = path.read_bytes()
    with pytest.raises(EditRefused) as refused:
        check_edit(knowledge, "khai-sinh", edited, found.version)
    assert refused.value.conflict
    with pytest.raises(EditRefused) as refused:
        write(checked)
    assert refused.value.conflict and path.read_bytes() == other
    assert version_of(other.decode()) != found.version


# -- the desk: save, audit, revert -------------------------------------------------------------


@pytest.fixture
async def desk(knowledge: Path, store: Store) -> TopicDesk:
    models = ModelCache(ROOT / Settings().cache)  # the session bundle's fit: read, not refitted

    async def reload() -> Bundle:
        return await asyncio.to_thread(Bundle.load, knowledge, None, 1800, models)

    return TopicDesk(knowledge, store, reload)


def sides(entry: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return json.loads(entry.before), json.loads(entry.after)


async def test_a_save_is_audited_and_reverted_and_a_stale_revert_refused(
    desk: TopicDesk, store: Store, knowledge: Path
) -> None:
    path = knowledge / "procedures" / "khai-sinh.yaml"
    original = path.read_text(encoding="utf-8")
    edited = with_facet(read_form(original), "fee", "vi", FEE)
    saved = await desk.save("khai-sinh", edited, version_of(original), "lan", "10.0.0.1", 100.0)
    assert saved.result is Result.DONE and saved.knowledge_version and not saved.reload_problems
    text = path.read_text(encoding="utf-8")
    assert FEE in text and saved.version == version_of(text)

    [entry], _ = await store.audit_entries(0, 10)
    before, after = sides(entry)
    assert (entry.actor, entry.action, entry.target, entry.address) == (
        "lan",
        "topic.edit",
        "khai-sinh",
        "10.0.0.1",
    )
    assert list(before["fields"]) == list(after["fields"]) == ["facets.fee.vi"]
    assert after["fields"]["facets.fee.vi"] == FEE
    assert before["text"] == original and after["text"] == text
    assert after["file"] == "knowledge/procedures/khai-sinh.yaml"
    assert revertible(entry)

    # The same form again changes nothing; saving from the old version is a conflict.
    again = await desk.save("khai-sinh", edited, saved.version or "", "lan", "", 101.0)
    assert again.result is Result.UNCHANGED
    stale = await desk.save("khai-sinh", edited, version_of(original), "lan", "", 102.0)
    assert stale.result is Result.CONFLICT and path.read_text(encoding="utf-8") == text

    reverted = await desk.revert(entry.id, "admin", "", 103.0)
    assert reverted.result is Result.DONE and path.read_text(encoding="utf-8") == original
    [undo, _], _ = await store.audit_entries(0, 10)
    undo_before, undo_after = sides(undo)
    assert (undo.action, undo.target, undo_after["reverts"]) == ("topic.revert", "khai-sinh", 1)
    assert undo_before["text"] == text and undo_after["text"] == original
    # Undone once, the edit cannot be undone again: the file is no longer what it wrote.
    assert (await desk.revert(entry.id, "admin", "", 104.0)).result is Result.CONFLICT
    assert path.read_text(encoding="utf-8") == original
    assert (await desk.revert(999, "admin", "", 105.0)).result is Result.GONE


def test_a_phrasing_the_bot_answers_as_another_topic_is_refused_on_the_phrasings(
    tmp_path: Path,
) -> None:
    kb, _ = load(small_kb(tmp_path), required=())
    problems = stray_phrasings(kb, "alpha")
    [refusal] = stray_refusals(kb, "alpha", problems)
    assert refusal.field == "phrasings"
    assert refusal.where == f"{problems[0].file}:{problems[0].line}"
    assert refusal.reason.startswith(f"«{STRAY}»: với câu mẫu này bot trả lời thành chủ đề «")
    assert "(beta)" in refusal.reason
    assert stray_phrasings(kb, "beta") == []
