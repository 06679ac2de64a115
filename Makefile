# CareLog developer targets. `make run` and `make test` are the README's two commands:
# each sets up everything it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-quick test-explore lint typecheck fmt bench clean

install: $(STAMP)

# Reinstall only when the project metadata changes: quick and idempotent otherwise.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/carelog demo
	$(BIN)/carelog serve --host $(HOST) --port $(PORT)

# The suite in parallel: a pytest-xdist worker per core (TEST_WORKERS=1 for one process),
# each with its own PostgreSQL database, brokers and ports (tests/conftest.py).
TEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadgroup

test: install
	bash scripts/test-setup.sh
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

# Quicker loop for development: unit tests and the SQLite half of everything else
# (unencrypted: `make test` runs the encrypted store too), without the slow, browser and
# Kafka tests or those that start real carelog processes (`served`: servers, CLI commands).
test-quick: install
	$(BIN)/python -m pytest -q -x $(PYTEST_PARALLEL) -m "not slow and not browser and not kafka and not served" --store sqlite --cipher none

# Property tests with fresh random draws (the suite's draws are fixed: tests/conftest.py).
test-explore: install
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow and not browser and not kafka" --store sqlite --cipher none $$(grep -rl "hypothesis\|schemathesis" tests --include='test_*.py')

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	bash scripts/test-setup.sh
	$(BIN)/python -m bench

clean:
	rm -rf var .mypy_cache .ruff_cache .hypothesis
