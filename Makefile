# Jikuai: `make run` serves the API on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/jikuai db upgrade
	$(BIN)/jikuai seed demo
	$(BIN)/jikuai serve

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

schema: install
	$(BIN)/python -m jikuai.schema.sdl > schema.graphql

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .jikuai .pytest_cache .mypy_cache .ruff_cache
