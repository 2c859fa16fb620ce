"""The province's communes and wards as data (communes.yaml, with its source), and matching a
name typed by staff or found in a file to one of them.

A name matches without regard to case, diacritics, spacing or the "xã"/"phường" prefix:
"Xã Lũng Cú", "lung cu" and "LŨNG CÚ" are one commune. An unknown name is refused with the
closest names (rapidfuzz), never guessed: a notice meant for one commune must not reach another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.models.clerks import Commune
from bot.text import fold

DATA = Path(__file__).with_name("communes.yaml")
SUGGESTIONS = 3  # closest names offered for an unknown one
# "UBND xã ...", "Ủy ban nhân dân phường ...", "xã ...", "P. ...": a dossier's "Đơn vị" cell too.
_PREFIX = re.compile(r"^(?:(?:ubnd|uy ban nhan dan)\s+)?(?:xa|phuong|p|x)\b[\s.:]*")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


class UnknownCommuneError(ValueError):
    """No commune or ward of the province has that name; `closest` are the nearest names."""

    def __init__(self, name: str, closest: Sequence[str]) -> None:
        self.name = name
        self.closest = tuple(closest)
        hint = f"; closest: {', '.join(self.closest)}" if self.closest else ""
        super().__init__(f"unknown commune or ward {name!r}{hint}")


def commune_key(name: str) -> str:
    """The matching key of a name: folded words without the "(UBND) xã/phường" prefix."""
    words = _NOT_WORD.sub(" ", fold(name)).strip()
    return _PREFIX.sub("", words).strip()


@dataclass(frozen=True, slots=True)
class Communes:
    """The known communes, with the source they were taken from."""

    source: str
    province: str
    items: tuple[Commune, ...]

    def __post_init__(self) -> None:
        keys = [commune_key(c.name) for c in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError("two communes share a name once folded")

    def find(self, name: str) -> Commune:
        """The commune named `name`; `UnknownCommuneError` with the closest names if none."""
        key = commune_key(name)
        by_key = self._by_key()
        found = by_key.get(key) or by_key.get(key.replace(" ", ""))
        if found is not None:
            return found
        choices = {commune_key(c.name): c.label for c in self.items}
        best = process.extract(key, list(choices), scorer=fuzz.WRatio, limit=SUGGESTIONS)
        raise UnknownCommuneError(name, [choices[k] for k, score, _ in best if score >= 50])

    def by_code(self, code: str) -> Commune | None:
        return next((c for c in self.items if c.code == code), None)

    def _by_key(self) -> dict[str, Commune]:
        return _index(self)


@cache
def _index(communes: Communes) -> dict[str, Commune]:
    out: dict[str, Commune] = {}
    for c in communes.items:
        key = commune_key(c.name)
        out[key] = c
        out.setdefault(key.replace(" ", ""), c)  # "hagiang 1", "lungcu": typed without spaces
        out[c.code] = c
    return out


@cache
def load_communes(path: Path = DATA) -> Communes:
    """The communes of communes.yaml (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = tuple(
        Commune(code=str(row["code"]), kind=str(row["kind"]), name=str(row["name"]))
        for row in data["communes"]
    )
    return Communes(source=str(data["source"]), province=str(data["province"]), items=items)
