#!/usr/bin/env bash
# Compose benchmark: tug compose and docker-compose against tug, docker-compose against a private dockerd.
# BENCH_RUNS=N sets the rounds (default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/compose/bench.js "$@"
