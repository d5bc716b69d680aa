# The commands the README gives. Each works on a fresh machine with the Rust toolchain.
CARGO ?= cargo
PG_TEST_URL ?= $(TANDEM_TEST_DATABASE_URL)

.PHONY: run demo bench-data test test-sqlite test-postgres chromium lint lint-spec fmt openapi bench bench-http bench-matching migrate contract contract-test build-server

## Build and serve on 127.0.0.1:8080 with ./data/tandem.db (created and migrated).
run:
	$(CARGO) run --release --bin tandem -- serve

## The demo in one command: build (release), fill the configured database (default
## ./data/tandem.db) with the demo community once, print its logins, then serve.
## DEMO_LANG=it for the Italian community.
DEMO_LANG ?= en
demo:
	$(CARGO) build --release --bin tandem
	./target/release/tandem demo --lang $(DEMO_LANG)
	./target/release/tandem serve

## Benchmark data into the configured database (use an empty one): SCALE=1 is about
## 5,000 users and 4,000 pairings; the logins go to bench/data/users.json.
SCALE ?= 1
bench-data:
	$(CARGO) build --release --bin tandem
	./target/release/tandem demo --scale $(SCALE)

## Apply migrations to the configured database and exit.
migrate:
	$(CARGO) run --release --bin tandem -- migrate

## The whole suite: unit tests, then black-box tests on SQLite, then on PostgreSQL
## when TANDEM_TEST_DATABASE_URL names a server. Both runs select the whole workspace,
## so features resolve alike and the dependency tree is built once. The SQLite run
## also drives the real binary (shutdown, logs) and a headless Chromium (the docs).
test: test-sqlite test-postgres

## The fault tests run the real `tandem serve` binary (target/debug/tandem).
build-server:
	$(CARGO) build --workspace --bin tandem

test-sqlite: build-server chromium
	TANDEM_TEST_BACKEND=sqlite $(CARGO) test --workspace

## The browser test needs Chromium: installed from Debian when missing (as root), else
## a clear failure saying how to get it.
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -n "$$TANDEM_TEST_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "chromium is missing: install it (sudo apt-get install chromium) or set TANDEM_TEST_CHROMIUM" >&2; exit 1; \
	  fi; }

test-postgres: build-server
ifeq ($(strip $(PG_TEST_URL)),)
	@echo "SKIPPED: the PostgreSQL run (set TANDEM_TEST_DATABASE_URL=postgres://... to test PostgreSQL too)"
else
	TANDEM_TEST_BACKEND=postgres TANDEM_TEST_DATABASE_URL=$(PG_TEST_URL) $(CARGO) test --workspace --test api
endif

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Lint openapi/openapi.json with Redocly's recommended rules (needs Node.js and npm;
## the pinned CLI is installed once under target/).
REDOCLY_VERSION := 2.77.0
REDOCLY := target/redocly-$(REDOCLY_VERSION)/node_modules/.bin/redocly
lint-spec: $(REDOCLY)
	$(REDOCLY) lint openapi/openapi.json --format=stylish

$(REDOCLY):
	npm install --silent --no-audit --no-fund --prefix target/redocly-$(REDOCLY_VERSION) @redocly/cli@$(REDOCLY_VERSION)

## Fuzz the served API against its own spec (Schemathesis, pinned; installed once
## under target/ with python3 -m venv). A few minutes; fails on any finding.
## `make contract` is the older name of the same run.
contract-test:
	scripts/contract-test.sh

contract: contract-test

fmt:
	$(CARGO) fmt --all

## Regenerate the published spec after changing the API.
openapi:
	$(CARGO) run --quiet --bin tandem -- openapi > openapi/openapi.json

## The load benchmark: a release build serving generated data (`tandem demo --scale`)
## to wrk on loopback, 32 connections, endpoints interleaved and repeated; prints each
## endpoint's requests/s, p50, p99 and ratio to the ceiling (`GET /healthz`) and writes
## JSON under bench/results/. SQLite always; PostgreSQL too when
## TANDEM_BENCH_DATABASE_URL names a server (a fresh database is made on it).
## BENCH_SCALES=1,10 also compares ten times the data. Then the matching benchmark.
BENCH_SCALES ?= 1
bench: bench-http bench-matching

bench-http:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; fi; }
	$(CARGO) build --release --bin tandem
	python3 scripts/bench/bench.py --scales $(BENCH_SCALES)

bench-matching:
	$(CARGO) bench -p tandem-domain --bench matching
