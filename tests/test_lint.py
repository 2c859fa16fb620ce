"""The lints of meaning (bot/lint.py) on tiny knowledge bases, and through `bot kb check`."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from bot.bundle import Bundle
from bot.cli import cli
from bot.knowledge import KnowledgeBase, Problem, Text, load
from bot.lint import STRICT, lint, untranslated_title
from tests.conftest import KNOWLEDGE
from tests.test_docs import full_topic, write_kb

DEATH = ["thủ tục khai tử", "làm giấy khai tử", "đăng ký khai tử ở đâu", "khai tử cho bố"]


def topic(tid: str, keywords: dict[str, float], phrasings: list[str]) -> dict[str, Any]:
    data = full_topic(tid, "procedure")
    data["match"] = {"keywords": keywords, "phrasings": phrasings}
    return data


def tiny(root: Path, alpha: list[str], beta: list[str] = DEATH) -> KnowledgeBase:
    """alpha: birth registration, beta: death registration, with the phrasings given."""
    topics = [topic("alpha", {"khai sinh": 5}, alpha), topic("beta", {"khai tử": 5}, beta)]
    return load(write_kb(root, topics), required=())[0]


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_a_phrasing_answered_as_another_topic_is_an_error(tmp_path: Path) -> None:
    # the bare name of beta's procedure, written under alpha: the bot answers beta
    stray = "khai tử"
    kb = tiny(tmp_path, ["làm giấy khai sinh", stray])
    (error,) = lint(kb)
    assert error.severity == "error"
    assert error.file.endswith("procedures/alpha.yaml")
    assert error.line == line_of(tmp_path / "procedures" / "alpha.yaml", f"- {stray}")
    assert error.field == "match.phrasings.1"
    assert error.message == f"alpha: {stray!r} is answered as beta"
    assert [p.severity for p in lint(kb, strict=False)] == ["error"]


def test_a_phrasing_left_unanswered_is_a_warning_or_with_strict_an_error(
    tmp_path: Path,
) -> None:
    stray = "đăng ký khai tử cho bố"
    kb = tiny(tmp_path, ["làm giấy khai sinh", stray])
    (warning,) = lint(kb)
    assert warning.severity == ("error" if STRICT else "warning")
    assert warning.field == "match.phrasings.1"
    # alpha's classifier likes it, beta's key term names it: the bot does not answer
    assert warning.message == f"alpha: {stray!r} is not understood"
    (error,) = lint(kb, strict=True)
    assert (error.severity, error.field) == ("error", "match.phrasings.1")
    assert [p.severity for p in lint(kb, strict=False)] == ["warning"]


def test_a_phrasing_not_understood_is_reported(tmp_path: Path) -> None:
    # no words at all: whatever the matcher learns, it cannot understand this one
    kb = tiny(tmp_path, ["làm giấy khai sinh", "👍👍"])
    (problem,) = lint(kb, strict=True)
    assert problem.message == "alpha: '👍👍' is not understood"


def test_phrasings_that_find_their_topic_are_quiet(tmp_path: Path) -> None:
    assert lint(tiny(tmp_path, ["làm giấy khai sinh", "khai sinh cho con"]), strict=True) == []


def test_the_same_phrasing_under_two_topics_is_an_error(tmp_path: Path) -> None:
    # the same once normalised: case, diacritics, punctuation and teencode aside
    kb = tiny(tmp_path, ["làm giấy khai sinh", "Khai tử ở đâu?"], ["khai tu o dau", *DEATH])
    problems = [p for p in lint(kb) if "also a phrasing" in p.message]
    (error,) = problems
    assert error.severity == "error"
    assert error.file.endswith("procedures/beta.yaml") and error.field == "match.phrasings.0"
    assert error.line == line_of(tmp_path / "procedures" / "beta.yaml", "khai tu o dau")
    assert error.message == (
        "beta: 'khai tu o dau' is also a phrasing of alpha (" + kb.topics["alpha"].source + ")"
    )


def test_a_text_in_one_language_only_is_a_warning(tmp_path: Path) -> None:
    kb = tiny(tmp_path, ["làm giấy khai sinh"])
    alpha = kb.topics["alpha"]
    # The loader refuses an empty language; a knowledge base built in memory can have one.
    changed = dataclasses.replace(
        alpha,
        summary=Text("Đăng ký khai sinh cho trẻ.", "Đăng ký khai sinh cho trẻ."),
        facets={**alpha.facets, "fee": Text("Miễn lệ phí.", ""), "time": Text("", "Same day.")},
    )
    kb = dataclasses.replace(kb, topics={**kb.topics, "alpha": changed})
    problems = {p.field: p for p in lint(kb)}
    assert set(problems) == {"summary", "facets.fee.en", "facets.time.vi"}
    assert all(p.severity == "warning" for p in problems.values())
    assert problems["facets.fee.en"].message == "alpha: written in vi only: 'Miễn lệ phí.'"
    assert problems["facets.time.vi"].message == "alpha: written in en only: 'Same day.'"
    assert problems["summary"].message.startswith("alpha: the same text in vi and en")
    alpha_file = tmp_path / "procedures" / "alpha.yaml"
    assert problems["summary"].line == line_of(alpha_file, "summary:")
    fee = line_of(alpha_file, "fee:")
    assert problems["facets.fee.en"].line == fee + 2  # its `en:` line, after `vi:`


def test_an_english_title_in_vietnamese_is_a_warning(tmp_path: Path) -> None:
    # a family title once split at its commas: "nhận cha" in Vietnamese, "mẹ" in English
    kb = tiny(tmp_path, ["làm giấy khai sinh", "khai sinh cho con"])
    alpha = kb.topics["alpha"]
    changed = dataclasses.replace(
        alpha, name=Text("Đăng ký nhận cha", "mẹ"), short=Text("Nhận cha", "Recognition")
    )
    kb = dataclasses.replace(kb, topics={**kb.topics, "alpha": changed})
    (problem,) = lint(kb, strict=True)
    assert (problem.field, problem.severity) == ("name.en", "warning")
    assert problem.message == "alpha: the English title is written in Vietnamese: 'mẹ'"
    assert problem.line == line_of(tmp_path / "procedures" / "alpha.yaml", "name:") + 2


def test_the_shipped_knowledge_base_titles_are_translated(bundle: Bundle) -> None:
    untranslated = [
        f"{topic.id}.{field}: {message}"
        for topic in bundle.kb.topics.values()
        for field, title in (("name", topic.name), ("short", topic.short))
        if title is not None and (message := untranslated_title(title))
    ]
    assert not untranslated, "\n".join(untranslated)


def test_the_shipped_knowledge_base_has_no_error(bundle: Bundle) -> None:
    errors: list[Problem] = [p for p in lint(bundle.kb) if p.severity == "error"]
    assert not errors, "\n".join(map(str, errors))


def test_kb_check_fails_on_a_phrasing_answered_as_another_topic(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, root)
    path = root / "procedures" / "khai-sinh.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Plainly khai-tu in its own words, so that one copy under khai-sinh cannot teach the
    # classifier enough to make it an ask-back (a warning) instead of a wrong answer.
    stray = "bố em mới mất, đăng ký khai tử ở xã cần mang giấy báo tử không"
    data["match"]["phrasings"].append(stray)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    field = f"match.phrasings.{len(data['match']['phrasings']) - 1}"
    for mode in ("--lenient", "--strict"):
        result = CliRunner().invoke(cli, ["kb", "check", mode, str(root)])
        assert result.exit_code == 1, result.output
        (line,) = [line for line in result.stderr.splitlines() if stray in line]
        assert line.startswith("kb/procedures/khai-sinh.yaml:")
        assert f": error: {field}: khai-sinh: {stray!r} is answered as khai-tu" in line
        assert " errors, " in result.stderr.splitlines()[-1]
