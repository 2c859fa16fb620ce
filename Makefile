# Each target bootstraps .venv on a fresh machine, so `make run` and `make test` are all a
# newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck eval bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bot chat

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/bot eval tests/data/eval.jsonl

bench: $(STAMP)
	$(BIN)/python bench/match.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
