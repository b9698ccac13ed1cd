#!/usr/bin/env bash
# Machine loss: a node with 30 pods behind a Service dies (agent and containers
# SIGKILLed); how long until the Service's endpoints hold none of its pods, and
# until all replacements are Ready on the other node. tug's defaults (2 s grace,
# 3 s toleration) unless --server-args says otherwise.
# Usage: bash bench/cluster-node-loss/run.sh [--pods 30] [--trials 5]   (as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/cluster-node-loss/bench.js "$@"
