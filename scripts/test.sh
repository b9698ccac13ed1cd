#!/usr/bin/env bash
# The whole test suite: install what is missing, typecheck, lint, then run every
# test file with node's own test runner. Tests start real daemons and containers,
# so this runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run -s lint
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
