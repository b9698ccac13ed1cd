#!/usr/bin/env bash
# Registry benchmark: tug vs CNCF Distribution (docker-registry), push and pull
# of a ~600 MB 5-layer image with skopeo. Extra args go to the bench (--mb N --layers N).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
exec node dist/bench/registry/bench.js "$@"
