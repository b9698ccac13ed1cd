#!/usr/bin/env bash
# Scheduler throughput (kubemark-like hollow nodes).
# Usage: bash bench/cluster-scheduler/run.sh [--nodes N] [--pods M] [--store sqlite|etcd] [--concurrency C]
# Without arguments: the issue's size (1,000 nodes, 30,000 pods) on etcd, whose
# batched commits keep up better than SQLite's one fsync per write.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
if [ $# -eq 0 ]; then set -- --nodes 1000 --pods 30000 --store etcd; fi
node dist/bench/cluster-scheduler/bench.js "$@"
