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

.PHONY: help install fonts run test dev dbt-build dbt-test lint bench clean

help:
	@echo "make run       install (once) and materialize every asset: raw -> dbt -> published/"
	@echo "make test      install (once) and run the whole test suite"
	@echo "make dev       the Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make dbt-build dbt build on its own (no Dagster), against the same warehouse"
	@echo "make dbt-test  dbt test on its own"
	@echo "make lint      ruff and sqlfluff"
	@echo "make bench     the benchmark: a generated full customs extract, and the refresh (see README)"
	@echo "make fonts     (root, Debian) install fonts-noto-cjk for figure1.png's Chinese labels"

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

# figure1.png has Chinese labels when a CJK font is installed, else English ones. Optional:
# as root with apt-get, install Debian's fonts-noto-cjk when no CJK font is there; never fatal.
fonts:
	@if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 \
	  && [ "$$(fc-list 2>/dev/null | grep -ciE 'cjk|wenquanyi|droid sans fallback' || true)" = 0 ] \
	  && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "== installing fonts-noto-cjk (Chinese labels in figure1.png)"; \
	  ( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null ) \
	    || echo "   fonts-noto-cjk not installed: figure1.png gets English labels"; \
	fi

run: fonts $(MANIFEST) $(DAGSTER_HOME)
	$(BIN)/python -m orchestration.cli run

test: fonts $(MANIFEST) $(DAGSTER_HOME)
	$(BIN)/python -m pytest

# The instance's settings (one run at a time, through the queue; no telemetry), copied again
# whenever orchestration/dagster.yaml changes.
$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml | $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

# Webserver, daemon (runs the queue, the monthly schedule and the new-download sensor, both on
# by default) and code server, on 127.0.0.1 only.
dev: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

dbt-build: $(MANIFEST)
	cd dbt_project && $(BIN)/dbt build --full-refresh

dbt-test: $(MANIFEST)
	cd dbt_project && $(BIN)/dbt test

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests benchmarks
	cd dbt_project && $(BIN)/sqlfluff lint models tests

# The benchmark (benchmarks/run_benchmark.py): a generated customs extract of BENCH_ROWS rows
# (10 million: about 3 GB, 20 minutes) against DuckDB's read_csv, the full refresh through
# Dagster against its bare steps, and the refresh after a new month. Medians of BENCH_RUNS
# runs; writes benchmarks/results.json. The files go to BENCH_DIR (default: a temporary folder,
# removed at the end). BENCH_ONLY: any of ingestion,refresh,incremental.
BENCH_ROWS ?= 10000000
BENCH_RUNS ?= 3
BENCH_ONLY ?= ingestion,refresh,incremental
bench: $(MANIFEST)
	$(BIN)/python -m benchmarks.run_benchmark --rows $(BENCH_ROWS) --runs $(BENCH_RUNS) --only $(BENCH_ONLY) \
	  $(if $(BENCH_DIR),--workdir $(BENCH_DIR))

clean:
	rm -rf warehouse published published.products published.d .dagster_home dbt_project/target dbt_project/logs
