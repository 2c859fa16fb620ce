"""Fitted classifiers kept on disk (bot/model_cache.py): read back by key, never stale."""

import dataclasses
from pathlib import Path

from bot.config import MatcherSettings
from bot.knowledge import KnowledgeBase, load
from bot.model_cache import ModelCache
from bot.understanding.learned import LearnedModel
from bot.understanding.matcher import Matcher, model_key
from tests.test_families import make


def kb_of(tmp_path: Path) -> KnowledgeBase:
    return make(tmp_path / "kb", family=True)


class Counting(ModelCache):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.hits = self.puts = 0

    def get(self, key: str) -> LearnedModel | None:
        found = super().get(key)
        self.hits += found is not None
        return found

    def put(self, key: str, model: LearnedModel) -> None:
        self.puts += 1
        super().put(key, model)


def test_a_second_matcher_reads_the_fitted_model_back(tmp_path: Path) -> None:
    kb = kb_of(tmp_path)
    store = Counting(tmp_path / "cache")
    first = Matcher(kb, models=store)
    second = Matcher(kb, models=store)
    assert (store.puts, store.hits) == (1, 1)
    question = "cho hỏi xin giấy đặc biệt loại hai ở đâu"
    assert list(second.learned.scores(question)) == list(first.learned.scores(question))
    assert second.match(question) == first.match(question)


def test_the_key_changes_with_what_the_model_is_fitted_on(tmp_path: Path) -> None:
    kb = kb_of(tmp_path)
    settings = MatcherSettings()
    topic = kb.topics["giay-mot"]
    taught = dataclasses.replace(topic, phrasings=(*topic.phrasings, "giấy loại một xin ở đâu"))
    other = dataclasses.replace(kb, topics={**kb.topics, "giay-mot": taught})
    assert model_key(kb, settings) == model_key(kb_of(tmp_path / "again"), settings)
    assert model_key(other, settings) != model_key(kb, settings)
    assert model_key(kb, dataclasses.replace(settings, learned_c=2.0)) != model_key(kb, settings)


def test_an_unreadable_file_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    kb = kb_of(tmp_path)
    store = Counting(tmp_path / "cache")
    Matcher(kb, models=store)
    (kept,) = (tmp_path / "cache").glob("learned-*.joblib")
    kept.write_bytes(b"not a model")
    Matcher(kb, models=store)
    assert (store.puts, store.hits) == (2, 0)
    assert store.get(kept.name.split("-", 2)[2].removesuffix(".joblib")) is not None


def test_only_the_newest_files_stay(tmp_path: Path) -> None:
    store = ModelCache(tmp_path / "cache", keep=2)
    model = Matcher(kb_of(tmp_path)).learned
    for key in ("a", "b", "c"):
        store.put(key, model)
    assert store.get("a") is None
    assert store.get("b") is not None and store.get("c") is not None


def test_loading_through_a_cache_folder_that_cannot_be_written_still_answers(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    store = ModelCache(blocked / "cache")
    kb, _ = (
        load(tmp_path / "kb", required=()) if (tmp_path / "kb").exists() else (kb_of(tmp_path), [])
    )
    matcher = Matcher(kb, models=store)
    assert matcher.match("xin giấy đặc biệt loại hai ở đâu").topic == "giay-hai"
