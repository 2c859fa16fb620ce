# Each target bootstraps .venv on a fresh machine, so `make run` and `make test` are all a
# newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test browser eval bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bot serve

# The web chat is tested in a real headless browser: Debian's chromium. Installed when missing
# and we are root (CI, a fresh machine); otherwise that one test says it is skipped and why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium >/dev/null; \
	  else echo "chromium not installed: the browser test will be skipped"; fi; }

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/bot eval tests/data/eval.jsonl --min-accuracy 0.9 --min-null 0.9 --min-must 0.9

bench: $(STAMP)
	$(BIN)/python bench/match.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
