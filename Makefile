# Two commands on a fresh machine: `make run` and `make test`. Everything comes from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck clean services-down

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/chat serve --demo --data-dir .data

lint: install
	$(BIN)/ruff check chat tests
	$(BIN)/ruff format --check chat tests

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

services-down: install
	$(BIN)/chat services down --data-dir .data

clean:
	rm -rf $(VENV)
