"""Family cards (issue 10): a question that names only a group of variant procedures gets the
group's menu, never one variant picked at random."""

import dataclasses
from pathlib import Path

import pytest

from bot.answers import Composer, topic_payload
from bot.dialog import Dialog
from bot.knowledge import KnowledgeBase, load
from bot.models import Decision, EventKind, Incoming, Lang, Platform
from bot.understanding.matcher import Matcher
from tests.conftest import KNOWLEDGE

BOT = (KNOWLEDGE / "bot.yaml").read_text(encoding="utf-8").split("\nmenu:")[0]
FAMILY = """\
id: nhom-giay
kind: family
name: {vi: Các loại giấy đặc biệt, en: Special papers}
summary: {vi: Có hai loại giấy đặc biệt., en: There are two kinds of special paper.}
members: [giay-goc, giay-mot, giay-hai]
match:
  keywords: {các loại giấy: 4}
  phrasings: [có mấy loại giấy đặc biệt]
"""


def _paper(tid: str, kind: str) -> str:
    return f"""\
id: {tid}
kind: info
name: {{vi: Giấy {kind}, en: Paper {kind}}}
summary: {{vi: Về giấy {kind}., en: About paper {kind}.}}
facets:
  fee: {{vi: Miễn phí., en: Free.}}
match:
  keywords: {{giấy đặc biệt: 4, loại {kind}: 4}}
  phrasings: [xin giấy đặc biệt loại {kind}, giấy loại {kind} làm ở đâu]
"""


def make(root: Path, family: bool) -> KnowledgeBase:
    for folder in ("info", "families"):
        (root / folder).mkdir(parents=True)
    (root / "bot.yaml").write_text(BOT + "\nmenu:\n  - giay-mot\n", encoding="utf-8")
    plain = _paper("giay-goc", "gốc").replace("giấy đặc biệt: 4, ", "").replace("đặc biệt ", "")
    (root / "info" / "giay-goc.yaml").write_text(plain, encoding="utf-8")
    (root / "info" / "giay-mot.yaml").write_text(_paper("giay-mot", "một"), encoding="utf-8")
    (root / "info" / "giay-hai.yaml").write_text(_paper("giay-hai", "hai"), encoding="utf-8")
    if family:
        (root / "families" / "nhom-giay.yaml").write_text(FAMILY, encoding="utf-8")
    kb, _ = load(root, required=())
    return kb


QUESTION = "cho hỏi xin giấy đặc biệt ở đâu"  # names the group, not a variant


def test_without_a_family_the_bot_asks_between_the_two(tmp_path: Path) -> None:
    match = Matcher(make(tmp_path, family=False)).match(QUESTION)
    assert match.decision is Decision.CLARIFY
    assert {c.topic for c in match.candidates[:2]} == {"giay-mot", "giay-hai"}


def test_asking_back_between_two_variants_of_a_family_is_its_card(tmp_path: Path) -> None:
    matcher = Matcher(make(tmp_path, family=True))
    match = matcher.match(QUESTION)
    assert (match.decision, match.topic) == (Decision.ACCEPT, "nhom-giay")
    # A question that names a variant still gets that variant.
    assert matcher.match("xin giấy đặc biệt loại hai ở đâu").topic == "giay-hai"


def test_between_the_family_s_plain_procedure_and_a_variant_it_asks_between_the_two(
    tmp_path: Path,
) -> None:
    kb = make(tmp_path, family=True)
    family = dataclasses.replace(kb.topics["nhom-giay"], members=("giay-mot", "giay-hai"))
    matcher = Matcher(dataclasses.replace(kb, topics={**kb.topics, "nhom-giay": family}))
    match = matcher.match(QUESTION)
    assert match.decision is Decision.CLARIFY
    assert {c.topic for c in match.candidates[:2]} == {"giay-mot", "giay-hai"}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_card_lists_the_variants_and_offers_each(tmp_path: Path, lang: Lang) -> None:
    kb = make(tmp_path, family=True)
    family = kb.topics["nhom-giay"]
    (reply,) = Composer(kb).answer(family, (), lang)
    lines = reply.text.split("\n")
    names = [kb.topics[m].name.get(lang) for m in family.members]
    assert lines == [family.name.get(lang), family.summary.get(lang), *(f"– {n}" for n in names)]
    payloads = [q.payload for q in reply.quick_replies]
    assert payloads[:3] == [topic_payload(m) for m in ("giay-goc", "giay-mot", "giay-hai")]


def test_the_aspect_asked_waits_for_the_choice_of_variant(tmp_path: Path) -> None:
    kb = make(tmp_path, family=True)
    dialog = Dialog(kb, Matcher(kb))
    first = dialog.handle(None, _msg(1, "cho hỏi xin giấy đặc biệt lệ phí bao nhiêu"), 1_000)
    assert first.topic == "nhom-giay"
    assert first.state.facets == ("fee",)
    picked = dialog.handle(first.state, _msg(2, "", topic_payload("giay-hai")), 2_000)
    assert picked.topic == "giay-hai"
    assert "Giấy hai – " in picked.replies[0].text and "Miễn phí." in picked.replies[0].text


def _msg(n: int, text: str, payload: str | None = None) -> Incoming:
    kind = EventKind.POSTBACK if payload else EventKind.TEXT
    return Incoming(Platform.WEBCHAT, "u1", f"m{n}", kind, text, payload)
