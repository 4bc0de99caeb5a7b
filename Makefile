# Every target bootstraps .venv from requirements.lock when it is missing or stale,
# so a fresh machine needs only python3 (3.11) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DBT    := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' \) -print 2>/dev/null)

.PHONY: help run test test-fast lint airflow docs db-start db-stop clean bench bench-extracts bench-ingest bench-hub bench-hub-day bench-parse bench-soak

help:
	@echo "make run      run the pipeline end to end on the embedded PostgreSQL (demo data if none landed)"
	@echo "make test     run the test suite (unit, integration on real PostgreSQL, Airflow DAG runs)"
	@echo "make lint     ruff and sqlfluff"
	@echo "make airflow  Airflow UI (standalone) on the embedded database"
	@echo "make docs     dbt docs into dbt_project/target"
	@echo "make bench-ingest ROWS=1000000   the load against plain COPY and pandas; METHODS=\"floor typed_copy"
	@echo "                                 copy_then_type product\" adds the bounds of a typed load"
	@echo "make bench SCALE=1,2,4           the whole pipeline through Airflow per SCALE (100,000 customers"
	@echo "                                 a year each), its floor and pandas beside it, the growth exponent"
	@echo "make bench-extracts WORKERS=1,2   managers' extracts per worker count, on make bench's warehouse"
	@echo "make bench-hub SCALE=1           full and daily dbt build at 200,000 customers per SCALE"
	@echo "make bench-hub-day RUNS=3        the daily dbt build alone, again, on what bench-hub kept"
	@echo "                                 (TEMPLATE=<database>: on a warehouse kept under that name)"
	@echo "make bench-parse                 time Airflow's parse of the DAG files (target < 2 s)"
	@echo "make bench-soak SCALE=0.1 DAYS=30  consecutive daily intervals in one process: memory, connections"
	@echo "                                 (HISTORY_DAYS=60 loaded and built first)"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(DBT) parse $(DBT_DIRS) --quiet

run: $(STAMP) $(MANIFEST)
	$(BIN)/insight-hub run

test: $(STAMP) $(MANIFEST)
	$(BIN)/pytest

test-fast: $(STAMP) $(MANIFEST)
	$(BIN)/pytest -m "not integration and not e2e"

lint: $(STAMP)
	$(BIN)/ruff check plugins dags tests bench docker
	$(BIN)/ruff format --check plugins dags tests bench docker
	cd dbt_project && ../$(BIN)/sqlfluff lint models

airflow: $(STAMP) $(MANIFEST)
	$(BIN)/insight-hub airflow

docs: $(STAMP) $(MANIFEST)
	$(BIN)/insight-hub dbt docs generate

db-start: $(STAMP)
	$(BIN)/insight-hub db start

db-stop: $(STAMP)
	$(BIN)/insight-hub db stop

clean:
	-$(BIN)/insight-hub db stop
	rm -rf .local dbt_project/target dbt_project/logs

ROWS ?= 1000000
bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py --rows $(ROWS) $(if $(METHODS),--methods $(METHODS))

SCALE ?= 1
bench: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/pipeline.py --scale $(SCALE)

# Against the warehouse the last `make bench` left: the first MANAGERS managers' extracts per WORKERS count.
MANAGERS ?= 200
WORKERS ?= 1,2
bench-extracts: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/extracts.py --managers $(MANAGERS) --workers $(WORKERS)

bench-hub: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/hub.py --scale $(SCALE)

# Against the warehouse the last `make bench-hub` kept (or TEMPLATE, one kept under another name):
# the daily build alone, RUNS times.
RUNS ?= 3
TEMPLATE ?= bench_hub_day
bench-hub-day: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/hub_day.py --runs $(RUNS) --template $(TEMPLATE)

bench-parse: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/parse.py

# SCALE is 0.1 here unless given on the command line: thirty daily builds at SCALE=1 take over an hour.
DAYS ?= 30
HISTORY_DAYS ?= 60
bench-soak: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/soak.py --scale $(if $(filter command line,$(origin SCALE)),$(SCALE),0.1) --days $(DAYS) --history-days $(HISTORY_DAYS)
