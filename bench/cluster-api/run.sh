#!/usr/bin/env bash
# API server latency/throughput with 10,000 pods stored, on SQLite and on etcd.
# Usage: bash bench/cluster-api/run.sh [extra args, e.g. --pods 2000]
# Each backend runs in its own bench process with its own server (and etcd).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
for store in sqlite etcd; do
  node dist/bench/cluster-api/bench.js --store "$store" "$@"
done
