"""The bot against evaluation sets: the project's own (always) and ../shared's dev set (if there);
the evaluation's own figures (confident wrong, asked back, per kind) and its cross-validation."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.bundle import Bundle
from bot.cli import cli
from bot.evaluation import (
    Ask,
    Bars,
    Item,
    Report,
    cross_validate,
    evaluate,
    fold_split,
    load_items,
    missing_musts,
    teach,
)
from bot.knowledge import KnowledgeBase, load
from bot.text import tokens
from tests.conftest import ROOT, SHARED_EVAL
from tests.test_docs import full_topic, write_kb

DATA = ROOT / "tests" / "data"
OWN_FILES = ("eval.jsonl", "eval_blind.jsonl", "eval_chatty.jsonl", "eval_personas.jsonl")


def asker(bundle: Bundle) -> Ask:
    def ask(q: str) -> tuple[str | None, str, bool]:
        answer = bundle.ask(q)
        # As `bot eval` counts it: a family card asks which variant was meant.
        return answer.topic, answer.text, answer.kind in ("clarify", "family")

    return ask


def run(bundle: Bundle, path: Path) -> Report:
    return evaluate(load_items(path), asker(bundle))


def rate(pair: tuple[int, int]) -> float:
    ok, n = pair
    return ok / n


def test_must_comparison_rules() -> None:
    assert not missing_musts("Lệ phí: 3.000.000 đồng", ["3000000", "dong"])
    assert not missing_musts("Liên hệ Công an tỉnh", ["cong an|police"])
    assert missing_musts("Tòa án", ["cong an"]) == ("cong an",)


# The project's own sets, each floor 1-2 points under the figure reached, so that a regression of
# a message or two fails. Figures (in-scope / out-of-scope / must) on 2026-12-06; raise the
# floors with them. Baselines are the figures before any tuning on the set. On 2026-12-07 the
# learned matcher (issue 9) read eval.jsonl 96.6% / 100% / 91.7% (two must checks lost with
# eval.jsonl:25 and :6), chatty 99.1% / 100% / 100%, blind 99.5% / 100% / 100%, personas
# 98.8% / 97.1% / 100%; these sets were tuned on before, so `bot eval --folds` is the evidence.
# - eval.jsonl: written independently of the knowledge base, harder than the dev set
#   (96.3% / 97.9% / 95.0%);
# - eval_chatty.jsonl: long chatty messages with backstory, teencode and mixed Vietnamese-English
#   (100% / 100% / 100%; baseline 93.2% / 84.1% / 90.9%);
# - eval_blind.jsonl: written before reading the knowledge base (100% / 100% / 100%;
#   baseline 96.5% / 94.4% / 95.8%);
# - eval_personas.jsonl: six imagined writers (farmer's wife, student, retired cadre, expat,
#   migrant worker, shop owner), written before reading the knowledge base (98.8% / 94.1% /
#   100%; baseline 91.2% / 79.4% / 91.7%).
# On 2026-12-07, with the catalogue (issue 10: 147 topics, 94 lines relabelled where a new topic
# is the exact procedure, tests/data/relabel_catalogue.jsonl) they read eval 95.3% / 100% /
# 91.7%, chatty 97.8% / 97.6% / 100%, blind 98.5% / 94.1% / 95.8%, personas 95.7% / 90.6% /
# 100%: the larger catalogue cost the old topics up to 3.6 points (README, Evaluation), and the
# floors follow the figures down rather than hide it. Later the same day (listing questions,
# typo reading by pair support, the modifier discount, 32 more lines relabelled by blind
# readers): eval 96.6% / 100% / 91.7%, chatty 98.7% / 97.6% / 100%, blind 99.0% / 97.0% /
# 95.8%, personas 98.1% / 96.9% / 100%; the floors rose with them. In the evening (each
# topic's sample of other examples chosen by text; 915 phrasings taught to the catalogue's
# topics, the out-of-scope topic and the referrals): eval 95.6% / 100% / 91.7%, chatty 98.7% /
# 100% / 97.0% (a "công chức bản dịch" typo now asks back between notarising and a
# translator's signature, which carries no fee), blind 99.0% / 100% / 95.8%, personas 96.9% /
# 100% / 91.7% (a terse "ct ban sao hop dong thue nha, phi?" is now refused): the must floors
# follow them down.
OWN_SETS = [
    ("eval.jsonl", 0.95, 0.97, 0.9),
    ("eval_chatty.jsonl", 0.97, 0.95, 0.96),
    ("eval_blind.jsonl", 0.97, 0.95, 0.95),
    ("eval_personas.jsonl", 0.96, 0.95, 0.9),
]


@pytest.mark.parametrize(("name", "in_scope", "out_of_scope", "must"), OWN_SETS)
def test_own_evaluation_sets(
    bundle: Bundle, name: str, in_scope: float, out_of_scope: float, must: float
) -> None:
    report = run(bundle, ROOT / "tests" / "data" / name)
    assert rate(report.in_scope) >= in_scope
    assert rate(report.out_of_scope) >= out_of_scope
    assert rate(report.must) >= must


# The catalogue's blind set (issue 10; 2026-12-07: 79.9% in scope, 9.8% confident wrong when
# first measured, 83.7% / 8.4% after the day's work, 86.1% / 6.5% after the evening's
# teaching), the listing set (30 questions for a group's procedures, 30 about one procedure in
# like words: 78.3% blind, 88.3% now) and the fresh blind set (tests/data/eval_fresh.md:
# 83.5% / 9.1% measured once before the evening's teaching, 84.1% / 6.8% after it).
@pytest.mark.parametrize(
    ("name", "in_scope", "max_wrong"),
    [
        ("eval_catalogue.jsonl", 0.84, 0.08),
        ("eval_listing.jsonl", 0.86, 0.05),
        ("eval_fresh.jsonl", 0.82, 0.08),
    ],
)
def test_catalogue_sets(bundle: Bundle, name: str, in_scope: float, max_wrong: float) -> None:
    report = run(bundle, ROOT / "tests" / "data" / name)
    assert rate(report.in_scope) >= in_scope
    assert rate(report.confident_wrong) <= max_wrong


# The reply's facts (tests/data/eval_facts.md: 78.4 % of replies held their fact when first
# measured, 82.9 % once the aspects' language was taught; in scope 89.7 %, confident wrong 2.9 %;
# 92.9 % since a question back answers the asked facet for each topic it offers, 2026-12-08).
def test_the_facts_set_keeps_the_replies_facts(bundle: Bundle) -> None:
    report = run(bundle, ROOT / "tests" / "data" / "eval_facts.jsonl")
    assert rate(report.must) >= 0.9
    assert rate(report.in_scope) >= 0.87
    assert rate(report.confident_wrong) <= 0.05


# The ninth blind set, English, a tuning set after its first reading (2026-12-07: 59.7 % in
# scope and 12.5 % confident wrong before the glossary and the demonyms; 68.2 % and 10.6 % on
# 2026-12-08).
def test_the_english_set_keeps_its_figures(bundle: Bundle) -> None:
    report = run(bundle, ROOT / "tests" / "data" / "eval_english.jsonl")
    assert rate(report.in_scope) >= 0.66
    assert rate(report.out_of_scope) >= 0.85
    assert rate(report.confident_wrong) <= 0.125


# The tenth blind set, held out (tests/data/eval_dawn.md: read once on 2026-12-08, 83.1 % in
# scope and 7.9 % confident wrong on the session's starting code, 86.8 % and 8.2 % on its end).
# A floor, not a target: nobody tunes on it.
def test_the_tenth_blind_set_holds_its_first_reading(bundle: Bundle) -> None:
    report = run(bundle, ROOT / "tests" / "data" / "eval_dawn.jsonl")
    assert rate(report.in_scope) >= 0.85
    assert rate(report.out_of_scope) >= 0.83
    assert rate(report.confident_wrong) <= 0.09


@pytest.mark.skipif(not SHARED_EVAL.exists(), reason="../shared/eval/dev.jsonl not present")
# The shared dev set keeps the shared bars (2026-12-06: 100% / 100% / 100%).
def test_shared_dev_set_meets_the_bars(bundle: Bundle) -> None:
    report = run(bundle, SHARED_EVAL)
    assert rate(report.in_scope) >= 0.97
    assert rate(report.out_of_scope) >= 0.95
    assert rate(report.must) == 1.0


# --- confident wrong, asked back, per kind ---------------------------------------------------


def item(q: str, *expect: str, kind: str | None = None, line: int = 1) -> Item:
    return Item(q, tuple(expect), "x", None, (), line, kind=kind)


def scripted(answers: dict[str, tuple[str | None, bool]]) -> Ask:
    """An ask callback answering each question as scripted: (topic, asked back)."""
    return lambda q: (answers[q][0], "", answers[q][1])


def test_replies_without_their_fact_are_told_apart_by_why() -> None:
    def fact(q: str) -> Item:
        return Item(q, ("a",), "x", "fee", ("8000",), 1)

    replies = {
        "has it": ("a", "Lệ phí 8.000 đồng", False),
        "asked back": ("a", "Anh/chị muốn hỏi về A hay B?", True),
        "other topic": ("c", "Lệ phí 50.000 đồng", False),
        "not understood": (None, "Xin lỗi", False),
        "own reply": ("a", "Giấy tờ cần có: tờ khai", False),
    }
    report = evaluate([fact(q) for q in replies], lambda q: replies[q])
    assert report.must == (1, 5)
    assert report.must_misses == "1 asked back, 2 another topic or none, 1 the topic's own reply"
    lines = report.lines()
    assert "  without the fact: " + report.must_misses in lines
    assert any("asked back, missing ['8000']" in line for line in lines)


def test_confident_wrong_counts_answers_of_a_topic_the_line_does_not_expect() -> None:
    items = [
        item("right", "a", "b"),
        item("wrong", "a"),
        item("asked back wrongly", "a"),
        item("not understood", "a"),
        item("other domain answered", kind="other"),
        item("other domain refused", kind="other"),
        item("other domain asked back", kind="other"),
    ]
    report = evaluate(
        items,
        scripted(
            {
                "right": ("b", False),
                "wrong": ("c", False),
                "asked back wrongly": ("c", True),
                "not understood": (None, False),
                "other domain answered": ("a", False),
                "other domain refused": (None, False),
                "other domain asked back": ("a", True),
            }
        ),
    )
    assert [o.confident_wrong for o in report.outcomes] == [0, 1, 0, 0, 1, 0, 0]
    assert report.confident_wrong == (2, 7)
    assert report.asked_back == (2, 7)
    assert report.in_scope == (1, 4) and report.out_of_scope == (1, 3)
    lines = report.lines()
    assert "confident wrong:           2/7  28.6%" in lines
    assert "asked back:                2/7" in lines
    assert "  line 1: confident wrong c: 'wrong'" in lines
    assert "  line 1: asked back c: 'asked back wrongly'" in lines


def test_a_callback_without_the_clarify_flag_still_works() -> None:
    report = evaluate([item("q", "a")], lambda q: ("b", "reply"))
    assert report.confident_wrong == (1, 1) and report.asked_back == (0, 1)


def test_accuracy_per_kind_is_reported_when_lines_have_a_kind() -> None:
    answers = scripted({"a1": ("a", False), "a2": ("b", False), "n": (None, False)})
    with_kind = [item("a1", "a", kind="plain"), item("a2", "a", kind="story"), item("n")]
    lines = evaluate(with_kind, answers).lines()
    section = lines[lines.index("== accuracy per kind ==") + 1 :]
    assert section[:2] == [
        f"  {'plain':32}   1/1   100.0%",
        f"  {'story':32}   0/1     0.0%",
    ]
    assert "== accuracy per kind ==" not in evaluate([item("n")], answers).lines()


def test_kind_and_writer_are_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"q": "a", "expect": ["x"], "kind": "story", "writer": "w1"},
        {"q": "b", "expect": [], "persona": "p"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    first, second = load_items(path)
    assert (first.kind, first.writer, first.where) == ("story", "w1", "set.jsonl:1")
    assert (second.kind, second.writer) == (None, "p")


def test_max_wrong_bar() -> None:
    report = evaluate([item("q", "a"), item("r", "a")], scripted({"q": ("b", 0), "r": ("a", 0)}))
    assert Bars(0, 0, 0, max_wrong=1.0).failures(report) == []
    assert Bars(0, 0, 0, max_wrong=0.5).failures(report) == []
    assert Bars(0, 0, 0, max_wrong=0.4).failures(report) == ["confident wrong 0.500 > 0.4"]


# --- cross-validation --------------------------------------------------------------------------


def own_items() -> list[Item]:
    return [i for name in OWN_FILES for i in load_items(DATA / name)]


def test_folds_hold_every_line_out_once_stratified_by_topic() -> None:
    items = own_items()
    k = 5
    folds = fold_split(items, k, seed=3)
    assert len(folds) == len(items) and set(folds) == set(range(k))
    # lines that read the same (5 pairs across the files) share their fold...
    fold_of: dict[str, set[int]] = {}
    topic_of: dict[str, str] = {}
    for it, f in zip(items, folds, strict=True):
        key = " ".join(tokens(it.q))
        fold_of.setdefault(key, set()).add(f)
        topic_of.setdefault(key, it.expect[0] if it.expect else "")
    assert all(len(fs) == 1 for fs in fold_of.values())
    # ...and, counted once, fill the folds evenly, each topic spread over them evenly
    sizes = Counter(f for (f,) in fold_of.values())
    assert max(sizes.values()) - min(sizes.values()) <= 1, sizes
    per_topic: dict[str, Counter[int]] = {}
    for key, (f,) in fold_of.items():
        per_topic.setdefault(topic_of[key], Counter())[f] += 1
    assert len(per_topic) > 30  # the topics of the catalogue, and out of scope
    for topic, counts in per_topic.items():
        assert max(counts.values()) - min(counts[f] for f in range(k)) <= 1, (topic, counts)
    assert fold_split(items, k, seed=3) == folds
    assert fold_split(items, k, seed=4) != folds


def test_folds_are_the_same_in_every_process() -> None:
    code = (
        "import json; from pathlib import Path; from bot.evaluation import fold_split, load_items;"
        f"items = [i for n in {list(OWN_FILES)!r} for i in load_items(Path({str(DATA)!r}) / n)];"
        "print(json.dumps(fold_split(items, 5, seed=7)))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert json.loads(runs[0]) == json.loads(runs[1]) == fold_split(own_items(), 5, seed=7)


def test_too_few_lines_for_the_folds_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 folds"):
        fold_split([item("a", "x")], 1)
    with pytest.raises(ValueError, match="cannot make 3 folds"):
        fold_split([item("a", "x"), item("b", "x"), item("a", "y")], 3)


def test_a_held_out_line_is_never_a_training_phrasing_of_its_fold(bundle: Bundle) -> None:
    items = own_items()
    base = {" ".join(tokens(p)) for t in bundle.kb.topics.values() for p in t.phrasings}
    taught_in: list[set[str]] = []
    asked_in: list[set[str]] = []

    def build(kb: KnowledgeBase) -> Ask:
        phrasings = {" ".join(tokens(p)) for t in kb.topics.values() for p in t.phrasings}
        taught_in.append(phrasings - base)
        asked = set[str]()
        asked_in.append(asked)

        def ask(q: str) -> tuple[str | None, str, bool]:
            asked.add(" ".join(tokens(q)))
            return None, "", False

        return ask

    result = cross_validate(items, bundle.kb, build, k=4, seed=1)
    assert taught_in[0] == set()  # the plain run: the knowledge base alone
    assert asked_in[0] == {" ".join(tokens(i.q)) for i in items}
    for taught, asked in zip(taught_in[1:], asked_in[1:], strict=True):
        assert taught and asked and not taught & asked
    assert [o.item for o in result.pooled.outcomes] == items
    assert sum(len(r.outcomes) for r in result.folds) == len(items)


def tiny_kb(root: Path) -> KnowledgeBase:
    alpha = full_topic("alpha", "procedure")
    alpha["match"] = {"keywords": {"khai sinh": 5}, "phrasings": ["thủ tục khai sinh"]}
    beta = full_topic("beta", "procedure")
    beta["match"] = {"keywords": {"khai tử": 5}, "phrasings": ["thủ tục khai tử"]}
    other = full_topic("ngoai-pham-vi", "outofscope")
    other["match"] = {"keywords": {"thuế": 5}, "phrasings": ["nộp thuế"]}
    return load(write_kb(root, [alpha, beta, other]), required=())[0]


def test_teach_adds_lines_as_phrasings_of_their_topic(tmp_path: Path) -> None:
    kb = tiny_kb(tmp_path)
    taught, n = teach(
        kb,
        [
            item("giấy tờ khai sinh", "alpha", "beta"),
            item("thủ tục khai tử", "beta"),  # already a phrasing
            item("mai trời mưa không"),
            item("đổi bằng lái", "no-such-topic"),
            item("🙂", "alpha"),
        ],
    )
    assert n == 2
    assert taught.topics["alpha"].phrasings == ("thủ tục khai sinh", "giấy tờ khai sinh")
    assert taught.topics["beta"] is kb.topics["beta"]
    assert taught.topics["ngoai-pham-vi"].phrasings == ("nộp thuế", "mai trời mưa không")
    assert kb.topics["alpha"].phrasings == ("thủ tục khai sinh",)  # the original is untouched


def test_cross_validation_teaches_the_held_out_fold(tmp_path: Path) -> None:
    """Two lines that name both procedures but mean the death: the knowledge base alone asks
    back (or guesses), while each line, taught as a phrasing, makes its twin in the other fold
    answered."""
    kb = tiny_kb(tmp_path)
    story = "ông nội em mất rồi, giấy khai sinh của ông với khai tử làm thế nào"
    items = [item(story, "beta", line=1), item(story + " ạ", "beta", line=2)]

    def build(kb_: KnowledgeBase) -> Ask:
        return asker(Bundle.build(kb_))

    result = cross_validate(items, kb, build, k=2)
    assert [(o.topic, o.clarify) for o in result.pooled.outcomes] == [("beta", False)] * 2
    assert [(o.topic, o.clarify) for o in result.plain.outcomes] != [("beta", False)] * 2
    assert result.pooled.in_scope == (2, 2) and result.plain.in_scope[0] < 2


def test_eval_cli_cross_validates_several_files(tmp_path: Path) -> None:
    rows = [
        ("phí trích lục khai sinh", ["trich-luc-ho-tich"]),
        ("xin bản sao trích lục khai sinh", ["trich-luc-ho-tich"]),
        ("đăng ký khai tử cho bà", ["khai-tu"]),
        ("khai tử ở đâu", ["khai-tu"]),
        ("giá vàng hôm nay", []),
        ("thời tiết mai thế nào", []),
    ]
    files = []
    for n, part in enumerate((rows[:3], rows[3:])):
        path = tmp_path / f"set{n}.jsonl"
        path.write_text(
            "\n".join(json.dumps({"q": q, "expect": e}, ensure_ascii=False) for q, e in part),
            encoding="utf-8",
        )
        files.append(str(path))
    # a bar below any figure: the thresholds apply to the cross-validated figures
    result = CliRunner().invoke(cli, ["eval", "--folds", "2", "--max-wrong", "-1", *files])
    assert result.exit_code == 1 and "Error: confident wrong 0.000 > -1.0" in result.stderr
    out = result.stdout
    assert "== cross-validated, pooled over 2 folds ==" in out
    assert "== plain vs 2-fold cross-validated (seed 0; 6 lines, folds of 3-3) ==" in out
    table = out.split("== plain vs", 1)[1].splitlines()[2:]
    assert [line.split()[0] for line in table] == [
        "in-scope",
        "out-of-scope",
        "reply",
        "confident",
        "asked",
    ]
    assert "fold 2/2:" in result.stderr and "fold 2/2:" not in out
    assert CliRunner().invoke(cli, ["eval", "--folds", "1", *files]).exit_code == 2
