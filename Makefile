# crossbill: `make setup && make build`, then `./bin/crossbill demo`; `make test`.
GO       ?= go
BIN      := bin/crossbill
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOBIN    := $(shell $(GO) env GOPATH)/bin

.PHONY: setup build test lint unit fuzz bench clean

setup:
	./scripts/setup.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/crossbill

# The one test command (CI runs exactly this): set-up check, lint, all tests
# with the race detector, moto_server and cfn-lint included.
test: setup lint unit

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	PATH="$(GOBIN):$$PATH" staticcheck ./...

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

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
