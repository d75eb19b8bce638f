# Two commands on a fresh machine: `make run` and `make test`. Everything comes from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-tier2 test-all lint typecheck clean services-down frontend \
	frontend-check frontend-shared-check widget widget-check console console-check bench

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
# load tests marked serial run alone after: they race two servers under a deadline.
# `make test` is the first tier (about 14 minutes on 2 cores); `make test-tier2` runs the second:
# the Valkey Cluster suite, the OpenAPI fuzz and the fault suite (marker `tier2`, given by
# tests/conftest.py, and `faults`: they kill and stop services and print their table). CI
# (.ci/run) runs both: `make test-all`.
TIER1 := not tier2 and not faults
test: install lint typecheck frontend-check
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "$(TIER1) and not serial"
	$(BIN)/pytest -q -p no:cacheprovider -m "$(TIER1) and serial"

test-tier2: install
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "tier2 and not faults and not serial"
	$(BIN)/pytest -q -p no:cacheprovider -m "faults or (tier2 and serial)"

test-all: test test-tier2

# The front-ends are one npm workspace (package.json here: frontend/shared, widget, console) with
# one lockfile, package-lock.json, and one node_modules/ (README "Front-ends"). `make frontend`
# rebuilds every committed bundle, `make frontend-check` (part of `make test`) checks them all;
# the per-app targets below are the same recipes for one app (docs and helpers name them).
FRONTEND_DEPS := node_modules/.installed
FRONTEND_PACKAGES := package.json package-lock.json frontend/shared/package.json \
	widget/package.json console/package.json
WIDGET_OUT := chat/static/widget
CONSOLE_OUT := chat/static/console

# npm ci also empties widget/node_modules and console/node_modules left from before the workspace.
$(FRONTEND_DEPS): $(FRONTEND_PACKAGES)
	npm ci --no-audit --no-fund
	touch $(FRONTEND_DEPS)

# $(call build_app,APP): typecheck, unit tests (the shared package's too), build into
# chat/static/APP (the app's vite.config.ts), size budgets. Commit the result.
define build_app
npm run --workspace $(1) build
endef

# $(call check_app,APP,OUT): the same checks, building into a temp dir; the committed OUT must be
# exactly what the sources and the lock build (no more, no fewer: a stale chunk fails too), each
# file within its budget. The builds are deterministic, so a fresh clone passes.
define check_app
cd $(1) && npm run --silent typecheck && npm test --silent
@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd $(1) && \
npx --no-install vite build --outDir "$$tmp" --emptyOutDir --logLevel warn && \
node scripts/check-size.mjs "$$tmp" && \
if ! diff -rq "$$tmp" ../$(2) >/dev/null; then \
	echo "$(2) differs from a build of $(1)/src: run make $(1) (or make frontend) and commit it" >&2; \
	exit 1; \
fi
endef

# Install from the lock (from scratch), then build both apps. Commit chat/static/widget and
# chat/static/console.
frontend:
	npm ci --no-audit --no-fund
	touch $(FRONTEND_DEPS)
	npm run --workspace frontend/shared --silent typecheck
	$(call build_app,widget)
	$(call build_app,console)

frontend-check: widget-check console-check

# The shared package typechecks on its own too (each app also compiles it as its source).
frontend-shared-check: $(FRONTEND_DEPS)
	npm run --workspace frontend/shared --silent typecheck

# The embeddable widget (widget/, Preact + Vite): one IIFE file and its lazy chunks (chunks/),
# committed, served by the app.
widget: $(FRONTEND_DEPS)
	$(call build_app,widget)

widget-check: frontend-shared-check
	$(call check_app,widget,$(WIDGET_OUT))

# The agent console (console/, Preact + Vite): console.js and console.css, committed, loaded by
# chat/static/console.html at /console.
console: $(FRONTEND_DEPS)
	$(call build_app,console)

console-check: frontend-shared-check
	$(call check_app,console,$(CONSOLE_OUT))

# The load suite (bench/): starts its own service and embedded stores, writes
# bench/results/<run>.json and PNG plots. BENCH_ARGS="--profile full", "--workers 1", "--url ...".
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

services-down: install
	$(BIN)/chat services down --data-dir .data

clean:
	rm -rf $(VENV)
