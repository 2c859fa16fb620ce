"""The bot against evaluation sets: the project's own (always) and ../shared's dev set (if there)."""

import pytest

from bot.bundle import Bundle
from bot.evaluation import evaluate, load_items, missing_musts
from tests.conftest import ROOT, SHARED_EVAL


def run(bundle: Bundle, path):  # type: ignore[no-untyped-def]
    def ask(q: str) -> tuple[str | None, str]:
        answer = bundle.ask(q)
        return answer.topic, answer.text

    return evaluate(load_items(path), ask)


def rate(pair: tuple[int, int]) -> float:
    ok, n = pair
    return ok / n


def test_must_comparison_rules() -> None:
    assert not missing_musts("Lệ phí: 3.000.000 đồng", ["3000000", "dong"])
    assert not missing_musts("Liên hệ Công an tỉnh", ["cong an|police"])
    assert missing_musts("Tòa án", ["cong an"]) == ("cong an",)


# The project's own sets, each floor 1-2 points under the figure reached, so that a regression of
# a message or two fails. Figures (in-scope / out-of-scope / must) on 2026-12-06; raise the
# floors with them. Baselines are the figures before any tuning on the set.
# - eval.jsonl: written independently of the knowledge base, harder than the dev set
#   (96.3% / 97.9% / 95.0%);
# - eval_chatty.jsonl: long chatty messages with backstory, teencode and mixed Vietnamese-English
#   (100% / 100% / 100%; baseline 93.2% / 84.1% / 90.9%);
# - eval_blind.jsonl: written before reading the knowledge base (100% / 100% / 100%;
#   baseline 96.5% / 94.4% / 95.8%);
# - eval_personas.jsonl: six imagined writers (farmer's wife, student, retired cadre, expat,
#   migrant worker, shop owner), written before reading the knowledge base (98.8% / 94.1% /
#   100%; baseline 91.2% / 79.4% / 91.7%).
OWN_SETS = [
    ("eval.jsonl", 0.95, 0.96, 0.93),
    ("eval_chatty.jsonl", 0.98, 0.98, 0.98),
    ("eval_blind.jsonl", 0.98, 0.98, 0.98),
    ("eval_personas.jsonl", 0.97, 0.93, 0.98),
]


@pytest.mark.parametrize(("name", "in_scope", "out_of_scope", "must"), OWN_SETS)
def test_own_evaluation_sets(
    bundle: Bundle, name: str, in_scope: float, out_of_scope: float, must: float
) -> None:
    report = run(bundle, ROOT / "tests" / "data" / name)
    assert rate(report.in_scope) >= in_scope
    assert rate(report.out_of_scope) >= out_of_scope
    assert rate(report.must) >= must


@pytest.mark.skipif(not SHARED_EVAL.exists(), reason="../shared/eval/dev.jsonl not present")
# The shared dev set keeps the shared bars (2026-12-06: 100% / 100% / 100%).
def test_shared_dev_set_meets_the_bars(bundle: Bundle) -> None:
    report = run(bundle, SHARED_EVAL)
    assert rate(report.in_scope) >= 0.97
    assert rate(report.out_of_scope) >= 0.95
    assert rate(report.must) == 1.0
