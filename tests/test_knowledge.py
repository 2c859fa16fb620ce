import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.knowledge import CONTRACT_TOPICS, KnowledgeError, load, sourcing
from tests.conftest import KNOWLEDGE

MINIMAL_TOPIC = """\
id: chao-hoi
kind: smalltalk
name: {vi: Chào hỏi, en: Greeting}
summary: {vi: Xin chào Anh/chị!, en: Hello!}
match:
  keywords: {xin chào: 5, hello: 5}
  phrasings: [xin chào, hello]
"""
MINIMAL_BOT = (KNOWLEDGE / "bot.yaml").read_text(encoding="utf-8").split("\nmenu:")[0] + (
    "\nmenu:\n  - chao-hoi\n"
)


def make_kb(root: Path, topic: str = MINIMAL_TOPIC, name: str = "chao-hoi") -> Path:
    (root / "smalltalk").mkdir(parents=True, exist_ok=True)
    (root / "smalltalk" / f"{name}.yaml").write_text(topic, encoding="utf-8")
    (root / "bot.yaml").write_text(MINIMAL_BOT, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load(root, required=())
    return [str(p) for p in info.value.problems]


def test_shipped_knowledge_base_loads_with_every_contract_topic() -> None:
    kb, warnings = load(KNOWLEDGE)
    assert set(CONTRACT_TOPICS) <= set(kb.topics)
    assert all(w.severity == "warning" for w in warnings)
    for topic in kb.topics.values():
        if topic.kind == "procedure":
            assert set(topic.facets) == {"documents", "fee", "time", "where", "online", "who"}
            assert topic.review_by is not None and topic.legal_basis


def test_minimal_knowledge_base_loads(tmp_path: Path) -> None:
    kb, _ = load(make_kb(tmp_path), required=())
    assert kb.topics["chao-hoi"].summary.get("en") == "Hello!"
    assert kb.texts.menu == ("chao-hoi",)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = MINIMAL_TOPIC.replace("summary: {vi: Xin chào Anh/chị!, en: Hello!}", "summary: [oops")
    problems = problems_of(make_kb(tmp_path, broken))
    assert len(problems) == 1
    assert (
        problems[0].startswith("knowledge/smalltalk/chao-hoi.yaml:")
        or "chao-hoi.yaml:" in problems[0]
    )
    assert "YAML syntax" in problems[0]


def test_a_key_written_twice_is_an_error_on_the_later_line(tmp_path: Path) -> None:
    topic = MINIMAL_TOPIC.replace(
        "  keywords: {xin chào: 5, hello: 5}",
        "  keywords:\n    xin chào: 5\n    hello: 5\n    xin chào: 4",
    )
    (problem,) = problems_of(make_kb(tmp_path, topic))
    assert "chao-hoi.yaml:9: error: xin chào: written twice (first on line 7): keep one" in problem


def test_the_same_key_in_two_mappings_is_no_duplicate(tmp_path: Path) -> None:
    topic = MINIMAL_TOPIC.replace(
        "name: {vi: Chào hỏi, en: Greeting}", "name: {vi: Chào hỏi, en: Chào hỏi (greeting)}"
    )
    kb, _ = load(make_kb(tmp_path, topic), required=())  # vi/en in name and in summary
    assert kb.topics["chao-hoi"].name.vi == "Chào hỏi"


def test_missing_field_names_its_line(tmp_path: Path) -> None:
    topic = MINIMAL_TOPIC.replace(
        "summary: {vi: Xin chào Anh/chị!, en: Hello!}", "summary: {vi: Chào}"
    )
    (problem,) = problems_of(make_kb(tmp_path, topic))
    assert "chao-hoi.yaml:4: error: summary.en: missing or empty text" in problem


def test_bad_weight_and_wrong_id_are_reported_together(tmp_path: Path) -> None:
    topic = MINIMAL_TOPIC.replace("id: chao-hoi", "id: chao").replace("hello: 5", "hello: lots")
    problems = problems_of(make_kb(tmp_path, topic))
    assert any(":1: error: id: must equal the file name" in p for p in problems)
    assert any(":6: error: match.keywords.hello: weight must be a number" in p for p in problems)


def test_procedure_needs_all_facets(tmp_path: Path) -> None:
    shutil.copytree(KNOWLEDGE, tmp_path / "kb")
    path = tmp_path / "kb" / "procedures" / "khai-sinh.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  online:")
    end = text.index("  who:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = problems_of(tmp_path / "kb")
    assert any("khai-sinh.yaml" in p and "facets.online: missing" in p for p in problems)


def test_missing_contract_topic_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as info:
        load(make_kb(tmp_path))
    assert any(p.field == "khai-sinh" for p in info.value.problems)


def test_review_date_and_verify_notes_are_warnings(tmp_path: Path) -> None:
    shutil.copytree(KNOWLEDGE, tmp_path / "kb")
    _, warnings = load(tmp_path / "kb", today=dt.date(2027, 3, 2))
    fields = {(Path(w.file).name, w.field) for w in warnings}
    assert ("khai-sinh.yaml", "review_by") in fields
    assert ("khai-sinh.yaml", "verify.0") in fields


def test_menu_must_name_known_topics(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    (root / "bot.yaml").write_text(
        MINIMAL_BOT.replace("  - chao-hoi", "  - nope"), encoding="utf-8"
    )
    (problem,) = problems_of(root)
    assert "menu.0: unknown topic id 'nope'" in problem


def test_short_title_must_fit_a_quick_reply(tmp_path: Path) -> None:
    topic = MINIMAL_TOPIC.replace(
        "summary:", "short: {vi: Một tiêu đề quá dài cho nút bấm, en: Hi}\nsummary:"
    )
    (problem,) = problems_of(make_kb(tmp_path, topic))
    assert "short.vi: at most 20 characters" in problem


def test_every_shipped_topic_has_a_short_title() -> None:
    kb, _ = load(KNOWLEDGE)
    assert all(t.short is not None for t in kb.topics.values())


FEE_TOPIC = """\
id: thu-tuc-mau
kind: procedure
name: {vi: Thủ tục mẫu, en: Sample procedure}
summary: {vi: "Lệ phí 8.000 đồng.", en: "The fee is VND 8,000."}
handled_by: {vi: UBND cấp xã, en: The commune}
facets:
  documents: {vi: Tờ khai., en: The form.}
  fee: {vi: "8.000 đồng mỗi bản.", en: "VND 8,000 per copy."}
  time: {vi: Ngay trong ngày., en: The same day.}
  where: {vi: UBND cấp xã., en: The commune.}
  online: {vi: Có., en: Yes.}
  who: {vi: Công dân., en: Citizens.}
legal_basis: [Luật Hộ tịch]
updated: 2026-12-07
review_by: 2027-03-01
match:
  keywords: {thủ tục mẫu: 5}
  phrasings: [thủ tục mẫu]
"""


def make_procedure(root: Path, topic: str) -> Path:
    make_kb(root)
    (root / "procedures").mkdir(exist_ok=True)
    (root / "procedures" / "thu-tuc-mau.yaml").write_text(topic, encoding="utf-8")
    return root


def test_a_fee_without_a_source_or_verify_note_is_refused(tmp_path: Path) -> None:
    problems = problems_of(make_procedure(tmp_path, FEE_TOPIC))
    assert len(problems) == 2  # the facet, and the summary that repeats it unvouched
    assert "facets.fee.vi: states '8.000 đồng' without a source" in problems[0]
    assert "summary.vi: states '8.000 đồng' without a source" in problems[1]


def test_a_sourced_fee_also_vouches_for_the_summary_that_repeats_it(tmp_path: Path) -> None:
    sourced = FEE_TOPIC + 'sources:\n  fee: ["Thông tư 281/2016/TT-BTC"]\n'
    kb, _ = load(make_procedure(tmp_path, sourced), required=())
    assert kb.topics["thu-tuc-mau"].sources == {"fee": ("Thông tư 281/2016/TT-BTC",)}


def test_a_verify_note_on_the_facet_stands_for_its_source(tmp_path: Path) -> None:
    noted = FEE_TOPIC + "verify:\n  - {facet: fee, note: Chưa thấy nghị quyết HĐND tỉnh.}\n"
    load(make_procedure(tmp_path, noted), required=())


def test_a_verify_note_whose_facet_is_not_a_name_is_a_clear_error(tmp_path: Path) -> None:
    # a list there used to raise TypeError (unhashable) instead of naming the line
    noted = FEE_TOPIC + "verify:\n  - {facet: [], note: Chưa thấy nghị quyết HĐND tỉnh.}\n"
    problems = problems_of(make_procedure(tmp_path, noted))
    assert any("verify.0.facet: unknown facet []" in p for p in problems)


def test_a_figure_only_in_the_summary_needs_its_own_source(tmp_path: Path) -> None:
    topic = FEE_TOPIC.replace('"Lệ phí 8.000 đồng."', '"Trả kết quả trong 03 ngày làm việc."')
    topic += 'sources:\n  fee: ["Thông tư 281/2016/TT-BTC"]\n'
    problems = problems_of(make_procedure(tmp_path, topic))
    assert len(problems) == 1 and "summary.vi: states '03 ngày' without a source" in problems[0]


def test_sources_name_facets_and_list_strings(tmp_path: Path) -> None:
    topic = FEE_TOPIC + 'sources:\n  fees: ["x"]\n  fee: "Thông tư 281"\n'
    problems = problems_of(make_procedure(tmp_path, topic))
    assert any("sources.fees: unknown facet" in p for p in problems)
    assert any("sources.fee: must be a list of non-empty strings" in p for p in problems)


FAMILY = """\
id: nhom-chao
kind: family
name: {vi: Các lời chào, en: Greetings}
summary: {vi: Chọn một., en: Pick one.}
members: [chao-hoi, cam-on]
match:
  keywords: {các lời chào: 5}
  phrasings: [có những lời chào nào]
"""
THANKS = MINIMAL_TOPIC.replace("chao-hoi", "cam-on").replace("xin chào: 5, hello: 5", "cảm ơn: 5")


def make_family(root: Path, family: str = FAMILY) -> Path:
    make_kb(root)
    (root / "smalltalk" / "cam-on.yaml").write_text(THANKS, encoding="utf-8")
    (root / "families").mkdir()
    (root / "families" / "nhom-chao.yaml").write_text(family, encoding="utf-8")
    return root


def test_a_family_loads_with_its_members_in_order(tmp_path: Path) -> None:
    kb, _ = load(make_family(tmp_path), required=())
    assert kb.topics["nhom-chao"].kind == "family"
    assert kb.topics["nhom-chao"].members == ("chao-hoi", "cam-on")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ("[chao-hoi]", "a family has 2 to 11 members"),
        ("[chao-hoi, khong-co]", "no topic 'khong-co'"),
        ("[chao-hoi, chao-hoi]", "'chao-hoi' is already a member of nhom-chao"),
        ("[chao-hoi, nhom-chao]", "'nhom-chao' is a family"),
    ],
)
def test_a_family_has_two_to_eleven_distinct_topics(
    tmp_path: Path, members: str, message: str
) -> None:
    family = FAMILY.replace("[chao-hoi, cam-on]", members)
    problems = problems_of(make_family(tmp_path, family))
    assert any(message in p for p in problems), problems


def test_a_family_without_members_is_refused(tmp_path: Path) -> None:
    family = FAMILY.replace("members: [chao-hoi, cam-on]\n", "")
    assert any("members: missing list" in p for p in problems_of(make_family(tmp_path, family)))


def test_every_shipped_facet_has_a_source_or_a_verify_note() -> None:
    # Issue 10: every fact a facet states (documents and addresses too, not only figures) is
    # backed by a source in its file, or a verify note says what is still to be confirmed.
    kb, _ = load(KNOWLEDGE)
    counts = sourcing(kb)
    assert counts.facets > 600
    assert counts.sourced + counts.noted == counts.facets
