# crossbill: `make demo` sets up, builds and runs the demo; `make test` runs every test.
GO       ?= go
BIN      := bin/crossbill
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOBIN    := $(shell $(GO) env GOPATH)/bin

.PHONY: setup build demo test lint unit manifest-usage fuzz bench bench-costs bench-serve bench-memory clean

setup:
	./scripts/setup.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/crossbill

# The main job on a fresh machine: set up, build, then the demo (DEMO_ARGS
# passes flags, e.g. DEMO_ARGS="--addr 127.0.0.1:9090").
demo:
	CROSSBILL_SKIP_BROWSER=1 ./scripts/setup.sh
	$(MAKE) build
	./$(BIN) demo $(DEMO_ARGS)

# The one test command (CI runs exactly this): set-up check, lint, all tests
# with the race detector, moto_server and cfn-lint included.
test: setup lint unit

lint:
	./scripts/check-repo.sh
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	PATH="$(GOBIN):$$PATH" staticcheck ./...

# CROSSBILL_REQUIRE_POSTGRES: a PostgreSQL that cannot start fails the
# store tests instead of skipping them. CROSSBILL_RECORD_OPS: every test
# binary logs the AWS operations crossbill code called to a file of its own
# in OPS_DIR; the step after reads them all and fails on a declared action
# no test calls, or a pending one a test calls (internal/manifest/pending.go).
OPS_DIR := $(CURDIR)/bin/test-ops
unit:
	rm -rf $(OPS_DIR) && mkdir -p $(OPS_DIR)
	CROSSBILL_RECORD_OPS=$(OPS_DIR) CROSSBILL_REQUIRE_POSTGRES=1 $(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) manifest-usage

# The reverse of the manifest middleware test, over the whole suite's
# operations in OPS_DIR (run after `make unit`, or after a `go test` run of
# your own with CROSSBILL_RECORD_OPS=$(OPS_DIR) and -count=1).
manifest-usage:
	CROSSBILL_CHECK_OPS=$(OPS_DIR) $(GO) test -count=1 -v -run '^TestEveryDeclaredActionIsCalled$$' ./internal/manifest

# Short fuzzing of every parser (FUZZTIME=1m for longer runs).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin

# 10 million generated line items: ingest throughput vs a raw Parquet scan,
# query p50/p95 and peak memory (about 10 minutes; not part of `make test`).
bench-costs:
	$(GO) test ./internal/costs -run '^$$' -bench BenchmarkStore -benchtime 1x -timeout 60m -v

# 200 concurrent clients for 30 s against the API on loopback.
bench-serve: build
	./$(BIN) bench serve --clients 200 --duration 30s

# 1000 distinct heavy queries of 5 tenants against a server process; peak RSS against idle.
bench-memory: build
	./$(BIN) bench memory --queries 1000 --concurrency 16
