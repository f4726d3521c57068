# One entry point. Everything is installed from nothing into .tools (uv) and .venv (the
# locked workspace); nothing is assumed on the machine but python3 (3.11).
SHELL := /bin/bash
PY ?= python3
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
KAFKA_PORT ?= 9092
SERVICES_BUILT := gl ar inventory ap budget consolidation cashmgmt

.PHONY: help install proto proto-check manifests lint test test-tools test-unit test-e2e run migrate verify chaos bench bench-ledger bench-o2c bench-p2p bench-consolidation bench-cash pg-up token clean

help:
	@echo "make run    - start the broker and the services on SQLite, load demo data"
	@echo "make test   - install, start what tests need, run every test, stop it again"
	@echo "make proto  - regenerate Python code and docs/events.md from proto/"
	@echo "make verify - check the invariants of the running suite (make run) through its APIs and topics"
	@echo "make lint | proto-check | bench | bench-ledger | bench-o2c | bench-p2p | token | clean"

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --python $(PY)
	touch $@

install: $(VENV)/.synced

proto: install
	$(BIN)/python tools/protogen.py

proto-check: install
	$(BIN)/python tools/protogen.py --check

# deploy/k8s: rewrite the manifests generated from the Procfile and the code (tests/deploy checks them).
manifests: install
	$(BIN)/python deploy/k8s/generate.py

lint: install
	$(BIN)/ruff check .

# PostgreSQL comes from the machine (as in CI); start the cluster if it is down.
pg-up:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2; }

# The e2e harness starts its own broker (a free port) and its own PostgreSQL databases,
# and stops/drops them at the end; it fails loudly if it cannot.
# hledger (Debian) is the independent oracle the GL's export is checked against.
test-tools:
	@command -v hledger >/dev/null || { \
	  if command -v apt-get >/dev/null; then \
	    echo "installing hledger (Debian)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hledger >/dev/null; \
	  else echo "apt-get not found: the hledger agreement test will be skipped"; fi; }

	@# The cockpit's browser tests: Debian's chromium (Playwright drives it by its path, no browser
	@# download) and axe-core from npm, pinned by services/cockpit/web/package-lock.json.
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
	  echo "installing chromium and a Chinese font (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }
	@if [ ! -f services/cockpit/web/node_modules/axe-core/axe.min.js ]; then \
	  echo "installing the cockpit's pinned browser packages (npm ci)"; \
	  (cd services/cockpit/web && npm ci --no-audit --no-fund --silent); fi

	@# A non-Python gRPC client (Node's @grpc/grpc-js), pinned by its package-lock.json.
	@if command -v npm >/dev/null && [ ! -d tools/grpc-node/node_modules/@grpc/grpc-js ]; then \
	  echo "installing the Node gRPC client (npm ci)"; (cd tools/grpc-node && npm ci --no-audit --no-fund --silent); fi

test: install pg-up test-tools proto-check lint
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest -m "not e2e and not integration"

test-e2e: install pg-up
	$(BIN)/pytest tests/e2e

migrate: install
	@for s in $(SERVICES_BUILT); do $(BIN)/finance-$$s migrate || exit 1; done

# Broker, APIs, relays and consumers are declared once in the Procfile; honcho runs them.
# make run uses the local broker (Tansu, a Kafka-protocol broker from PyPI), which refuses
# the idempotent producer; production (Apache Kafka) keeps the default (on). The tests'
# harness picks its own broker: these are deliberately not exported to `make test`.
run migrate: export KAFKA_IDEMPOTENT_PRODUCER ?= false
run migrate: export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)
run migrate: export KAFKA_PORT := $(KAFKA_PORT)
# Spans of every process go to .data/traces/*.jsonl; `.venv/bin/finance-trace TRACE_ID` prints one.
run: export OTEL_TRACES_EXPORTER ?= file
# The cockpit's development sign-in (mints the dev token); off anywhere else.
run: export COCKPIT_DEV_SIGNIN ?= true
run: install migrate
	$(BIN)/honcho start -f Procfile

# The invariant checker (issue 15) against the running suite: `make run` in another terminal.
# VERIFY_ARGS passes options through, e.g. VERIFY_ARGS="--company DEMO --only I1,I4".
verify: install
	@FINANCE_TOKEN=$$($(BIN)/python tools/devtoken.py --subject finance-verify) \
	  KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$(KAFKA_PORT)} $(BIN)/finance-verify $(VERIFY_ARGS)

# Faults under load, each followed by the checker (tests/e2e/test_chaos.py): on a broker and a
# PostgreSQL of its own (the shared server is never restarted). make test runs the bounded list (CHAOS unset).
chaos: install test-tools
	CHAOS=$${CHAOS:-full} $(BIN)/pytest -s -p no:cacheprovider tests/e2e/test_chaos.py

bench: install pg-up
	$(BIN)/python bench/outbox_to_gl.py --invoices 10000 --runs 3

bench-ledger: install pg-up
	$(BIN)/python bench/ledger.py

bench-o2c: install pg-up
	$(BIN)/python bench/credit_and_costing.py

bench-p2p: install pg-up
	$(BIN)/python bench/budget_and_match.py

bench-consolidation: install pg-up
	$(BIN)/python bench/group_consolidation.py

bench-cash: install pg-up
	$(BIN)/python bench/cash_reconcile.py

token: install
	@$(BIN)/python tools/devtoken.py

clean:
	rm -rf .data .run
