#!/usr/bin/env bash
# Pod start-up latency (create -> Ready through a watch) on a single-node tug cluster,
# beside its anchor in the same run: Debian's dockerd starting the same number of
# plain busybox containers, 10 at a time (bench/cluster-pods/dockerd-anchor.ts).
# Usage: bash bench/cluster-pods/run.sh [--pods N] [--batch B] [--paced]   (as root; default 100 pods, batches of 10)
#   With no arguments: the dockerd anchor, the 100-pod burst, then 20 pods one at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || true
# A CPU-accounting cgroup of its own, so the bench can count every process a pod start
# spawns (bench.ts, "all processes"); removed on exit once empty.
acct_group=/sys/fs/cgroup/cpuacct/tug-bench-pods-$$
[ -d /sys/fs/cgroup/cpuacct ] || acct_group=/sys/fs/cgroup/tug-bench-pods-$$
if mkdir "$acct_group" 2>/dev/null; then
  echo $$ > "$acct_group/cgroup.procs"
  trap 'echo $$ > "$(dirname "$acct_group")/cgroup.procs"; rmdir "$acct_group" 2>/dev/null || true' EXIT
fi
if [ "$#" -gt 0 ]; then
  node dist/bench/cluster-pods/bench.js "$@"
  exit $?
fi
dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'install ok installed' || \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
node dist/bench/cluster-pods/dockerd-anchor.js --containers 100 --concurrency 10
node dist/bench/cluster-pods/bench.js --pods 100 --batch 10
node dist/bench/cluster-pods/bench.js --pods 20 --batch 1 --paced
