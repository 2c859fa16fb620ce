"""The speller: `corrects` says what `correct` would do, without ranking candidates."""

import json
import random
from pathlib import Path

from bot.bundle import Bundle
from bot.spelling import Speller
from bot.text import tokens

DATA = Path(__file__).parent / "data"


def _one_edit_away(word: str, rng: random.Random) -> list[str]:
    letters = "abcdeghiklmnopqrstuvxy"
    out = [word[:i] + word[i + 1 :] for i in range(len(word))]  # deletions
    out += [word[:i] + rng.choice(letters) + word[i + 1 :] for i in range(len(word))]
    out += [word[:i] + rng.choice(letters) + word[i:] for i in range(len(word) + 1)]
    out += [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
    return out


def test_corrects_agrees_with_correct(bundle: Bundle) -> None:
    speller = bundle.matcher.speller
    rng = random.Random(7)
    said = {w for t in bundle.kb.topics.values() for p in t.phrasings for w in tokens(p)}
    words = sorted(w for w in said if w.isalpha() and len(w) >= 3)
    probes = {t for w in rng.sample(words, 150) for t in _one_edit_away(w, rng)}
    for path in (DATA / "eval_fresh.jsonl", DATA / "eval_unseen.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            probes.update(tokens(json.loads(line)["q"]))
    probes.update(("thuwcj", "kys", "chu7ng", "khia", "x1", "123", "ab", "a-b"))
    changed = 0
    for token in sorted(probes):
        expected = speller.correct(token) != token
        changed += expected
        assert speller.corrects(token) is expected, token
    # Both answers occur often: the comparison is not one-sided.
    assert changed > 300
    assert len(probes) - changed > 300


def test_corrects_finds_a_swap_an_insertion_and_a_deletion() -> None:
    speller = Speller(["khai", "sinh", "chứng"], preferred=())
    assert speller.corrects("khia")  # two letters swapped
    assert speller.corrects("sinhh")  # one letter too many
    assert speller.corrects("sih")  # one letter missing
    assert not speller.corrects("khai")  # known
    assert not speller.corrects("xyzw")  # nothing near


def test_restore_mends_a_long_key_term_word_with_a_letter_dropped_or_swapped() -> None:
    speller = Speller(
        ["foreigner", "certificate", "pending", "regain", "filed"],
        ["foreigner", "certificate", "pending", "regain", "filed"],
    )
    assert speller.restore("foregner") == "foreigner"  # a letter dropped
    assert speller.restore("foriegner") == "foreigner"  # two letters swapped
    assert speller.restore("certifcate") == "certificate"
    # Other words, not slips: a letter added, another letter, or too short to tell.
    assert speller.restore("spending") == "spending"
    assert speller.restore("remain") == "remain"
    assert speller.restore("field") == "field"
    assert speller.restore("foreigner") == "foreigner"  # known words stay


def test_an_english_message_has_its_long_slips_mended(bundle: Bundle) -> None:
    m = bundle.matcher
    assert "foreigner" in m.normalise(
        "how long to get marriage certificate if husband is foriegner"
    )
    # ... and no other unknown English word is corrected freely.
    assert m.normalise("the field was filled") == tokens("the field was filled")
