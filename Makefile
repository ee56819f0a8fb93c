# Every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
UV := $(PYTHON) -m uv
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install run test test-postgres test-redis test-all lint format stress bench clean dagster

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Bytecode compiled once at install: every dbt build starts a new interpreter, and where
# PYTHONDONTWRITEBYTECODE is set (as on our CI machines) it would compile dbt's modules from
# source each time (`dbt --version` 6.6 s -> 3.2 s on a 2-core machine).
install:  ## Create .venv from uv.lock, bytecode compiled (installs uv itself when missing)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode

run: install  ## Initialise var/, create demo shops, push generated data, build marts, serve on 127.0.0.1
	$(UV) run shoplake demo

test: install  ## Run the default test suite (SQLite control DB, in-memory limits)
	$(UV) run pytest

test-postgres: install  ## Run the same suite with the control DB on PostgreSQL
	SHOPLAKE_TEST_POSTGRES_URL=$(POSTGRES_URL) $(UV) run pytest --controldb=postgres

test-redis: install  ## Run the rate-limit tests with counters in Redis
	$(UV) run pytest --ratelimit-storage=$(REDIS_URL) -m "not slow" tests -k ratelimit

test-all: test test-postgres test-redis  ## Everything CI runs

lint: install  ## Check style with ruff
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: install  ## Format with ruff
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

stress: install  ## Long crash, load and stress tests
	$(UV) run pytest -m stress --timeout=3600

dagster: install  ## Open the Dagster UI on 127.0.0.1:3000 (instance state under var/dagster)
	$(UV) run shoplake dagster

bench: install  ## Run the benchmarks and print their figures
	$(UV) run python benchmarks/contracts.py
	$(UV) run python benchmarks/generate.py
	$(UV) run python benchmarks/ingest.py
	$(UV) run python benchmarks/build.py --scale 0.01
	$(UV) run python benchmarks/build_overhead.py --var-dir benchmarks/out/build-large-0.01
	$(UV) run python benchmarks/published_reads.py --var-dir benchmarks/out/build-large-0.01
	$(UV) run python benchmarks/serve.py --scale 0.05
	$(UV) run python benchmarks/search_memory.py
	$(UV) run python benchmarks/export.py

clean:  ## Remove local state (var/) and caches; keeps .venv
	rm -rf var .pytest_cache .ruff_cache
