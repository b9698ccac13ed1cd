#!/usr/bin/env bash
# Benchmarks, each side by side with the tool people would use instead.
# Usage: bash scripts/bench.sh [engine|registry|cluster-storage|all]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
what="${1:-all}"
run_engine() {
  # The comparison needs a real Docker engine; Debian's docker.io is installed for it.
  dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'install ok installed' || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  node dist/bench/engine/bench.js
}
case "$what" in
  engine) run_engine ;;
  registry) bash bench/registry/run.sh ;;
  cluster-storage) bash bench/cluster-storage/run.sh ;;
  all) run_engine; bash bench/registry/run.sh; bash bench/cluster-storage/run.sh ;;
  *) echo "unknown benchmark: $what (engine|registry|cluster-storage|all)" >&2; exit 2 ;;
esac
