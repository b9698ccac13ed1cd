#!/usr/bin/env bash
# Autoscaling reaction on a single-node tug cluster: load start -> scale-out
# decided -> new replicas Ready, and load end -> scale-in, for an HPA on a
# CPU-burning Deployment (tug server defaults: metrics every 1 s, HPA sync every 1 s).
# Usage: bash bench/cluster-hpa/run.sh [--rounds N] [--window S]   (as root; default 3 rounds, 10 s scale-down window)
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
node dist/bench/cluster-hpa/bench.js "$@"
