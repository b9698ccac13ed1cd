#!/usr/bin/env bash
# Cluster storage benchmark: SQLite vs etcd through the Store interface.
# Usage: bench/cluster-storage/run.sh [--keys 10000] [--only sqlite|etcd]
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/cluster-storage/bench.js "$@"
