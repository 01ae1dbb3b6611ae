# The server bulletin pipeline. `make run` builds everything; `make test` checks it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Python the venv is made from (`make PYTHON=/path/to/python3.11 …` to choose): the system's
# own python3.11 first, where it can make a venv, then python3.11 on the PATH, then python3.
# A distribution's build (profile-guided and link-time optimized, libpython linked in) runs the
# pipeline and the tests about 8 % faster, in CPU, than a pyenv build of the same version (a
# shared libpython, no PGO): a forked run of the shipped data 10.3 s against 11.3 s, and the
# same publication, byte for byte. An existing .venv is kept whichever Python made it.
PYTHON ?= $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import ensurepip, venv' 2>/dev/null && { command -v "$$p"; break; }; done)
# Targets are named relative to the project folder (make splits names at spaces, so an absolute
# path under a folder such as "a b/專案" would name two targets); recipes quote absolute paths.
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DAGSTER_HOME_DIR := .dagster_home
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests \
	-type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

export PATH := $(BIN):$(PATH)
export DAGSTER_HOME := $(CURDIR)/$(DAGSTER_HOME_DIR)
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: help install run fetch test test-fast dev dbt-build dbt-test rebuild lint bench clean

help:
	@echo "make run       install (once) and materialize every asset: raw -> dbt -> published/"
	@echo "make fetch     ask the APIs (US Census Bureau, UN Comtrade); what is new lands in raw/<source>/<today>/"
	@echo "make test      install (once) and run the whole test suite (what CI runs)"
	@echo "make test-fast the quick tests only (no full pipeline run): the edit loop"
	@echo "make dev       the Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make dbt-build dbt build on its own (no Dagster), against the same warehouse, under its lock"
	@echo "make dbt-test  dbt test on its own, on a copy of the warehouse, under its lock"
	@echo "make rebuild   put a damaged warehouse aside and build it again from raw/ (every download is there)"
	@echo "make lint      ruff and sqlfluff"
	@echo "make bench     the benchmark: a generated full customs extract, and the refresh (see README)"

# One install at a time (flock), and only when pyproject.toml changed since the last one.
$(STAMP): pyproject.toml
	@mkdir -p $(VENV)
	@flock .venv.lock bash -c '\
	  if [ ! -f "$(STAMP)" ] || [ pyproject.toml -nt "$(STAMP)" ]; then \
	    echo "== installing into .venv"; \
	    [ -x "$(VENV)/bin/python" ] || "$(PYTHON)" -m venv $(VENV); \
	    $(VENV)/bin/python -m pip install --quiet --upgrade pip; \
	    $(VENV)/bin/python -m pip install --quiet -e ".[dev]"; \
	    touch "$(STAMP)"; \
	  fi'

install: $(STAMP)

# dbt's manifest is parsed once here and again only when a dbt file changed, so a refresh does
# not pay for a re-parse (orchestration/project.py's prepare_manifest: with a run's profile, so
# the first run reuses the parse).
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(VENV)/bin/python -m orchestration.project
	@touch $(MANIFEST)

$(DAGSTER_HOME_DIR):
	@mkdir -p $(DAGSTER_HOME_DIR)
	@cp -n orchestration/dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml 2>/dev/null || true

run: $(MANIFEST) $(DAGSTER_HOME_DIR)
	$(VENV)/bin/python -m orchestration.cli run

# The fetch job (orchestration/assets/fetch.py): the APIs' answers as new download folders, written all
# at once; nothing when the month to come is not released yet. Base URLs BULLETIN_CENSUS_API_URL,
# BULLETIN_COMTRADE_API_URL; keys (optional) CENSUS_API_KEY, COMTRADE_API_KEY.
fetch: $(MANIFEST) $(DAGSTER_HOME_DIR)
	$(VENV)/bin/python -m orchestration.cli fetch

# The suite on the machine's cores (pytest-xdist: at most TEST_WORKERS; 2 in CI), a test module
# to a worker (its module-wide pipeline runs are made once), the longest modules first (in
# tests/conftest.py's order, not xdist's); runs several modules read are made once for all.
TEST_WORKERS ?= 4
test: $(MANIFEST) $(DAGSTER_HOME_DIR)
	$(VENV)/bin/python -m pytest -n auto --maxprocesses $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The edit loop: parsers, seeds, dbt unit tests, draft and workbook logic; no full pipeline run
