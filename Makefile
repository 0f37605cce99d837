# Two commands do everything on a fresh machine (each creates .venv and installs what it needs):
#   make demo   run the whole job on local sample exports (no API key, no network)
#   make test   run every test: ruff, pytest (real HTTP server, real DuckDB, real dbt build)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint install bench docs serve-docs serve report parquet clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bi]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# the test suite also needs the spark and s3 extras (pyspark is large: demo does without it)
TEST_STAMP := $(VENV)/.test-extras-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bi,spark,s3]"
	rm -f $(VENV)/.test-extras-* && touch $@

demo: $(STAMP)
	$(BIN)/python -m loader demo

lint: $(STAMP)
	$(BIN)/ruff check loader tests bench
	$(BIN)/ruff format --check loader tests bench

test: $(TEST_STAMP) lint
	bash scripts/install-chromium.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: $(STAMP)
	DBT_TARGET=readonly $(BIN)/dbt docs generate

serve-docs: docs
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $${DOCS_PORT:-8080} --no-browser

serve: $(STAMP)
	$(BIN)/python -m loader serve $(SERVE_ARGS)

report: $(STAMP)
	$(BIN)/python -m loader report

parquet: $(STAMP)
	$(BIN)/python -m loader export-parquet

clean:
	rm -rf $(VENV) target logs landing .loader warehouse.duckdb* reports parquet lake spark-warehouse metastore_db derby.log
