"""A variant found only by modifier terms many topics share ("nước ngoài", "biên giới") is
discounted: it says how, not what (bot/understanding/matcher.py, `_modifiers`)."""

from pathlib import Path

from bot.knowledge import KnowledgeBase, load
from bot.models import Decision
from bot.understanding.matcher import Matcher
from tests.conftest import KNOWLEDGE

BOT = (KNOWLEDGE / "bot.yaml").read_text(encoding="utf-8").split("\nmenu:")[0]
EVENTS = {"alpha": "đăng ký việc alpha", "beta": "đăng ký việc beta", "gamma": "đăng ký việc gamma"}


def _topic(tid: str, term: str, extends: str | None = None) -> str:
    more = f"  extends: {extends}\n" if extends else ""
    return f"""\
id: {tid}
kind: info
name: {{vi: Việc {tid}, en: Matter {tid}}}
summary: {{vi: Về việc {tid}., en: About {tid}.}}
facets:
  fee: {{vi: Miễn phí., en: Free.}}
match:
{more}  keywords: {{"{term}": 5}}
  phrasings: [{term} ở đâu, hỏi {term}]
"""


def make(root: Path) -> KnowledgeBase:
    (root / "info").mkdir(parents=True)
    (root / "bot.yaml").write_text(BOT + "\nmenu:\n  - alpha\n", encoding="utf-8")
    for tid, term in EVENTS.items():
        (root / "info" / f"{tid}.yaml").write_text(_topic(tid, term), encoding="utf-8")
        variant = _topic(f"{tid}-nn", "nước ngoài", extends=tid).replace(": 5}", ": 4}")
        variant = variant.replace("phrasings: [", f"phrasings: [{term} ở nước ngoài, ")
        (root / "info" / f"{tid}-nn.yaml").write_text(variant, encoding="utf-8")
    kb, _ = load(root, required=())
    return kb


def test_a_shared_modifier_alone_does_not_name_a_variant(tmp_path: Path) -> None:
    matcher = Matcher(make(tmp_path))
    scores, strongest, *_ = matcher._key_terms(matcher.normalise("thủ tục nước ngoài"))
    variants = [i for i, t in enumerate(matcher.topics) if t.id.endswith("-nn")]
    # Each variant's 4 for "nước ngoài", shared by three topics, is halved: below the bar of
    # asking back (2.5), so three variants are no longer offered on that word alone.
    assert [scores[i] for i in variants] == [2.0, 2.0, 2.0]
    assert [strongest[i] for i in variants] == [2.0, 2.0, 2.0]
    assert matcher.match("thủ tục nước ngoài").decision is not Decision.ACCEPT


def test_the_modifier_with_its_event_names_the_variant(tmp_path: Path) -> None:
    matcher = Matcher(make(tmp_path))
    match = matcher.match("đăng ký việc beta ở nước ngoài")
    assert (match.decision, match.topic) == (Decision.ACCEPT, "beta-nn")
