# The README's two commands: `make run` (the app, on SQLite, with demo data) and `make test`.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

BROWSER_TESTS := tests/browser

.PHONY: run test lint clean browser-deps

run: $(VENV)/.installed
	$(BIN)/python -m directory.devserver --port $(PORT)

test: $(VENV)/.installed browser-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

# What the browser tests drive: Debian's Chromium and axe-core from npm (quick when present).
browser-deps: $(BROWSER_TESTS)/node_modules/.installed
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

$(BROWSER_TESTS)/node_modules/.installed: $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	cd $(BROWSER_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-install whenever the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
