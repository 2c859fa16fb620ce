"""The tree, the README's layout and the import contract agree (issue 8).

The README's layout block is parsed: two spaces of indentation per level, a line's names (one or
more, separated by single spaces) before its description. Every Python module and package of
bot/ and webhooks/ must be listed there and every listed path must exist; every direct child of
bot/ must be placed in the layers contract, or a new module would escape the layering.
"""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

CODE = ("bot", "webhooks")


def layout_paths() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    block = section.split("```", 2)[1]
    paths: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        names = re.split(r" {2,}", line.strip())[0].split(" ")
        parents = parents[:depth]
        for name in names:
            paths.add("".join(parents) + name)
        if names[-1].endswith("/"):
            parents.append(names[-1])
    return paths


def tree_paths() -> set[str]:
    found: set[str] = set()
    for top in CODE:
        found.add(f"{top}/")
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if path.name == "__init__.py":
                found.add(f"{rel.parent.as_posix()}/")
            else:
                found.add(rel.as_posix())
    return found


def test_every_module_is_in_the_readme_layout() -> None:
    missing = tree_paths() - layout_paths()
    assert not missing, f"add to the README's layout: {sorted(missing)}"


def test_every_path_in_the_readme_layout_exists() -> None:
    ghosts = [p for p in sorted(layout_paths()) if not (ROOT / p).exists()]
    assert not ghosts, f"the README's layout names paths that do not exist: {ghosts}"


def test_the_layout_parser_sees_nesting() -> None:
    paths = layout_paths()
    assert {"bot/cases/xlsx.py", "bot/store/engine.py", "webhooks/static/"} <= paths
    assert "bot/xlsx.py" not in paths


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [m.strip() for layer in layers for m in re.split(r"[|:]", layer)]


def test_every_part_of_the_core_is_in_the_layers_contract() -> None:
    placed = set(_layers())
    children = {
        f"bot.{p.stem}" if p.is_file() else f"bot.{p.name}"
        for p in (ROOT / "bot").iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()
    }
    assert children, "no module found under bot/"
    assert not children - placed, f"place in the layers contract: {sorted(children - placed)}"
    assert not {m for m in placed if m.startswith("bot.")} - children


def test_the_contract_names_real_modules() -> None:
    for module in _layers():
        path = ROOT / module.replace(".", "/")
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), module
