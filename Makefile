# The README's two commands: `make run` (the app, on SQLite, with demo data) and `make test`.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

BROWSER_TESTS := tests/browser

.PHONY: run test lint clean browser-deps translations

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

# Interface text: extract every marked string into messages.pot, merge it into each
# language's .po (new strings arrive untranslated), and compile the .mo files the app reads.
# Commit all three; `make test` fails while a .po lacks a translation or a .mo is stale.
CATALOGUES := directory/translations
TRANSLATED := es fr pt
translations: $(VENV)/.installed
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext \
		--keywords lazy_ngettext:1,2 --keywords N_ --ignore-dirs '.* node_modules' --no-location --sort-output --omit-header \
		--output-file $(CATALOGUES)/messages.pot .
	for lang in $(TRANSLATED); do \
		if [ -f $(CATALOGUES)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --input-file $(CATALOGUES)/messages.pot --output-dir $(CATALOGUES) \
				--locale $$lang --no-wrap --ignore-obsolete --no-fuzzy-matching; \
		else \
			$(BIN)/pybabel init --input-file $(CATALOGUES)/messages.pot --output-dir $(CATALOGUES) \
				--locale $$lang --no-wrap; \
		fi; \
	done
	$(BIN)/pybabel compile --directory $(CATALOGUES) --statistics

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
