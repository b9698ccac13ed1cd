#!/usr/bin/env bash
# Agent restart: a node with 30 pods has its `tug agent` stopped (SIGTERM) and
# started again; the heartbeat gap its node Lease shows, when each step of the
# stop and start was done (--steps), and whether any pod was evicted (tug's
# defaults: 2 s grace, 3 s toleration, a 10 s hold on a clean stop, unless --server-args says otherwise).
# Usage: bash bench/cluster-agent-restart/run.sh [--pods 30] [--trials 5] [--steps]   (as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/cluster-agent-restart/bench.js "$@"
