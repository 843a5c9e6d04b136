#!/usr/bin/env bash
# Installs what crossbill's build and tests need, and only what is missing:
# Go modules, moto_server and cfn-lint (pip), Chromium and PostgreSQL (apt)
# and the browser test's npm packages. Safe to run again. Fails loudly, naming what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
fail() { say "ERROR: $*"; exit 1; }

command -v go >/dev/null || fail "Go is missing: install Go 1.26 from https://go.dev/dl/"
say "downloading Go modules"
go mod download

# The emulator and the template linter are Python tools.
MOTO_VERSION=5.2.1
CFNLINT_VERSION=1.51.0
PY=${CROSSBILL_PYTHON:-python3}
if ! "$PY" -c 'import moto.server' 2>/dev/null; then
  say "moto_server missing: pip install 'moto[server]==$MOTO_VERSION'"
  "$PY" -m pip install --quiet "moto[server]==$MOTO_VERSION" ||
    fail "could not install moto; install it yourself: $PY -m pip install 'moto[server]==$MOTO_VERSION'"
fi
if ! command -v cfn-lint >/dev/null; then
  say "cfn-lint missing: pip install cfn-lint==$CFNLINT_VERSION"
  "$PY" -m pip install --quiet "cfn-lint==$CFNLINT_VERSION" ||
    fail "could not install cfn-lint; install it yourself: $PY -m pip install cfn-lint==$CFNLINT_VERSION"
fi

# The web UI's end-to-end test drives Debian's Chromium with playwright-core.
if [ "${CROSSBILL_SKIP_BROWSER:-}" != 1 ]; then
  if ! command -v chromium >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      say "installing chromium (apt)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
        fail "could not install chromium: apt-get install chromium"
    else
      fail "chromium is missing: sudo apt-get install chromium (or set CROSSBILL_SKIP_BROWSER=1 to skip the browser test)"
    fi
  fi
  if [ -f e2e/package.json ] && [ ! -d e2e/node_modules/playwright-core ]; then
    command -v npm >/dev/null || fail "npm is missing: sudo apt-get install npm"
    say "installing browser-test packages (npm)"
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in e2e/ failed"
  fi
fi

# The store's tests run on a throwaway PostgreSQL too (internal/pgtest).
# Debian does not put initdb on PATH; look where its package puts it.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing postgresql (apt)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) ||
      fail "could not install PostgreSQL: apt-get install postgresql"
  else
    fail "PostgreSQL's server binaries are missing: sudo apt-get install postgresql"
  fi
fi

if ! command -v staticcheck >/dev/null && [ ! -x "$(go env GOPATH)/bin/staticcheck" ]; then
  say "installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.1
fi
say "ok"
