#!/usr/bin/env bash
# Build benchmark: tug build vs DOCKER_BUILDKIT=0 docker build on a private dockerd.
# BENCH_RUNS=N sets the runs per measurement (default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/builder/bench.js "$@"
