# Two commands on a fresh machine: `make run` and `make test`. Everything comes from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck clean services-down widget widget-check console console-check bench

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

# make run HOST=0.0.0.0 PORT=9000 to serve elsewhere than 127.0.0.1:8000.
HOST ?= 127.0.0.1
PORT ?= 8000
run: install
	$(BIN)/chat serve --demo --data-dir .data --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check chat tests bench
	$(BIN)/ruff format --check chat tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# Two workers, a test file each at a time (a file's fixtures: its servers, its browser); the
# fault suite and the load tests marked serial run alone after: they kill and stop services or
# race two servers under a deadline, and the fault suite prints its table.
test: install lint typecheck widget-check console-check
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "not faults and not serial"
	$(BIN)/pytest -q -p no:cacheprovider -m "faults or serial"

# The embeddable widget (widget/, Preact + Vite): one IIFE file and its lazy chunks (chunks/),
# committed, served by the app.
WIDGET_OUT := chat/static/widget
WIDGET_DEPS := widget/node_modules/.installed

$(WIDGET_DEPS): widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	touch $(WIDGET_DEPS)

# Rebuild $(WIDGET_OUT) from widget/src (typecheck, unit tests, build, size budgets); commit it.
widget:
	cd widget && npm ci --no-audit --no-fund && npm run build
	touch $(WIDGET_DEPS)

# The committed files (widget.js and chunks/) must be exactly what the sources and the lock
# build (no more, no fewer: a stale chunk fails too), each within its budget.
widget-check: $(WIDGET_DEPS)
	cd widget && npm run --silent typecheck && npm test --silent
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd widget && \
	npx --no-install vite build --outDir "$$tmp" --emptyOutDir --logLevel warn && \
	node scripts/check-size.mjs "$$tmp" && \
	if ! diff -rq "$$tmp" ../$(WIDGET_OUT) >/dev/null; then \
		echo "$(WIDGET_OUT) differs from a build of widget/src: run make widget and commit it" >&2; \
		exit 1; \
	fi

# The agent console (console/, Preact + Vite): console.js and console.css, committed, loaded by
# chat/static/console.html at /console.
CONSOLE_OUT := chat/static/console
CONSOLE_DEPS := console/node_modules/.installed

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $(CONSOLE_DEPS)

# Rebuild $(CONSOLE_OUT) from console/src (typecheck, unit tests, build, sizes); commit it.
console:
	cd console && npm ci --no-audit --no-fund && npm run build
	touch $(CONSOLE_DEPS)

# The committed files must be exactly what the sources and the lock build (no more, no fewer).
console-check: $(CONSOLE_DEPS)
	cd console && npm run --silent typecheck && npm test --silent
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd console && \
	npx --no-install vite build --outDir "$$tmp" --emptyOutDir --logLevel warn && \
	node scripts/check-size.mjs "$$tmp" && \
	if ! diff -rq "$$tmp" ../$(CONSOLE_OUT) >/dev/null; then \
		echo "$(CONSOLE_OUT) differs from a build of console/src: run make console and commit it" >&2; \
		exit 1; \
	fi

# The load suite (bench/): starts its own service and embedded stores, writes
# bench/results/<run>.json and PNG plots. BENCH_ARGS="--profile full", "--workers 1", "--url ...".
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

services-down: install
	$(BIN)/chat services down --data-dir .data

clean:
	rm -rf $(VENV)
