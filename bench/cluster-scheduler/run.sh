#!/usr/bin/env bash
# Scheduler throughput (kubemark-like hollow nodes). Usage: bash bench/cluster-scheduler/run.sh [--nodes N] [--pods M]
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
node dist/bench/cluster-scheduler/bench.js "$@"
