#!/usr/bin/env bash
# Scheduler throughput (kubemark-like hollow nodes).
# Usage: bash bench/cluster-scheduler/run.sh [--nodes N] [--pods M] [--store sqlite|etcd] [--concurrency C] [--hold]
# Without arguments: the issue's size (1,000 nodes, 30,000 pods) on SQLite (the
# embedded default), first end to end (pods created while the scheduler runs),
# then with --hold (pods created first, then the scheduler alone is timed).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
if [ $# -eq 0 ]; then
  node dist/bench/cluster-scheduler/bench.js --nodes 1000 --pods 30000 --store sqlite
  exec node dist/bench/cluster-scheduler/bench.js --nodes 1000 --pods 30000 --store sqlite --hold
fi
exec node dist/bench/cluster-scheduler/bench.js "$@"
