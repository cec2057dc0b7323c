# Ujuzi: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: help install lock run test test-pg check lint typecheck fmt messages migrate bench browsers clean

help:
	@echo "make run      set up, migrate, seed demo data when empty, run the Procfile: server on :$(PORT), SMS worker, scheduler"
	@echo "make test     set up and run the whole test suite (SQLite; TEST_DATABASE_URL for PostgreSQL)"
	@echo "make check    lint, type checks and tests"
	@echo "make fmt      format the code"
	@echo "make messages bring the translations in step with the English texts and check them"
	@echo "make migrate  apply database migrations"
	@echo "make lock     refresh requirements.lock from pyproject.toml (UPGRADE=1: newest releases)"
	@echo "make bench    run the benchmarks in bench/ (needs PostgreSQL)"

# Installs come from requirements.lock alone: every package pinned with its hashes (pip refuses
# anything else), then the project itself in place, without resolving anything.
$(BIN)/activate: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BIN)/activate

install: $(BIN)/activate

# requirements.lock from pyproject.toml (runtime and dev): keeps the pinned versions that still fit,
# adds what is new; UPGRADE=1 moves every package to its newest release. Then `make install`.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --quiet --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) \
	  -o requirements.lock

# The message catalogue (marketplace/messages/locale/*/LC_MESSAGES/messages.po): the template and
# every language updated from the English file, then every language checked (README: "Adding a
# language is adding a PO file").
messages: install
	$(BIN)/python -m marketplace.messages

migrate: install
	$(BIN)/flask db upgrade

# The Procfile's processes (web, SMS worker, scheduler) under honcho: Ctrl-C (or TERM) stops them
# all, and so does any one of them ending.
run: migrate
	$(BIN)/flask init-if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)/  (the front door; SMS printed below by the console backend)"
	@echo "Phone simulator: http://127.0.0.1:$(PORT)/dev/phone, or in another terminal, as a demo entrepreneur:"
	@echo "  $(BIN)/flask --app wsgi phone +254706100362 --base-url http://127.0.0.1:$(PORT)"
	PATH="$(abspath $(BIN)):$$PATH" HOST=127.0.0.1 WEB_CONCURRENCY=$(WORKERS) \
	  $(BIN)/honcho start --port $(PORT) -f Procfile

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/ujuzi_test} \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache test-output
