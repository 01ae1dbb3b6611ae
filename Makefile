# The server bulletin pipeline. `make run` builds everything; `make test` checks it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests \
	-type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

export PATH := $(BIN):$(PATH)
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: help install run test dev dbt-build dbt-test lint clean

help:
	@echo "make run       install (once) and materialize every asset: raw -> dbt -> published/"
	@echo "make test      install (once) and run the whole test suite"
	@echo "make dev       the Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make dbt-build dbt build on its own (no Dagster), against the same warehouse"
	@echo "make dbt-test  dbt test on its own"
	@echo "make lint      ruff and sqlfluff"

# One install at a time (flock), and only when pyproject.toml changed since the last one.
$(STAMP): pyproject.toml
	@mkdir -p $(VENV)
	@flock $(CURDIR)/.venv.lock bash -c '\
	  if [ ! -f "$(STAMP)" ] || [ pyproject.toml -nt "$(STAMP)" ]; then \
	    echo "== installing into .venv"; \
	    [ -x "$(BIN)/python" ] || $(PYTHON) -m venv $(VENV); \
	    $(BIN)/python -m pip install --quiet --upgrade pip; \
	    $(BIN)/python -m pip install --quiet -e ".[dev]"; \
	    touch "$(STAMP)"; \
	  fi'

install: $(STAMP)

# dbt's manifest is parsed once here and again only when a dbt file changed,
# so a refresh does not pay for a re-parse.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && $(BIN)/dbt parse --quiet
	@touch $(MANIFEST)

$(DAGSTER_HOME):
	@mkdir -p $(DAGSTER_HOME)
	@cp -n orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml 2>/dev/null || true

run: $(MANIFEST) $(DAGSTER_HOME)
	$(BIN)/python -m orchestration.cli run

test: $(MANIFEST) $(DAGSTER_HOME)
	$(BIN)/python -m pytest

dev: $(MANIFEST) $(DAGSTER_HOME)
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

dbt-build: $(MANIFEST)
	cd dbt_project && $(BIN)/dbt build

dbt-test: $(MANIFEST)
	cd dbt_project && $(BIN)/dbt test

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests
	cd dbt_project && $(BIN)/sqlfluff lint models tests

clean:
	rm -rf warehouse published .dagster_home dbt_project/target dbt_project/logs
