"""What a knowledge reload changed in the procedures, and the clerks' announcement of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from bot.bundle import Bundle
from bot.clerks.changes import (
    MAX_LINES,
    ChangeSet,
    TopicChange,
    announcement_text,
    diff,
    diff_facts,
    facts,
    facts_json,
    parse_facts,
)
from bot.knowledge import KnowledgeBase, Text, Topic


def with_topic(kb: KnowledgeBase, topic: Topic, version: str = "v2") -> KnowledgeBase:
    return dataclasses.replace(kb, topics={**kb.topics, topic.id: topic}, version=version)


def edited(topic: Topic, **facets: str) -> Topic:
    new = dict(topic.facets)
    for facet, vi in facets.items():
        new[facet] = Text(vi, new[facet].en)
    return dataclasses.replace(topic, facets=new)


@pytest.fixture(scope="module")
def kb(bundle: Bundle) -> KnowledgeBase:
    return bundle.kb


def test_the_same_knowledge_changes_nothing(kb: KnowledgeBase) -> None:
    changes = diff(kb, dataclasses.replace(kb, version="v2"))
    assert changes.empty and changes.version == "v2"


def test_changed_facets_are_named_in_their_order_with_the_updated_date(kb: KnowledgeBase) -> None:
    old = kb.topics["khai-tu"]
    new = dataclasses.replace(
        edited(old, time="Trong ngày làm việc.", fee="Miễn lệ phí."), updated=dt.date(2027, 1, 1)
    )
    changes = diff(kb, with_topic(kb, new))
    assert changes == ChangeSet(
        "v2", changed=(TopicChange("khai-tu", old.name.vi, ("fee", "time"), dt.date(2027, 1, 1)),)
    )


def test_only_vietnamese_facets_of_procedures_count(kb: KnowledgeBase) -> None:
    old = kb.topics["khai-tu"]
    english = dict(old.facets)
    english["fee"] = Text(old.facets["fee"].vi, "Free of charge, changed wording.")
    taught = dataclasses.replace(
        old, facets=english, phrasings=(*old.phrasings, "xin giấy chứng tử"), summary=Text("x", "y")
    )
    assert diff(kb, with_topic(kb, taught)).empty
    info = next(t for t in kb.topics.values() if t.kind.value == "info" and t.facets)
    assert diff(kb, with_topic(kb, edited(info, **{next(iter(info.facets)): "Khác."}))).empty


def test_procedures_added_and_removed(kb: KnowledgeBase) -> None:
    old = kb.topics["khai-tu"]
    copy = dataclasses.replace(old, id="khai-tu-moi", name=Text("Khai tử mới", "New death"))
    topics = {tid: t for tid, t in kb.topics.items() if tid != "ket-hon"} | {copy.id: copy}
    changes = diff(kb, dataclasses.replace(kb, topics=topics, version="v3"))
    assert changes.added == (("khai-tu-moi", "Khai tử mới"),)
    assert changes.removed == (("ket-hon", kb.topics["ket-hon"].name.vi),)
    assert changes.changed == ()


def test_the_announcement_names_procedures_and_facets_in_vietnamese(kb: KnowledgeBase) -> None:
    changes = ChangeSet(
        "v2",
        added=(("a", "Thủ tục A"),),
        removed=(("b", "Thủ tục B"),),
        changed=(TopicChange("khai-tu", "Đăng ký khai tử", ("fee", "time"), dt.date(2027, 1, 1)),),
    )
    text = announcement_text(changes, kb.texts)
    assert "• Đăng ký khai tử: thay đổi lệ phí, thời gian (áp dụng từ ngày 01/01/2027)" in text
    assert "Thủ tục mới được bổ sung (1):\n• Thủ tục A" in text
    assert "Thủ tục không còn được hướng dẫn (1):\n• Thủ tục B" in text
    assert text.startswith("Sở Tư pháp thông báo:") and "Anh/chị" in text
    assert "khai-tu" not in text  # names, not ids


def test_a_long_change_set_is_cut_and_counted(kb: KnowledgeBase) -> None:
    many = tuple((f"t{i}", f"Thủ tục {i}") for i in range(MAX_LINES + 5))
    text = announcement_text(ChangeSet("v2", added=many), kb.texts)
    assert len(re.findall(r"^• ", text, re.M)) == MAX_LINES
    assert "… và 5 thủ tục khác." in text and len(text) < 4000


def test_a_versions_facts_survive_the_store_and_diff_like_the_knowledge(kb: KnowledgeBase) -> None:
    old = kb.topics["khai-tu"]
    new = with_topic(
        kb, dataclasses.replace(edited(old, fee="Miễn lệ phí."), updated=dt.date(2027, 1, 1))
    )
    stored = parse_facts(facts_json(facts(kb)))
    assert stored == facts(kb)
    assert diff_facts(stored, facts(new)) == diff(kb, new)
    assert diff_facts(stored, facts(new)).changed[0].facets == ("fee",)
    for unreadable in (None, "", "not json", '{"version": "v1"}', "[]"):
        assert parse_facts(unreadable) is None  # a baseline is recorded again, nothing guessed
