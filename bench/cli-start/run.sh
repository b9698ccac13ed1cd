#!/usr/bin/env bash
# CLI start benchmark: tug's CLI and the docker CLI against one tug daemon, node -e 0 as the floor.
# BENCH_RUNS=N sets the runs per command (default 30, at least 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
node scripts/build-cli-bundle.mjs # bin/tug loads the CLI from this bundle
exec node dist/bench/cli-start/bench.js "$@"
