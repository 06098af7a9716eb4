# One command to set up and run the main job, one to run the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
SAMPLE_MESSAGES ?= 20000
SAMPLE := warehouse/sample/messages.jsonl
WAREHOUSE := warehouse/sentiment.duckdb

.PHONY: setup run test test-spark lint format ui bench bench-daily bench-comprehend bench-kustomer bench-comprehend-async bench-lake bench-text bench-reports clean

# The venv is rebuilt when the lock file or the package definition changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(VENV)/.installed

## make run: generate the sample, materialize every asset, print a summary
run: setup
	$(BIN)/sentiment-warehouse sample --messages $(SAMPLE_MESSAGES) --out $(SAMPLE)
	$(BIN)/sentiment-warehouse run --source $(SAMPLE) --format kustomer --warehouse $(WAREHOUSE)

## make test: the whole test suite (unit, integration, end-to-end on ../shared/data)
test: setup
	$(BIN)/python -m pytest

## make test-spark: the 100k sample's marts built on DuckDB and on Spark (Java 17), compared row
## for row, numbers within 1e-9; exits non-zero on any difference (CI runs it after make test)
test-spark: setup
	$(BIN)/python -m pytest -m spark
	$(BIN)/python -m bench.spark_equality --messages 100000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project/models

## make ui: the Dagster UI with the lineage graph and the run history
ui: setup
	mkdir -p $(DAGSTER_HOME) && cp -n orchestration/instance/dagster.yaml $(DAGSTER_HOME)/ 2>/dev/null || true
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml

## make bench: the pipeline at 100k and 1M messages beside the plain script and the VADER limit
bench: setup
	$(BIN)/python -m bench.scale

## make bench-daily: the daily run's cost over 100k and 1M message histories
bench-daily: setup
	$(BIN)/python -m bench.daily

## make bench-text: what cleaning, redaction and language detection add to scoring at 1M
bench-text: setup
	$(BIN)/python -m bench.text_prep

## make bench-reports: what the shift, trend, anomaly and topic marts, the docs and the report
## add to the dbt stage at 1M
bench-reports: setup
	$(BIN)/python -m bench.change_reports

## make bench-comprehend: the Comprehend engine vs the naive loop, on the fake endpoint
bench-comprehend: setup
	$(BIN)/python -m bench.comprehend

## make bench-comprehend-async: Comprehend's asynchronous jobs on 1M texts against the fake endpoint
## and moto's S3: the run's own overhead (target <= 60 s)
bench-comprehend-async: setup
	$(BIN)/python -m bench.comprehend_async

## make bench-lake: the lake mode (a local folder and --s3 on moto) against the DuckDB file mode
## at 1M messages, end to end (target <= 1.3x)
bench-lake: setup
	$(BIN)/python -m bench.lake

## make bench-kustomer: the Kustomer API pull of 100k messages vs the least time the rate limit
## allows, on the fake Kustomer server (250 requests per 6 s)
bench-kustomer: setup
	$(BIN)/python -m bench.kustomer_api

clean:
	rm -rf warehouse .dagster_home dbt_project/target dbt_project/logs
