#!/usr/bin/env bash
# Benchmarks, each side by side with the tool people would use instead.
# Usage: bash scripts/bench.sh [engine|build|registry|cluster-storage|cluster-api|scheduler|pods|jobs|hpa|node-loss|agent-restart|network|compose|cli-start|dashboard|all]   (as root)
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
  build) bash bench/builder/run.sh ;;
  registry) bash bench/registry/run.sh ;;
  cluster-storage) bash bench/cluster-storage/run.sh ;;
  cluster-api) bash bench/cluster-api/run.sh ;;
  scheduler) bash bench/cluster-scheduler/run.sh ;;
  pods) bash bench/cluster-pods/run.sh ;;
  jobs) bash bench/cluster-jobs/run.sh ;;
  hpa) bash bench/cluster-hpa/run.sh ;;
  node-loss) bash bench/cluster-node-loss/run.sh ;;
  agent-restart) bash bench/cluster-agent-restart/run.sh ;;
  compose) bash bench/compose/run.sh ;;
  cli-start) bash bench/cli-start/run.sh ;;
  network) node dist/bench/cluster-network/bench.js ;;
  dashboard) node dist/bench/dashboard/bench.js ;;
  all) run_engine; bash bench/builder/run.sh; bash bench/registry/run.sh; bash bench/cluster-storage/run.sh; bash bench/cluster-api/run.sh
       bash bench/cluster-scheduler/run.sh; bash bench/cluster-pods/run.sh; bash bench/cluster-jobs/run.sh; bash bench/cluster-hpa/run.sh; bash bench/cluster-node-loss/run.sh; bash bench/cluster-agent-restart/run.sh; bash bench/compose/run.sh
       bash bench/cli-start/run.sh ;;
  *) echo "unknown benchmark: $what (engine|build|registry|cluster-storage|cluster-api|scheduler|pods|jobs|hpa|node-loss|agent-restart|network|compose|cli-start|dashboard|all)" >&2; exit 2 ;;
esac
