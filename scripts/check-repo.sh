#!/usr/bin/env bash
# Keeps the repository small and self-contained: no committed build outputs
# or other large files, and no reference to paths outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_KB=${CROSSBILL_MAX_FILE_KB:-1024}
status=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  kb=$(du -k "$f" | cut -f1)
  if [ "$kb" -gt "$MAX_KB" ]; then
    echo "check-repo: $f is ${kb} KB (limit ${MAX_KB} KB): build outputs and large data do not belong in git" >&2
    status=1
  fi
  if head -c 4 "$f" | grep -q $'^\x7fELF'; then
    echo "check-repo: $f is a compiled binary: remove it (git rm --cached) and ignore it" >&2
    status=1
  fi
done < <(git ls-files -z)

# The project stands alone: code, tests and docs never point outside it.
# (The pattern is split so this script does not match itself.)
outside='\.\./'"shared|/work"'/'
if git grep -n -E "$outside" -- . ':!scripts/check-repo.sh' >&2; then
  echo "check-repo: the lines above refer to paths outside the repository" >&2
  status=1
fi
exit $status
