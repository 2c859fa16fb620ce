"""Fitted classifiers kept on disk, so a restart, `bot ask` or a reload of an unchanged knowledge
base does not fit them again.

Fitting the learned signal is the slow part of loading a knowledge base: about 25 s on a quiet
core for the ~150 topics and ~4,500 phrasings of the catalogue (76 s with the machine's two
cores shared by six processes), against under a second to read the fitted model back. The key
(`Matcher.model_key`) covers everything the fit depends on: the topics' ids, kinds, phrasings,
key terms and bases, the concepts, the matcher's settings and the source of the code that turns
them into examples; a change to any of them is a new key, so a stale model is never read.

Files are written with joblib (scikit-learn's own persistence) to a temporary name and renamed,
so a crash never leaves half a file; a file that cannot be read is a miss, logged, and
replaced. Only the newest `keep` files stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path

import joblib

import bot.understanding
from bot.config import Settings
from bot.understanding.learned import LearnedModel

log = logging.getLogger(__name__)

_CORE = Path(bot.understanding.__file__).parent.parent


def _code_version() -> str:
    """The source of the code that turns a knowledge base into examples and fits them: a
    change to any of it makes every kept model stale."""
    files = sorted(
        [*(_CORE / "understanding").glob("*.py"), _CORE / "text.py", _CORE / "spelling.py"]
    )
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:12]


class ModelCache:
    """A folder of fitted `LearnedModel`s by key (`Matcher.model_key`)."""

    def __init__(self, folder: Path, keep: int = 6) -> None:
        self.folder = folder
        self.keep = keep
        self.code = _code_version()

    def _path(self, key: str) -> Path:
        return self.folder / f"learned-{self.code}-{key}.joblib"

    def get(self, key: str) -> LearnedModel | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            model = joblib.load(path)
        except Exception:  # a truncated or foreign file: fit again
            log.warning("unreadable model cache file %s: fitting again", path, exc_info=True)
            return None
        if not isinstance(model, LearnedModel):
            log.warning("model cache file %s holds no model: fitting again", path)
            return None
        with contextlib.suppress(OSError):  # a read-only folder still serves its models
            os.utime(path)  # recently used: kept
        return model

    def put(self, key: str, model: LearnedModel) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".part", delete=False) as f:
                part = Path(f.name)
            joblib.dump(model, part)
            part.replace(self._path(key))
        except OSError:
            # A read-only or full disk costs a refit next time, never an answer.
            log.warning("could not keep the fitted model in %s", self.folder, exc_info=True)
            return
        files = sorted(self.folder.glob("learned-*.joblib"), key=lambda p: p.stat().st_mtime)
        for old in files[: -self.keep]:
            old.unlink(missing_ok=True)


def model_cache(settings: Settings) -> ModelCache | None:
    """The folder of fitted classifiers of `settings.cache`, or None when it is off."""
    folder = settings.cache_path()
    return ModelCache(folder) if folder is not None else None
