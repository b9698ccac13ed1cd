#!/usr/bin/env bash
# Job throughput on a single-node tug cluster: N short pods through one Job
# (parallelism P) against N bare pods created P at a time, pods per second each.
# Usage: bash bench/cluster-jobs/run.sh [--pods N] [--parallelism P]   (as root; default 1000 pods, 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
node dist/bench/cluster-jobs/bench.js "$@"
