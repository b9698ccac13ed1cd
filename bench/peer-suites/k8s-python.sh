#!/usr/bin/env bash
# The Kubernetes Python client's own e2e suite (kubernetes/e2e_test and
# kubernetes/aio/e2e_test of kubernetes-client/python, as its CI runs them
# against kind) against a `tug server` of this script's own, run from the
# client's source tree; prints passed/runnable and the failures grouped by cause.
#
# Usage (as root, after `npm run build`):
#   bash bench/peer-suites/k8s-python.sh /path/to/kubernetes-client-python [pytest args...]
# Without a path it clones $K8S_PYTHON_GIT (no default: the suite is not copied
# into this repository). The checkout must hold the generated client
# (kubernetes/client/api/core_v1_api.py); a snapshot whose newest commit lacks it
# needs an older, complete commit checked out.
# Needs python3 with pytest, urllib3, six, python-dateutil, PyYAML, requests;
# websocket-client, requests-oauthlib and aiohttp are linked from Debian's
# python3-websocket, python3-requests-oauthlib and python3-aiohttp when python3
# lacks them; durationpy (not packaged by Debian) from DURATIONPY_SRC, a
# checkout of its source, when python3 lacks it.
# Env: PEER_OUT (results dir, default a new /tmp/peer-k8s-python.*),
#      PEER_TEST_TIMEOUT (seconds per test, default 300), PEER_RUN_TIMEOUT (default 3600),
#      PEER_NOT_RUNNABLE (comma-separated tests reported apart, not counted:
#      by default the two that need what this machine cannot give, below).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/peer-suites"
SRC=${1:-}
[ $# -gt 0 ] && shift
WORK=${PEER_OUT:-$(mktemp -d /tmp/peer-k8s-python.XXXXXX)}
mkdir -p "$WORK"
if [ -z "$SRC" ]; then
  [ -n "${K8S_PYTHON_GIT:-}" ] || { echo "usage: $0 /path/to/kubernetes-client-python (or set K8S_PYTHON_GIT to clone)" >&2; exit 2; }
  SRC="$WORK/k8s-python"
  git clone -q --depth 1 "$K8S_PYTHON_GIT" "$SRC"
fi
SRC=$(cd "$SRC" && pwd)
[ -f "$SRC/kubernetes/e2e_test/base.py" ] || { echo "$SRC is not a kubernetes-client/python checkout" >&2; exit 2; }
[ -f "$SRC/kubernetes/client/api/core_v1_api.py" ] || { echo "$SRC lacks the generated client (kubernetes/client/api/core_v1_api.py): check out a complete commit" >&2; exit 2; }
[ -f "$REPO/dist/src/cluster/main.js" ] || { echo "build tug first: npm run build" >&2; exit 2; }
echo "client source: $SRC ($(git -C "$SRC" log -1 --format='%h %ci' 2>/dev/null || echo 'not a git checkout'))"

# Tests that need what this machine cannot give: images pulled from a public
# registry and run (python, nginx). (test_metrics_utilities_integration wants a
# metrics-server; tug's API server serves metrics.k8s.io itself, so it counts.)
NOT_RUNNABLE=${PEER_NOT_RUNNABLE-test_portforward_raw,test_portforward_http}

# shellcheck source=bench/peer-suites/pyextra.sh
source "$HERE/pyextra.sh"
PYEXTRA="$WORK/pyextra"
mkdir -p "$PYEXTRA"
if [ -n "${DURATIONPY_SRC:-}" ] && ! python3 -c 'import durationpy' 2>/dev/null; then
  ln -sfn "$(cd "$DURATIONPY_SRC" && pwd)/durationpy" "$PYEXTRA/durationpy"
fi
MISSING=$(py_link_missing "$PYEXTRA" durationpy websocket oauthlib requests_oauthlib \
  multidict yarl frozenlist aiosignal async_timeout idna aiohttp pytest_timeout)
for mod in $MISSING; do
  [ "$mod" = pytest_timeout ] && continue
  echo "python3 cannot import $mod (see the header of $0 for where each comes from)" >&2
  exit 2
done
TIMEOUT_ARGS=(-p pytest_timeout --timeout="${PEER_TEST_TIMEOUT:-300}")
case " $MISSING " in *" pytest_timeout "*) TIMEOUT_ARGS=();; esac
export PYTHONPATH="$SRC:$PYEXTRA${PYTHONPATH:+:$PYTHONPATH}"
python3 -c 'import kubernetes.client, kubernetes.aio.client, kubernetes.stream, kubernetes.utils' \
  || { echo "the client does not import from $SRC" >&2; exit 2; }

# A tug server of our own: own data dir, any free port, its own node name,
# pod bridge, pod range and service range so it cannot clash with another.
rand=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
B=$((0x${rand:0:2})); C=$((0x${rand:2:2}))
DATA="$WORK/server"
mkdir -p "$DATA"
SERVER_PID=
# Pods outlive a stopped server (live restore), so delete every workload first
# and wait until the node's engine has no container left; the agent then
# removes the pods' mounts, netns, rules and its bridge.
delete_workloads() {
  local kind
  for kind in deployments replicasets statefulsets daemonsets jobs cronjobs replicationcontrollers pods; do
    KUBECONFIG="$DATA/kubeconfig" kubectl delete "$kind" --all --all-namespaces --wait=false >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 300); do
    [ -z "$(DOCKER_HOST="unix://$DATA/engine.sock" docker ps -aq 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  echo "containers still on the node after 60 s: $(DOCKER_HOST="unix://$DATA/engine.sock" docker ps -aq | wc -l)" >&2
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    delete_workloads
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT
node "$REPO/bin/tug" server --data-dir "$DATA" --port 0 --node-name "peer-e2e-$rand" \
  --node-bridge "tugk$rand" --pod-cidr "10.$((150 + B % 50)).$C.0/24" \
  --service-cidr "10.$((100 + B % 50)).$C.0/24" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 1200); do
  grep -q 'kubeconfig written' "$WORK/server.log" 2>/dev/null && grep -q 'API listening on' "$WORK/server.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "tug server exited at start-up:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
grep -q 'kubeconfig written' "$WORK/server.log" || { echo "tug server did not start in 120 s" >&2; exit 1; }
export KUBECONFIG="$DATA/kubeconfig"
echo "tug server pid $SERVER_PID, $(grep -o 'API listening on [^ ]*' "$WORK/server.log"), node peer-e2e-$rand"
# The suite creates pods at once: wait for the embedded node to be Ready.
for _ in $(seq 1 120); do
  kubectl get nodes --no-headers 2>/dev/null | grep -q ' Ready' && break
  sleep 1
done
kubectl get nodes --no-headers 2>&1 | sed 's/^/node: /'

rc=0
echo "== kubernetes-client/python e2e on tug, $(date -u +%FT%TZ)"
(cd "$SRC" && timeout -k 30 "${PEER_RUN_TIMEOUT:-3600}" python3 -m pytest -q -p no:cacheprovider -o addopts= \
  "${TIMEOUT_ARGS[@]}" --junitxml="$WORK/tug.xml" "$@" kubernetes/e2e_test kubernetes/aio/e2e_test \
  >"$WORK/tug.log" 2>&1) || rc=$?
echo "   exit $rc; $(tail -1 "$WORK/tug.log")"
stop_server
python3 "$HERE/summarize.py" --tug "$WORK/tug.xml" --not-runnable "$NOT_RUNNABLE" | tee "$WORK/summary.txt"
echo "results: $WORK (junit XML, pytest log, server.log, summary.txt)"
