#!/usr/bin/env bash
# The project's test command (README): type-check, then every test file under test/ with node:test.
# Node 20 neither globs nor discovers .ts files, so the list is built here and an empty list is an error.
# The last line printed is `N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found under test/" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

if ! npx --no-install tsc -p tsconfig.json --noEmit; then
  echo "type-check failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# Interop suites create network namespaces with fixed names per file; one file at a time keeps two
# routers from competing for the 2 cores during timing-sensitive checks.
node --enable-source-maps --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/summary-reporter.mjs --test-reporter-destination=stdout \
  "${files[@]}"
