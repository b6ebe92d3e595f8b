# 数字越秀 — two commands: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/yuexiu

.PHONY: run test install install-test assets db serve test-sqlite test-postgres test-production test-moved-clock chromium lint clean bench bench-load bench-soak wrk prod-check

# `yuexiu serve` runs the web server and the worker; Ctrl+C or SIGTERM stops both cleanly (status 0).
run: install assets db ## set up and serve the platform with Yuexiu data at http://127.0.0.1:8000
	@$(BIN)/yuexiu serve $(HOST):$(PORT)

test: install-test assets chromium ## every test, on SQLite and on PostgreSQL, browser journeys included
	$(BIN)/ruff check src tests e2e bench scripts conftest.py
	@$(BIN)/python scripts/check_postgres.py "$(PG_URL)"
	@bash scripts/ensure-postgres-client.sh
	@bash scripts/test-databases.sh "$(PG_URL)"
	$(MAKE) --no-print-directory test-production

# One database at a time (the two runs of `make test`, each alone).

test-sqlite:
	@echo "== 测试：SQLite =="
	env -u DATABASE_URL YUEXIU_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -q

test-postgres:
	@echo "== 测试：PostgreSQL ($(PG_URL)) =="
	@$(BIN)/python scripts/check_postgres.py "$(PG_URL)"
	@bash scripts/ensure-postgres-client.sh
	DATABASE_URL=$(PG_URL) YUEXIU_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -q

# Production mode on a fresh PostgreSQL database (made and dropped by the test, named after PG_URL's
# with _production): gunicorn with 2 workers, 2 job workers, one killed in the middle of a matching run,
# database connections cut mid-request (tests/production/, marker `production`).
test-production:
	@echo "== 测试：生产模式（PostgreSQL，gunicorn 2 个进程，2 个后台任务进程）=="
	@$(BIN)/python scripts/check_postgres.py "$(PG_URL)"
	DATABASE_URL=$(PG_URL) YUEXIU_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -q -m production tests/production

# Every date works: setup, serving and the browser journeys with the clock moved to the last week of
# this year and to a year without any holiday data, five years on (libfaketime; run by .ci/run after
# `make test`).
THIS_YEAR := $(shell date +%Y)
MOVED_CLOCK_DATES ?= $(THIS_YEAR)-12-28 $(shell expr $(THIS_YEAR) + 5)-12-28
test-moved-clock: install-test assets chromium
	@for day in $(MOVED_CLOCK_DATES); do bash scripts/moved-clock.sh "$$day 10:00:00" || exit 1; done

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime-installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.runtime-installed requirements-test.txt
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

install: $(VENV)/.runtime-installed

install-test: $(VENV)/.test-installed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: node_modules/.package-lock.json ## copy front-end assets from npm packages into var/vendor (served as static)
	@mkdir -p var/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js var/vendor/

db: install ## migrate the embedded database and load reference data and demo accounts (idempotent)
	$(BIN)/yuexiu migrate --no-input -v0
	$(BIN)/yuexiu setup --demo

prod-check: install ## check this environment for production (deploy/env.example): each check ✓ or ✗, status 1 on any ✗
	@$(BIN)/yuexiu prod-check

chromium: ## Debian's chromium (and CJK fonts) for the browser journeys
	@bash scripts/ensure-chromium.sh

lint: install-test
	$(BIN)/ruff check src tests e2e bench scripts conftest.py

bench: install-test ## benchmarks, run on demand (figures go to docs/benchmarks.md)
	$(BIN)/python bench/workdays_bench.py
	$(BIN)/python bench/search_bench.py
	$(BIN)/python bench/supervision_bench.py
	$(BIN)/python bench/policy_bench.py 1000000

# Load and soak of the web tier (gunicorn, 2 workers, PostgreSQL at PG_URL's server, wrk); figures go
# to docs/benchmarks.md. BENCH_ARGS e.g. "--rounds 3 --duration 15"; SOAK_MINUTES (default 30).
SOAK_MINUTES ?= 30
bench-load: install-test wrk
	$(BIN)/python bench/load_bench.py $(BENCH_ARGS)

bench-soak: install-test wrk
	$(BIN)/python bench/soak_bench.py --minutes $(SOAK_MINUTES) $(BENCH_ARGS)

wrk: ## Debian's wrk (HTTP load generator) for bench-load and bench-soak
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null; } || { echo "请以 root 安装 wrk：apt-get install wrk"; exit 1; }

clean:
	rm -rf $(VENV) var node_modules
