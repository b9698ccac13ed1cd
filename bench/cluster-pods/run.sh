#!/usr/bin/env bash
# Pod start-up latency (create -> Ready through a watch) on a single-node tug cluster.
# Usage: bash bench/cluster-pods/run.sh [--pods N] [--batch B] [--paced]   (as root; default 100 pods, batches of 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
node dist/bench/cluster-pods/bench.js "$@"