# (a test that runs one is marked slow, and fails here if it is not).
test-fast: $(MANIFEST)
	BULLETIN_FAST_TESTS=1 $(VENV)/bin/python -m pytest -m "not slow" -q -n auto --maxprocesses $(TEST_WORKERS) --dist loadscope

# The instance's settings (one run at a time, through the queue; no telemetry), copied again
# whenever orchestration/dagster.yaml changes.
$(DAGSTER_HOME_DIR)/dagster.yaml: orchestration/dagster.yaml | $(DAGSTER_HOME_DIR)
	cp orchestration/dagster.yaml $@

# Webserver, daemon (runs the queue, the monthly schedule and the new-download sensor, both on
# by default) and code server, on 127.0.0.1 only.
dev: $(MANIFEST) $(DAGSTER_HOME_DIR)/dagster.yaml
	$(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# dbt on its own takes the warehouse lock as every run does: dbt build works on a copy and
# swaps it in when it passed; dbt test reads a copy (a killed dbt leaves nothing behind).
dbt-build: $(MANIFEST)
	$(VENV)/bin/python -m orchestration.cli dbt build --full-refresh

dbt-test: $(MANIFEST)
	$(VENV)/bin/python -m orchestration.cli dbt test

# A damaged warehouse: put it aside (never deleted) and build it again from every download in raw/.
rebuild: $(MANIFEST) $(DAGSTER_HOME_DIR)
	$(VENV)/bin/python -m orchestration.cli rebuild

lint: $(STAMP)
	$(VENV)/bin/ruff check orchestration tests benchmarks
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models tests

# The benchmark (benchmarks/run_benchmark.py): a generated customs extract of BENCH_ROWS rows
# (10 million: about 3 GB, 20 minutes) against DuckDB's read_csv, the full refresh through
# Dagster against its bare steps, and the refresh after a new month. Medians of BENCH_RUNS
# runs; writes benchmarks/results.json. The files go to BENCH_DIR (default: a temporary folder,
# removed at the end). BENCH_ONLY: any of ingestion,refresh,incremental.
BENCH_ROWS ?= 10000000
BENCH_RUNS ?= 3
BENCH_ONLY ?= ingestion,refresh,incremental
bench: $(MANIFEST)
	$(VENV)/bin/python -m benchmarks.run_benchmark --rows $(BENCH_ROWS) --runs $(BENCH_RUNS) --only $(BENCH_ONLY) \
	  $(if $(BENCH_DIR),--workdir $(BENCH_DIR))

clean:
	rm -rf warehouse published published.products published.d .dagster_home dbt_project/target dbt_project/logs

# The partner-name seeds checked against a maintained country-name library (country_converter),
# in a venv of its own, .venv-maint: country_converter 1.3.2 does not run with pandas 3, the
# project's pin (see orchestration/maintenance/requirements.txt). The seeds stay the reviewed
# source of truth; this only checks them. Rows for the names a download holds that a seed lacks:
#   .venv-maint/bin/python -m orchestration.maintenance.partner_names propose itc <download>...
MAINT_VENV := $(CURDIR)/.venv-maint
MAINT_REQUIREMENTS := orchestration/maintenance/requirements.txt
$(MAINT_VENV)/.installed: $(MAINT_REQUIREMENTS)
	@flock $(CURDIR)/.venv.lock bash -c '\
	  echo "== installing into .venv-maint"; \
	  [ -x "$(MAINT_VENV)/bin/python" ] || $(PYTHON) -m venv $(MAINT_VENV); \
	  $(MAINT_VENV)/bin/python -m pip install --quiet --upgrade pip; \
	  $(MAINT_VENV)/bin/python -m pip install --quiet -r $(MAINT_REQUIREMENTS); \
	  touch "$(MAINT_VENV)/.installed"'

.PHONY: seeds-check
seeds-check: $(MAINT_VENV)/.installed
	$(MAINT_VENV)/bin/python -m orchestration.maintenance.partner_names check
